"""Neutron QoS rule bodies, parsed and validated exactly as the Neutron API does.

This mirrors ``neutron.api.v2.base.Controller.prepare_request_body`` for the five rule
sub-resources and the alias routes: the project twins first
(:func:`vmqos.intent.neutron.project.populate_project_id`), unknown attributes next
(``verify_attributes``), then read-only and required attributes with defaults
(``fill_post_defaults``; on PUT, read-only attributes), then each attribute's converter and
validator in the attribute map's order (``convert_values``). Messages are neutron-lib's,
verbatim. Values may be ``str`` or ``int`` because the API converts ``"10000"`` with Python's
``int()``.

Which map a body meets depends on its route (:class:`RuleRoute`). The sub-resource maps
(``neutron_lib/api/definitions/qos.py`` ``SUB_RESOURCE_ATTRIBUTE_MAP`` ``parameters`` and the
extensions that add to them) hold ``id`` and the rule's parameters only, so ``tenant_id`` or
``project_id`` is an unrecognized attribute there — both named, since the twin is added first.
The alias maps of ``qos_rules_alias.py`` (bandwidth limit, DSCP marking, minimum bandwidth) hold
a read-only ``tenant_id``: there a twin is ``Cannot update read-only attribute tenant_id``;
``qos_pps_minimum_rule_alias.py`` builds its map from ``qos._QOS_RULE_COMMON_FIELDS`` (``id``
only), like the sub-resources.

The ranges and choices come from :mod:`vmqos.intent.neutron.capabilities` (one table for the API,
the
drivers and the docs). Direction: Neutron ``ingress`` is ``Direction.INBOUND`` (to the VM),
``egress`` is ``Direction.OUTBOUND``; ``any`` (minimum packet rate only) is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from vmqos.errors import ValidationError
from vmqos.intent.neutron import capabilities as caps
from vmqos.intent.neutron.convert import convert_to_int
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    MinimumPacketRateRule,
    PacketRateLimitRule,
    Rule,
    RuleType,
)
from vmqos.intent.neutron.project import PROJECT_FIELDS, Requester, populate_project_id
from vmqos.model import Direction
from vmqos.units import Kbit, KbitPerSec, Kpps

__all__ = [
    "API_ATTRIBUTES",
    "ApiAttribute",
    "RuleRoute",
    "RuleUpdate",
    "parse_rule",
    "parse_rule_spec",
    "parse_rule_update",
    "rule_to_dict",
    "update_rule",
]


@dataclass(frozen=True, slots=True)
class ApiAttribute:
    """One writable attribute of a rule sub-resource (neutron-lib API definition)."""

    param: caps.Parameter
    default: int | str | None = None      # None: required on POST
    convert_to_int: bool = True

    @property
    def name(self) -> str:
        return self.param.name


_EGRESS = "egress"
# Attribute maps in neutron-lib's order (qos.py, qos_bw_limit_direction.py, qos_pps_rule.py,
# qos_bw_minimum_ingress.py, qos_pps_minimum_rule.py). ``id`` precedes them and is read-only.
API_ATTRIBUTES: Mapping[RuleType, tuple[ApiAttribute, ...]] = MappingProxyType({
    RuleType.BANDWIDTH_LIMIT: (
        ApiAttribute(caps.MAX_KBPS),
        ApiAttribute(caps.MAX_BURST_KBPS, default=0),
        ApiAttribute(caps.DIRECTION, default=_EGRESS, convert_to_int=False),
    ),
    RuleType.DSCP_MARKING: (ApiAttribute(caps.DSCP_MARK),),
    RuleType.MINIMUM_BANDWIDTH: (
        ApiAttribute(caps.MIN_KBPS),
        # the base definition allows egress only; qos-bw-minimum-ingress (always loaded) adds
        # ingress.
        ApiAttribute(caps.DIRECTION, default=_EGRESS, convert_to_int=False),
    ),
    RuleType.PACKET_RATE_LIMIT: (
        ApiAttribute(caps.MAX_KPPS),
        ApiAttribute(caps.MAX_BURST_KPPS, default=0),
        # VALID_DIRECTIONS: unlike minimum_packet_rate, "any" is refused here.
        ApiAttribute(caps.DIRECTION, default=_EGRESS, convert_to_int=False),
    ),
    RuleType.MINIMUM_PACKET_RATE: (
        ApiAttribute(caps.MIN_KPPS),
        ApiAttribute(caps.DIRECTION_OR_ANY, default=_EGRESS, convert_to_int=False),
    ),
})


class RuleRoute(Enum):
    """The URL a rule body came by, which decides the attribute map it is checked against."""

    POLICY = "policy"    # /qos/policies/{policy_id}/<type>_rules[/{rule_id}]
    ALIAS = "alias"      # /qos/alias_<type>_rules/{rule_id} (PUT only)


# qos_rules_alias.py _QOS_RULE_COMMON_FIELDS: id and a read-only tenant_id.
_ALIAS_WITH_TENANT = frozenset((RuleType.BANDWIDTH_LIMIT, RuleType.DSCP_MARKING,
                                RuleType.MINIMUM_BANDWIDTH))


# qos_rules_alias.py writes its bandwidth limit map as max_kbps, direction, max_burst_kbps; the
# sub-resource gets direction last, from the qos-bw-limit-direction extension.
_ALIAS_ORDER: Mapping[RuleType, tuple[str, ...]] = MappingProxyType({
    RuleType.BANDWIDTH_LIMIT: ("max_kbps", "direction", "max_burst_kbps"),
})


def _map_order(kind: RuleType, route: RuleRoute) -> tuple[ApiAttribute, ...]:
    """The rule's attributes in the order ``convert_values`` meets them on ``route``."""
    attrs = API_ATTRIBUTES[kind]
    order = _ALIAS_ORDER.get(kind) if route is RuleRoute.ALIAS else None
    if order is None:
        return attrs
    by_name = {a.name: a for a in attrs}
    return tuple(by_name[name] for name in order)


def _read_only(kind: RuleType, route: RuleRoute) -> tuple[str, ...]:
    """The map's attributes a body may not set, in map order (``id`` leads every map)."""
    if route is RuleRoute.ALIAS and kind in _ALIAS_WITH_TENANT:
        return ("id", *PROJECT_FIELDS)
    return ("id",)


_VALID_TYPES = ", ".join(t.value for t in RuleType)


def _rule_type(rule_type: str) -> RuleType:
    try:
        return RuleType(rule_type)
    except ValueError:
        raise ValidationError(
            f"Invalid QoS rule type '{rule_type}'; valid rule types: {_VALID_TYPES}",
            key="type", value=rule_type, allowed=_VALID_TYPES) from None




def _check_known(kind: RuleType, body: Mapping[str, object],
                 route: RuleRoute = RuleRoute.POLICY) -> None:
    """``verify_attributes``; Neutron joins a set (arbitrary order), sorted here."""
    known = {*_read_only(kind, route), *(a.name for a in API_ATTRIBUTES[kind])}
    extra = sorted(set(body) - known)
    if extra:
        names = ", ".join(extra)
        allowed = ", ".join(a.name for a in API_ATTRIBUTES[kind])
        raise ValidationError(f"Unrecognized attribute(s) '{names}'",
                              key=names, value=body[extra[0]], allowed=allowed)


def _convert(kind: RuleType, values: Mapping[str, object],
             route: RuleRoute = RuleRoute.POLICY) -> dict[str, object]:
    """``convert_values``: convert then validate each given attribute, in map order."""
    out: dict[str, object] = {}
    for attr in _map_order(kind, route):
        if attr.name not in values:
            continue
        value = values[attr.name]
        if attr.convert_to_int:
            value = convert_to_int(attr.name, value)
        reason = attr.param.reason(value)
        if reason is not None:
            raise ValidationError(f"Invalid input for {attr.name}. Reason: {reason}.",
                                  key=attr.name, value=value, allowed=attr.param.allowed)
        out[attr.name] = value
    return out


def _direction(value: object) -> Direction | None:
    return None if value == "any" else Direction.from_neutron(str(value))


def _build(kind: RuleType, v: Mapping[str, object], rule_id: str) -> Rule:
    # Values are validated ints/strings at this point; the casts only name their units.
    def num(name: str) -> int:
        value = v[name]
        assert isinstance(value, int)
        return value

    if kind is RuleType.BANDWIDTH_LIMIT:
        direction = _direction(v["direction"])
        assert direction is not None
        return BandwidthLimitRule(max_kbps=KbitPerSec(num("max_kbps")),
                                  max_burst_kbps=Kbit(num("max_burst_kbps")),
                                  direction=direction, id=rule_id)
    if kind is RuleType.DSCP_MARKING:
        return DscpMarkingRule(dscp_mark=num("dscp_mark"), id=rule_id)
    if kind is RuleType.MINIMUM_BANDWIDTH:
        direction = _direction(v["direction"])
        assert direction is not None
        return MinimumBandwidthRule(min_kbps=KbitPerSec(num("min_kbps")), direction=direction,
                                    id=rule_id)
    if kind is RuleType.PACKET_RATE_LIMIT:
        direction = _direction(v["direction"])
        assert direction is not None
        return PacketRateLimitRule(max_kpps=Kpps(num("max_kpps")),
                                   max_burst_kpps=Kpps(num("max_burst_kpps")),
                                   direction=direction, id=rule_id)
    return MinimumPacketRateRule(min_kpps=Kpps(num("min_kpps")),
                                 direction=_direction(v["direction"]), id=rule_id)


def parse_rule(rule_type: str, body: Mapping[str, object], *, rule_id: str = "",
               requester: Requester | None = None) -> Rule:
    """Validate a POST body (``{"max_kbps": "10000"}``) of ``rule_type`` into a rule value.

    ``requester``: the caller, for ``_validate_privileges`` (``None``: answered as an admin)."""
    kind = _rule_type(rule_type)
    body = populate_project_id(body, requester)
    _check_known(kind, body)
    # fill_post_defaults walks the map in order, and ``id`` (allow_post False) comes first.
    if "id" in body:
        raise ValidationError("Attribute 'id' not allowed in POST", key="id",
                              value=body["id"], allowed="no id: Neutron generates it")
    filled: dict[str, object] = {}
    for attr in API_ATTRIBUTES[kind]:
        if attr.name in body:
            filled[attr.name] = body[attr.name]
        elif attr.default is None:
            raise ValidationError(
                f"Failed to parse request. Required attribute '{attr.name}' not specified",
                key=attr.name, value=None, allowed=attr.param.allowed)
        else:
            filled[attr.name] = attr.default
    return _build(kind, _convert(kind, filled), rule_id)


@dataclass(frozen=True, slots=True)
class RuleUpdate:
    """A validated PUT body of one rule type: the attributes it sets, converted."""

    type: RuleType
    values: Mapping[str, object]

    @property
    def given(self) -> frozenset[str]:
        return frozenset(self.values)


def parse_rule_update(rule_type: RuleType | str, body: Mapping[str, object], *,
                      route: RuleRoute = RuleRoute.POLICY,
                      requester: Requester | None = None) -> RuleUpdate:
    """Validate a PUT body as ``prepare_request_body`` does, before Neutron looks the rule up
    (see :class:`RuleRoute` for the maps; ``requester`` as for :func:`parse_rule`)."""
    kind = rule_type if isinstance(rule_type, RuleType) else _rule_type(rule_type)
    body = populate_project_id(body, requester)
    _check_known(kind, body, route)
    for name in _read_only(kind, route):
        if name in body:
            raise ValidationError(f"Cannot update read-only attribute {name}", key=name,
                                  value=body[name], allowed=", ".join(
                                      a.name for a in API_ATTRIBUTES[kind]))
    return RuleUpdate(kind, MappingProxyType(_convert(kind, body, route)))


def update_rule(rule: Rule, update: RuleUpdate) -> Rule:
    """Apply a validated PUT body: only the given attributes change."""
    if update.type is not rule.type:
        raise ValueError(f"a {update.type.value} update cannot apply to a {rule.type.value} rule")
    current = {a.name: caps.rule_param_value(rule, a.name) for a in API_ATTRIBUTES[rule.type]}
    current.update(update.values)
    return _build(rule.type, current, rule.id)


def rule_to_dict(rule: Rule, *, with_type: bool = False,
                 qos_policy_id: str | None = None) -> dict[str, object]:
    """Neutron's response shape: ``{"id", <fields>}`` (+ ``qos_policy_id``, + ``type`` as in a
    policy's ``rules`` list)."""
    out: dict[str, object] = {"id": rule.id}
    if qos_policy_id is not None:
        out["qos_policy_id"] = qos_policy_id
    for attr in API_ATTRIBUTES[rule.type]:
        out[attr.name] = caps.rule_param_value(rule, attr.name)
    if with_type:
        out["type"] = rule.type.value
    return out


# --- the CLI form TYPE:KEY=VALUE,... ----------------------------------------------------------

_SPEC_FORM = "TYPE:KEY=VALUE[,KEY=VALUE...] (e.g. bandwidth_limit:max_kbps=3000,direction=egress)"
# `openstack network qos rule create` spells the burst option --max-burst-kbits.
_KEY_ALIASES = {"max_burst_kbits": "max_burst_kbps"}
# Bare ingress/egress/any mirror the CLI's --ingress/--egress/--any flags.
_BARE_DIRECTIONS = frozenset(("ingress", "egress", "any"))


def _spec_error(text: str, why: str) -> ValidationError:
    return ValidationError(f"Invalid QoS rule '{text}': {why}; expected {_SPEC_FORM}",
                           key="rule", value=text, allowed=_SPEC_FORM)


def parse_rule_spec(text: str, *, rule_id: str = "") -> Rule:
    """``bandwidth-limit:max-kbps=3000,max-burst-kbits=300`` -> a validated rule."""
    head, sep, tail = text.partition(":")
    rule_type = head.strip().replace("-", "_")
    if not sep or not rule_type:
        raise _spec_error(text, "missing 'TYPE:'")
    body: dict[str, object] = {}
    items = tail.split(",") if tail.strip() else []
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        key = _KEY_ALIASES.get(key, key)
        if not eq and key in _BARE_DIRECTIONS:
            key, value = "direction", key
        elif not eq or not key:
            raise _spec_error(text, f"'{item.strip()}' is not KEY=VALUE")
        if key in body:
            raise _spec_error(text, f"'{key}' is given twice")
        body[key] = value.strip()
    return parse_rule(rule_type, body, rule_id=rule_id)
