"""Nova flavors and ``os-extra_specs`` (``/compute/v2.1/flavors``).

Behaviour is Nova's (``nova/api/openstack/compute/flavor_manage.py``, ``flavors.py``,
``flavors_extraspecs.py``): the server generates the id when the request's ``id`` is null;
names are Nova's (:mod:`vmqos.api.nova_names`); names and ids are unique (409); only admins
create, update and delete flavors and their extra specs (``os_compute_api:os-flavor-manage:*``,
``os-flavor-extra-specs:*``); a non-admin sees the public flavors and the private ones its
project has access to (:mod:`vmqos.api.flavor_access`), another is not found (404).

An ``os-extra_specs`` body goes through Nova's steps, in Nova's order
(:mod:`vmqos.intent.nova.extra_specs_body`): Nova's body schema at every microversion (keys of
``^[a-zA-Z0-9-_:. ]{1,255}$``, string values of at most 255 characters or JSON numbers; a
boolean or null is refused), then the policy, then each spec in the body's order — validated
at microversion >= 2.86 in every namespace Nova knows (``hw:``, ``quota:``, ``trait:`` ...) by
:func:`vmqos.intent.nova.extra_specs.validate_extra_spec`; below 2.86 Nova stores any string,
and so does this. A failure is Nova's message, HTTP 400, and nothing of the body is saved.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from vmqos.api import compute_schemas as schemas
from vmqos.api.context import app_state, caller, nova_forbidden
from vmqos.api.errors import ApiError
from vmqos.api.identity import root_url
from vmqos.api.microversion import Microversion, nova_microversion
from vmqos.api.nova_names import NovaName
from vmqos.intent.nova.extra_specs_body import (
    EXTRA_SPECS_CREATE,
    EXTRA_SPECS_UPDATE,
    extra_spec_values,
    validate_extra_specs_create_body,
    validate_extra_specs_update_body,
)
from vmqos.intent.nova.flavor_body import (
    new_flavor,
    validate_flavor_create_body,
    validate_flavor_update_body,
)
from vmqos.store import compute
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Flavor

__all__ = ["flavor_view", "router", "visible_flavor"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])


Caller = Annotated[TokenInfo, Depends(caller)]
Version = Annotated[Microversion, Depends(nova_microversion)]


def _links(request: Request, flavor_id: str) -> list[schemas.Link]:
    href = f"{root_url(request)}/compute/v2.1/flavors/{flavor_id}"
    return [schemas.Link(rel="self", href=href),
            schemas.Link(rel="bookmark", href=href.replace("/v2.1", ""))]


def flavor_view(flavor: Flavor, mv: Microversion, request: Request) -> schemas.Flavor:
    view = schemas.Flavor(
        id=flavor.id, name=flavor.name, ram=flavor.ram, disk=flavor.disk, vcpus=flavor.vcpus,
        # Before 2.75 Nova shows a zero swap as an empty string.
        swap=flavor.swap if mv.at_least("2.75") else (flavor.swap or ""),
        ephemeral=flavor.ephemeral, disabled=flavor.disabled, is_public=flavor.is_public,
        rxtx_factor=flavor.rxtx_factor, links=_links(request, flavor.id))
    if mv.at_least("2.55"):
        view.description = flavor.description
    if mv.at_least("2.61"):
        view.extra_specs = dict(flavor.extra_specs)
    return view


def _summary(flavor: Flavor, mv: Microversion, request: Request) -> schemas.FlavorSummary:
    view = schemas.FlavorSummary(id=flavor.id, name=flavor.name,
                                 links=_links(request, flavor.id))
    if mv.at_least("2.55"):
        view.description = flavor.description
    return view


def visible_flavor(session: Session, flavor_id: str, who: TokenInfo, *,
                   lock: bool = False) -> Flavor:
    """The flavor as ``who`` may see it (``Flavor.get_by_flavor_id`` in the caller's context):
    an admin any, a project the public ones and those it has access to; else
    ``FlavorNotFound``."""
    return compute.get_flavor(session, flavor_id, lock=lock,
                              project_id=None if who.is_admin else who.project_id)


def _is_public_filter(text: str | None, who: TokenInfo) -> bool | None:
    """``FlavorsController._get_flavors``: a non-admin's filter is always True; an admin's is
    ``_parse_is_public``: absent -> True, ``none`` in any case (``utils.is_none_string``, not
    stripped) -> None, else ``strutils.bool_from_string(strict=True)`` (stripped)."""
    if not who.is_admin or text is None:
        return True
    if text.lower() == "none":
        return None
    value = text.strip().lower()
    if value in ("1", "t", "true", "on", "y", "yes"):
        return True
    if value in ("0", "f", "false", "off", "n", "no"):
        return False
    raise ApiError(400, f"Invalid is_public filter [{text}]")


# Nova's schema (vmqos.intent.nova.flavor_body) judges the raw body first, in its words; the
# model then only types what passed it (Nova's JSON types, loose) for the OpenAPI document and
# declares the Nova name field the request guard leaves to the route (vmqos.api.nova_names).
class FlavorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: NovaName
    id: str | int | float | None = None
    ram: int | float | str
    vcpus: int | float | str
    disk: int | float | str
    ephemeral: int | float | str = Field(default=0, alias="OS-FLV-EXT-DATA:ephemeral")
    swap: int | float | str = 0
    rxtx_factor: int | float | str = 1.0
    is_public: bool | str = Field(default=True, alias="os-flavor-access:is_public")
    description: str | None = None


class FlavorCreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flavor: FlavorCreate


async def _nova_flavor_create(request: Request, mv: Version) -> dict[str, object]:
    """Nova's ``validation.schema`` for ``FlavorsController.create``: the raw body against the
    microversion's schema, before the request model reads it and before the policy; the
    body's ``flavor``, as sent."""
    try:
        body = await request.json()
    except ValueError:  # not JSON: the request model's own answer
        return {}
    validate_flavor_create_body(body, with_description=mv.at_least("2.55"))
    flavor: dict[str, object] = body["flavor"]
    return flavor


SentFlavor = Annotated[dict[str, object], Depends(_nova_flavor_create)]
# The raw body of a flavor update: Nova's schema judges it once the route exists (2.55).
UpdateFlavorBody = Annotated[Any, Body()]


def _min_filter(name: str, text: str | None) -> int:
    """A ``minRam``/``minDisk`` filter as Nova reads it (nova/api/openstack/compute/flavors.py
    ``_get_flavors``: ``int()`` of the parameter, its own message when that fails)."""
    if text is None:
        return 0
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, f"Invalid {name} filter [{text}]") from None


@router.get("/flavors", summary="List flavors", response_model_exclude_unset=True)
def list_flavors(request: Request, who: Caller, mv: Version, is_public: str | None = None,
                 minRam: str | None = None, minDisk: str | None = None,
                 ) -> schemas.FlavorSummaryList:
    with app_state(request).db.read() as session:
        rows = compute.list_flavors(session, project_id=who.project_id,
                                    is_public=_is_public_filter(is_public, who),
                                    min_ram=_min_filter("minRam", minRam),
                                    min_disk=_min_filter("minDisk", minDisk))
        return schemas.FlavorSummaryList(flavors=[_summary(f, mv, request) for f in rows])


@router.get("/flavors/detail", summary="List flavors with details",
            response_model_exclude_unset=True)
def list_flavors_detail(request: Request, who: Caller, mv: Version,
                        is_public: str | None = None, minRam: str | None = None,
                        minDisk: str | None = None) -> schemas.FlavorList:
    with app_state(request).db.read() as session:
        rows = compute.list_flavors(session, project_id=who.project_id,
                                    is_public=_is_public_filter(is_public, who),
                                    min_ram=_min_filter("minRam", minRam),
                                    min_disk=_min_filter("minDisk", minDisk))
        return schemas.FlavorList(flavors=[flavor_view(f, mv, request) for f in rows])


@router.post("/flavors", summary="Create a flavor (admin)", response_model_exclude_unset=True)
def create_flavor(who: Caller, mv: Version, sent: SentFlavor, body: FlavorCreateBody,
                  request: Request) -> schemas.FlavorResponse:
    """``FlavorsController.create``: the schema (``sent``, before ``body`` is read), the policy,
    ``flavors.create``'s conversions (:func:`~vmqos.intent.nova.flavor_body.new_flavor`), and
    the conflicts (409)."""
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-flavor-manage:create")
    new = new_flavor(sent, with_description=mv.at_least("2.55"))
    with app_state(request).db.write() as session:
        flavor = compute.create_flavor(
            session, name=new.name, vcpus=new.vcpus, ram=new.memory_mb, disk=new.root_gb,
            flavor_id=new.flavorid, swap=new.swap, ephemeral=new.ephemeral_gb,
            rxtx_factor=new.rxtx_factor, is_public=new.is_public,
            description=new.description)
        return schemas.FlavorResponse(flavor=flavor_view(flavor, mv, request))


@router.get("/flavors/{flavor_id}", summary="Show a flavor", response_model_exclude_unset=True)
def show_flavor(flavor_id: str, request: Request, who: Caller,
                mv: Version) -> schemas.FlavorResponse:
    with app_state(request).db.read() as session:
        flavor = visible_flavor(session, flavor_id, who)
        return schemas.FlavorResponse(flavor=flavor_view(flavor, mv, request))


@router.put("/flavors/{flavor_id}", summary="Update a flavor's description (admin, 2.55)",
            response_model_exclude_unset=True)
def update_flavor(flavor_id: str, body: UpdateFlavorBody, request: Request, who: Caller,
                  mv: Version) -> schemas.FlavorResponse:
    """``FlavorsController.update``: no such route below 2.55, then the schema, then the
    policy."""
    if not mv.at_least("2.55"):
        raise ApiError(404, "The resource could not be found.")
    description = validate_flavor_update_body(body)
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-flavor-manage:update")
    with app_state(request).db.write() as session:
        flavor = compute.get_flavor(session, flavor_id, lock=True)
        flavor.description = description
        return schemas.FlavorResponse(flavor=flavor_view(flavor, mv, request))


@router.delete("/flavors/{flavor_id}", status_code=202, response_class=Response,
               summary="Delete a flavor (admin)")
def delete_flavor(flavor_id: str, request: Request, who: Caller, mv: Version) -> Response:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-flavor-manage:delete")
    with app_state(request).db.write() as session:
        compute.delete_flavor(session, flavor_id)
    return Response(status_code=202)


# --- extra specs ------------------------------------------------------------------------------

# The raw JSON body: Nova's schema judges it, in its words, before anything else does
# (vmqos.intent.nova.extra_specs_body); the OpenAPI document shows that schema.
CreateSpecsBody = Annotated[Any, Body(json_schema_extra=dict(EXTRA_SPECS_CREATE))]
UpdateSpecBody = Annotated[Any, Body(json_schema_extra=dict(EXTRA_SPECS_UPDATE))]


@router.get("/flavors/{flavor_id}/os-extra_specs", summary="List a flavor's extra specs")
def list_extra_specs(flavor_id: str, request: Request, who: Caller,
                     mv: Version) -> schemas.ExtraSpecs:
    with app_state(request).db.read() as session:
        flavor = visible_flavor(session, flavor_id, who)
        return schemas.ExtraSpecs(extra_specs=dict(flavor.extra_specs))


@router.post("/flavors/{flavor_id}/os-extra_specs",
             summary="Create or update extra specs (admin)")
def set_extra_specs(flavor_id: str, body: CreateSpecsBody, request: Request, who: Caller,
                    mv: Version) -> schemas.ExtraSpecsSet:
    """``FlavorExtraSpecsController.create``: the schema, the policy, the values in the body's
    order (Nova's validators from 2.86), then the flavor (404) and the save. The answer is
    the body's specs as sent."""
    specs = validate_extra_specs_create_body(body)
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-flavor-extra-specs:create")
    texts = extra_spec_values(specs, validators=mv.at_least("2.86"))
    with app_state(request).db.write() as session:
        compute.set_extra_specs(session, flavor_id, texts)
    return schemas.ExtraSpecsSet(extra_specs=specs)


@router.get("/flavors/{flavor_id}/os-extra_specs/{key}", summary="Show one extra spec")
def show_extra_spec(flavor_id: str, key: str, request: Request, who: Caller,
                    mv: Version) -> dict[str, str]:
    with app_state(request).db.read() as session:
        flavor = visible_flavor(session, flavor_id, who)
        if key not in flavor.extra_specs:
            raise ApiError(404, f"Flavor {flavor_id} has no extra specs with key {key}.")
        return {key: flavor.extra_specs[key]}


@router.put("/flavors/{flavor_id}/os-extra_specs/{key}",
            summary="Update one extra spec (admin)")
def update_extra_spec(flavor_id: str, key: str, body: UpdateSpecBody, request: Request,
                      who: Caller, mv: Version) -> dict[str, str | int | float]:
    """``FlavorExtraSpecsController.update``: the schema (one spec), the policy, the value,
    and only then whether the body names the URI's key. The answer is the body as sent."""
    specs = validate_extra_specs_update_body(body)
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-flavor-extra-specs:update")
    texts = extra_spec_values(specs, validators=mv.at_least("2.86"))
    if key not in texts:
        raise ApiError(400, "Request body and URI mismatch")
    with app_state(request).db.write() as session:
        compute.set_extra_specs(session, flavor_id, texts)
    return specs


@router.delete("/flavors/{flavor_id}/os-extra_specs/{key}", response_class=Response,
               summary="Delete one extra spec (admin)")
def delete_extra_spec(flavor_id: str, key: str, request: Request, who: Caller,
                      mv: Version) -> Response:
    if not who.is_admin:
        raise nova_forbidden("os_compute_api:os-flavor-extra-specs:delete")
    with app_state(request).db.write() as session:
        compute.delete_extra_spec(session, flavor_id, key)
    return Response(status_code=200)
