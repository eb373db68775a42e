"""Helpers for the reference-node tests: what a node left behind, a node started (and owned)
by another process, waiting for a condition with a bound."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from vmqos.node.config import NodeConfig
from vmqos.node.process import find_processes

# What the tests measured, printed at the end of the run (conftest.pytest_terminal_summary).
BOOT_TIMES: dict[str, float] = {}
# Configured against measured, per check, for the same summary.
FIGURES: dict[str, str] = {}


def leftovers(config: NodeConfig) -> dict[str, list[str]]:
    """What of a node is left: live processes of its run directory, its runtime files."""
    return {
        "processes": [str(pid) for pid in find_processes((config.qemu, config.virtiofsd),
                                                          config.paths.run_dir)],
        "files": sorted({str(p) for p in config.paths.runtime_files if p.exists()}
                        | {str(p) for p in config.paths.run_dir.glob("*.sock")}),
    }


def start_in_child(config: NodeConfig) -> subprocess.Popen[str]:
    """Another Python process that starts ``config``'s node (owned by it) and then sleeps."""
    code = ("import sys, time\nfrom pathlib import Path\n"
            "from vmqos.node.config import NodeConfig\nfrom vmqos.node.lifecycle import Node\n"
            f"node = Node.start(NodeConfig(name={config.name!r}, "
            f"state_dir=Path({str(config.state_dir)!r})))\n"
            "print('booted', node.record.boot_seconds, flush=True)\ntime.sleep(3600)\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)
