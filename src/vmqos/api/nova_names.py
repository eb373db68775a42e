"""Nova's name fields (and other fields Nova's schema judges one by one: a server's
``description`` and ``metadata``) in request models, and the list of them the request guard
defers to.

A request model declares such a field with one of the types below; the field is then
validated by :mod:`vmqos.intent.nova.names` or :mod:`vmqos.intent.nova.parameter_types`
(Nova's rule, Nova's message) wherever it appears, and nowhere else is its validity
decided. A failure leaves pydantic as an :data:`~vmqos.api.errors.UPSTREAM_MESSAGE` error,
which the error handler answers with the message as written, in Nova's shape.

The request guard (:mod:`vmqos.api.guard`) refuses a NUL character or a lone surrogate
anywhere in a body with its own message, before any route runs. Nova refuses both in a name
with ``InvalidName``, and in a description by its pattern; :func:`name_fields` lists, per
route, the body paths declared with these types, so that the guard leaves those strings to
the route, whose refusal is Nova's. The list is read from the models themselves: a field
cannot be Nova's to judge for the route and not for the guard.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi.routing import APIRoute
from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from vmqos.api.errors import UPSTREAM_MESSAGE, encodable
from vmqos.api.guard import DeferredFields
from vmqos.errors import ValidationError
from vmqos.intent.nova.names import NAME_MAX, validate_az_name_or_none, validate_name
from vmqos.intent.nova.parameter_types import validate_description, validate_metadata

__all__ = ["AzNameOrNone", "FieldCheck", "NovaDescription", "NovaMetadata", "NovaName",
           "OptionalNovaName", "name_fields"]


@dataclass(frozen=True, slots=True)
class FieldCheck:
    """Pydantic metadata: validate the field with ``check(value, field_name)`` alone (no
    coercion before it: Nova's type check is part of the rule). ``document`` is the field's
    schema in the OpenAPI document (a name's, unless given)."""

    check: Callable[[object, str], object]
    nullable: bool = False
    document: Mapping[str, Any] | None = None

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        check = self.check

        def run(value: object, info: core_schema.ValidationInfo) -> object:
            try:
                return check(value, info.field_name or "")
            except ValidationError as exc:
                # Encodable now: pydantic renders the message as UTF-8, and Nova's quotes
                # the value, which may hold a lone surrogate.
                raise PydanticCustomError(UPSTREAM_MESSAGE, "{message}",
                                          {"message": encodable(exc.message)}) from exc

        return core_schema.with_info_plain_validator_function(run)

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        if self.document is not None:
            return dict(self.document)
        text: JsonSchemaValue = {"type": "string", "minLength": 1, "maxLength": NAME_MAX,
                                 "description": "printable, no whitespace at either end"}
        return {"anyOf": [text, {"type": "null"}]} if self.nullable else text


NovaName = Annotated[str, FieldCheck(validate_name)]
# Optional in the body, but not nullable: Nova refuses an explicit null.
OptionalNovaName = Annotated[str | None, FieldCheck(validate_name)]
AzNameOrNone = Annotated[str | None, FieldCheck(validate_az_name_or_none, nullable=True)]
# parameter_types.description (null removes it) and parameter_types.metadata.
NovaDescription = Annotated[str | None, FieldCheck(
    validate_description, nullable=True,
    document={"anyOf": [{"type": "string", "maxLength": 255,
                         "description": "printable characters"}, {"type": "null"}]})]
NovaMetadata = Annotated[dict[str, str] | None, FieldCheck(
    validate_metadata, document={"type": "object", "additionalProperties": {
        "type": "string", "maxLength": 255}, "description": "keys ^[a-zA-Z0-9-_:. ]{1,255}$"})]

def _models(annotation: Any, suffix: str) -> Iterator[tuple[type[BaseModel], str]]:
    """The models inside an annotation (through ``| None`` and ``list[...]``), each with the
    path suffix its items take (``[]`` per list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, suffix
        return
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _models(arg, suffix)
    elif origin is list:
        for arg in get_args(annotation):
            yield from _models(arg, suffix + "[]")


def _paths(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        path = f"{prefix}.{field.alias or name}" if prefix else field.alias or name
        if any(isinstance(m, FieldCheck) for m in field.metadata):
            yield path
        for inner, suffix in _models(field.annotation, ""):
            yield from _paths(inner, path + suffix)


def name_fields(routes: Iterable[Any]) -> DeferredFields:
    """For each route whose body holds Nova name fields, their paths in the guard's notation
    (``server.security_groups[].name``: ``[]`` stands for any list index)."""
    out: list[tuple[APIRoute, frozenset[str]]] = []
    for route in routes:
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        paths = frozenset(path for model, suffix in _models(
            route.body_field.field_info.annotation, "") for path in _paths(model, suffix))
        if paths:
            out.append((route, paths))
    return tuple(out)
