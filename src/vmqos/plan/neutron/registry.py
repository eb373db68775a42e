"""Choose the Neutron QoS backend for a port: one port context, four agents.

:class:`PortContext` carries everything any backend needs to know about a port on a host;
:func:`compile_neutron` maps it onto the chosen backend's own inputs and compiles its plan,
and :func:`neutron_limits` / :func:`neutron_commands` give that plan's enforced limits and its
equivalent host commands. Backend names are Neutron's QoS driver / mechanism names:
``ovs`` (ML2/OVS agent), ``ovn`` (ML2/OVN), ``sriovnicswitch`` (SR-IOV agent) and
``linuxbridge`` (Linux bridge agent, removed in 2025.1).

Invariant: this module only dispatches; every behaviour lives in the backend modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vmqos.errors import ValidationError
from vmqos.intent.neutron.model import Rule
from vmqos.intent.neutron.network import tap_name
from vmqos.limits import Limit
from vmqos.plan.neutron.linuxbridge import (
    LinuxBridgePlan,
    compile_linuxbridge,
    linuxbridge_limits,
)
from vmqos.plan.neutron.ovn import OvnPlan, compile_ovn, ovn_limits
from vmqos.plan.neutron.ovs import OvsAgentPlan, OvsPortRef, compile_ovs_agent, ovs_agent_limits
from vmqos.plan.neutron.sriov import SriovPlan, compile_sriov, sriov_limits

__all__ = [
    "BACKENDS",
    "NeutronPlan",
    "PortContext",
    "compile_neutron",
    "neutron_commands",
    "neutron_limits",
]

BACKENDS: tuple[str, ...] = ("ovs", "ovn", "sriovnicswitch", "linuxbridge")
NeutronPlan = OvsAgentPlan | OvnPlan | SriovPlan | LinuxBridgePlan


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
    pf: str = ""
    mtu: int = 1500
    interface_type: str = ""         # OVS Interface.type
    device_owner: str = ""           # ML2/OVN skips network:* / neutron:* ports
    agent_id: str = ""               # OVS agent's min-bw QoS id

    @property
    def dev(self) -> str:
        return self.port_name or tap_name(self.port_id)


def compile_neutron(
    backend: str,
    port: PortContext,
    rules: Sequence[Rule],
    *,
    qos_meter_bandwidth: bool = False,
    neutron_release: int = 27,
    kernel_hz: int = 250,
    tbf_latency_ms: int = 50,
) -> NeutronPlan:
    """Compile ``rules`` for ``port`` with the named backend's agent/driver."""
    if backend == "ovs":
        return compile_ovs_agent(_ovs_port(port), rules,
                                 qos_meter_bandwidth=qos_meter_bandwidth)
    if backend == "ovn":
        return compile_ovn(port.port_id, port.network_id, port.network_type, rules,
                           neutron_release=neutron_release, device_owner=port.device_owner)
    if backend == "sriovnicswitch":
        return compile_sriov(port.pf, port.vf_index, rules)
    if backend == "linuxbridge":
        return compile_linuxbridge(port.dev, rules, kernel_hz=kernel_hz,
                                   tbf_latency_ms=tbf_latency_ms)
    allowed = ", ".join(BACKENDS)
    raise ValidationError(
        f"unknown Neutron QoS backend {backend!r}; choose one of: {allowed}",
        key="backend", value=backend, allowed=allowed,
    )


def _ovs_port(port: PortContext) -> OvsPortRef:
    return OvsPortRef(port.port_id, port.dev, port.ofport, port.mac, port.interface_type,
                      port.physical_network, port.local_vlan, port.agent_id, port.mtu)


def neutron_limits(
    backend: str,
    port: PortContext,
    rules: Sequence[Rule],
    *,
    source: str = "",
    qos_meter_bandwidth: bool = False,
    neutron_release: int = 27,
    kernel_hz: int = 250,
    tbf_latency_ms: int = 50,
) -> list[Limit]:
    """The limits the named backend enforces for ``rules`` on ``port``.

    ``source`` (e.g. ``"policy bw-limiter"``) prefixes each limit's rule description.
    """
    if backend == "ovs":  # the fast path: OVS limits without rendering rows and flows
        return ovs_agent_limits(_ovs_port(port), rules,
                                qos_meter_bandwidth=qos_meter_bandwidth, source=source)
    plan = compile_neutron(backend, port, rules, neutron_release=neutron_release,
                           kernel_hz=kernel_hz, tbf_latency_ms=tbf_latency_ms)
    if isinstance(plan, OvnPlan):
        return ovn_limits(plan, mtu=port.mtu, source=source)
    if isinstance(plan, SriovPlan):
        return sriov_limits(plan, source=source)
    assert isinstance(plan, LinuxBridgePlan)  # "ovs" took the fast path above
    return linuxbridge_limits(plan, source=source)


def neutron_commands(
    backend: str,
    port: PortContext,
    rules: Sequence[Rule],
    *,
    qos_meter_bandwidth: bool = False,
    neutron_release: int = 27,
    kernel_hz: int = 250,
    tbf_latency_ms: int = 50,
) -> list[str]:
    """The host commands equivalent to what the named backend writes for ``rules``."""
    return compile_neutron(backend, port=port, rules=rules,
                           qos_meter_bandwidth=qos_meter_bandwidth,
                           neutron_release=neutron_release, kernel_hz=kernel_hz,
                           tbf_latency_ms=tbf_latency_ms).commands()
