"""neutron-lib's attribute converters and validators, as the API and the intent both apply them.

Neutron runs these on every request body before any QoS-specific check: ``convert_to_boolean``
(``strutils.bool_from_string`` strict), ``convert_to_int`` (Python ``int()``) and
``validate_string`` (type, ``max_len``, printable names). Each raises
:class:`~vmqos.errors.ValidationError` with neutron-lib's exact message, keyed by the attribute.
"""

from __future__ import annotations

from typing import SupportsIndex, SupportsInt

from vmqos.errors import ValidationError
from vmqos.intent.printable import is_valid_name

__all__ = ["convert_to_boolean", "convert_to_int", "validate_string"]

# strutils.bool_from_string(strict=True), which convert_to_boolean calls.
_TRUE = frozenset(("1", "t", "true", "on", "y", "yes"))
_FALSE = frozenset(("0", "f", "false", "off", "n", "no"))


def convert_to_boolean(name: str, data: object) -> bool:
    """neutron-lib ``converters.convert_to_boolean`` of attribute ``name``."""
    if isinstance(data, bool):
        return data
    text = str(data).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    # convert_to_boolean raises InvalidInput, whose message is "Invalid input for operation:".
    raise ValidationError(f"Invalid input for operation: '{data}' cannot be converted to "
                          "boolean.", key=name, value=data, allowed="true or false")


def validate_string(name: str, data: object, max_len: int, *,
                    name_string: bool = False) -> str:
    """neutron-lib ``validate_string`` (``name_string``: ``validate_name_string``, which
    adds ``valid_name_regex`` (:mod:`vmqos.intent.printable`), for ``name``) of attribute
    ``name``."""
    reason = None
    if not isinstance(data, str):
        reason = f"'{data}' is not a valid string"
    elif len(data) > max_len:
        reason = f"'{data}' exceeds maximum length of {max_len}"
    elif name_string and not is_valid_name(data):
        reason = f"'{data}' is not a valid string"
    if reason is not None:
        raise ValidationError(f"Invalid input for {name}. Reason: {reason}.", key=name,
                              value=data, allowed=f"a string of at most {max_len} characters")
    assert isinstance(data, str)
    return data


def convert_to_int(name: str, data: object) -> int:
    """neutron-lib ``converters.convert_to_int``: Python ``int()``, so ``"10"``, ``" 10 "``,
    ``10.9`` (-> 10) and ``True`` (-> 1) pass; its ``InvalidInput`` message otherwise."""
    try:
        if isinstance(data, str | bytes | SupportsInt | SupportsIndex):
            return int(data)
    except (ValueError, TypeError, OverflowError):
        # OverflowError (float inf) escapes Neutron as a 500; it is just "not an integer" here.
        pass
    raise ValidationError(f"Invalid input for operation: '{data}' is not an integer.",
                          key=name, value=data, allowed="an integer")
