"""Nova's ``quota:*`` flavor extra specs: the registry and the validation.

This module mirrors ``nova/api/validation/extra_specs/quota.py`` and ``base.py`` /
``validators.py`` (Nova master 00a030403f67, read in source) exactly as the API applies them at
microversion >= 2.86: every value is first converted with Python ``int()`` (so ``' 12 '``,
``'+5'`` and ``'1_000'`` pass, ``'abc'`` and ``'1.5'`` fail), then compared against ``min``; no
quota key has a ``max``. The error messages are Nova's, verbatim.

Invariants:

* :data:`QUOTA_SPECS` holds every ``quota:*`` key Nova knows: 15 libvirt keys and 16 VMware-only
  keys. It is the single source for validation, the parse
  (:func:`vmqos.intent.nova.flavor.parse_flavor_quota`), lint and docs.
* Only the ``quota`` namespace is modelled. Keys without a namespace are never validated (as in
  Nova); keys in other namespaces (``hw:``, ``aggregate_instance_extra_specs:`` ...) are accepted
  unvalidated here, although Nova validates the namespaces it knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vmqos.errors import ValidationError
from vmqos.libvirt_types import FLAVOR_DISK_FIELDS, IotuneField

__all__ = [
    "QUOTA_SPECS",
    "QuotaSpec",
    "validate_extra_spec",
    "validate_extra_specs",
]

_NAMESPACE = "quota"


@dataclass(frozen=True, slots=True)
class QuotaSpec:
    """One ``quota:*`` key as Nova registers it (``base.ExtraSpecValidator``)."""

    name: str
    value_type: type[int] | type[str]
    min: int | None            # None: Nova sets no minimum
    enum: tuple[str, ...]      # allowed values of a str key; () for int keys
    description: str           # Nova's description string, verbatim
    libvirt: bool              # True if the libvirt driver honours the key
    unit: str                  # short unit of the value ("" when it has none)

    @property
    def allowed(self) -> str:
        """What values Nova accepts, in words (for error ``allowed=`` and docs)."""
        if self.value_type is str:
            return "one of: " + ", ".join(self.enum)
        if self.min is None:
            return "an integer"
        return f"an integer >= {self.min}"


_LIBVIRT = " Only supported by the libvirt virt driver."

# The CPU descriptions are the exact strings of Nova master
# nova/api/validation/extra_specs/quota.py.
_CPU_SPECS = (
    QuotaSpec(
        "quota:cpu_shares", int, 0, (),
        "The proportional weighted share for the domain. If this element is omitted, the "
        "service defaults to the OS provided defaults. There is no unit for the value; it is a "
        "relative measure based on the setting of other VMs. For example, a VM configured with "
        "a value of 2048 gets twice as much CPU time as a VM configured with value 1024."
        + _LIBVIRT,
        True, "",
    ),
    QuotaSpec(
        "quota:cpu_period", int, 0, (),
        "Specifies the enforcement interval in microseconds. Within a period, each VCPU of the "
        "instance is not allowed to consume more than the quota worth of runtime. The value "
        "should be in range 1,000 - 1,000,000. A period with a value of 0 means no value."
        + _LIBVIRT,
        True, "µs",
    ),
    QuotaSpec(
        # No min: a negative quota means "unlimited" to libvirt and the kernel.
        "quota:cpu_quota", int, None, (),
        "The maximum allowed bandwidth in microseconds. Can be combined with 'quota:cpu_period' "
        "to limit an instance to a percentage of capacity of a physical CPU. The value should be "
        "in range 1,000 - 2^64 or negative. A negative value indicates that the instance has "
        "infinite bandwidth." + _LIBVIRT,
        True, "µs",
    ),
)

# Nova builds these with f-strings: "The quota {stat} {metric} for disk/VIF. Only supported
# by the libvirt virt driver." (loop order read, write, total x bytes, iops: the order of
# FLAVOR_DISK_FIELDS, whose names are "{stat}_{metric}_sec").
def _disk_spec(field: IotuneField) -> QuotaSpec:
    stat, metric, _ = field.name.split("_")
    return QuotaSpec(f"quota:disk_{field.name}", int, 0, (),
                     f"The quota {stat} {metric} for disk." + _LIBVIRT, True, str(field.unit))


_DISK_SPECS = tuple(map(_disk_spec, FLAVOR_DISK_FIELDS))

_VIF_UNITS = {"average": "kB/s", "peak": "kB/s", "burst": "KiB"}
_VIF_SPECS = tuple(
    QuotaSpec(
        f"quota:vif_{stat}_{metric}", int, 0, (),
        f"The quota {stat} {metric} for VIF." + _LIBVIRT,
        True, _VIF_UNITS[metric],
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
            f"quota:{key}_limit", int, 0, (),
            f"The upper limit for {name} allocation in {unit}. The utilization of an instance "
            f"will not exceed this limit, even if there are available resources. This is "
            f"typically used to ensure a consistent performance of instances independent of "
            f"available resources. The value ``0`` indicates that {name} usage is not limited."
            + _VMWARE,
            False, short,
        ),
        QuotaSpec(
            # No min in Nova.
            f"quota:{key}_reservation", int, None, (),
            f"The guaranteed minimum {name} reservation in {unit}. This means the specified "
            f"amount of {name} that will be guaranteed for the instance." + _VMWARE,
            False, short,
        ),
        QuotaSpec(
            f"quota:{key}_shares_level", str, None, _SHARES_LEVELS,
            f"The allocation level for {name}. If you choose 'custom', set the number of {name} "
            f"shares using 'quota:{key}_shares_share'." + _VMWARE,
            False, "",
        ),
        QuotaSpec(
            f"quota:{key}_shares_share", int, 0, (),
            f"The number of shares of {name} allocated in the event that "
            f"'quota:{key}_shares_level=custom' is used. Ignored otherwise. There is no unit for "
            f"this value: it is a relative measure based on the settings for other instances."
            + _VMWARE,
            False, "",
        ),
    )


_VMWARE_SPECS = tuple(
    spec for resource in _VMWARE_RESOURCES for spec in _vmware_specs(*resource)
)

QUOTA_SPECS: Mapping[str, QuotaSpec] = MappingProxyType(
    {s.name: s for s in (*_VMWARE_SPECS, *_CPU_SPECS, *_DISK_SPECS, *_VIF_SPECS)}
)

_ALL_QUOTA_KEYS = ", ".join(sorted(QUOTA_SPECS))


def _to_int(spec: QuotaSpec, value: str) -> int:
    """``base.ExtraSpecValidator._validate_int``: Python ``int()``, then ``min``."""
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(
            f"Validation failed; '{value}' is not a valid integer value.",
            key=spec.name, value=value, allowed=spec.allowed,
        ) from None
    if spec.min is not None and number < spec.min:
        # Nova formats the *converted* integer here, so ' -1 ' is reported as '-1'.
        raise ValidationError(
            f"Validation failed; '{number}' is less than the min value of '{spec.min}'.",
            key=spec.name, value=value, allowed=spec.allowed,
        )
    return number


def validate_extra_spec(key: str, value: str) -> None:
    """Validate one flavor extra spec exactly as Nova's API does at microversion >= 2.86.

    * a known ``quota:*`` key: Nova's type/min/enum check and message;
    * an unknown key in the ``quota`` namespace: Nova's "does not appear to be a valid extra
      spec" error (``quota:disk_read_bytes_sec_max``, ``quota:vif_inbound_floor`` ...);
    * a key without a namespace (no ``:``): accepted unvalidated, as in Nova;
    * any other namespace: accepted unvalidated — vmqos models only ``quota:``, although Nova
      itself validates ``hw:``, ``hw_rng:`` and its other known namespaces.
    """
    spec = QUOTA_SPECS.get(key)
    if spec is None:
        # validators.validate(): the namespace is everything before the first colon.
        if key.partition(":")[0] == _NAMESPACE and ":" in key:
            raise ValidationError(
                f"Validation failed; extra spec '{key}' does not appear to be a valid extra "
                f"spec.",
                key=key, value=value, allowed=_ALL_QUOTA_KEYS,
            )
        return
    if spec.value_type is int:
        _to_int(spec, value)
    elif value not in spec.enum:
        # base.ExtraSpecValidator._validate_str, 'enum' branch (verified in Nova source).
        raise ValidationError(
            f"Validation failed; '{value}' is not one of: {', '.join(spec.enum)}.",
            key=key, value=value, allowed=spec.allowed,
        )


def validate_extra_specs(specs: Mapping[str, str]) -> None:
    """Validate every extra spec; the first error (keys in sorted order) is raised."""
    for key in sorted(specs):
        validate_extra_spec(key, specs[key])
