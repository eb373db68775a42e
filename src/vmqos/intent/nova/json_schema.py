"""Nova's JSON-schema check of a request body: which failure it reports, in which words.

Nova validates every request body against a JSON schema before the API method runs
(``nova/api/validation/__init__.py`` ``schema``, at every microversion the schema is
registered for), with ``jsonschema.Draft202012Validator`` extended in
``nova/api/validation/validators.py`` ``_SchemaValidator``. This module evaluates the same
schemas (plain dicts, written as Nova writes them) and reports the same failure:

* ``_SchemaValidator.validate`` calls the validator's ``validate``, which raises the *first*
  error ``iter_errors`` yields. ``iter_errors`` applies a schema's keywords in the order the
  schema dict lists them; ``properties`` descends in the schema's property order,
  ``patternProperties`` per pattern and then per key of the instance, in the instance's order
  (a JSON object's order as sent); ``additionalProperties`` names every extra key at once,
  sorted.
* The messages are jsonschema's (``jsonschema/_keywords.py``, 4.26.0, the version Nova's
  upper constraints install), ``repr`` of the instance included.
* Nova's ``minimum`` and ``maximum`` first read a string as a number (``int()``, else
  ``float()``; a string that is neither passes); the message quotes the converted number,
  the ``Value:`` the original.
* Nova's text: an error whose cause is a format checker's exception (``InvalidName``) is that
  exception's message alone; an error with a path is ``Invalid input for field/attribute
  <last path element>. Value: <str() of the failing instance>. <message>``; one at the root is
  the message alone.

Invariants: pure; only the keywords Nova's schemas served here use are known, and a schema
using another is a bug (``ValueError``), never a keyword silently skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vmqos.errors import ValidationError

__all__ = ["FormatCheck", "Schema", "SchemaError", "first_schema_error", "nova_schema_message",
           "validate_body", "validate_field"]

Schema = Mapping[str, Any]
# A format checker: the message of the exception Nova's checker raises, or None when the
# instance passes (jsonschema's FormatChecker; formats without a checker always pass).
FormatCheck = Callable[[object], str | None]


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One jsonschema ``ValidationError``: where (keys and indexes from the body's root), the
    instance the failing keyword looked at, jsonschema's message, and the cause's message when a
    format checker raised one."""

    path: tuple[str | int, ...]
    instance: object
    message: str
    cause: str | None = None


def _is_type(instance: object, name: str) -> bool:
    """jsonschema's draft 2020-12 type checker: a bool is no number, 1.0 is an integer."""
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if name == "number":
        return isinstance(instance, int | float)
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float)
                                             and instance.is_integer())
    raise ValueError(f"unknown JSON schema type {name!r}")


def _number_from_str(instance: object) -> object:
    """``_SchemaValidator._number_from_str``: ``int()``, else ``float()``, else None.

    ``int()`` of an infinite float (JSON's ``Infinity``, which Python's parser takes) raises
    ``OverflowError``, which Nova does not catch (a 500); here the float is kept, so the
    bound's own message answers."""
    value: Any = instance  # int() and float() decide what they take, as in Nova
    for convert in (int, float):
        try:
            return convert(value)
        except (ValueError, TypeError, OverflowError):
            continue
    return None


def _equal(one: object, two: object) -> bool:
    """jsonschema's ``equal`` for the scalars an ``enum`` here holds: ``True`` is not ``1``."""
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    return one == two


def _additional(instance: dict[str, object], schema: Schema) -> list[str]:
    """``find_additional_properties``: keys neither in ``properties`` nor found by a search
    of the ``patternProperties`` joined with ``|``."""
    properties = schema.get("properties", {})
    patterns = "|".join(schema.get("patternProperties", {}))
    return [key for key in instance
            if key not in properties and not (patterns and re.search(patterns, key))]


def _additional_message(extras: list[str], schema: Schema) -> str:
    if "patternProperties" in schema:
        joined = ", ".join(repr(each) for each in sorted(extras))
        verb = "does" if len(extras) == 1 else "do"
        patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
        return f"{joined} {verb} not match any of the regexes: {patterns}"
    joined = ", ".join(repr(each) for each in sorted(extras, key=str))
    verb = "was" if len(extras) == 1 else "were"
    return f"Additional properties are not allowed ({joined} {verb} unexpected)"


def _keyword(keyword: str, value: Any, instance: object, schema: Schema,
             formats: Mapping[str, FormatCheck]) -> Iterator[str | SchemaError]:
    """The errors of one keyword: a message for the instance itself, or a descendant's error
    (already carrying its path)."""
    if keyword == "type":
        types = value if isinstance(value, list) else [value]
        if not any(_is_type(instance, t) for t in types):
            yield f"{instance!r} is not of type {', '.join(repr(t) for t in types)}"
    elif keyword == "properties":
        if isinstance(instance, dict):
            for name, sub in value.items():
                if name in instance:
                    yield from _errors(sub, instance[name], (name,), formats)
    elif keyword == "patternProperties":
        if isinstance(instance, dict):
            for pattern, sub in value.items():
                for key, item in instance.items():
                    if re.search(pattern, key):
                        yield from _errors(sub, item, (key,), formats)
    elif keyword == "additionalProperties":
        if value is not False:
            raise ValueError("only 'additionalProperties: False' is known")
        if isinstance(instance, dict):
            extras = _additional(instance, schema)
            if extras:
                yield _additional_message(extras, schema)
    elif keyword == "required":
        if isinstance(instance, dict):
            for name in value:
                if name not in instance:
                    yield f"{name!r} is a required property"
    elif keyword in ("minProperties", "maxProperties"):
        if isinstance(instance, dict):
            if keyword == "minProperties" and len(instance) < value:
                yield f"{instance!r} " + ("should be non-empty" if value == 1
                                          else "does not have enough properties")
            if keyword == "maxProperties" and len(instance) > value:
                yield f"{instance!r} " + ("is expected to be empty" if value == 0
                                          else "has too many properties")
    elif keyword == "minLength":
        if isinstance(instance, str) and len(instance) < value:
            yield f"{instance!r} " + ("should be non-empty" if value == 1 else "is too short")
    elif keyword == "maxLength":
        if isinstance(instance, str) and len(instance) > value:
            yield f"{instance!r} " + ("is expected to be empty" if value == 0
                                      else "is too long")
    elif keyword == "pattern":
        if isinstance(instance, str) and not re.search(value, instance):
            yield f"{instance!r} does not match {value!r}"
    elif keyword in ("minimum", "maximum"):
        number = _number_from_str(instance)  # Nova's _validate_minimum / _validate_maximum
        if _is_type(number, "number"):
            assert isinstance(number, int | float)
            if keyword == "minimum" and number < value:
                yield f"{number!r} is less than the minimum of {value!r}"
            if keyword == "maximum" and number > value:
                yield f"{number!r} is greater than the maximum of {value!r}"
    elif keyword == "exclusiveMinimum":
        if _is_type(instance, "number"):
            assert isinstance(instance, int | float)
            if instance <= value:
                yield f"{instance!r} is less than or equal to the minimum of {value!r}"
    elif keyword == "enum":
        if not any(_equal(each, instance) for each in value):
            yield f"{instance!r} is not one of {value!r}"
    elif keyword == "allOf":
        for sub in value:  # each descends with the instance's own path
            yield from _errors(sub, instance, (), formats)
    elif keyword == "anyOf":
        if not any(first_schema_error(sub, instance, formats) is None for sub in value):
            yield f"{instance!r} is not valid under any of the given schemas"
    elif keyword == "oneOf":
        valid = [sub for sub in value if first_schema_error(sub, instance, formats) is None]
        if not valid:
            yield f"{instance!r} is not valid under any of the given schemas"
        elif len(valid) > 1:
            # jsonschema lists the later valid ones, then the first
            shown = ", ".join(repr(sub) for sub in [*valid[1:], valid[0]])
            yield f"{instance!r} is valid under each of {shown}"
    elif keyword == "format":
        check = formats.get(value)
        cause = check(instance) if check is not None else None
        if cause is not None:
            yield SchemaError((), instance, f"{instance!r} is not a {value!r}", cause)
    else:
        raise ValueError(f"JSON schema keyword {keyword!r} is not known here")


def _errors(schema: Schema, instance: object, path: tuple[str | int, ...],
            formats: Mapping[str, FormatCheck]) -> Iterator[SchemaError]:
    """``iter_errors``: every error, keywords in the schema's order."""
    for keyword, value in schema.items():
        for found in _keyword(keyword, value, instance, schema, formats):
            if isinstance(found, str):
                yield SchemaError(path, instance, found)
            else:
                yield SchemaError(path + found.path, found.instance, found.message, found.cause)


def first_schema_error(schema: Schema, instance: object,
                       formats: Mapping[str, FormatCheck] | None = None) -> SchemaError | None:
    """The error Nova reports for ``instance`` (the first one), or None if it is valid."""
    return next(_errors(schema, instance, (), formats or {}), None)


def nova_schema_message(error: SchemaError) -> str:
    """``_SchemaValidator.validate``'s text for a request body's error."""
    if error.cause is not None:
        return error.cause
    if error.path:
        return (f"Invalid input for field/attribute {error.path[-1]}. "
                f"Value: {error.instance!s}. {error.message}")
    return error.message


def _raise(error: SchemaError | None) -> None:
    if error is not None:
        field = str(error.path[-1]) if error.path else None
        raise ValidationError(nova_schema_message(error), key=field, value=error.instance)


def validate_body(schema: Schema, body: object,
                  formats: Mapping[str, FormatCheck] | None = None) -> None:
    """Raise :class:`~vmqos.errors.ValidationError` with Nova's message if ``body`` fails
    ``schema``; ``key`` is the failing field (None at the root), ``value`` what it held."""
    _raise(first_schema_error(schema, body, formats))


def validate_field(schema: Schema, value: object, field: str,
                   formats: Mapping[str, FormatCheck] | None = None) -> None:
    """:func:`validate_body` for one property's ``value`` checked by its own ``schema``, as
    if it stood at ``field`` in a body: Nova's message names ``field`` (or a key below it)."""
    error = first_schema_error(schema, value, formats)
    if error is not None:
        _raise(SchemaError((field, *error.path), error.instance, error.message, error.cause))
