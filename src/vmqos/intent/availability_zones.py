"""Availability zones of compute hosts: Nova's rules for host aggregates that carry a zone.

Pure: aggregates (id, zone, hosts) and the hosts that have servers in; a host's zone, or the
reason Nova refuses an aggregate change (nova/compute/api.py ``AggregateAPI``):

* A host's zone is the zone of an aggregate it is in, else ``default_availability_zone``
  (``nova``; nova/availability_zones.py ``get_host_availability_zone``).
* ``is_safe_to_update_az``: a host may be in one zone only — adding it to, or giving a zone
  to, an aggregate is refused when one of its hosts is already in another aggregate with
  another zone ("One or more hosts already in availability zone(s) [...]"); a zone change of
  an aggregate whose hosts have servers is refused ("One or more hosts contain instances in
  this zone").
* ``ensure_no_instances_need_to_move_az_when_host_added`` / ``..._removed``: a host with
  servers may not change zone by joining or leaving an aggregate.

The messages are the reasons; :func:`refusal` wraps them in
``InvalidAggregateActionAdd``/``Delete``/``Update``'s words.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_ZONE", "ZonedAggregate", "add_host_reason", "host_zone", "refusal",
           "remove_host_reason", "zone_change_reason"]

DEFAULT_ZONE = "nova"


@dataclass(frozen=True, slots=True)
class ZonedAggregate:
    id: int
    name: str
    zone: str | None
    hosts: tuple[str, ...]


def _zone_of(host: str, aggregates: Sequence[ZonedAggregate], *,
             without: int | None = None) -> str | None:
    zones = {a.zone for a in aggregates if host in a.hosts and a.zone and a.id != without}
    return next(iter(sorted(zones)), None)   # at most one: is_safe_to_update_az keeps it so


def host_zone(host: str, aggregates: Sequence[ZonedAggregate]) -> str:
    return _zone_of(host, aggregates) or DEFAULT_ZONE


def _conflicts(aggregate: ZonedAggregate, zone: str, hosts: Collection[str],
               aggregates: Sequence[ZonedAggregate]) -> list[str]:
    return [a.zone for a in aggregates
            if a.id != aggregate.id and a.zone and a.zone != zone
            and set(a.hosts) & set(hosts)]


def add_host_reason(aggregate: ZonedAggregate, host: str,
                    aggregates: Sequence[ZonedAggregate], servers_on_host: int) -> str | None:
    if aggregate.zone:
        conflicting = _conflicts(aggregate, aggregate.zone, [host], aggregates)
        if conflicting:
            return f"One or more hosts already in availability zone(s) {conflicting}"
    if servers_on_host and aggregate.zone:
        old = _zone_of(host, aggregates)
        if old != aggregate.zone:
            return _moving("added to", old, aggregate.zone, servers_on_host)
    return None


def remove_host_reason(aggregate: ZonedAggregate, host: str,
                       aggregates: Sequence[ZonedAggregate], servers_on_host: int) -> str | None:
    if not servers_on_host or not aggregate.zone:
        return None
    new = _zone_of(host, aggregates, without=aggregate.id)
    if aggregate.zone != new:
        return _moving("removed from", aggregate.zone, new, servers_on_host)
    return None


def zone_change_reason(aggregate: ZonedAggregate, zone: str,
                       aggregates: Sequence[ZonedAggregate], hosts_with_servers: Collection[str],
                       ) -> str | None:
    """Giving ``aggregate`` the zone ``zone`` (update or set_metadata)."""
    conflicting = _conflicts(aggregate, zone, aggregate.hosts, aggregates)
    if conflicting:
        return f"One or more hosts already in availability zone(s) {conflicting}"
    if aggregate.zone != zone and set(aggregate.hosts) & set(hosts_with_servers):
        return "One or more hosts contain instances in this zone"
    return None


def _moving(verb: str, old: str | None, new: str | None, count: int) -> str:
    return (f"The host cannot be {verb} the aggregate as the availability zone of the host "
            f"would change from '{old}' to '{new}' but the host already has {count} "
            f"instance(s). Changing the AZ of an existing instance is not supported by this "
            f"action. Move the instances away from this host then try again. If you need to "
            f"move the instances between AZs then you can use shelve_offload and unshelve to "
            f"achieve this.")


def refusal(action: str, aggregate_id: int, reason: str) -> str:
    """``InvalidAggregateActionAdd``/``Delete``/``UpdateMeta``/``Update``'s message."""
    verbs = {"add": "add host to", "delete": "remove host from",
             "update_meta": "update metadata of", "update": "update"}
    return f"Cannot {verbs[action]} aggregate {aggregate_id}. Reason: {reason}."
