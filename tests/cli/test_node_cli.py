"""``vmqos node`` without a node: what it says when nothing runs, and its user errors.

Booting one is tests/node's job (root, QEMU); these need neither."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Outcome, assert_user_error

Run = Callable[..., Outcome]


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VMQOS_STATE_DIR", str(tmp_path))
    return tmp_path


def test_status_of_a_node_never_started(vmqos: Run, state_dir: Path) -> None:
    out = vmqos("node", "status", "--name", "n1")
    assert (out.code, out.stdout) == (0, "node 'n1': stopped\n")
    data = json.loads(vmqos("node", "status", "--name", "n1", "--format", "json").stdout)
    assert data == {"name": "n1", "state": "stopped", "run_dir": f"{state_dir}/node/n1",
                    "console_log": f"{state_dir}/node/n1/console.log"}


def test_run_without_a_running_node_says_how_to_start_one(vmqos: Run, state_dir: Path) -> None:
    out = vmqos("node", "run", "--", "uname", "-r")
    assert out.code == 1
    assert out.stderr == ("vmqos: error: node 'default' is not running: start it with "
                          "`vmqos node start --name default`\n")


def test_stop_without_a_running_node_is_not_an_error(vmqos: Run, state_dir: Path) -> None:
    out = vmqos("node", "stop")
    assert (out.code, out.stdout) == (0, "node 'default' was not running (cleaned up)\n")
    assert not (state_dir / "node").exists()     # nothing created either


def test_a_bad_node_name_is_a_user_error(vmqos: Run, state_dir: Path) -> None:
    out = vmqos("node", "status", "--name", "Bad_Name")
    assert_user_error(out.code, out.stderr, "'Bad_Name'", "lowercase letters")


def test_a_bad_env_is_a_user_error(vmqos: Run, state_dir: Path) -> None:
    out = vmqos("node", "run", "--env", "NOEQUALS", "--", "true")
    assert_user_error(out.code, out.stderr, "--env", "'NOEQUALS'", "NAME=VALUE")


def test_run_needs_a_command(vmqos: Run, state_dir: Path) -> None:
    out = vmqos("node", "run")
    assert out.code == 2 and "Missing argument 'ARGV...'" in out.stderr
