"""Quota limits and usage: what each project may have, what it has, and the check of a create.

* A project's limits are the service's defaults (:mod:`vmqos.intent.project_quotas`) with the
  limits an admin set (``quota_limits`` rows) over them.
* Usage is counted from the rows, as Nova's and Neutron's quota engines count it: Nova's
  instances, cores and RAM from the project's servers (``_instances_cores_ram_count_legacy``:
  every instance not deleted, its flavor's vCPUs and memory), key pairs per user
  (``_keypair_get_count_by_user``); Neutron's resources by ``project_id``. Resources vmqos does
  not serve (server groups, routers, floating IPs ...) are used 0 times.
* :func:`check` is the create-time check: the limits, then — unless every limit asked about is
  unlimited — the usage, then :func:`vmqos.intent.project_quotas.exceeded`, the one decision.
  Counting and inserting must not interleave between two creates in one project: on SQLite a
  write transaction already holds the database lock; on PostgreSQL the check takes a
  transaction-scoped advisory lock per (service, project) first, which the caller's commit
  releases after its insert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vmqos.intent.project_quotas import NEUTRON_DEFAULTS, NOVA_DEFAULTS, Exceeded, exceeded
from vmqos.store.models import (
    Keypair,
    Network,
    Port,
    QuotaLimit,
    SecurityGroup,
    SecurityGroupRule,
    Server,
    Subnet,
)

__all__ = [
    "DEFAULTS",
    "Service",
    "check",
    "compute_usage",
    "delete_limits",
    "keypairs_of",
    "limits",
    "network_usage",
    "overridden",
    "set_limits",
]

Service = Literal["compute", "network"]
DEFAULTS: Mapping[Service, Mapping[str, int]] = {"compute": NOVA_DEFAULTS,
                                                 "network": NEUTRON_DEFAULTS}
Usage = Callable[[Session], Mapping[str, int]]

# The project column of each resource Neutron counts.
_NEUTRON_COUNTED: Mapping[str, sa.orm.InstrumentedAttribute[str]] = {
    "network": Network.project_id, "subnet": Subnet.project_id, "port": Port.project_id,
    "security_group": SecurityGroup.project_id,
    "security_group_rule": SecurityGroupRule.project_id}


def limits(session: Session, service: Service, project_id: str) -> dict[str, int]:
    out = dict(DEFAULTS[service])
    for resource, limit in session.execute(sa.select(QuotaLimit.resource, QuotaLimit.hard_limit)
                                           .where(QuotaLimit.service == service,
                                                  QuotaLimit.project_id == project_id)):
        if resource in out:
            out[resource] = limit
    return out


def overridden(session: Session, service: Service) -> dict[str, dict[str, int]]:
    """The projects with any limit set, each with its set limits."""
    out: dict[str, dict[str, int]] = {}
    for project_id, resource, limit in session.execute(
            sa.select(QuotaLimit.project_id, QuotaLimit.resource, QuotaLimit.hard_limit)
            .where(QuotaLimit.service == service).order_by(QuotaLimit.project_id)):
        out.setdefault(project_id, {})[resource] = limit
    return out


def set_limits(session: Session, service: Service, project_id: str,
               values: Mapping[str, int]) -> None:
    for resource, limit in values.items():
        row = session.get(QuotaLimit, (service, project_id, resource))
        if row is None:
            session.add(QuotaLimit(service=service, project_id=project_id, resource=resource,
                                   hard_limit=limit))
        else:
            row.hard_limit = limit
    session.flush()


def delete_limits(session: Session, service: Service, project_id: str) -> int:
    """Back to the defaults; how many limits had been set."""
    result = session.execute(sa.delete(QuotaLimit).where(QuotaLimit.service == service,
                                                         QuotaLimit.project_id == project_id))
    return int(getattr(result, "rowcount", 0))


def compute_usage(session: Session, project_id: str) -> dict[str, int]:
    """Nova's counted resources of a project (key pairs are counted per user)."""
    flavors = session.scalars(sa.select(Server.flavor).where(Server.project_id == project_id))
    instances = cores = ram = 0
    for flavor in flavors:
        instances += 1
        cores += int(flavor["vcpus"])
        ram += int(flavor["ram"])
    return {"instances": instances, "cores": cores, "ram": ram}


def keypairs_of(session: Session, user_id: str) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(Keypair)
                              .where(Keypair.user_id == user_id)) or 0)


def network_usage(session: Session, project_id: str) -> dict[str, int]:
    return {name: int(session.scalar(sa.select(sa.func.count()).where(column == project_id))
                      or 0)
            for name, column in _NEUTRON_COUNTED.items()}


def _serialize(session: Session, service: Service, project_id: str) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the write transaction holds the database lock
    digest = hashlib.sha256(f"vmqos-quota:{service}:{project_id}".encode()).digest()
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(
        int.from_bytes(digest[:8], "big", signed=True))))


def check(session: Session, service: Service, project_id: str, deltas: Mapping[str, int],
          usage: Usage | None = None) -> Exceeded | None:
    """What ``deltas`` more of each resource would take over the project's limits, counted
    with ``usage`` (default: the service's project usage)."""
    current = limits(session, service, project_id)
    if all(current[name] < 0 for name in deltas):
        return None
    _serialize(session, service, project_id)
    if usage is None:
        used: Mapping[str, int] = (compute_usage(session, project_id) if service == "compute"
                                   else network_usage(session, project_id))
    else:
        used = usage(session)
    return exceeded(current, used, deltas)
