"""The lab inside the reference node: the same ``vmqos lab``, run in a stock kernel that has
everything libvirt's tc program uses, so that program runs word for word.

How: boot a node (vmqos.node, owned by this process and always stopped), measure its bare veth
capacity (vmqos.verify.capacity) unless a rate divisor is given, choose the divisor
(vmqos.intent.rate_scale), then run ``vmqos lab SCENARIO --rate-divisor N`` in the node through
its control channel — this very checkout, through the shared root — and bring its report
directory back as a tar stream. Nothing here decides a limit or judges a measurement: the lab
inside does both, with the node's own host facts, and its results.json is the verdict.

The scenario travels as text (an environment variable of the command that writes it into the
node's /tmp), since the node's /tmp is its own; the report comes back the same way it goes out,
over the channel, byte for byte.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmqos.errors import NodeError
from vmqos.intent.rate_scale import choose_rate_divisor, max_network_rate
from vmqos.intent.scenario import Scenario
from vmqos.node.config import NodeConfig
from vmqos.node.lifecycle import CommandResult, Node, console_tail

__all__ = ["NodeLab", "run_lab_in_node", "run_node_lab"]

Progress = Callable[[str], None]

_WORK = "/tmp/vmqos-node-lab"          # in the node (its own tmpfs)
_SCENARIO = f"{_WORK}/scenario.yaml"
_REPORT = f"{_WORK}/report"
_CAPACITY_SECONDS = 3
_LAB_TIMEOUT_S = 1800.0


@dataclass(frozen=True, slots=True)
class NodeLab:
    """What the lab in the node did: the node, the divisor and why, the lab's own output."""

    release: str | None
    boot_seconds: float | None
    capacity_bps: float | None        # None: the divisor was given, nothing measured
    rate_divisor: int
    max_rate_bps: float               # the scenario's highest configured rate, unscaled
    lab_seconds: float
    exit_status: int
    stdout: str                       # the lab's own text output
    stderr: str
    results: dict[str, Any] | None    # its results.json (None: it wrote none)
    report_dir: Path
    console_tail: str

    def to_json(self) -> dict[str, Any]:
        return {"node": {"kernel": self.release, "boot_seconds": self.boot_seconds},
                "capacity_bits_per_second": self.capacity_bps,
                "max_rate_bits_per_second": self.max_rate_bps,
                "rate_divisor": self.rate_divisor, "lab_seconds": round(self.lab_seconds, 1),
                "exit_status": self.exit_status, "report_dir": str(self.report_dir),
                "lab": self.results}


def _env(config: NodeConfig, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": config.pythonpath, **extra}


def _checked(result: CommandResult, what: str, node: Node) -> CommandResult:
    if result.exit_status != 0:
        raise NodeError(f"{what} failed in the node (exit status {result.exit_status}): "
                        f"{result.stderr_text.strip()[-2000:]}",
                        console_tail=console_tail(node.config.paths.console_log),
                        console_path=str(node.config.paths.console_log))
    return result


def _capacity(node: Node) -> float:
    result = _checked(node.run([node.config.python, "-m", "vmqos.verify.capacity",
                                "--seconds", str(_CAPACITY_SECONDS)],
                               env=_env(node.config), timeout_s=90),
                      "measuring the node's veth capacity", node)
    return float(json.loads(result.stdout)["bits_per_second"])


def _put_scenario(node: Node, text: str) -> None:
    _checked(node.run(["sh", "-c", f'mkdir -p {_WORK} && printf %s "$VMQOS_SCENARIO" > '
                      f"{_SCENARIO}"], env={"VMQOS_SCENARIO": text}),
             "writing the scenario", node)


def _fetch_report(node: Node, out_dir: Path) -> None:
    result = _checked(node.run(["tar", "-C", _REPORT, "-cf", "-", "."], timeout_s=120),
                      "reading the lab's report", node)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(out_dir, filter="data")


def run_node_lab(config: NodeConfig, scenario: Scenario, scenario_text: str | None, *,
                 out_dir: Path, lab_args: Sequence[str] = (), rate_divisor: int | None = None,
                 columns: int = 120, progress: Progress = lambda _: None) -> NodeLab:
    """Boot a node, run the lab in it on ``scenario`` (``scenario_text`` is its file, None
    for the built-in seed), bring its report to ``out_dir`` and stop the node."""
    progress("booting the reference node")
    with Node.start(config) as node:
        progress(f"node up: kernel {node.record.release}, booted in "
                 f"{node.record.boot_seconds} s")
        return run_lab_in_node(node, scenario, scenario_text, out_dir=out_dir,
                               lab_args=lab_args, rate_divisor=rate_divisor, columns=columns,
                               progress=progress)


def run_lab_in_node(node: Node, scenario: Scenario, scenario_text: str | None, *,
                    out_dir: Path, lab_args: Sequence[str] = (),
                    rate_divisor: int | None = None, columns: int = 120,
                    progress: Progress = lambda _: None) -> NodeLab:
    """:func:`run_node_lab` in a node that is already running."""
    config = node.config
    max_rate = max_network_rate(scenario)
    capacity = None
    if rate_divisor is None:
        progress(f"measuring the node's bare veth capacity (iperf3 {_CAPACITY_SECONDS} s)")
        capacity = _capacity(node)
        rate_divisor = choose_rate_divisor(max_rate, capacity)
    argv = [config.python, "-m", "vmqos.cli.main", "lab"]
    if scenario_text is not None:
        _put_scenario(node, scenario_text)
        argv.append(_SCENARIO)
    argv += ["--out", _REPORT, "--rate-divisor", str(rate_divisor), *lab_args]
    progress(f"running `vmqos lab` in the node (rates divided by {rate_divisor})")
    began = time.monotonic()
    lab = node.run(argv, env=_env(config, COLUMNS=str(columns), TERM="dumb"),
                   timeout_s=_LAB_TIMEOUT_S)
    seconds = time.monotonic() - began
    _fetch_report(node, out_dir)
    results_file = out_dir / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else None
    return NodeLab(release=node.record.release, boot_seconds=node.record.boot_seconds,
                   capacity_bps=capacity, rate_divisor=rate_divisor, max_rate_bps=max_rate,
                   lab_seconds=seconds, exit_status=lab.exit_status,
                   stdout=lab.stdout_text, stderr=lab.stderr_text, results=results,
                   report_dir=out_dir, console_tail=console_tail(config.paths.console_log))
