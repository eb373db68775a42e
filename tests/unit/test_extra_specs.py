"""Nova quota:* extra-spec validation (nova api/validation/extra_specs/quota.py, base.py) and
parsing. The other namespaces: test_extra_spec_namespaces.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import seed
from vmqos.errors import ValidationError
from vmqos.intent.nova.extra_specs import (
    QUOTA_SPECS,
    validate_extra_spec,
    validate_extra_specs,
)
from vmqos.intent.nova.flavor import DiskQuota, FlavorQuota, VifQuota, parse_flavor_quota
from vmqos.libvirt_types import Verbatim
from vmqos.units import KBytesPerSec, KiB

# --- Nova's verdicts, literal (microversion >= 2.86) ---------------------------------------

# (key, value, the quota it parses to)
ACCEPTED = [
    ("quota:cpu_shares", "2048", FlavorQuota(cpu_shares=2048)),
    ("quota:cpu_quota", "-1", FlavorQuota(cpu_quota=-1)),
    ("quota:disk_total_iops_sec", "0", FlavorQuota(disk=DiskQuota(total_iops_sec=0))),
    ("foo", "bar", FlavorQuota()),                  # not a quota key: no part of the quota
]

REJECTED = [
    ("quota:cpu_shares", "-1", "Validation failed; '-1' is less than the min value of '0'."),
    ("quota:cpu_period", "abc", "Validation failed; 'abc' is not a valid integer value."),
    ("quota:disk_read_bytes_sec_max", "100",
     "Validation failed; extra spec 'quota:disk_read_bytes_sec_max' does not appear to be a "
     "valid extra spec."),
    ("quota:vif_inbound_floor", "10",
     "Validation failed; extra spec 'quota:vif_inbound_floor' does not appear to be a valid "
     "extra spec."),
]


def _accepted(key: str, value: str) -> FlavorQuota:
    """``key=value`` passes validation; the quota it parses to."""
    assert validate_extra_spec(key, value) is None
    return parse_flavor_quota({key: value})


def _parsed(quota: FlavorQuota, key: str) -> int | None:
    """Where parse_flavor_quota keeps the value of a libvirt key, found from the key's name:
    quota:cpu_<x> -> quota.cpu_<x>, quota:disk_<x> -> quota.disk.<x>,
    quota:vif_<direction>_<x> -> quota.vif_<direction>.<x>."""
    name = key.removeprefix("quota:")
    if name.startswith("vif_"):
        _, direction, metric = name.split("_")
        value: int | None = getattr(getattr(quota, f"vif_{direction}"), metric)
    elif name.startswith("disk_"):
        value = getattr(quota.disk, name.removeprefix("disk_"))
    else:
        value = getattr(quota, name)
    return value


@pytest.mark.parametrize(("key", "value", "quota"), ACCEPTED)
def test_spec_vectors_accepted(key: str, value: str, quota: FlavorQuota) -> None:
    assert _accepted(key, value) == quota


@pytest.mark.parametrize(("key", "value", "message"), REJECTED)
def test_spec_vectors_rejected(key: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec(key, value)
    assert str(exc.value) == message
    assert exc.value.key == key
    assert exc.value.value == value
    assert exc.value.allowed


# --- Nova's int() conversion and other edges ------------------------------------------------


@pytest.mark.parametrize("value", [" 12 ", "+5", "1_000", "0", "-0", "\t7\n"])
def test_int_conversion_mirrors_python_int(value: str) -> None:
    # Python's int() is the oracle: Nova's _validate_int is int(value), then the min check.
    validate_extra_spec("quota:vif_inbound_average", value)
    quota = parse_flavor_quota({"quota:vif_inbound_average": value,
                                "quota:disk_read_bytes_sec": value})
    assert quota.vif_inbound.average == int(value)
    assert quota.disk.read_bytes_sec == int(value)


@pytest.mark.parametrize("value", ["1.5", "abc", "", "0x10", "1e3", "12kb"])
def test_non_integers_rejected(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec("quota:disk_read_bytes_sec", value)
    assert str(exc.value) == f"Validation failed; '{value}' is not a valid integer value."


def test_min_message_formats_the_converted_integer() -> None:
    # Nova's _validate_int reuses the name `value` for int(value).
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec("quota:cpu_shares", " -1 ")
    assert str(exc.value) == "Validation failed; '-1' is less than the min value of '0'."


def test_shares_level_enum() -> None:
    for level in ("custom", "high", "normal", "low"):
        assert _accepted("quota:cpu_shares_level", level) == FlavorQuota(
            ignored_by_libvirt=("quota:cpu_shares_level",))
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec("quota:vif_shares_level", "medium")
    # base.ExtraSpecValidator._validate_str, Nova master.
    assert str(exc.value) == (
        "Validation failed; 'medium' is not one of: custom, high, normal, low."
    )


@pytest.mark.parametrize(
    "key", ["quota:cpu_reservation", "quota:memory_reservation", "quota:disk_io_reservation",
            "quota:vif_reservation", "quota:cpu_quota"])
def test_keys_without_min_accept_negatives(key: str) -> None:
    quota = _accepted(key, "-100")
    if key == "quota:cpu_quota":                    # libvirt's: a negative quota is no limit
        assert quota == FlavorQuota(cpu_quota=-100)
    else:                                           # VMware's: accepted, ignored by libvirt
        assert quota == FlavorQuota(ignored_by_libvirt=(key,))


@pytest.mark.parametrize(
    "key", ["aggregate_instance_extra_specs:ssd", "quotas:cpu_shares", "x"])
def test_free_and_unknown_namespaces_and_plain_keys_not_validated(key: str) -> None:
    assert _accepted(key, "not-a-number") == FlavorQuota()


@pytest.mark.parametrize("key", ["hw:cpu_policy", "trait:CUSTOM_X", "hw:nope"])
def test_other_namespaces_are_validated_but_not_part_of_the_quota(key: str) -> None:
    # Nova's verdicts per namespace: tests/unit/test_extra_spec_namespaces.py.
    with pytest.raises(ValidationError):
        validate_extra_spec(key, "not-a-number")
    assert parse_flavor_quota({key: "not-a-number"}) == FlavorQuota()


@pytest.mark.parametrize("key", [
    "quota:", "quota:cpu_limit:x", "quota:CPU_SHARES", "quota:disk_size_iops_sec",
    "quota:disk_read_bytes_sec_max_length",
])
def test_unknown_quota_keys_rejected(key: str) -> None:
    with pytest.raises(ValidationError, match="does not appear to be a valid extra spec"):
        validate_extra_spec(key, "1")


# --- the registry -------------------------------------------------------------------------

LIBVIRT_KEYS = {
    "quota:cpu_shares", "quota:cpu_period", "quota:cpu_quota",
    *(f"quota:disk_{s}_{m}_sec" for s in ("read", "write", "total") for m in ("bytes", "iops")),
    *(f"quota:vif_{d}_{m}" for d in ("inbound", "outbound")
      for m in ("average", "peak", "burst")),
}
VMWARE_KEYS = {
    f"quota:{r}_{k}" for r in ("cpu", "memory", "disk_io", "vif")
    for k in ("limit", "reservation", "shares_level", "shares_share")
}


def test_registry_holds_exactly_nova_keys() -> None:
    assert len(LIBVIRT_KEYS) == 15
    assert len(VMWARE_KEYS) == 16
    assert set(QUOTA_SPECS) == LIBVIRT_KEYS | VMWARE_KEYS
    assert {k for k, s in QUOTA_SPECS.items() if s.libvirt} == LIBVIRT_KEYS
    for name, spec in QUOTA_SPECS.items():
        assert spec.name == name


def test_registry_types_mins_units() -> None:
    assert QUOTA_SPECS["quota:cpu_quota"].min is None
    assert QUOTA_SPECS["quota:cpu_shares"].min == 0
    assert QUOTA_SPECS["quota:cpu_shares_level"].value_type is str
    assert QUOTA_SPECS["quota:cpu_shares_level"].enum == ("custom", "high", "normal", "low")
    assert QUOTA_SPECS["quota:memory_reservation"].min is None
    units = {
        "quota:cpu_shares": "", "quota:cpu_period": "µs", "quota:cpu_quota": "µs",
        "quota:disk_read_bytes_sec": "B/s", "quota:disk_total_iops_sec": "IOPS",
        "quota:vif_inbound_average": "kB/s", "quota:vif_outbound_peak": "kB/s",
        "quota:vif_outbound_burst": "KiB", "quota:cpu_limit": "MHz",
        "quota:memory_limit": "MB", "quota:disk_io_limit": "IOPS", "quota:vif_limit": "Mbit/s",
        "quota:vif_shares_share": "",
    }
    for key, unit in units.items():
        assert QUOTA_SPECS[key].unit == unit, key


def test_descriptions_are_novas_verbatim() -> None:
    assert QUOTA_SPECS["quota:cpu_shares"].description == (
        "The proportional weighted share for the domain. If this element is omitted, the "
        "service defaults to the OS provided defaults. There is no unit for the value; it is a "
        "relative measure based on the setting of other VMs. For example, a VM configured with "
        "a value of 2048 gets twice as much CPU time as a VM configured with value 1024. Only "
        "supported by the libvirt virt driver.")
    assert QUOTA_SPECS["quota:cpu_period"].description == (
        "Specifies the enforcement interval in microseconds. Within a period, each VCPU of the "
        "instance is not allowed to consume more than the quota worth of runtime. The value "
        "should be in range 1,000 - 1,000,000. A period with a value of 0 means no value. Only "
        "supported by the libvirt virt driver.")
    assert QUOTA_SPECS["quota:cpu_quota"].description == (
        "The maximum allowed bandwidth in microseconds. Can be combined with 'quota:cpu_period' "
        "to limit an instance to a percentage of capacity of a physical CPU. The value should "
        "be in range 1,000 - 2^64 or negative. A negative value indicates that the instance has "
        "infinite bandwidth. Only supported by the libvirt virt driver.")
    assert QUOTA_SPECS["quota:disk_read_bytes_sec"].description == (
        "The quota read bytes for disk. Only supported by the libvirt virt driver.")
    assert QUOTA_SPECS["quota:vif_inbound_average"].description == (
        "The quota inbound average for VIF. Only supported by the libvirt virt driver.")
    assert QUOTA_SPECS["quota:cpu_shares_level"].description == (
        "The allocation level for CPU. If you choose 'custom', set the number of CPU shares "
        "using 'quota:cpu_shares_share'. Only supported by the VMWare virt driver.")


def _valid_value(key: str) -> str:
    spec = QUOTA_SPECS[key]
    return spec.enum[0] if spec.enum else "1000"


@pytest.mark.parametrize("key", sorted(LIBVIRT_KEYS | VMWARE_KEYS))
def test_every_key_accepts_a_valid_value(key: str) -> None:
    value = _valid_value(key)
    quota = _accepted(key, value)
    if key in LIBVIRT_KEYS:
        assert _parsed(quota, key) == int(value)
        assert quota.ignored_by_libvirt == ()
    else:
        assert quota.ignored_by_libvirt == (key,)


MIN_ZERO_KEYS = sorted(k for k, s in QUOTA_SPECS.items() if s.min == 0)


@given(st.sampled_from(MIN_ZERO_KEYS), st.integers(min_value=0, max_value=2**70))
def test_property_any_non_negative_int_accepted(key: str, number: int) -> None:
    quota = _accepted(key, str(number))
    if key in LIBVIRT_KEYS:
        assert _parsed(quota, key) == number
    else:
        assert quota.ignored_by_libvirt == (key,)


@given(st.sampled_from(MIN_ZERO_KEYS), st.integers(max_value=-1, min_value=-(2**70)))
def test_property_negatives_rejected_with_novas_message(key: str, number: int) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_extra_spec(key, str(number))
    assert str(exc.value) == f"Validation failed; '{number}' is less than the min value of '0'."


@pytest.mark.parametrize(("specs", "message"), [
    # Nova walks the body in the order sent (flavors_extraspecs.py _check_extra_specs_value):
    # the first bad spec given is the one named, whatever the keys' sorted order.
    ({"quota:vif_inbound_average": "x", "quota:cpu_shares": "-2", "foo": "bar"},
     "Validation failed; 'x' is not a valid integer value."),
    ({"quota:cpu_shares": "-2", "quota:vif_inbound_average": "x", "foo": "bar"},
     "Validation failed; '-2' is less than the min value of '0'."),
])
def test_validate_extra_specs_reports_the_first_bad_spec_in_order(
        specs: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_extra_specs(specs)
    assert (str(exc.value), exc.value.key) == (message, next(iter(specs)))
    validate_extra_specs({"quota:cpu_shares": "1", "hw:mem_page_size": "large"})


# --- parse_flavor_quota ---------------------------------------------------------------------

def test_parse_seed_resquota() -> None:
    assert parse_flavor_quota(seed.RESQUOTA_EXTRA_SPECS) == seed.RESQUOTA_QUOTA == FlavorQuota(
        cpu_shares=512,
        disk=DiskQuota(read_bytes_sec=1000000, write_bytes_sec=1024000),
        vif_inbound=VifQuota(KBytesPerSec(32768), KBytesPerSec(65536), KiB(131072)),
        vif_outbound=VifQuota(KBytesPerSec(32768), KBytesPerSec(65536), KiB(131072)),
    )


def test_parse_empty_and_foreign_keys() -> None:
    assert parse_flavor_quota({}) == FlavorQuota()
    assert parse_flavor_quota({"hw:cpu_policy": "dedicated", "foo": "bar"}) == FlavorQuota()


def test_parse_all_keys_and_vmware_ignored_sorted() -> None:
    specs = {
        "quota:cpu_period": "100000", "quota:cpu_quota": "-1", "quota:cpu_shares": "0",
        "quota:disk_total_iops_sec": "0", "quota:disk_read_iops_sec": "5",
        "quota:disk_write_iops_sec": "6", "quota:disk_total_bytes_sec": "7",
        "quota:vif_inbound_burst": " 9 ", "quota:vif_outbound_average": "+0",
        "quota:vif_shares_level": "low", "quota:cpu_limit": "10", "quota:memory_reservation": "-3",
    }
    quota = parse_flavor_quota(specs)
    assert (quota.cpu_shares, quota.cpu_period, quota.cpu_quota) == (0, 100000, -1)
    assert quota.disk == DiskQuota(read_iops_sec=5, write_iops_sec=6, total_bytes_sec=7,
                                   total_iops_sec=0)
    # Nova's libvirt driver writes these two strings as they are: the quota keeps them.
    assert quota.vif_inbound == VifQuota(burst=KiB(9), verbatim=Verbatim({"burst": " 9 "}))
    assert quota.vif_outbound == VifQuota(average=KBytesPerSec(0),
                                          verbatim=Verbatim({"average": "+0"}))
    assert quota.ignored_by_libvirt == (
        "quota:cpu_limit", "quota:memory_reservation", "quota:vif_shares_level")


def test_parse_validates_first() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_flavor_quota({**seed.RESQUOTA_EXTRA_SPECS, "quota:vif_inbound_peak": "1.5"})
    assert str(exc.value) == "Validation failed; '1.5' is not a valid integer value."
    assert exc.value.key == "quota:vif_inbound_peak"
