"""Explain: per server, port and direction, every layer that limits traffic and which one wins.

Inputs are a validated :class:`~vmqos.intent.scenario.Scenario` and a compute-node
:class:`~vmqos.profile.Profile`; the output is plain data (rendered as tables or JSON by
the CLI). Each backend reports what it enforces as :class:`~vmqos.limits.Limit` values;
this module only decides how they combine (docs/architecture.md \"Layers combine\"; ovs-issues
#210):

* Layers on **different objects** act in series: the stricter rate decides.
* Layers writing **the same host object** (the tap's root qdisc, its ingress qdisc/OVS
  policing, an OVS Interface column) do not add up: the last writer wins. The Neutron agent
  writes after libvirt has started the domain and re-asserts its values on every resync, so it
  is the last writer; OVS also deletes a foreign ingress qdisc when it configures policing
  (ovs-issues #210). The losing layer is reported as overridden, with a finding.

Direction is always the VM's (``Direction.INBOUND`` = to the guest); each layer also carries
its host-side name via :func:`vmqos.model.host_view`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache

from vmqos.intent.findings import Finding, Severity
from vmqos.intent.neutron.binding import effective_policy_id
from vmqos.intent.neutron.model import QosPolicy
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import Flavor, FlavorQuota
from vmqos.intent.scenario import Scenario, Server
from vmqos.limits import Limit
from vmqos.model import Direction, Enforcer, NeutronBackend, VifType, host_view
from vmqos.plan.explain.lint import lint_flavor_quota
from vmqos.plan.neutron.registry import PortContext, neutron_limits
from vmqos.plan.nova.compile import compile_bandwidth
from vmqos.plan.render.cgroup import shares_to_weight
from vmqos.plan.render.ovs_libvirt import ovs_libvirt_limits
from vmqos.plan.render.tc import tc_limits
from vmqos.profile import CgroupVersion, Profile
from vmqos.units import format_bits_per_sec, format_bytes

__all__ = [
    "LOGICAL_PORT",
    "QVO",
    "TAP",
    "CpuExplanation",
    "DirectionExplanation",
    "DiskExplanation",
    "PortExplanation",
    "ScenarioExplanation",
    "ServerExplanation",
    "explain_scenario",
]

# Enforcers that run in the Neutron agent, i.e. write after libvirt and re-assert on resync.
_AGENT_WRITERS = frozenset({Enforcer.OVS_AGENT, Enforcer.LINUXBRIDGE})
# Below this much burst a policer starves TCP (Neutron's 80 % default exists for this reason,
# LP #1572670); we flag bursts under 10 ms of the rate or two full frames.
_MIN_BURST_SECONDS = 0.010
_FRAME_BYTES = 1514


# Roles a layer's ``device`` names in an explanation. Explanations are shared by every port
# with the same flavor, VIF type, policy and network (a cloud has few such combinations and
# many ports), so layers name the object by role; PortExplanation.device_of resolves it.
TAP = "{tap}"                  # the port's tap (or macvtap) device
QVO = "{qvo}"                  # the OVS end of the hybrid-plug veth pair
LOGICAL_PORT = "{port}"        # the Neutron port itself (OVN logical switch port)


@dataclass(frozen=True, slots=True)
class DirectionExplanation:
    direction: Direction
    layers: tuple[Limit, ...]          # every layer that enforces something in this direction
    effective: Limit | None            # the layer whose rate applies; None = no rate limit
    rule: str                          # why that layer decides
    overridden: tuple[Limit, ...] = ()  # layers removed by a later writer of the same object


@dataclass(frozen=True, slots=True)
class PortExplanation:
    server: str
    port_id: str
    network: str
    vif_type: VifType
    device: str
    policy: str | None                 # the effective Neutron policy's name
    policy_source: str | None          # "port" or "network"
    inbound: DirectionExplanation
    outbound: DirectionExplanation
    findings: tuple[Finding, ...]

    def direction(self, direction: Direction) -> DirectionExplanation:
        return self.inbound if direction is Direction.INBOUND else self.outbound

    def device_of(self, limit: Limit) -> str:
        """The host device a layer of this port sits on (layers name it by role)."""
        role = limit.device
        if role == TAP:
            return self.device
        if role == QVO:
            return "qvo" + self.port_id[:11]
        if role == LOGICAL_PORT:
            return self.port_id
        return role


@dataclass(frozen=True, slots=True)
class CpuExplanation:
    shares: int | None
    shares_source: str                 # "flavor", "Nova default 1024×vCPUs", "none"
    period: int | None
    quota: int | None
    cgroup: str
    cgroup_value: str                  # what the domain cgroup gets
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DiskExplanation:
    target_dev: str
    kind: str                          # "image" (local) or "volume" (Cinder)
    limits: tuple[tuple[str, int], ...]
    enforced_by: str


@dataclass(frozen=True, slots=True)
class ServerExplanation:
    name: str
    flavor: str
    cpu: CpuExplanation
    disks: tuple[DiskExplanation, ...]
    ports: tuple[PortExplanation, ...]
    findings: tuple[Finding, ...]      # flavor-level (CPU, disk) findings


@dataclass(frozen=True, slots=True)
class ScenarioExplanation:
    profile: str
    neutron_backend: NeutronBackend
    servers: tuple[ServerExplanation, ...]

    def findings(self) -> list[Finding]:
        out: list[Finding] = []
        for server in self.servers:
            out.extend(server.findings)
            for port in server.ports:
                out.extend(port.findings)
        return out


# --- combining layers ------------------------------------------------------------------------


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


def _combine(
    direction: Direction, layers: Sequence[Limit], *, ovs_port: bool = False
) -> tuple[DirectionExplanation, list[Finding]]:
    findings: list[Finding] = []
    by_slot: dict[tuple[str, str], list[Limit]] = {}
    survivors: list[Limit] = []
    overridden: list[Limit] = []
    for layer in layers:
        slot = _object_slot(layer)
        if (ovs_port and layer.enforcer is Enforcer.TC_TAP and slot[1] == "ingress-qdisc"
                and layer.rate is not None):
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
        floor = max(2 * _FRAME_BYTES, int(effective.rate / 8 * _MIN_BURST_SECONDS))
        if effective.burst < floor and effective.mechanism.small_burst_drops_tcp:
            findings.append(Finding(
                code="burst-too-small-for-tcp",
                severity=Severity.WARNING,
                key=effective.source,
                value=format_bytes(effective.burst),
                reason=(f"a policer with {format_bytes(effective.burst)} of burst at "
                        f"{format_bits_per_sec(effective.rate)} drops TCP bursts (needs at "
                        f"least {format_bytes(floor)}: 10 ms of rate or two {_FRAME_BYTES} B "
                        "frames), so goodput stays well below the limit."),
                advice="Give an explicit burst of 10-80 % of one second of the rate.",
            ))
    explanation = DirectionExplanation(
        direction=direction,
        layers=tuple(layers),
        effective=effective,
        rule=rule,
        overridden=tuple(overridden),
    )
    return explanation, findings


# --- per port --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _port_lint(quota: FlavorQuota, vcpus: int, vif_type: VifType) -> tuple[Finding, ...]:
    return tuple(f for f in lint_flavor_quota(quota, vcpus=vcpus, vif_types=(vif_type,))
                 if f.key.startswith("quota:vif_"))


def _flavor_layers(
    flavor_name: str, quota: FlavorQuota, port: Port, profile: Profile
) -> list[Limit]:
    bandwidth = compile_bandwidth(quota, port.vif_type)
    if bandwidth is None:
        return []
    source = f"flavor {flavor_name} quota:vif_*"
    if port.vif_type.libvirt_uses_ovsdb and profile.libvirt_ovs_qos:
        return ovs_libvirt_limits(port.tap, bandwidth, source=source)
    return tc_limits(port.tap, bandwidth, swapped=port.vif_type.swapped, source=source)


def _neutron_device(port: Port, backend: NeutronBackend) -> str:
    # OVS hybrid plug: the OVS agent shapes the qvo end of the veth into br-int, not the tap.
    # The Linux bridge agent shapes the tap itself (the same device libvirt shapes).
    if port.vif_type is VifType.OVS_HYBRID and backend is NeutronBackend.OVS:
        return "qvo" + port.id[:11]
    return port.tap


# Explaining a port depends on its flavor, VIF type, policy and network, not on its identity:
# each combination is explained once, for a placeholder port, and shared by every port that
# has it (layers name devices by role; findings carry no port-specific text).
_PLACEHOLDER_ID = "\x00port"
_ROLES = {"tap" + _PLACEHOLDER_ID: TAP, "qvo" + _PLACEHOLDER_ID: QVO, _PLACEHOLDER_ID: LOGICAL_PORT}


def _as_role(limit: Limit) -> Limit:
    role = _ROLES.get(limit.device)
    return limit if role is None else replace(limit, device=role)


@dataclass(frozen=True, slots=True)
class _PortTemplate:
    inbound: DirectionExplanation
    outbound: DirectionExplanation
    findings: tuple[Finding, ...]


@lru_cache(maxsize=1 << 16)
def _port_template(
    flavor_name: str,
    quota: FlavorQuota,
    vcpus: int,
    vif_type: VifType,
    profile: Profile,
    backend: NeutronBackend,
    policy: QosPolicy | None,
    network: tuple[str, str | None, int],
    device_owner: str,
) -> _PortTemplate:
    """Explain one combination for a placeholder port; devices become roles."""
    port = Port(id=_PLACEHOLDER_ID, network_id="", vif_type=vif_type,
                device_owner=device_owner)
    layers = _flavor_layers(flavor_name, quota, port, profile)
    if policy is not None:
        network_type, physical_network, mtu = network
        ctx = PortContext(port_id=port.id, port_name=_neutron_device(port, backend),
                          network_type=network_type, physical_network=physical_network,
                          mtu=mtu, device_owner=device_owner)
        layers += neutron_limits(backend, ctx, policy.rules, source=f"policy {policy.name}")
    layers = [_as_role(layer) for layer in layers]
    findings = list(_port_lint(quota, vcpus, vif_type))
    # A tap plugged straight into br-int belongs to ovs-vswitchd, whatever Neutron backend
    # programs it (ML2/OVS or OVN both run ovs-vswitchd on the compute node).
    ovs_port = vif_type in (VifType.OVS_BRIDGE, VifType.ETHERNET) and backend.runs_ovs_vswitchd
    per_direction = []
    for direction in Direction:
        explanation, extra = _combine(
            direction, [layer for layer in layers if layer.direction is direction],
            ovs_port=ovs_port)
        findings.extend(extra)
        per_direction.append(explanation)
    return _PortTemplate(inbound=per_direction[0], outbound=per_direction[1],
                         findings=tuple(dict.fromkeys(findings)))


def explain_port(
    server: Server,
    flavor: Flavor,
    quota: FlavorQuota,
    port: Port,
    network: Network,
    policies: dict[str, QosPolicy],
    backend: NeutronBackend,
    profile: Profile,
    templates: dict[tuple[str, ...], _PortTemplate] | None = None,
) -> PortExplanation:
    """Explain one port. ``templates`` caches per-combination work within one explain run
    (keys are cheap strings: the flavor, VIF type, policy and network are fixed for a run)."""
    policy_id = effective_policy_id(port, network, backend=backend)
    policy = policies.get(policy_id) if policy_id else None
    key = (flavor.name, port.vif_type.value, policy_id or "", network.id, port.device_owner)
    template = None if templates is None else templates.get(key)
    if template is None:
        template = _port_template(
            flavor.name, quota, flavor.vcpus, port.vif_type, profile, backend, policy,
            (network.network_type, network.physical_network, network.mtu), port.device_owner)
        if templates is not None:
            templates[key] = template
    return PortExplanation(
        server=server.name,
        port_id=port.id,
        network=network.name,
        vif_type=port.vif_type,
        device=port.tap,
        policy=policy.name if policy else None,
        policy_source=(None if policy is None
                       else "port" if port.qos_policy_id == policy_id else "network"),
        inbound=template.inbound,
        outbound=template.outbound,
        findings=template.findings,
    )


# --- per server ------------------------------------------------------------------------------


def _explain_cpu(flavor: Flavor, quota: FlavorQuota, profile: Profile) -> CpuExplanation:
    shares, source = quota.cpu_shares, "flavor quota:cpu_shares"
    if shares is None and profile.nova_default_shares:
        shares, source = 1024 * flavor.vcpus, "Nova default 1024 × vCPUs (Kilo–Yoga)"
    elif shares is None:
        source = "none (kernel default)"
    notes: list[str] = []
    if profile.cgroup is CgroupVersion.V2:
        if shares is None:
            value = "cpu.weight=100 (default)"
        else:
            weight = shares_to_weight(shares, profile.shares_policy)
            value = f"cpu.weight={weight}"
            notes.append(f"shares→weight policy: {profile.shares_policy.value}")
    else:
        value = f"cpu.shares={shares if shares is not None else 1024}"
    if quota.cpu_quota is not None:
        period = quota.cpu_period or 100000
        notes.append(f"each vCPU capped at {quota.cpu_quota / period:.0%} of one host CPU "
                     f"({flavor.vcpus} vCPU(s): up to {flavor.vcpus * quota.cpu_quota / period:.2f}"
                     " CPUs in total)" if quota.cpu_quota > 0 else "quota negative: unlimited")
    return CpuExplanation(
        shares=shares,
        shares_source=source,
        period=quota.cpu_period,
        quota=quota.cpu_quota,
        cgroup=profile.cgroup,
        cgroup_value=value,
        notes=tuple(notes),
    )


def _explain_disks(server: Server, quota: FlavorQuota) -> tuple[DiskExplanation, ...]:
    disks: list[DiskExplanation] = []
    if server.image_id is not None:
        disks.append(DiskExplanation(
            target_dev="vda", kind="image", limits=tuple(quota.disk.items()),
            enforced_by="QEMU block throttling (flavor quota:disk_*)"))
    for volume in server.volumes:
        disks.append(DiskExplanation(
            target_dev=volume.target_dev, kind="volume",
            limits=tuple(sorted((k, int(v)) for k, v in volume.qos_specs.items()
                                if v.isdigit())),
            enforced_by="QEMU block throttling (Cinder front-end QoS); flavor quotas never apply"))
    return tuple(disks)


@dataclass(frozen=True, slots=True)
class _Index:
    """The scenario's objects by id, built once: explain runs over hundreds of thousands of
    ports, so every lookup must be O(1)."""

    flavors: dict[str, Flavor]
    quotas: dict[str, FlavorQuota]
    ports: dict[str, Port]
    networks: dict[str, Network]
    policies: dict[str, QosPolicy]
    templates: dict[tuple[str, ...], _PortTemplate]
    server_parts: dict[tuple[str, bool, bool], tuple[CpuExplanation, tuple[Finding, ...]]]
    local_disks: dict[tuple[str, bool, bool], tuple[DiskExplanation, ...]]

    @classmethod
    def build(cls, scenario: Scenario) -> _Index:
        flavors = {ref: f for f in scenario.flavors for ref in (f.name, f.id) if ref}
        return cls(
            flavors=flavors,
            quotas={f.name: f.quota for f in scenario.flavors},
            ports={p.id: p for p in scenario.ports},
            networks={n.id: n for n in scenario.networks},
            policies={p.id: p for p in scenario.policies},
            templates={},
            server_parts={},
            local_disks={},
        )


def explain_server(scenario: Scenario, server: Server, profile: Profile,
                   index: _Index | None = None) -> ServerExplanation:
    index = index or _Index.build(scenario)
    flavor = index.flavors[server.flavor]
    quota = index.quotas[flavor.name]
    ports = []
    for port_id in server.ports:
        port = index.ports[port_id]
        network = index.networks[port.network_id]
        ports.append(explain_port(server, flavor, quota, port, network, index.policies,
                                  scenario.neutron_backend, profile, index.templates))
    # CPU, local-disk and flavor findings depend on the flavor and the boot source only.
    boot_from_volume, has_volumes = server.image_id is None, bool(server.volumes)
    key = (flavor.name, boot_from_volume, has_volumes)
    shared = index.server_parts.get(key)
    if shared is None:
        shared = (
            _explain_cpu(flavor, quota, profile),
            _server_lint(quota, flavor.vcpus, profile.cgroup,
                         profile.libvirt_generic_shares_check, boot_from_volume, has_volumes),
        )
        index.server_parts[key] = shared
    cpu, findings = shared
    if has_volumes:
        disks = _explain_disks(server, quota)
    else:
        disks = index.local_disks.get(key) or index.local_disks.setdefault(
            key, _explain_disks(server, quota))
    return ServerExplanation(
        name=server.name,
        flavor=flavor.name,
        cpu=cpu,
        disks=disks,
        ports=tuple(ports),
        findings=findings,
    )


@lru_cache(maxsize=4096)
def _server_lint(quota: FlavorQuota, vcpus: int, cgroup: str, generic_check: bool,
                 boot_from_volume: bool, has_volumes: bool) -> tuple[Finding, ...]:
    return tuple(
        f for f in lint_flavor_quota(
            quota, vcpus=vcpus, cgroup=cgroup, libvirt_generic_shares_check=generic_check,
            boot_from_volume=boot_from_volume, has_volumes=has_volumes)
        if not f.key.startswith("quota:vif_"))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large, acyclic result.

    An explanation of a large cloud is millions of small objects, none in a reference cycle,
    so the collector can free nothing while it is built — yet it rescans the growing heap
    thousands of times, which measured at 40-45 % of explain's time for 300,000 ports
    (benchmarks/explain_render.py). Reference counting still frees everything as usual; the
    collector's previous state is restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def explain_scenario(scenario: Scenario, profile: Profile) -> ScenarioExplanation:
    with _cyclic_gc_paused():
        index = _Index.build(scenario)
        return ScenarioExplanation(
            profile=profile.name,
            neutron_backend=scenario.neutron_backend,
            servers=tuple(explain_server(scenario, s, profile, index)
                          for s in scenario.servers),
        )
