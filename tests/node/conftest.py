"""The reference node for tests: one booted per session, plus helpers for the lifecycle tests
that boot (and kill) their own.

A missing install step fails (scripts/setup.sh --with-libvirt installs QEMU, busybox-static
and cpio); only a QEMU that is installed but cannot start a TCG machine here skips, saying
what QEMU said. Every node lives under a short per-session state directory (unix socket paths
are limited to 107 bytes) and uses the shared kernel cache, so the kernel is fetched once per
machine. A failing boot's error carries the guest console's tail.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from node_tool import BOOT_TIMES

from vmqos.node.config import NodeConfig, NodeImage
from vmqos.node.image import ensure_image
from vmqos.node.lifecycle import Node


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


@pytest.fixture(scope="session")
def node_state_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vmqos-node-", dir="/tmp"))
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
