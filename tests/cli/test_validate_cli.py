"""End-to-end tests of ``vmqos validate``: Nova's verdict on flavor properties (the body
schema of nova api/openstack/compute/schemas/flavors_extraspecs.py, then nova
api/validation/extra_specs/validators.py, base.py and the namespace modules, microversion
>= 2.86, in command-line order) and Neutron's on QoS rules (neutron-lib
api/definitions/qos.py validators, neutron services/qos/qos_plugin.py), with their exact
messages, exit codes 0/2 through the real process, and ``--format json``."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable

import pytest

from vmqos.cli.console import findings_text
from vmqos.intent.findings import Finding, Severity

from .conftest import Outcome, assert_user_error, props

Run = Callable[..., Outcome]
Proc = Callable[..., subprocess.CompletedProcess[str]]


def _rules(*rules: str) -> list[str]:
    return [arg for rule in rules for arg in ("--rule", rule)]


# Nova's extra-spec validation (microversion >= 2.86): None = accepted.
NOVA_VECTORS: list[tuple[str, str | None]] = [
    ("quota:cpu_shares=2048", None),
    ("quota:cpu_shares=-1", "Validation failed; '-1' is less than the min value of '0'."),
    ("quota:cpu_quota=-1", None),
    ("quota:cpu_period=abc", "Validation failed; 'abc' is not a valid integer value."),
    ("quota:disk_total_iops_sec=0", None),
    ("quota:disk_read_bytes_sec_max=100", "Validation failed; extra spec "
     "'quota:disk_read_bytes_sec_max' does not appear to be a valid extra spec."),
    ("quota:vif_inbound_floor=10", "Validation failed; extra spec 'quota:vif_inbound_floor' "
     "does not appear to be a valid extra spec."),
    ("foo=bar", None),
    # The other namespaces Nova validates (nova/api/validation/extra_specs/hw.py, hw_rng.py,
    # os.py, resources.py, traits.py ...), one vector per kind of check.
    ("hw:cpu_policy=dedicated", None),
    ("hw:cpu_policy=bogus",
     "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."),
    ("hw:numa_nodes=0", "Validation failed; '0' is less than the min value of '1'."),
    ("hw:redirected_usb_ports=16",
     "Validation failed; '16' is greater than the max value of '15'."),
    ("hw:boot_menu=yes", None),
    ("hw:boot_menu=maybe", "Validation failed; 'maybe' is not a valid boolean-like value."),
    ("hw:mem_page_size=huge", "Validation failed; 'huge' is not of the format "
     "'(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'."),
    ("hw:numa_cpus.1=0-3,^2", None),
    ("hw:numa_mem.1=0", "Validation failed; '0' is less than the min value of '1'."),
    ("hw:cpu_polcy=dedicated", "Validation failed; extra spec 'hw:cpu_polcy' does not appear to "
     "be a valid extra spec."),
    ("hw_rng:rate_bytes=-1", "Validation failed; '-1' is less than the min value of '0'."),
    ("hw_video:ram_max_mb=x", "Validation failed; 'x' is not a valid integer value."),
    ("os:secure_boot=optional",
     "Validation failed; 'optional' is not one of: disabled, required."),
    ("pci_passthrough:alias=gpu", "Validation failed; 'gpu' is not of the format "
     "'[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*'."),
    ("resources1:VGPU=1", None),
    ("resources2:CUSTOM_FPGA=x", "Validation failed; 'x' is not a valid integer value."),
    ("resources:NOT_A_CLASS=1", "Validation failed; extra spec 'resources:NOT_A_CLASS' does "
     "not appear to be a valid extra spec."),
    ("trait1:HW_CPU_X86_AVX2=required", None),
    ("trait:CUSTOM_GOLD=maybe", "Validation failed; 'maybe' is not one of: required, forbidden."),
    ("trait:NOT_A_TRAIT=required", "Validation failed; extra spec 'trait:NOT_A_TRAIT' does not "
     "appear to be a valid extra spec."),
    ("group_policy=split", "Validation failed; 'split' is not one of: isolate, none."),
    ("capabilities:cpu_info:arch=x86_64", None),
    ("aggregate_instance_extra_specs:ssd=true", None),
    ("quotas:cpu_shares=-1", None),                 # an unknown namespace: not validated
    # Nova's body schema (nova/api/openstack/compute/schemas/flavors_extraspecs.py create),
    # before any validator, in every namespace: jsonschema's words in Nova's sentence.
    ("quota/cpu_shares=1", "Invalid input for field/attribute extra_specs. Value: "
     "{'quota/cpu_shares': '1'}. 'quota/cpu_shares' does not match any of the regexes: "
     "'^[a-zA-Z0-9-_:. ]{1,255}$'"),
    ("foo;bar=1", "Invalid input for field/attribute extra_specs. Value: {'foo;bar': '1'}. "
     "'foo;bar' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"),
    (f"quota:cpu_shares={'1' * 256}", f"Invalid input for field/attribute quota:cpu_shares. "
     f"Value: {'1' * 256}. '{'1' * 256}' is too long"),
    (f"foo={'x' * 256}", f"Invalid input for field/attribute foo. Value: {'x' * 256}. "
     f"'{'x' * 256}' is too long"),
    (f"foo={'x' * 255}", None),
    (f"{'k' * 255}=1", None),
    ("a b=", None),
]


@pytest.mark.parametrize(("spec", "message"), NOVA_VECTORS, ids=[s for s, _ in NOVA_VECTORS])
def test_nova_extra_spec_vectors(vmqos: Run, spec: str, message: str | None) -> None:
    out = vmqos("validate", "--property", spec)
    if message is None:
        assert out.code == 0, out.stderr
        assert out.stderr == ""
        assert out.lines[0] == "valid: 1 property, 0 rules"
    else:
        assert assert_user_error(out.code, out.stderr) == message
        assert out.stdout == ""


def test_readme_example_exit_2_through_the_real_process(run_vmqos: Proc) -> None:
    """README: `vmqos validate --property quota:cpu_shares=-1` prints Nova's message, exit 2."""
    proc = run_vmqos("validate", "--property", "quota:cpu_shares=-1")
    assert proc.stderr == "vmqos: error: Validation failed; '-1' is less than the min value " \
                          "of '0'.\n"
    assert (proc.returncode, proc.stdout) == (2, "")


def test_an_unknown_cpu_policy_exit_2_through_the_real_process(run_vmqos: Proc) -> None:
    """Nova (hw.py, microversion >= 2.86) refuses hw:cpu_policy=bogus; so does vmqos."""
    proc = run_vmqos("validate", *props("quota:cpu_shares=512", "hw:cpu_policy=bogus"))
    assert proc.stderr == ("vmqos: error: Validation failed; 'bogus' is not one of: dedicated, "
                           "shared, mixed.\n")
    assert (proc.returncode, proc.stdout) == (2, "")


def test_the_first_bad_property_given_is_named_through_the_real_process(
        run_vmqos: Proc) -> None:
    """Nova walks the body `openstack flavor set` sends in command-line order and names the
    first failure (flavors_extraspecs.py _check_extra_specs_value): not the first key sorted."""
    proc = run_vmqos("validate", *props("quota:vif_outbound_peak=max", "quota:cpu_shares=-1"))
    assert proc.stderr == "vmqos: error: Validation failed; 'max' is not a valid integer value.\n"
    assert (proc.returncode, proc.stdout) == (2, "")


@pytest.mark.parametrize(("specs", "message"), [
    (("quota:cpu_shares=-1", "quota:vif_outbound_peak=max"),
     "Validation failed; '-1' is less than the min value of '0'."),
    (("hw:cpu_polcy=x", "hw:cpu_policy=bogus"),
     "Validation failed; extra spec 'hw:cpu_polcy' does not appear to be a valid extra spec."),
    # A repeated property keeps its first place and takes its last value, as osc-lib's
    # KeyValueAction builds the dict.
    (("quota:cpu_shares=-1", "hw:cpu_policy=bogus", "quota:cpu_shares=1"),
     "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."),
    # The schema judges the whole body before any validator.
    (("quota:cpu_shares=-1", "hw/x=1"), "Invalid input for field/attribute extra_specs. Value: "
     "{'quota:cpu_shares': '-1', 'hw/x': '1'}. 'hw/x' does not match any of the regexes: "
     "'^[a-zA-Z0-9-_:. ]{1,255}$'"),
    (("b/x=1", "a/x=1"), "Invalid input for field/attribute extra_specs. Value: {'b/x': '1', "
     "'a/x': '1'}. 'a/x', 'b/x' do not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"),
    (("hw/x=1", f"quota:cpu_shares={'9' * 256}"), "Invalid input for field/attribute "
     f"quota:cpu_shares. Value: {'9' * 256}. '{'9' * 256}' is too long"),
])
def test_properties_are_judged_in_the_order_given(vmqos: Run, specs: tuple[str, ...],
                                                   message: str) -> None:
    out = vmqos("validate", *props(*specs))
    assert assert_user_error(out.code, out.stderr) == message
    assert out.stdout == ""


def test_valid_input_exit_0_through_the_real_process(run_vmqos: Proc) -> None:
    proc = run_vmqos("validate", *props("quota:cpu_shares=512"),
                     *_rules("bandwidth_limit:max_kbps=3000,max_burst_kbps=300"))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines()[0] == "valid: 1 property, 1 rule"


def test_host_level_findings_do_not_fail(vmqos: Run) -> None:
    """Nova accepts quota:cpu_shares=2048; the cgroup v2 lint is printed, exit stays 0."""
    out = vmqos("validate", "--property", "quota:cpu_shares=2048", "--cgroup", "v2")
    assert out.code == 0
    assert "quota:cpu_shares" in out.stdout
    assert "cpu.weight=2048" in out.stdout


def test_findings_print_as_diagnostics_through_the_real_process(run_vmqos: Proc) -> None:
    """Piped, the findings are plain lines (no colour codes, no table frame), each severity and
    ``key = value`` on its own line with the reason and the advice indented beneath, wrapped at
    100 columns without splitting a word."""
    proc = run_vmqos("validate", *props("quota:cpu_shares=512", "quota:vif_inbound_average=100",
                                        "quota:vif_inbound_burst=1"))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == """\
valid: 3 properties, 0 rules
host-level findings (Nova accepts these):
  info     quota:cpu_shares = 512
           On cgroup v2 libvirt writes cpu.weight=512 unchanged, against the default weight 100 of
           every unconfigured cgroup: that is 5.12× the CPU share, not the 0.5× Nova's description
           (relative to 1024) promises.
           → For 0.5× of a default guest on cgroup v2 set quota:cpu_shares=50.

  warning  quota:vif_inbound_burst = 1
           burst=1 KiB (1024 B) is smaller than one 1514-byte frame: the inbound HTB class on OVS
           hybrid (tap) ports goes into deficit on every full-size frame and can never burst; this
           is most often a bytes/KiB mix-up.
           → Set quota:vif_inbound_burst in KiB (e.g. 64 or more), or remove it.
"""
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100


def test_findings_text_says_each_finding_once_and_keeps_words_whole() -> None:
    finding = Finding("code-x", Severity.ERROR, "quota:k", "7", "a " * 40 + "cpu.weight=2048",
                      "do-not-split-this-hyphenated-advice")
    text = findings_text([finding, finding], "title", width=40)
    assert text.count("quota:k = 7") == 1
    assert "cpu.weight=2048" in text.split()
    assert "→ do-not-split-this-hyphenated-advice" in text
    assert text.startswith("title:\n  error    quota:k = 7\n")
    assert findings_text([], "title") == ""


# Neutron's rule validation (400s): None = accepted (201).
NEUTRON_VECTORS: list[tuple[str, str | None]] = [
    ("bandwidth_limit:max_kbps=10000", None),
    ("bandwidth_limit:max_burst_kbps=10",
     "Failed to parse request. Required attribute 'max_kbps' not specified"),
    ("bandwidth_limit:max_kbps=-1",
     "Invalid input for max_kbps. Reason: '-1' is too small - must be at least '0'."),
    ("bandwidth_limit:max_kbps=2147483648", "Invalid input for max_kbps. Reason: "
     "'2147483648' is too large - must be no larger than '2147483647'."),
    ("bandwidth_limit:max_kbps=2147483647", None),
    ("bandwidth_limit:max_kbps=abc", "Invalid input for operation: 'abc' is not an integer."),
    ("bandwidth_limit:max_kbps=10000,direction=any",
     "Invalid input for direction. Reason: any is not in valid_values."),
    ("packet_rate_limit:max_kpps=1000,direction=any",
     "Invalid input for direction. Reason: any is not in valid_values."),
    ("minimum_packet_rate:min_kpps=1000,direction=any", None),
    ("dscp_marking:dscp_mark=3", "Invalid input for dscp_mark. Reason: 3 is not in valid_values."),
    *((f"dscp_marking:dscp_mark={mark}",
       f"Invalid input for dscp_mark. Reason: {mark} is not in valid_values.")
      for mark in (2, 4, 6, 42, 50, 52, 54, 57, 63, 64)),
    *((f"dscp_marking:dscp_mark={mark}", None) for mark in (0, 8, 26, 46, 56)),
    # The project twins (neutron_lib/api/attributes.py populate_project_info, run before
    # verify_attributes): a rule's map has neither, so either one names both; unequal twins
    # are refused before anything else. Neutron joins the names of a set; vmqos sorts them.
    *((f"{rule},{twins}", message)
      for rule in ("bandwidth_limit:max_kbps=1000", "dscp_marking:dscp_mark=26",
                   "minimum_bandwidth:min_kbps=1000", "packet_rate_limit:max_kpps=1000",
                   "minimum_packet_rate:min_kpps=1000")
      for twins, message in (
          ("tenant_id=p", "Unrecognized attribute(s) 'project_id, tenant_id'"),
          ("project-id=p", "Unrecognized attribute(s) 'project_id, tenant_id'"),
          ("tenant_id=p,project_id=p", "Unrecognized attribute(s) 'project_id, tenant_id'"),
          ("tenant_id=p,project_id=q", "'project_id' and 'tenant_id' do not match"),
          ("foo=1,tenant_id=p", "Unrecognized attribute(s) 'foo, project_id, tenant_id'"),
          ("foo=1,tenant_id=p,project_id=q", "'project_id' and 'tenant_id' do not match"))),
    ("bandwidth_limit:max_kbps=abc,tenant_id=p",
     "Unrecognized attribute(s) 'project_id, tenant_id'"),
    ("bandwidth_limit:max_kbps=abc,tenant_id=1,project_id=01",
     "'project_id' and 'tenant_id' do not match"),
]


@pytest.mark.parametrize(("rule", "message"), NEUTRON_VECTORS,
                         ids=[r for r, _ in NEUTRON_VECTORS])
def test_neutron_rule_vectors(vmqos: Run, rule: str, message: str | None) -> None:
    out = vmqos("validate", "--rule", rule)
    if message is None:
        assert (out.code, out.stderr) == (0, "")
        assert out.lines == ["valid: 0 properties, 1 rule"]
    else:
        assert assert_user_error(out.code, out.stderr) == message
        assert out.stdout == ""


# The rules given together form one policy, checked as Neutron checks a rule added to one
# (neutron objects/qos/qos_policy_validator.py check_bandwidth_rule_conflict,
# check_rules_conflict).
_RULES_CONFLICT = (r"Rule {type} conflicts with rule \S.* which already exists in QoS Policy "
                   r"\S+\.")
_PARAMETER_CONFLICT = (r"Unable to add the rule with value {value} to the policy \S+ as the "
                       r"existing rule of type {type} has value {existing}\.")

POLICY_VECTORS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "second bw egress rule": (
        ("bandwidth_limit:max_kbps=1000", "bandwidth_limit:max_kbps=2000,direction=egress"),
        _RULES_CONFLICT.format(type="bandwidth_limit")),
    "second DSCP rule, different mark": (
        ("dscp_marking:dscp_mark=26", "dscp_marking:dscp_mark=46"),
        _RULES_CONFLICT.format(type="dscp_marking")),
    "bw egress + bw ingress": (
        ("bandwidth_limit:max_kbps=1000", "bandwidth_limit:max_kbps=2000,direction=ingress"),
        None),
    "bw egress 1000 then min-bw egress 2000": (
        ("bandwidth_limit:max_kbps=1000", "minimum_bandwidth:min_kbps=2000"),
        _PARAMETER_CONFLICT.format(value=2000, type="bandwidth_limit", existing=1000)),
    "bw egress 1000 then min-bw egress 1000 (equal allowed)": (
        ("bandwidth_limit:max_kbps=1000", "minimum_bandwidth:min_kbps=1000"), None),
    "bw egress 1000 then min-bw ingress 2000 (>= 26.0.0)": (
        ("bandwidth_limit:max_kbps=1000", "minimum_bandwidth:min_kbps=2000,direction=ingress"),
        None),
    "min-bw egress 2000 then bw egress 1000": (
        ("minimum_bandwidth:min_kbps=2000", "bandwidth_limit:max_kbps=1000"),
        _PARAMETER_CONFLICT.format(value=1000, type="minimum_bandwidth", existing=2000)),
    "min-pps egress then min-pps any": (
        ("minimum_packet_rate:min_kpps=1000,direction=egress",
         "minimum_packet_rate:min_kpps=1000,direction=any"),
        _PARAMETER_CONFLICT.format(value="any", type="minimum_packet_rate", existing="egress")),
    "min-pps egress then min-pps ingress": (
        ("minimum_packet_rate:min_kpps=1000,direction=egress",
         "minimum_packet_rate:min_kpps=1000,direction=ingress"), None),
}


@pytest.mark.parametrize("case", POLICY_VECTORS)
def test_rules_form_one_policy(vmqos: Run, case: str) -> None:
    rules, pattern = POLICY_VECTORS[case]
    out = vmqos("validate", *_rules(*rules))
    if pattern is None:
        assert (out.code, out.stderr) == (0, "")
        assert out.lines == ["valid: 0 properties, 2 rules"]
    else:
        message = assert_user_error(out.code, out.stderr)
        assert re.fullmatch(pattern, message), message


def test_duplicate_rule_pair(vmqos: Run) -> None:
    out = vmqos("validate", *_rules("bandwidth_limit:max_kbps=3000",
                                    "bandwidth_limit:max_kbps=3000,max_burst_kbps=300"))
    message = assert_user_error(out.code, out.stderr)
    assert re.fullmatch(_RULES_CONFLICT.format(type="bandwidth_limit"), message), message


def test_json_on_success(vmqos: Run) -> None:
    out = vmqos("validate", *props("quota:cpu_shares=512", "foo=bar"),
                *_rules("bandwidth_limit:max_kbps=3000,max_burst_kbps=300",
                        "dscp_marking:dscp_mark=26"), "--format", "json")
    assert (out.code, out.stderr) == (0, "")
    data = json.loads(out.stdout)
    assert data["valid"] is True
    assert data["properties"] == {"quota:cpu_shares": "512", "foo": "bar"}
    rules = [{k: v for k, v in r.items() if k != "id"} for r in data["rules"]]
    assert rules == [
        {"type": "bandwidth_limit", "max_kbps": 3000, "max_burst_kbps": 300,
         "direction": "egress"},  # Neutron's default direction
        {"type": "dscp_marking", "dscp_mark": 26},
    ]
    assert isinstance(data["findings"], list)
    for finding in data["findings"]:
        assert {"code", "severity", "key", "value", "reason", "advice"} <= set(finding)
    assert "quota:cpu_shares" in {f["key"] for f in data["findings"]}


def test_json_errors_are_still_one_stderr_line(vmqos: Run) -> None:
    out = vmqos("validate", "--property", "quota:cpu_shares=-1", "--format", "json")
    assert_user_error(out.code, out.stderr, "'-1'")
    assert out.stdout == ""


@pytest.mark.parametrize(("args", "needles"), [
    ((), ("--property", "--rule")),
    (("--property", "noequals"), ("--property", "'noequals'")),
    (("--rule", "bandwidth_limit:max_kbps=10,foo=1"), ("'foo'",)),
    (("--rule", "bogus:x=1"), ("'bogus'",)),
])
def test_bad_input_is_a_one_line_user_error(vmqos: Run, args: tuple[str, ...],
                                            needles: tuple[str, ...]) -> None:
    out = vmqos("validate", *args)
    assert_user_error(out.code, out.stderr, *needles)


def test_help_exits_0_and_shows_examples(vmqos: Run) -> None:
    out = vmqos("validate", "--help")
    assert (out.code, out.stderr) == (0, "")
    assert re.search(r"^\s+vmqos validate --property ", out.stdout, re.MULTILINE)
    assert re.search(r"^\s+vmqos validate --rule ", out.stdout, re.MULTILINE)
