"""Neutron's quotas (``/network/v2.0/quotas``) and the check of a create against them.

Behaviour is ``neutron/extensions/quotasv2.py`` and ``quotasv2_detail.py``:

* Policies (``neutron/conf/policies/quotas.py``): one's own project's quotas need no policy;
  another project's and the listing are ``get_quota`` (admin, or a project manager, a role
  vmqos does not have); details of another project are admins' (``AdminRequired``); update and
  delete are admins'. Neutron does not check that the project exists.
* An update converts and range-checks each limit as the quota resources' attribute map does
  (``convert_to_int``, ``type:range [-1, 2**31-1]``), then, unless ``force``, refuses a limit
  below the usage; ``check_limit`` is accepted and, as since 2025.1, changes nothing.
* A listing shows the projects with a limit set; deleting a project's limits when none is set
  is ``TenantQuotaNotFound``.
* :func:`enforce` is the API's reservation (``neutron/api/v2/base.py`` ``_create``:
  ``make_reservation``, 409 ``OverQuota``), and the plugin's ``quota_limit_check`` for the
  rules of a new security group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.orm import Session

from vmqos.api import quota_schemas as schemas
from vmqos.api.context import app_state, caller, neutron_forbidden
from vmqos.api.errors import ApiError
from vmqos.errors import ConflictError, NotFoundError, ValidationError
from vmqos.intent.neutron.convert import convert_to_int
from vmqos.intent.project_quotas import (
    NEUTRON_DEFAULTS,
    below_usage,
    neutron_limit_below_usage,
    neutron_over_quota,
)
from vmqos.store import quotas
from vmqos.store.identity import TokenInfo

__all__ = ["enforce", "router"]

router = APIRouter(prefix="/network/v2.0", tags=["network"])
Caller = Annotated[TokenInfo, Depends(caller)]

_MAX_LIMIT = 2**31 - 1   # neutron_lib.db.constants.DB_INTEGER_MAX_VALUE


def enforce(session: Session, project_id: str, **deltas: int) -> None:
    """``deltas`` more of each resource in the project, or 409 ``OverQuota``."""
    over = quotas.check(session, "network", project_id, deltas)
    if over is not None:
        raise ConflictError(neutron_over_quota(over), kind="OverQuota",
                            key=over.resources[0], value=over.requested[0])


def _own_or(who: TokenInfo, project_id: str) -> None:
    if project_id != who.project_id and not who.is_admin:
        raise neutron_forbidden("get_quota")


def _with_usage(session: Session, project_id: str) -> schemas.NetworkQuotaDetails:
    limits = quotas.limits(session, "network", project_id)
    used = quotas.network_usage(session, project_id)
    return schemas.NetworkQuotaDetails(**{
        name: schemas.NetworkQuotaDetail(limit=limits[name], used=used.get(name, 0),
                                         reserved=0) for name in NEUTRON_DEFAULTS})


@router.get("/quotas", summary="List the projects with quotas set (admin)")
def list_quotas(request: Request, who: Caller) -> schemas.NetworkQuotaList:
    if not who.is_admin:
        raise neutron_forbidden("get_quota")
    with app_state(request).db.read() as session:
        listed = quotas.overridden(session, "network")
    return schemas.NetworkQuotaList(quotas=[
        schemas.ProjectNetworkQuota(project_id=project, tenant_id=project,
                                    **{**NEUTRON_DEFAULTS, **values})
        for project, values in listed.items()])


@router.get("/quotas/{project_id}", summary="Show a project's quotas")
def show_quota(project_id: str, request: Request, who: Caller) -> schemas.NetworkQuotaResponse:
    _own_or(who, project_id)
    with app_state(request).db.read() as session:
        limits = quotas.limits(session, "network", project_id)
    return schemas.NetworkQuotaResponse(quota=schemas.NetworkQuota(**limits))


@router.get("/quotas/{project_id}/default", summary="Neutron's default quotas")
def show_quota_default(project_id: str, who: Caller) -> schemas.NetworkQuotaResponse:
    _own_or(who, project_id)
    return schemas.NetworkQuotaResponse(quota=schemas.NetworkQuota(**NEUTRON_DEFAULTS))


@router.get("/quotas/{project_id}/details", summary="A project's quotas with usage")
def show_quota_details(project_id: str, request: Request,
                       who: Caller) -> schemas.NetworkQuotaDetailsResponse:
    if project_id != who.project_id and not who.is_admin:
        raise ApiError(403, "User does not have admin privileges: Only admin is authorized "
                            "to access quotas for another project.", kind="AdminRequired")
    with app_state(request).db.read() as session:
        return schemas.NetworkQuotaDetailsResponse(quota=_with_usage(session, project_id))


def _requested(body: Mapping[str, Any]) -> tuple[dict[str, int], bool]:
    """The limits of an update body, converted and range-checked in the attribute map's
    order, and its ``force``."""
    given = body.get("quota")
    if given is None:
        raise ValidationError("Unable to find 'quota' in request body", key="quota",
                              value=None)
    if not isinstance(given, dict):
        raise ValidationError("Object 'quota' contains invalid data", key="quota", value=given)
    given = dict(given)
    force = given.pop("force", None) is True
    given.pop("check_limit", None)
    unknown = set(given) - set(NEUTRON_DEFAULTS)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ValidationError(f"Unrecognized attribute(s) '{names}'", key=names, value=None)
    values: dict[str, int] = {}
    for name in NEUTRON_DEFAULTS:
        if name not in given:
            continue
        limit = convert_to_int(name, given[name])
        reason = None
        if limit < -1:
            reason = f"'{limit}' is too small - must be at least '-1'"
        elif limit > _MAX_LIMIT:
            reason = f"'{limit}' is too large - must be no larger than '{_MAX_LIMIT}'"
        if reason is not None:
            raise ValidationError(f"Invalid input for {name}. Reason: {reason}.", key=name,
                                  value=limit, allowed=f"-1 to {_MAX_LIMIT}")
        values[name] = limit
    return values, force


@router.put("/quotas/{project_id}", summary="Set a project's quotas (admin)")
def update_quota(project_id: str, request: Request, who: Caller,
                 body: Annotated[dict[str, Any], Body()]) -> schemas.NetworkQuotaResponse:
    if not who.is_admin:
        raise neutron_forbidden("update_quota")
    values, force = _requested(body)
    with app_state(request).db.write() as session:
        used = quotas.network_usage(session, project_id)
        refused = None if force else below_usage(values, used, neutron_limit_below_usage)
        if refused is not None:
            raise ApiError(400, refused)
        quotas.set_limits(session, "network", project_id, values)
        limits = quotas.limits(session, "network", project_id)
    return schemas.NetworkQuotaResponse(quota=schemas.NetworkQuota(**limits))


@router.delete("/quotas/{project_id}", status_code=204, response_class=Response,
               summary="Revert a project's quotas to the defaults (admin)")
def delete_quota(project_id: str, request: Request, who: Caller) -> Response:
    if not who.is_admin:
        raise neutron_forbidden("delete_quota")
    with app_state(request).db.write() as session:
        if quotas.delete_limits(session, "network", project_id) == 0:
            raise NotFoundError(f"Quota for project {project_id} could not be found.",
                                kind="TenantQuotaNotFound", key="project_id",
                                value=project_id)
    return Response(status_code=204)
