"""Per port and VM direction: which layers enforce what, and which one decides.

Role: pure, and the one place where these behaviours of the world are decided — explain, the
server plan, the host plan and ``vmqos render`` all ask here:

* libvirt (>= 8.0) applies an OVS virtualport's ``<bandwidth>`` with ``ovs-vsctl``, not tc
  (libvirt virNetDevOpenvswitchInterfaceSetQos; profile ``libvirt_ovs_qos``);
* ovs-vswitchd deletes the ingress qdisc libvirt put on a tap that sits in br-int
  (ovs-issues #210; the seed note's ``tc qdisc show`` has no ingress line for that reason);
* libvirt's default ``noqueue`` root skips OVS ports (libvirt
  qemuDomainInterfaceSetDefaultQDisc);
* with OVS hybrid plug the OVS agent shapes the qvo end of the veth, not the tap;
* layers combine by the host object they write (docs/architecture.md "Layers combine";
  ovs-issues #210): layers on different objects act in series and the stricter rate decides;
  layers writing the same object do not add up — the last writer wins, and the Neutron agent,
  which writes after libvirt has started the domain and re-asserts on every resync, is the
  last writer.

:func:`libvirt_port` decides libvirt's side of one interface; :func:`enforce_port` adds the
Neutron agent's layers and combines them per direction into a :class:`PortEnforcement`.
Direction is always the VM's (``Direction.INBOUND`` = to the guest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vmqos.intent.findings import Finding, Severity
from vmqos.intent.neutron.model import QosPolicy
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import FlavorQuota
from vmqos.libvirt_types import Bandwidth
from vmqos.limits import Limit
from vmqos.model import Direction, Enforcer, NeutronBackend, VifType, host_view
from vmqos.plan.kernel.burst import policer_tcp_burst_floor
from vmqos.plan.neutron.registry import PortContext, neutron_limits
from vmqos.plan.nova.compile import compile_bandwidth
from vmqos.plan.render.ovs_libvirt import ovs_libvirt_limits
from vmqos.plan.render.tc import tc_limits
from vmqos.profile import Profile
from vmqos.units import bits_per_sec_to_bytes, format_bits_per_sec, format_bytes

__all__ = [
    "DirectionEnforcement",
    "LibvirtPort",
    "PortEnforcement",
    "combine_layers",
    "enforce_port",
    "libvirt_port",
    "neutron_device",
]

# Enforcers that run in the Neutron agent, i.e. write after libvirt and re-assert on resync.
_AGENT_WRITERS = frozenset({Enforcer.OVS_AGENT, Enforcer.LINUXBRIDGE})


@dataclass(frozen=True, slots=True)
class LibvirtPort:
    """How libvirt applies one interface's ``<bandwidth>`` on this compute node."""

    bandwidth: Bandwidth | None        # what Nova writes (None: no <bandwidth>)
    uses_ovsdb: bool                   # libvirt writes OVS QoS rows instead of running tc
    ingress_removed_by_ovs: bool       # ovs-vswitchd deletes libvirt's ingress qdisc
    noqueue: bool                      # libvirt puts a noqueue root qdisc on the device first
    refused: bool = False              # libvirt refuses the <bandwidth>: the domain won't start

    @property
    def applied(self) -> Bandwidth | None:
        """The ``<bandwidth>`` libvirt enforces: none where it refuses to start the domain."""
        return None if self.refused else self.bandwidth

    @property
    def tc_bandwidth(self) -> Bandwidth | None:
        """What libvirt hands to tc: nothing when it uses ovsdb for this port."""
        return None if self.uses_ovsdb else self.applied


def _ovs_owns_tap(vif_type: VifType, backend: NeutronBackend | None) -> bool:
    # A tap plugged straight into br-int belongs to ovs-vswitchd, whatever Neutron backend
    # programs it (ML2/OVS or OVN both run ovs-vswitchd on the compute node). Without a known
    # backend only an OVS virtualport is known to sit in br-int.
    if backend is None:
        return vif_type is VifType.OVS_BRIDGE
    return vif_type in (VifType.OVS_BRIDGE, VifType.ETHERNET) and backend.runs_ovs_vswitchd


def libvirt_port(vif_type: VifType, bandwidth: Bandwidth | None, profile: Profile,
                 backend: NeutronBackend | None) -> LibvirtPort:
    """libvirt's side of one interface. ``backend`` ``None``: the Neutron backend is not known
    (``vmqos render``), and only the VIF type says whether the tap sits in br-int."""
    return LibvirtPort(
        bandwidth=bandwidth,
        uses_ovsdb=vif_type.libvirt_uses_ovsdb and profile.libvirt_ovs_qos,
        ingress_removed_by_ovs=_ovs_owns_tap(vif_type, backend),
        noqueue=profile.libvirt_noqueue and vif_type is not VifType.OVS_BRIDGE,
        refused=bandwidth is not None and vif_type.libvirt_refuses_bandwidth,
    )


def neutron_device(port: Port, backend: NeutronBackend) -> str:
    """The device the Neutron agent programs for ``port``."""
    # OVS hybrid plug: the OVS agent shapes the qvo end of the veth into br-int, not the tap.
    # The Linux bridge agent shapes the tap itself (the same device libvirt shapes).
    if port.vif_type is VifType.OVS_HYBRID and backend is NeutronBackend.OVS:
        return "qvo" + port.id[:11]
    return port.tap


# --- combining layers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirectionEnforcement:
    direction: Direction
    layers: tuple[Limit, ...]          # every layer that enforces something in this direction
    effective: Limit | None            # the layer whose rate applies; None = no rate limit
    rule: str                          # why that layer decides
    overridden: tuple[Limit, ...] = ()  # layers removed by a later writer of the same object


@dataclass(frozen=True, slots=True)
class PortEnforcement:
    """Everything that limits one port: libvirt's side and, per direction, every layer and
    the one that decides. ``findings`` say where layers lose to each other."""

    libvirt: LibvirtPort
    inbound: DirectionEnforcement
    outbound: DirectionEnforcement
    findings: tuple[Finding, ...]

    def direction(self, direction: Direction) -> DirectionEnforcement:
        return self.inbound if direction is Direction.INBOUND else self.outbound


def _object_slot(limit: Limit) -> tuple[str, str]:
    """The host object a layer writes: layers with the same slot replace each other."""
    enforcer, direction = limit.enforcer, limit.direction
    if enforcer is Enforcer.OVN:
        return (limit.device, "ovn-meter")
    if enforcer is Enforcer.SRIOV:
        return (limit.device, "vf-rate")
    # On macvtap the guest's inbound traffic is the device's receive side (not swapped).
    receive_side = (direction is Direction.INBOUND) == (enforcer is Enforcer.TC_MACVTAP)
    return (limit.device, "ingress-qdisc" if receive_side else "root-qdisc")


def _describe(limit: Limit) -> str:
    rate = "no cap" if limit.rate is None else format_bits_per_sec(limit.rate)
    return f"{limit.enforcer.value} ({rate})"


def _ovs_removed_finding(limit: Limit) -> Finding:
    return Finding(
        code="ovs-removes-libvirt-ingress-qdisc",
        severity=Severity.WARNING,
        key=limit.source,
        value=format_bits_per_sec(limit.rate) if limit.rate is not None else "-",
        reason=("the tap is an Open vSwitch port: ovs-vswitchd owns tc ingress policing on "
                "its ports and deletes the ingress qdisc libvirt installed for the outbound "
                "limit (ovs-issues #210; the seed note's tc output shows no ingress qdisc on "
                "such a tap), so traffic from the VM is not limited by the flavor."),
        advice=("Limit VM outbound traffic with a Neutron bandwidth_limit egress rule "
                "(OVS ingress_policing), or plug the port with OVS hybrid plug."),
    )


def combine_layers(
    direction: Direction, layers: Sequence[Limit], *, ingress_removed_by_ovs: bool = False
) -> tuple[DirectionEnforcement, list[Finding]]:
    """Which of one direction's ``layers`` decides, and the findings of those that lose."""
    findings: list[Finding] = []
    by_slot: dict[tuple[str, str], list[Limit]] = {}
    survivors: list[Limit] = []
    overridden: list[Limit] = []
    for layer in layers:
        slot = _object_slot(layer)
        if (ingress_removed_by_ovs and layer.enforcer is Enforcer.TC_TAP
                and slot[1] == "ingress-qdisc" and layer.rate is not None):
            overridden.append(layer)
            findings.append(_ovs_removed_finding(layer))
            continue
        by_slot.setdefault(slot, []).append(layer)

    for (_, object_name), writers in by_slot.items():
        if len(writers) == 1:
            survivors.append(writers[0])
            continue
        # The agent writes last and re-asserts; among equals, keep list order (libvirt first).
        last = max(writers, key=lambda w: w.enforcer in _AGENT_WRITERS)
        survivors.append(last)
        for lost in writers:
            if lost is last:
                continue
            overridden.append(lost)
            findings.append(Finding(
                code="same-object-last-writer-wins",
                severity=Severity.WARNING,
                key=lost.source,
                value=format_bits_per_sec(lost.rate) if lost.rate is not None else "-",
                reason=(f"{lost.enforcer.value} and {last.enforcer.value} both configure "
                        f"the port's {object_name} ({host_view(last.enforcer, direction)}); the "
                        f"{last.enforcer.value} writes last and re-asserts on every resync, "
                        "so this limit is silently replaced (OVS owns QoS on its ports: "
                        "ovs-issues #210)."),
                advice=("Enforce this direction in one place: drop the flavor's quota:vif_* "
                        "keys and use the Neutron policy, or use OVS hybrid plug so the two "
                        "act in series on tap and qvo."),
            ))

    capped = [s for s in survivors if s.rate is not None]
    if not capped:
        effective, rule = None, ("no layer caps the rate" if not survivors
                                 else "layers present, none caps the rate")
    elif len(capped) == 1:
        effective = capped[0]
        rule = "only rate-limiting layer"
        if overridden:
            rule = "only layer left: the others were overridden on the same object"
    else:
        effective = min(capped, key=lambda s: s.rate or 0)
        rule = (f"stricter of {len(capped)} layers in series: "
                + ", ".join(_describe(s) for s in capped))
    if effective is not None and effective.rate and effective.burst is not None:
        floor = policer_tcp_burst_floor(bits_per_sec_to_bytes(effective.rate))
        if effective.burst < floor and effective.mechanism.small_burst_drops_tcp:
            findings.append(Finding(
                code="burst-too-small-for-tcp",
                severity=Severity.WARNING,
                key=effective.source,
                value=format_bytes(effective.burst),
                reason=(f"a policer with {format_bytes(effective.burst)} of burst at "
                        f"{format_bits_per_sec(effective.rate)} drops TCP bursts (needs at "
                        f"least {format_bytes(floor)}: 400 ms of the rate and one 64 KiB GSO "
                        "packet), so goodput stays well below the limit (measured in the "
                        "reference node: 100 ms of burst gave TCP 0.46 of the rate)."),
                advice="Give an explicit burst of 40-80 % of one second of the rate.",
            ))
    enforcement = DirectionEnforcement(
        direction=direction,
        layers=tuple(layers),
        effective=effective,
        rule=rule,
        overridden=tuple(overridden),
    )
    return enforcement, findings


# --- per port --------------------------------------------------------------------------------


def enforce_port(
    port: Port,
    network: Network,
    *,
    flavor: str,
    quota: FlavorQuota,
    policy: QosPolicy | None,
    backend: NeutronBackend,
    profile: Profile,
) -> PortEnforcement:
    """Every layer that limits ``port`` (libvirt's for the flavor ``flavor``'s ``quota:vif_*``,
    the Neutron agent's for its effective ``policy``) and, per direction, the one that
    decides. Findings come in direction order and without repeats."""
    libvirt = libvirt_port(port.vif_type, compile_bandwidth(quota, port.vif_type), profile,
                           backend)
    layers: list[Limit] = []
    if libvirt.applied is not None:
        source = f"flavor {flavor} quota:vif_*"
        if libvirt.uses_ovsdb:
            layers = ovs_libvirt_limits(port.tap, libvirt.applied, source=source)
        else:
            layers = tc_limits(port.tap, libvirt.applied, swapped=port.vif_type.swapped,
                               source=source)
    if policy is not None:
        ctx = PortContext(port_id=port.id, port_name=neutron_device(port, backend),
                          network_type=network.network_type,
                          physical_network=network.physical_network,
                          mtu=network.mtu, device_owner=port.device_owner)
        layers += neutron_limits(backend, ctx, policy.rules, source=f"policy {policy.name}")
    findings: list[Finding] = []
    per_direction = []
    for direction in Direction:
        enforcement, extra = combine_layers(
            direction, [layer for layer in layers if layer.direction is direction],
            ingress_removed_by_ovs=libvirt.ingress_removed_by_ovs)
        findings.extend(extra)
        per_direction.append(enforcement)
    return PortEnforcement(libvirt=libvirt, inbound=per_direction[0],
                           outbound=per_direction[1], findings=tuple(dict.fromkeys(findings)))
