"""Nova's ``quota:*`` extra specs: the table (nova/api/validation/extra_specs/quota.py).

Nova master 00a030403f67, read in source: 15 keys the libvirt driver honours (CPU, disk, VIF)
and 16 VMware-only keys. Descriptions are Nova's strings, verbatim; types and minimums are
Nova's (no ``quota:`` key has a ``max``).

Invariants:

* :data:`QUOTA_SPECS` holds every ``quota:*`` key Nova knows, and only those. It is the single
  source for the ``quota`` namespace of the registry (:mod:`vmqos.intent.nova.extra_spec_keys`),
  the parse (:func:`vmqos.intent.nova.flavor.parse_flavor_quota`), lint and docs.
* ``libvirt`` and ``unit`` are vmqos's facts about the libvirt driver, not Nova's registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from vmqos.intent.nova.extra_spec_types import QuotaSpec
from vmqos.libvirt_types import FLAVOR_DISK_FIELDS, IotuneField

__all__ = ["QUOTA_SPECS"]

_LIBVIRT = " Only supported by the libvirt virt driver."

# The CPU descriptions are the exact strings of Nova master
# nova/api/validation/extra_specs/quota.py.
_CPU_SPECS = (
    QuotaSpec(
        "quota:cpu_shares", int, min=0, libvirt=True, unit="",
        description="The proportional weighted share for the domain. If this element is "
        "omitted, the service defaults to the OS provided defaults. There is no unit for the "
        "value; it is a relative measure based on the setting of other VMs. For example, a VM "
        "configured with a value of 2048 gets twice as much CPU time as a VM configured with "
        "value 1024." + _LIBVIRT,
    ),
    QuotaSpec(
        "quota:cpu_period", int, min=0, libvirt=True, unit="µs",
        description="Specifies the enforcement interval in microseconds. Within a period, each "
        "VCPU of the instance is not allowed to consume more than the quota worth of runtime. "
        "The value should be in range 1,000 - 1,000,000. A period with a value of 0 means no "
        "value." + _LIBVIRT,
    ),
    QuotaSpec(
        # No min: a negative quota means "unlimited" to libvirt and the kernel.
        "quota:cpu_quota", int, libvirt=True, unit="µs",
        description="The maximum allowed bandwidth in microseconds. Can be combined with "
        "'quota:cpu_period' to limit an instance to a percentage of capacity of a physical CPU. "
        "The value should be in range 1,000 - 2^64 or negative. A negative value indicates that "
        "the instance has infinite bandwidth." + _LIBVIRT,
    ),
)

# Nova builds these with f-strings: "The quota {stat} {metric} for disk/VIF. Only supported
# by the libvirt virt driver." (loop order read, write, total x bytes, iops: the order of
# FLAVOR_DISK_FIELDS, whose names are "{stat}_{metric}_sec").
def _disk_spec(field: IotuneField) -> QuotaSpec:
    stat, metric, _ = field.name.split("_")
    return QuotaSpec(f"quota:disk_{field.name}", int, min=0, libvirt=True, unit=str(field.unit),
                     description=f"The quota {stat} {metric} for disk." + _LIBVIRT)


_DISK_SPECS = tuple(map(_disk_spec, FLAVOR_DISK_FIELDS))

_VIF_UNITS = {"average": "kB/s", "peak": "kB/s", "burst": "KiB"}
_VIF_SPECS = tuple(
    QuotaSpec(
        f"quota:vif_{stat}_{metric}", int, min=0, libvirt=True, unit=_VIF_UNITS[metric],
        description=f"The quota {stat} {metric} for VIF." + _LIBVIRT,
    )
    for stat in ("inbound", "outbound")
    for metric in ("average", "peak", "burst")
)

# VMware-only keys. Their descriptions are the f-strings of
# Nova master quota.py (00a030403f67), read in source via the code index.
_VMWARE = " Only supported by the VMWare virt driver."
_VMWARE_RESOURCES = (
    ("cpu", "CPU", "MHz", "MHz"),
    ("memory", "memory", "MB", "MB"),
    ("disk_io", "disk IO", "I/O per second", "IOPS"),
    ("vif", "virtual interface", "Mbps", "Mbit/s"),
)
_SHARES_LEVELS = ("custom", "high", "normal", "low")


def _vmware_specs(key: str, name: str, unit: str, short: str) -> tuple[QuotaSpec, ...]:
    return (
        QuotaSpec(
            f"quota:{key}_limit", int, min=0, unit=short,
            description=f"The upper limit for {name} allocation in {unit}. The utilization of "
            f"an instance will not exceed this limit, even if there are available resources. "
            f"This is typically used to ensure a consistent performance of instances "
            f"independent of available resources. The value ``0`` indicates that {name} usage "
            f"is not limited." + _VMWARE,
        ),
        QuotaSpec(
            # No min in Nova.
            f"quota:{key}_reservation", int, unit=short,
            description=f"The guaranteed minimum {name} reservation in {unit}. This means the "
            f"specified amount of {name} that will be guaranteed for the instance." + _VMWARE,
        ),
        QuotaSpec(
            f"quota:{key}_shares_level", str, enum=_SHARES_LEVELS,
            description=f"The allocation level for {name}. If you choose 'custom', set the "
            f"number of {name} shares using 'quota:{key}_shares_share'." + _VMWARE,
        ),
        QuotaSpec(
            f"quota:{key}_shares_share", int, min=0,
            description=f"The number of shares of {name} allocated in the event that "
            f"'quota:{key}_shares_level=custom' is used. Ignored otherwise. There is no unit "
            f"for this value: it is a relative measure based on the settings for other "
            f"instances." + _VMWARE,
        ),
    )


_VMWARE_SPECS = tuple(
    spec for resource in _VMWARE_RESOURCES for spec in _vmware_specs(*resource)
)

# Nova's registration order: the VMware loop, then CPU, disk and VIF (libvirt).
QUOTA_SPECS: Mapping[str, QuotaSpec] = MappingProxyType(
    {s.name: s for s in (*_VMWARE_SPECS, *_CPU_SPECS, *_DISK_SPECS, *_VIF_SPECS)}
)
