"""The libvirt-level desired state of one instance: what Nova hands to libvirt.

These are plan types, produced by :mod:`vmqos.plan.nova.compile` from intent and consumed by
the renderers (domain XML, QEMU throttling, cgroup writes, tc programs, libvirt's ovs-vsctl).
Units are libvirt's: ``average``/``peak`` kB/s (1000 B/s), ``burst`` KiB, iotune bytes/s and
I/O operations/s, cputune period/quota in microseconds.

:data:`IOTUNE_FIELDS` is the one list of ``<iotune>`` limits: every name a limit has (flavor
key, Cinder key, libvirt element, QEMU option and QMP key), its unit, and its place in each
upstream order. Every other list of them (intent's, the renderers', the parsers') is a view
of it.

:class:`Verbatim` carries Nova's own spelling of the numbers it writes into ``<bandwidth>`` and
``<iotune>`` without converting them: Nova's XML is made of those strings, libvirt stores the
numbers it parses from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

from vmqos.model import Direction, VifType
from vmqos.units import Bytes, BytesPerSec, Iops, KBytesPerSec, KiB, Microseconds, Seconds

__all__ = [
    "FLAVOR_DISK_FIELDS",
    "IOTUNE_BASE_KEYS",
    "IOTUNE_BUCKETS",
    "IOTUNE_FIELDS",
    "IOTUNE_KEYS",
    "IOTUNE_LENGTHS",
    "IOTUNE_LENGTH_KEYS",
    "IOTUNE_LIMITS",
    "IOTUNE_TOTAL_FAMILIES",
    "NOVA_TUNE_OPTS",
    "QEMU_BLOCK_IOTUNE_MAX",
    "Bandwidth",
    "BandwidthSide",
    "CpuTune",
    "DiskDevice",
    "DomainSpec",
    "InterfaceDevice",
    "IoTune",
    "IotuneAverages",
    "IotuneField",
    "IotuneUnit",
    "NovaMetadata",
    "Verbatim",
    "XmlForm",
]


class XmlForm(StrEnum):
    """The two serialisations of one domain (:mod:`vmqos.plan.render.domain_xml`)."""

    NOVA = "nova"            # Nova's config objects through lxml (nova/virt/libvirt/config.py)
    LIBVIRT = "libvirt"      # what ``virsh dumpxml`` prints (libvirt src/conf/domain_conf.c)


class Verbatim(Mapping[str, str]):
    """The strings Nova writes for some numeric fields, by field name: immutable, hashable.

    Nova's libvirt driver copies the ``quota:vif_*`` and ``quota:disk_*`` extra specs and a
    volume's Cinder ``qos_specs`` into its config objects as the strings they are
    (nova/virt/libvirt/designer.py ``set_vif_bandwidth_config``, imagebackend.py
    ``Image.disk_qos``, volume/volume.py ``LibvirtBaseVolumeDriver.get_config``) and
    ``LibvirtConfigGuestInterface.format_dom`` / ``LibvirtConfigGuestDisk._format_iotune``
    write ``str()`` of them, so ``quota:vif_inbound_average=007`` becomes ``average="007"``.
    The typed field holds the number (Python ``int()``'s, as Nova's API validated it); this
    holds the text, only where it is not that number's plain decimal, so a canonical flavor
    carries an empty one.
    """

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._texts: tuple[tuple[str, str], ...] = tuple(sorted(dict(texts).items()))

    def __getitem__(self, name: str) -> str:
        for key, text in self._texts:
            if key == name:
                return text
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __hash__(self) -> int:
        return hash(self._texts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Verbatim):
            return self._texts == other._texts
        return super().__eq__(other)

    def __repr__(self) -> str:
        return f"Verbatim({dict(self._texts)!r})"

    def text(self, name: str, value: object) -> str:
        """What Nova writes for field ``name`` whose number is ``value``."""
        return self.get(name, str(value))


@dataclass(frozen=True, slots=True)
class CpuTune:
    """``<cputune>``: children written in Nova's order shares, quota, period."""

    shares: int | None = None
    quota: Microseconds | None = None    # negative: unlimited
    period: Microseconds | None = None

    def is_empty(self) -> bool:
        return self.shares is None and self.quota is None and self.period is None


@dataclass(frozen=True, slots=True)
class BandwidthSide:
    """One ``<inbound>``/``<outbound>`` element; ``peak``/``burst`` ``None`` = attribute absent.
    ``verbatim``: Nova's text of ``average``/``peak``/``burst`` where it is not the number's."""

    average: KBytesPerSec
    peak: KBytesPerSec | None = None
    burst: KiB | None = None
    verbatim: Verbatim = Verbatim()


@dataclass(frozen=True, slots=True)
class Bandwidth:
    inbound: BandwidthSide | None = None
    outbound: BandwidthSide | None = None

    def side(self, direction: Direction) -> BandwidthSide | None:
        return self.inbound if direction is Direction.INBOUND else self.outbound


class IotuneUnit(StrEnum):
    """The unit of one ``<iotune>`` value (the text is what ``vmqos validate`` shows); the
    :class:`IoTune` field has the :mod:`vmqos.units` type of the same name."""

    BYTES_PER_SEC = "B/s"
    IOPS = "IOPS"
    BYTES = "B"          # size_iops_sec: the request size that counts as one operation
    SECONDS = "s"        # *_max_length: how long a *_max burst may last


@dataclass(frozen=True, slots=True)
class IotuneField:
    """One numeric ``<iotune>`` limit and every name it has on the way from Nova to QEMU.

    ``name`` is at once the :class:`IoTune` field, libvirt's ``<iotune>`` child element and the
    Cinder front-end ``qos_specs`` key: Nova's ``LibvirtBaseVolumeDriver.get_config``
    (nova/virt/libvirt/volume/volume.py) copies each ``tune_opts`` key onto the disk config
    object by that name and ``LibvirtConfigGuestDisk.format_dom`` (nova/virt/libvirt/config.py)
    writes it as the element of that name.
    """

    name: str
    unit: IotuneUnit
    drive_option: str                 # legacy ``-drive ...,throttling.<option>=`` (libvirt 3.x)
    qmp_key: str                      # ``block_set_io_throttle`` argument, ``query-block`` key
    # Position among the children LibvirtConfigGuestDisk writes; None: Nova cannot write it.
    nova_position: int | None = None
    # Position in Nova's volume ``tune_opts``; None: Nova does not forward the Cinder key.
    tune_opts_position: int | None = None
    flavor: bool = False              # a flavor sets it as ``quota:disk_<name>``
    burst_of: str | None = None       # a ``*_max_length``: the ``_max`` whose burst it times

    @property
    def nova_quota(self) -> str | None:
        """The flavor extra spec (nova/api/validation/extra_specs/quota.py), if any."""
        return f"quota:disk_{self.name}" if self.flavor else None


_BPS, _IOPS = IotuneUnit.BYTES_PER_SEC, IotuneUnit.IOPS


def _length(name: str, option: str, qmp_key: str) -> IotuneField:
    return IotuneField(name, IotuneUnit.SECONDS, option, qmp_key,
                       burst_of=name.removesuffix("_length"))


# The one list of <iotune> limits, in libvirt's order: virDomainDiskDefFormatIotune writes the
# children so, qemuBuildDiskThrottling the -drive options and qemuMonitorJSONSetBlockIoThrottle
# the QMP arguments (group_name goes between size_iops_sec and the lengths in all three).
IOTUNE_FIELDS: tuple[IotuneField, ...] = (
    IotuneField("total_bytes_sec", _BPS, "bps-total", "bps", 4, 0, flavor=True),
    IotuneField("read_bytes_sec", _BPS, "bps-read", "bps_rd", 0, 1, flavor=True),
    IotuneField("write_bytes_sec", _BPS, "bps-write", "bps_wr", 2, 2, flavor=True),
    IotuneField("total_iops_sec", _IOPS, "iops-total", "iops", 5, 3, flavor=True),
    IotuneField("read_iops_sec", _IOPS, "iops-read", "iops_rd", 1, 4, flavor=True),
    IotuneField("write_iops_sec", _IOPS, "iops-write", "iops_wr", 3, 5, flavor=True),
    IotuneField("total_bytes_sec_max", _BPS, "bps-total-max", "bps_max", 8, 10),
    IotuneField("read_bytes_sec_max", _BPS, "bps-read-max", "bps_rd_max", 6, 6),
    IotuneField("write_bytes_sec_max", _BPS, "bps-write-max", "bps_wr_max", 7, 8),
    IotuneField("total_iops_sec_max", _IOPS, "iops-total-max", "iops_max", 11, 11),
    IotuneField("read_iops_sec_max", _IOPS, "iops-read-max", "iops_rd_max", 9, 7),
    IotuneField("write_iops_sec_max", _IOPS, "iops-write-max", "iops_wr_max", 10, 9),
    IotuneField("size_iops_sec", IotuneUnit.BYTES, "iops-size", "iops_size", 12, 12),
    _length("total_bytes_sec_max_length", "bps-total-max-length", "bps_max_length"),
    _length("read_bytes_sec_max_length", "bps-read-max-length", "bps_rd_max_length"),
    _length("write_bytes_sec_max_length", "bps-write-max-length", "bps_wr_max_length"),
    _length("total_iops_sec_max_length", "iops-total-max-length", "iops_max_length"),
    _length("read_iops_sec_max_length", "iops-read-max-length", "iops_rd_max_length"),
    _length("write_iops_sec_max_length", "iops-write-max-length", "iops_wr_max_length"),
)

# libvirt qemu_command.h QEMU_BLOCK_IOTUNE_MAX, the limit for the 13 non-length fields; QEMU's
# THROTTLE_VALUE_MAX (include/qemu/throttle.h) has the same value.
QEMU_BLOCK_IOTUNE_MAX = 1_000_000_000_000_000

# Views of the table; each keeps the table's (libvirt's) order unless it names another.
IOTUNE_LIMITS = tuple(f for f in IOTUNE_FIELDS if f.burst_of is None)    # the 13 non-length
IOTUNE_LENGTHS = tuple(f for f in IOTUNE_FIELDS if f.burst_of is not None)
# The 13 limits in the order Nova's LibvirtConfigGuestDisk writes <iotune> children.
IOTUNE_BASE_KEYS: tuple[str, ...] = tuple(
    f.name for f in sorted(IOTUNE_LIMITS, key=lambda f: f.nova_position or 0))
IOTUNE_LENGTH_KEYS: tuple[str, ...] = tuple(f.name for f in IOTUNE_LENGTHS)
# Nova's volume tune_opts, in its source order (the Cinder keys Nova forwards).
NOVA_TUNE_OPTS: tuple[str, ...] = tuple(
    f.name for f in sorted((f for f in IOTUNE_FIELDS if f.tune_opts_position is not None),
                           key=lambda f: f.tune_opts_position or 0))
# The six flavor quota:disk_* limits, in Nova's order (its quota.py loop and Image.disk_qos).
FLAVOR_DISK_FIELDS: tuple[IotuneField, ...] = tuple(
    sorted((f for f in IOTUNE_FIELDS if f.flavor), key=lambda f: f.nova_position or 0))
# QEMU's six throttle buckets (util/throttle.c) as (average, _max, _max_length), libvirt order.
IOTUNE_BUCKETS: tuple[tuple[str, str, str], ...] = tuple(
    (f.burst_of.removesuffix("_max"), f.burst_of, f.name)
    for f in IOTUNE_LENGTHS if f.burst_of is not None)
# The families libvirt refuses to set both as a total and per direction
# (virDomainDiskDefValidate): (total, read, write, family suffix), libvirt order.
IOTUNE_TOTAL_FAMILIES: tuple[tuple[str, str, str, str], ...] = tuple(
    (f.name, f.name.replace("total_", "read_", 1), f.name.replace("total_", "write_", 1),
     f.name.removeprefix("total_"))
    for f in IOTUNE_LIMITS if f.name.startswith("total_"))


@dataclass(frozen=True, slots=True)
class IotuneAverages:
    """The six sustained ``<iotune>`` limits (bytes/s and I/O operations/s; ``None`` = not
    set): all that a flavor's ``quota:disk_*`` can set (:data:`FLAVOR_DISK_FIELDS`)."""

    read_bytes_sec: BytesPerSec | None = None
    read_iops_sec: Iops | None = None
    write_bytes_sec: BytesPerSec | None = None
    write_iops_sec: Iops | None = None
    total_bytes_sec: BytesPerSec | None = None
    total_iops_sec: Iops | None = None


@dataclass(frozen=True, slots=True)
class IoTune(IotuneAverages):
    """``<iotune>``: QEMU block throttling for one disk. ``None`` = not set.

    The value fields (:data:`IOTUNE_KEYS`) are :data:`IOTUNE_FIELDS` in Nova's order
    (:data:`IOTUNE_BASE_KEYS`: the six averages first), then ``group_name``, then the lengths;
    mypy needs them spelled out, and tests/unit/test_iotune_fields.py keeps them equal to the
    table. ``verbatim`` is Nova's text of a value where it is not the number's.
    """

    read_bytes_sec_max: BytesPerSec | None = None
    write_bytes_sec_max: BytesPerSec | None = None
    total_bytes_sec_max: BytesPerSec | None = None
    read_iops_sec_max: Iops | None = None
    write_iops_sec_max: Iops | None = None
    total_iops_sec_max: Iops | None = None
    size_iops_sec: Bytes | None = None
    group_name: str | None = None
    total_bytes_sec_max_length: Seconds | None = None
    read_bytes_sec_max_length: Seconds | None = None
    write_bytes_sec_max_length: Seconds | None = None
    total_iops_sec_max_length: Seconds | None = None
    read_iops_sec_max_length: Seconds | None = None
    write_iops_sec_max_length: Seconds | None = None
    verbatim: Verbatim = Verbatim()

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in IOTUNE_KEYS)


# IoTune's value fields, in its order: every field but ``verbatim``.
IOTUNE_KEYS: tuple[str, ...] = tuple(f.name for f in fields(IoTune) if f.name != "verbatim")


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
    vlan: str | None = None      # <vlan><tag id=...>: the VLAN Nova's hw_veb path gives a VF


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
