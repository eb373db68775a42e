"""The host plan of one instance on this host: tc per tap, cgroup values, disk throttling.

Role: pure. :func:`compile_host_plan` takes a scenario's server, the compute-node profile
whose Nova/libvirt behaviour to reproduce, the :class:`HostFacts` of the host that will
enforce it, and the :class:`SandboxLayout` of the instance's sandbox (its taps, cgroup and
loop device), and returns a :class:`HostPlan`: the desired :class:`HostState` plus every
substitution, for :mod:`vmqos.reconcile.diff` and the host layer.

What is enforced per port and direction is what :func:`vmqos.plan.enforcement.enforce_port` decides:
libvirt's tc program where libvirt's layer decides; where another enforcer decides (a Neutron
agent's OVS policing, the last writer of the tap's ingress), the same rate and burst with tc
on the tap, since the sandbox has no OVS; nothing where nothing limits (OVS deleted libvirt's
ingress qdisc, ovs-issues #210).

CPU: shares (v1 ``cpu.shares``) or weight (v2 ``cpu.weight``) with libvirt's value semantics
(:mod:`vmqos.plan.render.cgroup`), on the sandbox's cgroup. A sandbox has no vCPU threads, so the
per-vCPU period/quota becomes one quota of ``vcpus × quota`` per period on the instance.

Disk: the flavor's ``quota:disk_*`` are QEMU block throttling on a real host (not cgroups).
Without QEMU they become the cgroup's ``blkio.throttle.*_device`` (v1) or ``io.max`` (v2) on
the instance's loop device — said so in every plan.

Invariants: a plan manages every file it names, with the kernel default when the intent sets
nothing, so re-applying after the intent dropped a limit removes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from vmqos.errors import PermanentHostError, ValidationError
from vmqos.intent.neutron.binding import effective_policy_id
from vmqos.intent.scenario import Scenario, Server
from vmqos.libvirt_types import CpuTune, IoTune
from vmqos.limits import Limit
from vmqos.model import Direction, Enforcer, VifType, host_view
from vmqos.plan.enforcement import PortEnforcement, enforce_port
from vmqos.plan.kernel.cgroup import PERIOD_DEFAULT, SHARES_DEFAULT, WEIGHT_DEFAULT
from vmqos.plan.kernel.psched import Psched
from vmqos.plan.nova.compile import compile_cputune, compile_flavor_iotune
from vmqos.plan.render.cgroup import (
    CPU_UNLIMITED,
    domain_cpu_weight,
    validate_cputune,
    vcpu_bandwidth,
)
from vmqos.profile import CgroupVersion, Profile
from vmqos.reconcile.facts import HostFacts
from vmqos.reconcile.state import CgroupValue, HostState, Link, TcObject
from vmqos.reconcile.strategy import HostTcPlan, Substitution, compile_host_tc, ifb_name

__all__ = ["V1_DISK_FILES", "HostPlan", "SandboxLayout", "compile_host_plan", "disk_limits"]

_LIBVIRT_TC = (Enforcer.TC_TAP, Enforcer.TC_MACVTAP)
# v1 blkio throttle files, in the order they are written, and the iotune limit for each.
V1_DISK_FILES = (
    ("blkio.throttle.read_bps_device", "rbps"),
    ("blkio.throttle.write_bps_device", "wbps"),
    ("blkio.throttle.read_iops_device", "riops"),
    ("blkio.throttle.write_iops_device", "wiops"),
)


@dataclass(frozen=True, slots=True)
class SandboxLayout:
    """Where an instance's sandbox lives: the pure view of :class:`vmqos.host.sandbox.Instance`."""

    instance: str
    taps: tuple[str, ...]            # one per port, in the server's port order
    cgroup: str                      # relative cgroup path, e.g. "vmqos/vm_resquota"
    disk: str | None = None          # "MAJ:MIN" of the instance's local disk


@dataclass(frozen=True, slots=True)
class HostPlan:
    instance: str
    flavor: str
    ports: tuple[HostTcPlan, ...]
    cgroup: tuple[CgroupValue, ...]
    cgroup_dirs: tuple[str, ...]     # the instance's cgroup directories, one per hierarchy
    substitutions: tuple[Substitution, ...]  # CPU and disk; each port carries its own
    psched: Psched                   # the host's tick parameters (tc time <-> size)
    # What the cgroup throttle enforces on the sandbox disk (rbps/wbps/riops/wiops; absent =
    # unlimited), so that verification needs not read it back out of the cgroup lines.
    disk_limits: Mapping[str, int] = field(default_factory=dict)

    @property
    def taps(self) -> tuple[str, ...]:
        return tuple(port.dev for port in self.ports)

    @property
    def ifb_candidates(self) -> tuple[str, ...]:
        """Every IFB name vmqos may own for these taps (present or stale)."""
        return tuple(ifb_name(tap) for tap in self.taps)

    @property
    def all_substitutions(self) -> tuple[Substitution, ...]:
        return (*(s for port in self.ports for s in port.substitutions), *self.substitutions)

    @property
    def enforced(self) -> tuple[Limit, ...]:
        return tuple(limit for port in self.ports for limit in port.enforced)

    def desired(self) -> HostState:
        links: list[Link] = []
        tc: list[TcObject] = []
        for port in self.ports:
            links.extend(port.links)
            tc.extend(port.objects)
        return HostState(tuple(links), tuple(tc), self.cgroup)


def disk_limits(iotune: IoTune | None) -> dict[str, int]:
    """QEMU's throttle limits as per-direction cgroup limits (``rbps``, ``wbps``, ``riops``,
    ``wiops``); absent = unlimited. QEMU's ``total_*`` caps read + write together, which the
    cgroup throttle cannot express: each direction is capped at the total instead."""
    if iotune is None:
        return {}
    pairs = {
        "rbps": (iotune.read_bytes_sec, iotune.total_bytes_sec),
        "wbps": (iotune.write_bytes_sec, iotune.total_bytes_sec),
        "riops": (iotune.read_iops_sec, iotune.total_iops_sec),
        "wiops": (iotune.write_iops_sec, iotune.total_iops_sec),
    }
    out: dict[str, int] = {}
    for name, values in pairs.items():
        # QEMU reads 0 as "no limit".
        set_values = [v for v in values if v]
        if set_values:
            out[name] = min(set_values)
    return out


def _cpu_values(facts: HostFacts, profile: Profile, cpu_dir: str, vcpus: int,
                cputune: CpuTune | None, subs: list[Substitution]) -> list[CgroupValue]:
    version = facts.cgroup_version
    v2 = version is CgroupVersion.V2
    host = replace(profile, cgroup=version, systemd=False, libvirt_nested_cgroup=False)
    # libvirt's own checks (define and start time), with its messages.
    validate_cputune(1, "sandbox", cputune, host)
    shares_file = "cpu.weight" if v2 else "cpu.shares"
    weight = domain_cpu_weight(cputune, host)
    out = [CgroupValue(cpu_dir, shares_file, str(
        weight if weight is not None else WEIGHT_DEFAULT if v2 else SHARES_DEFAULT))]
    period = cputune.period if cputune is not None and cputune.period else 0
    quota = cputune.quota if cputune is not None and cputune.quota else 0
    # One cgroup for all vCPUs: each vCPU's quota, times the vCPUs, per the same period.
    bandwidth = (vcpu_bandwidth(cputune, version) or CPU_UNLIMITED).times(vcpus)
    if v2:
        out.append(CgroupValue(cpu_dir, "cpu.max", bandwidth.v2_text()))
    else:
        out.append(CgroupValue(cpu_dir, "cpu.cfs_period_us", str(bandwidth.period)))
        out.append(CgroupValue(cpu_dir, "cpu.cfs_quota_us", bandwidth.v1_quota_text()))
    if quota > 0:
        subs.append(Substitution("quota-per-instance", cpu_dir, (
            f"libvirt caps each of the {vcpus} vCPU thread(s) at {quota} µs per "
            f"{period or PERIOD_DEFAULT} µs in its vcpuN cgroup; a sandbox has no vCPU threads, "
            f"so its cgroup gets {vcpus} × {quota} = {vcpus * quota} µs per period")))
    return out


def _disk_values(facts: HostFacts, server: Server, iotune: IoTune | None, disk: str | None,
                 blkio_dir: str, subs: list[Substitution]
                 ) -> tuple[list[CgroupValue], dict[str, int]]:
    """The disk's cgroup writes and the limits they enforce."""
    if disk is None:
        if iotune is not None:
            subs.append(Substitution("no-disk", blkio_dir, (
                "the sandbox has no local disk: the flavor's quota:disk_* are not enforced")))
        return [], {}
    limits = {} if server.image_id is None else disk_limits(iotune)
    if server.image_id is None and iotune is not None:
        subs.append(Substitution("boot-from-volume", disk, (
            "the server boots from a volume: the flavor's quota:disk_* never apply (Nova puts "
            "them on image-backed disks only), so the sandbox disk is not throttled")))
    if limits:
        where = ("io.max" if facts.cgroup_version is CgroupVersion.V2
                 else "blkio.throttle.*_device")
        subs.append(Substitution("blkio-for-qemu", disk, (
            f"flavor quota:disk_* are QEMU block throttling on a real host; this sandbox has "
            f"no QEMU, so vmqos throttles the instance's loop device {disk} with cgroup "
            f"{where}: " + ", ".join(f"{k}={v}" for k, v in sorted(limits.items())))))
        if iotune is not None and (iotune.total_bytes_sec or iotune.total_iops_sec):
            subs.append(Substitution("disk-total-split", disk, (
                "QEMU's total_* caps reads and writes together; the cgroup throttle has no "
                "total, so reads and writes are each capped at it (together up to twice)")))
    if facts.cgroup_version is CgroupVersion.V2:
        if not limits:
            return [CgroupValue(blkio_dir, "io.max", "", disk)], limits
        keys = " ".join(f"{k}={limits.get(k, 'max')}" for k in ("rbps", "wbps", "riops",
                                                                 "wiops"))
        return [CgroupValue(blkio_dir, "io.max", f"{disk} {keys}", disk)], limits
    return [CgroupValue(blkio_dir, file, f"{disk} {limits[k]}" if k in limits else "", disk)
            for file, k in V1_DISK_FILES], limits


def _overrides(port: PortEnforcement, tap: str, has_side: dict[Direction, bool],
               subs: list[Substitution]) -> dict[Direction, Limit | None]:
    out: dict[Direction, Limit | None] = {}
    for direction in Direction:
        dexp = port.direction(direction)
        eff = dexp.effective
        if eff is not None and eff.enforcer in _LIBVIRT_TC:
            continue
        if eff is None:
            if has_side[direction]:
                out[direction] = None
                subs.append(Substitution("not-limited", tap, (
                    f"{direction.value}: libvirt's limit does not apply on a real host "
                    f"({dexp.rule}); vmqos installs nothing for it")))
            continue
        out[direction] = replace(eff, device=tap)
        subs.append(Substitution("enforcer-on-tap", tap, (
            f"{direction.value}: {eff.enforcer.value} decides on a real host "
            f"({host_view(eff.enforcer, direction)}; {eff.source}); the sandbox has no such "
            "backend, so vmqos applies the same rate and burst with tc on the tap")))
    return out


def compile_host_plan(scenario: Scenario, server: Server, profile: Profile, facts: HostFacts,
                      layout: SandboxLayout) -> HostPlan:
    """Everything vmqos must set on this host for ``server``'s sandbox."""
    flavor = scenario.flavor(server.flavor)
    quota = flavor.quota
    policies = {p.id: p for p in scenario.policies}
    subs: list[Substitution] = []
    ports: list[HostTcPlan] = []
    for port_id in server.ports:
        port = scenario.port(port_id)
        network = scenario.network(port.network_id)
        policy_id = effective_policy_id(port, network, backend=scenario.neutron_backend)
        enforcement = enforce_port(port, network, flavor=flavor.name, quota=quota,
                                   policy=policies.get(policy_id) if policy_id else None,
                                   backend=scenario.neutron_backend, profile=profile)
        tap = port.tap
        if tap not in layout.taps:
            raise ValidationError(
                f"sandbox {layout.instance!r} has no tap {tap} for port {port.id}",
                key="port", value=port.id, allowed=", ".join(layout.taps))
        bandwidth = enforcement.libvirt.bandwidth
        port_subs: list[Substitution] = []
        has_side = {d: bandwidth is not None and bandwidth.side(d) is not None
                    for d in Direction}
        overrides = _overrides(enforcement, tap, has_side, port_subs)
        if port.vif_type is VifType.MACVTAP and bandwidth is not None:
            port_subs.append(Substitution("veth-for-macvtap", tap, (
                "a macvtap port is stood in for by a veth: its limits are placed as on a tap "
                "(inbound shaped, outbound on the host ingress)")))
        plan = compile_host_tc(tap, bandwidth, facts, swapped=True, mtu=network.mtu,
                               overrides=overrides,
                               source=f"flavor {flavor.name} quota:vif_*")
        ports.append(replace(plan, substitutions=(*port_subs, *plan.substitutions)))
    cpu_mount_ok = (facts.cgroup_version is CgroupVersion.V2
                    or facts.v1_mount("cpu") is not None)
    if not cpu_mount_ok or (facts.cgroup_version is CgroupVersion.V1
                               and facts.v1_mount("blkio") is None):
        raise PermanentHostError(
            "this host mounts no cgroup v1 cpu and blkio controllers and no usable cgroup v2: "
            "vmqos cannot enforce CPU shares and disk limits here")
    cpu_dir = facts.cgroup_dir("cpu", layout.cgroup)
    blkio_dir = facts.cgroup_dir("blkio", layout.cgroup)
    cputune = compile_cputune(quota, flavor.vcpus, profile)
    cgroup = _cpu_values(facts, profile, cpu_dir, flavor.vcpus, cputune, subs)
    disk_values, limits = _disk_values(facts, server, compile_flavor_iotune(quota),
                                       layout.disk, blkio_dir, subs)
    cgroup += disk_values
    if server.volumes:
        subs.append(Substitution("volumes-not-sandboxed", layout.instance, (
            f"{len(server.volumes)} Cinder volume(s) are not part of the sandbox; their "
            "front-end QoS is not enforced here")))
    dirs = (cpu_dir,) if cpu_dir == blkio_dir else (cpu_dir, blkio_dir)
    return HostPlan(instance=layout.instance, flavor=flavor.name, ports=tuple(ports),
                    cgroup=tuple(cgroup), cgroup_dirs=dirs, substitutions=tuple(subs),
                    psched=facts.psched, disk_limits=limits)
