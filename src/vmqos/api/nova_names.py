"""Nova's name fields in request models, and the list of them the request guard defers to.

A request model declares a Nova name field with one of the types below; the field is then
validated by :mod:`vmqos.intent.nova.names` (Nova's rule, Nova's message) wherever it appears,
and nowhere else is a name's validity decided. A failure leaves pydantic as an
:data:`~vmqos.api.errors.UPSTREAM_MESSAGE` error, which the error handler answers with the
message as written, in Nova's shape.

The request guard (:mod:`vmqos.api.guard`) refuses a NUL character or a lone surrogate
anywhere in a body with its own message, before any route runs. Nova refuses both in a name
with ``InvalidName``; :func:`name_fields` lists, per route, the body paths declared with these
types, so that the guard leaves those strings to the route, whose refusal is Nova's. The list
is read from the models themselves: a field cannot be a Nova name to the route and not to the
guard.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator
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

__all__ = ["AzNameOrNone", "NameCheck", "NovaName", "OptionalNovaName", "name_fields"]


@dataclass(frozen=True, slots=True)
class NameCheck:
    """Pydantic metadata: validate the field with ``check(value, field_name)`` alone (no
    coercion before it: Nova's type check is part of the rule)."""

    check: Callable[[object, str], object]
    nullable: bool = False

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
        text: JsonSchemaValue = {"type": "string", "minLength": 1, "maxLength": NAME_MAX,
                                 "description": "printable, no whitespace at either end"}
        return {"anyOf": [text, {"type": "null"}]} if self.nullable else text


NovaName = Annotated[str, NameCheck(validate_name)]
# Optional in the body, but not nullable: Nova refuses an explicit null.
OptionalNovaName = Annotated[str | None, NameCheck(validate_name)]
AzNameOrNone = Annotated[str | None, NameCheck(validate_az_name_or_none, nullable=True)]

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
        if any(isinstance(m, NameCheck) for m in field.metadata):
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
