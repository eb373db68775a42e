"""Shared fixtures for the end-to-end tests of the ``vmqos`` command line.

Two ways to run the CLI:

* ``run_vmqos(*args)`` runs the real installed entry point (``.venv/bin/vmqos``) as a
  subprocess — the exit code, stdout and stderr that users and scripts see. It costs ~0.3 s per
  call, so it is used where the process boundary is the thing under test: the exit-code contract
  (user error -> 2 with one ``vmqos: error:`` line and no traceback; bug -> 70), once per command.
* ``vmqos(*args)`` calls the same ``vmqos.cli.main.main(argv)`` (the entry point's body) inside
  click's stream isolation, in this process: same argument parsing, same error boundary, same
  output, in milliseconds. Everything else uses it.

Literal expectations come from upstream's own test vectors (libvirt's, Nova's, Neutron's; each
test says whose) and the seed lab (tests/support/seed.py, which reads the note verbatim).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import seed
from support.proc import vmqos_exe as installed_vmqos
from vmqos.cli.main import main

REPO = Path(__file__).resolve().parents[2]

# The seed's m1.resquota flavor properties, per knob, as `--property` takes them.
SEED_INBOUND = seed.properties("quota:vif_inbound_")
SEED_OUTBOUND = seed.properties("quota:vif_outbound_")
SEED_DISK = seed.properties("quota:disk_")


@dataclass(frozen=True)
class Outcome:
    """What one in-process run of ``main(argv)`` returned and printed."""

    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def props(*specs: str) -> list[str]:
    """``--property`` options for each ``KEY=VALUE``."""
    return [arg for spec in specs for arg in ("--property", spec)]


def assert_user_error(code: int, stderr: str, *needles: str) -> str:
    """The user-error contract: exit 2, exactly one stderr line starting ``vmqos: error: ``,
    no traceback, and the line names every needle (the key, the value). Returns the message."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("vmqos: error: "), stderr
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert code == 2, f"exit {code}, stderr: {stderr}"
    return lines[0].removeprefix("vmqos: error: ")


def normalise_direct_packets(line: str) -> str:
    # `direct_packets_stat` counts packets that bypassed the classes (the kernel's
    # sch_htb.c direct_pkts): traffic-dependent, not configuration; the seed shows 1, a fresh
    # render 0.
    return re.sub(r"direct_packets_stat \d+", "direct_packets_stat N", line)


@pytest.fixture(scope="session")
def run_vmqos() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``vmqos`` in a real process, from the repository root."""
    vmqos_exe = installed_vmqos()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"}

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([vmqos_exe, *map(str, args)], capture_output=True, text=True,
                              encoding="utf-8", cwd=REPO, env=env, timeout=60, check=False)

    return run


@pytest.fixture
def vmqos(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    """Run ``vmqos.cli.main.main(argv)`` in this process, from the repository root, with
    captured stdout/stderr."""
    monkeypatch.chdir(REPO)

    def run(*args: str | Path) -> Outcome:
        with CliRunner().isolation() as (out, err, _mixed):
            code = main([str(a) for a in args])
            sys.stdout.flush()
            sys.stderr.flush()
        return Outcome(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))

    return run
