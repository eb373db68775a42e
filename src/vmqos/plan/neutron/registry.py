"""Choose the Neutron QoS backend for a port: one port context, four agents, one registry.

Each backend module exposes one object that satisfies :class:`QosBackend` (its name, how it
compiles a :class:`~vmqos.plan.neutron.port.PortContext` and rules into its own plan, and the
limits that plan enforces); :data:`REGISTRY` maps every :class:`~vmqos.model.NeutronBackend`
to it, as Neutron's QoS driver manager keeps its loaded drivers. :func:`compile_neutron`,
:func:`neutron_limits` and :func:`neutron_commands` look the backend up and ask it.

Invariant: this module only dispatches; every behaviour lives in the backend modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

from vmqos.errors import ValidationError
from vmqos.intent.neutron.model import Rule
from vmqos.limits import Limit
from vmqos.model import NeutronBackend
from vmqos.plan.neutron.linuxbridge import LINUXBRIDGE_AGENT, LinuxBridgePlan
from vmqos.plan.neutron.ovn import OVN, OvnPlan
from vmqos.plan.neutron.ovs import OVS_AGENT, OvsAgentPlan
from vmqos.plan.neutron.port import AgentOptions, PortContext
from vmqos.plan.neutron.sriov import SRIOV_AGENT, SriovPlan

__all__ = [
    "REGISTRY",
    "AgentOptions",
    "NeutronPlan",
    "PortContext",
    "QosBackend",
    "compile_neutron",
    "neutron_commands",
    "neutron_limits",
]

NeutronPlan = OvsAgentPlan | OvnPlan | SriovPlan | LinuxBridgePlan


class QosBackend(Protocol):
    """One Neutron QoS backend: what its agent or driver writes for a port, and what that
    enforces."""

    @property
    def name(self) -> NeutronBackend: ...

    def compile(self, port: PortContext, rules: Sequence[Rule],
                options: AgentOptions) -> NeutronPlan: ...

    def limits(self, port: PortContext, rules: Sequence[Rule], options: AgentOptions, *,
               source: str) -> list[Limit]: ...


REGISTRY: Mapping[NeutronBackend, QosBackend] = MappingProxyType({
    backend.name: backend for backend in (OVS_AGENT, OVN, SRIOV_AGENT, LINUXBRIDGE_AGENT)
})
assert tuple(REGISTRY) == tuple(NeutronBackend)  # every backend, in the enum's order


def _lookup(backend: NeutronBackend) -> QosBackend:
    # A StrEnum hashes as its value, so a caller that still holds the name finds it too.
    found = REGISTRY.get(backend)
    if found is None:
        allowed = ", ".join(NeutronBackend)
        raise ValidationError(
            f"unknown Neutron QoS backend {backend!r}; choose one of: {allowed}",
            key="backend", value=backend, allowed=allowed,
        )
    return found


def compile_neutron(
    backend: NeutronBackend,
    port: PortContext,
    rules: Sequence[Rule],
    *,
    qos_meter_bandwidth: bool = False,
    neutron_release: int = 27,
    kernel_hz: int = 250,
    tbf_latency_ms: int = 50,
) -> NeutronPlan:
    """Compile ``rules`` for ``port`` with the named backend's agent/driver."""
    return _lookup(backend).compile(port, rules, AgentOptions(
        qos_meter_bandwidth, neutron_release, kernel_hz, tbf_latency_ms))


def neutron_limits(
    backend: NeutronBackend,
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
    return _lookup(backend).limits(port, rules, AgentOptions(
        qos_meter_bandwidth, neutron_release, kernel_hz, tbf_latency_ms), source=source)


def neutron_commands(
    backend: NeutronBackend,
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
