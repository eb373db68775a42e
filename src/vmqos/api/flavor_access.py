"""Nova's flavor access (``nova/api/openstack/compute/flavor_access.py``): who may use a
private flavor.

* ``GET /flavors/{id}/os-flavor-access`` (``FlavorAccessController.index``): the policy
  ``os_compute_api:os-flavor-access`` (admin, ``nova/policies/flavor_access.py``), the flavor
  (404), 404 "Access list not available for public flavors." for a public one, else the
  projects with access.
* ``POST /flavors/{id}/action`` (``FlavorActionController``), after Nova's dispatch
  (``nova/api/openstack/wsgi.py``: a media type other than JSON is 415 "Unsupported
  Content-Type"; ``action_peek`` and ``Resource._get_method``: a body that is not UTF-8 JSON,
  or not one key, is "Malformed request body"; a one-element array or string, or a
  number, finds no method, 404; another key is "There is no such action: X"), then, in
  ``_add_tenant_access``'s order: the body schema
  (:mod:`vmqos.intent.nova.flavor_access_body`), the policy
  (``os_compute_api:os-flavor-access:add_tenant_access``, admin), the project
  (``nova/api/openstack/identity.py`` ``verify_project_id``: one Keystone does not have is 400
  "Project ID P is not a valid project."), the flavor (404), from microversion 2.7 409 "Can
  not add access to a public flavor.", and the row (409 ``FlavorAccessExists``).
  ``removeTenantAccess`` takes a project Keystone does not know (the row may outlive it) and
  answers 404 ``FlavorAccessNotFound`` for a missing row; a public flavor is no conflict.
  Both answer 200 with the flavor's access list, as ``_marshall_flavor_access`` builds it.

Nothing is written before every check has passed: the row is the last step.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from vmqos.api import compute_schemas as schemas
from vmqos.api.compute_flavors import visible_flavor
from vmqos.api.context import app_state, caller, nova_forbidden
from vmqos.api.errors import ApiError
from vmqos.api.microversion import Microversion, nova_microversion
from vmqos.intent.nova.flavor_access_body import (
    ACTIONS,
    TENANT_ACCESS,
    Action,
    validate_tenant_access_body,
)
from vmqos.store import flavor_access
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Flavor, Project

__all__ = ["router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])

Caller = Annotated[TokenInfo, Depends(caller)]
Version = Annotated[Microversion, Depends(nova_microversion)]

_POLICY = "os_compute_api:os-flavor-access"
_ACTION_POLICY: dict[Action, str] = {"addTenantAccess": f"{_POLICY}:add_tenant_access",
                                     "removeTenantAccess": f"{_POLICY}:remove_tenant_access"}
_MALFORMED = "Malformed request body"
_JSON_TYPES = ("application/json", "application/vnd.openstack.compute+json")  # wsgi.py


def _access_list(session: Session, flavor: Flavor) -> schemas.FlavorAccessList:
    return schemas.FlavorAccessList(flavor_access=[
        schemas.FlavorAccess(flavor_id=flavor.id, tenant_id=project)
        for project in flavor_access.flavor_projects(session, flavor)])


@router.get("/flavors/{flavor_id}/os-flavor-access",
            summary="Projects with access to a private flavor (admin)")
def list_flavor_access(flavor_id: str, request: Request, who: Caller,
                       mv: Version) -> schemas.FlavorAccessList:
    if not who.is_admin:
        raise nova_forbidden(_POLICY)
    with app_state(request).db.read() as session:
        flavor = visible_flavor(session, flavor_id, who)
        if flavor.is_public:
            raise ApiError(404, "Access list not available for public flavors.")
        return _access_list(session, flavor)


def _peek(content_type: str | None, raw: bytes) -> tuple[Action, object]:
    """``Resource.__call__``'s media type check (``Request.get_content_type``: none, empty or
    ``text/plain`` is taken as JSON), then ``wsgi.action_peek`` and the method lookup: the
    action a body names, and the body."""
    media = (content_type or "").split(";", 1)[0].strip()
    if media not in ("", "text/plain", *_JSON_TYPES):
        raise ApiError(415, "Unsupported Content-Type")
    try:  # oslo jsonutils.loads: strict UTF-8 (no BOM, no UTF-16), then json.loads
        decoded: object = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # a UnicodeDecodeError is a ValueError
        raise ApiError(400, _MALFORMED) from None
    if not isinstance(decoded, dict | list | str):  # len() raises TypeError: no method
        raise ApiError(404, "The resource could not be found.")
    if len(decoded) != 1:
        raise ApiError(400, _MALFORMED)
    if not isinstance(decoded, dict):  # .keys() raises AttributeError: no method
        raise ApiError(404, "The resource could not be found.")
    name = next(iter(decoded))
    for action in ACTIONS:
        if name == action:
            return action, decoded
    raise ApiError(400, f"There is no such action: {name}")


async def _action_body(request: Request) -> tuple[Action, object]:
    return _peek(request.headers.get("content-type"), await request.body())


ActionBody = Annotated[tuple[Action, object], Depends(_action_body)]


@router.post("/flavors/{flavor_id}/action",
             summary="Add or remove a project's access to a flavor (admin)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"oneOf": list(TENANT_ACCESS.values())}}}}})
def flavor_action(flavor_id: str, request: Request, who: Caller, mv: Version,
                  sent: ActionBody) -> schemas.FlavorAccessList:
    action, body = sent
    tenant = validate_tenant_access_body(action, body)
    if not who.is_admin:
        raise nova_forbidden(_ACTION_POLICY[action])
    with app_state(request).db.write() as session:
        if action == "addTenantAccess" and session.get(Project, tenant) is None:
            raise ApiError(400, f"Project ID {tenant} is not a valid project.")
        # locked: a flavor deleted meanwhile must not turn the new row's foreign key failure
        # into a FlavorAccessExists
        flavor = visible_flavor(session, flavor_id, who, lock=True)
        if action == "addTenantAccess":
            if mv.at_least("2.7") and flavor.is_public:
                raise ApiError(409, "Can not add access to a public flavor.")
            flavor_access.add_access(session, flavor, tenant)
        else:
            flavor_access.remove_access(session, flavor, tenant)
        return _access_list(session, flavor)
