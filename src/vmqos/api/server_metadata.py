"""Nova's server metadata (``/compute/v2.1/servers/{id}/metadata[/{key}]``), for
``openstack server set --property`` and ``server unset --property``.

Routes, statuses and messages are ``nova/api/openstack/compute/server_metadata.py``: POST merges,
PUT of the collection replaces, PUT of a key needs a body ``{"meta": {key: value}}`` naming that
key ("Request body and URI mismatch"), a missing key is 404 "Metadata item was not found".
Bodies are judged first, by Nova's schemas (``schemas/server_metadata.py``, built on
``parameter_types.metadata``: :mod:`vmqos.intent.nova.parameter_types`), in Nova's words; then
the server (404) and the policy (403). The merged result counts against the caller's project's
``metadata_items`` quota (default 128): 403 "Maximum number of metadata items exceeds 128"
(:func:`vmqos.api.compute_quotas.enforce_metadata_items`). Changes need the server in a
vm_state ``update_instance_metadata`` and ``delete_instance_metadata`` accept
(``nova/compute/api.py``), else Nova's 409.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.orm import Session

from vmqos.api.compute_quotas import enforce_metadata_items
from vmqos.api.compute_schemas import Metadata, MetaItem
from vmqos.api.context import app_state, caller, nova_forbidden, require_member
from vmqos.api.errors import ApiError
from vmqos.intent.nova.json_schema import Schema, validate_body
from vmqos.intent.nova.parameter_types import METADATA
from vmqos.store import compute
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Server, utcnow

__all__ = ["router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])
Caller = Annotated[TokenInfo, Depends(caller)]
JsonBody = Annotated[Any, Body()]

_CHANGEABLE = ("active", "paused", "suspended", "stopped")
_POLICY = "os_compute_api:server-metadata:"


# schemas/server_metadata.py create, update_all (``metadata``) and update (``meta``: one item)
_ITEMS: Schema = {"type": "object", "properties": {"metadata": METADATA},
                  "required": ["metadata"], "additionalProperties": False}
_ONE_ITEM: Schema = {"type": "object",
                     "properties": {"meta": {**METADATA, "minProperties": 1,
                                             "maxProperties": 1}},
                     "required": ["meta"], "additionalProperties": False}


def _body(schema: Schema, body: Any, field: str) -> dict[str, str]:
    """``body[field]`` once ``body`` passed Nova's ``schema``."""
    validate_body(schema, body)
    return dict(body[field])


def _server(session: Session, who: TokenInfo, server_id: str) -> Server:
    return compute.get_server(session, server_id,
                              project_id=None if who.is_admin else who.project_id)


def _save(session: Session, who: TokenInfo, server: Server, metadata: dict[str, str],
          action: str) -> None:
    if server.vm_state not in _CHANGEABLE:
        raise ApiError(409, f"Cannot '{action}' instance {server.id} while it is in vm_state "
                            f"{server.vm_state}")
    enforce_metadata_items(session, who, len(metadata))
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
    items = _body(_ITEMS, body, "metadata")
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "create"))
        _save(session, who, server, {**server.metadata_, **items}, "update metadata")
        return Metadata(metadata=dict(server.metadata_))


@router.put("/servers/{server_id}/metadata", summary="Replace all metadata")
def replace_metadata(server_id: str, request: Request, who: Caller,
                     body: JsonBody) -> Metadata:
    items = _body(_ITEMS, body, "metadata")
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "update_all"))
        _save(session, who, server, items, "update metadata")
        return Metadata(metadata=dict(server.metadata_))


@router.put("/servers/{server_id}/metadata/{key}", summary="Set one metadata item")
def update_metadata_item(server_id: str, key: str, request: Request, who: Caller,
                         body: JsonBody) -> MetaItem:
    items = _body(_ONE_ITEM, body, "meta")
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "update"))
        if key not in items:
            raise ApiError(400, "Request body and URI mismatch")
        _save(session, who, server, {**server.metadata_, **items}, "update metadata")
        return MetaItem(meta=items)


@router.delete("/servers/{server_id}/metadata/{key}", status_code=204,
               response_class=Response, summary="Delete one metadata item")
def delete_metadata_item(server_id: str, key: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        server = _server(session, who, server_id)
        require_member(who, nova_forbidden(_POLICY + "delete"))
        if key not in server.metadata_:
            raise ApiError(404, "Metadata item was not found")
        _save(session, who, server, {k: v for k, v in server.metadata_.items() if k != key},
              "delete metadata")
    return Response(status_code=204)
