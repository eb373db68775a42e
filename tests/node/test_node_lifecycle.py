"""A reference node's life: booted, stopped, interrupted, killed — bounded, and nothing left
behind (no QEMU, no virtiofsd of the node, no socket, no record), whoever ends it how.

Each test boots its own node beside the session's; `leftovers` looks for the node's processes
by their command lines, as vmqos.node.process does, and for its sockets and record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from node_tool import BOOT_TIMES, leftovers, start_in_child, wait_for

from vmqos.errors import NodeError, NodeTimeoutError
from vmqos.node.config import NodeConfig, NodeImage
from vmqos.node.lifecycle import Node, node_status, stop_node
from vmqos.node.process import is_alive

NOTHING: dict[str, list[str]] = {"processes": [], "files": []}


def _record_pids(config: NodeConfig) -> list[int]:
    record = node_status(config).record
    return [p.pid for p in record.processes] if record else []


def test_start_run_stop_leaves_nothing(node_state_dir: Path, node_image: NodeImage) -> None:
    config = NodeConfig(name="t-stop", state_dir=node_state_dir)
    node = Node.start(config, image=node_image)
    pids = [p.pid for p in node.record.processes]
    try:
        assert node_status(config).state == "running"
        assert {p.role for p in node.record.processes} == {"qemu", "virtiofsd"}
        assert leftovers(config)["processes"] == sorted(str(p) for p in pids)
        assert node.run(["true"]).exit_status == 0
    finally:
        began = time.monotonic()
        node.stop()
    BOOT_TIMES["own node"] = node.record.boot_seconds or 0.0
    assert time.monotonic() - began < config.shutdown_timeout_s
    assert leftovers(config) == NOTHING
    assert not any(is_alive(pid) for pid in pids)
    assert node_status(config).state == "stopped"
    assert "agent exited with status 0" in config.paths.console_log.read_text()


def test_a_second_start_of_a_running_node_is_refused(node: Node) -> None:
    with pytest.raises(NodeError) as caught:
        Node.start(node.config)
    assert "already running by pid" in str(caught.value)
    assert node.run(["true"]).exit_status == 0


def test_sigkill_of_the_owner_then_a_new_start_cleans_up(node_state_dir: Path,
                                                         node_image: NodeImage) -> None:
    config = NodeConfig(name="t-kill", state_dir=node_state_dir)
    child = start_in_child(config)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("booted"), child.stderr.read() if child.stderr else line
        old = _record_pids(config)
        assert len(old) == 2
    finally:
        child.kill()           # SIGKILL: no cleanup of its own
        child.wait()
    # The node outlives its owner: found, and recognised as stale.
    assert all(is_alive(pid) for pid in old)
    assert node_status(config).state == "stale"
    node = Node.start(config, image=node_image)
    try:
        assert not any(is_alive(pid) for pid in old)
        assert node.run(["true"]).exit_status == 0
    finally:
        node.stop()
    assert leftovers(config) == NOTHING


def test_ctrl_c_while_booting_leaves_nothing(node_state_dir: Path,
                                            node_image: NodeImage) -> None:
    config = NodeConfig(name="t-int", state_dir=node_state_dir)
    child = start_in_child(config)
    try:
        wait_for(lambda: len(_record_pids(config)) == 2, 60, "QEMU started by the child")
        child.send_signal(signal.SIGINT)
        child.wait(timeout=config.shutdown_timeout_s + 20)
    finally:
        child.kill()
        child.wait()
    assert child.returncode != 0
    assert leftovers(config) == NOTHING


def test_a_boot_timeout_is_reported_with_the_console_and_cleaned_up(
        node_state_dir: Path, node_image: NodeImage) -> None:
    config = replace(NodeConfig(name="t-slow", state_dir=node_state_dir), boot_timeout_s=1.0)
    began = time.monotonic()
    with pytest.raises(NodeTimeoutError) as caught:
        Node.start(config, image=node_image)
    assert time.monotonic() - began < 1.0 + config.shutdown_timeout_s
    assert "did not boot within 1 s" in str(caught.value)
    assert caught.value.console_path == str(config.paths.console_log)
    assert leftovers(config) == NOTHING


def test_stop_of_a_node_that_is_not_running_is_harmless(node_state_dir: Path) -> None:
    config = NodeConfig(name="t-none", state_dir=node_state_dir)
    assert stop_node(config) is False
    assert leftovers(config) == NOTHING


def test_the_cli_starts_runs_and_stops_a_detached_node(node_state_dir: Path,
                                                       node_image: NodeImage) -> None:
    env = {**os.environ, "VMQOS_STATE_DIR": str(node_state_dir)}
    vmqos = [sys.executable, "-m", "vmqos.cli.main"]

    def cli(command: str, *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*vmqos, "node", command, "--name", "t-cli", *args], env=env,
                              text=True, capture_output=True, timeout=timeout, check=False)

    config = NodeConfig(name="t-cli", state_dir=node_state_dir)
    try:
        started = cli("start")
        assert started.returncode == 0, started.stderr
        assert "running: kernel 6.1.0-57-cloud-amd64" in started.stdout
        assert node_status(config).state == "running"    # the CLI process is gone
        ran = cli("run", "--", "sh", "-c", "echo out; echo err >&2; exit 5", timeout=120)
        assert (ran.returncode, ran.stdout, ran.stderr) == (5, "out\n", "err\n")
        timed = cli("run", "--timeout", "1", "--", "sleep", "30", timeout=120)
        assert timed.returncode == 124 and "did not finish within 1 s" in timed.stderr
        status = cli("status", "--format", "json")
        assert '"state": "running"' in status.stdout
    finally:
        stopped = cli("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stderr
    assert leftovers(config) == NOTHING
    after = cli("run", "--", "true", timeout=60)
    assert after.returncode == 1 and "node 't-cli' is not running" in after.stderr


def test_stop_escalates_when_the_guest_does_not_answer(node_state_dir: Path,
                                                       node_image: NodeImage) -> None:
    """A frozen QEMU (SIGSTOP: the guest cannot answer poweroff, SIGTERM stays pending) is
    still gone within the bound: poweroff's wait, SIGTERM's wait, then SIGKILL."""
    config = NodeConfig(name="t-hung", state_dir=node_state_dir)
    node = Node.start(config, image=node_image)
    qemu = node.record.process("qemu")
    assert qemu is not None
    os.kill(qemu.pid, signal.SIGSTOP)
    began = time.monotonic()
    node.stop()
    took = time.monotonic() - began
    assert took < 10 + 5 + 5 + 5, took
    assert took >= 10          # it did ask, and wait for, the agent first
    assert leftovers(config) == NOTHING


def test_a_guest_that_dies_while_booting_is_reported_with_its_console(
        node_state_dir: Path, node_image: NodeImage) -> None:
    """An agent that cannot start (no such interpreter in the shared root): init says so on
    the console and reboots, QEMU ends, and the error shows the console's last lines."""
    config = replace(NodeConfig(name="t-dies", state_dir=node_state_dir),
                     python="/nonexistent/python3")
    with pytest.raises(NodeError) as caught:
        Node.start(config, image=node_image)
    assert not isinstance(caught.value, NodeTimeoutError)
    assert "node 't-dies' ended while booting" in str(caught.value)
    assert "vmqos-node: agent exited with status 127" in caught.value.console_tail
    assert caught.value.console_tail in str(caught.value)
    assert leftovers(config) == NOTHING
