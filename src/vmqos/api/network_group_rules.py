"""Neutron security group rules (``/network/v2.0/security-group-rules``).

A create goes the way Neutron's does (``neutron/api/v2/base.py`` ``_create``, then
``neutron/db/securitygroups_db.py`` ``_create_security_group_rule``): the body's attributes
are converted (400, :data:`vmqos.api.neutron_attrs.SECURITY_GROUP_RULE`); the group must exist
(404 ``SecurityGroupNotFound``, which the policy's owner check raises) and be the caller's
with ``member``, or the caller an admin (403 ``create_security_group_rule``); the rule quota
(409 ``OverQuota``); the plugin's checks of the whole rule
(:func:`vmqos.intent.neutron.security_group_rules.check_rule`, 400); a remote group the
caller can see (404); no equal rule in the group (409 ``SecurityGroupRuleExists``). The rule
belongs to the body's project, else the caller's, and bumps its group's revision.

Reading and deleting follow ``get_security_group_rule`` / ``delete_security_group_rule``: an
admin, or the owner of the rule or of its group; anyone else is told it does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from vmqos.api import network_schemas as schemas
from vmqos.api.context import app_state, caller, neutron_forbidden
from vmqos.api.network_quotas import enforce
from vmqos.api.network_views import security_group_rule_view
from vmqos.api.neutron_attrs import SECURITY_GROUP_RULE, parse_body
from vmqos.errors import NotFoundError
from vmqos.intent.neutron.security_group_rules import RuleSpec, check_rule
from vmqos.store import network
from vmqos.store import security_group_rules as rules
from vmqos.store.identity import TokenInfo
from vmqos.store.models import SecurityGroup

__all__ = ["router"]

router = APIRouter(prefix="/network/v2.0", tags=["network"])
Caller = Annotated[TokenInfo, Depends(caller)]

_FILTERS = ("id", "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
            "port_range_max", "remote_ip_prefix", "remote_group_id", "project_id",
            "description")


class SecurityGroupRuleBody(BaseModel):
    security_group_rule: dict[str, Any]


def _group_not_found(sg_id: str) -> NotFoundError:
    return NotFoundError(f"Security group {sg_id} does not exist",
                         kind="SecurityGroupNotFound", key="security_group_id", value=sg_id)


@router.get("/security-group-rules", summary="List security group rules")
def list_security_group_rules(request: Request, who: Caller) -> schemas.SecurityGroupRuleList:
    filters = {("project_id" if k == "tenant_id" else k): v
               for k, v in request.query_params.items()
               if k in _FILTERS or k == "tenant_id"}
    with app_state(request).db.write() as session:
        # get_security_group_rules makes the caller's default group first, as a group
        # listing does.
        network.default_security_group(session, who.project_id)
        return schemas.SecurityGroupRuleList(security_group_rules=[
            security_group_rule_view(r) for r in rules.list_rules(session, who, filters)])


@router.post("/security-group-rules", status_code=201, summary="Create a security group rule")
def create_security_group_rule(body: SecurityGroupRuleBody, request: Request,
                               who: Caller) -> schemas.SecurityGroupRuleResponse:
    values = parse_body("security_group_rule", body.security_group_rule, SECURITY_GROUP_RULE,
                        post=True, who=who)
    project_id = values.get("project_id") or values.get("tenant_id") or who.project_id
    sg_id = values["security_group_id"]
    remote = values.get("remote_group_id")
    with app_state(request).db.write() as session:
        group = session.get(SecurityGroup, sg_id)
        if group is None:
            raise _group_not_found(sg_id)
        if not who.is_admin and (group.project_id != who.project_id
                                 or "member" not in who.roles):
            raise neutron_forbidden("create_security_group_rule")
        enforce(session, project_id, security_group_rule=1)
        spec = check_rule(RuleSpec(
            security_group_id=sg_id, direction=values["direction"],
            ethertype=values.get("ethertype", "IPv4"), protocol=values.get("protocol"),
            port_range_min=values.get("port_range_min"),
            port_range_max=values.get("port_range_max"),
            remote_ip_prefix=values.get("remote_ip_prefix"),
            remote_group_id=None if remote is None else str(remote)))
        if spec.remote_group_id:
            network.get_security_group(session, spec.remote_group_id, who)
        row = rules.add_rule(session, spec, project_id=project_id,
                             description=values.get("description") or "")
        network.touch(group)
        return schemas.SecurityGroupRuleResponse(security_group_rule=security_group_rule_view(row))


@router.get("/security-group-rules/{rule_id}", summary="Show a security group rule")
def show_security_group_rule(rule_id: str, request: Request,
                             who: Caller) -> schemas.SecurityGroupRuleResponse:
    with app_state(request).db.read() as session:
        return schemas.SecurityGroupRuleResponse(security_group_rule=security_group_rule_view(
            rules.get_rule(session, rule_id, who)))


@router.delete("/security-group-rules/{rule_id}", status_code=204,
               summary="Delete a security group rule")
def delete_security_group_rule(rule_id: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        row = rules.get_rule(session, rule_id, who)
        if not who.is_admin and "member" not in who.roles:
            raise neutron_forbidden("delete_security_group_rule")
        group = session.get(SecurityGroup, row.security_group_id)
        rules.delete_rule(session, row)
        if group is not None:
            network.touch(group)
    return Response(status_code=204)
