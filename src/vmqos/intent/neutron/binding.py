"""Which QoS policy a port actually gets: its own, its network's, or none (neutron
QosRule.should_apply_to_port).

* The port's ``qos_policy_id`` wins over the network's, and **replaces** it: rules are never
  merged (L2 agent ``handle_port``; bugs 1659312/1665282).
* A network policy reaches a port without its own policy only if the port's ``device_owner``
  does not start with ``network:`` or ``neutron:`` (``DEVICE_OWNER_PREFIXES``), or starts with
  ``network:router_gateway`` / ``network:floatingip_agent_gateway``
  (``QosRule.should_apply_to_port``, used by the OVS, SR-IOV and Linux bridge agents).
* ML2/OVN (``port_effective_qos_policy_id``): no policy at all for any ``network:``/``neutron:``
  port, not even its own; router gateways get QoS through the router-gateway feature instead.

Pure and cheap (a few ``startswith`` per port): explain calls this for every port.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from vmqos.errors import ValidationError
from vmqos.intent.neutron.network import Network, Port
from vmqos.model import NeutronBackend

__all__ = ["EffectivePolicy", "PolicySource", "effective_policy_id", "policy_source",
           "resolve_policy"]

# neutron-lib constants: DEVICE_OWNER_PREFIXES, DEVICE_OWNER_ROUTER_GW, DEVICE_OWNER_AGENT_GW.
_NETWORK_DEVICE_PREFIXES = ("network:", "neutron:")
_GATEWAY_PREFIXES = ("network:router_gateway", "network:floatingip_agent_gateway")


class PolicySource(Enum):
    PORT = "port"
    NETWORK = "network"


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """The policy a port gets and why; ``describe()`` is explain's one-liner."""

    policy_id: str | None
    source: PolicySource | None
    port_policy_id: str | None
    network_policy_id: str | None
    device_owner: str
    backend: NeutronBackend

    def describe(self) -> str:
        port_p, net_p, owner = self.port_policy_id, self.network_policy_id, self.device_owner
        if self.source is PolicySource.PORT:
            if net_p and net_p != port_p:
                return f"port policy {port_p} (replaces network policy {net_p})"
            return f"port policy {port_p}"
        if self.source is PolicySource.NETWORK:
            return f"network policy {net_p}"
        if not self.backend.has_l2_agent and owner.startswith(_NETWORK_DEVICE_PREFIXES) and (
                port_p or net_p):
            ignored = f"port policy {port_p}" if port_p else f"network policy {net_p}"
            return f"none: OVN applies no QoS to {owner} ports ({ignored} ignored)"
        if net_p:
            return f"none: network policy {net_p} does not apply to {owner} ports"
        return "none"


def _network_policy_applies(device_owner: str) -> bool:
    return (not device_owner.startswith(_NETWORK_DEVICE_PREFIXES)
            or device_owner.startswith(_GATEWAY_PREFIXES))


def _backend(backend: NeutronBackend) -> NeutronBackend:
    # The member itself when the caller parsed it; a name from a caller that did not.
    try:
        return NeutronBackend(backend)
    except ValueError:
        allowed = ", ".join(NeutronBackend)
        raise ValidationError(f"Unknown QoS backend '{backend}'; valid backends: {allowed}",
                              key="backend", value=backend, allowed=allowed) from None


def _source(port: Port, network: Network, backend: NeutronBackend) -> PolicySource | None:
    owner = port.device_owner
    if not backend.has_l2_agent:  # ML2/OVN port_effective_qos_policy_id
        if owner.startswith(_NETWORK_DEVICE_PREFIXES):
            return None
        if port.qos_policy_id:
            return PolicySource.PORT
        return PolicySource.NETWORK if network.qos_policy_id else None
    # The L2 agents: QosRule.should_apply_to_port.
    if port.qos_policy_id:
        return PolicySource.PORT
    if network.qos_policy_id and _network_policy_applies(owner):
        return PolicySource.NETWORK
    return None


def policy_source(port: Port, network: Network, *,
                  backend: NeutronBackend) -> PolicySource | None:
    """Where the effective policy comes from (``None``: the port gets no policy)."""
    return _source(port, network, _backend(backend))


def effective_policy_id(port: Port, network: Network, *, backend: NeutronBackend) -> str | None:
    """The id of the one policy applied to ``port`` on ``backend``, or ``None``."""
    source = _source(port, network, _backend(backend))
    if source is PolicySource.PORT:
        return port.qos_policy_id
    if source is PolicySource.NETWORK:
        return network.qos_policy_id
    return None


def resolve_policy(port: Port, network: Network, *, backend: NeutronBackend) -> EffectivePolicy:
    """:func:`effective_policy_id` with its reason, for explain."""
    backend = _backend(backend)
    source = _source(port, network, backend)
    policy_id = (port.qos_policy_id if source is PolicySource.PORT
                 else network.qos_policy_id if source is PolicySource.NETWORK else None)
    return EffectivePolicy(policy_id, source, port.qos_policy_id, network.qos_policy_id,
                           port.device_owner, backend)
