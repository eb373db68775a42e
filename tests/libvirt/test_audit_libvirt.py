"""`vmqos audit` against a real libvirtd and real QEMU: the XML libvirt keeps, the cgroup
values it enforces (virsh schedinfo) and QEMU's block throttling (virsh blkdeviotune).

Drift is made the way it happens on compute nodes: by hand underneath libvirt (a write to the
domain's cgroup, a QMP command straight to QEMU) and through libvirt (virsh blkdeviotune
--live). The oracle for each is the real tool's own view, read independently of vmqos.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from libvirt_tool import virsh

from support.proc import vmqos_exe
from vmqos.intent.scenario_parse import parse_scenario
from vmqos.plan.render.domain_xml import render_domain_xml
from vmqos.plan.server_plan import compile_server_plan
from vmqos.profile import get_profile

Make = Callable[[str, bool], str]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """The seed scenario with instance names of its own, so that parallel runs and domains
    already on the host never meet."""
    text = resources.files("vmqos.scenarios").joinpath("seed.yaml").read_text()
    tag = secrets.token_hex(3)
    text = text.replace("instance-00000041", f"instance-41{tag}")
    text = text.replace("instance-00000042", f"instance-42{tag}")
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    return path


def _nova_xml(scenario: Path, server: str) -> str:
    loaded = parse_scenario(yaml.safe_load(scenario.read_text()))
    plan = compile_server_plan(loaded, next(s for s in loaded.servers if s.name == server),
                               get_profile(loaded.profile))
    return render_domain_xml(plan.domain)


def _audit(scenario: Path, server: str, tmp_path: Path,
           **env: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [vmqos_exe(), "audit", str(scenario), "--server", server, "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "VMQOS_STATE_DIR": str(tmp_path / "state"),
             "VMQOS_PREFIX": f"vmqos-v{os.getpid()}", **env})
    assert done.returncode in (0, 1), done.stderr
    [result] = json.loads(done.stdout)["servers"]
    return done.returncode, result


def _disk_lines(result: dict[str, Any]) -> list[str]:
    return [line for line in result["libvirt"]["differences"] if line.startswith("disk ")]


def _cgroup_dir(name: str, controller: str) -> Path:
    """The domain's cgroup directory, from its QEMU process's /proc/PID/cgroup."""
    pid = int(Path(f"/run/libvirt/qemu/{name}.pid").read_text())
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            # QEMU's main thread sits in the domain's emulator sub-cgroup.
            return Path("/sys/fs/cgroup", controller, path.lstrip("/")).parent
    raise AssertionError(f"no {controller} cgroup for {name}")


def test_a_running_domain_in_sync_then_drifted_under_libvirt(
        domains: Make, scenario: Path, tmp_path: Path) -> None:
    name = domains(_nova_xml(scenario, "vm_normal"), True)
    code, result = _audit(scenario, "vm_normal", tmp_path)
    assert code == 0, result
    assert result["libvirt"]["status"] == "in sync"
    assert result["libvirt"]["detail"] == f"domain {name}, paused"
    assert result["instance"]["status"] == "absent"      # no vmqos sandbox: libvirt's alone

    # Someone writes the cgroup by hand: libvirt's XML still says 1024, the kernel 2048.
    shares = _cgroup_dir(name, "cpu") / "cpu.shares"
    assert shares.read_text().strip() == "1024"          # libvirt enforced Nova's value
    shares.write_text("2048")
    assert "<shares>1024</shares>" in virsh("dumpxml", name)
    code, result = _audit(scenario, "vm_normal", tmp_path)
    assert code == 1
    assert result["drifted"] is True
    assert result["libvirt"]["differences"] == [
        "cgroup cpu shares (virsh schedinfo): want 1024, enforced 2048"]


def test_qemu_throttling_drift_with_and_without_libvirt(
        domains: Make, scenario: Path, tmp_path: Path) -> None:
    name = domains(_nova_xml(scenario, "vm_resquota"), True)
    # Started without <bandwidth> (libvirt's tc program needs sfq, missing here): exactly
    # that is reported, while <cputune>, <iotune> and what QEMU enforces match the plan.
    code, result = _audit(scenario, "vm_resquota", tmp_path)
    assert code == 1
    differences = result["libvirt"]["differences"]
    assert len(differences) == 6                          # 3 ports x 2 directions
    assert all(re.fullmatch(r"interface fa:16:3e:\w\w:\w\w:\w\w <bandwidth><(in|out)bound>: "
                            r"want average=32768 peak=65536 burst=131072, running none", line)
               for line in differences), differences
    assert "write_bytes_sec: 1024000" in virsh("blkdeviotune", name, "vda")

    # QMP straight to QEMU: the XML keeps 1024000, QEMU throttles writes to 5000 B/s.
    query = json.loads(virsh("qemu-monitor-command", name, '{"execute": "query-block"}'))
    qdev = query["return"][0]["qdev"]
    virsh("qemu-monitor-command", name, json.dumps({
        "execute": "block_set_io_throttle", "arguments": {
            "id": qdev, "bps": 0, "bps_rd": 1000000, "bps_wr": 5000, "iops": 0, "iops_rd": 0,
            "iops_wr": 0}}))
    _, result = _audit(scenario, "vm_resquota", tmp_path)
    assert _disk_lines(result) == [
        "disk vda QEMU throttle write_bytes_sec (virsh blkdeviotune): want 1024000, "
        "enforced 5000"]

    # Through libvirt: both its XML and QEMU change, and both are reported.
    virsh("blkdeviotune", name, "vda", "--live", "--read-bytes-sec", "2000000",
          "--write-bytes-sec", "1024000")
    _, result = _audit(scenario, "vm_resquota", tmp_path)
    assert _disk_lines(result) == [
        "disk vda <iotune><read_bytes_sec>: want 1000000, running 2000000",
        "disk vda QEMU throttle read_bytes_sec (virsh blkdeviotune): want 1000000, "
        "enforced 2000000"]


def test_a_defined_domain_is_audited_from_its_xml(
        domains: Make, scenario: Path, tmp_path: Path) -> None:
    # Defined, not started: libvirt keeps Nova's <bandwidth> on the OVS ports as written.
    name = domains(_nova_xml(scenario, "vm_resquota"), False)
    assert "<inbound average='32768' peak='65536' burst='131072'/>" in virsh("dumpxml", name)
    code, result = _audit(scenario, "vm_resquota", tmp_path)
    assert code == 0, result
    assert result["libvirt"] == {"status": "in sync", "differences": [],
                                 "detail": f"domain {name}, shut off: XML only"}


def test_unreachable_libvirt_is_said_and_a_server_with_nothing_is_missing(
        libvirtd: None, scenario: Path, tmp_path: Path) -> None:
    code, result = _audit(scenario, "vm_normal", tmp_path)
    assert code == 1
    assert result["missing"] is True
    assert result["libvirt"]["status"] == "absent"
    uri = f"qemu+unix:///system?socket={tmp_path}/no-such.sock"
    code, result = _audit(scenario, "vm_normal", tmp_path, LIBVIRT_DEFAULT_URI=uri)
    assert code == 1
    assert result["libvirt"] == {"status": "not audited", "differences": [],
                                 "detail": f"libvirtd not reachable at {uri}"}
