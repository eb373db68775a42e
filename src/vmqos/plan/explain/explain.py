"""Explain: per server, port and direction, every layer that limits traffic and which one wins.

Inputs are a validated :class:`~vmqos.intent.scenario.Scenario` and a compute-node
:class:`~vmqos.profile.Profile`; the output is plain data (rendered as tables or JSON by
the CLI). Which layers enforce what on a port, and which one decides, is
:func:`vmqos.plan.enforcement.enforce_port`'s decision (layers on different objects act in
series, the last writer of the same object wins, ovs-issues #210); this module adds the lint
findings, the CPU and disk sections, and shares the work between ports that only differ in
their identity.

Direction is always the VM's (``Direction.INBOUND`` = to the guest); each layer also carries
its host-side name via :func:`vmqos.model.host_view`. What the scenario's reader set aside
(:mod:`vmqos.intent.set_aside`) is carried through unchanged: explain never sees it otherwise.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache

from vmqos.intent.findings import Finding
from vmqos.intent.neutron.binding import effective_policy_id
from vmqos.intent.neutron.model import QosPolicy
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import Flavor, FlavorQuota
from vmqos.intent.scenario import Scenario, Server
from vmqos.intent.set_aside import SetAside
from vmqos.limits import Limit
from vmqos.model import Direction, NeutronBackend, VifType
from vmqos.plan.enforcement import DirectionEnforcement, PortEnforcement, enforce_port
from vmqos.plan.explain.lint import lint_flavor_quota
from vmqos.plan.explain.placement_lint import placement_findings
from vmqos.plan.kernel.cgroup import PERIOD_DEFAULT, SHARES_DEFAULT, WEIGHT_DEFAULT
from vmqos.plan.nova.compile import compile_cputune
from vmqos.plan.render.cgroup import shares_to_weight
from vmqos.profile import CgroupVersion, Profile

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

# Roles a layer's ``device`` names in an explanation. Explanations are shared by every port
# with the same flavor, VIF type, policy and network (a cloud has few such combinations and
# many ports), so layers name the object by role; PortExplanation.device_of resolves it.
TAP = "{tap}"                  # the port's tap (or macvtap) device
QVO = "{qvo}"                  # the OVS end of the hybrid-plug veth pair
LOGICAL_PORT = "{port}"        # the Neutron port itself (OVN logical switch port)


# One direction of a port's explanation is the enforcement decision itself.
DirectionExplanation = DirectionEnforcement


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
    # What the scenario's reader left out (a bad flavor, rule, server ...), with its finding.
    set_aside: tuple[SetAside, ...] = ()
    # Findings across ports: what Placement admits but does not protect (placement_lint).
    scenario_findings: tuple[Finding, ...] = ()

    def findings(self) -> list[Finding]:
        """Every finding: each server's and its ports', the scenario's, then each set-aside
        element's."""
        out: list[Finding] = []
        for server in self.servers:
            out.extend(server.findings)
            for port in server.ports:
                out.extend(port.findings)
        out.extend(self.scenario_findings)
        out.extend(entry.finding for entry in self.set_aside)
        return out


# --- per port --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _port_lint(quota: FlavorQuota, vcpus: int, vif_type: VifType) -> tuple[Finding, ...]:
    return tuple(f for f in lint_flavor_quota(quota, vcpus=vcpus, vif_types=(vif_type,))
                 if f.key.startswith("quota:vif_"))


# Explaining a port depends on its flavor, VIF type, policy and network, not on its identity:
# each combination is explained once, for a placeholder port, and shared by every port that
# has it (layers name devices by role; findings carry no port-specific text).
_PLACEHOLDER_ID = "\x00port"
_ROLES = {"tap" + _PLACEHOLDER_ID: TAP, "qvo" + _PLACEHOLDER_ID: QVO, _PLACEHOLDER_ID: LOGICAL_PORT}


def _as_role(limit: Limit) -> Limit:
    role = _ROLES.get(limit.device)
    return limit if role is None else replace(limit, device=role)


def _with_roles(enforcement: DirectionExplanation) -> DirectionExplanation:
    # The effective and overridden layers stay the very objects among ``layers`` (output
    # marks them by identity).
    roles = {id(layer): _as_role(layer) for layer in enforcement.layers}
    effective = enforcement.effective
    return replace(
        enforcement,
        layers=tuple(roles[id(layer)] for layer in enforcement.layers),
        effective=None if effective is None else roles[id(effective)],
        overridden=tuple(roles[id(layer)] for layer in enforcement.overridden))


# flavor, VIF type, policy id, network type, physical network, MTU, device owner
_TemplateKey = tuple[str, str, str, str, str, int, str]


def _port_template(
    flavor_name: str,
    quota: FlavorQuota,
    vcpus: int,
    vif_type: VifType,
    profile: Profile,
    backend: NeutronBackend,
    policy: QosPolicy | None,
    network: Network,
    device_owner: str,
) -> PortEnforcement:
    """Explain one combination for a placeholder port; devices become roles."""
    port = Port(id=_PLACEHOLDER_ID, network_id="", vif_type=vif_type,
                device_owner=device_owner)
    enforcement = enforce_port(port, network, flavor=flavor_name, quota=quota, policy=policy,
                               backend=backend, profile=profile)
    findings = (*_port_lint(quota, vcpus, vif_type), *enforcement.findings)
    return replace(enforcement, inbound=_with_roles(enforcement.inbound),
                   outbound=_with_roles(enforcement.outbound),
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
    templates: dict[_TemplateKey, PortEnforcement] | None = None,
) -> PortExplanation:
    """Explain one port. ``templates`` is the one cache of per-combination work, for one
    explain run: its keys are cheap (a flavor's name and a policy's id stand for their values,
    which a run does not change) and name only what the explanation depends on, so ports on
    different networks of the same type, physical network and MTU share one template."""
    policy_id = effective_policy_id(port, network, backend=backend)
    policy = policies.get(policy_id) if policy_id else None
    key = (flavor.name, port.vif_type.value, policy_id or "", network.network_type,
           network.physical_network or "", network.mtu, port.device_owner)
    template = None if templates is None else templates.get(key)
    if template is None:
        template = _port_template(
            flavor.name, quota, flavor.vcpus, port.vif_type, profile, backend, policy,
            network, port.device_owner)
        if templates is not None:
            templates[key] = template
    return PortExplanation(
        server=server.name,
        port_id=port.id,
        network=network.name,
        vif_type=port.vif_type,
        # A VF of the SR-IOV agent is handed to the guest whole: no host device of its own.
        device="VF" if port.vif_type is VifType.HW_VEB else port.tap,
        policy=policy.name if policy else None,
        policy_source=(None if policy is None
                       else "port" if port.qos_policy_id == policy_id else "network"),
        inbound=template.inbound,
        outbound=template.outbound,
        findings=template.findings,
    )


# --- per server ------------------------------------------------------------------------------


def _explain_cpu(flavor: Flavor, quota: FlavorQuota, profile: Profile) -> CpuExplanation:
    cputune = compile_cputune(quota, flavor.vcpus, profile)
    shares = None if cputune is None else cputune.shares
    source = ("flavor quota:cpu_shares" if quota.cpu_shares is not None
              else "none (kernel default)" if shares is None
              else "Nova default 1024 × vCPUs (Kilo–Yoga)")
    notes: list[str] = []
    if profile.cgroup is CgroupVersion.V2:
        if shares is None:
            value = f"cpu.weight={WEIGHT_DEFAULT} (default)"
        else:
            weight = shares_to_weight(shares, profile.shares_policy)
            value = f"cpu.weight={weight}"
            notes.append(f"shares→weight policy: {profile.shares_policy.value}")
    else:
        value = f"cpu.shares={shares if shares is not None else SHARES_DEFAULT}"
    if quota.cpu_quota is not None:
        period = quota.cpu_period or PERIOD_DEFAULT
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
    ports: dict[str, Port]
    networks: dict[str, Network]
    policies: dict[str, QosPolicy]
    templates: dict[_TemplateKey, PortEnforcement]
    server_parts: dict[tuple[str, bool, bool], tuple[CpuExplanation, tuple[Finding, ...]]]
    local_disks: dict[tuple[str, bool, bool], tuple[DiskExplanation, ...]]

    @classmethod
    def build(cls, scenario: Scenario) -> _Index:
        # By name and by id; a cloud may hold two flavors of one name, so an id wins.
        flavors = {f.name: f for f in scenario.flavors} | {
            f.id: f for f in scenario.flavors if f.id}
        return cls(
            flavors=flavors,
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
    quota = flavor.quota
    ports = []
    for port_id in server.ports:
        port = index.ports[port_id]
        network = index.networks[port.network_id]
        ports.append(explain_port(server, flavor, quota, port, network, index.policies,
                                  scenario.neutron_backend, profile, index.templates))
    # CPU, local-disk and flavor findings depend on the flavor and the boot source only.
    boot_from_volume, has_volumes = server.image_id is None, bool(server.volumes)
    key = (flavor.id or flavor.name, boot_from_volume, has_volumes)
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
            set_aside=scenario.set_aside,
            scenario_findings=tuple(placement_findings(scenario, profile)),
        )
