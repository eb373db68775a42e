"""Nova key pairs, availability zones and host aggregates: what ``server create`` refers to.

* ``--key-name`` is passed through by the client without a lookup (OSC server.py CreateServer);
  Nova checks it (400 "Invalid key_name provided."). Key pairs carry the caller's public key:
  from 2.92 Nova no longer generates keys, and the client generates one locally when none is
  given. A create body is judged by Nova's schema for the microversion
  (:func:`vmqos.intent.nova.request_schemas.keypair_create`: ``type`` from 2.2, ``user_id``
  from 2.10, ``@`` and ``.`` in names and ``public_key`` required from 2.92); from 2.10
  ``user_id`` (in the body, or the query of list/show/delete) names another user's key pairs,
  which only an admin may. vmqos does not generate key pairs (Nova does below 2.92, when no
  ``public_key`` is sent): 409.
* Aggregate bodies (create, and each action's) are judged by Nova's schemas
  (:mod:`vmqos.intent.nova.request_schemas`) before the admin-only policy, as Nova's
  ``@validation.schema`` runs before ``context.can``: a non-admin's bad body is 400, a good
  one 403.
* A user has at most the project's ``key_pairs`` quota of key pairs (403 "Quota exceeded,
  too many key pairs.", :func:`vmqos.api.compute_quotas.enforce_keypair`).
* ``--availability-zone`` must name a zone with a host: a registered host is in the zone of
  its aggregate (``openstack aggregate create --zone az1 agg``, ``aggregate add host agg
  H``), else in ``nova`` (:mod:`vmqos.intent.availability_zones`). Until a host is
  registered, the built-in host is in ``nova`` and in every aggregate's zone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Any, Literal, cast

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from vmqos.api import compute_schemas as schemas
from vmqos.api.compute_quotas import enforce_keypair
from vmqos.api.context import app_state, caller, nova_forbidden
from vmqos.api.errors import ApiError
from vmqos.api.microversion import Microversion, nova_microversion
from vmqos.api.nova_names import AzNameOrNone, NovaName
from vmqos.api.server_views import iso
from vmqos.intent.availability_zones import (
    ZonedAggregate,
    add_host_reason,
    refusal,
    remove_host_reason,
    zone_change_reason,
)
from vmqos.intent.nova.json_schema import validate_body
from vmqos.intent.nova.names import NAME_FORMATS
from vmqos.intent.nova.request_schemas import (
    AGGREGATE_ACTIONS,
    AGGREGATE_CREATE,
    AGGREGATE_UPDATE,
    keypair_create,
)
from vmqos.store import compute, hosts
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Aggregate, Keypair

__all__ = ["router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])
Caller = Annotated[TokenInfo, Depends(caller)]
Version = Annotated[Microversion, Depends(nova_microversion)]


def _fingerprint(public_key: str) -> str:
    """``nova.crypto.generate_fingerprint``: MD5 of the key blob, colon-separated hex."""
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise ApiError(400, "Keypair data is invalid: failed to generate fingerprint")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _keypair_view(keypair: Keypair, mv: Microversion, *, full: bool) -> schemas.Keypair:
    view = schemas.Keypair(name=keypair.name, public_key=keypair.public_key,
                           fingerprint=keypair.fingerprint)
    if mv.at_least("2.2"):
        view.type = keypair.type
    if full:
        view.user_id, view.created_at = keypair.user_id, iso(keypair.created_at)
        view.deleted, view.deleted_at, view.updated_at, view.id = False, None, None, 1
    return view


class KeypairCreate(BaseModel):
    # Nova's schema for the microversion judged the raw body first (_sent_keypair): the model
    # types what passed it, for the OpenAPI document, and declares the Nova name field the
    # request guard leaves to the route (vmqos.api.nova_names).
    model_config = ConfigDict(extra="forbid")
    name: NovaName
    type: Literal["ssh", "x509"] = Field(default="ssh", description="from microversion 2.2")
    public_key: str | None = Field(default=None, description="required from 2.92")
    user_id: str | None = Field(default=None, description="from 2.10; another user's: admin")


class KeypairBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keypair: KeypairCreate


async def _nova_body(request: Request) -> object:
    """The raw JSON body, for Nova's schema to judge; None when it is not JSON (the request
    model's own answer follows)."""
    try:
        body: object = await request.json()
    except ValueError:
        return None
    return body


async def _sent_keypair(request: Request, mv: Version) -> dict[str, Any]:
    """``KeypairController.create``'s ``validation.schema`` for the microversion, before the
    request model and the policy; the body's ``keypair``."""
    body = await _nova_body(request)
    if body is None:
        return {}
    validate_body(keypair_create(at_2_2=mv.at_least("2.2"), at_2_10=mv.at_least("2.10"),
                                 at_2_92=mv.at_least("2.92")), body, NAME_FORMATS)
    sent: dict[str, Any] = cast(dict[str, Any], body)["keypair"]
    return sent


SentKeypair = Annotated[dict[str, Any], Depends(_sent_keypair)]


def _user_of(request: Request, who: TokenInfo, mv: Version, action: str) -> str:
    """Whose key pairs: from 2.10 ``?user_id`` may name another user, which the policy
    (``os_compute_api:os-keypairs:<action>``, admin or that user) must allow."""
    user_id = (request.query_params.get("user_id") if mv.at_least("2.10") else None) or (
        who.user_id)
    if user_id != who.user_id and not who.is_admin:
        raise nova_forbidden(f"os_compute_api:os-keypairs:{action}")
    return user_id


@router.get("/os-keypairs", summary="List key pairs", response_model_exclude_unset=True)
def list_keypairs(request: Request, who: Caller, mv: Version) -> schemas.KeypairList:
    user_id = _user_of(request, who, mv, "index")
    with app_state(request).db.read() as session:
        rows = compute.list_keypairs(session, user_id)
        return schemas.KeypairList(keypairs=[
            schemas.KeypairResponse(keypair=_keypair_view(k, mv, full=False)) for k in rows])


@router.post("/os-keypairs", summary="Import a key pair", response_model_exclude_unset=True)
def create_keypair(who: Caller, mv: Version, sent: SentKeypair, body: KeypairBody,
                   request: Request, response: Response) -> schemas.KeypairResponse:
    """``KeypairController.create``: the schema (``sent``), then ``_create``: the name
    stripped (``common.normalize_name``), the policy for the target user, the quota, the key."""
    name = str(sent["name"]).strip()
    user_id = sent.get("user_id") or who.user_id
    if user_id != who.user_id and not who.is_admin:
        raise nova_forbidden("os_compute_api:os-keypairs:create")
    if "public_key" not in sent:  # below 2.92 Nova would generate the pair
        raise ApiError(409, "vmqos does not generate key pairs: send the public_key "
                            "(openstack keypair create generates one locally from 2.92).")
    public_key = str(sent["public_key"])
    key_type = str(sent.get("type", "ssh"))
    with app_state(request).db.write() as session:
        # KeypairAPI.import_key_pair: the quota (403) before the key's fingerprint (400).
        enforce_keypair(session, who, user_id)
        fingerprint = _fingerprint(public_key) if key_type == "ssh" else hashlib.sha1(
            public_key.encode(), usedforsecurity=False).hexdigest()
        keypair = compute.create_keypair(session, user_id=user_id, name=name,
                                         public_key=public_key, fingerprint=fingerprint,
                                         key_type=key_type)
        view = _keypair_view(keypair, mv, full=False)
    view.user_id = user_id
    response.status_code = 201 if mv.at_least("2.2") else 200
    return schemas.KeypairResponse(keypair=view)


@router.get("/os-keypairs/{name}", summary="Show a key pair",
            response_model_exclude_unset=True)
def show_keypair(name: str, request: Request, who: Caller,
                 mv: Version) -> schemas.KeypairResponse:
    user_id = _user_of(request, who, mv, "show")
    with app_state(request).db.read() as session:
        return schemas.KeypairResponse(keypair=_keypair_view(
            compute.get_keypair(session, user_id, name), mv, full=True))


@router.delete("/os-keypairs/{name}", status_code=204, response_class=Response,
               summary="Delete a key pair (202 before microversion 2.2)")
def delete_keypair(name: str, request: Request, who: Caller, mv: Version) -> Response:
    user_id = _user_of(request, who, mv, "delete")
    with app_state(request).db.write() as session:
        compute.delete_keypair(session, user_id, name)
    return Response(status_code=204 if mv.at_least("2.2") else 202)


# --- availability zones and aggregates --------------------------------------------------------


@router.get("/os-availability-zone", summary="List availability zones")
def list_zones(request: Request, who: Caller, mv: Version) -> schemas.AvailabilityZoneList:
    state = app_state(request)
    with state.db.read() as session:
        zones = hosts.zones(session, state.settings.host)
    return schemas.AvailabilityZoneList(availabilityZoneInfo=[schemas.AvailabilityZone(
        zoneName=z, zoneState=schemas.ZoneState(available=True), hosts=None) for z in zones])


@router.get("/os-availability-zone/detail", summary="Availability zones with hosts (admin)")
def list_zones_detail(request: Request, who: Caller,
                      mv: Version) -> schemas.AvailabilityZoneList:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-availability-zone:detail")
    state = app_state(request)
    with state.db.read() as session:
        zones = hosts.zones(session, state.settings.host)
    services = {"nova-compute": schemas.ServiceState(available=True, active=True,
                                                     updated_at=None)}
    return schemas.AvailabilityZoneList(availabilityZoneInfo=[schemas.AvailabilityZone(
        zoneName=z, zoneState=schemas.ZoneState(available=True),
        hosts=dict.fromkeys(members, services)) for z, members in zones.items()])


def _aggregate_view(row: Aggregate, mv: Microversion) -> schemas.Aggregate:
    view = schemas.Aggregate(
        id=row.id, name=row.name, availability_zone=row.availability_zone,
        created_at=iso(row.created_at), updated_at=None, deleted_at=None, deleted=False,
        hosts=list(row.hosts),
        metadata={**row.metadata_, **({"availability_zone": row.availability_zone}
                                      if row.availability_zone else {})})
    if mv.at_least("2.41"):
        view.uuid = row.uuid
    return view


class AggregateCreate(BaseModel):
    # Typing for the OpenAPI document and the request guard; Nova's schema judged the raw body.
    model_config = ConfigDict(extra="forbid")
    name: NovaName
    availability_zone: AzNameOrNone = None


class AggregateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aggregate: AggregateCreate


async def _sent_aggregate(request: Request) -> dict[str, Any]:
    """``AggregateController.create``'s ``validation.schema``, before the policy."""
    body = await _nova_body(request)
    if body is None:
        return {}
    validate_body(AGGREGATE_CREATE, body, NAME_FORMATS)
    sent: dict[str, Any] = cast(dict[str, Any], body)["aggregate"]
    return sent


SentAggregate = Annotated[dict[str, Any], Depends(_sent_aggregate)]


@router.get("/os-aggregates", summary="List host aggregates (admin)",
            response_model_exclude_unset=True)
def list_aggregates(request: Request, who: Caller, mv: Version) -> schemas.AggregateList:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-aggregates:index")
    with app_state(request).db.read() as session:
        rows = session.scalars(sa.select(Aggregate).order_by(Aggregate.id))
        return schemas.AggregateList(aggregates=[_aggregate_view(r, mv) for r in rows])


@router.post("/os-aggregates", summary="Create a host aggregate (admin)",
             response_model_exclude_unset=True)
def create_aggregate(who: Caller, mv: Version, sent: SentAggregate, body: AggregateBody,
                     request: Request) -> schemas.AggregateResponse:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-aggregates:create")
    if body.aggregate.availability_zone == compute.DEFAULT_ZONE:
        raise ApiError(400, "Aggregates with availability zone nova are not allowed: it is "
                            "the default availability zone.")
    with app_state(request).db.write() as session:
        row = compute.create_aggregate(session, body.aggregate.name,
                                       body.aggregate.availability_zone)
        return schemas.AggregateResponse(aggregate=_aggregate_view(row, mv))


# The raw body of an aggregate update, judged by Nova's schema in the route; the OpenAPI
# document shows that schema.
AggregateUpdateBody = Annotated[Any, Body(json_schema_extra=dict(AGGREGATE_UPDATE))]


def _refuse_empty_zone(row: Aggregate, values: dict[str, Any], action: str) -> None:
    """``is_safe_to_update_az``: a null or empty zone is refused, in the words of the
    action's ``InvalidAggregateAction*``."""
    if "availability_zone" in values and not values["availability_zone"]:
        raise ApiError(400, f"Cannot {action} aggregate {row.id}. Reason: Aggregate "
                            f"{row.name} does not support empty named availability zone.")


def _aggregate_id(aggregate_id: str) -> int:
    # nova.utils.validate_integer, as aggregates.py show and _set_metadata call it
    try:
        return int(aggregate_id)
    except ValueError:
        raise ApiError(400, "Invalid input received: id must be an integer") from None


@router.get("/os-aggregates/{aggregate_id}", summary="Show a host aggregate (admin)",
            response_model_exclude_unset=True)
def show_aggregate(aggregate_id: str, request: Request, who: Caller,
                   mv: Version) -> schemas.AggregateResponse:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-aggregates:show")
    number = _aggregate_id(aggregate_id)
    with app_state(request).db.read() as session:
        return schemas.AggregateResponse(aggregate=_aggregate_view(
            compute.get_aggregate(session, number), mv))


@router.put("/os-aggregates/{aggregate_id}", summary="Rename a host aggregate or set its zone "
            "(admin)", response_model_exclude_unset=True)
def update_aggregate(aggregate_id: str, body: AggregateUpdateBody, request: Request,
                     who: Caller, mv: Version) -> schemas.AggregateResponse:
    """``AggregateController.update`` (``openstack aggregate set --name/--zone``): the schema,
    the policy, the id, then ``update_aggregate``: the name (stripped, unique: 409), then the
    zone. Nova saves the new name before refusing an empty zone; here the request changes
    nothing then."""
    validate_body(AGGREGATE_UPDATE, body, NAME_FORMATS)
    sent: dict[str, Any] = body["aggregate"]
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-aggregates:update")
    number = _aggregate_id(aggregate_id)
    with app_state(request).db.write() as session:
        row = compute.get_aggregate(session, number)
        if "name" in sent:
            compute.rename_aggregate(session, row, str(sent["name"]).strip())
        _refuse_empty_zone(row, sent, "update")
        if "availability_zone" in sent:
            _refuse_zone_move(session, row, str(sent["availability_zone"]), "update")
            compute.set_aggregate_metadata(session, row, {
                "availability_zone": sent["availability_zone"]})
        return schemas.AggregateResponse(aggregate=_aggregate_view(row, mv))


@router.post("/os-aggregates/{aggregate_id}/action",
             summary="set_metadata on a host aggregate (admin)",
             response_model_exclude_unset=True)
def aggregate_action(aggregate_id: str, request: Request, who: Caller, mv: Version,
                     body: Annotated[dict[str, Any], Body()]) -> schemas.AggregateResponse:
    """``set_metadata`` (``openstack aggregate create/set/unset --property``), ``add_host``
    and ``remove_host`` (``openstack aggregate add/remove host``) of a registered host."""
    if len(body) != 1:  # nova/api/openstack/wsgi.py action_peek: exactly one key
        raise ApiError(400, "Malformed request body")
    action = next(iter(body))
    if action not in AGGREGATE_ACTIONS:
        raise ApiError(400, f"There is no such action: {action}")
    validate_body(AGGREGATE_ACTIONS[action], body)  # Nova's schema, before the policy
    if not who.is_admin:
        raise nova_forbidden(f"os_compute_api:os-aggregates:{action}")
    number = _aggregate_id(aggregate_id)
    with app_state(request).db.write() as session:
        if action in ("add_host", "remove_host"):
            row = _host_action(session, number, action, str(body[action]["host"]))
            return schemas.AggregateResponse(aggregate=_aggregate_view(row, mv))
        row = compute.get_aggregate(session, number)
        metadata: dict[str, str | None] = body["set_metadata"]["metadata"]
        _refuse_empty_zone(row, metadata, "update metadata of")
        if metadata.get("availability_zone"):
            _refuse_zone_move(session, row, str(metadata["availability_zone"]), "update_meta")
        compute.set_aggregate_metadata(session, row, metadata)
        return schemas.AggregateResponse(aggregate=_aggregate_view(row, mv))


def _zoned(row: Aggregate) -> ZonedAggregate:
    return ZonedAggregate(row.id, row.name, row.availability_zone, tuple(row.hosts))


def _refuse_zone_move(session: Session, row: Aggregate, zone: str, action: str) -> None:
    """``is_safe_to_update_az(check_no_instances_in_az=True)`` for a zone being set."""
    reason = zone_change_reason(_zoned(row), zone, hosts.zoned_aggregates(session, lock=True),
                                set(hosts.servers_per_host(session)))
    if reason:
        raise ApiError(409, refusal(action, row.id, reason))


def _host_action(session: Session, number: int, action: str, host: str) -> Aggregate:
    """``add_host_to_aggregate`` / ``remove_host_from_aggregate``, in their order: the host,
    the aggregate, the zone rules, then the membership."""
    known = {r.name for r in hosts.list_hosts(session)}
    if host not in known:
        if action == "add_host":
            raise ApiError(404, f"Compute host {host} could not be found.")
        raise ApiError(404, f"Cannot remove host {host} in aggregate {number}")
    row = compute.get_aggregate(session, number, lock=True)
    aggregates = hosts.zoned_aggregates(session)
    servers = hosts.servers_per_host(session).get(host, 0)
    if action == "add_host":
        reason = add_host_reason(_zoned(row), host, aggregates, servers)
        if reason:
            raise ApiError(409, refusal("add", row.id, reason))
        if host in row.hosts:
            raise ApiError(409, f"Aggregate {row.id} already has host {host}.")
        row.hosts = [*row.hosts, host]
    else:
        reason = remove_host_reason(_zoned(row), host, aggregates, servers)
        if reason:
            raise ApiError(409, refusal("delete", row.id, reason))
        if host not in row.hosts:
            raise ApiError(404, f"Cannot remove host {host} in aggregate {row.id}")
        row.hosts = [h for h in row.hosts if h != host]
    return row
