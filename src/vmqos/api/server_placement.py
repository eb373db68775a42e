"""Scheduling a server being created, and the allocations its ports keep.

The decisions are the core's (:func:`vmqos.intent.scheduling.select_host`,
:func:`~vmqos.intent.scheduling.allocation_change`,
:func:`vmqos.intent.neutron.resource_request.port_resource_request`); this module gathers
their inputs in the request's write transaction, with the host rows locked, so that the usage
it reads is the usage it changes.

* Only ports that exist before the boot carry a request: Nova asks Neutron for the ports'
  ``resource_request`` before scheduling, and creates the ports it makes itself only on the
  compute host, after it (nova/network/neutron.py ``create_resource_requests``). A network's
  policy guarantees nothing to the ports Nova creates on it.
* A profile before Stein (``placement_guarantees`` false: Pike) has no port requests at all.
* Until a host is registered, every server goes to the service's built-in host unscheduled:
  there is no inventory to admit against (``None`` host, no allocations).
* A resize is scheduled as Nova's conductor does (``_cold_migrate``): to another host
  (``allow_resize_to_same_host`` is false by default), for the new flavor and every port's
  request; the source keeps its allocation until confirm (released) or revert (restored).
  No host: the server stays as it was, with Nova's fault recorded (shown only in ERROR).
* Each port with groups records them in ``binding:profile`` ``allocation`` (request group id
  -> provider uuid), as Nova does; a later policy change on the bound port moves the
  server's allocation by Neutron's diff, or is refused with
  ``QosPlacementAllocationUpdateConflict`` when a provider has no room.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError
from vmqos.intent.neutron.model import Rule
from vmqos.intent.neutron.resource_request import ResourceRequest, port_resource_request
from vmqos.intent.scheduling import Allocation, FlavorRequest, allocation_change, select_host
from vmqos.profile import get_profile
from vmqos.store import hosts
from vmqos.store.models import Flavor, Network, Port, QosPolicy, Server
from vmqos.store.qos import policy_value

__all__ = ["confirm_resize", "move_allocation", "port_request", "record_port_allocations",
           "reschedule_for_resize", "revert_resize", "schedule"]


def _placement_policy_id(port: Port, network: Network | None,
                         port_policy_id: str | None) -> str | None:
    """The policy Placement counts for a port: its own, else its network's (qos_plugin
    ``qos_policy_id or qos_network_policy_id``), whoever owns the port."""
    return port_policy_id or (network.qos_policy_id if network else None)


def _rules(session: Session, policy_id: str | None) -> list[Rule]:
    policy = session.get(QosPolicy, policy_id) if policy_id else None
    return list(policy_value(session, policy).rules) if policy is not None else []


def port_request(session: Session, port: Port) -> ResourceRequest | None:
    """The port's ``resource_request``: from its own policy, else its network's."""
    network = session.get(Network, port.network_id)
    policy_id = _placement_policy_id(port, network, port.qos_policy_id)
    if network is None or policy_id is None or session.get(QosPolicy, policy_id) is None:
        return None
    physnet = network.physical_network if network.network_type in ("vlan", "flat") else None
    return port_resource_request(port.id, port.vnic_type or "normal", physnet or None,
                                 _rules(session, policy_id))


def schedule(session: Session, flavor: Flavor, ports: Sequence[Port], *, profile: str,
             only: Sequence[str] | None = None) -> tuple[bool, Allocation | None]:
    """``(scheduled, allocation)``: ``(False, None)`` when no host is registered, else the
    allocation on the chosen host, or ``None`` for Nova's NoValidHost. ``only``: the hosts of
    the requested availability zone (Nova's AvailabilityZoneFilter)."""
    rows = hosts.list_hosts(session, lock=True)
    if not rows:
        return False, None
    requests: list[ResourceRequest] = []
    if get_profile(profile).placement_guarantees:
        requests = [r for r in (port_request(session, p) for p in ports) if r is not None]
    wanted = FlavorRequest(vcpus=flavor.vcpus, ram_mb=flavor.ram, root_gb=flavor.disk,
                           ephemeral_gb=flavor.ephemeral, swap_mb=flavor.swap)
    enabled = [hosts.host_value(r) for r in rows
               if not r.disabled and (only is None or r.name in only)]
    return True, select_host(enabled, hosts.usage(session), wanted, requests)


def record_port_allocations(session: Session, allocation: Allocation) -> None:
    """Each port's ``binding:profile`` ``allocation``: request group id -> provider uuid."""
    for port_id, groups in allocation.ports:
        port = session.get(Port, port_id)
        if port is not None:
            port.profile = {**port.profile, "allocation": dict(groups)}


def move_allocation(session: Session, port: Port, new_policy_id: str | None) -> None:
    """A bound port's policy is changing to ``new_policy_id``: move its server's allocation
    (``_check_port_for_placement_allocation_change``); 409 when it does not fit."""
    allocation = port.profile.get("allocation")
    network = session.get(Network, port.network_id)
    old_policy_id = _placement_policy_id(port, network, port.qos_policy_id)
    new_effective = _placement_policy_id(port, network, new_policy_id)
    if (not isinstance(allocation, dict) or not port.device_owner.startswith("compute:")
            or new_effective == old_policy_id):
        return
    change = allocation_change(port.id, allocation, _rules(session, old_policy_id),
                               _rules(session, new_effective))
    if change is None:
        return
    server = session.scalar(sa.select(Server).where(Server.id == port.device_id))
    rows = {r.name: r for r in hosts.list_hosts(session, lock=True)}
    providers = {p.uuid: p for r in rows.values() for p in hosts.host_value(r).providers}
    used = hosts.usage(session)
    for provider_uuid, delta in change.diff.items():
        provider = providers.get(provider_uuid)
        for rc, amount in delta.items():
            if provider is None or (amount > 0 and provider.capacity(rc)
                                    - used.get((provider.name, rc), 0) < amount):
                raise ConflictError(
                    f"Updating placement allocation with {change.diff} for consumer "
                    f"{port.device_id} failed. The requested resources would exceed the "
                    f"capacity available.", kind="QosPlacementAllocationUpdateConflict",
                    key="qos_policy_id", value=new_policy_id)
    if server is not None:
        items = [list(item) for item in server.allocations]
        for provider_uuid, delta in change.diff.items():
            name = providers[provider_uuid].name
            for rc, amount in delta.items():
                items.append([name, rc, amount])
        merged: dict[tuple[str, str], int] = {}
        for name, rc, amount in items:
            merged[(name, rc)] = merged.get((name, rc), 0) + int(amount)
        server.allocations = [[n, rc, a] for (n, rc), a in merged.items() if a]
    port.profile = {**port.profile, "allocation": change.allocation}


def reschedule_for_resize(session: Session, server: Server, flavor: Flavor, *,
                          profile: str) -> bool | None:
    """Move ``server`` to a host for ``flavor``: ``True`` when it moved, ``False`` when no
    other host fits (NoValidHost: nothing changed), ``None`` when it was never scheduled."""
    if not server.host:
        return None
    rows = hosts.list_hosts(session, lock=True)
    ports = list(session.scalars(sa.select(Port).where(Port.id.in_(list(server.port_ids)))))
    requests: list[ResourceRequest] = []
    if get_profile(profile).placement_guarantees:
        requests = [r for r in (port_request(session, p) for p in ports) if r is not None]
    wanted = FlavorRequest(vcpus=flavor.vcpus, ram_mb=flavor.ram, root_gb=flavor.disk,
                           ephemeral_gb=flavor.ephemeral, swap_mb=flavor.swap)
    others = [hosts.host_value(r) for r in rows if not r.disabled and r.name != server.host]
    allocation = select_host(others, hosts.usage(session), wanted, requests)
    if allocation is None:
        return False
    server.old_placement = {
        "host": server.host, "allocations": server.allocations,
        "ports": {p.id: p.profile["allocation"] for p in ports if "allocation" in p.profile}}
    server.host = allocation.host
    server.allocations = [list(item) for item in allocation.resources]
    for port in ports:
        port.host_id = allocation.host
        port.profile = {k: v for k, v in port.profile.items() if k != "allocation"}
    record_port_allocations(session, allocation)
    return True


def confirm_resize(server: Server) -> None:
    """The source host's allocation is released."""
    server.old_placement = None


def revert_resize(session: Session, server: Server) -> None:
    """Back to the source host: its allocation and the ports' bindings are restored, the
    destination's released."""
    old = server.old_placement
    if not old:
        return
    server.host, server.allocations = old["host"], old["allocations"]
    for port in session.scalars(sa.select(Port).where(Port.id.in_(list(server.port_ids)))):
        port.host_id = old["host"]
        port.profile = {k: v for k, v in port.profile.items() if k != "allocation"}
        if port.id in old["ports"]:
            port.profile = {**port.profile, "allocation": old["ports"][port.id]}
    server.old_placement = None
