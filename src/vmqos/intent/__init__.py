"""Intent: what the operator asked for, parsed and validated exactly as Nova and Neutron do."""
