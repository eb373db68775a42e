"""Every error leaves in the error shape of the service that was called.

=========  ==========================================================================
service    body
=========  ==========================================================================
Keystone   ``{"error": {"code": 404, "title": "Not Found", "message": "..."}}``
Nova       ``{"itemNotFound": {"code": 404, "message": "..."}}`` (key by status, as
           ``nova.api.openstack.wsgi.Fault``: badRequest, forbidden, itemNotFound,
           conflictingRequest, notAcceptable, ...)
Neutron    ``{"NeutronError": {"type": "QosPolicyNotFound", "message": "...", "detail": ""}}``;
           501 is ``{"NotImplementedError": {...}}`` (neutron-lib ``api/faults.py``)
Glance     webob's plain text: ``404 Not Found\\n\\n<message>\\n\\n   `` (with a webob
           ``detail``: ``...<message>\\n\\n <detail>  ``)
=========  ==========================================================================

A missing or invalid token is answered before any service code runs, by keystonemiddleware in
a real cloud, whose 401 body is Keystone's shape for every service; so it is here.

The translation from :mod:`vmqos.errors` is made once, here: ``ValidationError`` 400,
``ConflictError`` 409 (its ``kind`` is Neutron's exception type), ``NotFoundError`` 404,
``UnsupportedError`` 409. FastAPI's request validation errors become 400 (the first error's;
one a validator wrote in the upstream service's words, :data:`UPSTREAM_MESSAGE`, is
answered as written), unknown routes 404,
wrong methods 405, anything else 500 — a bug, logged with its traceback.
"""

from __future__ import annotations

import logging
from enum import Enum
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vmqos.errors import IntentError, ValidationError, VmqosError

__all__ = ["UPSTREAM_MESSAGE", "ApiError", "Service", "encodable", "install_error_handlers",
           "render_error", "service_of", "shown_value"]

_log = logging.getLogger("vmqos.api")

UNAUTHENTICATED = "The request you have made requires authentication."
# The type of a request-model validation error whose message is already the upstream
# service's, word for word (vmqos.api.nova_names): answered as it is.
UPSTREAM_MESSAGE = "upstream_message"


class Service(Enum):
    ROOT = "root"
    IDENTITY = "identity"
    COMPUTE = "compute"
    NETWORK = "network"
    IMAGE = "image"


def service_of(path: str) -> Service:
    first = path.lstrip("/").split("/", 1)[0]
    try:
        return Service(first)
    except ValueError:
        return Service.ROOT


class ApiError(Exception):
    """An HTTP error with a message; ``kind`` is Neutron's exception type when it matters."""

    def __init__(self, status: int, message: str, *, kind: str | None = None,
                 headers: dict[str, str] | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.headers = headers or {}
        self.detail = detail  # webob's ``detail``, below the message (Glance)


# nova/api/openstack/wsgi.py Fault._fault_names
_NOVA_FAULTS = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                405: "badMethod", 406: "notAcceptable", 409: "conflictingRequest",
                413: "overLimit", 415: "badMediaType", 429: "overLimit", 501: "notImplemented",
                503: "serviceUnavailable"}
# webob exception class names, which Neutron reports as the type of plain HTTP errors.
_NEUTRON_TYPES = {400: "HTTPBadRequest", 403: "HTTPForbidden", 404: "HTTPNotFound",
                  405: "HTTPMethodNotAllowed", 409: "HTTPConflict", 500: "HTTPInternalServerError",
                  503: "HTTPServiceUnavailable"}


# webob/exc.py class titles that differ from http.HTTPStatus's phrase.
_WEBOB_TITLES = {416: "Request Range Not Satisfiable"}

_SHOWN = 64  # characters of a bad value an error message quotes


def shown_value(value: object) -> str:
    """``repr(value)``, cut to a bounded prefix: an error message never repeats a whole
    request. ``repr`` escapes surrogates and control characters, so the text always encodes."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def encodable(message: str) -> str:
    """A message that may quote what the client sent, with whatever UTF-8 cannot encode (a
    lone surrogate) written as its escape, so that the answer always encodes."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def render_error(service: Service, status: int, message: str, *, kind: str | None = None,
                 headers: dict[str, str] | None = None, detail: str | None = None) -> Response:
    headers = dict(headers or {})
    message = encodable(message)
    if detail is not None and service is not Service.IMAGE:
        message = f"{message} {encodable(detail)}"
    if status == 401 or service in (Service.IDENTITY, Service.ROOT):
        body: object = {"error": {"code": status, "title": _title(status), "message": message}}
        return JSONResponse(body, status_code=status, headers=headers)
    if service is Service.COMPUTE:
        fault = _NOVA_FAULTS.get(status, "computeFault")
        return JSONResponse({fault: {"code": status, "message": message}}, status_code=status,
                            headers=headers)
    if service is Service.NETWORK:
        if status == 501:
            key, kind = "NotImplementedError", kind or "NotImplementedError"
        else:
            key, kind = "NeutronError", kind or _NEUTRON_TYPES.get(status, "HTTPError")
        return JSONResponse({key: {"type": kind, "message": message, "detail": ""}},
                            status_code=status, headers=headers)
    # webob's plain body: its template's explanation, <br /><br />, detail, with each newline
    # a space and each <br /> a newline (webob/exc.py strip_tags).
    title = _WEBOB_TITLES.get(status) or _title(status)
    below = "   " if detail is None else f" {encodable(detail)}  "
    text = f"{status} {title}\n\n{message}\n\n{below}"
    return PlainTextResponse(text, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "Invalid input."
    first = errors[0]
    if first.get("type") == UPSTREAM_MESSAGE:
        return str(first["msg"])
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    if first.get("type") == "extra_forbidden" and loc:
        # jsonschema's wording, which Nova's validator reports for additionalProperties.
        return (f"Invalid input for field/attribute {'.'.join(loc[:-1]) or loc[-1]}. "
                f"Additional properties are not allowed ('{loc[-1]}' was unexpected)")
    where = ".".join(loc)
    value = first.get("input")
    text = str(first.get("msg", "invalid"))
    if where:
        return f"Invalid input for field/attribute {where}. Value: {shown_value(value)}. {text}"
    return f"Invalid input: {text}"


def install_error_handlers(app: FastAPI) -> None:
    def service(request: Request) -> Service:
        return service_of(request.url.path)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return render_error(service(request), exc.status, exc.message, kind=exc.kind,
                            headers=exc.headers, detail=exc.detail)

    @app.exception_handler(VmqosError)
    async def _vmqos_error(request: Request, exc: VmqosError) -> Response:
        kind = exc.kind if isinstance(exc, IntentError) else None
        if kind is None and isinstance(exc, ValidationError):
            kind = ("InvalidInput" if exc.message.startswith("Invalid input for operation")
                    else "HTTPBadRequest")
        status = exc.http_status
        if status >= 500:
            _log.error("host error on %s %s: %s", request.method, request.url.path, exc)
        return render_error(service(request), status, exc.message, kind=kind)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> Response:
        return render_error(service(request), 400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "The resource could not be found.",
                   405: "The method is not allowed for the requested URL."}.get(
            exc.status_code, str(exc.detail))
        return render_error(service(request), exc.status_code, message,
                            headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return render_error(service(request), 500,
                            "An unexpected error prevented the server from fulfilling your "
                            "request.")
