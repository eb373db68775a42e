"""Nova's name parameters, validated as Nova's API schemas validate them, with Nova's messages.

The parameter types (``nova/api/validation/parameter_types.py``) and the schemas of the routes
vmqos serves that use them:

======================================  ===================================================
parameter type                          where (``nova/api/openstack/compute/schemas/``)
======================================  ===================================================
``name``                                ``flavors.py`` create ``name``; ``servers.py``
                                        create ``name``, ``availability_zone``,
                                        ``key_name``, ``security_groups[].name``;
                                        ``aggregates.py`` create ``name``
``oneOf: [az_name, null]``              ``aggregates.py`` create ``availability_zone``
``keypair_name_special_chars``          ``keypairs.py`` create ``name``, 2.1 - 2.91
``keypair_name_special_chars_v292``     ``keypairs.py`` create ``name``, from 2.92
======================================  ===================================================

``name_with_leading_trailing_spaces`` is ``aggregates.py`` update's ``name`` (its other uses
belong to the legacy v2.0 API, which vmqos does not serve).

The parameter types are written here as Nova writes them, as schemas for
:mod:`vmqos.intent.nova.json_schema`, with the format checkers of
``nova/api/validation/validators.py`` (:data:`NAME_FORMATS`): ``name`` and ``az_name`` are the
printable rule (:mod:`vmqos.intent.printable`; ``az_name`` without ``:``), and a failure is
Nova's ``InvalidName`` (``nova/exception.py``), whose message names no field and quotes no
value. jsonschema checks a schema's keywords in the order they are written and Nova reports
the first failure (``_SchemaValidator.validate``), so ``name`` answers the type, then the format,
then the lengths. Every other failure is ``Invalid input for field/attribute <field>. Value:
<value>. <jsonschema's message>``, with jsonschema >= 4.23's wording (``should be non-empty``),
the one Nova's current upper constraints install. Inside ``oneOf`` the format's own message is
lost: jsonschema reports only that no alternative matched.

The ``validate_*`` functions check one field's value against one of these schemas, for the
request models that declare such a field (:mod:`vmqos.api.nova_names`).
"""

from __future__ import annotations

from collections.abc import Mapping

from vmqos.intent.nova.json_schema import FormatCheck, Schema, validate_field
from vmqos.intent.printable import is_valid_name, is_valid_spaced_name

__all__ = ["AZ_NAME_OR_NONE", "INVALID_NAME", "KEYPAIR_NAME", "KEYPAIR_NAME_V292", "NAME",
           "NAME_FORMATS", "NAME_MAX", "NAME_WITH_SPACES", "validate_az_name_or_none",
           "validate_name"]

NAME_MAX = 255
# nova/exception.py InvalidName, with parameter_types.valid_name_regex's reason.
INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable "
                "characters. Can not start or end with whitespace.")
# ... with valid_name_leading_trailing_spaces_regex's (aggregate update's name) ...
_INVALID_SPACED_NAME = ("An invalid 'name' value was provided. The name must be: printable "
                        "characters with at least one non space character")
# ... and with valid_az_name_regex's.
_INVALID_AZ_NAME = ("An invalid 'name' value was provided. The name must be: printable "
                    "characters except :.")


def _name_format(instance: object) -> str | None:
    """``validators.py`` ``_validate_name``: ``InvalidName`` unless ``valid_name_regex``
    matches (a non-string raises it too)."""
    if isinstance(instance, str) and is_valid_name(instance):
        return None
    return INVALID_NAME


def _az_name_format(instance: object) -> str | None:
    """``validators.py`` ``_validate_az_name``: ``valid_az_name_regex``, no ``:``."""
    if isinstance(instance, str) and is_valid_name(instance, exclude=":"):
        return None
    return _INVALID_AZ_NAME


def _spaced_name_format(instance: object) -> str | None:
    """``validators.py`` ``_validate_name_with_leading_trailing_spaces``."""
    if isinstance(instance, str) and is_valid_spaced_name(instance):
        return None
    return _INVALID_SPACED_NAME


NAME_FORMATS: Mapping[str, FormatCheck] = {
    "name": _name_format, "az_name": _az_name_format,
    "name_with_leading_trailing_spaces": _spaced_name_format}

# parameter_types.name, az_name, and create's {'oneOf': [az_name, null]} (schemas/aggregates.py)
NAME: Schema = {"type": "string", "format": "name", "minLength": 1, "maxLength": NAME_MAX}
_AZ_NAME: Schema = {"type": "string", "format": "az_name", "minLength": 1,
                    "maxLength": NAME_MAX}
AZ_NAME_OR_NONE: Schema = {"oneOf": [_AZ_NAME, {"type": "null"}]}
# parameter_types.name_with_leading_trailing_spaces (aggregates.py update)
NAME_WITH_SPACES: Schema = {"type": "string", "format": "name_with_leading_trailing_spaces",
                            "minLength": 1, "maxLength": NAME_MAX}
# keypair_name_special_chars (2.1 - 2.91) and keypair_name_special_chars_v292.
KEYPAIR_NAME: Schema = {"allOf": [NAME, {"type": "string", "pattern": r"^[_\- a-zA-Z0-9]+$",
                                         "minLength": 1, "maxLength": NAME_MAX}]}
KEYPAIR_NAME_V292: Schema = {"allOf": [NAME, {"type": "string",
                                              "pattern": r"^[_\-\@\. a-zA-Z0-9]+$",
                                              "minLength": 1, "maxLength": NAME_MAX}]}


def validate_name(value: object, field: str) -> str:
    """``parameter_types.name`` of ``field``: a string, printable, no space at either end,
    1 to 255 characters."""
    validate_field(NAME, value, field, NAME_FORMATS)
    assert isinstance(value, str)
    return value


def validate_az_name_or_none(value: object, field: str) -> str | None:
    """``{'oneOf': [parameter_types.az_name, {'type': 'null'}]}``: null, or a ``name``
    without ``:`` (an availability zone's name may not hold the ``zone:host`` separator)."""
    validate_field(AZ_NAME_OR_NONE, value, field, NAME_FORMATS)
    assert value is None or isinstance(value, str)
    return value
