"""Nova's server metadata (``/compute/v2.1/servers/{id}/metadata[/{key}]``), for
``openstack server set --property`` and ``server unset --property``.

Routes, statuses and messages are ``nova/api/openstack/compute/server_metadata.py``: POST merges,
PUT of the collection replaces, PUT of a key needs a body ``{"meta": {key: value}}`` naming that
key ("Request body and URI mismatch"), a missing key is 404 "Metadata item was not found".
Keys and values follow ``parameter_types.metadata`` (keys ``^[a-zA-Z0-9-_:. ]{1,255}$``,
string values up to 255 characters), answered in Nova's validation wording. The merged result
counts against Nova's ``metadata_items`` quota (default 128): 403 "Maximum number of metadata
items exceeds 128". Changes need the server in a vm_state ``update_instance_metadata`` and
``delete_instance_metadata`` accept (``nova/compute/api.py``), else Nova's 409.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.orm import Session

from vmqos.api.compute_schemas import Metadata, MetaItem
from vmqos.api.context import app_state, caller, nova_forbidden, require_member
from vmqos.api.errors import ApiError, shown_value
from vmqos.store import compute
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Server, utcnow

__all__ = ["METADATA_ITEMS", "router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])
Caller = Annotated[TokenInfo, Depends(caller)]
JsonBody = Annotated[Any, Body()]

METADATA_ITEMS = 128  # nova.conf [quota]metadata_items default
_KEY = "^[a-zA-Z0-9-_:. ]{1,255}$"
_CHANGEABLE = ("active", "paused", "suspended", "stopped")
_POLICY = "os_compute_api:server-metadata:"


def _invalid(field: str, value: object, message: str) -> ApiError:
    return ApiError(400, f"Invalid input for field/attribute {field}. Value: "
                         f"{shown_value(value)}. {message}")


def _body(body: Any, field: str) -> dict[str, str]:
    """``{field: {key: value, ...}}`` checked as Nova's JSON schema checks it."""
    if not isinstance(body, dict) or field not in body:
        raise ApiError(400, f"Invalid input for field/attribute {field}. Value: "
                            f"{shown_value(body)}. '{field}' is a required property"
                       if isinstance(body, dict) else
                       f"Invalid input: {shown_value(body)} is not of type 'object'")
    extra = sorted(set(body) - {field})
    if extra:
        raise ApiError(400, f"Invalid input: Additional properties are not allowed "
                            f"({', '.join(repr(e) for e in extra)} "
                            f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    items = body[field]
    if not isinstance(items, dict):
        raise _invalid(field, items, f"{shown_value(items)} is not of type 'object'")
    for key, value in items.items():
        if re.fullmatch(_KEY, key) is not None:
            if not isinstance(value, str):
                raise _invalid(key, value, f"{shown_value(value)} is not of type 'string'")
            if len(value) > 255:
                raise _invalid(key, value, f"{shown_value(value)} is too long")
    bad = [k for k in items if re.fullmatch(_KEY, k) is None]
    if bad:
        raise _invalid(field, items, f"{', '.join(repr(k) for k in bad)} "
                                     f"{'does' if len(bad) == 1 else 'do'} not match any of "
                                     f"the regexes: '{_KEY}'")
    return {str(k): str(v) for k, v in items.items()}


def _server(session: Session, who: TokenInfo, server_id: str) -> Server:
    return compute.get_server(session, server_id,
                              project_id=None if who.is_admin else who.project_id)


def _save(server: Server, metadata: dict[str, str], action: str) -> None:
    if server.vm_state not in _CHANGEABLE:
        raise ApiError(409, f"Cannot '{action}' instance {server.id} while it is in vm_state "
                            f"{server.vm_state}")
    if len(metadata) > METADATA_ITEMS:
        raise ApiError(403, f"Maximum number of metadata items exceeds {METADATA_ITEMS}")
    server.metadata_ = metadata   # a new dict: the JSON column sees replacement only
    server.updated_at = utcnow()


@router.get("/servers/{server_id}/metadata", summary="A server's metadata")
def list_metadata(server_id: str, request: Request, who: Caller) -> Metadata:
    with app_state(request).db.read() as session:
        server = _server(session, who, server_id)
        return Metadata(metadata=dict(server.metadata_))


@router.get("/servers/{server_id}/metadata/{key}", summary="One metadata item")
def show_metadata(server_id: str, key: str, request: Request,
                  who: Caller) -> MetaItem:
    with app_state(request).db.read() as session:
        server = _server(session, who, server_id)
        if key not in server.metadata_:
            raise ApiError(404, "Metadata item was not found")
        return MetaItem(meta={key: server.metadata_[key]})


@router.post("/servers/{server_id}/metadata", summary="Add or change metadata items")
def create_metadata(server_id: str, request: Request, who: Caller,
                    body: JsonBody) -> Metadata:
    items = _body(body, "metadata")
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "create"))
        _save(server, {**server.metadata_, **items}, "update metadata")
        return Metadata(metadata=dict(server.metadata_))


@router.put("/servers/{server_id}/metadata", summary="Replace all metadata")
def replace_metadata(server_id: str, request: Request, who: Caller,
                     body: JsonBody) -> Metadata:
    items = _body(body, "metadata")
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "update_all"))
        _save(server, items, "update metadata")
        return Metadata(metadata=dict(server.metadata_))


@router.put("/servers/{server_id}/metadata/{key}", summary="Set one metadata item")
def update_metadata_item(server_id: str, key: str, request: Request, who: Caller,
                         body: JsonBody) -> MetaItem:
    items = _body(body, "meta")
    if not items:
        raise _invalid("meta", items, "{} does not have enough properties")
    if len(items) > 1:
        raise _invalid("meta", items, f"{shown_value(items)} has too many properties")
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "update"))
        if key not in items:
            raise ApiError(400, "Request body and URI mismatch")
        _save(server, {**server.metadata_, **items}, "update metadata")
        return MetaItem(meta=items)


@router.delete("/servers/{server_id}/metadata/{key}", status_code=204,
               response_class=Response, summary="Delete one metadata item")
def delete_metadata_item(server_id: str, key: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "delete"))
        if key not in server.metadata_:
            raise ApiError(404, "Metadata item was not found")
        _save(server, {k: v for k, v in server.metadata_.items() if k != key},
              "delete metadata")
    return Response(status_code=204)
