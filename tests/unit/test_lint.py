"""Host-level lint of flavor quotas: what Nova (virt/libvirt/vif.py), libvirt
(virNetDevBandwidthSet, domain_validate.c, vircgroup.h) and the kernel (cgroup-v2.rst cpu.weight)
do with a flavor's values on this host."""

from __future__ import annotations

from typing import Any

import pytest

from support import seed
from vmqos.errors import ValidationError
from vmqos.intent.findings import Finding, Severity
from vmqos.intent.nova.flavor import FlavorQuota, parse_flavor_quota
from vmqos.model import VifType
from vmqos.plan.explain.lint import FINDING_CODES, lint_flavor_quota

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

TAP = (VifType.OVS_HYBRID,)


def _lint(specs: dict[str, str], **kwargs: Any) -> list[Finding]:
    kwargs.setdefault("vcpus", 1)
    return lint_flavor_quota(parse_flavor_quota(specs), **kwargs)


# (specs, lint kwargs, code, severity, key, a literal piece of the reason)
CASES: list[tuple[dict[str, str], dict[str, Any], str, Severity, str, str]] = [
    ({"quota:cpu_shares": "0"}, {}, "cpu-shares-zero", E, "quota:cpu_shares",
     "invalid argument: shares '0' must be in range [2, 262144]"),
    ({"quota:cpu_shares": "0"}, {"cgroup": "v2"}, "cpu-shares-zero", E, "quota:cpu_shares",
     "shares '0' must be in range [1, 10000]"),
    ({"quota:cpu_shares": "1"}, {}, "cpu-shares-below-min", E, "quota:cpu_shares",
     "Value of cputune 'shares' must be in range [2, 262144]"),
    ({"quota:cpu_shares": "1"}, {"libvirt_generic_shares_check": False},
     "cpu-shares-below-min", E, "quota:cpu_shares", "shares '1' must be in range [2, 262144]"),
    ({"quota:cpu_shares": "262145"}, {}, "cpu-shares-over-max", E, "quota:cpu_shares",
     "Value of cputune 'shares' must be in range [2, 262144]"),
    ({"quota:cpu_shares": "20000"}, {"cgroup": "v2", "libvirt_generic_shares_check": False},
     "cpu-shares-over-cgroup-v2-max", E, "quota:cpu_shares",
     "shares '20000' must be in range [1, 10000]"),
    ({"quota:cpu_shares": "20000"}, {"cgroup": "v2"}, "cpu-shares-over-cgroup-v2-max", E,
     "quota:cpu_shares", "Numerical result out of range"),
    ({"quota:cpu_shares": "2048"}, {"cgroup": "v2"}, "cpu-shares-verbatim-weight", I,
     "quota:cpu_shares", "that is 20.48× the CPU share, not the 2×"),
    ({"quota:cpu_period": "999"}, {}, "cpu-period-out-of-range", E, "quota:cpu_period",
     "Value of cputune 'period' must be in range [1000, 1000000]"),
    ({"quota:cpu_period": "1000001"}, {}, "cpu-period-out-of-range", E, "quota:cpu_period",
     "Value of cputune 'period' must be in range [1000, 1000000]"),
    ({"quota:cpu_quota": "999"}, {}, "cpu-quota-out-of-range", E, "quota:cpu_quota",
     "Value of cputune 'quota' must be in range [1000, 17592186044415]"),
    ({"quota:cpu_quota": "17592186044416"}, {}, "cpu-quota-out-of-range", E, "quota:cpu_quota",
     "Value of cputune 'quota' must be in range [1000, 17592186044415]"),
    ({"quota:cpu_quota": "50000", "quota:cpu_period": "100000"}, {"vcpus": 4},
     "cpu-quota-per-vcpu", I, "quota:cpu_quota",
     "each vCPU gets 50% of a CPU and the guest up to 2 CPUs"),
    ({"quota:cpu_quota": "50000"}, {}, "cpu-quota-without-period", I, "quota:cpu_quota",
     "kernel default period 100000 µs applies: each vCPU gets 50000/100000 = 50%"),
    ({"quota:cpu_period": "100000"}, {}, "cpu-period-without-quota", I, "quota:cpu_period",
     "caps nothing"),
    ({"quota:cpu_quota": "-5"}, {}, "cpu-quota-unlimited", I, "quota:cpu_quota",
     "libvirt keeps -5 in the XML"),
    ({"quota:vif_inbound_average": "100"}, {"vif_types": (VifType.VHOSTUSER,)},
     "vif-bandwidth-not-applied", E, "quota:vif_inbound_average", "Nova bug #1814882"),
    ({"quota:vif_outbound_average": "100"}, {"vif_types": (VifType.HOSTDEV,)},
     "vif-bandwidth-not-applied", E, "quota:vif_outbound_average",
     "its representor in br-int is what the OVS agent (or ovn-controller) limits"),
    # libvirt src/conf/domain_validate.c virDomainActualNetDefValidate, word for word.
    ({"quota:vif_outbound_average": "100"}, {"vif_types": (VifType.HW_VEB,)},
     "vif-bandwidth-refused", E, "quota:vif_outbound_average",
     "bandwidth settings are not supported for hostdev interfaces"),
    ({"quota:vif_inbound_average": "1", "quota:vif_inbound_peak": "2"},
     {"vif_types": (VifType.HW_VEB,)}, "vif-bandwidth-refused", E, "quota:vif_inbound_average",
     "max_tx_rate / min_tx_rate from a Neutron bandwidth_limit / minimum_bandwidth egress rule"),
    ({"quota:vif_inbound_peak": "200"}, {}, "vif-peak-burst-without-average", W,
     "quota:vif_inbound_peak", "silently dropped"),
    ({"quota:vif_outbound_burst": "30"}, {}, "vif-peak-burst-without-average", W,
     "quota:vif_outbound_burst", "silently dropped"),
    ({"quota:vif_outbound_average": "0"}, {"vif_types": TAP}, "vif-average-zero-drops-all", E,
     "quota:vif_outbound_average", "'police rate 0kbps burst 0kb mtu 64kb drop'"),
    ({"quota:vif_inbound_average": "0"}, {"vif_types": (VifType.MACVTAP,)},
     "vif-average-zero-drops-all", E, "quota:vif_inbound_average",
     "every packet to VM is dropped"),
    ({"quota:vif_inbound_average": "0"}, {"vif_types": TAP}, "vif-average-zero-not-applied", W,
     "quota:vif_inbound_average", "loses its noqueue root qdisc to the kernel default"),
    (seed.RESQUOTA_EXTRA_SPECS, {"vif_types": TAP}, "vif-peak-ignored-by-policer", W,
     "quota:vif_outbound_peak",
     "peak=65536 kB/s (524.288 Mbit/s) is ignored and the limit is average=32768 kB/s "
     "(262.144 Mbit/s)"),
    ({"quota:vif_inbound_average": "1000", "quota:vif_inbound_peak": "500"}, {"vif_types": TAP},
     "vif-peak-below-average", W, "quota:vif_inbound_peak", "effective limit is the peak 4 Mbit/s"),
    ({"quota:vif_outbound_average": "1000", "quota:vif_outbound_burst": "1"}, {"vif_types": TAP},
     "vif-police-burst-below-frame", E, "quota:vif_outbound_burst",
     "burst=1 KiB (1024 B) is smaller than one 1514-byte frame"),
    ({"quota:vif_outbound_average": "1000", "quota:vif_outbound_burst": "32"},
     {"vif_types": TAP}, "vif-police-burst-below-gso", W, "quota:vif_outbound_burst",
     "burst=32 KiB is below 64 KiB"),
    ({"quota:vif_inbound_average": "1000", "quota:vif_inbound_burst": "1"}, {"vif_types": TAP},
     "vif-htb-burst-below-frame", W, "quota:vif_inbound_burst",
     "burst=1 KiB (1024 B) is smaller than one 1514-byte frame"),
    (seed.RESQUOTA_EXTRA_SPECS, {"vif_types": TAP}, "vif-burst-over-one-second", W,
     "quota:vif_outbound_burst",
     "burst=131072 KiB (128 MiB) is 4.1 s of traffic at average=32768 kB/s (262.144 Mbit/s)"),
    ({"quota:vif_outbound_average": "1024"}, {"vif_types": TAP}, "vif-police-default-burst", I,
     "quota:vif_outbound_average", "burst = min(average, 4194303) = 1024 KiB (1 MiB)"),
    ({"quota:disk_read_bytes_sec": "1000000"}, {"boot_from_volume": True},
     "disk-quota-not-on-boot-volume", W, "quota:disk_read_bytes_sec", "Cinder volume"),
    ({"quota:disk_read_bytes_sec": "1000000"}, {"has_volumes": True},
     "disk-quota-not-on-volumes", I, "quota:disk_read_bytes_sec", "front-end QoS"),
    ({"quota:disk_total_iops_sec": "0"}, {}, "disk-quota-zero", I, "quota:disk_total_iops_sec",
     "0 means 'no limit'"),
    ({"quota:disk_read_bytes_sec": "1000000000000001"}, {}, "disk-iotune-over-qemu-max", E,
     "quota:disk_read_bytes_sec",
     "\"argument unsupported: block I/O throttle limit must be no more than 1000000000000000 "
     "using QEMU\""),
    ({"quota:disk_total_bytes_sec": "5", "quota:disk_write_bytes_sec": "7"}, {},
     "disk-iotune-total-and-read-write", E, "quota:disk_total_bytes_sec",
     "together with write_bytes_sec=7: libvirt refuses the domain at define: \"XML error: "
     "total and read/write bytes_sec cannot be set at the same time\""),
    ({"quota:disk_total_iops_sec": "5", "quota:disk_read_iops_sec": "7"}, {},
     "disk-iotune-total-and-read-write", E, "quota:disk_total_iops_sec",
     "total and read/write iops_sec cannot be set at the same time"),
    ({"quota:cpu_limit": "1000"}, {}, "vmware-only-key", I, "quota:cpu_limit",
     "read only by the VMware driver"),
    ({"quota:vif_inbound_average": "12 "}, {}, "verbatim-number-refused", E,
     "quota:vif_inbound_average",
     "Nova stores this; the instance will fail to spawn with \"unsupported configuration: "
     "could not convert bandwidth average value '12 '\""),
]


Case = tuple[dict[str, str], dict[str, Any], str, Severity, str, str]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_finding(case: Case) -> None:
    specs, kwargs, code, severity, key, piece = case
    findings = _lint(specs, **kwargs)
    found = [f for f in findings if f.code == code and f.key == key]
    assert len(found) == 1, findings
    finding = found[0]
    assert finding.severity is severity
    assert piece in finding.reason
    assert finding.value == (specs[key] if code != "vmware-only-key" else "")
    assert finding.reason.endswith(".")
    assert finding.advice.endswith(".")
    assert finding.key in str(finding)


def test_every_code_has_a_case() -> None:
    assert {c[2] for c in CASES} == set(FINDING_CODES)
    assert len(FINDING_CODES) == len(set(FINDING_CODES))


def _codes(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.code, f.key) for f in findings]


SEED_EXPECTED = [
    ("vif-burst-over-one-second", "quota:vif_inbound_burst"),
    ("vif-peak-ignored-by-policer", "quota:vif_outbound_peak"),
    ("vif-burst-over-one-second", "quota:vif_outbound_burst"),
]


@pytest.mark.parametrize("vif_types", [TAP, (), (VifType.ETHERNET,),
                                       (VifType.OVS_HYBRID, VifType.ETHERNET)])
def test_seed_resquota_produces_only_expected_findings(vif_types: tuple[VifType, ...]) -> None:
    findings = _lint(seed.RESQUOTA_EXTRA_SPECS, vif_types=vif_types)
    assert _codes(findings) == SEED_EXPECTED
    inbound = findings[0]
    # HTB (inbound on a tap) runs the burst at the peak; the policer at line rate.
    assert "run at the peak 524.288 Mbit/s" in inbound.reason
    assert "run at line rate" in findings[2].reason


def test_seed_on_cgroup_v2_adds_the_weight_note() -> None:
    findings = _lint(seed.RESQUOTA_EXTRA_SPECS, vif_types=TAP, cgroup="v2")
    assert _codes(findings) == [("cpu-shares-verbatim-weight", "quota:cpu_shares"),
                                *SEED_EXPECTED]
    assert "5.12× the CPU share, not the 0.5×" in findings[0].reason


def test_macvtap_polices_inbound_and_shapes_outbound() -> None:
    findings = _lint(seed.RESQUOTA_EXTRA_SPECS, vif_types=(VifType.MACVTAP,))
    assert _codes(findings) == [
        ("vif-peak-ignored-by-policer", "quota:vif_inbound_peak"),
        ("vif-burst-over-one-second", "quota:vif_inbound_burst"),
        ("vif-burst-over-one-second", "quota:vif_outbound_burst"),
    ]


def test_ovs_port_zero_average_is_not_a_tc_police() -> None:
    # libvirt's OVS-port path writes ingress_policing_rate, not 'police rate 0kbps'.
    findings = _lint({"quota:vif_outbound_average": "0"}, vif_types=(VifType.OVS_BRIDGE,))
    assert findings == []


def test_vhostuser_only_gets_the_not_applied_finding() -> None:
    findings = _lint(seed.RESQUOTA_EXTRA_SPECS, vif_types=(VifType.VHOSTUSER,))
    assert _codes(findings) == [("vif-bandwidth-not-applied", "quota:vif_inbound_average")]
    assert "6 quota:vif_* keys" in findings[0].reason


def test_clean_quotas_produce_nothing() -> None:
    assert lint_flavor_quota(FlavorQuota(), vcpus=8, cgroup="v2") == []
    quiet = {"quota:cpu_shares": "2048", "quota:cpu_period": "100000",
             "quota:cpu_quota": "50000", "quota:vif_outbound_average": "1000",
             "quota:vif_outbound_burst": "100", "quota:vif_inbound_average": "1000",
             "quota:disk_total_bytes_sec": "1000000"}
    assert _lint(quiet, vif_types=TAP) == []


def test_period_errors_suppress_the_infos() -> None:
    findings = _lint({"quota:cpu_period": "999", "quota:cpu_quota": "5"}, vcpus=4)
    assert _codes(findings) == [("cpu-period-out-of-range", "quota:cpu_period"),
                                ("cpu-quota-out-of-range", "quota:cpu_quota")]


def test_unknown_cgroup_version_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        lint_flavor_quota(FlavorQuota(), vcpus=1, cgroup="v3")
    assert exc.value.key == "cgroup"
    assert "v3" in str(exc.value)


# --- the strings Nova writes verbatim (designer.set_vif_bandwidth_config, Image.disk_qos) -----

# libvirt 9.0's error for each key Nova copies verbatim, for the string S (virsh define;
# tests/libvirt/test_nova_verbatim_libvirt.py checks every one on the real libvirtd).
REFUSED_BY_LIBVIRT = {
    "quota:vif_inbound_average": "unsupported configuration: could not convert bandwidth "
                                 "average value 'S'",
    "quota:vif_inbound_peak": "unsupported configuration: could not convert bandwidth peak "
                              "value 'S'",
    "quota:vif_inbound_burst": "unsupported configuration: could not convert bandwidth burst "
                               "value 'S'",
    "quota:vif_outbound_average": "unsupported configuration: could not convert bandwidth "
                                  "average value 'S'",
    "quota:vif_outbound_peak": "unsupported configuration: could not convert bandwidth peak "
                               "value 'S'",
    "quota:vif_outbound_burst": "unsupported configuration: could not convert bandwidth burst "
                                "value 'S'",
    "quota:disk_read_bytes_sec": "XML error: disk iotune field 'read_bytes_sec' must be an "
                                 "integer",
    "quota:disk_read_iops_sec": "XML error: disk iotune field 'read_iops_sec' must be an "
                                "integer",
    "quota:disk_write_bytes_sec": "XML error: disk iotune field 'write_bytes_sec' must be an "
                                  "integer",
    "quota:disk_write_iops_sec": "XML error: disk iotune field 'write_iops_sec' must be an "
                                 "integer",
    "quota:disk_total_bytes_sec": "XML error: disk iotune field 'total_bytes_sec' must be an "
                                  "integer",
    "quota:disk_total_iops_sec": "XML error: disk iotune field 'total_iops_sec' must be an "
                                 "integer",
}
# Strings Python's int() (so Nova's API) takes and libvirt's virStrToLong_ullp does not.
REFUSED = ["12 ", " 12 ", "1_000", "\u0661\u0662", "\uff11\uff12", "\u00a012", "-0",
           "18446744073709551616"]
# Strings libvirt takes too (leading C whitespace, one '+', leading zeros).
ACCEPTED = ["007", " 12", "\t12", "\n12", "+5", "+0", "18446744073709551615"]


def _with_average(key: str, text: str) -> dict[str, str]:
    """``key`` = ``text``, plus its side's average when ``key`` is a peak or burst (Nova
    writes a side's peak and burst only with its average)."""
    specs = {key: text}
    if key.startswith("quota:vif_") and not key.endswith("_average"):
        specs[key.rsplit("_", 1)[0] + "_average"] = "1000"
    return specs


def _verbatim(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code == "verbatim-number-refused"]


@pytest.mark.parametrize("key", list(REFUSED_BY_LIBVIRT))
@pytest.mark.parametrize("text", REFUSED)
def test_a_string_libvirt_refuses_is_an_error_quoting_libvirt(key: str, text: str) -> None:
    [finding] = _verbatim(_lint(_with_average(key, text)))
    error = REFUSED_BY_LIBVIRT[key].replace("S", text)
    assert finding.severity is E
    assert (finding.key, finding.value) == (key, text)
    assert finding.reason.startswith(
        f"Nova stores this; the instance will fail to spawn with \"{error}\": Nova's API "
        f"reads {text!r} as {int(text)} (Python int()), but its libvirt driver writes the "
        f"string unconverted (")
    assert "libvirt's virStrToLong_ullp takes nothing but ASCII digits" in finding.reason


def test_the_whole_finding_for_a_bandwidth_and_an_iotune_value() -> None:
    [vif] = _verbatim(_lint({"quota:vif_outbound_average": "1_000"}))
    assert str(vif) == (
        "error: quota:vif_outbound_average=1_000: Nova stores this; the instance will fail to "
        "spawn with \"unsupported configuration: could not convert bandwidth average value "
        "'1_000'\": Nova's API reads '1_000' as 1000 (Python int()), but its libvirt driver "
        "writes the string unconverted (average=\"1_000\" in <bandwidth><outbound>) and "
        "libvirt's virStrToLong_ullp takes nothing but ASCII digits after optional leading "
        "whitespace and '+', up to 18446744073709551615. Set quota:vif_outbound_average to the "
        "plain decimal 1000 (digits only: no spaces, sign, '_' or non-ASCII digits).")
    [disk] = _verbatim(_lint({"quota:disk_total_iops_sec": "\u0661\u0662"}))
    assert str(disk) == (
        "error: quota:disk_total_iops_sec=\u0661\u0662: Nova stores this; the instance will "
        "fail to spawn with \"XML error: disk iotune field 'total_iops_sec' must be an "
        "integer\": Nova's API reads '\u0661\u0662' as 12 (Python int()), but its libvirt "
        "driver writes the string unconverted (<total_iops_sec>\u0661\u0662</total_iops_sec> "
        "in <iotune>) and libvirt's virStrToLong_ullp takes nothing but ASCII digits after "
        "optional leading whitespace and '+', up to 18446744073709551615. Set "
        "quota:disk_total_iops_sec to the plain decimal 12 (digits only: no spaces, sign, '_' "
        "or non-ASCII digits).")


def test_a_number_past_64_bits_cannot_be_fixed_by_spelling() -> None:
    for text in ("18_446_744_073_709_551_616", "18446744073709551616"):
        [finding] = _verbatim(_lint({"quota:vif_inbound_burst": text,
                                     "quota:vif_inbound_average": "1"}))
        assert finding.advice == (
            "Set quota:vif_inbound_burst to a plain decimal of at most 18446744073709551615 "
            "(digits only: no spaces, sign, '_' or non-ASCII digits).")
    # libvirt's parse fails before QEMU's limit is looked at.
    assert _codes(_lint({"quota:disk_read_bytes_sec": "18446744073709551616"})) == [
        ("verbatim-number-refused", "quota:disk_read_bytes_sec")]
    assert _codes(_lint({"quota:disk_read_bytes_sec": "18446744073709551615"})) == [
        ("disk-iotune-over-qemu-max", "quota:disk_read_bytes_sec")]


@pytest.mark.parametrize("key", list(REFUSED_BY_LIBVIRT))
@pytest.mark.parametrize("text", ACCEPTED)
def test_a_string_libvirt_takes_is_no_finding(key: str, text: str) -> None:
    assert _verbatim(_lint(_with_average(key, text))) == []


@pytest.mark.parametrize("text", ["\v12", "12\f"])
def test_a_string_lxml_refuses_is_nova_failing_before_libvirt(text: str) -> None:
    for key in ("quota:vif_inbound_peak", "quota:disk_write_bytes_sec"):
        [finding] = _verbatim(_lint(_with_average(key, text)))
        assert finding.reason.startswith(
            "Nova stores this; the instance will fail to spawn with \"ValueError: All strings "
            "must be XML compatible: Unicode or ASCII, no NULL bytes or control characters\": "
            f"Nova's API reads {text!r} as 12 (Python int()), but its libvirt driver hands the "
            "string unconverted to lxml")


def test_strings_nova_never_writes_are_no_finding() -> None:
    # CPU keys go through int() (_update_guest_cputune); a peak without its side's average is
    # not written (format_dom); vhost-user and hostdev ports get no <bandwidth> (vif.py).
    assert _verbatim(_lint({"quota:cpu_shares": "1_024", "quota:cpu_period": "100000 ",
                            "quota:cpu_quota": "-0"})) == []
    assert _codes(_lint({"quota:vif_inbound_peak": "12 "})) == [
        ("vif-peak-burst-without-average", "quota:vif_inbound_peak")]
    assert _verbatim(_lint({"quota:vif_inbound_average": "12 "},
                           vif_types=(VifType.VHOSTUSER, VifType.HOSTDEV))) == []
    assert len(_verbatim(_lint({"quota:vif_inbound_average": "12 "},
                               vif_types=(VifType.VHOSTUSER, VifType.OVS_BRIDGE)))) == 1


def test_refusals_come_first_and_the_number_is_still_linted() -> None:
    findings = _lint({"quota:vif_outbound_average": "1000", "quota:vif_outbound_burst": "0_1",
                      "quota:disk_read_bytes_sec": " 0 "}, vif_types=TAP)
    assert _codes(findings) == [
        ("verbatim-number-refused", "quota:vif_outbound_burst"),
        ("vif-police-burst-below-frame", "quota:vif_outbound_burst"),
        ("verbatim-number-refused", "quota:disk_read_bytes_sec"),
        ("disk-quota-zero", "quota:disk_read_bytes_sec"),
    ]


def test_a_volume_booted_instance_fails_only_with_a_local_disk() -> None:
    [finding] = _verbatim(_lint({"quota:disk_read_bytes_sec": "1_000"}, boot_from_volume=True))
    assert finding.reason.startswith(
        "Nova stores this; the instance will fail to spawn (if it has an ephemeral, swap or "
        "config-drive disk) with \"XML error: disk iotune field 'read_bytes_sec' must be an "
        "integer\"")


def test_a_vf_of_the_sriov_agent_is_refused_only_when_nova_writes_bandwidth() -> None:
    # A peak alone writes no <bandwidth> (format_dom), so libvirt has nothing to refuse.
    assert "vif-bandwidth-refused" not in {
        f.code for f in _lint({"quota:vif_inbound_peak": "200"}, vif_types=(VifType.HW_VEB,))}
    # libvirt never shapes the VF, so no tc behaviour (police, zero average) is claimed ...
    codes = {f.code for f in _lint({"quota:vif_outbound_average": "0"},
                                   vif_types=(VifType.HW_VEB,))}
    assert codes == {"vif-bandwidth-refused"}
    # ... but Nova's strings are still in the XML libvirt parses at define time.
    assert len(_verbatim(_lint({"quota:vif_inbound_average": "12 "},
                               vif_types=(VifType.HW_VEB,)))) == 1
