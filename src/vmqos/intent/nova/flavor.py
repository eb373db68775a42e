"""Nova flavors and the QoS they carry, as typed values.

A :class:`Flavor` holds the extra specs exactly as Nova stores them (strings). The QoS meaning
of those specs — after Nova's validation — is a :class:`FlavorQuota`, produced by
:func:`vmqos.intent.nova.extra_specs.parse_flavor_quota`. Values keep Nova's units: the VIF
``average``/``peak`` are libvirt kilobytes/s and ``burst`` is KiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vmqos.model import Direction
from vmqos.units import KBytesPerSec, KiB

__all__ = ["DISK_QUOTA_KEYS", "DiskQuota", "Flavor", "FlavorQuota", "VifQuota"]


@dataclass(frozen=True, slots=True)
class Flavor:
    """A Nova flavor. ``ram`` in MiB, ``disk``/``ephemeral`` in GiB, ``swap`` in MiB."""

    name: str
    vcpus: int = 1
    ram: int = 512
    disk: int = 1
    ephemeral: int = 0
    swap: int = 0
    is_public: bool = True
    id: str = ""
    extra_specs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VifQuota:
    """One direction of ``quota:vif_<direction>_{average,peak,burst}``; ``None`` = key absent.

    Absent and ``0`` differ: Nova treats the *string* ``"0"`` as set (truthy), so
    ``average=0`` still produces a ``<bandwidth>`` element.
    """

    average: KBytesPerSec | None = None
    peak: KBytesPerSec | None = None
    burst: KiB | None = None


# The six flavor disk keys, in the order libvirt's <iotune> writes them.
DISK_QUOTA_KEYS: tuple[str, ...] = (
    "read_bytes_sec",
    "read_iops_sec",
    "write_bytes_sec",
    "write_iops_sec",
    "total_bytes_sec",
    "total_iops_sec",
)


@dataclass(frozen=True, slots=True)
class DiskQuota:
    """``quota:disk_*`` — bytes/s and I/O operations/s, for image-backed local disks only."""

    read_bytes_sec: int | None = None
    read_iops_sec: int | None = None
    write_bytes_sec: int | None = None
    write_iops_sec: int | None = None
    total_bytes_sec: int | None = None
    total_iops_sec: int | None = None

    def items(self) -> list[tuple[str, int]]:
        """The set keys, in libvirt ``<iotune>`` order."""
        out: list[tuple[str, int]] = []
        for key in DISK_QUOTA_KEYS:
            value = getattr(self, key)
            if value is not None:
                out.append((key, value))
        return out


@dataclass(frozen=True, slots=True)
class FlavorQuota:
    """Every ``quota:*`` extra spec the libvirt driver honours, parsed and validated."""

    cpu_shares: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    disk: DiskQuota = DiskQuota()
    vif_inbound: VifQuota = VifQuota()
    vif_outbound: VifQuota = VifQuota()
    # quota:* keys Nova accepts but only the VMware driver reads (libvirt ignores them).
    ignored_by_libvirt: tuple[str, ...] = ()

    def vif(self, direction: Direction) -> VifQuota:
        return self.vif_inbound if direction is Direction.INBOUND else self.vif_outbound
