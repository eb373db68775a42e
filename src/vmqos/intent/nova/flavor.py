"""Nova flavors and the QoS they carry, as typed values.

A :class:`Flavor` holds the extra specs exactly as Nova stores them (strings) and, parsed from
them once when the flavor is built, their QoS meaning after Nova's validation: a
:class:`FlavorQuota` (:func:`parse_flavor_quota`). Values keep Nova's units: the VIF
``average``/``peak`` are libvirt kilobytes/s and ``burst`` is KiB.

Numbers are Python ``int()``'s, as Nova's API validates them and as
``LibvirtDriver._update_guest_cputune`` converts the CPU keys. The VIF and disk keys Nova's
libvirt driver never converts: it writes their strings into ``<bandwidth>`` and ``<iotune>``
(nova/virt/libvirt/designer.py ``set_vif_bandwidth_config``, imagebackend.py
``Image.disk_qos``), so :class:`VifQuota` and :class:`DiskQuota` carry those strings too, as a
:class:`~vmqos.libvirt_types.Verbatim` next to the numbers (only where the string is not the
number's plain decimal: ``007``, `` 12``, ``+5``, ``1_000``, ``١٢``).

Invariants:

* A :class:`Flavor` only exists with ``quota:*`` specs Nova's API (microversion >= 2.86)
  would accept: building one with an invalid one raises Nova's
  :class:`~vmqos.errors.ValidationError`. Below 2.86 Nova stores any string; such a flavor
  stays a stored row (:mod:`vmqos.store`) and fails, with Nova's message, where it becomes
  intent (``vmqos.store.scenario.flavor_value``). Nothing downstream re-parses the specs.
* Specs in other namespaces (``hw:``, ``trait:`` ...) are carried, not checked: Nova's API
  validates them when they are set (:func:`vmqos.intent.nova.extra_specs.validate_extra_spec`),
  and a flavor stored below 2.86 still boots in Nova whatever they hold.
* ``Flavor.quota`` is derived, so it is not an argument, takes no part in equality, and
  :func:`dataclasses.replace` with new ``extra_specs`` parses them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vmqos.intent.nova.extra_specs import QUOTA_SPECS, validate_quota_specs
from vmqos.libvirt_types import FLAVOR_DISK_FIELDS, IotuneAverages, Verbatim
from vmqos.model import Direction
from vmqos.units import KBytesPerSec, KiB, Microseconds

__all__ = ["DISK_QUOTA_KEYS", "MAX_INT", "DiskQuota", "Flavor", "FlavorQuota", "VifQuota",
           "parse_flavor_quota"]

# nova/db/constants.py MAX_INT: the largest ram, disk, vcpus, swap or ephemeral a flavor holds
# (the API schema's maximum, a 32-bit signed database column).
MAX_INT = 2**31 - 1


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
    quota: FlavorQuota = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The one parse of the specs (frozen: set through object.__setattr__, as dataclasses
        # itself does for frozen fields).
        object.__setattr__(self, "quota", parse_flavor_quota(self.extra_specs))


@dataclass(frozen=True, slots=True)
class VifQuota:
    """One direction of ``quota:vif_<direction>_{average,peak,burst}``; ``None`` = key absent.

    Absent and ``0`` differ: Nova treats the *string* ``"0"`` as set (truthy), so
    ``average=0`` still produces a ``<bandwidth>`` element. ``verbatim``: the extra specs'
    strings (by ``average``/``peak``/``burst``) where they are not the numbers' decimals.
    """

    average: KBytesPerSec | None = None
    peak: KBytesPerSec | None = None
    burst: KiB | None = None
    verbatim: Verbatim = Verbatim()


# The six flavor disk keys, in Nova's order (vmqos.libvirt_types.FLAVOR_DISK_FIELDS).
DISK_QUOTA_KEYS: tuple[str, ...] = tuple(f.name for f in FLAVOR_DISK_FIELDS)


@dataclass(frozen=True, slots=True)
class DiskQuota(IotuneAverages):
    """``quota:disk_*`` — bytes/s and I/O operations/s, for image-backed local disks only:
    the six sustained ``<iotune>`` limits, :data:`DISK_QUOTA_KEYS`; ``verbatim`` as for
    :class:`VifQuota`, by ``<iotune>`` name."""

    verbatim: Verbatim = Verbatim()

    def items(self) -> list[tuple[str, int]]:
        """The set keys, in Nova's ``<iotune>`` order."""
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
    cpu_period: Microseconds | None = None
    cpu_quota: Microseconds | None = None
    disk: DiskQuota = DiskQuota()
    vif_inbound: VifQuota = VifQuota()
    vif_outbound: VifQuota = VifQuota()
    # quota:* keys Nova accepts but only the VMware driver reads (libvirt ignores them).
    ignored_by_libvirt: tuple[str, ...] = ()

    def vif(self, direction: Direction) -> VifQuota:
        return self.vif_inbound if direction is Direction.INBOUND else self.vif_outbound


# Keys of the FlavorQuota fields, looked up once per spec key in parse_flavor_quota.
_CPU_FIELD = {"quota:cpu_shares": "cpu_shares", "quota:cpu_period": "cpu_period",
              "quota:cpu_quota": "cpu_quota"}
_DISK_FIELD = {f.nova_quota: f.name for f in FLAVOR_DISK_FIELDS if f.nova_quota}
_VIF_FIELD = {
    key: (key.split("_")[1], key.split("_")[2]) for key, spec in QUOTA_SPECS.items()
    if spec.libvirt and key.startswith("quota:vif_")
}  # "quota:vif_inbound_average" -> ("inbound", "average")


def parse_flavor_quota(specs: Mapping[str, str]) -> FlavorQuota:
    """Validate the ``quota:*`` keys of ``specs``
    (:func:`~vmqos.intent.nova.extra_specs.validate_quota_specs`) and build the
    :class:`FlavorQuota`.

    Values are ``int()``-converted like Nova's validator (``'0'`` stays ``0``: Nova treats the
    string ``"0"`` as set); a VIF or disk value whose string is not its number's decimal keeps
    the string in its quota's ``verbatim``. VMware-only keys land, sorted, in
    ``ignored_by_libvirt``; keys outside the ``quota`` namespace are not part of the quota and
    are skipped.
    """
    validate_quota_specs(specs)
    cpu: dict[str, int] = {}
    disk: dict[str, Any] = {}   # Any: B/s or IOPS by name (FLAVOR_DISK_FIELDS)
    disk_texts: dict[str, str] = {}
    vif: dict[str, dict[str, int]] = {"inbound": {}, "outbound": {}}
    vif_texts: dict[str, dict[str, str]] = {"inbound": {}, "outbound": {}}
    ignored: list[str] = []
    for key, value in specs.items():
        spec = QUOTA_SPECS.get(key)
        if spec is None:
            continue
        if not spec.libvirt:
            ignored.append(key)
        elif key in _CPU_FIELD:
            cpu[_CPU_FIELD[key]] = int(value)
        elif key in _DISK_FIELD:
            _keep(disk, disk_texts, _DISK_FIELD[key], value)
        else:
            direction, metric = _VIF_FIELD[key]
            _keep(vif[direction], vif_texts[direction], metric, value)
    return FlavorQuota(
        cpu_shares=cpu.get("cpu_shares"),
        cpu_period=_microseconds(cpu.get("cpu_period")),
        cpu_quota=_microseconds(cpu.get("cpu_quota")),
        disk=DiskQuota(**disk, verbatim=Verbatim(disk_texts)) if disk else DiskQuota(),
        vif_inbound=_vif_quota(vif["inbound"], vif_texts["inbound"]),
        vif_outbound=_vif_quota(vif["outbound"], vif_texts["outbound"]),
        ignored_by_libvirt=tuple(sorted(ignored)),
    )


def _keep(numbers: dict[str, Any], texts: dict[str, str], name: str, value: str) -> None:
    """The number of a key Nova copies verbatim, and its string if that is not the number's."""
    number = int(value)
    numbers[name] = number
    if value != str(number):
        texts[name] = value


def _microseconds(value: int | None) -> Microseconds | None:
    return None if value is None else Microseconds(value)


def _vif_quota(values: Mapping[str, int], texts: Mapping[str, str]) -> VifQuota:
    if not values:
        return VifQuota()
    average = values.get("average")
    peak = values.get("peak")
    burst = values.get("burst")
    return VifQuota(
        average=None if average is None else KBytesPerSec(average),
        peak=None if peak is None else KBytesPerSec(peak),
        burst=None if burst is None else KiB(burst),
        verbatim=Verbatim(texts),
    )
