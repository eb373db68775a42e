"""End-to-end tests of the scenario commands — ``vmqos explain``, ``plan``, ``demo`` — on the
seed lab (examples/seed.yaml and the built-in copy), of bad scenario files, and of the command
as a whole (``--help`` everywhere, ``--version``, the exit-70 bug boundary)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.seed import SCENARIO_YAML as SEED_YAML
from support.seed import qemu_drive_option

from .conftest import Outcome, assert_user_error

Run = Callable[..., Outcome]
Proc = Callable[..., subprocess.CompletedProcess[str]]

SEED_TAP = "tapbb8410ad-a0"


def _explain_json(vmqos: Run, *args: str | Path) -> dict[str, Any]:
    out = vmqos("explain", *args, "--format", "json")
    assert (out.code, out.stderr) == (0, ""), out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def _server(data: dict[str, Any], name: str) -> dict[str, Any]:
    (server,) = [s for s in data["servers"] if s["name"] == name]
    assert isinstance(server, dict)
    return server


# --------------------------------------------------------------------------------------------
# explain --format json


def test_explain_json_structure(vmqos: Run) -> None:
    data = _explain_json(vmqos, "examples/seed.yaml")
    assert (data["profile"], data["neutron_backend"]) == ("pike-rhel7", "ovs")
    assert [s["name"] for s in data["servers"]] == ["vm_normal", "vm_resquota"]
    for server in data["servers"]:
        assert {"name", "flavor", "cpu", "disks", "ports", "findings"} <= set(server)
        assert len(server["ports"]) == 3
        for port in server["ports"]:
            assert {"port_id", "device", "vif_type", "policy", "inbound", "outbound",
                    "findings"} <= set(port)
            for direction, neutron in (("inbound", "ingress"), ("outbound", "egress")):
                view = port[direction]
                assert (view["direction"], view["neutron_direction"]) == (direction, neutron)
                assert {"layers", "effective", "rule", "overridden"} <= set(view)
                for layer in (*view["layers"], *view["overridden"]):
                    assert {"enforcer", "direction", "device", "rate", "burst", "peak",
                            "source", "host_view"} <= set(layer)
                    assert layer["direction"] == direction


def test_explain_builtin_seed_is_examples_seed_yaml(vmqos: Run) -> None:
    assert _explain_json(vmqos) == _explain_json(vmqos, SEED_YAML)


def test_explain_vm_resquota_first_port(vmqos: Run) -> None:
    server = _server(_explain_json(vmqos, SEED_YAML), "vm_resquota")
    assert server["flavor"] == "m1.resquota"
    port = server["ports"][0]
    assert (port["port_id"], port["device"]) == ("bb8410ad-a026-4e9a-8f0b-0e8f611d5588",
                                                 SEED_TAP)
    assert port["policy"] == "bw-limiter"

    # From the VM: bw-limiter's 3000 kbit/s, burst 300 kbit = 38400 bytes (OVS ingress
    # policing counts a burst kilobit as 1024 bits: OVS lib/netdev-linux.c
    # netdev_linux_set_policing); the flavor's 262 Mbit/s tc police is gone (ovs-vswitchd
    # removed libvirt's ingress qdisc) and is listed as overridden.
    outbound = port["outbound"]
    effective = outbound["effective"]
    assert effective["enforcer"] == "OVS (Neutron OVS agent)"
    assert (effective["rate"], effective["burst"], effective["peak"]) == (3000000, 38400, None)
    assert "bw-limiter" in effective["source"]
    assert [(x["enforcer"], x["rate"], x["burst"]) for x in outbound["overridden"]] == [
        ("tc on the tap", 262144000, 134217728)]
    assert "flavor m1.resquota" in outbound["overridden"][0]["source"]
    assert outbound["rule"]

    # To the VM: the flavor's htb class: 32768 kB/s = 262144000 bit/s, burst 131072 KiB =
    # 134217728 bytes, peak 65536 kB/s = 524288000 bit/s.
    inbound = port["inbound"]
    effective = inbound["effective"]
    assert effective["enforcer"] == "tc on the tap"
    assert (effective["rate"], effective["burst"], effective["peak"]) == (
        262144000, 134217728, 524288000)
    assert inbound["overridden"] == []

    codes = {f["code"] for f in port["findings"]}
    assert "ovs-removes-libvirt-ingress-qdisc" in codes


def test_explain_vm_normal_ports_are_unlimited(vmqos: Run) -> None:
    server = _server(_explain_json(vmqos, SEED_YAML), "vm_normal")
    for port in server["ports"]:
        assert port["policy"] is None
        for direction in ("inbound", "outbound"):
            assert port[direction]["layers"] == []
            assert port[direction]["effective"] is None
    assert server["cpu"]["shares"] == 1024  # Nova Pike's 1024 × vCPUs default


def test_explain_modern_profile_inbound_is_ovs_written_by_libvirt(vmqos: Run) -> None:
    data = _explain_json(vmqos, SEED_YAML, "--profile", "modern")
    assert data["profile"] == "modern"
    inbound = _server(data, "vm_resquota")["ports"][0]["inbound"]
    assert inbound["effective"]["enforcer"] == "OVS (written by libvirt)"
    assert [x["enforcer"] for x in inbound["layers"]] == ["OVS (written by libvirt)"]
    outbound = _server(data, "vm_resquota")["ports"][0]["outbound"]
    assert (outbound["effective"]["rate"], outbound["effective"]["burst"]) == (3000000, 38400)


def test_explain_table_through_the_real_process(run_vmqos: Proc) -> None:
    proc = run_vmqos("explain", "examples/seed.yaml")
    assert (proc.returncode, proc.stderr) == (0, "")
    for text in ("vm_normal", "vm_resquota", "bw-limiter", SEED_TAP, "pike-rhel7"):
        assert text in proc.stdout, text


# --------------------------------------------------------------------------------------------
# plan, demo

SEED_TAP_INBOUND_TC = [
    "tc qdisc del dev tapbb8410ad-a0 root",
    "tc qdisc del dev tapbb8410ad-a0 ingress",
    "tc qdisc add dev tapbb8410ad-a0 root handle 1: htb default 1",
    "tc class add dev tapbb8410ad-a0 parent 1: classid 1:1 htb rate 32768kbps ceil 65536kbps "
    "burst 131072kb quantum 2796",
    "tc qdisc add dev tapbb8410ad-a0 parent 1:1 handle 2: sfq perturb 10",
    "tc filter add dev tapbb8410ad-a0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
]


def test_plan_vm_resquota(vmqos: Run) -> None:
    out = vmqos("plan", "examples/seed.yaml", "--server", "vm_resquota")
    assert (out.code, out.stderr) == (0, "")
    lines = out.lines
    # The seed's own QEMU option, verbatim (same instance UUID).
    assert "-drive " + qemu_drive_option("m1.resquota") in lines
    start = lines.index(SEED_TAP_INBOUND_TC[0])
    assert lines[start:start + 6] == SEED_TAP_INBOUND_TC
    assert ("echo 512 > '/sys/fs/cgroup/cpu/machine.slice/"
            "machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope/cpu.shares'") in lines
    assert ("ovs-vsctl set Interface tapbb8410ad-a0 ingress_policing_rate=3000 "
            "ingress_policing_burst=300") in lines
    assert "vm_normal" not in out.stdout


def test_plan_server_by_id(vmqos: Run) -> None:
    by_name = vmqos("plan", SEED_YAML, "--server", "vm_resquota")
    by_id = vmqos("plan", SEED_YAML, "--server", "850724a4-029c-457b-a99d-3a18e8e413da")
    assert by_id.code == 0
    assert by_id.stdout == by_name.stdout


def test_plan_json(vmqos: Run) -> None:
    out = vmqos("plan", SEED_YAML, "--format", "json")
    assert (out.code, out.stderr) == (0, "")
    plans = json.loads(out.stdout)
    assert isinstance(plans, list)
    assert len(plans) == 2
    text = json.dumps(plans)
    for needle in ("vm_normal", "vm_resquota", SEED_TAP_INBOUND_TC[3],
                   "throttling.bps-read=1000000,throttling.bps-write=1024000"):
        assert needle in text, needle


def test_plan_unknown_server_through_the_real_process(run_vmqos: Proc) -> None:
    proc = run_vmqos("plan", "examples/seed.yaml", "--server", "nope")
    assert_user_error(proc.returncode, proc.stderr, "--server", "'nope'", "vm_normal",
                      "vm_resquota")
    assert proc.stdout == ""


def test_demo_through_the_real_process(run_vmqos: Proc) -> None:
    proc = run_vmqos("demo")
    assert (proc.returncode, proc.stderr) == (0, "")
    for needle in ("vm_normal", "vm_resquota", "bw-limiter", SEED_TAP_INBOUND_TC[3],
                   "throttling.bps-read=1000000,throttling.bps-write=1024000"):
        assert needle in proc.stdout, needle


# --------------------------------------------------------------------------------------------
# Bad scenario files: exit 2, one line, no traceback — through the real process once each
# for explain and plan, in-process for the rest.


def test_missing_file_through_the_real_process(run_vmqos: Proc, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    proc = run_vmqos("explain", missing)
    assert_user_error(proc.returncode, proc.stderr, str(missing), "No such file or directory")


def test_missing_file_plan(vmqos: Run, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    out = vmqos("plan", missing)
    assert_user_error(out.code, out.stderr, str(missing), "No such file or directory")


def test_invalid_yaml(vmqos: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("flavors: [1, 2\nservers: }\n", encoding="utf-8")
    for command in ("explain", "plan"):
        out = vmqos(command, bad)
        assert_user_error(out.code, out.stderr, str(bad), "not valid YAML", "line")


@pytest.mark.parametrize(("text", "needles"), [
    ("[]", ("scenario", "mapping")),
    ("servers: 5", ("servers", "list")),
    ("profile: nope", ("profile", "'nope'", "pike-rhel7")),
    ("neutron_backend: nope", ("neutron_backend", "'nope'", "ovs")),
    ("flavors: [{name: f, vcpus: -1}]", ("flavors[0].vcpus", "-1")),
    ("servers: [{name: s, flavor: missing}]", ("servers[0].flavor", "'missing'")),
    ("policies: [{name: p, rules: [{type: dscp_marking, dscp_mark: 3}]}]",
     ("policies[0].rules[0]", "dscp_mark", "3")),
])
def test_bad_scenario_documents(vmqos: Run, tmp_path: Path, text: str,
                                needles: tuple[str, ...]) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    out = vmqos("explain", path)
    assert_user_error(out.code, out.stderr, *needles)


def _seed_with(tmp_path: Path, old: str, new: str) -> Path:
    text = SEED_YAML.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "seed-variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_bad_extra_spec_in_scenario_names_its_flavor_and_value(vmqos: Run,
                                                               tmp_path: Path) -> None:
    path = _seed_with(tmp_path, 'quota:cpu_shares: "512"', 'quota:cpu_shares: "-1"')
    out = vmqos("explain", path)
    assert_user_error(out.code, out.stderr, "flavors[1]", "'-1'",
                      "is less than the min value of '0'")


def test_bad_extra_spec_in_scenario_names_the_key(vmqos: Run, tmp_path: Path) -> None:
    """BUG (intent/scenario_parse.py `_prefixed`, used for `{path}.properties`): the message
    is `flavors[1].properties: Validation failed; '-1' is less than the min value of '0'.` —
    Nova's text never names the key, and among m1.resquota's nine quota:* properties the user
    cannot tell which one is wrong. The exception carries `key='quota:cpu_shares'`; the prefix
    should use it, e.g. `flavors[1].properties['quota:cpu_shares']: Validation failed; ...`."""
    path = _seed_with(tmp_path, 'quota:cpu_shares: "512"', 'quota:cpu_shares: "-1"')
    out = vmqos("explain", path)
    assert_user_error(out.code, out.stderr, "quota:cpu_shares", "'-1'")


def test_bad_extra_spec_in_scenario_says_what_is_allowed(vmqos: Run, tmp_path: Path) -> None:
    path = _seed_with(tmp_path, 'quota:cpu_shares: "512"', 'quota:cpu_shares: "abc"')
    out = vmqos("explain", path)
    assert_user_error(out.code, out.stderr, "flavors[1].properties['quota:cpu_shares']",
                      "Validation failed; 'abc' is not a valid integer value.",
                      "Allowed: an integer >= 0.")


# --------------------------------------------------------------------------------------------
# --keep-going: each bad element is set aside with a finding, the rest is explained (exit 0;
# --strict exits 1 on any error-severity finding).


def _set_aside(data: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [(e["element"], e["name"], e["finding"]["code"], e["finding"]["key"],
             e["finding"]["value"]) for e in data["set_aside"]]


def test_keep_going_sets_aside_a_flavor_whose_spec_fails_the_boot(vmqos: Run,
                                                                  tmp_path: Path) -> None:
    path = _seed_with(tmp_path, 'quota:cpu_shares: "512"', 'quota:cpu_shares: "abc"')
    data = _explain_json(vmqos, path, "--keep-going")
    assert [s["name"] for s in data["servers"]] == ["vm_normal"]
    assert _set_aside(data) == [
        ("flavor", "m1.resquota", "flavor-fails-boot", "quota:cpu_shares", "abc"),
        ("server", "vm_resquota", "server-depends-on-set-aside", "servers[1].flavor",
         "m1.resquota"),
    ]
    finding = data["set_aside"][0]["finding"]
    assert finding["severity"] == "error"
    # What 2.86 says, verbatim, and what the libvirt driver does instead.
    assert "(Validation failed; 'abc' is not a valid integer value.)" in finding["reason"]
    assert ("nova/virt/libvirt/driver.py _update_guest_cputune int()s the value"
            in finding["reason"])
    assert "an integer >= 0" in finding["advice"]
    # The good server is explained exactly as without the bad flavor.
    assert data["servers"] == _explain_json(vmqos, SEED_YAML)["servers"][:1]


def test_keep_going_explains_a_flavor_without_the_spec_libvirt_ignores(
        vmqos: Run, tmp_path: Path) -> None:
    """quota:disk_read_bytes_sec_max is no Nova key (2.86 refuses it); Image.disk_qos reads
    only the six sustained disk keys, so the instance boots without it."""
    path = _seed_with(tmp_path, 'quota:disk_read_bytes_sec: "1000000"',
                      'quota:disk_read_bytes_sec: "1000000"\n'
                      '      quota:disk_read_bytes_sec_max: "1"')
    data = _explain_json(vmqos, path, "--keep-going")
    assert _set_aside(data) == [
        ("extra_spec", "m1.resquota", "extra-spec-ignored-by-libvirt",
         "quota:disk_read_bytes_sec_max", "1")]
    assert ("extra spec 'quota:disk_read_bytes_sec_max' does not appear to be a valid extra "
            "spec." in data["set_aside"][0]["finding"]["reason"])
    assert data["servers"] == _explain_json(vmqos, SEED_YAML)["servers"]
    # Without --keep-going it is still Nova's 2.86 refusal.
    out = vmqos("explain", path)
    assert_user_error(out.code, out.stderr, "quota:disk_read_bytes_sec_max")


def test_keep_going_explains_a_policy_without_its_bad_rule(vmqos: Run, tmp_path: Path) -> None:
    path = _seed_with(tmp_path, "max_kbps: 3000", "max_kbps: -3")
    data = _explain_json(vmqos, path, "--keep-going")
    assert _set_aside(data) == [("rule", "bw-limiter", "rule-invalid", "max_kbps", "-3")]
    assert data["set_aside"][0]["finding"]["reason"].startswith(
        "policies[0].rules[0]: Invalid input for max_kbps. Reason: '-3' is too small - must be "
        "at least '0'.")
    port = _server(data, "vm_resquota")["ports"][0]
    assert port["policy"] == "bw-limiter"  # still the ports' policy, now without a rule
    # Without bw-limiter's rule no OVS policing is left; the flavor's tc policer is still
    # gone (ovs-vswitchd deletes the ingress qdisc of a tap in br-int either way).
    outbound = port["outbound"]
    assert [x["enforcer"] for x in outbound["layers"]] == ["tc on the tap"]
    assert [x["enforcer"] for x in outbound["overridden"]] == ["tc on the tap"]
    assert outbound["effective"] is None


def test_keep_going_sets_aside_what_depends_on_an_element_set_aside(
        vmqos: Run, tmp_path: Path) -> None:
    """A network whose policy is set aside is set aside, and so are its ports and their
    servers: nothing is explained from a guess."""
    path = _seed_with(tmp_path, "  - name: bw-limiter\n", "  - name: bw-limiter\n"
                                                          "    shared: maybe\n")
    text = path.read_text(encoding="utf-8").replace(
        "  - name: provider_test16\n", "  - name: provider_test16\n    qos_policy: bw-limiter\n")
    path.write_text(text, encoding="utf-8")
    data = _explain_json(vmqos, path, "--keep-going")
    assert data["servers"] == []
    codes = [(e, n, c) for e, n, c, _k, _v in _set_aside(data)]
    assert codes[:2] == [("policy", "bw-limiter", "policy-invalid"),
                         ("network", "provider_test16", "network-depends-on-set-aside")]
    assert ("port", "78f00f22-370b-47c2-a721-a47cbbd434d0",
            "port-depends-on-set-aside") in codes
    assert codes[-2:] == [("server", "vm_normal", "server-depends-on-set-aside"),
                          ("server", "vm_resquota", "server-depends-on-set-aside")]


def test_keep_going_sets_aside_a_server_whose_flavor_is_gone(vmqos: Run,
                                                            tmp_path: Path) -> None:
    path = _seed_with(tmp_path, "flavor: m1.normal", "flavor: m1.gone")
    data = _explain_json(vmqos, path, "--keep-going")
    assert [s["name"] for s in data["servers"]] == ["vm_resquota"]
    assert _set_aside(data) == [("server", "vm_normal", "server-invalid", "servers[0].flavor",
                                 "m1.gone")]
    assert data["set_aside"][0]["finding"]["reason"].startswith(
        "servers[0].flavor: no flavor named 'm1.gone'")


def test_keep_going_table_and_strict(run_vmqos: Proc, tmp_path: Path) -> None:
    path = _seed_with(tmp_path, 'quota:cpu_shares: "512"', 'quota:cpu_shares: "abc"')
    table = run_vmqos("explain", path, "--keep-going")
    assert (table.returncode, table.stderr) == (0, "")
    for needle in ("vm_normal", "set aside, not explained (2)", "quota:cpu_shares", "= abc",
                   "flavor-fails-boot"):
        assert needle in table.stdout, needle
    assert "### vm_resquota" not in table.stdout
    strict = run_vmqos("explain", path, "--keep-going", "--strict")
    assert strict.returncode == 1
    assert strict.stdout == table.stdout  # the whole explanation, then the verdict
    assert strict.stderr == ("vmqos: error: --strict: 2 error-severity finding(s), 2 "
                             "element(s) set aside\n")


def test_strict_passes_a_scenario_with_warnings_only(vmqos: Run) -> None:
    # The seed's findings are warnings (tests above): --strict has nothing to fail on.
    out = vmqos("explain", SEED_YAML, "--strict", "--format", "json")
    assert (out.code, out.stderr) == (0, "")
    assert json.loads(out.stdout)["set_aside"] == []


def test_keep_going_server_option_names_a_server_set_aside(vmqos: Run, tmp_path: Path) -> None:
    path = _seed_with(tmp_path, 'quota:cpu_shares: "512"', 'quota:cpu_shares: "abc"')
    data = _explain_json(vmqos, path, "--keep-going", "--server", "vm_resquota")
    assert data["servers"] == []
    assert ("server", "vm_resquota") in [(e, n) for e, n, *_ in _set_aside(data)]


def test_duplicate_rule_in_scenario_policy(vmqos: Run, tmp_path: Path) -> None:
    path = _seed_with(tmp_path, "        max_burst_kbps: 300\n",
                      "        max_burst_kbps: 300\n"
                      "      - type: bandwidth_limit\n"
                      "        max_kbps: 1000\n")
    out = vmqos("plan", path)
    assert_user_error(out.code, out.stderr, "policies[0].rules[1]",
                      "Rule bandwidth_limit conflicts with rule")


def test_non_utf8_scenario_is_a_user_error(vmqos: Run, tmp_path: Path) -> None:
    """BUG (cli/main.py `load_scenario`: `Path(path).read_text()` catches only OSError): a
    file that is not UTF-8 (here UTF-16 with a BOM, as some Windows editors save YAML) raises
    UnicodeDecodeError, which reaches the bug boundary: exit 70 and a traceback. It is bad
    input: exit 2 with `cannot read scenario '<path>': not UTF-8 ...`. Suggested fix:
    `read_text(encoding="utf-8")` and catch `(OSError, UnicodeDecodeError)`."""
    path = tmp_path / "utf16.yaml"
    path.write_bytes("profile: pike-rhel7\n".encode("utf-16"))
    out = vmqos("explain", path)
    assert_user_error(out.code, out.stderr, str(path))


def test_scenario_that_is_a_directory_is_one_error_line(vmqos: Run, tmp_path: Path) -> None:
    """BUG (cli/main.py, `except click.ClickException: exc.show()`): click's own usage errors
    print four lines (`Usage:`, `Try ...`, blank, `Error: ...`) instead of one
    `vmqos: error:` line. Exit code 2 and the absence of a traceback already hold."""
    out = vmqos("explain", tmp_path)
    assert out.code == 2
    assert "Traceback" not in out.stderr
    assert_user_error(out.code, out.stderr, str(tmp_path))


# --------------------------------------------------------------------------------------------
# The command as a whole.


def test_bug_boundary_exit_70_with_traceback_through_a_real_process() -> None:
    """A command that raises a non-vmqos exception stands in for a bug: it runs the real error
    boundary (vmqos.cli.main.main, the entry point's body) in a real Python process. Nothing
    of vmqos is replaced; the test only adds a command to the real group."""
    script = textwrap.dedent("""
        import sys
        from vmqos.cli.main import cli, main

        @cli.command("explode")
        def explode() -> None:
            raise RuntimeError("deliberate failure standing in for a bug")

        sys.exit(main(["explode"]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 70
    assert proc.stderr.startswith("Traceback (most recent call last):")
    assert "RuntimeError: deliberate failure standing in for a bug" in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "vmqos: internal error (a bug): please report the traceback above")


def test_version(vmqos: Run) -> None:
    out = vmqos("--version")
    assert out.code == 0
    assert re.fullmatch(r"vmqos, version \d+\.\d+\.\d+\S*\n", out.stdout)


def test_top_level_help_through_the_real_process(run_vmqos: Proc) -> None:
    proc = run_vmqos("--help")
    assert (proc.returncode, proc.stderr) == (0, "")
    for command in ("demo", "explain", "plan", "render", "validate"):
        assert re.search(rf"^\s+{command}\s", proc.stdout, re.MULTILINE), command
        assert re.search(rf"^\s+vmqos {command}(\s|$)", proc.stdout, re.MULTILINE), command


@pytest.mark.parametrize("command", ["explain", "plan", "demo"])
def test_help_exits_0(vmqos: Run, command: str) -> None:
    out = vmqos(command, "-h")
    assert (out.code, out.stderr) == (0, "")
    assert out.stdout.startswith(f"Usage: vmqos {command} [OPTIONS]")


@pytest.mark.parametrize("command", ["explain", "plan", "demo"])
def test_help_shows_an_example(vmqos: Run, command: str) -> None:
    """BUG for `plan` and `demo` (cli/main.py docstrings): the README promises "Every command
    has `--help` with examples"; only `explain`'s help has one."""
    out = vmqos(command, "--help")
    assert re.search(rf"^\s+vmqos {command}(\s|$)", out.stdout, re.MULTILINE), out.stdout


def test_explain_help_teaches_keep_going_and_strict(vmqos: Run) -> None:
    out = vmqos("explain", "--help")
    for flag in ("--keep-going", "--strict"):
        assert re.search(rf"^\s+vmqos explain .*{flag}", out.stdout, re.MULTILINE), flag
        assert re.search(rf"^\s+{flag}\s", out.stdout, re.MULTILINE), flag


def test_unknown_command_exits_2(vmqos: Run) -> None:
    out = vmqos("nope")
    assert out.code == 2
    assert "Traceback" not in out.stderr
    assert "nope" in out.stderr


# --- explain --predict (vmqos.plan.predict) ---------------------------------------------------


def test_explain_predict_prints_the_seed_inbound_sentence(vmqos: Run) -> None:
    out = vmqos("explain", "--server", "vm_resquota", "--predict")
    assert (out.code, out.stderr) == (0, ""), out.stderr
    # Issue 9's sentence; 250.7 where it has 250.6 (the 1448/1514 factor unrounded).
    assert (f"  {SEED_TAP} inbound: 1 GiB to vm_resquota takes 30.2 s — 4.1 s at ~501 Mbit/s "
            "of goodput while the 128 MiB burst lasts, then 250.7 Mbit/s\n") in out.stdout
    assert f"  {SEED_TAP} outbound: 1 GiB from vm_resquota takes 2993.7 s at 2.869 Mbit/s" \
        in out.stdout
    assert "  vm_resquota vda bytes: read 1 GiB on vda takes 1073.6 s at 1 MB/s" in out.stdout
    # One server alone on a CPU has no share to predict.
    assert " CPU: weight" not in out.stdout
    assert "predicted before measuring" not in vmqos("explain", "--server", "vm_resquota").stdout


def test_explain_predict_json(vmqos: Run) -> None:
    data = _explain_json(vmqos, "--predict", "128MiB")
    prediction = data["prediction"]
    assert prediction["size"] == 128 << 20
    assert prediction["line_rate"] is None
    inbound = [p for p in prediction["ports"] if p["device"] == SEED_TAP
               and p["direction"] == "inbound"]
    (first,) = inbound
    phases = first["curve"]["phases"]
    assert [p["duration"] is None for p in phases] == [False, False, True]
    assert phases[1]["rate"] == pytest.approx(65_536_000 * 1448 / 1514)
    assert phases[2]["start"] == pytest.approx(4.096, abs=1e-3)
    # vm_normal has no limit: only vm_resquota's six port directions are predicted.
    assert {p["server"] for p in prediction["ports"]} == {"vm_resquota"}
    assert len(prediction["ports"]) == 6
    assert [(c["server"], c["weight"], round(c["share"], 4)) for c in prediction["cpu"]] == [
        ("vm_normal", 1024, 0.6667), ("vm_resquota", 512, 0.3333)]
    assert {(d["op"], d["unit"]) for d in prediction["disks"]} == {
        ("read", "bytes"), ("write", "bytes")}
    assert "prediction" not in _explain_json(vmqos)


def test_explain_predict_refuses_a_bad_size(vmqos: Run) -> None:
    out = vmqos("explain", "--predict", "lots")
    assert_user_error(out.code, out.stderr, "--predict", "'lots'", "GiB")
