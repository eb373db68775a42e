"""The libvirt-level desired state of one instance: what Nova hands to libvirt.

These are plan types, produced by :mod:`vmqos.plan.nova.compile` from intent and consumed by
the renderers (domain XML, QEMU throttling, cgroup writes, tc programs, libvirt's ovs-vsctl).
Units are libvirt's: ``average``/``peak`` kB/s (1000 B/s), ``burst`` KiB, iotune bytes/s and
I/O operations/s, cputune period/quota in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from vmqos.model import Direction, VifType
from vmqos.units import KBytesPerSec, KiB

__all__ = [
    "IOTUNE_BASE_KEYS",
    "IOTUNE_LENGTH_KEYS",
    "Bandwidth",
    "BandwidthSide",
    "CpuTune",
    "DiskDevice",
    "DomainSpec",
    "InterfaceDevice",
    "IoTune",
    "NovaMetadata",
]


@dataclass(frozen=True, slots=True)
class CpuTune:
    """``<cputune>``: children written in Nova's order shares, quota, period."""

    shares: int | None = None
    quota: int | None = None
    period: int | None = None

    def is_empty(self) -> bool:
        return self.shares is None and self.quota is None and self.period is None


@dataclass(frozen=True, slots=True)
class BandwidthSide:
    """One ``<inbound>``/``<outbound>`` element; ``peak``/``burst`` ``None`` = attribute absent."""

    average: KBytesPerSec
    peak: KBytesPerSec | None = None
    burst: KiB | None = None


@dataclass(frozen=True, slots=True)
class Bandwidth:
    inbound: BandwidthSide | None = None
    outbound: BandwidthSide | None = None

    def side(self, direction: Direction) -> BandwidthSide | None:
        return self.inbound if direction is Direction.INBOUND else self.outbound


# The 13 throttle limits, in the order Nova's LibvirtConfigGuestDisk writes <iotune> children.
IOTUNE_BASE_KEYS: tuple[str, ...] = (
    "read_bytes_sec",
    "read_iops_sec",
    "write_bytes_sec",
    "write_iops_sec",
    "total_bytes_sec",
    "total_iops_sec",
    "read_bytes_sec_max",
    "write_bytes_sec_max",
    "total_bytes_sec_max",
    "read_iops_sec_max",
    "write_iops_sec_max",
    "total_iops_sec_max",
    "size_iops_sec",
)
IOTUNE_LENGTH_KEYS: tuple[str, ...] = (
    "total_bytes_sec_max_length",
    "read_bytes_sec_max_length",
    "write_bytes_sec_max_length",
    "total_iops_sec_max_length",
    "read_iops_sec_max_length",
    "write_iops_sec_max_length",
)


@dataclass(frozen=True, slots=True)
class IoTune:
    """``<iotune>``: QEMU block throttling for one disk. ``None`` = not set."""

    read_bytes_sec: int | None = None
    read_iops_sec: int | None = None
    write_bytes_sec: int | None = None
    write_iops_sec: int | None = None
    total_bytes_sec: int | None = None
    total_iops_sec: int | None = None
    read_bytes_sec_max: int | None = None
    write_bytes_sec_max: int | None = None
    total_bytes_sec_max: int | None = None
    read_iops_sec_max: int | None = None
    write_iops_sec_max: int | None = None
    total_iops_sec_max: int | None = None
    size_iops_sec: int | None = None
    group_name: str | None = None
    total_bytes_sec_max_length: int | None = None
    read_bytes_sec_max_length: int | None = None
    write_bytes_sec_max_length: int | None = None
    total_iops_sec_max_length: int | None = None
    read_iops_sec_max_length: int | None = None
    write_iops_sec_max_length: int | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True, slots=True)
class DiskDevice:
    """A guest disk. ``source_kind`` is ``image`` (Nova local disk: flavor quotas apply) or
    ``volume`` (Cinder: only the volume type's front-end QoS applies)."""

    target_dev: str
    source_file: str
    bus: str = "virtio"
    driver_type: str = "qcow2"
    cache: str = "none"
    backing_file: str | None = None
    source_kind: str = "image"
    iotune: IoTune | None = None
    alias: str = "virtio-disk0"


@dataclass(frozen=True, slots=True)
class InterfaceDevice:
    """A guest NIC for one Neutron port."""

    vif_type: VifType
    mac: str
    port_id: str
    dev: str                     # host device: tap<port id[:11]>, or the macvtap/VF name
    source: str = "br-int"       # bridge (br-int, qbrXXX) or, for macvtap, the physical dev
    bandwidth: Bandwidth | None = None
    model: str = "virtio"
    alias: str = "net0"
    mtu: int = 1500


@dataclass(frozen=True, slots=True)
class NovaMetadata:
    """The ``<nova:instance>`` block Nova writes into ``<metadata>``."""

    package_version: str
    display_name: str
    creation_time: str
    flavor_name: str
    memory_mib: int
    disk_gib: int
    swap_mib: int
    ephemeral_gib: int
    vcpus: int
    user_name: str
    user_id: str
    project_name: str
    project_id: str
    root_image_id: str | None


@dataclass(frozen=True, slots=True)
class DomainSpec:
    """Everything about one libvirt domain that vmqos renders."""

    name: str                    # instance-0000002a
    uuid: str
    metadata: NovaMetadata
    memory_kib: int
    vcpus: int
    cputune: CpuTune | None
    disks: tuple[DiskDevice, ...]
    interfaces: tuple[InterfaceDevice, ...]
    domain_type: str = "kvm"
    domain_id: int | None = None
    emulator: str = "/usr/bin/qemu-system-x86_64"
    machine: str = "pc-i440fx-rhel7.4.0"
    partition: str = "/machine"
