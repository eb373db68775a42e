"""Nova's flavor create and update bodies: the schema, then what ``flavors.create`` makes of
what the schema let through.

The schemas are ``nova/api/openstack/compute/schemas/flavors.py`` ``create`` (microversions
2.1 - 2.54) and ``create_v255`` (2.55 - 2.101, which adds ``description``; vmqos serves up to
2.96, below ``create_v2102``), and ``update`` (2.55 on), written with Nova's parameter types
(``nova/api/validation/parameter_types.py``: ``name``, ``flavor_param_positive``,
``flavor_param_non_negative``, ``boolean``, ``valid_description_regex``). They are judged by
:mod:`vmqos.intent.nova.json_schema`, ``name``'s format being Nova's ``InvalidName`` rule
(:mod:`vmqos.intent.nova.names`). Every property of the flavor is checked in the schema's
order before ``required`` and ``additionalProperties``, so a bad ``name`` is named before a bad
``ram``, and an unknown key only when every known one is good.

What the schema lets through is loose: ``ram`` may be ``512``, ``"512"`` or ``512.0``; ``id``
a string, a number or null; ``is_public`` a boolean or one of 20 strings. :func:`new_flavor` is
``nova/compute/flavors.py`` ``create``, after the controller's defaults
(``nova/api/openstack/compute/flavors.py`` ``FlavorsController.create``): the name stripped,
a falsy id generated (None here) and any other ``str()``'d, each size ``int(str(value))``
(``oslo_utils.strutils.validate_integer``), ``rxtx_factor`` ``float()`` in ``(0, 3.40282e+38]``,
``is_public`` through ``bool_from_string``. Nova raises ``InvalidInput`` where that fails
(``512.0``; ``"0"`` or NaN for ``rxtx_factor``) and its API, not expecting it, answers 500; here
it is a 400 with ``InvalidInput``'s message, the one departure.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from vmqos.errors import ValidationError
from vmqos.intent.nova.flavor import MAX_INT
from vmqos.intent.nova.json_schema import Schema, validate_body
from vmqos.intent.nova.names import NAME, NAME_FORMATS
from vmqos.intent.nova.parameter_types import description_pattern

__all__ = ["DESCRIPTION_MAX", "SQL_SP_FLOAT_MAX", "NewFlavor", "flavor_create_schema",
           "flavor_update_schema", "new_flavor", "validate_flavor_create_body",
           "validate_flavor_update_body"]

# nova/db/constants.py
SQL_SP_FLOAT_MAX = 3.40282e38
DESCRIPTION_MAX = 65535  # a TEXT column (schemas/flavors.py _flavor_description)
_FLAVOR_ID = "^(?! )[a-zA-Z0-9. _-]+(?<! )$"

# parameter_types.volume_size, copied to flavor_param_positive / _non_negative
_POSITIVE: Schema = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1,
                     "maximum": MAX_INT}
_NON_NEGATIVE: Schema = {**_POSITIVE, "minimum": 0}
_BOOLEAN: Schema = {
    "type": ["boolean", "string"],
    "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
             False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"],
}
_TRUE = {"1", "t", "true", "on", "y", "yes"}  # oslo_utils.strutils.TRUE_STRINGS


@functools.cache
def _description() -> Schema:
    return {"type": ["string", "null"], "minLength": 0, "maxLength": DESCRIPTION_MAX,
            "pattern": description_pattern()}


@functools.cache
def flavor_create_schema(*, with_description: bool) -> Schema:
    """``schemas/flavors.py`` ``create``, or ``create_v255`` ``with_description``."""
    properties: dict[str, Schema] = {
        "name": NAME,
        "id": {"type": ["string", "number", "null"], "minLength": 1, "maxLength": 255,
               "pattern": _FLAVOR_ID},
        "ram": _POSITIVE,
        "vcpus": _POSITIVE,
        "disk": _NON_NEGATIVE,
        "OS-FLV-EXT-DATA:ephemeral": _NON_NEGATIVE,
        "swap": _NON_NEGATIVE,
        "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                        "exclusiveMinimum": 0, "maximum": SQL_SP_FLOAT_MAX},
        "os-flavor-access:is_public": _BOOLEAN,
    }
    if with_description:
        properties["description"] = _description()
    return {
        "type": "object",
        "properties": {"flavor": {
            "type": "object",
            "properties": properties,
            "required": ["name", "ram", "vcpus", "disk"],
            "additionalProperties": False,
        }},
        "required": ["flavor"],
        "additionalProperties": False,
    }


@functools.cache
def flavor_update_schema() -> Schema:
    """``schemas/flavors.py`` ``update``: the description alone, and required."""
    return {
        "type": "object",
        "properties": {"flavor": {
            "type": "object",
            "properties": {"description": _description()},
            "required": ["description"],
            "additionalProperties": False,
        }},
        "required": ["flavor"],
        "additionalProperties": False,
    }


def validate_flavor_create_body(body: object, *, with_description: bool) -> None:
    """``POST /flavors``'s body against Nova's schema for the microversion
    (``with_description``: >= 2.55); Nova's message for the first failure."""
    validate_body(flavor_create_schema(with_description=with_description), body, NAME_FORMATS)


def validate_flavor_update_body(body: object) -> str | None:
    """``PUT /flavors/{id}``'s body against Nova's ``update`` schema; the description."""
    validate_body(flavor_update_schema(), body)
    flavor = cast(dict[str, Any], body)["flavor"]
    return cast(str | None, flavor["description"])


@dataclass(frozen=True, slots=True)
class NewFlavor:
    """What ``flavors.create`` stores (``flavorid`` None: generated)."""

    name: str
    flavorid: str | None
    memory_mb: int
    vcpus: int
    root_gb: int
    ephemeral_gb: int
    swap: int
    rxtx_factor: float
    is_public: bool
    description: str | None


def _invalid_input(reason: str, field: str, value: object) -> ValidationError:
    return ValidationError(f"Invalid input received: {reason}", key=field, value=value)


def _integer(value: object, name: str) -> int:
    """``strutils.validate_integer`` without its bounds (the schema's ``minimum`` and
    ``maximum`` held them): ``int(str(value))``."""
    try:
        return int(str(value))
    except ValueError:
        raise _invalid_input(f"{name} must be an integer", name, value) from None


def _rxtx_factor(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except ValueError:
        number = math.nan
    # Nova's own test is `<= 0 or > max`, which NaN passes (to fail at the database).
    if not 0 < number <= SQL_SP_FLOAT_MAX:
        raise _invalid_input(f"'rxtx_factor' argument must be a float between 0 and "
                             f"{SQL_SP_FLOAT_MAX:g}", "rxtx_factor", value)
    return number


def new_flavor(flavor: Mapping[str, object], *, with_description: bool) -> NewFlavor:
    """``FlavorsController.create``'s reading of a body's ``flavor`` that passed the schema,
    and ``flavors.create``'s conversions, in its order (sizes, then ``rxtx_factor``)."""
    name = flavor["name"]
    assert isinstance(name, str)  # the schema's type
    flavorid = flavor.get("id")
    sizes = {"ram": flavor["ram"], "vcpus": flavor["vcpus"], "disk": flavor["disk"],
             "ephemeral": flavor.get("OS-FLV-EXT-DATA:ephemeral", 0),
             "swap": flavor.get("swap", 0)}
    numbers = {field: _integer(value, field) for field, value in sizes.items()}
    rxtx_factor = _rxtx_factor(flavor.get("rxtx_factor", 1.0))
    is_public = flavor.get("os-flavor-access:is_public", True)
    description = flavor.get("description") if with_description else None
    assert description is None or isinstance(description, str)
    return NewFlavor(
        name=name.strip(),
        flavorid=str(flavorid) if flavorid else None,
        memory_mb=numbers["ram"], vcpus=numbers["vcpus"], root_gb=numbers["disk"],
        ephemeral_gb=numbers["ephemeral"], swap=numbers["swap"], rxtx_factor=rxtx_factor,
        # bool_from_string(strict=True); the schema's enum holds only what it reads.
        is_public=is_public if isinstance(is_public, bool)
        else str(is_public).strip().lower() in _TRUE,
        description=description)
