"""Nova's extra-spec validation beyond ``quota:`` (nova/api/validation/extra_specs/validators.py,
base.py and every namespace module, Nova master 00a030403f67; microversion >= 2.86).

Expected messages are Nova's literal strings, worked out from its source: "Validation failed; "
then the reason. The oracles that are not literals are oslo_utils.strutils.bool_from_string
(strict=True), which Nova calls for bool keys, and Nova's own value patterns, against which the
linear-time matchers are compared string by string.
"""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oslo_utils import strutils

from vmqos.errors import ValidationError
from vmqos.intent.nova.extra_spec_keys import NOVA_SPECS
from vmqos.intent.nova.extra_spec_types import ExtraSpec
from vmqos.intent.nova.extra_specs import REGISTRY, validate_extra_spec, validate_extra_specs
from vmqos.intent.nova.flavor import Flavor, FlavorQuota, parse_flavor_quota
from vmqos.intent.nova.placement_names import STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS

_NOT_VALID = "Validation failed; extra spec '{}' does not appear to be a valid extra spec."
_MASK = r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"

# (key, value, Nova's message or None when Nova accepts it)
VECTORS: list[tuple[str, str, str | None]] = [
    # hw: enum
    ("hw:cpu_policy", "dedicated", None),
    ("hw:cpu_policy", "mixed", None),
    ("hw:cpu_policy", "bogus",
     "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."),
    ("hw:cpu_policy", "Dedicated",
     "Validation failed; 'Dedicated' is not one of: dedicated, shared, mixed."),
    ("hw:cpu_thread_policy", "avoid",
     "Validation failed; 'avoid' is not one of: prefer, isolate, require."),
    ("hw:watchdog_action", "reboot",
     "Validation failed; 'reboot' is not one of: none, pause, poweroff, reset, disabled."),
    ("hw:sound_model", "hda",
     "Validation failed; 'hda' is not one of: sb16, es1370, pcspk, ac97, ich6, ich9, usb, "
     "virtio."),
    ("hw:tpm_version", "2", "Validation failed; '2' is not one of: 1.2, 2.0."),
    # hw: int with min, with min and max
    ("hw:numa_nodes", "2", None),
    ("hw:numa_nodes", "0", "Validation failed; '0' is less than the min value of '1'."),
    ("hw:cpu_sockets", "two", "Validation failed; 'two' is not a valid integer value."),
    ("hw:serial_port_count", "0", None),
    ("hw:redirected_usb_ports", "15", None),
    ("hw:redirected_usb_ports", "16",
     "Validation failed; '16' is greater than the max value of '15'."),
    ("hw:redirected_usb_ports", " +016 ",
     "Validation failed; '16' is greater than the max value of '15'."),
    ("hw:redirected_usb_ports", "-1", "Validation failed; '-1' is less than the min value of '0'."),
    # hw: bool-like
    ("hw:boot_menu", "true", None),
    ("hw:boot_menu", " YES ", None),
    ("hw:mem_encryption", "0", None),
    ("hw:boot_menu", "enabled", "Validation failed; 'enabled' is not a valid boolean-like value."),
    ("hw:pmu", "", "Validation failed; '' is not a valid boolean-like value."),
    # hw: pattern
    ("hw:mem_page_size", "large", None),
    ("hw:mem_page_size", "2048", None),
    ("hw:mem_page_size", "1GiB", None),
    ("hw:mem_page_size", "huge",
     "Validation failed; 'huge' is not of the format "
     "'(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'."),
    ("hw:cpu_realtime_mask", "^0-1", None),
    ("hw:cpu_realtime_mask", "0-", "Validation failed; '0-' is not of the format "
     "'(\\^)?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*'."),
    ("hw:cpu_dedicated_mask", "0-3,^2,5", None),
    ("hw:cpu_dedicated_mask", "a", f"Validation failed; 'a' is not of the format '{_MASK}'."),
    ("hw:pmem", "SMALL,MEDIUM", None),
    ("hw:pmem", "a,,b", "Validation failed; 'a,,b' is not of the format '([a-zA-Z0-9_]+(,)?)+'."),
    # hw: patterned keys (guest NUMA node number)
    ("hw:numa_cpus.0", "0-3", None),
    ("hw:numa_cpus.12", "x", f"Validation failed; 'x' is not of the format '{_MASK}'."),
    ("hw:numa_mem.1", "1024", None),
    ("hw:numa_mem.1", "0", "Validation failed; '0' is less than the min value of '1'."),
    ("hw:numa_cpus.x", "0", _NOT_VALID.format("hw:numa_cpus.x")),
    # Nova does not escape the name: the '.' matches any character.
    ("hw:numa_cpusX0", "0", None),
    ("hw:numa_cpus.{num}", "0", "Validation failed; expected a name of format "
     "'hw:numa_cpus.{num}' but got 'hw:numa_cpus.{num}'."),
    # hw: unknown key in a known namespace
    ("hw:cpu_polic", "dedicated", _NOT_VALID.format("hw:cpu_polic")),
    ("hw:", "1", _NOT_VALID.format("hw:")),
    ("hw:cpu_policy:x", "dedicated", _NOT_VALID.format("hw:cpu_policy:x")),
    # hw_rng:, hw_video:, os:
    ("hw_rng:allowed", "False", None),
    ("hw_rng:allowed", "2", "Validation failed; '2' is not a valid boolean-like value."),
    ("hw_rng:rate_bytes", "-1", "Validation failed; '-1' is less than the min value of '0'."),
    ("hw_rng:rate_period", "1.5", "Validation failed; '1.5' is not a valid integer value."),
    ("hw_rng:rate", "1", _NOT_VALID.format("hw_rng:rate")),
    ("hw_video:ram_max_mb", "64", None),
    ("hw_video:ram_max_mb", "-64", "Validation failed; '-64' is less than the min value of '0'."),
    ("hw_video:ram", "64", _NOT_VALID.format("hw_video:ram")),
    ("os:secure_boot", "required", None),
    ("os:secure_boot", "optional",
     "Validation failed; 'optional' is not one of: disabled, required."),
    ("os:type", "linux", _NOT_VALID.format("os:type")),
    # pci_passthrough:
    ("pci_passthrough:alias", "a1:2", None),
    ("pci_passthrough:alias", "a1:2 , b-2:1", None),
    ("pci_passthrough:alias", "a1", "Validation failed; 'a1' is not of the format "
     "'[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*'."),
    ("pci_passthrough:device", "x", _NOT_VALID.format("pci_passthrough:device")),
    # resources{group}: (os-resource-classes and CUSTOM_*), int without bounds
    ("resources:VCPU", "2", None),
    ("resources:VCPU", "-2", None),
    ("resources1:PCPU", "0", None),
    ("resources_gpu:VGPU", "1", None),
    ("resources:CUSTOM_MAGIC", "1", None),
    ("resources:VCPU", "two", "Validation failed; 'two' is not a valid integer value."),
    ("resources:CPU", "1", _NOT_VALID.format("resources:CPU")),
    ("resources:custom_magic", "1", _NOT_VALID.format("resources:custom_magic")),
    ("resources" + "g" * 64 + ":VCPU", "1", None),
    # Neither 65 characters nor '!' make a request group: these are unknown namespaces.
    ("resources" + "g" * 65 + ":VCPU", "1", None),
    ("resources!:VCPU", "1", None),
    # trait{group}: (os-traits and CUSTOM_*)
    ("trait:HW_CPU_X86_AVX2", "required", None),
    ("trait2:COMPUTE_STATUS_DISABLED", "forbidden", None),
    ("trait:CUSTOM_GOLD", "required", None),
    ("trait:HW_CPU_X86_AVX2", "yes",
     "Validation failed; 'yes' is not one of: required, forbidden."),
    ("trait:HW_CPU_X86_BOGUS", "required", _NOT_VALID.format("trait:HW_CPU_X86_BOGUS")),
    # "traits" is "trait" with the request group "s".
    ("traits:HW_CPU_X86_AVX2", "required", None),
    ("traits:NOT_A_TRAIT", "required", _NOT_VALID.format("traits:NOT_A_TRAIT")),
    # capabilities:, aggregate_instance_extra_specs:, accel:, vmware: (any value)
    ("capabilities:vcpus", ">= 4", None),
    ("capabilities:cpu_info:arch", "x86_64", None),
    ("capabilities:cpu_info:features:x", "<in> aes", None),
    ("capabilities:cpu_info:", "x", _NOT_VALID.format("capabilities:cpu_info:")),
    ("capabilities:vcpus:x", "1", _NOT_VALID.format("capabilities:vcpus:x")),
    ("aggregate_instance_extra_specs:ssd", "true", None),
    ("aggregate_instance_extra_specs:", "true",
     _NOT_VALID.format("aggregate_instance_extra_specs:")),
    ("accel:device_profile", "", None),
    ("accel:profile", "x", _NOT_VALID.format("accel:profile")),
    ("vmware:hw_version", "vmx-13", None),
    ("vmware:version", "x", _NOT_VALID.format("vmware:version")),
    # keys without a namespace: two are registered (null.py), the rest pass
    ("group_policy", "isolate", None),
    ("group_policy", "split", "Validation failed; 'split' is not one of: isolate, none."),
    ("hide_hypervisor_id", "on", None),
    ("hide_hypervisor_id", "x", "Validation failed; 'x' is not a valid boolean-like value."),
    ("cpu_policy", "bogus", None),
    # unknown namespaces pass, whatever the value
    ("HW:cpu_policy", "bogus", None),
    ("hw_cpu:policy", "bogus", None),
    ("quotas:cpu_shares", "-1", None),
    ("foo:bar", "baz", None),
    (":x", "y", None),
]


@pytest.mark.parametrize(("key", "value", "message"), VECTORS,
                         ids=[f"{k}={v}" for k, v, _ in VECTORS])
def test_nova_verdicts(key: str, value: str, message: str | None) -> None:
    if message is None:
        assert validate_extra_spec(key, value) is None
        return
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec(key, value)
    assert str(exc.value) == message
    assert (exc.value.key, exc.value.value) == (key, value)
    assert exc.value.allowed


def test_allowed_names_what_would_pass() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec("hw:redirected_usb_ports", "16")
    assert exc.value.allowed == "an integer from 0 to 15"
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec("hw_rng:rate", "1")
    assert exc.value.allowed == "hw_rng:allowed, hw_rng:rate_bytes, hw_rng:rate_period"


def test_validate_extra_specs_checks_every_namespace() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_extra_specs({"quota:cpu_shares": "512", "hw:cpu_policy": "bogus"})
    assert exc.value.key == "hw:cpu_policy"


def test_a_flavor_checks_only_its_quota() -> None:
    """Nova boots a flavor stored below 2.86 whatever its other specs hold; vmqos's intent
    (the quota) is built from it all the same, and a bad quota:* still fails."""
    specs = {"hw:cpu_policy": "bogus", "trait:NOPE": "x", "quota:cpu_shares": "512"}
    assert parse_flavor_quota(specs) == FlavorQuota(cpu_shares=512)
    assert Flavor(name="f", extra_specs=specs).quota.cpu_shares == 512
    with pytest.raises(ValidationError, match="does not appear to be a valid extra spec"):
        parse_flavor_quota({"hw:cpu_policy": "bogus", "quota:cpu_share": "1"})


# --- bool-like values: oslo_utils is the oracle -----------------------------------------------

_BOOLISH = st.text(alphabet=" \t\nTtRrUuEeFfAaLlSsYyNnOo01x", max_size=7)


@given(st.one_of(_BOOLISH, st.sampled_from(["on", "OFF", " Yes\n", "tRuE", "n", "10", "\xa0t"])))
def test_bool_like_values_are_oslo_strict_bools(value: str) -> None:
    try:
        strutils.bool_from_string(value, strict=True)
        expected = None
    except ValueError:
        expected = f"Validation failed; '{value}' is not a valid boolean-like value."
    try:
        validate_extra_spec("hw:cpu_realtime", value)
        got = None
    except ValidationError as exc:
        got = str(exc)
    assert got == expected


# --- the linear-time matchers accept exactly Nova's languages ---------------------------------

_MATCHED = [s for s in NOVA_SPECS if s.matcher is not None]
# Every string up to 7 characters over an alphabet that holds each kind of character the
# pattern distinguishes, plus one it refuses.
_ALPHABETS = {"hw:pmem": "a_,!", "pci_passthrough:alias": "a1:, "}


def _strings(alphabet: str, longest: int) -> list[str]:
    return ["".join(t) for n in range(longest + 1) for t in itertools.product(alphabet, repeat=n)]


@pytest.mark.parametrize("spec", _MATCHED, ids=[s.name for s in _MATCHED])
def test_matcher_accepts_exactly_novas_pattern(spec: ExtraSpec) -> None:
    assert spec.pattern is not None and spec.matcher is not None
    nova, ours = re.compile(spec.pattern), re.compile(spec.matcher)
    different = [s for s in _strings(_ALPHABETS.get(spec.name, "1-,^x"), 7)
                 if (nova.fullmatch(s) is None) != (ours.fullmatch(s) is None)]
    assert different == []


@pytest.mark.parametrize(("key", "value"), [
    ("hw:cpu_realtime_mask", "1-1," * 63 + "x"),
    ("hw:cpu_dedicated_mask", "1-1," * 63 + "x"),
    ("hw:numa_cpus.0", "1-1," * 63 + "x"),
    ("hw:pmem", "a" * 254 + "!"),
    ("pci_passthrough:alias", "a:1" + ", 1:1" * 50 + " x"),
])
def test_a_255_character_value_is_judged_at_once(key: str, value: str) -> None:
    """Nova's own patterns take exponential time on these (a 30-character hw:pmem value already
    takes about a minute); vmqos answers with Nova's verdict in well under a second."""
    start = time.perf_counter()
    with pytest.raises(ValidationError, match="is not of the format"):
        validate_extra_spec(key, value[:255])
    assert time.perf_counter() - start < 0.5


# --- the registry -----------------------------------------------------------------------------


def test_registry_counts_per_namespace() -> None:
    def namespace(name: str) -> str:
        return re.split(r"[:{]", name, maxsplit=1)[0] if ":" in name else ""

    counts: dict[str, int] = {}
    for name in REGISTRY:
        counts[namespace(name)] = counts.get(namespace(name), 0) + 1
    assert counts == {
        "accel": 1, "aggregate_instance_extra_specs": 1, "capabilities": 45, "hw": 37,
        "hw_rng": 3, "hw_video": 1, "": 2, "os": 1, "pci_passthrough": 1, "quota": 31,
        "resources": len(STANDARD_RESOURCE_CLASSES) + 1, "trait": len(STANDARD_TRAITS) + 1,
        "vmware": 2,
    }
    # capabilities.py registers vcpus_used twice; Nova's dict keeps one.
    assert len(NOVA_SPECS) == len(REGISTRY) + 1


# Nova's entry points in their order, each as the start its registered names share.
_MODULE_PREFIXES = ("accel:", "aggregate_instance_extra_specs:", "capabilities:", "hw:",
                    "hw_rng:", "hw_video:", ("hide_hypervisor_id", "group_policy"), "os:",
                    "pci_passthrough:", "quota:", "resources{", "trait{", "vmware:")


def test_registry_is_in_novas_load_order() -> None:
    names = list(REGISTRY)
    module_of = [next(i for i, p in enumerate(_MODULE_PREFIXES) if n.startswith(p))
                 for n in names]
    assert module_of == sorted(module_of)
    assert sorted(set(module_of)) == list(range(len(_MODULE_PREFIXES)))
    assert names[:3] == ["accel:device_profile", "aggregate_instance_extra_specs:{key}",
                         "capabilities:id"]
    assert names[-3:] == ["trait{group}:CUSTOM_{trait}", "vmware:hw_version",
                          "vmware:storage_policy"]


def test_placement_names_are_standard_names() -> None:
    for names in (STANDARD_TRAITS, STANDARD_RESOURCE_CLASSES):
        assert len(set(names)) == len(names)
        assert all(re.fullmatch(r"[A-Z0-9_]+", n) and not n.startswith("CUSTOM_")
                   for n in names)
    assert len(STANDARD_TRAITS) == 377            # os-traits 3.9.0
    assert len(STANDARD_RESOURCE_CLASSES) == 21   # os-resource-classes 1.1.0
    assert {"HW_CPU_X86_AVX2", "COMPUTE_STATUS_DISABLED", "HW_NIC_SRIOV"} <= set(STANDARD_TRAITS)
    assert STANDARD_RESOURCE_CLASSES[:3] == ("VCPU", "MEMORY_MB", "DISK_GB")


def test_every_registered_name_reaches_its_own_spec() -> None:
    """A key spelled like a parameter-less registered name is checked by that spec; the values
    below pass every such spec."""
    plain = [s for s in REGISTRY.values() if not s.params]
    assert len(plain) > 100
    for spec in plain:
        value = spec.enum[0] if spec.enum else {int: "1", bool: "true"}.get(spec.value_type, "1")
        if spec.pattern is not None:
            value = {"hw:mem_page_size": "large", "pci_passthrough:alias": "a:1",
                     "hw:pmem": "a"}.get(spec.name, "1")
        assert validate_extra_spec(spec.name, value) is None, spec.name
