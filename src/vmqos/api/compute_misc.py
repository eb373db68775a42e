"""Nova key pairs, availability zones and host aggregates: what ``server create`` refers to.

* ``--key-name`` is passed through by the client without a lookup (OSC server.py CreateServer);
  Nova checks it (400 "Invalid key_name provided."). Key pairs carry the caller's public key:
  from 2.92 Nova no longer generates keys, and the client generates one locally when none is
  given. Their names are Nova's ``name`` and a pattern that admits ``@`` and ``.`` from 2.92
  (:func:`vmqos.intent.nova.names.validate_keypair_name`). Aggregates' names and zones follow
  Nova's rules too (:mod:`vmqos.api.nova_names`).
* A user has at most the project's ``key_pairs`` quota of key pairs (403 "Quota exceeded,
  too many key pairs.", :func:`vmqos.api.compute_quotas.enforce_keypair`).
* ``--availability-zone`` must name ``nova`` or the zone of a host aggregate (``openstack
  aggregate create --zone az_vlan agg``); vmqos has one compute host, which is in every zone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vmqos.api import compute_schemas as schemas
from vmqos.api.compute_quotas import enforce_keypair
from vmqos.api.context import app_state, caller, nova_forbidden
from vmqos.api.errors import ApiError, shown_value
from vmqos.api.microversion import Microversion, nova_microversion
from vmqos.api.nova_names import AzNameOrNone, NovaName
from vmqos.api.server_views import iso
from vmqos.intent.nova.names import validate_keypair_name
from vmqos.store import compute
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
    model_config = ConfigDict(extra="forbid")
    # Nova's name rule here; its pattern, which depends on the microversion, in the route.
    name: NovaName
    public_key: str = Field(min_length=1, max_length=16384)
    type: str = Field(default="ssh", pattern="^(ssh|x509)$")
    user_id: str | None = None


class KeypairBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keypair: KeypairCreate


@router.get("/os-keypairs", summary="List key pairs", response_model_exclude_unset=True)
def list_keypairs(request: Request, who: Caller, mv: Version) -> schemas.KeypairList:
    with app_state(request).db.read() as session:
        rows = compute.list_keypairs(session, who.user_id)
        return schemas.KeypairList(keypairs=[
            schemas.KeypairResponse(keypair=_keypair_view(k, mv, full=False)) for k in rows])


@router.post("/os-keypairs", summary="Import a key pair", response_model_exclude_unset=True)
def create_keypair(body: KeypairBody, request: Request, response: Response, who: Caller,
                   mv: Version) -> schemas.KeypairResponse:
    data = body.keypair
    validate_keypair_name(data.name, "name", at_2_92=mv.at_least("2.92"))
    user_id = who.user_id
    if data.user_id is not None and data.user_id != who.user_id:
        if not who.is_admin:
            raise nova_forbidden("os_compute_api:os-keypairs:create")
        user_id = data.user_id
    key_type = data.type if data.type == "x509" else "ssh"
    with app_state(request).db.write() as session:
        # KeypairAPI.import_key_pair: the quota (403) before the key's fingerprint (400).
        enforce_keypair(session, who, user_id)
        fingerprint = _fingerprint(data.public_key) if key_type == "ssh" else hashlib.sha1(
            data.public_key.encode(), usedforsecurity=False).hexdigest()
        keypair = compute.create_keypair(session, user_id=user_id, name=data.name,
                                         public_key=data.public_key, fingerprint=fingerprint,
                                         key_type=key_type)
        view = _keypair_view(keypair, mv, full=False)
    view.user_id = user_id
    response.status_code = 201 if mv.at_least("2.2") else 200
    return schemas.KeypairResponse(keypair=view)


@router.get("/os-keypairs/{name}", summary="Show a key pair",
            response_model_exclude_unset=True)
def show_keypair(name: str, request: Request, who: Caller,
                 mv: Version) -> schemas.KeypairResponse:
    with app_state(request).db.read() as session:
        return schemas.KeypairResponse(keypair=_keypair_view(
            compute.get_keypair(session, who.user_id, name), mv, full=True))


@router.delete("/os-keypairs/{name}", status_code=204, response_class=Response,
               summary="Delete a key pair (202 before microversion 2.2)")
def delete_keypair(name: str, request: Request, who: Caller, mv: Version) -> Response:
    with app_state(request).db.write() as session:
        compute.delete_keypair(session, who.user_id, name)
    return Response(status_code=204 if mv.at_least("2.2") else 202)


# --- availability zones and aggregates --------------------------------------------------------


@router.get("/os-availability-zone", summary="List availability zones")
def list_zones(request: Request, who: Caller, mv: Version) -> schemas.AvailabilityZoneList:
    with app_state(request).db.read() as session:
        zones = compute.availability_zones(session)
    return schemas.AvailabilityZoneList(availabilityZoneInfo=[schemas.AvailabilityZone(
        zoneName=z, zoneState=schemas.ZoneState(available=True), hosts=None) for z in zones])


@router.get("/os-availability-zone/detail", summary="Availability zones with hosts (admin)")
def list_zones_detail(request: Request, who: Caller,
                      mv: Version) -> schemas.AvailabilityZoneList:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-availability-zone:detail")
    state = app_state(request)
    with state.db.read() as session:
        zones = compute.availability_zones(session)
    services = {"nova-compute": schemas.ServiceState(available=True, active=True,
                                                     updated_at=None)}
    return schemas.AvailabilityZoneList(availabilityZoneInfo=[schemas.AvailabilityZone(
        zoneName=z, zoneState=schemas.ZoneState(available=True),
        hosts={state.settings.host: services}) for z in zones])


def _aggregate_view(row: Aggregate, mv: Microversion) -> schemas.Aggregate:
    view = schemas.Aggregate(
        id=row.id, name=row.name, availability_zone=row.availability_zone,
        created_at=iso(row.created_at), updated_at=None, deleted_at=None, deleted=False,
        hosts=[], metadata={**row.metadata_, **({"availability_zone": row.availability_zone}
                                                if row.availability_zone else {})})
    if mv.at_least("2.41"):
        view.uuid = row.uuid
    return view


class AggregateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: NovaName
    availability_zone: AzNameOrNone = None


class AggregateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aggregate: AggregateCreate


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
def create_aggregate(body: AggregateBody, request: Request, who: Caller,
                     mv: Version) -> schemas.AggregateResponse:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-aggregates:create")
    if body.aggregate.availability_zone == compute.DEFAULT_ZONE:
        raise ApiError(400, "Aggregates with availability zone nova are not allowed: it is "
                            "the default availability zone.")
    with app_state(request).db.write() as session:
        row = compute.create_aggregate(session, body.aggregate.name,
                                       body.aggregate.availability_zone)
        return schemas.AggregateResponse(aggregate=_aggregate_view(row, mv))


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


_AGGREGATE_KEY = "^[a-zA-Z0-9-_:. ]{1,255}$"   # parameter_types.metadata_with_null


def _aggregate_metadata(body: dict[str, Any]) -> dict[str, str | None]:
    """``schemas/aggregates.py`` ``set_metadata``, in Nova's validation wording."""
    args = body["set_metadata"]
    if not isinstance(args, dict) or "metadata" not in args:
        raise ApiError(400, "Invalid input for field/attribute set_metadata. Value: "
                            f"{shown_value(args)}. 'metadata' is a required property"
                       if isinstance(args, dict) else
                       f"Invalid input for field/attribute set_metadata. Value: "
                       f"{shown_value(args)}. {shown_value(args)} is not of type 'object'")
    items = args["metadata"]
    if not isinstance(items, dict):
        raise ApiError(400, f"Invalid input for field/attribute metadata. Value: "
                            f"{shown_value(items)}. {shown_value(items)} is not of type "
                            "'object'")
    for key, value in items.items():
        if re.fullmatch(_AGGREGATE_KEY, key) is None:
            raise ApiError(400, f"Invalid input for field/attribute metadata. Value: "
                                f"{shown_value(items)}. {key!r} does not match any of the "
                                f"regexes: '{_AGGREGATE_KEY}'")
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            reason = (f"{shown_value(value)} is too long" if isinstance(value, str)
                      else f"{shown_value(value)} is not of type 'string', 'null'")
            raise ApiError(400, f"Invalid input for field/attribute {key}. Value: "
                                f"{shown_value(value)}. {reason}")
    return dict(items)


@router.post("/os-aggregates/{aggregate_id}/action",
             summary="set_metadata on a host aggregate (admin)",
             response_model_exclude_unset=True)
def aggregate_action(aggregate_id: str, request: Request, who: Caller, mv: Version,
                     body: Annotated[dict[str, Any], Body()]) -> schemas.AggregateResponse:
    """``set_metadata`` (``openstack aggregate create/set/unset --property``); ``add_host``
    and ``remove_host`` are 409: vmqos's one compute host is in every aggregate already."""
    action = next(iter(body), "")
    if action not in ("set_metadata", "add_host", "remove_host"):
        raise ApiError(400, f"There is no such action: {action}")
    if not who.is_admin:
        raise nova_forbidden(f"os_compute_api:os-aggregates:{action}")
    number = _aggregate_id(aggregate_id)
    with app_state(request).db.write() as session:
        row = compute.get_aggregate(session, number)
        if action != "set_metadata":
            raise ApiError(409, f"Action '{action}' is not supported by vmqos: its one "
                                "compute host is in every aggregate.")
        metadata = _aggregate_metadata(body)
        if "availability_zone" in metadata and not metadata["availability_zone"]:
            raise ApiError(400, f"Cannot update metadata of aggregate {row.id}. Reason: "
                                f"Aggregate {row.name} does not support empty named "
                                "availability zone.")
        compute.set_aggregate_metadata(session, row, metadata)
        return schemas.AggregateResponse(aggregate=_aggregate_view(row, mv))
