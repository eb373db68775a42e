"""Neutron QoS: policies, the five rule types, alias rule routes, rule types (``.../qos``).

Every body goes through the core unchanged: policies through
:func:`vmqos.intent.neutron.policy.parse_policy`/``parse_policy_update``, rules through
:func:`vmqos.intent.neutron.rules.parse_rule`/``parse_rule_update`` and the conflict checks of
:mod:`vmqos.intent.neutron.policy` (400/404/409 with Neutron's messages and exception types,
neutron_lib/api/validators, neutron qos_plugin.py), rule types through
:mod:`vmqos.intent.neutron.capabilities`. A body is validated before the object it names is
looked up and before the caller's right to change it is checked, as Neutron's pecan hooks run
(``BodyValidationHook`` before ``PolicyHook``): a member naming another project gets neutron-lib's
400, one naming its own gets the policy's 403. What this
module adds is what needs the ports: a rule the backend cannot enforce on a port that uses the
policy is ``QosRuleNotSupported`` (409), and a minimum-bandwidth or minimum-packet-rate change
on a policy used by a ``compute:`` port is 501 (Placement;
QoSPlugin.reject_rule_update_for_bound_port).

Legacy default policy: only admins create, update and delete policies and rules; a policy is
visible to its project, to everyone when ``shared``, and to admins. Both spellings of the
alias and rule-type collections resolve, as Neutron's pecan router does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.orm import Session

from vmqos.api import network_schemas as schemas
from vmqos.api.context import app_state, caller, neutron_forbidden
from vmqos.api.errors import ApiError
from vmqos.api.network_views import policy_view, rule_view
from vmqos.api.neutron_attrs import requester
from vmqos.errors import NotFoundError, ValidationError
from vmqos.intent.neutron.capabilities import check_rule_supported, rule_type_details, rule_types
from vmqos.intent.neutron.model import Rule, RuleType
from vmqos.intent.neutron.policy import (
    QosRuleNotFound,
    find_rule,
    parse_policy,
    parse_policy_update,
)
from vmqos.intent.neutron.rules import RuleRoute, RuleUpdate, parse_rule, parse_rule_update
from vmqos.model import NeutronBackend
from vmqos.store import qos
from vmqos.store.identity import TokenInfo
from vmqos.store.models import QosPolicy

__all__ = ["router"]

router = APIRouter(prefix="/network/v2.0/qos", tags=["network-qos"])
Caller = Annotated[TokenInfo, Depends(caller)]
JsonBody = Annotated[dict[str, Any], Body()]

_PLACEMENT = (RuleType.MINIMUM_BANDWIDTH, RuleType.MINIMUM_PACKET_RATE)


class RuleCollection(StrEnum):
    BANDWIDTH_LIMIT = "bandwidth_limit_rules"
    DSCP_MARKING = "dscp_marking_rules"
    MINIMUM_BANDWIDTH = "minimum_bandwidth_rules"
    PACKET_RATE_LIMIT = "packet_rate_limit_rules"
    MINIMUM_PACKET_RATE = "minimum_packet_rate_rules"

    @property
    def rule_type(self) -> RuleType:
        return RuleType(self.value.removesuffix("_rules"))


class AliasCollection(StrEnum):
    """``qos-rules-alias`` and ``qos-pps-minimum-rule-alias``, both spellings."""

    BANDWIDTH_LIMIT = "alias_bandwidth_limit_rules"
    DSCP_MARKING = "alias_dscp_marking_rules"
    MINIMUM_BANDWIDTH = "alias_minimum_bandwidth_rules"
    MINIMUM_PACKET_RATE = "alias_minimum_packet_rate_rules"
    BANDWIDTH_LIMIT_DASH = "alias-bandwidth-limit-rules"
    DSCP_MARKING_DASH = "alias-dscp-marking-rules"
    MINIMUM_BANDWIDTH_DASH = "alias-minimum-bandwidth-rules"
    MINIMUM_PACKET_RATE_DASH = "alias-minimum-packet-rate-rules"

    @property
    def rule_type(self) -> RuleType:
        return RuleType(self.value.replace("-", "_").removeprefix("alias_")
                        .removesuffix("_rules"))


def _member(body: dict[str, Any], key: str) -> dict[str, Any]:
    """``prepare_request_body``'s first checks of ``{"<resource>": {...}}``."""
    inner = body.get(key)
    if inner is None:
        raise ValidationError(f"Unable to find '{key}' in request body", key=key, value=None)
    if not isinstance(inner, dict):
        raise ValidationError(f"Object '{key}' contains invalid data", key=key, value=inner)
    return inner


def _admin(who: TokenInfo, action: str) -> None:
    if not who.is_admin:
        raise neutron_forbidden(action)


def _view(session: Session, row: QosPolicy) -> schemas.Policy:
    return policy_view(row, qos.policy_value(session, row))


def _check_ports(session: Session, row: QosPolicy, rule: Rule, backend: NeutronBackend) -> None:
    ports = qos.ports_using_policy(session, row.id, backend)
    if rule.type in _PLACEMENT and any(p.device_owner.startswith("compute:") for p in ports):
        raise ApiError(501, "Cannot update QoS policies/rules backed by resources tracked in "
                            "Placement")
    for port in ports:
        check_rule_supported(backend, rule, port_id=port.id)


# --- policies ---------------------------------------------------------------------------------


@router.get("/policies", summary="List QoS policies")
def list_policies(request: Request, who: Caller, name: str | None = None,
                  shared: bool | None = None, is_default: bool | None = None,
                  project_id: str | None = None) -> schemas.PolicyList:
    filters = {"name": name, "shared": shared, "is_default": is_default,
               "project_id": project_id or request.query_params.get("tenant_id")}
    with app_state(request).db.read() as session:
        return schemas.PolicyList(policies=[_view(session, p)
                                            for p in qos.list_policies(session, who, filters)])


@router.post("/policies", status_code=201, summary="Create a QoS policy (admin)")
def create_policy(body: JsonBody, request: Request, who: Caller) -> schemas.PolicyResponse:
    value = parse_policy(_member(body, "policy"), requester=requester(who))
    _admin(who, "create_policy")
    with app_state(request).db.write() as session:
        row = qos.create_policy(session, value)
        return schemas.PolicyResponse(policy=_view(session, row))


@router.get("/policies/{policy_id}", summary="Show a QoS policy")
def show_policy(policy_id: str, request: Request, who: Caller) -> schemas.PolicyResponse:
    with app_state(request).db.read() as session:
        return schemas.PolicyResponse(policy=_view(session, qos.get_policy(session, policy_id,
                                                                           who)))


@router.put("/policies/{policy_id}", summary="Update a QoS policy (admin)")
def update_policy(policy_id: str, body: JsonBody, request: Request,
                  who: Caller) -> schemas.PolicyResponse:
    update = parse_policy_update(_member(body, "policy"), requester=requester(who))
    with app_state(request).db.write() as session:
        row = qos.get_policy(session, policy_id, who, lock=True)
        _admin(who, "update_policy")
        qos.update_policy(session, row, update)
        return schemas.PolicyResponse(policy=_view(session, row))


@router.delete("/policies/{policy_id}", status_code=204, summary="Delete a QoS policy (admin)")
def delete_policy(policy_id: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        row = qos.get_policy(session, policy_id, who, lock=True)
        _admin(who, "delete_policy")
        qos.delete_policy(session, row)
    return Response(status_code=204)


# --- rules of a policy ------------------------------------------------------------------------


@router.get("/policies/{policy_id}/{collection}", summary="List a policy's rules of one type",
            response_model_exclude_unset=True)
def list_rules(policy_id: str, collection: RuleCollection, request: Request,
               who: Caller) -> dict[str, list[schemas.QosRule]]:
    with app_state(request).db.read() as session:
        value = qos.policy_value(session, qos.get_policy(session, policy_id, who))
        return {collection.value: [rule_view(r) for r in value.rules
                                   if r.type is collection.rule_type]}


@router.post("/policies/{policy_id}/{collection}", status_code=201,
             summary="Create a rule (admin)", response_model_exclude_unset=True)
def create_rule(policy_id: str, collection: RuleCollection, body: JsonBody, request: Request,
                who: Caller) -> dict[str, schemas.QosRule]:
    member = collection.value.removesuffix("s")
    parsed = parse_rule(collection.rule_type.value, _member(body, member),
                        requester=requester(who))
    state = app_state(request)
    with state.db.write() as session:
        row = qos.get_policy(session, policy_id, who, lock=True)
        _admin(who, f"create_policy_{member}")
        rule = qos.add_policy_rule(session, row, parsed)
        _check_ports(session, row, rule, state.settings.neutron_backend)
        return {member: rule_view(rule)}


@router.get("/policies/{policy_id}/{collection}/{rule_id}", summary="Show a rule",
            response_model_exclude_unset=True)
def show_rule(policy_id: str, collection: RuleCollection, rule_id: str, request: Request,
              who: Caller) -> dict[str, schemas.QosRule]:
    with app_state(request).db.read() as session:
        row = qos.get_policy(session, policy_id, who)
        rule = _rule_of(session, row, rule_id, collection.rule_type)
        return {collection.value.removesuffix("s"): rule_view(rule)}


def _rule_of(session: Session, row: QosPolicy, rule_id: str, rule_type: RuleType) -> Rule:
    return find_rule(qos.policy_value(session, row), rule_id, rule_type)


def _update(session: Session, row: QosPolicy, rule_id: str, update: RuleUpdate,
            who: TokenInfo, backend: NeutronBackend) -> Rule:
    _admin(who, f"update_policy_{update.type.value}_rule")
    rule = qos.update_policy_rule(session, row, rule_id, update)
    _check_ports(session, row, rule, backend)
    return rule


def _delete(session: Session, row: QosPolicy, rule_id: str, rule_type: RuleType,
            who: TokenInfo, backend: NeutronBackend) -> None:
    _admin(who, f"delete_policy_{rule_type.value}_rule")
    rule = _rule_of(session, row, rule_id, rule_type)
    if rule.type in _PLACEMENT:
        _check_ports(session, row, rule, backend)
    qos.delete_policy_rule(session, row, rule_id, rule_type)


@router.put("/policies/{policy_id}/{collection}/{rule_id}", summary="Update a rule (admin)",
            response_model_exclude_unset=True)
def update_rule(policy_id: str, collection: RuleCollection, rule_id: str, body: JsonBody,
                request: Request, who: Caller) -> dict[str, schemas.QosRule]:
    member = collection.value.removesuffix("s")
    update = parse_rule_update(collection.rule_type, _member(body, member),
                               requester=requester(who))
    state = app_state(request)
    with state.db.write() as session:
        row = qos.get_policy(session, policy_id, who, lock=True)
        rule = _update(session, row, rule_id, update, who, state.settings.neutron_backend)
        return {member: rule_view(rule)}


@router.delete("/policies/{policy_id}/{collection}/{rule_id}", status_code=204,
               summary="Delete a rule (admin)")
def delete_rule(policy_id: str, collection: RuleCollection, rule_id: str, request: Request,
                who: Caller) -> Response:
    state = app_state(request)
    with state.db.write() as session:
        row = qos.get_policy(session, policy_id, who, lock=True)
        _delete(session, row, rule_id, collection.rule_type, who,
                state.settings.neutron_backend)
    return Response(status_code=204)


# --- rule types -------------------------------------------------------------------------------


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "t", "true", "on", "y", "yes")


@router.get("/rule-types", summary="QoS rule types the loaded drivers support")
@router.get("/rule_types", include_in_schema=False)
def list_rule_types(request: Request, who: Caller, all_supported: str | None = None,
                    all_rules: str | None = None) -> schemas.RuleTypeList:
    backend = app_state(request).settings.neutron_backend
    names = rule_types([backend], all_supported=_flag(all_supported),
                       all_rules=_flag(all_rules))
    return schemas.RuleTypeList(rule_types=[schemas.RuleTypeName(type=n) for n in names])


@router.get("/rule-types/{rule_type}", summary="A rule type's drivers and parameters (admin)")
@router.get("/rule_types/{rule_type}", include_in_schema=False)
def show_rule_type(rule_type: str, request: Request, who: Caller) -> schemas.RuleTypeResponse:
    _admin(who, "get_rule_type")
    backend = app_state(request).settings.neutron_backend
    try:
        details = rule_type_details(rule_type, [backend])
    except ValidationError:
        raise ApiError(404, f"Rule type {rule_type} could not be found.",
                       kind="QosRuleTypeNotFound") from None
    return schemas.RuleTypeResponse(
        rule_type=schemas.RuleTypeDetails.model_validate(details))


# --- alias routes: a rule by id alone ---------------------------------------------------------


def _alias_policy(session: Session, rule_id: str, rule_type: RuleType, who: TokenInfo, *,
                  lock: bool = False) -> QosPolicy:
    stored = qos.find_rule(session, rule_id, rule_type)
    try:
        return qos.get_policy(session, stored.policy_id, who, lock=lock)
    except NotFoundError:  # a rule in a policy the caller cannot see does not exist for it
        raise QosRuleNotFound(f"QoS rule {rule_id} could not be found.", key="rule_id",
                              value=rule_id) from None


@router.get("/{alias}/{rule_id}", summary="Show a rule by id (alias)",
            response_model_exclude_unset=True)
def show_alias_rule(alias: AliasCollection, rule_id: str, request: Request,
                    who: Caller) -> dict[str, schemas.QosRule]:
    with app_state(request).db.read() as session:
        row = _alias_policy(session, rule_id, alias.rule_type, who)
        rule = _rule_of(session, row, rule_id, alias.rule_type)
        return {f"alias_{alias.rule_type.value}_rule": rule_view(rule)}


@router.put("/{alias}/{rule_id}", summary="Update a rule by id (alias, admin)",
            response_model_exclude_unset=True)
def update_alias_rule(alias: AliasCollection, rule_id: str, body: JsonBody, request: Request,
                      who: Caller) -> dict[str, schemas.QosRule]:
    member = f"alias_{alias.rule_type.value}_rule"
    update = parse_rule_update(alias.rule_type, _member(body, member), route=RuleRoute.ALIAS,
                               requester=requester(who))
    state = app_state(request)
    with state.db.write() as session:
        row = _alias_policy(session, rule_id, alias.rule_type, who, lock=True)
        rule = _update(session, row, rule_id, update, who, state.settings.neutron_backend)
        return {member: rule_view(rule)}


@router.delete("/{alias}/{rule_id}", status_code=204,
               summary="Delete a rule by id (alias, admin)")
def delete_alias_rule(alias: AliasCollection, rule_id: str, request: Request,
                      who: Caller) -> Response:
    state = app_state(request)
    with state.db.write() as session:
        row = _alias_policy(session, rule_id, alias.rule_type, who, lock=True)
        _delete(session, row, rule_id, alias.rule_type, who, state.settings.neutron_backend)
    return Response(status_code=204)
