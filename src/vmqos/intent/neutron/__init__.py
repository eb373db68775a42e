"""Neutron's side of intent: QoS policies and their five rule types, neutron-lib's converters
and validators, port bindings, and each backend's declared capabilities (``SUPPORTED_RULES``)."""
