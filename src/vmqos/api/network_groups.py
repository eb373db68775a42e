"""Neutron security groups and API extensions (``/network/v2.0``).

* Security groups: each project has a ``default`` group, made on first use (Neutron does the
  same); a new group carries Neutron's two egress rules. A new group counts against the
  ``security_group`` quota, and its two rules against ``security_group_rule``, as
  ``neutron/db/securitygroups_db.py`` ``create_security_group`` checks them; no other group
  may be named ``default`` in any case (``_validate_name_not_default``).
  ``server create --security-group`` looks a group up here by name (OSC server.py
  CreateServer: find_security_group) and sends its id. Rules are
  :mod:`vmqos.api.network_group_rules`.
* ``GET /v2.0/extensions`` must answer 200 for ``port create`` (OSC network/v2/port.py CreatePort:
find_extension); it lists the QoS
  aliases of neutron ``QoSPlugin.supported_extension_aliases``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from vmqos.api import network_schemas as schemas
from vmqos.api.context import app_state, caller, neutron_forbidden, require_member
from vmqos.api.errors import ApiError
from vmqos.api.network_core import filters_of, owned
from vmqos.api.network_quotas import enforce
from vmqos.api.network_views import security_group_view
from vmqos.api.neutron_attrs import SECURITY_GROUP, parse_body
from vmqos.errors import ConflictError
from vmqos.store import network
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Port, SecurityGroup
from vmqos.store.security_group_rules import rules_by_group

__all__ = ["EXTENSIONS", "router"]

router = APIRouter(prefix="/network/v2.0", tags=["network"])
Caller = Annotated[TokenInfo, Depends(caller)]

EXTENSIONS = ("binding", "external-net", "network-mtu", "port-security", "project-id",
              "provider", "quotas", "quota_details", "security-group",
              "standard-attr-description",
              "standard-attr-revisions", "standard-attr-timestamp",
              "qos", "qos-bw-limit-direction", "qos-default", "qos-rule-type-details",
              "qos-rule-type-filter", "port-resource-request", "port-resource-request-groups",
              "qos-bw-minimum-ingress", "qos-rules-alias", "qos-port-network-policy",
              "qos-pps", "qos-pps-minimum", "qos-pps-minimum-rule-alias")


class SecurityGroupBody(BaseModel):
    security_group: dict[str, Any]


# --- security groups --------------------------------------------------------------------------


def _views(session: Session, groups: Sequence[SecurityGroup]) -> list[schemas.SecurityGroup]:
    rules = rules_by_group(session, [g.id for g in groups])
    return [security_group_view(g, rules[g.id]) for g in groups]


@router.get("/security-groups", summary="List security groups")
def list_security_groups(request: Request, who: Caller) -> schemas.SecurityGroupList:
    filters = filters_of(request, ("id", "name", "project_id"))
    with app_state(request).db.write() as session:
        return schemas.SecurityGroupList(security_groups=_views(
            session, network.list_security_groups(session, who, filters)))


@router.post("/security-groups", status_code=201, summary="Create a security group")
def create_security_group(body: SecurityGroupBody, request: Request,
                          who: Caller) -> schemas.SecurityGroupResponse:
    require_member(who, neutron_forbidden("create_security_group"))
    values = parse_body("security_group", body.security_group, SECURITY_GROUP, post=True,
                        who=who)
    project_id = values.get("project_id") or values.get("tenant_id") or who.project_id
    if values.get("name", "").lower() == "default":
        raise ConflictError("Default security group already exists.",
                            kind="SecurityGroupDefaultAlreadyExists", key="name",
                            value=values["name"])
    with app_state(request).db.write() as session:
        enforce(session, project_id, security_group=1)
        network.default_security_group(session, project_id)
        enforce(session, project_id, security_group_rule=2)  # the two egress rules
        row = network.create_security_group(session, project_id=project_id,
                                            name=values.get("name", ""),
                                            description=values.get("description", ""))
        return schemas.SecurityGroupResponse(security_group=_views(session, [row])[0])


@router.get("/security-groups/{sg_id}", summary="Show a security group")
def show_security_group(sg_id: str, request: Request,
                        who: Caller) -> schemas.SecurityGroupResponse:
    with app_state(request).db.read() as session:
        return schemas.SecurityGroupResponse(security_group=_views(
            session, [network.get_security_group(session, sg_id, who)])[0])


@router.delete("/security-groups/{sg_id}", status_code=204, summary="Delete a security group")
def delete_security_group(sg_id: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        row = network.get_security_group(session, sg_id, who)
        owned(row, who, "delete_security_group")
        if row.name == "default" and not who.is_admin:
            raise ConflictError("Insufficient rights for removing default security group.",
                                kind="SecurityGroupCannotRemoveDefault", key="name",
                                value="default")
        in_use = any(row.id in p.security_group_ids for p in session.scalars(
            sa.select(Port).where(Port.project_id == row.project_id)))
        if in_use:
            raise ConflictError(f"Security Group {row.id} in use.", kind="SecurityGroupInUse",
                                key="security_group_id", value=row.id)
        session.delete(row)
    return Response(status_code=204)


# --- extensions -------------------------------------------------------------------------------


def _extension(alias: str) -> schemas.Extension:
    return schemas.Extension(alias=alias, name=alias, description=f"The {alias} extension.",
                             links=[], updated="2024-01-01T00:00:00-00:00")


@router.get("/extensions", summary="List API extensions")
def list_extensions(who: Caller) -> schemas.ExtensionList:
    return schemas.ExtensionList(extensions=[_extension(a) for a in EXTENSIONS])


@router.get("/extensions/{alias}", summary="Show one API extension")
def show_extension(alias: str, who: Caller) -> schemas.ExtensionResponse:
    if alias not in EXTENSIONS:
        raise ApiError(404, f"Extension with alias {alias} does not exist",
                       kind="ExtensionNotFound")
    return schemas.ExtensionResponse(extension=_extension(alias))
