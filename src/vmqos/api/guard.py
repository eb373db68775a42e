"""The request guard: what no route may receive, refused before any route (or the database)
sees it.

A real cloud's API services sit behind oslo.middleware's ``RequestBodySizeLimiter``
(``oslo_middleware/sizelimit.py``: ``max_request_body_size``, 114688 bytes by default, answered
with 413 "Request is too large.") and store text in databases that cannot hold what JSON can
spell. This middleware is that front, for every route at once, so that the class of bug is
closed rather than its instances:

* a body over :data:`MAX_REQUEST_BODY` bytes: 413, whether it declared its length or not
  (Glance's image data upload, ``PUT /image/v2/images/{id}/file``, is exempt: Glance has no
  such limit on image data);
* in a JSON body, any string — key or value, at any depth — holding a lone UTF-16 surrogate
  (``"\\ud800"`` is valid JSON but not text: UTF-8 cannot encode it, so neither SQLite nor
  PostgreSQL nor the JSON answer can carry it) or a NUL character (PostgreSQL's text cannot
  hold it, though the services themselves take it wherever they take control characters:
  Glance's and Keystone's names, Neutron's descriptions and security group names, Nova's
  metadata), and any integer outside the 64-bit range a database column can store: 400,
  naming the field, a bounded prefix of the value and what is allowed;
* the same for NUL characters in query parameters.

Everything else passes through untouched: the routes' own validation (Nova's and Neutron's
rules and messages) is theirs. So are the strings at the body paths a route declares it
checks itself (``deferred``: Nova's names, :func:`vmqos.api.nova_names.name_fields`), where
the upstream service refuses these characters with a message of its own, which the route
gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmqos.api.errors import render_error, service_of, shown_value

__all__ = ["MAX_REQUEST_BODY", "DeferredFields", "RequestGuard"]

MAX_REQUEST_BODY = 114688  # oslo.middleware sizelimit: max_request_body_size default
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_TOO_LARGE = "Request is too large."  # oslo_middleware/sizelimit.py LimitingReader
_INDEX = re.compile(r"\[\d+\]")

# Per route, the body paths (``[]`` for any list index) whose strings the route checks itself.
DeferredFields = tuple[tuple[BaseRoute, frozenset[str]], ...]


def _is_upload(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] == "PUT" and path.startswith("/image/v2/images/") and path.endswith(
        "/file")


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character is not allowed"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "a lone UTF-16 surrogate is not text (UTF-8 cannot encode it)"
    return None


def _problems(value: Any, path: str,
              deferred: frozenset[str]) -> Iterator[tuple[str, object, str]]:
    """``(field path, value, reason)`` for everything in a decoded JSON value no route may
    receive, depth first; strings at a ``deferred`` path are the route's to judge."""
    if isinstance(value, str):
        reason = _bad_text(value)
        if reason and not (deferred and _INDEX.sub("[]", path) in deferred):
            yield path, value, reason
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            yield path, value, f"an integer must be within {INT64_MIN}..{INT64_MAX}"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            reason = _bad_text(key)
            if reason:
                yield where, key, f"the key: {reason}"
            yield from _problems(item, where, deferred)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, f"{path}[{index}]", deferred)


def _json_problem(body: bytes, deferred: frozenset[str]) -> tuple[str, object, str] | None:
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own parser answers it, in its own words
    return next(_problems(decoded, "", deferred), None)


def _query_problem(query: bytes) -> tuple[str, object, str] | None:
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        reason = _bad_text(key) or _bad_text(value)
        if reason:
            return key, value, reason
    return None


class RequestGuard:
    """ASGI middleware refusing, in the called service's error shape, what no route may
    receive (see the module docstring). The body is read once and handed on unchanged."""

    def __init__(self, app: ASGIApp, *, max_body: int = MAX_REQUEST_BODY,
                 deferred: DeferredFields = ()) -> None:
        self.app = app
        self.max_body = max_body
        self.deferred = deferred

    def _deferred_paths(self, scope: Scope) -> frozenset[str]:
        for route, paths in self.deferred:
            if route.matches(scope)[0] is Match.FULL:
                return paths
        return frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_upload(scope):
            await self.app(scope, receive, send)
            return
        service = service_of(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await render_error(service, 413, _TOO_LARGE)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await render_error(service, 413, _TOO_LARGE)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = _query_problem(scope.get("query_string", b"")) or (
            _json_problem(body, self._deferred_paths(scope)) if body else None)
        if problem is not None:
            field, value, reason = problem
            await render_error(service, 400, f"Invalid input for field/attribute {field}. "
                               f"Value: {shown_value(value)}. {reason}")(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
