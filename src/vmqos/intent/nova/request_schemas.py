"""Nova's request-body schemas for the compute routes vmqos serves besides flavors (those are
:mod:`vmqos.intent.nova.flavor_body` and :mod:`vmqos.intent.nova.extra_specs_body`): server
actions, host aggregates and key pairs.

Each is written as ``nova/api/openstack/compute/schemas/`` writes it, with the parameter types
of :mod:`vmqos.intent.nova.names` and :mod:`vmqos.intent.nova.parameter_types`, for
:func:`vmqos.intent.nova.json_schema.validate_body`; a name's format needs
:data:`~vmqos.intent.nova.names.NAME_FORMATS`. Nova checks a body against its schema before the
handler runs (``nova/api/validation/__init__.py`` ``schema``), so before the handler's policy
check (``context.can``) and before any lookup: a bad body is 400 whoever sends it.

Invariant: pure data and a lookup by microversion.
"""

from __future__ import annotations

from vmqos.intent.nova.json_schema import Schema
from vmqos.intent.nova.names import (
    AZ_NAME_OR_NONE,
    KEYPAIR_NAME,
    KEYPAIR_NAME_V292,
    NAME,
    NAME_WITH_SPACES,
)
from vmqos.intent.nova.parameter_types import FQDN, METADATA_WITH_NULL

__all__ = ["AGGREGATE_ACTIONS", "AGGREGATE_CREATE", "AGGREGATE_UPDATE", "SERVER_ACTIONS",
           "keypair_create"]


def _one(key: str, value: Schema) -> Schema:
    """A body of exactly ``{key: value}``."""
    return {"type": "object", "properties": {key: value}, "required": [key],
            "additionalProperties": False}


def _object(properties: dict[str, Schema], required: list[str]) -> Schema:
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


# schemas/servers.py: the actions vmqos models (Nova's TODO: os-start/os-stop/confirmResize/
# revertResize take any value).
SERVER_ACTIONS: dict[str, Schema] = {
    "os-stop": _one("os-stop", {}),
    "os-start": _one("os-start", {}),
    "confirmResize": _one("confirmResize", {}),
    "revertResize": _one("revertResize", {}),
    "reboot": _one("reboot", _object({"type": {
        "type": "string", "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}},
        ["type"])),
    "resize": _one("resize", _object({
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},   # flavor_ref
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},  # disk_config
    }, ["flavorRef"])),
}

# schemas/aggregates.py create (2.1 on) and update (whose name is the legacy
# name_with_leading_trailing_spaces at every version, as Nova's is)
AGGREGATE_CREATE: Schema = _one("aggregate", _object(
    {"name": NAME, "availability_zone": AZ_NAME_OR_NONE}, ["name"]))
AGGREGATE_UPDATE: Schema = _one("aggregate", {
    "type": "object",
    "properties": {"name": NAME_WITH_SPACES, "availability_zone": AZ_NAME_OR_NONE},
    "additionalProperties": False,
    "anyOf": [{"required": ["name"]}, {"required": ["availability_zone"]}],
})
# schemas/aggregates.py set_metadata, add_host, remove_host
AGGREGATE_ACTIONS: dict[str, Schema] = {
    "set_metadata": _one("set_metadata", _object({"metadata": METADATA_WITH_NULL},
                                                 ["metadata"])),
    "add_host": _one("add_host", _object({"host": FQDN}, ["host"])),
    "remove_host": _one("remove_host", _object({"host": FQDN}, ["host"])),
}


def keypair_create(*, at_2_2: bool, at_2_10: bool, at_2_92: bool) -> Schema:
    """schemas/keypairs.py ``create`` (2.1), ``create_v22`` (adds ``type``), ``create_v210``
    (adds ``user_id``), ``create_v292`` (``@`` and ``.`` in names; ``public_key`` required)."""
    properties: dict[str, Schema] = {"name": KEYPAIR_NAME_V292 if at_2_92 else KEYPAIR_NAME}
    if at_2_2:
        properties["type"] = {"type": "string", "enum": ["ssh", "x509"]}
    properties["public_key"] = {"type": "string"}
    if at_2_10:
        properties["user_id"] = {"type": "string"}
    return _one("keypair", _object(properties, ["name", "public_key"] if at_2_92 else ["name"]))
