"""The alert rules shipped for ``vmqos agent`` (examples/prometheus/vmqos-agent.rules.yml):
Prometheus's own ``promtool`` accepts them and fires them as intended on series shaped as the
agent exports them (tests/fixtures/prometheus/vmqos-agent.rules.test.yml), and every metric
they name is one the agent exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vmqos.ops.agent_metrics import FAMILIES

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "examples" / "prometheus" / "vmqos-agent.rules.yml"
RULES_TEST = REPO / "tests" / "fixtures" / "prometheus" / "vmqos-agent.rules.test.yml"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:  # a missing install step must fail, not skip
        pytest.fail("promtool is not installed: bash scripts/setup.sh (Debian's prometheus)")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_promtool_check_rules() -> None:
    done = _promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout


def test_promtool_test_rules_fires_each_alert_as_intended() -> None:
    done = _promtool("test", "rules", str(RULES_TEST))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_rules_name_only_metrics_the_agent_exports() -> None:
    exported = {f.name for f in FAMILIES}
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    named = {m for rule in rules for m in re.findall(r"\bvmqos_\w+", rule["expr"])}
    assert named and named <= exported, named - exported
    tested = yaml.safe_load(RULES_TEST.read_text())["tests"][0]
    assert {t["alertname"] for t in tested["alert_rule_test"]} == {r["alert"] for r in rules}
