"""The reference node for tests: one booted per session, plus helpers for the lifecycle tests
that boot (and kill) their own.

A missing install step fails (scripts/setup.sh --with-libvirt installs QEMU, busybox-static
and cpio); only a QEMU that is installed but cannot start a TCG machine here skips, saying
what QEMU said. Every node lives under a short per-session state directory (unix socket paths
are limited to 107 bytes) and uses the shared kernel cache, so the kernel is fetched once per
machine. A failing boot's error carries the guest console's tail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from node_tool import BOOT_TIMES, FIGURES

from vmqos.node.config import NodeConfig, NodeImage
from vmqos.node.image import ensure_image
from vmqos.node.lifecycle import Node, node_status, stop_node
from vmqos.node.process import is_alive


def _qemu_starts(qemu: str) -> str | None:
    """None if QEMU can run a TCG machine here, else what it said."""
    proc = subprocess.Popen([qemu, "-machine", "none", "-accel", "tcg", "-nodefaults",
                             "-display", "none", "-no-user-config", "-monitor", "none"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return out.decode(errors="replace").strip() or f"exit status {proc.returncode}"


_SESSION_PREFIX = "vmqos-node-"
_SESSION_FILE = "pytest.pid"


def _clean_dead_sessions() -> None:
    """Stop the nodes of earlier sessions that were killed before their teardown (a pytest
    timeout, a SIGKILL): their state directories are not this session's, so no start here
    would reap them. A directory whose node still runs for a live owner is left alone."""
    for state_dir in Path(tempfile.gettempdir()).glob(f"{_SESSION_PREFIX}*"):
        try:
            session = int((state_dir / _SESSION_FILE).read_text())
        except (OSError, ValueError):
            session = None
        if session is not None and is_alive(session):
            continue
        configs = [NodeConfig(name=run_dir.name, state_dir=state_dir)
                   for run_dir in (state_dir / "node").glob("*") if run_dir.is_dir()]
        if any(node_status(config).state == "running" for config in configs):
            continue
        for config in configs:
            stop_node(config)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def node_state_dir() -> Iterator[Path]:
    _clean_dead_sessions()
    path = Path(tempfile.mkdtemp(prefix=_SESSION_PREFIX, dir=tempfile.gettempdir()))
    (path / _SESSION_FILE).write_text(f"{os.getpid()}\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def node_image(node_state_dir: Path) -> NodeImage:
    config = NodeConfig(name="probe", state_dir=node_state_dir)
    missing = [tool for tool in (config.qemu, config.virtiofsd, "cpio", "/bin/busybox")
               if shutil.which(tool) is None]
    if missing:  # a missing install step must fail, not skip
        pytest.fail(f"not installed: {', '.join(missing)} (scripts/setup.sh --with-libvirt)")
    refusal = _qemu_starts(config.qemu)
    if refusal is not None:
        pytest.skip(f"QEMU is installed but cannot start a TCG machine here: {refusal}")
    return ensure_image(config)


@pytest.fixture(scope="session")
def node_config(node_state_dir: Path) -> NodeConfig:
    return NodeConfig(name="session", state_dir=node_state_dir)


@pytest.fixture(scope="session")
def node(node_config: NodeConfig, node_image: NodeImage) -> Iterator[Node]:
    with Node.start(node_config, image=node_image) as started:
        assert started.record.boot_seconds is not None
        BOOT_TIMES["session node"] = started.record.boot_seconds
        yield started


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if BOOT_TIMES:
        terminalreporter.write_line(
            "reference node boot (start to agent answering): "
            + ", ".join(f"{what} {seconds:.1f} s" for what, seconds in BOOT_TIMES.items()))
    for what, text in FIGURES.items():
        terminalreporter.write_line(f"{what}: {text}")
