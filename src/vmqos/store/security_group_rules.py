"""Neutron's security group rules: one row each, their visibility, their identity in a group.

* A rule is stored with its ``rule_key`` (:meth:`RuleSpec.key`, Neutron's ``_rule_to_key``),
  unique in its group, so two parallel creates of the same rule cannot both win: the loser
  gets ``SecurityGroupRuleExists`` naming the winner, as a sequential one does.
* A group's first rules are Neutron's default templates (the rows its migration
  ``security_group_default_rules`` seeds, as ``_create_rules_from_template`` applies them):
  every group lets any IPv4 and IPv6 traffic out; the project's ``default`` group also lets in
  what comes from its own members. These are made here, without a quota check, as Neutron's
  plugin makes them.
* Visibility (``get_security_group_rule``: admin, or the owner of the rule or of its group):
  anything else is "does not exist".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError
from vmqos.intent.neutron.security_group_rules import RuleSpec
from vmqos.store.identity import TokenInfo
from vmqos.store.models import SecurityGroup, SecurityGroupRule, utcnow

__all__ = [
    "add_rule",
    "add_template_rules",
    "delete_rule",
    "get_rule",
    "list_rules",
    "rules_by_group",
    "spec_of",
]

# The columns a rule listing may filter on, and which of them hold integers.
_FILTERS = ("id", "security_group_id", "direction", "ethertype", "protocol",
            "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id",
            "project_id", "description")
_INTEGERS = ("port_range_min", "port_range_max")


def spec_of(row: SecurityGroupRule) -> RuleSpec:
    return RuleSpec(security_group_id=row.security_group_id, direction=row.direction,
                    ethertype=row.ethertype, protocol=row.protocol,
                    port_range_min=row.port_range_min, port_range_max=row.port_range_max,
                    remote_ip_prefix=row.remote_ip_prefix, remote_group_id=row.remote_group_id)


def _exists(session: Session, group_id: str, key: str) -> ConflictError | None:
    found = session.scalar(sa.select(SecurityGroupRule.id).where(
        SecurityGroupRule.security_group_id == group_id, SecurityGroupRule.rule_key == key))
    if found is None:
        return None
    return ConflictError(f"Security group rule already exists. Rule id is {found}.",
                         kind="SecurityGroupRuleExists", key="security_group_rule", value=found)


def add_rule(session: Session, spec: RuleSpec, *, project_id: str,
             description: str = "") -> SecurityGroupRule:
    """A checked rule (:func:`vmqos.intent.neutron.security_group_rules.check_rule`), unless
    its group already has one with the same key."""
    key = spec.key()
    conflict = _exists(session, spec.security_group_id, key)
    if conflict is not None:
        raise conflict
    now = utcnow()
    row = SecurityGroupRule(
        id=str(uuid.uuid4()), seq=time.time_ns(), security_group_id=spec.security_group_id,
        project_id=project_id, direction=spec.direction, ethertype=spec.ethertype,
        protocol=spec.protocol, port_range_min=spec.port_range_min,
        port_range_max=spec.port_range_max, remote_ip_prefix=spec.remote_ip_prefix,
        remote_group_id=spec.remote_group_id, description=description, rule_key=key,
        revision_number=0, created_at=now, updated_at=now)
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(row)
            session.flush()
    except IntegrityError as exc:  # a parallel create of the same rule won
        conflict = _exists(session, spec.security_group_id, key)
        if conflict is None:
            raise
        raise conflict from exc
    return row


def add_template_rules(session: Session, group: SecurityGroup, *, default: bool) -> None:
    """Neutron's default rules of a new group (the ``default`` group's when ``default``)."""
    templates: list[tuple[str, str, str | None]] = [("egress", "IPv4", None),
                                                    ("egress", "IPv6", None)]
    if default:
        templates += [("ingress", "IPv4", group.id), ("ingress", "IPv6", group.id)]
    for direction, ethertype, remote in templates:
        add_rule(session, RuleSpec(security_group_id=group.id, direction=direction,
                                   ethertype=ethertype, protocol=None, port_range_min=None,
                                   port_range_max=None, remote_ip_prefix=None,
                                   remote_group_id=remote), project_id=group.project_id)


def _visible(who: TokenInfo) -> sa.ColumnElement[bool]:
    owned_groups = sa.select(SecurityGroup.id).where(SecurityGroup.project_id == who.project_id)
    return sa.or_(SecurityGroupRule.project_id == who.project_id,
                  SecurityGroupRule.security_group_id.in_(owned_groups))


def get_rule(session: Session, rule_id: str, who: TokenInfo) -> SecurityGroupRule:
    query = sa.select(SecurityGroupRule).where(SecurityGroupRule.id == rule_id)
    if not who.is_admin:
        query = query.where(_visible(who))
    row = session.scalar(query)
    if row is None:
        raise NotFoundError(f"Security group rule {rule_id} does not exist",
                            kind="SecurityGroupRuleNotFound", key="security_group_rule_id",
                            value=rule_id)
    return row


def list_rules(session: Session, who: TokenInfo,
               filters: Mapping[str, str]) -> Sequence[SecurityGroupRule]:
    """The rules the caller may see that match every filter (Neutron's equality filters;
    a port filter that is not an integer matches nothing)."""
    query = sa.select(SecurityGroupRule)
    if not who.is_admin:
        query = query.where(_visible(who))
    for name in _FILTERS:
        if name not in filters:
            continue
        value: Any = filters[name]
        if name in _INTEGERS:
            try:
                value = int(value)
            except ValueError:
                return []
        query = query.where(getattr(SecurityGroupRule, name) == value)
    return session.scalars(query.order_by(SecurityGroupRule.seq)).all()


def rules_by_group(session: Session,
                   group_ids: Iterable[str]) -> dict[str, list[SecurityGroupRule]]:
    """Each group's rules, in the order they were made (one query for all the groups)."""
    out: dict[str, list[SecurityGroupRule]] = {g: [] for g in group_ids}
    for row in session.scalars(sa.select(SecurityGroupRule).where(
            SecurityGroupRule.security_group_id.in_(list(out))).order_by(SecurityGroupRule.seq)):
        out[row.security_group_id].append(row)
    return out


def delete_rule(session: Session, row: SecurityGroupRule) -> None:
    session.delete(row)
    session.flush()
