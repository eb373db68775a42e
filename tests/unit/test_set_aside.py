"""Keeping going past bad elements: what Nova's libvirt driver does with each spec its API
stored unchecked below microversion 2.86 (intent/nova/unchecked.py), and the one triage that
sets elements aside (intent/set_aside.py).

The fates follow Nova master 00a030403f67 as read in source: nova/virt/libvirt/driver.py
_update_guest_cputune int()s the CPU keys; imagebackend.py Image.disk_qos and designer.py
set_vif_bandwidth_config copy the disk and VIF strings into the XML, which libvirt parses as
unsigned integers; config.py LibvirtConfigGuestInterface.format_dom writes <bandwidth> only
when a direction's average is a non-empty string, and peak/burst only inside such a
direction.
"""

from __future__ import annotations

import pytest

from vmqos.errors import ConflictError, NotFoundError, ValidationError
from vmqos.intent.findings import Severity
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.nova.unchecked import Fate, libvirt_reads, unchecked_specs
from vmqos.intent.set_aside import (
    SET_ASIDE_CODES,
    Element,
    InErrorState,
    SetAsideReference,
    Triage,
)

IGNORED, FAILS = Fate.IGNORED, Fate.BOOT_FAILS


@pytest.mark.parametrize(("specs", "key", "fate", "refusal"), [
    # CPU: int() in _update_guest_cputune, or libvirt's unsigned <shares>/<period>.
    ({"quota:cpu_shares": "abc"}, "quota:cpu_shares", FAILS,
     "Validation failed; 'abc' is not a valid integer value."),
    ({"quota:cpu_period": "1.5"}, "quota:cpu_period", FAILS,
     "Validation failed; '1.5' is not a valid integer value."),
    ({"quota:cpu_shares": "-1"}, "quota:cpu_shares", FAILS,
     "Validation failed; '-1' is less than the min value of '0'."),
    ({"quota:cpu_quota": "x"}, "quota:cpu_quota", FAILS,
     "Validation failed; 'x' is not a valid integer value."),
    # Disk: copied into <iotune>.
    ({"quota:disk_read_bytes_sec": "-5"}, "quota:disk_read_bytes_sec", FAILS,
     "Validation failed; '-5' is less than the min value of '0'."),
    ({"quota:disk_total_iops_sec": "lots"}, "quota:disk_total_iops_sec", FAILS,
     "Validation failed; 'lots' is not a valid integer value."),
    # Keys the driver never reads.
    ({"quota:disk_read_bytes_sec_max": "1"}, "quota:disk_read_bytes_sec_max", IGNORED,
     "Validation failed; extra spec 'quota:disk_read_bytes_sec_max' does not appear to be a "
     "valid extra spec."),
    ({"quota:vif_inbound_floor": "10"}, "quota:vif_inbound_floor", IGNORED,
     "Validation failed; extra spec 'quota:vif_inbound_floor' does not appear to be a valid "
     "extra spec."),
    ({"quota:cpu_limit": "-1"}, "quota:cpu_limit", IGNORED,
     "Validation failed; '-1' is less than the min value of '0'."),
    ({"quota:memory_shares_level": "huge"}, "quota:memory_shares_level", IGNORED,
     "Validation failed; 'huge' is not one of: custom, high, normal, low."),
    # VIF: an average is written whenever it is set and any average is non-empty.
    ({"quota:vif_inbound_average": "fast"}, "quota:vif_inbound_average", FAILS,
     "Validation failed; 'fast' is not a valid integer value."),
    ({"quota:vif_inbound_average": "", "quota:vif_outbound_average": "100"},
     "quota:vif_inbound_average", FAILS, "Validation failed; '' is not a valid integer value."),
    ({"quota:vif_inbound_average": ""}, "quota:vif_inbound_average", IGNORED,
     "Validation failed; '' is not a valid integer value."),
    # peak and burst only inside a direction with an average.
    ({"quota:vif_outbound_average": "100", "quota:vif_outbound_peak": "-1"},
     "quota:vif_outbound_peak", FAILS, "Validation failed; '-1' is less than the min value of "
     "'0'."),
    ({"quota:vif_outbound_peak": "-1"}, "quota:vif_outbound_peak", IGNORED,
     "Validation failed; '-1' is less than the min value of '0'."),
    ({"quota:vif_inbound_average": "100", "quota:vif_outbound_burst": "big"},
     "quota:vif_outbound_burst", IGNORED, "Validation failed; 'big' is not a valid integer "
     "value."),
])
def test_what_the_libvirt_driver_does_with_a_spec(specs: dict[str, str], key: str, fate: Fate,
                                                  refusal: str) -> None:
    (found,) = [u for u in unchecked_specs(specs) if u.key == key]
    assert (found.value, found.fate, found.refusal) == (specs[key], fate, refusal)


def test_only_what_2_86_refuses_is_unchecked_and_in_nova_order() -> None:
    specs = {"quota:vif_outbound_peak": "x", "quota:cpu_shares": "512", "hw:cpu_policy": "?",
             "quota:cpu_period": "y", "note": "anything"}
    assert [u.key for u in unchecked_specs(specs)] == ["quota:cpu_period",
                                                       "quota:vif_outbound_peak"]
    assert unchecked_specs({"quota:cpu_shares": " 12 "}) == ()  # int() takes it, as Nova's


def test_libvirt_reads_drops_the_ignored_and_nothing_boots_when_one_fails() -> None:
    specs = {"quota:cpu_shares": "512", "quota:disk_read_bytes_sec_max": "1"}
    assert libvirt_reads(specs, unchecked_specs(specs)) == {"quota:cpu_shares": "512"}
    specs["quota:cpu_period"] = "abc"
    assert libvirt_reads(specs, unchecked_specs(specs)) is None


# --- the triage ------------------------------------------------------------------------------


def _flavor(triage: Triage, specs: dict[str, str]) -> Flavor | None:
    return triage.flavor("f", "f-id", specs,
                         lambda kept: Flavor(name="f", id="f-id", extra_specs=kept))


def test_a_triage_that_does_not_keep_going_raises_the_first_error_unchanged() -> None:
    triage = Triage(keep_going=False)
    with pytest.raises(ValidationError, match="'abc' is not a valid integer value"):
        _flavor(triage, {"quota:cpu_shares": "abc"})
    error = ConflictError("clash", kind="QoSRulesConflict")

    def clash() -> None:
        raise error

    with pytest.raises(ConflictError) as info:
        triage.attempt(Element.RULE, "p", clash)
    assert info.value is error
    assert triage.set_aside == ()


def test_a_flavor_is_built_without_ignored_specs_and_set_aside_for_a_failing_one() -> None:
    triage = Triage(keep_going=True)
    kept = _flavor(triage, {"quota:cpu_shares": "512", "quota:vif_inbound_floor": "1"})
    assert kept is not None and dict(kept.extra_specs) == {"quota:cpu_shares": "512"}
    assert not triage.is_set_aside(Element.FLAVOR, "f")
    assert _flavor(triage, {"quota:cpu_shares": "abc", "quota:vif_inbound_floor": "1"}) is None
    assert triage.is_set_aside(Element.FLAVOR, "f") and triage.is_set_aside(Element.FLAVOR,
                                                                            "f-id")
    assert [(e.element, e.finding.code, e.finding.key) for e in triage.set_aside] == [
        (Element.EXTRA_SPEC, "extra-spec-ignored-by-libvirt", "quota:vif_inbound_floor"),
        (Element.FLAVOR, "flavor-fails-boot", "quota:cpu_shares"),
        (Element.EXTRA_SPEC, "extra-spec-ignored-by-libvirt", "quota:vif_inbound_floor"),
    ]
    with pytest.raises(SetAsideReference) as info:
        triage.require(Element.FLAVOR, "f-id", key="servers[0].flavor")
    assert str(info.value) == "servers[0].flavor: flavor 'f-id' is set aside"


@pytest.mark.parametrize(("error", "code"), [
    (ValidationError("bad", key="k", value=1, allowed="an integer"), "server-invalid"),
    (ConflictError("clash", kind="QoSRulesConflict", key="k"), "server-conflict"),
    (NotFoundError("port p could not be found", kind="NotFound", key="port", value="p"),
     "server-refers-to-missing"),
    (SetAsideReference("flavor: flavor 'f' is set aside", key="flavor", value="f"),
     "server-depends-on-set-aside"),
    (InErrorState("NoValidHost"), "server-in-error-state"),
])
def test_each_error_becomes_one_error_finding_with_a_stable_code(error: Exception,
                                                                 code: str) -> None:
    triage = Triage(keep_going=True)

    def fail() -> None:
        raise error

    assert triage.attempt(Element.SERVER, "vm", fail, id="vm-id", refs=("alias",)) is None
    (entry,) = triage.set_aside
    assert (entry.element, entry.name, entry.id) == (Element.SERVER, "vm", "vm-id")
    assert (entry.finding.code, entry.finding.severity) == (code, Severity.ERROR)
    assert entry.finding.code in SET_ASIDE_CODES
    assert all(triage.is_set_aside(Element.SERVER, r) for r in ("vm", "vm-id", "alias"))


def test_a_server_in_error_names_its_fault() -> None:
    triage = Triage(keep_going=True)

    def in_error() -> None:
        raise InErrorState("Exceeded maximum number of retries.")

    triage.attempt(Element.SERVER, "vm", in_error)
    finding = triage.set_aside[0].finding
    assert (finding.key, finding.value) == ("status", "ERROR")
    assert "(fault: Exceeded maximum number of retries.)" in finding.reason


def test_a_bug_is_never_set_aside() -> None:
    def bug() -> None:
        raise KeyError("not a user error")

    with pytest.raises(KeyError):
        Triage(keep_going=True).attempt(Element.SERVER, "vm", bug)
