"""Neutron QoS policies and rules, stored; every rule check is the core's.

A stored policy becomes a :class:`vmqos.intent.neutron.model.QosPolicy` value (:func:`policy_value`)
and every change goes through :mod:`vmqos.intent.neutron.policy` (conflicts, uniqueness of the
default policy) and :mod:`vmqos.intent.neutron.rules` (parsing) before it is written. The
policy row is locked (``SELECT ... FOR UPDATE``; SQLite serialises writers anyway) while its
rules change, and the ``uq_qos_rules_policy_type_direction`` constraint backs Neutron's
"one rule per type and direction" even against a writer that skipped the check.

Which ports a policy reaches (:func:`ports_using_policy`) is :mod:`vmqos.intent.neutron.binding`'s
answer for each port: its own policy, or its network's when that applies to its owner.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError
from vmqos.intent.neutron import policy as policies
from vmqos.intent.neutron.binding import effective_policy_id
from vmqos.intent.neutron.model import QosPolicy as PolicyValue
from vmqos.intent.neutron.model import Rule, RuleType
from vmqos.intent.neutron.rules import RuleUpdate, parse_rule, rule_to_dict
from vmqos.model import NeutronBackend
from vmqos.store.db import filtered
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Network, Port, QosPolicy, QosRule, utcnow
from vmqos.store.scenario import network_value, port_value

__all__ = [
    "add_policy_rule",
    "create_policy",
    "delete_policy",
    "delete_policy_rule",
    "find_rule",
    "get_policy",
    "list_policies",
    "policy_value",
    "ports_using_policy",
    "rule_direction",
    "update_policy",
    "update_policy_rule",
]


def rule_direction(rule: Rule) -> str:
    """The unique-constraint direction: Neutron's spelling, ``any``, or ``''`` for DSCP."""
    if rule.type is RuleType.DSCP_MARKING:
        return ""
    direction = getattr(rule, "direction", None)
    return "any" if direction is None else str(direction.neutron)


def _rules(session: Session, policy_id: str) -> Sequence[QosRule]:
    return session.scalars(sa.select(QosRule).where(QosRule.policy_id == policy_id)
                           .order_by(QosRule.seq)).all()


def policy_value(session: Session, row: QosPolicy) -> PolicyValue:
    rules = tuple(parse_rule(r.type, r.values, rule_id=r.id) for r in _rules(session, row.id))
    return PolicyValue(name=row.name, id=row.id, description=row.description,
                       shared=row.shared, is_default=row.is_default,
                       project_id=row.project_id, rules=rules)


def _not_found(policy_id: str) -> NotFoundError:
    return NotFoundError(f"QoS policy {policy_id} could not be found.",
                         kind="QosPolicyNotFound", key="policy_id", value=policy_id)


def get_policy(session: Session, policy_id: str, who: TokenInfo, *,
               lock: bool = False) -> QosPolicy:
    query = sa.select(QosPolicy).where(QosPolicy.id == policy_id)
    if not who.is_admin:
        query = query.where(sa.or_(QosPolicy.project_id == who.project_id,
                                   QosPolicy.shared.is_(True)))
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise _not_found(policy_id)
    return row


def list_policies(session: Session, who: TokenInfo,
                  filters: Mapping[str, Any]) -> Sequence[QosPolicy]:
    query = sa.select(QosPolicy)
    if not who.is_admin:
        query = query.where(sa.or_(QosPolicy.project_id == who.project_id,
                                   QosPolicy.shared.is_(True)))
    query = filtered(query, QosPolicy, filters)
    return session.scalars(query.order_by(QosPolicy.created_at, QosPolicy.id)).all()


def _project_policies(session: Session, project_id: str) -> list[PolicyValue]:
    rows = session.scalars(sa.select(QosPolicy).where(QosPolicy.project_id == project_id))
    return [PolicyValue(name=r.name, id=r.id, project_id=r.project_id, is_default=r.is_default)
            for r in rows]


def create_policy(session: Session, value: PolicyValue) -> QosPolicy:
    """Store a policy parsed from a POST body (:func:`vmqos.intent.neutron.policy.parse_policy`,
    which names its project); it gets a new id."""
    value = replace(value, id=str(uuid.uuid4()))
    policies.check_default_unique(_project_policies(session, value.project_id), value)
    now = utcnow()
    row = QosPolicy(id=value.id, name=value.name, description=value.description,
                    project_id=value.project_id, shared=value.shared,
                    is_default=value.is_default, revision_number=1, created_at=now,
                    updated_at=now)
    session.add(row)
    session.flush()
    return row


def _bump(row: QosPolicy) -> None:
    row.revision_number += 1
    row.updated_at = utcnow()


def update_policy(session: Session, row: QosPolicy,
                  update: policies.PolicyUpdate) -> QosPolicy:
    current = policy_value(session, row)
    new = policies.update_policy(current, update)
    policies.check_default_unique(_project_policies(session, row.project_id), new)
    if current.shared and not new.shared:
        users = [p for p in ports_using_policy(session, row.id, NeutronBackend.OVS)
                 if p.project_id != row.project_id]
        if users:
            # Neutron refuses to drop the wildcard RBAC entry other projects depend on.
            raise ConflictError(f"RBAC policy on object {row.id} cannot be removed because "
                                "other objects depend on it.", kind="RbacPolicyInUse",
                                key="shared", value=False)
    row.name, row.description = new.name, new.description
    row.shared, row.is_default = new.shared, new.is_default
    _bump(row)
    return row


def delete_policy(session: Session, row: QosPolicy) -> None:
    """``QosPolicy.delete``: refused while a port, then a network, uses it."""
    port_id = session.scalar(sa.select(Port.id).where(Port.qos_policy_id == row.id).limit(1))
    if port_id is not None:
        raise _in_use(row.id, "port", port_id)
    net_id = session.scalar(sa.select(Network.id).where(Network.qos_policy_id == row.id)
                            .limit(1))
    if net_id is not None:
        raise _in_use(row.id, "network", net_id)
    session.execute(sa.delete(QosRule).where(QosRule.policy_id == row.id))
    session.delete(row)


def _in_use(policy_id: str, object_type: str, object_id: str) -> ConflictError:
    return ConflictError(f"QoS Policy {policy_id} is used by {object_type} {object_id}.",
                         kind="QosPolicyInUse", key="policy_id", value=policy_id)


def ports_using_policy(session: Session, policy_id: str,
                       backend: NeutronBackend) -> list[Port]:
    """The ports ``policy_id`` reaches: its own, or through its network (``binding``)."""
    networks = {n.id: n for n in session.scalars(sa.select(Network).where(
        Network.qos_policy_id == policy_id))}
    query = sa.select(Port).where(sa.or_(
        Port.qos_policy_id == policy_id,
        sa.and_(Port.qos_policy_id.is_(None), Port.network_id.in_(list(networks)))))
    out = []
    for port in session.scalars(query.order_by(Port.seq)):
        network = networks.get(port.network_id) or session.get(Network, port.network_id)
        assert network is not None
        if effective_policy_id(port_value(port), network_value(network),
                               backend=backend) == policy_id:
            out.append(port)
    return out


def _values(rule: Rule) -> dict[str, object]:
    """A rule's stored values: its Neutron fields but the id (a column of its own)."""
    values = rule_to_dict(rule)
    del values["id"]
    return values


def _stored(row: QosPolicy, rule: Rule, seq: int) -> QosRule:
    return QosRule(id=rule.id, seq=seq, policy_id=row.id, type=rule.type.value,
                   direction=rule_direction(rule), values=_values(rule))


def add_policy_rule(session: Session, row: QosPolicy, rule: Rule) -> Rule:
    """Check a parsed rule against the policy's (Neutron's 409), then store it with a new id."""
    rule = replace(rule, id=str(uuid.uuid4()))
    policies.add_rule(policy_value(session, row), rule)
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(_stored(row, rule, time.time_ns()))
            session.flush()
    except IntegrityError as exc:  # only if a writer bypassed the lock: same message
        raise ConflictError(f"Rule {rule.type.value} conflicts with a rule which already "
                            f"exists in QoS Policy {row.id}.", kind="QoSRulesConflict",
                            key=rule.type.value, value=rule.id) from exc
    _bump(row)
    return rule


def find_rule(session: Session, rule_id: str, rule_type: RuleType | None) -> QosRule:
    query = sa.select(QosRule).where(QosRule.id == rule_id)
    if rule_type is not None:
        query = query.where(QosRule.type == rule_type.value)
    found = session.scalar(query)
    if found is None:
        raise policies.QosRuleNotFound(f"QoS rule {rule_id} could not be found.",
                                       key="rule_id", value=rule_id)
    return found


def update_policy_rule(session: Session, row: QosPolicy, rule_id: str,
                       update: RuleUpdate) -> Rule:
    _, rule = policies.update_policy_rule(policy_value(session, row), rule_id, update)
    stored = find_rule(session, rule_id, update.type)
    stored.values = _values(rule)
    stored.direction = rule_direction(rule)
    _bump(row)
    return rule


def delete_policy_rule(session: Session, row: QosPolicy, rule_id: str,
                       rule_type: RuleType | None) -> None:
    policies.remove_rule(policy_value(session, row), rule_id, rule_type=rule_type)
    session.execute(sa.delete(QosRule).where(QosRule.id == rule_id))
    _bump(row)
