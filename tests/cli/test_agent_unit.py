"""The systemd unit shipped for ``vmqos agent`` (examples/vmqos-agent.service): systemd's own
checker accepts it, and its command line is one `vmqos agent` parses, with a stop timeout
above the agent's own and configuration errors (exit 2) not restarted."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from support.proc import vmqos_exe
from vmqos.cli.agent import agent

UNIT = Path(__file__).resolve().parents[2] / "examples" / "vmqos-agent.service"
INSTALLED = "/opt/vmqos/.venv/bin/vmqos"


def _service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  (keys keep their case)
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:  # a missing install step must fail, not skip
        pytest.fail("systemd-analyze is not installed: bash scripts/setup.sh (package systemd)")
    unit = tmp_path / "vmqos-agent.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED, vmqos_exe()))
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    # A bad setting is a warning on stderr with exit 0: both must be clean.
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_command_line_is_one_vmqos_agent_parses() -> None:
    service = _service()
    defaults = dict(item.split("=", 1) for item in shlex.split(service["Environment"]))
    argv = shlex.split(service["ExecStart"])
    assert argv[:2] == [INSTALLED, "agent"]
    words = [re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], w).replace("%H", "cmp-1")
             for w in argv[2:]]
    context = agent.make_context("agent", words)  # parses and checks the options, runs nothing
    assert context.params["host"] == "cmp-1" and context.params["listen"] == ":9675"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    stop_timeout = next(p for p in agent.params if p.name == "stop_timeout")
    assert isinstance(stop_timeout, click.Option)
    assert int(service["TimeoutStopSec"]) > float(str(stop_timeout.default))
    assert service["RestartPreventExitStatus"] == "2"
