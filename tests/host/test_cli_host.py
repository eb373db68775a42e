"""``vmqos host facts``, ``vmqos apply`` and ``vmqos cleanup`` through the real entry point
(in-process ``main(argv)``; the non-root case as a real process under another uid)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.proc import netns_names, vmqos_exe
from vmqos.cli.main import main
from vmqos.host.state import SandboxConfig


def vmqos(*args: str) -> tuple[int, str, str]:
    with CliRunner().isolation() as (out, err, _mixed):
        code = main(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
    return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture
def env(config: SandboxConfig, monkeypatch: pytest.MonkeyPatch) -> SandboxConfig:
    monkeypatch.setenv("VMQOS_PREFIX", config.prefix)
    monkeypatch.setenv("VMQOS_STATE_DIR", str(config.state_dir))
    assert config.host_netns is not None
    monkeypatch.setenv("VMQOS_HOST_NETNS", config.host_netns)
    return config


def test_host_facts_json() -> None:
    code, out, err = vmqos("host", "facts", "--format", "json")
    assert code == 0, err
    facts = json.loads(out)
    assert facts["probed"] is True
    assert "htb" in facts["qdiscs"] and "u32" in facts["classifiers"]
    assert facts["psched_text"] == Path("/proc/net/psched").read_text().strip()
    code, out, _ = vmqos("host", "facts")
    assert code == 0 and out.startswith("kernel ")


def test_apply_twice_then_cleanup(env: SandboxConfig) -> None:
    code, out, err = vmqos("apply", "--server", "vm_resquota")
    assert code == 0, err
    assert "vm_resquota (m1.resquota): sandbox created" in out
    assert "33 change(s)" in out
    assert "tc qdisc add dev tapbb8410ad-a0 root handle 1: htb default 1" in out
    for code_name in ("[ifb-for-police]", "[pfifo-for-sfq]", "[htb-default-for-fw]",
                      "[blkio-for-qemu]", "[enforcer-on-tap]"):
        assert code_name in out
    code, out, err = vmqos("apply", "--server", "vm_resquota", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    (record,) = doc["instances"]
    assert record["changed"] is False and record["actions"] == []
    assert record["sandbox"]["ports"][0]["tap"] == "tapbb8410ad-a0"
    assert {s["code"] for s in record["substitutions"]} >= {"ifb-for-police"}
    code, out, err = vmqos("cleanup")
    assert code == 0, err
    assert "removed namespace " + f"{env.prefix}-vm_resquota" in out
    assert f"{env.prefix}-vm_resquota" not in netns_names()
    code, out, _ = vmqos("cleanup")
    assert code == 0 and out.startswith("nothing to clean up")


def test_apply_unknown_server_is_a_user_error(env: SandboxConfig) -> None:
    code, _, err = vmqos("apply", "--server", "nope")
    assert code == 2 and "no server named 'nope'" in err


def _as_nobody(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``vmqos`` run as uid/gid 65534, with a state directory it must not create."""
    return subprocess.run(
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", vmqos_exe(),
         *args],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "VMQOS_STATE_DIR": str(tmp_path / "never")})


def test_without_root_prints_the_plan_and_what_it_needed(tmp_path: Path) -> None:
    done = _as_nobody(tmp_path, "apply", "--server", "vm_resquota")
    assert done.returncode == 1, done.stderr
    assert "vm_resquota: would run" in done.stdout
    # no probe without root: planned for a host with libvirt's whole program
    assert "tc qdisc add dev tapbb8410ad-a0 parent 1:1 handle 2: sfq perturb 10" in done.stdout
    assert "needs root" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "never").exists()


def test_lab_without_root_keeps_json_on_stdout(tmp_path: Path) -> None:
    done = _as_nobody(tmp_path, "lab", "--format", "json")
    assert done.returncode == 1, done.stderr
    plan = json.loads(done.stdout)              # the dry-run plan, nothing else on stdout
    assert plan["applied"] is False
    assert {i["instance"] for i in plan["instances"]} == {"vm_normal", "vm_resquota"}
    assert "needs root" in done.stderr
