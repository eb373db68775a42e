"""Scheduling a server being created: the request Nova makes, and where it lands.

The decisions are the core's (:func:`vmqos.intent.scheduling.select_host`,
:func:`vmqos.intent.neutron.resource_request.port_resource_request`); this module gathers
their inputs in the create's write transaction, with the host rows locked, so that the usage
it reads is the usage it adds to.

* Only ports that exist before the boot carry a request: Nova asks Neutron for the ports'
  ``resource_request`` before scheduling, and creates the ports it makes itself only on the
  compute host, after it (nova/network/neutron.py ``create_resource_requests``). A network's
  policy guarantees nothing to the ports Nova creates on it.
* Until a host is registered, every server goes to the service's built-in host unscheduled:
  there is no inventory to admit against (``None`` host, no allocations).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from vmqos.intent.neutron.resource_request import ResourceRequest, port_resource_request
from vmqos.intent.scheduling import Allocation, FlavorRequest, select_host
from vmqos.store import hosts
from vmqos.store.models import Flavor, Network, Port, QosPolicy
from vmqos.store.qos import policy_value

__all__ = ["port_request", "schedule"]



def port_request(session: Session, port: Port) -> ResourceRequest | None:
    """The port's ``resource_request``: from its own policy, else its network's."""
    network = session.get(Network, port.network_id)
    policy_id = port.qos_policy_id or (network.qos_policy_id if network else None)
    policy = session.get(QosPolicy, policy_id) if policy_id else None
    if policy is None or network is None:
        return None
    physnet = network.physical_network if network.network_type in ("vlan", "flat") else None
    return port_resource_request(port.id, port.vnic_type or "normal", physnet or None,
                                 policy_value(session, policy).rules)


def schedule(session: Session, flavor: Flavor,
             ports: Sequence[Port]) -> tuple[bool, Allocation | None]:
    """``(scheduled, allocation)``: ``(False, None)`` when no host is registered, else the
    allocation on the chosen host, or ``None`` for Nova's NoValidHost."""
    rows = hosts.list_hosts(session, lock=True)
    if not rows:
        return False, None
    requests = [r for r in (port_request(session, p) for p in ports) if r is not None]
    wanted = FlavorRequest(vcpus=flavor.vcpus, ram_mb=flavor.ram, root_gb=flavor.disk,
                           ephemeral_gb=flavor.ephemeral, swap_mb=flavor.swap)
    enabled = [hosts.host_value(r) for r in rows if not r.disabled]
    return True, select_host(enabled, hosts.usage(session), wanted, requests)
