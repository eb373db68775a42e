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

(The ``*_with_leading_trailing_spaces`` variants belong to the legacy v2.0 API and to
aggregate update, which vmqos does not serve.)

``name`` is ``{'type': 'string', 'format': 'name', 'minLength': 1, 'maxLength': 255}``.
jsonschema checks a schema's keywords in the order they are written and Nova reports the
first failure (``nova/api/validation/validators.py`` ``_SchemaValidator.validate``), so the
checks here run in that order: the type, then the ``name`` format (the printable rule,
:mod:`vmqos.intent.printable`), then the lengths. A failed ``name`` format is Nova's
``InvalidName`` (``nova/exception.py``), whose message names no field and quotes no value;
every other failure is ``Invalid input for field/attribute <field>. Value: <value>.
<jsonschema's message>``, with jsonschema >= 4.23's wording (``should be non-empty``), the one
Nova's current upper constraints install. Inside ``oneOf`` the format's own message is lost:
jsonschema reports only that no alternative matched.
"""

from __future__ import annotations

import re

from vmqos.errors import ValidationError
from vmqos.intent.printable import is_valid_name

__all__ = ["INVALID_NAME", "NAME_MAX", "validate_az_name_or_none", "validate_keypair_name",
           "validate_name"]

NAME_MAX = 255
# nova/exception.py InvalidName, with parameter_types.valid_name_regex's reason.
INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable "
                "characters. Can not start or end with whitespace.")
# keypair_name_special_chars (2.1 - 2.91) and keypair_name_special_chars_v292.
_KEYPAIR_PATTERN = r"^[_\- a-zA-Z0-9]+$"
_KEYPAIR_PATTERN_V292 = r"^[_\-\@\. a-zA-Z0-9]+$"


def _invalid(field: str, value: object, detail: str) -> ValidationError:
    """The message ``_SchemaValidator.validate`` builds for a failure that has no
    ``InvalidName`` cause: the field is the last element of the failing path."""
    return ValidationError(f"Invalid input for field/attribute {field}. Value: {value}. "
                           f"{detail}", key=field, value=value)


def validate_name(value: object, field: str) -> str:
    """``parameter_types.name`` of ``field``: a string, printable, no space at either end,
    1 to 255 characters."""
    if not isinstance(value, str):
        raise _invalid(field, value, f"{value!r} is not of type 'string'")
    if not is_valid_name(value):
        raise ValidationError(INVALID_NAME, key=field, value=value,
                              allowed="printable characters, no whitespace at either end")
    if not value:
        raise _invalid(field, value, f"{value!r} should be non-empty")
    if len(value) > NAME_MAX:
        raise _invalid(field, value, f"{value!r} is too long")
    return value


def validate_az_name_or_none(value: object, field: str) -> str | None:
    """``{'oneOf': [parameter_types.az_name, {'type': 'null'}]}``: null, or a ``name``
    without ``:`` (an availability zone's name may not hold the ``zone:host`` separator)."""
    if value is None:
        return None
    if (isinstance(value, str) and is_valid_name(value, exclude=":")
            and 1 <= len(value) <= NAME_MAX):
        return value
    raise _invalid(field, value, f"{value!r} is not valid under any of the given schemas")


def validate_keypair_name(value: object, field: str, *, at_2_92: bool) -> str:
    """``keypair_name_special_chars`` (``_v292`` from microversion 2.92, which adds ``@``
    and ``.``): ``allOf`` ``name`` and a pattern, checked in that order."""
    name = validate_name(value, field)
    pattern = _KEYPAIR_PATTERN_V292 if at_2_92 else _KEYPAIR_PATTERN
    if not re.search(pattern, name):
        raise _invalid(field, name, f"{name!r} does not match {pattern!r}")
    return name
