"""The OpenStack-compatible HTTP API (``vmqos serve``): Keystone, Nova, Neutron and Glance subsets.

One ASGI application serves the four services under path prefixes (``/identity/v3``,
``/compute/v2.1``, ``/network/v2.0``, ``/image/v2``), with the token catalog pointing back at
them, so that the unmodified ``openstack`` client works against it
(``/work/shared/spec/openstack_api.md`` is the contract). Every request is validated by the
core (:mod:`vmqos.intent`) with Nova's and Neutron's own messages; every error leaves in the
service's own error shape (:mod:`vmqos.api.errors`); a server's compute-node plan is
``GET /compute/v2.1/servers/{id}/vmqos-plan``.

Start it with ``vmqos serve``, or any ASGI server: ``uvicorn --factory vmqos.api.app:create_app``
(configured through ``VMQOS_*`` environment variables, :mod:`vmqos.api.settings`).
"""
