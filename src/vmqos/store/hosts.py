"""Compute hosts and what is allocated on them: the control plane's side of scheduling.

The decisions are the core's (:mod:`vmqos.intent.compute_host`, :mod:`vmqos.intent.scheduling`);
this module stores hosts, sums the allocations of the servers on them, and locks the hosts a
create is choosing between, so that two creates cannot both take the last of a bridge's
bandwidth: on PostgreSQL with ``SELECT ... FOR UPDATE`` on the host rows, on SQLite by the
write transaction's ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError
from vmqos.intent.availability_zones import DEFAULT_ZONE, ZonedAggregate, host_zone
from vmqos.intent.compute_host import ComputeHost as HostValue
from vmqos.intent.compute_host import parse_compute_host
from vmqos.store.models import Aggregate, ComputeHost, Server, utcnow

__all__ = [
    "delete_host",
    "get_host",
    "host_value",
    "list_hosts",
    "register_host",
    "servers_per_host",
    "usage",
    "zoned_aggregates",
    "zones",
]


def host_value(row: ComputeHost) -> HostValue:
    return parse_compute_host(row.name, {"vcpus": row.vcpus, "memory_mb": row.memory_mb,
                                         "disk_gb": row.disk_gb, "agents": row.agents})


def register_host(session: Session, name: str, body: dict[str, Any]) -> ComputeHost:
    """Create or update host ``name`` from its registration (validated first, as a whole)."""
    value = parse_compute_host(name, body)
    row = session.scalar(sa.select(ComputeHost).where(ComputeHost.name == name)
                         .with_for_update())
    if row is None:
        row = ComputeHost(name=name, uuid=str(uuid.uuid4()), service_uuid=str(uuid.uuid4()),
                          created_at=utcnow())
        session.add(row)
    row.vcpus, row.memory_mb, row.disk_gb = value.vcpus, value.memory_mb, value.disk_gb
    row.agents = list(body.get("agents", []))
    row.host_ip = str(body.get("host_ip", ""))
    row.updated_at = utcnow()
    session.flush()
    return row


def list_hosts(session: Session, *, lock: bool = False) -> Sequence[ComputeHost]:
    query = sa.select(ComputeHost).order_by(ComputeHost.seq)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).all()


def get_host(session: Session, key: str) -> ComputeHost:
    """By name, compute-node uuid or id (Nova's hypervisor id before and after 2.53)."""
    clauses = [ComputeHost.name == key, ComputeHost.uuid == key]
    if key.isdigit() and len(key) < 10:
        clauses.append(ComputeHost.seq == int(key))
    row = session.scalar(sa.select(ComputeHost).where(sa.or_(*clauses)))
    if row is None:
        raise NotFoundError(f"Hypervisor {key} could not be found.", kind="ComputeHostNotFound",
                            key="hypervisor", value=key)
    return row


def delete_host(session: Session, name: str) -> None:
    row = get_host(session, name)
    if session.scalar(sa.select(sa.func.count()).select_from(Server)
                      .where(Server.host == row.name)):
        raise ConflictError(f"Host {name} still has servers; delete or move them first.",
                            kind="HostInUse", key="host", value=name)
    session.delete(row)


def usage(session: Session) -> dict[tuple[str, str], int]:
    """(provider, resource class) -> amount allocated, over every server."""
    out: dict[tuple[str, str], int] = {}
    for allocations, old in session.execute(sa.select(Server.allocations, Server.old_placement)
                                            .where(Server.host.is_not(None))):
        # A resize waiting for confirmation holds the source's allocation too.
        held = [*(allocations or ()), *((old or {}).get("allocations") or ())]
        for provider, resource_class, amount in held:
            key = (provider, resource_class)
            out[key] = out.get(key, 0) + int(amount)
    return out


def zoned_aggregates(session: Session, *, lock: bool = False) -> list[ZonedAggregate]:
    query = sa.select(Aggregate).order_by(Aggregate.id)
    if lock:
        query = query.with_for_update()
    return [ZonedAggregate(a.id, a.name, a.availability_zone, tuple(a.hosts))
            for a in session.scalars(query)]


def zones(session: Session, builtin: str) -> dict[str, list[str]]:
    """Zone -> its compute hosts. Until a host is registered, the built-in host is in the
    default zone and in every aggregate's zone (it stands in for every host)."""
    rows = list_hosts(session)
    aggregates = zoned_aggregates(session)
    if not rows:
        names = [DEFAULT_ZONE, *sorted({a.zone for a in aggregates if a.zone} - {DEFAULT_ZONE})]
        return {zone: [builtin] for zone in names}
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(host_zone(row.name, aggregates), []).append(row.name)
    return dict(sorted(out.items()))


def servers_per_host(session: Session) -> dict[str, int]:
    return {host: count for host, count in session.execute(
        sa.select(Server.host, sa.func.count()).where(Server.host.is_not(None))
        .group_by(Server.host)) if host}
