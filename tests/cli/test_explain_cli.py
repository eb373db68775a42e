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


def test_unknown_command_exits_2(vmqos: Run) -> None:
    out = vmqos("nope")
    assert out.code == 2
    assert "Traceback" not in out.stderr
    assert "nope" in out.stderr
