"""QoS policies: their attributes and the rules that hold between the rules of one policy.

Mirrors the Neutron server (``qos_plugin.create_policy_rule``/``update_policy_rule`` and
``neutron/objects/qos/qos_policy_validator.py``), in its order:

1. ``check_bandwidth_rule_conflict`` — minimum vs maximum bandwidth (``QoSRuleParameterConflict``);
   direction-aware since the fix for bug 2100853 (first in 26.0.0), strict comparison, and an
   update body without ``direction`` is compared against every direction;
2. ``check_min_pps_rule_conflict`` — a direction-less (``any``) minimum packet rate rule cannot
   share a policy with a directional one;
3. ``check_rules_conflict`` — at most one rule per (type, direction), one DSCP rule per policy
   (``QoSRulesConflict``); a rule compared with itself (same id) is not a conflict.

Policies are frozen values: :func:`add_rule` and :func:`replace_rule` return new ones. Policy
bodies are validated like the API does (``neutron/api/v2/base.py`` ``prepare_request_body``):
the project twins first (:mod:`vmqos.intent.neutron.project`), then unknown attributes, then
the attributes a POST or PUT may not carry, in the order of the policies attribute map, then
each converter and validator in that order (``name``: ``type:name_string`` 255; ``tenant_id``:
``type:string`` 255; ``description``: ``type:string`` 255; ``shared``/``is_default``:
``convert_to_boolean``). Rule bodies are :mod:`vmqos.intent.neutron.rules`'.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from vmqos.errors import ConflictError, NotFoundError, ValidationError
from vmqos.intent.neutron.convert import convert_to_boolean, validate_string
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    MinimumPacketRateRule,
    QosPolicy,
    Rule,
    RuleType,
)
from vmqos.intent.neutron.project import Requester, populate_project_id
from vmqos.intent.neutron.rules import RuleUpdate, update_rule

__all__ = [
    "PolicyUpdate",
    "QosRuleNotFound",
    "add_rule",
    "check_default_unique",
    "check_new_rule",
    "find_rule",
    "parse_policy",
    "parse_policy_update",
    "remove_rule",
    "replace_rule",
    "update_policy",
    "update_policy_rule",
]

_NAME_FIELD_SIZE = 255           # neutron-lib db/constants.py NAME_FIELD_SIZE
_DESCRIPTION_FIELD_SIZE = 255    # DESCRIPTION_FIELD_SIZE
_PROJECT_ID_FIELD_SIZE = 255     # PROJECT_ID_FIELD_SIZE


class QosRuleNotFound(NotFoundError):
    """Neutron's ``QosRuleNotFound`` (404)."""

    def __init__(self, message: str, *, key: str | None = None, value: object = None) -> None:
        super().__init__(message, kind="QosRuleNotFound", key=key, value=value)


def _policy_ref(policy: QosPolicy) -> str:
    return policy.id or policy.name


def _rule_ref(rule: Rule) -> str:
    """The rule's id; rules not stored yet (no id) are named by type and direction."""
    if rule.id:
        return rule.id
    if isinstance(rule, DscpMarkingRule):
        return rule.type.value
    direction = "any" if rule.direction is None else rule.direction.neutron
    return f"{rule.type.value} ({direction})"


def _same_rule(a: Rule, b: Rule) -> bool:
    # Neutron compares ids; rules without an id (not yet stored) are never "the same rule".
    return bool(a.id) and a.id == b.id


def _duplicates(existing: Rule, new: Rule) -> bool:
    """``QosRule.duplicates``: same type and same ``duplicates_compare_fields`` (direction);
    dscp_marking compares no field, so any two DSCP rules duplicate."""
    if existing.type is not new.type:
        return False
    return getattr(existing, "direction", None) == getattr(new, "direction", None)


def _check_bandwidth(policy: QosPolicy, rule: Rule, given: Collection[str] | None) -> None:
    if not isinstance(rule, BandwidthLimitRule | MinimumBandwidthRule):
        return
    # On POST the body is complete after defaults; on PUT only the given keys count.
    direction_given = given is None or "direction" in given
    for existing in policy.rules:
        if direction_given and getattr(existing, "direction", None) is not rule.direction:
            continue
        if (isinstance(existing, MinimumBandwidthRule) and isinstance(rule, BandwidthLimitRule)
                and (given is None or "max_kbps" in given)
                and existing.min_kbps > rule.max_kbps):
            raise _parameter_conflict(policy, rule.max_kbps, existing, existing.min_kbps,
                                      key="max_kbps", allowed=f">= {existing.min_kbps}")
        if (isinstance(existing, BandwidthLimitRule) and isinstance(rule, MinimumBandwidthRule)
                and (given is None or "min_kbps" in given)
                and existing.max_kbps < rule.min_kbps):
            raise _parameter_conflict(policy, rule.min_kbps, existing, existing.max_kbps,
                                      key="min_kbps", allowed=f"<= {existing.max_kbps}")


def _parameter_conflict(policy: QosPolicy, value: object, existing: Rule,
                        existing_value: object, *, key: str, allowed: str) -> ConflictError:
    return ConflictError(
        f"Unable to add the rule with value {value} to the policy {_policy_ref(policy)} as "
        f"the existing rule of type {existing.type.value} has value {existing_value}.",
        kind="QoSRuleParameterConflict", key=key, value=value, allowed=allowed)


def _check_min_pps(policy: QosPolicy, rule: Rule) -> None:
    if not isinstance(rule, MinimumPacketRateRule):
        return
    for existing in policy.rules:
        if not isinstance(existing, MinimumPacketRateRule) or _same_rule(existing, rule):
            continue
        if (existing.direction is None) != (rule.direction is None):
            new = "any" if rule.direction is None else rule.direction.neutron
            old = "any" if existing.direction is None else existing.direction.neutron
            raise _parameter_conflict(
                policy, new, existing, old, key="direction",
                allowed="'any' or ingress/egress, not both, for minimum_packet_rate rules")


def _check_duplicates(policy: QosPolicy, rule: Rule) -> None:
    for existing in policy.rules:
        if _same_rule(existing, rule) or not _duplicates(existing, rule):
            continue
        allowed = ("one dscp_marking rule per policy" if rule.type is RuleType.DSCP_MARKING
                   else f"one {rule.type.value} rule per direction per policy")
        raise ConflictError(
            f"Rule {rule.type.value} conflicts with rule {_rule_ref(existing)} which already "
            f"exists in QoS Policy {_policy_ref(policy)}.",
            kind="QoSRulesConflict", key=rule.type.value, value=_rule_ref(rule),
            allowed=allowed)


def check_new_rule(policy: QosPolicy, rule: Rule, *, given: Collection[str] | None = None) -> None:
    """Raise Neutron's 409 if ``rule`` (new, or an updated version of a rule with the same id)
    cannot be in ``policy``.

    ``given``: the attribute names of a PUT body; ``None`` for a POST, whose body is complete
    after defaults. It matters only for min/max bandwidth: Neutron compares ``max_kbps`` /
    ``min_kbps`` only when the body carries them, and every direction when it lacks
    ``direction``.
    """
    _check_bandwidth(policy, rule, given)
    _check_min_pps(policy, rule)
    _check_duplicates(policy, rule)


def add_rule(policy: QosPolicy, rule: Rule) -> QosPolicy:
    """``POST .../policies/P/<type>_rules``: check, then a new policy with ``rule`` appended."""
    check_new_rule(policy, rule)
    return replace(policy, rules=(*policy.rules, rule))


def _find(policy: QosPolicy, rule_id: str, rule_type: RuleType | None) -> int:
    for index, rule in enumerate(policy.rules):
        if rule.id == rule_id and (rule_type is None or rule.type is rule_type):
            return index
    raise QosRuleNotFound(
        f"QoS rule {rule_id} for policy {_policy_ref(policy)} could not be found.",
        key="rule_id", value=rule_id)


def find_rule(policy: QosPolicy, rule_id: str, rule_type: RuleType | None) -> Rule:
    """The rule ``rule_id`` (of ``rule_type`` when given); Neutron's ``QosRuleNotFound``."""
    return policy.rules[_find(policy, rule_id, rule_type)]


def replace_rule(policy: QosPolicy, rule: Rule, *,
                 given: Collection[str] | None = None) -> QosPolicy:
    """``PUT``: swap the rule with ``rule.id`` for ``rule`` (checked first; see ``given``)."""
    index = _find(policy, rule.id, rule.type)
    check_new_rule(policy, rule, given=given)
    return replace(policy, rules=(*policy.rules[:index], rule, *policy.rules[index + 1:]))


def update_policy_rule(policy: QosPolicy, rule_id: str,
                       update: RuleUpdate) -> tuple[QosPolicy, Rule]:
    """A whole rule PUT (also the alias endpoints) of a body already validated
    (:func:`vmqos.intent.neutron.rules.parse_rule_update`): find, apply, check, replace."""
    rule = update_rule(policy.rules[_find(policy, rule_id, update.type)], update)
    return replace_rule(policy, rule, given=update.given), rule


def remove_rule(policy: QosPolicy, rule_id: str, *,
                rule_type: RuleType | None = None) -> QosPolicy:
    index = _find(policy, rule_id, rule_type)
    return replace(policy, rules=(*policy.rules[:index], *policy.rules[index + 1:]))


# --- policy attributes ------------------------------------------------------------------------

# The policies attribute map in Neutron's order: qos.py's own attributes, those the extensions
# add (standard attributes, qos-default), then the project_id twin populate_project_info(attr_info)
# appends. (name, allow_post, allow_put)
_ATTRIBUTES = (
    ("id", False, False), ("name", True, True), ("shared", True, True),
    ("tenant_id", True, False), ("rules", False, False), ("description", True, True),
    ("is_default", True, True), ("revision_number", False, False),
    ("created_at", False, False), ("updated_at", False, False), ("project_id", True, False),
)
_KNOWN = frozenset(name for name, _, _ in _ATTRIBUTES)


def _allowed(post: bool) -> str:
    return ", ".join(name for name, on_post, on_put in _ATTRIBUTES if (on_post if post else on_put))


def _prepared(body: Mapping[str, object], requester: Requester | None, *,
              post: bool) -> dict[str, object]:
    """The project twins, ``verify_attributes``, then ``fill_post_defaults``' refusals (POST) or
    the read-only check (PUT), walking the map in order; the body with both twins or neither."""
    values = populate_project_id(body, requester)
    extra = sorted(set(values) - _KNOWN)
    if extra:
        names = ", ".join(extra)
        raise ValidationError(f"Unrecognized attribute(s) '{names}'", key=names,
                              value=values[extra[0]], allowed=_allowed(post))
    for key, on_post, on_put in _ATTRIBUTES:
        if key in values and not (on_post if post else on_put):
            message = (f"Attribute '{key}' not allowed in POST" if post
                       else f"Cannot update read-only attribute {key}")
            raise ValidationError(message, key=key, value=values[key], allowed=_allowed(post))
    return values


def _converted(values: Mapping[str, object], policy: QosPolicy) -> QosPolicy:
    """``convert_values`` over the given attributes, in the attribute map's order (tenant_id
    before its twin, which holds the same value)."""
    name = policy.name
    if "name" in values:
        name = validate_string("name", values["name"], _NAME_FIELD_SIZE, name_string=True)
    shared = convert_to_boolean("shared", values["shared"]) if "shared" in values \
        else policy.shared
    project_id = policy.project_id
    if "tenant_id" in values:
        project_id = validate_string("tenant_id", values["tenant_id"], _PROJECT_ID_FIELD_SIZE)
    description = policy.description
    if "description" in values:
        description = validate_string("description", values["description"],
                                      _DESCRIPTION_FIELD_SIZE)
    is_default = policy.is_default
    if "is_default" in values:
        is_default = convert_to_boolean("is_default", values["is_default"])
    return replace(policy, name=name, shared=shared, project_id=project_id,
                   description=description, is_default=is_default)


def parse_policy(body: Mapping[str, object], *, policy_id: str = "",
                 requester: Requester | None = None) -> QosPolicy:
    """Validate a ``POST /v2.0/qos/policies`` body (defaults: ``''``, ``false``, ``false``).

    The project is the body's, else the requester's (``AttributeInfo.populate_project_id``);
    with neither it stays ``''`` for the caller to fill. An empty project given is refused as
    ``QoSPlugin.create_policy`` (neutron/services/qos/qos_plugin.py) refuses it, with its
    misnamed attribute.
    """
    values = _prepared(body, requester, post=True)
    if requester is not None and "project_id" not in values:
        values["tenant_id"] = values["project_id"] = requester.project_id
    policy = _converted(values, QosPolicy(name="", id=policy_id))
    if "project_id" in values and not policy.project_id:
        raise ValidationError('Bad QoS policy request: Must have "policy_id".',
                              key="project_id", value="", allowed="a project id")
    return policy


@dataclass(frozen=True, slots=True)
class PolicyUpdate:
    """A validated ``PUT`` body: the attributes it changes (``None``: not given)."""

    name: str | None = None
    shared: bool | None = None
    description: str | None = None
    is_default: bool | None = None


def parse_policy_update(body: Mapping[str, object], *,
                        requester: Requester | None = None) -> PolicyUpdate:
    """Validate a ``PUT`` body as Neutron does before it looks the policy up; the project
    cannot change (``allow_put: False``), and either twin is reported as ``tenant_id``."""
    values = _prepared(body, requester, post=False)
    # Every attribute left is writable: convert through the same validators as a POST.
    blank = QosPolicy(name="")
    done = _converted(values, blank)
    return PolicyUpdate(
        name=done.name if "name" in values else None,
        shared=done.shared if "shared" in values else None,
        description=done.description if "description" in values else None,
        is_default=done.is_default if "is_default" in values else None)


def update_policy(policy: QosPolicy, update: PolicyUpdate) -> QosPolicy:
    """The policy with the attributes ``update`` gives changed."""
    return replace(
        policy,
        name=policy.name if update.name is None else update.name,
        shared=policy.shared if update.shared is None else update.shared,
        description=policy.description if update.description is None else update.description,
        is_default=policy.is_default if update.is_default is None else update.is_default)


def check_default_unique(policies: Iterable[QosPolicy], candidate: QosPolicy) -> None:
    """``qos-default``: one default policy per project (``QoSPolicyDefaultAlreadyExists``)."""
    if not candidate.is_default:
        return
    for policy in policies:
        if (policy.is_default and policy.project_id == candidate.project_id
                and policy is not candidate
                and not (policy.id and policy.id == candidate.id)):
            raise ConflictError(
                f"A default QoS policy exists for project {candidate.project_id}.",
                kind="QoSPolicyDefaultAlreadyExists", key="is_default", value=True,
                allowed=f"is_default=false, or first unset it on {_policy_ref(policy)}")
