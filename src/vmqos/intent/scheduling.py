"""Where a server goes: Placement's allocation candidates, then Nova's weighers.

Pure: hosts (:class:`~vmqos.intent.compute_host.ComputeHost`), what is already allocated on
each provider, and one server's request in; the host and the allocation out, or ``None`` —
Nova's ``NoValidHost`` (nova/scheduler/manager.py: "No valid host was found. " when
Placement returns no candidates).

* The flavor's request (nova/scheduler/utils.py ``resources_from_flavor_and_bfv``): ``VCPU``
  vcpus, ``MEMORY_MB`` ram, ``DISK_GB`` ephemeral + swap in whole GiB rounded up + root unless
  the server boots from a volume — all from the host's root provider, whose capacity is
  ``(total − reserved) × allocation ratio`` with nova-compute's defaults
  (nova/conf/compute.py): ``initial_cpu_allocation_ratio`` 4.0, ``initial_ram_allocation_ratio``
  and ``initial_disk_allocation_ratio`` 1.0, ``reserved_host_memory_mb`` 512,
  ``reserved_host_cpus`` and ``reserved_host_disk_mb`` 0.
* Each port's request groups (:mod:`vmqos.intent.neutron.resource_request`): every group from
  one provider of the host that has all its traits and room for all its resources; a port's
  groups from one subtree (one agent: ``same_subtree``). The search is exhaustive, as
  Placement's candidates are, so a fit that needs a port on the second bridge is found.
* Among the hosts with a candidate, Nova's resource weighers (``RAMWeigher``, ``CPUWeigher``,
  ``DiskWeigher``, multiplier 1.0 each, each normalised to 0..1 over the candidates as
  nova/weights.py ``normalize`` does) spread servers: the most free resources win. The other
  default weighers weigh every host alike here (no metrics, I/O ops or failed builds), and
  equal weights go to the first host by name, where Nova would pick at random
  (``host_subset_size`` 1 picks the best, ties in weigher order).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vmqos.intent.compute_host import ComputeHost, Provider
from vmqos.intent.neutron.model import MinimumBandwidthRule, MinimumPacketRateRule, Rule
from vmqos.intent.neutron.resource_request import (
    RequestGroup,
    ResourceRequest,
    group_id,
    rule_resources,
)

__all__ = [
    "NO_VALID_HOST",
    "RESERVED_HOST_MEMORY_MB",
    "Allocation",
    "AllocationChange",
    "FlavorRequest",
    "Usage",
    "allocation_change",
    "root_capacity",
    "select_host",
]

NO_VALID_HOST = "No valid host was found. "

VCPU, MEMORY_MB, DISK_GB = "VCPU", "MEMORY_MB", "DISK_GB"
_CPU_RATIO, _RAM_RATIO, _DISK_RATIO = 4.0, 1.0, 1.0
RESERVED_HOST_MEMORY_MB = 512

# (provider name, resource class) -> amount already allocated
Usage = Mapping[tuple[str, str], int]


@dataclass(frozen=True, slots=True)
class FlavorRequest:
    vcpus: int
    ram_mb: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap_mb: int = 0
    boot_from_volume: bool = False

    def resources(self) -> dict[str, int]:
        disk = self.ephemeral_gb + math.ceil(self.swap_mb / 1024)
        if not self.boot_from_volume:
            disk += self.root_gb
        wanted = {VCPU: self.vcpus, MEMORY_MB: self.ram_mb, DISK_GB: disk}
        return {rc: amount for rc, amount in wanted.items() if amount}


@dataclass(frozen=True, slots=True)
class Allocation:
    host: str
    # (provider name, resource class, amount), the root provider's first
    resources: tuple[tuple[str, str, int], ...]
    # port id -> request group id -> provider uuid (Nova's binding:profile "allocation")
    ports: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def usage(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for provider, resource_class, amount in self.resources:
            out[(provider, resource_class)] = out.get((provider, resource_class), 0) + amount
        return out


def root_capacity(host: ComputeHost) -> dict[str, int]:
    """The host's root provider inventory after reservations and allocation ratios."""
    return {VCPU: int(host.vcpus * _CPU_RATIO),
            MEMORY_MB: int(max(host.memory_mb - RESERVED_HOST_MEMORY_MB, 0) * _RAM_RATIO),
            DISK_GB: int(host.disk_gb * _DISK_RATIO)}


def _agent(provider: Provider) -> str:
    # "<host>:<agent type>" of an agent provider or of its device children.
    return ":".join(provider.name.split(":")[:2])


def _fits(group: RequestGroup, provider: Provider, used: dict[tuple[str, str], int]) -> bool:
    if not set(group.required) <= provider.traits:
        return False
    return all(provider.capacity(rc) - used.get((provider.name, rc), 0) >= amount
               for rc, amount in group.resources)


def _place_ports(groups: list[tuple[str, RequestGroup]], providers: Sequence[Provider],
                 used: dict[tuple[str, str], int],
                 agents: dict[str, str]) -> list[tuple[str, RequestGroup, Provider]] | None:
    """Backtracking: a provider per group, or None. ``agents``: port -> its chosen agent."""
    if not groups:
        return []
    (port, group), rest = groups[0], groups[1:]
    for provider in providers:
        agent = _agent(provider)
        if agents.get(port, agent) != agent or not _fits(group, provider, used):
            continue
        for rc, amount in group.resources:
            used[(provider.name, rc)] = used.get((provider.name, rc), 0) + amount
        fresh = port not in agents
        agents[port] = agent
        placed = _place_ports(rest, providers, used, agents)
        if placed is not None:
            return [(port, group, provider), *placed]
        for rc, amount in group.resources:
            used[(provider.name, rc)] -= amount
        if fresh:
            del agents[port]
    return None


def _candidate(host: ComputeHost, usage: Usage, flavor: FlavorRequest,
               requests: Sequence[ResourceRequest]) -> Allocation | None:
    capacity = root_capacity(host)
    wanted = flavor.resources()
    if any(capacity.get(rc, 0) - usage.get((host.name, rc), 0) < amount
           for rc, amount in wanted.items()):
        return None
    used = dict(usage)
    groups = [(r.port_id, g) for r in requests for g in r.groups]
    placed = _place_ports(groups, host.providers, used, {})
    if placed is None:
        return None
    resources = [(host.name, rc, amount) for rc, amount in wanted.items()]
    ports: dict[str, list[tuple[str, str]]] = {}
    for port, group, provider in placed:
        resources += [(provider.name, rc, amount) for rc, amount in group.resources]
        ports.setdefault(port, []).append((group.id, provider.uuid))
    return Allocation(host.name, tuple(resources),
                      tuple((p, tuple(g)) for p, g in ports.items()))


def _free(host: ComputeHost, usage: Usage) -> tuple[int, int, int]:
    capacity = root_capacity(host)
    return tuple(capacity[rc] - usage.get((host.name, rc), 0)   # type: ignore[return-value]
                 for rc in (MEMORY_MB, VCPU, DISK_GB))


def _normalised(values: Sequence[int]) -> list[float]:
    # nova/weights.py normalize(): (x - min) / (max - min), all 0 when they are equal.
    low, high = min(values), max(values)
    return [0.0 if high == low else (v - low) / (high - low) for v in values]


def select_host(hosts: Sequence[ComputeHost], usage: Usage, flavor: FlavorRequest,
                requests: Sequence[ResourceRequest] = ()) -> Allocation | None:
    """The allocation on the best host, or ``None`` when no host can take the server."""
    candidates = []
    for host in sorted(hosts, key=lambda h: h.name):
        allocation = _candidate(host, usage, flavor, requests)
        if allocation is not None:
            candidates.append((host, allocation))
    if not candidates:
        return None
    free = [_free(host, usage) for host, _ in candidates]
    weights = [0.0] * len(candidates)
    for column in range(3):
        for i, w in enumerate(_normalised([f[column] for f in free])):
            weights[i] += w
    best = max(range(len(candidates)), key=lambda i: (weights[i], -i))
    return candidates[best][1]


# --- a bound port's policy changes (neutron/services/qos/qos_plugin.py) ----------------------


@dataclass(frozen=True, slots=True)
class AllocationChange:
    """What Neutron sends Placement when a bound port's policy changes, and the port's new
    ``binding:profile`` ``allocation`` (request group id -> provider uuid)."""

    allocation: dict[str, str]
    diff: dict[str, dict[str, int]]         # provider uuid -> resource class -> +/- amount
    dataplane_only: tuple[str, ...]         # rule types the new policy adds: no allocation


def _placed(rules: Sequence[Rule]) -> list[Rule]:
    return [r for r in rules if isinstance(r, MinimumBandwidthRule | MinimumPacketRateRule)]


def allocation_change(port_id: str, allocation: Mapping[str, str], original: Sequence[Rule],
                      desired: Sequence[Rule]) -> AllocationChange | None:
    """``_change_placement_allocation``: ``None`` when nothing is allocated or asked for (the
    new guarantees are then dataplane-only, as Neutron warns)."""
    before, after = _placed(original), _placed(desired)
    if not before and not after:
        return None
    if not before or not allocation:
        return None
    types_before = {r.type for r in before}
    new_types = tuple(sorted({r.type.value for r in after} - {t.value for t in types_before}))
    after = [r for r in after if r.type in types_before]
    # _get_updated_port_allocation: which provider served each rule type, and the new ids.
    provider_of: dict[object, str] = {}
    updated: dict[str, str] = {}
    for group, provider in allocation.items():
        for rule_type in types_before:
            was = [r for r in before if r.type is rule_type]
            if group == group_id(port_id, was):
                provider_of[rule_type] = provider
                wanted = [r for r in after if r.type is rule_type]
                if wanted:
                    updated[group_id(port_id, wanted)] = provider
                break
    # _prepare_allocation_needs: minus what the old rules had, plus what the new ones ask.
    diff: dict[str, dict[str, int]] = {}
    for rule in before:
        served = provider_of.get(rule.type)
        if served is not None:
            for rc, amount in rule_resources(rule).items():
                diff.setdefault(served, {})[rc] = -amount
    for rule in after:
        target = provider_of.get(rule.type)
        if target is None:
            continue
        for rc, amount in rule_resources(rule).items():
            total = diff.setdefault(target, {}).get(rc, 0) + amount
            if total:
                diff[target][rc] = total
            else:
                diff[target].pop(rc, None)
    return AllocationChange(updated, {p: d for p, d in diff.items() if d}, new_types)
