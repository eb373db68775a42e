"""What every Neutron backend is given: one port as bound on a host, and the agents' options.

Shared by the four backend modules and the registry, so that the backends need not know each
other (the "Neutron backends are independent" contract) and the registry only dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.intent.neutron.network import tap_name

__all__ = ["AgentOptions", "PortContext"]


@dataclass(frozen=True, slots=True)
class PortContext:
    """One Neutron port as bound on a host; each backend reads the fields it needs."""

    port_id: str
    port_name: str = ""              # OVS port / tap device; "" = tap + port_id[:11]
    network_id: str = ""
    network_type: str = "vlan"       # provider:network_type
    physical_network: str | None = None
    mac: str = ""
    ofport: int = 1
    local_vlan: int = 1
    vf_index: int = 0
    # The VF's physical function (the SR-IOV agent's physical_device_mappings), which a
    # scenario does not carry: the macvtap lower device's stand-in, as in compile_domain.
    pf: str = "eth1"
    mtu: int = 1500
    interface_type: str = ""         # OVS Interface.type
    device_owner: str = ""           # ML2/OVN skips network:* / neutron:* ports
    agent_id: str = ""               # OVS agent's min-bw QoS id

    @property
    def dev(self) -> str:
        return self.port_name or tap_name(self.port_id)


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """The agents' and drivers' configuration that changes what they write; each backend reads
    the options that are its own."""

    qos_meter_bandwidth: bool = False   # OVS agent [ovs] qos_meter_bandwidth
    neutron_release: int = 27           # OVN: the release whose driver writes the rows
    kernel_hz: int = 250                # Linux bridge: the TBF burst floor (rate / HZ)
    tbf_latency_ms: int = 50            # Linux bridge agent's tbf latency
