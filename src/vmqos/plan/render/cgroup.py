"""What libvirt writes into cgroups for a domain's ``<cputune>`` (libvirt vircgroupv1.c,
vircgroupv2.c).

Inputs are libvirt-level values (:class:`~vmqos.libvirt_types.CpuTune`: shares, period and quota
in microseconds) and a :class:`~vmqos.profile.Profile` (cgroup v1/v2, systemd or not, the
v2 shares→weight policy). Outputs are values: :class:`CgroupWrite` (a file write, in libvirt's
order) and :class:`SystemdProperty` (a DBus ``SetUnitProperties`` call libvirt makes instead of
a file write), the cgroup paths, the values the kernel will show on read-back, and a shell
rendering for the CLI.

Invariants:

* Shares go only on the domain cgroup; period then quota go on every ``vcpuN`` cgroup, never on
  the domain or ``emulator`` cgroup; ``period == quota == 0`` writes nothing (libvirt's
  ``qemuSetupCgroupVcpuBW``).
* :func:`compile_cgroup_writes` is total: it renders what libvirt would attempt, even a value
  the kernel will refuse. Refusals are :func:`validate_cputune`'s, with libvirt's or the
  kernel's own text.
* Values stay typed until rendered: a vCPU's CFS bandwidth is a :class:`CpuMax` (quota and
  period in microseconds), and the file texts (``max 100000``, ``-1``) are its render.
* Paths use the real single backslash of systemd's unit escaping (``machine-qemu\\x2d10…``);
  only :func:`render_cgroup_script` quotes them for a shell.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.libvirt_types import CpuTune
from vmqos.plan.kernel.cgroup import (
    CPU_QUOTA_MAX,
    PERIOD_DEFAULT,
    PERIOD_MAX,
    PERIOD_MIN,
    QUOTA_MIN,
    SHARES_DEFAULT,
    SHARES_MAX,
    SHARES_MIN,
    WEIGHT_DEFAULT,
    WEIGHT_MAX,
    WEIGHT_MIN,
)
from vmqos.profile import CgroupVersion, Profile, SharesPolicy
from vmqos.units import Microseconds

__all__ = [
    "CPU_UNLIMITED",
    "CgroupAction",
    "CgroupLayout",
    "CgroupWrite",
    "CpuMax",
    "SystemdProperty",
    "cgroup_layout",
    "compile_cgroup_writes",
    "domain_cgroup_dir",
    "domain_cpu_weight",
    "expected_cgroup_values",
    "machine_name",
    "render_cgroup_script",
    "scope_unit",
    "shares_to_weight",
    "thread_cgroup_dir",
    "validate_cputune",
    "vcpu_bandwidth",
]

_RUNC = (SharesPolicy.RUNC_OLD, SharesPolicy.RUNC_NEW)
_MACHINE_NAME_MAX = 64
_HOSTNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_UNIT_VALID = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:-_.\\"
)


@dataclass(frozen=True, slots=True)
class CgroupWrite:
    """Write ``value`` into ``<path>/<file>``."""

    path: str
    file: str
    value: str


@dataclass(frozen=True, slots=True)
class SystemdProperty:
    """A ``SetUnitProperties(unit, runtime=true, [(name, value)])`` DBus call to systemd."""

    unit: str
    name: str
    value: int


CgroupAction = CgroupWrite | SystemdProperty


@dataclass(frozen=True, slots=True)
class CpuMax:
    """A CFS bandwidth limit as the kernel shows it: ``quota`` per ``period``; ``quota`` ``None``
    is no limit (v2 ``max``, v1 ``-1``)."""

    quota: Microseconds | None
    period: Microseconds

    def times(self, factor: int) -> CpuMax:
        """The same limit for ``factor`` times the CPUs (one quota for several vCPUs)."""
        return CpuMax(None if self.quota is None else Microseconds(self.quota * factor),
                      self.period)

    def v2_text(self) -> str:
        """``cpu.max``: ``<quota|max> <period>``."""
        return f"{'max' if self.quota is None else self.quota} {self.period}"

    def v1_quota_text(self) -> str:
        """``cpu.cfs_quota_us``: the quota, or ``-1``."""
        return "-1" if self.quota is None else str(self.quota)


CPU_UNLIMITED = CpuMax(None, Microseconds(PERIOD_DEFAULT))  # a fresh cgroup's cpu.max


def vcpu_bandwidth(cputune: CpuTune | None, version: CgroupVersion) -> CpuMax | None:
    """What each ``vcpuN`` cgroup shows after libvirt's period/quota writes; ``None`` when
    libvirt writes none (``period == quota == 0``). The kernel keeps its default period when
    only a quota is set; any negative v1 quota shows as ``-1``, and v2 shows a negative quota or
    the maximum as ``max`` (virCgroupV2SetCpuCfsQuota)."""
    period = cputune.period or 0 if cputune is not None else 0
    quota = cputune.quota or 0 if cputune is not None else 0
    if not (period or quota):
        return None
    unlimited = quota <= 0 or (version is CgroupVersion.V2 and quota == CPU_QUOTA_MAX)
    return CpuMax(None if unlimited else Microseconds(quota),
                  Microseconds(period or PERIOD_DEFAULT))


@dataclass(frozen=True, slots=True)
class CgroupLayout:
    """The two host facts that shape cgroup paths and writes (from the profile, or observed).

    ``cpu_mount``: where the v1 ``cpu`` controller is mounted (``/sys/fs/cgroup`` on v2).
    ``libvirt_7_1``: libvirt >= 7.1.0 (rhbz#1798463: "vircgroup: introduce nested cgroup to
    properly work with systemd" and "use DBus call to systemd for some APIs"): with systemd,
    vCPU/emulator cgroups live under a nested ``libvirt/`` child of the scope and shares are
    set through DBus (``CPUShares`` on v1, ``CPUWeight`` on v2) instead of a file write.
    """

    cpu_mount: str
    libvirt_7_1: bool


def cgroup_layout(
    profile: Profile, *, cpu_mount: str | None = None, libvirt_7_1: bool | None = None
) -> CgroupLayout:
    """The layout for a profile; either fact can be overridden from host observation."""
    return CgroupLayout(
        cpu_mount=profile.cgroup_cpu_mount if cpu_mount is None else cpu_mount,
        libvirt_7_1=profile.libvirt_nested_cgroup if libvirt_7_1 is None else libvirt_7_1,
    )


def machine_name(domain_id: int, name: str, *, driver: str = "qemu") -> str:
    """libvirt's machine name ``<driver>-<id>-<name>`` (virDomainDriverGenerateMachineName,
    privileged daemon, src/hypervisor/domain_driver.c).

    The name keeps only hostname characters and dots; a run of ``-``/``.`` keeps its first
    character and leading ones are dropped; no character is appended once the whole name
    reaches 64; trailing ``-``/``.`` are trimmed (virDomainMachineNameAppendValid).
    """
    out = [f"{driver}-{domain_id}-"]
    length = len(out[0])
    skip = True
    for char in name:
        if length >= _MACHINE_NAME_MAX:
            break
        if char in ".-":
            if not skip:
                out.append(char)
                length += 1
                skip = True
            continue
        if char not in _HOSTNAME_CHARS:
            continue
        out.append(char)
        length += 1
        skip = False
    return "".join(out).rstrip("-.")


def _systemd_escape(text: str) -> str:
    # virSystemdEscapeName: a leading '.', every '-', '\' and character outside
    # [0-9a-zA-Z:-_.\] become \xNN; '/' becomes '-'.
    out: list[str] = []
    for pos, char in enumerate(text):
        if char == "/":
            out.append("-")
        elif char in "-\\" or char not in _UNIT_VALID or (pos == 0 and char == "."):
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def scope_unit(domain_id: int, name: str) -> str:
    """The machined scope: ``machine-qemu\\x2d<id>\\x2d<name>.scope`` (virSystemdMakeScopeName)."""
    return f"machine-{_systemd_escape(machine_name(domain_id, name))}.scope"


def domain_cgroup_dir(
    profile: Profile, domain_id: int, name: str, *, layout: CgroupLayout | None = None
) -> str:
    """The domain's ``cpu`` cgroup directory in the default ``/machine`` partition (Nova never
    sets ``<resource><partition>``).

    v1: ``<cpu mount>/machine/<machine>.libvirt-qemu`` without systemd,
    ``<cpu mount>/machine.slice/<scope>`` with it; v2 the same below ``/sys/fs/cgroup``.
    """
    lay = layout if layout is not None else cgroup_layout(profile)
    if profile.systemd:
        return f"{lay.cpu_mount}/machine.slice/{scope_unit(domain_id, name)}"
    return f"{lay.cpu_mount}/machine/{machine_name(domain_id, name)}.libvirt-qemu"


def thread_cgroup_dir(
    profile: Profile,
    domain_id: int,
    name: str,
    thread: str,
    *,
    layout: CgroupLayout | None = None,
) -> str:
    """A per-thread child (``vcpu0``, ``emulator``…): under the nested ``libvirt/`` child of the
    scope with systemd on libvirt >= 7.1, directly under the domain cgroup otherwise."""
    lay = layout if layout is not None else cgroup_layout(profile)
    base = domain_cgroup_dir(profile, domain_id, name, layout=lay)
    if profile.systemd and lay.libvirt_7_1:
        return f"{base}/libvirt/{thread}"
    return f"{base}/{thread}"


def shares_to_weight(shares: int, policy: SharesPolicy) -> int:
    """A v1 ``cpu.shares`` value as a v2 ``cpu.weight`` under ``policy`` (conventions:
    ``SharesPolicy``).

    ``LIBVIRT`` passes shares through unchanged (may be out of range: the caller checks);
    ``SYSTEMD`` is systemd's integer clamp(shares*100/1024, 1, 10000); ``RUNC_OLD`` is the
    pre-2025 linear map 1 + (shares-2)*9999/262142 (integer division; inputs below 2 are taken
    as 2, where runc's unsigned arithmetic would wrap); ``RUNC_NEW`` is the 2025 quadratic-in-
    log map, 1 at <= 2 and 10000 at >= 262144. For both runc maps 0 means "unset" and gives 0.
    """
    if shares < 0:
        raise ValidationError(
            f"cpu shares {shares} is negative; shares must be 0 or more",
            key="cputune.shares", value=shares, allowed=">= 0",
        )
    if policy is SharesPolicy.LIBVIRT:
        return shares
    if policy is SharesPolicy.SYSTEMD:
        return min(max(shares * WEIGHT_DEFAULT // SHARES_DEFAULT, WEIGHT_MIN), WEIGHT_MAX)
    if shares == 0:
        return 0
    if policy is SharesPolicy.RUNC_OLD:
        return 1 + ((max(shares, SHARES_MIN) - 2) * 9999) // 262142
    # RUNC_NEW, as runc's ConvertCPUSharesToCgroupV2Value (IEEE doubles, like Go's float64).
    if shares <= SHARES_MIN:
        return WEIGHT_MIN
    if shares >= SHARES_MAX:
        return WEIGHT_MAX
    level = math.log2(shares)
    return math.ceil(10 ** ((level * level + 125 * level) / 612.0 - 7.0 / 34.0))


def _v2_quota(quota: int) -> str:
    # virCgroupV2SetCpuCfsQuota: a negative quota or the maximum means no limit, "max".
    return "max" if quota < 0 or quota == CPU_QUOTA_MAX else str(quota)


def compile_cgroup_writes(
    domain_id: int,
    name: str,
    vcpus: int,
    cputune: CpuTune | None,
    profile: Profile,
    *,
    layout: CgroupLayout | None = None,
) -> tuple[CgroupAction, ...]:
    """The cgroup writes libvirt makes for ``<cputune>``, in libvirt's order: shares on the
    domain cgroup (qemuSetupCpuCgroup), then per vCPU period before quota.

    v1: ``cpu.shares``, ``vcpuN/cpu.cfs_period_us``, ``vcpuN/cpu.cfs_quota_us`` (a negative quota
    written as given). v2: ``cpu.weight`` (shares through ``profile.shares_policy``), and
    ``vcpuN/cpu.max``: the period write re-sends the current quota part — ``max`` on a fresh
    cgroup — with the new period, the quota write sends the number alone (or ``max``).
    With systemd on libvirt >= 7.1 shares become a :class:`SystemdProperty`; period and quota
    stay file writes. Whether libvirt, the kernel or systemd accept them is
    :func:`validate_cputune`'s question.
    """
    if cputune is None or cputune.is_empty():
        return ()
    lay = layout if layout is not None else cgroup_layout(profile)
    v2 = profile.cgroup is CgroupVersion.V2
    actions: list[CgroupAction] = []
    if cputune.shares is not None:
        value = shares_to_weight(cputune.shares, profile.shares_policy) if v2 else cputune.shares
        if not _shares_unset(value, profile):
            if profile.systemd and lay.libvirt_7_1:
                prop = "CPUWeight" if v2 else "CPUShares"
                actions.append(SystemdProperty(scope_unit(domain_id, name), prop, value))
            else:
                file = "cpu.weight" if v2 else "cpu.shares"
                dom = domain_cgroup_dir(profile, domain_id, name, layout=lay)
                actions.append(CgroupWrite(dom, file, str(value)))
    period = cputune.period or 0
    quota = cputune.quota or 0
    if period == 0 and quota == 0:
        return tuple(actions)
    for vcpu in range(vcpus):
        vdir = thread_cgroup_dir(profile, domain_id, name, f"vcpu{vcpu}", layout=lay)
        if period:
            if v2:
                actions.append(CgroupWrite(vdir, "cpu.max", f"max {period}"))
            else:
                actions.append(CgroupWrite(vdir, "cpu.cfs_period_us", str(period)))
        if quota:
            if v2:
                actions.append(CgroupWrite(vdir, "cpu.max", _v2_quota(quota)))
            else:
                actions.append(CgroupWrite(vdir, "cpu.cfs_quota_us", str(quota)))
    return tuple(actions)


def _shares_unset(value: int, profile: Profile) -> bool:
    # runc's 0 means "unset": nothing is written for it.
    return profile.cgroup is CgroupVersion.V2 and value == 0 and profile.shares_policy in _RUNC


def domain_cpu_weight(cputune: CpuTune | None, profile: Profile) -> int | None:
    """What the domain cgroup's ``cpu.shares`` (v1) or ``cpu.weight`` (v2) shows after
    libvirt's write; ``None`` when libvirt writes none."""
    if cputune is None or cputune.shares is None:
        return None
    if profile.cgroup is CgroupVersion.V1:
        # 0 never gets this far on v1: libvirt refuses to start.
        return cputune.shares or SHARES_DEFAULT
    # 0 is runc's "unset": the kernel default stays.
    return shares_to_weight(cputune.shares, profile.shares_policy) or WEIGHT_DEFAULT


def validate_cputune(
    domain_id: int,
    name: str,
    cputune: CpuTune | None,
    profile: Profile,
    *,
    layout: CgroupLayout | None = None,
) -> None:
    """Raise where libvirt refuses ``cputune`` at define time, or libvirt, the kernel or
    systemd refuses its shares at start, with their own text; return when all is accepted."""
    if cputune is None or cputune.is_empty():
        return
    lay = layout if layout is not None else cgroup_layout(profile)
    _check_define(cputune, profile)
    if cputune.shares is None:
        return
    v2 = profile.cgroup is CgroupVersion.V2
    value = shares_to_weight(cputune.shares, profile.shares_policy) if v2 else cputune.shares
    if not _shares_unset(value, profile):
        _check_shares(cputune.shares, value, profile,
                      domain_cgroup_dir(profile, domain_id, name, layout=lay),
                      dbus=profile.systemd and lay.libvirt_7_1)


def _check_define(cputune: CpuTune, profile: Profile) -> None:
    # virDomainDefCputuneValidate (define time): a value > 0 outside the range is refused;
    # 0 and negative quotas slip through. libvirt >= 9.1 no longer checks shares here.
    limits: list[tuple[str, int | None, int, int]] = [
        ("period", cputune.period, PERIOD_MIN, PERIOD_MAX),
        ("quota", cputune.quota, QUOTA_MIN, CPU_QUOTA_MAX)]
    if profile.libvirt_generic_shares_check:
        limits.insert(0, ("shares", cputune.shares, SHARES_MIN, SHARES_MAX))
    for field, value, low, high in limits:
        if value is not None and value > 0 and not low <= value <= high:
            raise ValidationError(
                f"Value of cputune '{field}' must be in range [{low}, {high}]",
                key=f"cputune.{field}", value=value, allowed=f"{low}..{high}",
            )


def _check_shares(shares: int, value: int, profile: Profile, dom: str, *, dbus: bool) -> None:
    # Start time: what the cgroup backend (or the kernel, or systemd) refuses.
    if profile.cgroup is CgroupVersion.V1:
        if not SHARES_MIN <= shares <= SHARES_MAX:
            # virCgroupV1SetCpuShares at start (observed on libvirt 9.0: <shares>0</shares>).
            raise ValidationError(
                f"invalid argument: shares '{shares}' must be in range "
                f"[{SHARES_MIN}, {SHARES_MAX}]",
                key="cputune.shares", value=shares, allowed=f"{SHARES_MIN}..{SHARES_MAX}",
            )
        return
    if WEIGHT_MIN <= value <= WEIGHT_MAX:
        return
    if not profile.libvirt_generic_shares_check:
        # libvirt >= 9.1 virCgroupV2SetCpuShares range check.
        message = (f"invalid argument: shares '{value}' must be in range "
                   f"[{WEIGHT_MIN}, {WEIGHT_MAX}]")
    elif dbus:
        message = "Value specified in CPUWeight is out of range"  # systemd over DBus [3rd]
    else:
        message = f"Unable to write to '{dom}/cpu.weight': Numerical result out of range"
    raise UnsupportedError(
        f"{message} (cputune.shares={shares} gives cgroup v2 cpu.weight {value} under the "
        f"{profile.shares_policy.value} policy; cgroup v2 allows {WEIGHT_MIN}..{WEIGHT_MAX})"
    )


def expected_cgroup_values(
    domain_id: int,
    name: str,
    vcpus: int,
    cputune: CpuTune | None,
    profile: Profile,
    *,
    layout: CgroupLayout | None = None,
) -> dict[str, str]:
    """File path → the value the kernel shows after libvirt's writes (for read-back checks).

    Beyond the written files this lists the defaults that prove where limits do *not* go
    (observed, libvirt 9.0/cgroup v1): every ``vcpuN`` keeps shares 1024 / weight 100, and when
    period or quota is
    set the domain and ``emulator`` cgroups keep no quota (``-1`` / ``max 100000``). The kernel
    shows any negative v1 quota as ``-1`` and keeps its default period when only quota is set.
    """
    if cputune is None or cputune.is_empty():
        return {}
    lay = layout if layout is not None else cgroup_layout(profile)
    v2 = profile.cgroup is CgroupVersion.V2
    dom = domain_cgroup_dir(profile, domain_id, name, layout=lay)
    shares_file, shares_default = ("cpu.weight", WEIGHT_DEFAULT) if v2 else (
        "cpu.shares", SHARES_DEFAULT)
    values: dict[str, str] = {}
    weight = domain_cpu_weight(cputune, profile)
    if weight is not None:
        values[f"{dom}/{shares_file}"] = str(weight)
    bandwidth = vcpu_bandwidth(cputune, profile.cgroup)
    for vcpu in range(vcpus):
        vdir = thread_cgroup_dir(profile, domain_id, name, f"vcpu{vcpu}", layout=lay)
        values[f"{vdir}/{shares_file}"] = str(shares_default)
        if bandwidth is not None:
            if v2:
                values[f"{vdir}/cpu.max"] = bandwidth.v2_text()
            else:
                values[f"{vdir}/cpu.cfs_period_us"] = str(bandwidth.period)
                values[f"{vdir}/cpu.cfs_quota_us"] = bandwidth.v1_quota_text()
    if bandwidth is not None:
        emulator = thread_cgroup_dir(profile, domain_id, name, "emulator", layout=lay)
        for base in (dom, emulator):
            if v2:
                values[f"{base}/cpu.max"] = CPU_UNLIMITED.v2_text()
            else:
                values[f"{base}/cpu.cfs_quota_us"] = CPU_UNLIMITED.v1_quota_text()
    return values


def render_cgroup_script(writes: tuple[CgroupAction, ...] | list[CgroupAction]) -> str:
    """Shell lines equivalent to the actions: ``echo <v> > <file>`` and, for a DBus property,
    ``systemctl set-property --runtime <unit> <Name>=<v>`` (libvirt itself calls DBus
    ``SetUnitProperties`` with runtime=true; the systemctl line does the same). Paths are
    single-quoted so the shell keeps systemd's ``\\x2d`` escapes."""
    lines: list[str] = []
    for action in writes:
        if isinstance(action, CgroupWrite):
            target = shlex.quote(f"{action.path}/{action.file}")
            lines.append(f"echo {shlex.quote(action.value)} > {target}")
        else:
            lines.append(
                f"systemctl set-property --runtime {shlex.quote(action.unit)} "
                f"{action.name}={action.value}"
            )
    return "".join(f"{line}\n" for line in lines)
