"""Every extra spec Nova's API validates (microversion >= 2.86), namespace by namespace.

The facts of Nova master 00a030403f67 nova/api/validation/extra_specs/, read in source: one
table per Nova module (accel.py, aggregate_instance_extra_specs.py, capabilities.py, hw.py,
hw_rng.py, hw_video.py, null.py, os.py, pci_passthrough.py, quota.py, resources.py, traits.py,
vmware.py), the enums Nova takes from nova/objects/fields.py spelled out. Descriptions are kept
for ``quota:`` only (:mod:`vmqos.intent.nova.quota_specs`).

Invariants:

* :data:`NOVA_SPECS` is the whole registry, in Nova's load order: the modules in the order of
  Nova's ``nova.api.extra_spec_validators`` entry points (pyproject.toml), each module's specs in
  its own ``register()`` order. Nova's search takes the first match in that order.
* Names and patterns are Nova's strings, unescaped: Nova turns a name into a regex by
  substituting ``{param}`` only, so the ``.`` of ``hw:numa_cpus.{num}`` matches any character
  there too.
* A ``matcher`` is given where Nova's value pattern backtracks exponentially (the CPU masks,
  ``hw:pmem``, ``pci_passthrough:alias``); it accepts the same strings (tested exhaustively over
  small alphabets) in linear time.
"""

from __future__ import annotations

from vmqos.intent.nova.extra_spec_types import ExtraSpec, SpecParam
from vmqos.intent.nova.placement_names import STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS
from vmqos.intent.nova.quota_specs import QUOTA_SPECS

__all__ = ["NOVA_SPECS"]


def _bool(name: str) -> ExtraSpec:
    return ExtraSpec(name, bool)


def _int(name: str, min: int | None = None, max: int | None = None,
         params: tuple[SpecParam, ...] = ()) -> ExtraSpec:
    return ExtraSpec(name, int, min=min, max=max, params=params)


def _enum(name: str, *values: str) -> ExtraSpec:
    return ExtraSpec(name, str, enum=values)


def _str(name: str, params: tuple[SpecParam, ...] = ()) -> ExtraSpec:
    return ExtraSpec(name, str, params=params)


def _pattern(name: str, pattern: str, matcher: str | None = None,
             params: tuple[SpecParam, ...] = ()) -> ExtraSpec:
    return ExtraSpec(name, str, pattern=pattern, matcher=matcher, params=params)


# hw.py: a CPU map ("0-3,^2,5"). Nova's realtime mask wraps the caret in a group, the others do
# not; both are exponential on e.g. "1-1,1-1,...,x". The matcher reads the map as a first CPU
# and then any run of "-N" and ",[^]N": the same language, without nested repetition.
_REALTIME_MASK = r"(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"
_CPU_MASK = r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"
_CPU_MASK_MATCHER = r"\^?\d+(?:-\d+|,\^?\d+)*"
_NUMA_NODE = (SpecParam("num", r"\d+"),)

_HW = (
    # realtime_validators
    _bool("hw:cpu_realtime"),
    _pattern("hw:cpu_realtime_mask", _REALTIME_MASK, _CPU_MASK_MATCHER),
    # hide_hypervisor_id_validator
    _bool("hw:hide_hypervisor_id"),
    # cpu_policy_validators
    _enum("hw:cpu_policy", "dedicated", "shared", "mixed"),
    _enum("hw:cpu_thread_policy", "prefer", "isolate", "require"),
    _enum("hw:emulator_threads_policy", "isolate", "share"),
    _pattern("hw:cpu_dedicated_mask", _CPU_MASK, _CPU_MASK_MATCHER),
    # hugepage_validators
    _pattern("hw:mem_page_size", r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)"),
    _bool("hw:locked_memory"),
    # numa_validators
    _int("hw:numa_nodes", min=1),
    _pattern("hw:numa_cpus.{num}", _CPU_MASK, _CPU_MASK_MATCHER, params=_NUMA_NODE),
    _int("hw:numa_mem.{num}", min=1, params=_NUMA_NODE),
    _enum("hw:pci_numa_affinity_policy", "required", "preferred", "legacy", "socket"),
    # cpu_topology_validators
    _int("hw:cpu_sockets", min=1),
    _int("hw:cpu_cores", min=1),
    _int("hw:cpu_threads", min=1),
    _int("hw:cpu_max_sockets", min=1),
    _int("hw:cpu_max_cores", min=1),
    _int("hw:cpu_max_threads", min=1),
    # feature_flag_validators
    _bool("hw:boot_menu"),
    _bool("hw:vif_multiqueue_enabled"),
    _bool("hw:mem_encryption"),
    _enum("hw:mem_encryption_model", "amd-sev", "amd-sev-es", "amd-sev-snp"),
    # "([a-zA-Z0-9_]+(,)?)+" is exponential on "aaaa...!"; the same language: labels separated
    # by single commas, optionally ending in one.
    _pattern("hw:pmem", r"([a-zA-Z0-9_]+(,)?)+", r"[a-zA-Z0-9_]+(?:,[a-zA-Z0-9_]+)*,?"),
    _bool("hw:pmu"),
    _int("hw:serial_port_count", min=0),
    _enum("hw:tpm_model", "tpm-tis", "tpm-crb"),
    _enum("hw:tpm_version", "1.2", "2.0"),
    _enum("hw:tpm_secret_security", "user", "host", "deployment"),
    _enum("hw:watchdog_action", "none", "pause", "poweroff", "reset", "disabled"),
    _enum("hw:viommu_model", "intel", "smmuv3", "virtio", "auto"),
    _bool("hw:virtio_packed_ring"),
    # fields.SoundModelType.ALL
    _enum("hw:sound_model", "sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio"),
    # fields.USBControllerModelType.ALL
    _enum("hw:usb_model", "none", "nec-xhci", "qemu-xhci"),
    _int("hw:redirected_usb_ports", min=0, max=15),
    # ephemeral_encryption_validators
    _bool("hw:ephemeral_encryption"),
    # fields.BlockDeviceEncryptionFormatType.ALL
    _enum("hw:ephemeral_encryption_format", "plain", "luks", "luksv2"),
)

_HW_RNG = (
    _bool("hw_rng:allowed"),
    _int("hw_rng:rate_bytes", min=0),
    _int("hw_rng:rate_period", min=0),
)

_HW_VIDEO = (_int("hw_video:ram_max_mb", min=0),)

# null.py: the two keys without a namespace that Nova validates.
_NULL = (
    ExtraSpec("hide_hypervisor_id", bool, deprecated=True),
    _enum("group_policy", "isolate", "none"),
)

_OS = (_enum("os:secure_boot", "disabled", "required"),)

_ACCEL = (_str("accel:device_profile"),)

# Any key at all under the namespace; any value (the filter's operators are free text).
_AGGREGATE = (_str("aggregate_instance_extra_specs:{key}", params=(SpecParam("key", r".+"),)),)

# capabilities.py: ComputeNode and HostState attributes; the nested ones take an optional
# ":a:b..." filter. Nova lists vcpus_used twice; the second registration replaces the first.
_FLAT_CAPABILITIES = (
    "id", "uuid", "service_id", "host", "vcpus", "memory_mb", "local_gb", "vcpus_used",
    "memory_mb_used", "local_gb_used", "hypervisor_type", "hypervisor_version",
    "hypervisor_hostname", "free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
    "disk_available_least", "host_ip", "mapped", "cpu_allocation_ratio", "ram_allocation_ratio",
    "disk_allocation_ratio",
    "total_usable_ram_mb", "total_usable_disk_gb", "disk_mb_used", "free_disk_mb",
    "vcpus_total", "vcpus_used", "num_instances", "num_io_ops", "failed_builds", "aggregates",
    "cell_uuid", "updated",
)
_NESTED_CAPABILITIES = (
    "cpu_info", "metrics", "stats", "numa_topology", "supported_hv_specs", "pci_device_pools",
    "nodename", "pci_stats", "supported_instances", "limits", "instances",
)
_CAPABILITIES = (
    *(_str(f"capabilities:{c}") for c in _FLAT_CAPABILITIES),
    *(_str(f"capabilities:{c}{{filter}}", params=(SpecParam("filter", r"(:\w+)*"),))
      for c in _NESTED_CAPABILITIES),
)

# pci_passthrough.py: "$alias:$count[,$alias:$count...]". Nova's pattern lets the \s* around a
# comma and the next [^:]+ share the blanks, which is exponential in the number of ", " pairs;
# a [^:]+ already takes leading blanks, so only the blanks before the comma need their own \s*.
_PCI_PASSTHROUGH = (
    _pattern("pci_passthrough:alias", r"[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*",
             r"[^:]+:\d+(?:\s*,[^:]+:\d+)*"),
)

# resources.py / traits.py: "resources" or "trait", an optional request group suffix (granular
# syntax: "resources1", "trait_gpu"), a colon, then a standard name or CUSTOM_*.
_GROUP = SpecParam("group", r"([a-zA-Z0-9_-]{1,64})?")
_RESOURCES = (
    *(_int(f"resources{{group}}:{rc}", params=(_GROUP,)) for rc in STANDARD_RESOURCE_CLASSES),
    _int("resources{group}:CUSTOM_{resource}",
         params=(_GROUP, SpecParam("resource", r"[A-Z0-9_]+"))),
)
_TRAIT_VALUES = ("required", "forbidden")
_TRAITS = (
    *(ExtraSpec(f"trait{{group}}:{t}", str, enum=_TRAIT_VALUES, params=(_GROUP,))
      for t in STANDARD_TRAITS),
    ExtraSpec("trait{group}:CUSTOM_{trait}", str, enum=_TRAIT_VALUES,
              params=(_GROUP, SpecParam("trait", r"[A-Z0-9_]+"))),
)

_VMWARE = (_str("vmware:hw_version"), _str("vmware:storage_policy"))

# Nova's entry-point order (pyproject.toml [project.entry-points."nova.api.extra_spec_validators"]).
NOVA_SPECS: tuple[ExtraSpec, ...] = (
    *_ACCEL, *_AGGREGATE, *_CAPABILITIES, *_HW, *_HW_RNG, *_HW_VIDEO, *_NULL, *_OS,
    *_PCI_PASSTHROUGH, *QUOTA_SPECS.values(), *_RESOURCES, *_TRAITS, *_VMWARE,
)
