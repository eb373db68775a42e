"""Nova's flavor access action bodies: ``{"addTenantAccess": {"tenant": P}}`` and
``{"removeTenantAccess": {"tenant": P}}``.

The schemas are ``nova/api/openstack/compute/schemas/flavor_access.py``
``add_tenant_access`` and ``remove_tenant_access``, at every microversion: the action's object
holds exactly ``tenant``, a string of 1 to 255 characters (the ``project_id`` column of Nova's
``flavor_projects``). They are judged by :mod:`vmqos.intent.nova.json_schema`, so the first
failure is reported in jsonschema's words, as Nova reports it, before anything else happens.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from vmqos.intent.nova.json_schema import Schema, validate_body

__all__ = ["ACTIONS", "TENANT_ACCESS", "Action", "validate_tenant_access_body"]

Action = Literal["addTenantAccess", "removeTenantAccess"]
ACTIONS: tuple[Action, ...] = ("addTenantAccess", "removeTenantAccess")


def _schema(action: Action) -> Schema:
    return {
        "type": "object",
        "properties": {action: {
            "type": "object",
            "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255}},
            "required": ["tenant"],
            "additionalProperties": False,
        }},
        "required": [action],
        "additionalProperties": False,
    }


TENANT_ACCESS: dict[Action, Schema] = {action: _schema(action) for action in ACTIONS}


def validate_tenant_access_body(action: Action, body: object) -> str:
    """The body of ``POST /flavors/{id}/action`` for ``action`` against Nova's schema; the
    tenant (project id) it names."""
    validate_body(TENANT_ACCESS[action], body)
    tenant: str = cast(dict[str, Any], body)[action]["tenant"]
    return tenant
