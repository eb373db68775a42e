"""Compute-node profiles: which Nova, libvirt, QEMU, iproute2 and cgroup behaviour to model.

The same flavor produces different artifacts on a 2018 RHEL 7 node (the seed note) and on a
current node. Each behaviour that changed is one explicit field, and the presets name the
combinations that exist in the wild. Nothing here is guessed at run time; host facts (issue
#3) select or override a profile.

A switch with more than two settings, or whose settings have upstream names, is an enum
(:class:`CgroupVersion`, :class:`QemuThrottle`, :class:`Iproute2Style`, :class:`SharesPolicy`);
a :class:`Profile` holds enum members whatever its builder passed (a preset, a CLI or API
override, host facts), so callers compare members, never strings. The enums are ``StrEnum``:
their JSON and text are the strings they replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, StrEnum

from vmqos.errors import ValidationError

__all__ = [
    "PRESETS",
    "CgroupVersion",
    "Iproute2Style",
    "Profile",
    "QemuThrottle",
    "SharesPolicy",
    "get_profile",
]


class CgroupVersion(StrEnum):
    """Which cgroup hierarchy holds the cpu (and blkio/io) controller."""

    V1 = "v1"
    V2 = "v2"


class QemuThrottle(StrEnum):
    """How libvirt hands ``<iotune>`` to QEMU (libvirt qemu_command.c / qemu_process.c)."""

    DRIVE = "drive"    # legacy ``-drive ...,throttling.*=`` options (pre-blockdev libvirt)
    QMP = "qmp"        # ``block_set_io_throttle`` on the monitor after QEMU starts paused


class Iproute2Style(StrEnum):
    """Which generation of ``tc show`` text the host prints."""

    MODERN = "modern"  # iproute2 6.x + kernel >= 4.13
    RHEL7 = "rhel7"    # iproute2 3.10 + kernel 3.10 (the seed note)


class SharesPolicy(Enum):
    """How ``quota:cpu_shares`` becomes a cgroup v2 ``cpu.weight`` (systemd
    cgroup_cpu_shares_to_weight; opencontainers/cgroups ConvertCPUSharesToCgroupV2Value)."""

    LIBVIRT = "libvirt"      # verbatim: shares is written into cpu.weight unchanged
    SYSTEMD = "systemd"      # clamp(shares*100/1024, 1, 10000)
    RUNC_OLD = "runc-old"    # 1 + (shares-2)*9999/262142
    RUNC_NEW = "runc-new"    # ceil(10^((l^2+125 l)/612 - 7/34)), l = log2(shares)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    # Nova Kilo..Yoga wrote <shares>1024*vcpus</shares> when the flavor had none (bug 1383377);
    # Zed and later write nothing (bug 1978489).
    nova_default_shares: bool
    nova_package_version: str
    # libvirt >= 8.0 shapes <virtualport type='openvswitch'> ports with ovs-vsctl, not tc.
    libvirt_ovs_qos: bool
    # libvirt >= 6.9 puts a noqueue root qdisc on taps before applying bandwidth.
    libvirt_noqueue: bool
    # libvirt < 9.1 checks cputune shares against [2, 262144] at define time.
    libvirt_generic_shares_check: bool
    qemu_throttle: QemuThrottle
    iproute2: Iproute2Style
    cgroup: CgroupVersion
    systemd: bool
    # Where the v1 `cpu` controller is reached (RHEL 7 co-mounts cpu,cpuacct and the seed
    # note reads through the `cpu` symlink); /sys/fs/cgroup on v2.
    cgroup_cpu_mount: str
    # libvirt >= 7.1 (rhbz#1798463): with systemd, vcpuN/emulator live in a nested `libvirt/`
    # child of the machine scope and shares are set over DBus instead of a file write.
    libvirt_nested_cgroup: bool
    shares_policy: SharesPolicy
    emulator: str
    machine: str
    # Neutron (Stein+) reports bandwidth inventories to Placement and Nova schedules a port's
    # resource_request; before, minimum guarantees were never admitted anywhere.
    placement_guarantees: bool = True

    def __post_init__(self) -> None:
        # The one parse of the switches: overrides and host facts may name them as strings.
        for name, kind in _SWITCHES:
            value = getattr(self, name)
            if not isinstance(value, kind):
                object.__setattr__(self, name, _switch(kind, name, value))


_SWITCHES: tuple[tuple[str, type[Enum]], ...] = (
    ("qemu_throttle", QemuThrottle), ("iproute2", Iproute2Style), ("cgroup", CgroupVersion),
    ("shares_policy", SharesPolicy),
)


def _switch(kind: type[Enum], name: str, value: object) -> Enum:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise ValidationError(f"unknown {name} {value!r}; choose one of: {allowed}",
                              key=name, value=value, allowed=allowed) from None


PRESETS: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="pike-rhel7",
            nova_default_shares=True,
            nova_package_version="16.0.2-9.el7ost",
            libvirt_ovs_qos=False,
            libvirt_noqueue=False,
            libvirt_generic_shares_check=True,
            qemu_throttle=QemuThrottle.DRIVE,
            iproute2=Iproute2Style.RHEL7,
            cgroup=CgroupVersion.V1,
            systemd=True,
            cgroup_cpu_mount="/sys/fs/cgroup/cpu",
            libvirt_nested_cgroup=False,
            shares_policy=SharesPolicy.LIBVIRT,
            emulator="/usr/libexec/qemu-kvm",
            machine="pc-i440fx-rhel7.4.0",
            placement_guarantees=False,
        ),
        Profile(
            name="modern",
            nova_default_shares=False,
            nova_package_version="33.0.0",
            libvirt_ovs_qos=True,
            libvirt_noqueue=True,
            libvirt_generic_shares_check=False,
            qemu_throttle=QemuThrottle.QMP,
            iproute2=Iproute2Style.MODERN,
            cgroup=CgroupVersion.V2,
            systemd=True,
            cgroup_cpu_mount="/sys/fs/cgroup",
            libvirt_nested_cgroup=True,
            shares_policy=SharesPolicy.LIBVIRT,
            emulator="/usr/bin/qemu-system-x86_64",
            machine="pc-q35-9.0",
        ),
        Profile(
            # A Debian 12 host without systemd as PID 1 (the development machines).
            name="debian12-nosystemd",
            nova_default_shares=False,
            nova_package_version="33.0.0",
            libvirt_ovs_qos=True,
            libvirt_noqueue=True,
            libvirt_generic_shares_check=True,
            qemu_throttle=QemuThrottle.QMP,
            iproute2=Iproute2Style.MODERN,
            cgroup=CgroupVersion.V1,
            systemd=False,
            cgroup_cpu_mount="/sys/fs/cgroup/cpu",
            libvirt_nested_cgroup=True,
            shares_policy=SharesPolicy.LIBVIRT,
            emulator="/usr/bin/qemu-system-x86_64",
            machine="pc-i440fx-7.2",
        ),
    )
}


def get_profile(name: str, **overrides: object) -> Profile:
    """A preset by name, optionally with fields replaced (``cgroup=CgroupVersion.V2``...)."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValidationError(
            f"unknown profile {name!r}; choose one of: {', '.join(sorted(PRESETS))}",
            key="profile",
            value=name,
            allowed=", ".join(sorted(PRESETS)),
        ) from None
    if not overrides:
        return base
    profile = replace(base, **overrides)  # type: ignore[arg-type]
    if ("cgroup" in overrides or "systemd" in overrides) and "cgroup_cpu_mount" not in overrides:
        # Switching the hierarchy moves the cpu controller: v2 is unified at /sys/fs/cgroup;
        # systemd co-mounts v1 cpu,cpuacct; a v1 host without systemd (observed: libvirt 9.0 here)
        # has `cpu`.
        mount = ("/sys/fs/cgroup" if profile.cgroup is CgroupVersion.V2
                 else "/sys/fs/cgroup/cpu,cpuacct" if profile.systemd else "/sys/fs/cgroup/cpu")
        profile = replace(profile, cgroup_cpu_mount=mount)
    return profile
