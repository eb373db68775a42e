"""The host as the standard tools show it, and the installed ``vmqos`` entry point.

Independent of vmqos (nothing here imports it): the root tests use these as oracles of what
vmqos did to the host.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent


def sh(*argv: str, check: bool = True, timeout: float = 30) -> str:
    """Run a command and return its stdout; with ``check``, fail the test with its stderr if
    it exits non-zero."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def netns_names() -> set[str]:
    """The named network namespaces (``ip -j netns list``; iproute2 prints nothing, not
    ``[]``, when there are none)."""
    return {ns["name"] for ns in json.loads(sh("ip", "-j", "netns", "list") or "[]")}


def link_names(netns: str | None = None) -> set[str]:
    """The interfaces of ``netns`` (the caller's namespace when ``None``)."""
    where = ("-n", netns) if netns is not None else ()
    return {link["ifname"] for link in json.loads(sh("ip", *where, "-j", "link", "show"))}


def vmqos_exe() -> str:
    """The installed ``vmqos`` entry point beside this interpreter; a missing install step
    fails the test rather than skipping it."""
    exe = shutil.which("vmqos", path=str(VENV_BIN))
    if exe is None:
        pytest.fail(f"the vmqos entry point is not installed in {VENV_BIN}: run `bash test.sh`")
    return exe
