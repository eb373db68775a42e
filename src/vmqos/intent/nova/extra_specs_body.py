"""Nova's ``os-extra_specs`` request bodies: the body schema first, then the values, in the
order the client sent them.

Nova (``nova/api/openstack/compute/flavors_extraspecs.py``) checks a body in three steps, and
``vmqos validate --property`` and the API (:mod:`vmqos.api.compute_flavors`) take the same
steps through the functions here:

1. the JSON schema (``nova/api/openstack/compute/schemas/flavors_extraspecs.py`` ``create``
   and ``update``, built on ``nova/api/validation/parameter_types.py`` ``metadata``), at
   every microversion: keys match ``^[a-zA-Z0-9-_:. ]{1,255}$`` (a ``re.search``, so one
   final ``"\\n"`` passes), values are strings of at most 255 characters or JSON numbers
   (booleans and null are refused); ``update`` holds exactly one spec.
   :func:`validate_extra_specs_create_body` and :func:`validate_extra_specs_update_body`,
   with jsonschema's first failure in Nova's words (:mod:`vmqos.intent.nova.json_schema`);
2. (the API only) the policy: an admin's request;
3. ``FlavorExtraSpecsController._check_extra_specs_value``: for each spec in the body's
   order, a number becomes ``str()`` of it, at most 255 characters (``utils.
   check_string_length``'s message), and at microversion >= 2.86 the spec goes to the
   validators (:func:`vmqos.intent.nova.extra_specs.validate_extra_spec`); the first failure
   is the answer. :func:`extra_spec_values`, which returns the strings Nova stores.

``openstack flavor set --property`` sends its properties as one ``extra_specs`` object in
command-line order, so with two bad properties the first one given is the one named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from vmqos.errors import ValidationError
from vmqos.intent.nova.extra_specs import validate_extra_spec
from vmqos.intent.nova.json_schema import Schema, validate_body
from vmqos.intent.nova.parameter_types import METADATA_KEY, METADATA_VALUE_MAX

__all__ = ["EXTRA_SPECS_CREATE", "EXTRA_SPECS_UPDATE", "EXTRA_SPEC_KEY", "SpecValue",
           "extra_spec_values", "validate_extra_specs_create_body",
           "validate_extra_specs_update_body"]

EXTRA_SPEC_KEY = METADATA_KEY
_VALUE_MAX = METADATA_VALUE_MAX

# parameter_types.metadata, its values widened to numbers (schemas/flavors_extraspecs.py
# _metadata).
_METADATA: Schema = {
    "type": "object",
    "patternProperties": {EXTRA_SPEC_KEY: {"type": ["string", "number"],
                                           "maxLength": _VALUE_MAX}},
    "additionalProperties": False,
}
EXTRA_SPECS_CREATE: Schema = {
    "type": "object",
    "properties": {"extra_specs": _METADATA},
    "required": ["extra_specs"],
    "additionalProperties": False,
}
EXTRA_SPECS_UPDATE: Schema = {**_METADATA, "minProperties": 1, "maxProperties": 1}

# A value the schema lets through: a string, or a JSON number (never a bool).
SpecValue = str | int | float


def validate_extra_specs_create_body(body: object) -> dict[str, SpecValue]:
    """``POST .../os-extra_specs``'s body (``{"extra_specs": {...}}``) against Nova's
    ``create`` schema; the specs, in the body's order."""
    validate_body(EXTRA_SPECS_CREATE, body)
    return cast(dict[str, SpecValue], cast(dict[str, object], body)["extra_specs"])


def validate_extra_specs_update_body(body: object) -> dict[str, SpecValue]:
    """``PUT .../os-extra_specs/{key}``'s body (``{key: value}``) against Nova's ``update``
    schema."""
    validate_body(EXTRA_SPECS_UPDATE, body)
    return cast(dict[str, SpecValue], body)


def _text(value: SpecValue) -> str:
    """A number as Nova reads it (``str()``), no longer than a value may be."""
    if isinstance(value, str):
        return value
    text = str(value)
    if len(text) > _VALUE_MAX:
        # oslo_utils.strutils.check_string_length, through nova.utils: its message alone.
        raise ValidationError(
            f"extra_specs value has {len(text)} characters, more than {_VALUE_MAX}.",
            key="extra_specs value", value=text, allowed=f"at most {_VALUE_MAX} characters")
    return text


def extra_spec_values(specs: Mapping[str, SpecValue], *, validators: bool) -> dict[str, str]:
    """``_check_extra_specs_value``: each spec in ``specs``' order, its number read as text,
    then (``validators``: microversion >= 2.86) Nova's verdict on it. The first failure is
    raised; else the specs as Nova stores them, every value a string."""
    out: dict[str, str] = {}
    for key, value in specs.items():
        text = _text(value)
        if validators:
            validate_extra_spec(key, text)
        out[key] = text
    return out
