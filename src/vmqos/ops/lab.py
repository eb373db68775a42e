"""The lab: reproduce a scenario's experiment on this host and prove it by measurement.

``run_verification`` measures already-applied instances (what ``vmqos verify`` does):
per instance, port and direction real TCP traffic with iperf3 between the host side of the tap
and the instance's namespace; the CPU share ratio of the instances' cgroups on one CPU; direct
disk I/O on each instance's loop device inside its cgroup. Every measurement is judged by
:mod:`vmqos.verify.judge` against what the host plan enforces, plotted beside the curve
:mod:`vmqos.plan.predict` predicts from the same plan before measuring, and written to a report
with its deviation from that curve (reported, never judged: the verdicts stay the judge's).

Direction is the VM's: inbound traffic goes from the tap's host side to the guest (iperf3
client on the host side), outbound the other way (``--reverse``).

This module orchestrates; it owns no host mechanism (vmqos.host) and no measurement
(vmqos.verify), and it decides nothing about limits (vmqos.plan).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from vmqos.host.apply import apply_host_plan
from vmqos.host.sandbox import Instance, SandboxPort, ensure_instance
from vmqos.host.state import SandboxConfig
from vmqos.intent.scenario import Scenario, Server
from vmqos.jsonable import to_jsonable
from vmqos.limits import Limit
from vmqos.model import Direction
from vmqos.ops.plans import host_plans
from vmqos.plan.predict import Curve, predict_blk_throttle, predict_cpu_shares
from vmqos.plan.render.tc import render_command
from vmqos.profile import Profile
from vmqos.reconcile.facts import HostFacts
from vmqos.reconcile.host_plan import HostPlan
from vmqos.units import Duration, format_bits_per_sec
from vmqos.verify.cpu import measure_cpu_shares
from vmqos.verify.disk import measure_disk
from vmqos.verify.iperf import measure_tcp
from vmqos.verify.judge import (
    Deviation,
    Outcome,
    Sample,
    Shaping,
    Verdict,
    burst_drain_rate,
    burst_window,
    deviation,
    judge_burst,
    judge_cpu_shares,
    judge_rate,
    judge_tcp_goodput,
    recommended_seconds,
    tcp_goodput_factor,
)
from vmqos.verify.plots import plot_cpu_shares, plot_disk, plot_throughput
from vmqos.verify.report import ReportSection, Table, write_report

__all__ = ["Built", "Cell", "LabRow", "Predicted", "RowOutcome", "TapProgram", "Verification",
           "build_and_apply", "results_document", "run_verification", "tap_programs",
           "verification_steps"]

Progress = Callable[[str], None]

_UNLIMITED_SECONDS = 2      # enough to show "much faster than any limit"
# At a few Mbit/s one 0.2 s interval holds ~50 packets and TCP's sawtooth shows in it: give
# the steady-state mean at least this long after the burst window.
_MIN_SHAPED_SECONDS = 6
_DISK_SECONDS = 3.0
_CPU_SECONDS = 3.0


class RowOutcome(StrEnum):
    """What a cell of the side-by-side table says of its verdicts, as the table prints it."""

    MEASURED = "measured"          # nothing configured to judge against
    PASS = "pass"                  # every verdict passed (or did not apply)
    FAIL = "FAIL"                  # at least one verdict failed
    INCONCLUSIVE = "inconclusive"  # the rest: a measurement could not decide


Cell = tuple[str, str, RowOutcome]  # one instance's configured, measured and outcome


@dataclass(frozen=True, slots=True)
class LabRow:
    """One line of the side-by-side table: an item, per instance configured and measured."""

    item: str
    cells: tuple[Cell, ...]  # one per instance


# Issue 9's targets for predicted against measured: reported beside each check, not judged.
STEADY_TARGET = 0.03
WINDOW_TARGET = 0.10


@dataclass(frozen=True, slots=True)
class Predicted:
    """One measurement's predicted curve against what was measured: ``steady`` is the
    predicted steady rate (bit/s, B/s or the CPU share ratio, in ``unit``)."""

    check: str
    unit: str
    steady: float
    deviation: Deviation

    def describe(self) -> str:
        d = self.deviation
        words = [f"predicted steady {self.steady:,.0f} {self.unit}" if self.unit != ":1"
                 else f"predicted ratio {self.steady:.3f}:1"]
        if d.steady is not None:
            words.append(f"measured {d.steady:+.1%} of it (target ±{STEADY_TARGET:.0%})")
        if d.window_predicted:
            measured = ("not seen" if d.window_measured is None
                        else f"{d.window_measured:.2f} s")
            words.append(f"burst window predicted {d.window_predicted:.2f} s, measured "
                         f"{measured}" + ("" if d.window is None else
                                          f" ({d.window:+.1%}, target ±{WINDOW_TARGET:.0%})"))
        if d.largest_interval is not None:
            words.append(f"largest steady-state interval {d.largest_interval:+.1%}")
        return "; ".join(words)


@dataclass(frozen=True, slots=True)
class TapProgram:
    """What the lab installed on one tap: the strategy (``libvirt-exact`` when the kernel ran
    libvirt's program word for word), every departure from it, and the tc commands."""

    instance: str
    dev: str
    strategy: str
    substitutions: tuple[str, ...]
    codes: tuple[str, ...]          # the substitutions' stable codes (pfifo-for-sfq ...)
    commands: tuple[str, ...]


def tap_programs(plans: Sequence[HostPlan]) -> tuple[TapProgram, ...]:
    return tuple(
        TapProgram(plan.instance, port.dev, port.strategy.value,
                   tuple(dict.fromkeys(s.text for s in port.substitutions)),
                   tuple(dict.fromkeys(s.code for s in port.substitutions)),
                   tuple(render_command("tc", obj.add_argv()) for obj in port.objects))
        for plan in plans for port in plan.ports)


@dataclass(frozen=True, slots=True)
class Verification:
    instances: tuple[str, ...]
    flavors: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    rows: tuple[LabRow, ...]
    report: Path
    predicted: tuple[Predicted, ...] = ()
    programs: tuple[TapProgram, ...] = ()
    notes: tuple[str, ...] = ()       # where and how it ran (kernel, rate divisor)

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.outcome is Outcome.FAIL)


def _effective(limits: Sequence[Limit], direction: Direction) -> Limit | None:
    """The strictest rate-limiting layer the host plan enforces in ``direction``."""
    capped = [x for x in limits if x.direction is direction and x.rate]
    return min(capped, key=lambda x: x.rate or 0) if capped else None


def _outcome(verdicts: Sequence[Verdict]) -> RowOutcome:
    if not verdicts:
        return RowOutcome.MEASURED
    if any(v.outcome is Outcome.FAIL for v in verdicts):
        return RowOutcome.FAIL
    if all(v.outcome in (Outcome.PASS, Outcome.NOT_APPLICABLE) for v in verdicts):
        return RowOutcome.PASS
    return RowOutcome.INCONCLUSIVE


def _mbit(value: float | None) -> str:
    return "-" if value is None else format_bits_per_sec(int(value))


def _predicted_samples(curve: Curve, samples: Sequence[Sample], scale: float) -> list[Sample]:
    """The curve's mean over each measured interval: what a perfect measurement would show."""
    return [Sample(s.start, s.end, curve.mean_between(s.start, s.end) * scale)
            for s in samples]


def _network(instance: Instance, host_netns: str, port: SandboxPort, plan: HostPlan,
             direction: Direction, out: Path, max_seconds: int,
             progress: Progress) -> tuple[ReportSection, Cell, list[Verdict], list[Predicted]]:
    tap_plan = next(p for p in plan.ports if p.dev == port.tap)
    limit = _effective(tap_plan.enforced, direction)
    curve = tap_plan.predict_tcp(direction, plan.psched)
    shaping = Shaping.from_limit(limit) if limit is not None else None
    # Three seconds of steady state at the peak's window: room for a path that drains the
    # bucket slower than the peak (burst_drain_rate) to keep a second of it.
    seconds = _UNLIMITED_SECONDS if shaping is None else max(
        _MIN_SHAPED_SECONDS, min(max_seconds, math.ceil(recommended_seconds(shaping,
                                                                            steady=3.0))))
    label = f"{instance.name} {port.tap} {direction.value} ({direction.arrow})"
    progress(f"{label}: iperf3 for {seconds} s")
    measured = measure_tcp(host_netns, instance.netns, port.guest_ip, seconds=seconds,
                           reverse=direction is Direction.OUTBOUND)
    verdicts: list[Verdict] = []
    if shaping is not None:
        drain = burst_drain_rate(shaping, measured.samples)
        verdicts.append(judge_tcp_goodput(shaping, measured.samples, line_rate=drain,
                                          check=f"{label}: TCP goodput"))
        verdicts.append(judge_burst(shaping, measured.samples,
                                    check=f"{label}: burst in the first second"))
    predicted: list[Predicted] = []
    if curve is not None:
        predicted.append(Predicted(f"{label}: TCP goodput", "bit/s", curve.steady * 8,
                                   deviation(curve, measured.samples, scale=8)))
    image = plot_throughput(
        out / f"net-{instance.name}-{port.tap}-{direction.value}.png", measured.samples,
        title=label, rate=None if shaping is None else shaping.rate,
        peak=None if shaping is None else shaping.peak,
        burst_window=None if shaping is None else burst_window(shaping),
        goodput_factor=tcp_goodput_factor(),
        predicted=() if curve is None else _predicted_samples(curve, measured.samples, 8))
    notes = [f"iperf3 {seconds} s, {'reverse ' if direction is Direction.OUTBOUND else ''}"
             f"{host_netns} <-> {instance.netns} {port.guest_ip}: mean "
             f"{_mbit(measured.bits_per_second)}"]
    if limit is not None:
        notes.append(f"enforced: {limit.mechanism} on {limit.device} ({limit.source})")
    else:
        notes.append("no limit enforced in this direction")
    notes += [p.describe() for p in predicted]
    section = ReportSection(title=label, verdicts=tuple(verdicts), images=(image,),
                            notes=tuple(notes))
    configured = "unlimited" if shaping is None else _mbit(shaping.rate)
    # Shaped: the steady-state goodput the verdict judged (the whole-run mean includes the
    # burst); unshaped: iperf3's mean.
    steady = verdicts[0].measured if verdicts else measured.bits_per_second
    return section, (configured, _mbit(steady), _outcome(verdicts)), verdicts, predicted


def _cgroup_value(plan: HostPlan, *files: str) -> str | None:
    for value in plan.cgroup:
        if value.file in files and value.value:
            return value.value
    return None


def _cpu_dir(instance: Instance) -> str:
    dirs = [d for d in instance.cgroup_dirs if "/cpu/" in d or "/cpu," in d]
    return dirs[0] if dirs else instance.cgroup_dirs[0]


def _blkio_dirs(instance: Instance) -> tuple[str, ...]:
    dirs = tuple(d for d in instance.cgroup_dirs if "/blkio/" in d)
    return dirs or (instance.cgroup_dirs[0],)


def _disk(instance: Instance, plan: HostPlan, mode: str, out: Path,
          progress: Progress) -> tuple[ReportSection, Cell, list[Verdict], list[Predicted]]:
    configured = plan.disk_limits.get("wbps" if mode == "write" else "rbps")
    label = f"{instance.name} disk {mode} ({instance.loop_device})"
    progress(f"{label}: direct I/O for {_DISK_SECONDS:.0f} s")
    measured = measure_disk(instance.loop_device, cgroups=_blkio_dirs(instance), mode=mode,
                            seconds=_DISK_SECONDS if configured else 1.5)
    verdicts = [] if configured is None else [judge_rate(
        f"{label}: bytes/s", configured, measured.samples, unit="B/s", skip=0.5)]
    curve = None if configured is None else predict_blk_throttle(configured)
    # The judge skips the first 0.5 s of a disk run (the throttle's first slice); so does this.
    predicted = [] if curve is None else [Predicted(
        f"{label}: bytes/s", "B/s", curve.steady,
        deviation(curve, measured.samples, settle=0.5))]
    image = plot_disk(out / f"disk-{instance.name}-{mode}.png", measured.samples,
                      title=label, configured=configured,
                      predicted=() if curve is None else _predicted_samples(
                          curve, measured.samples, 1.0))
    section = ReportSection(title=label, verdicts=tuple(verdicts), images=(image,), notes=(
        f"measured {measured.bytes_per_second / 1e6:.3f} MB/s, {measured.iops:.0f} IO/s "
        f"(O_DIRECT {measured.block_size // 1024} KiB blocks, cgroup "
        f"{_blkio_dirs(instance)[0]})", *(p.describe() for p in predicted)))
    cell = ("unlimited" if configured is None else f"{configured / 1e6:.3f} MB/s",
            f"{measured.bytes_per_second / 1e6:.3f} MB/s", _outcome(verdicts))
    return section, cell, verdicts, predicted


def _cpu(instances: Sequence[Instance], plans: Sequence[HostPlan], out: Path,
         progress: Progress) -> tuple[ReportSection, list[Cell], list[Verdict], list[Predicted]]:
    shares = []
    for plan in plans:
        value = _cgroup_value(plan, "cpu.shares", "cpu.weight")
        default = 100 if any(v.file == "cpu.weight" for v in plan.cgroup) else 1024
        shares.append(int(value) if value else default)
    progress(f"CPU: {len(instances)} busy loops on one CPU for {_CPU_SECONDS:.0f} s")
    measured = measure_cpu_shares([_cpu_dir(i) for i in instances], seconds=_CPU_SECONDS)
    total_usage = sum(measured.usage) or 1.0
    fractions = predict_cpu_shares(shares)
    verdicts = [judge_cpu_shares((shares[0], shares[i]), (measured.usage[0], measured.usage[i]))
                for i in range(1, len(instances))]
    predicted = [Predicted(
        f"CPU share ratio {shares[0]}:{shares[i]}", ":1", fractions[0] / fractions[i],
        Deviation(steady=None if not measured.usage[i] else
                  (measured.usage[0] / measured.usage[i]) / (fractions[0] / fractions[i]) - 1,
                  window_predicted=Duration(0.0), window_measured=None, window=None,
                  largest_interval=None))
        for i in range(1, len(instances))]
    image = plot_cpu_shares(out / "cpu-shares.png", [i.name for i in instances],
                            [u / total_usage for u in measured.usage], list(fractions),
                            title="CPU time on one CPU: configured shares vs measured")
    cells = [(f"{s} shares ({f:.0%})", f"{u / total_usage:.1%} of the CPU",
              _outcome(verdicts)) for s, f, u in zip(shares, fractions, measured.usage,
                                                     strict=True)]
    section = ReportSection(title="CPU share ratio", verdicts=tuple(verdicts), images=(image,),
                            notes=(f"usage from {measured.source} on CPU {measured.cpu}",
                                   *(p.describe() for p in predicted)))
    return section, cells, verdicts, predicted


def run_verification(instances: Sequence[Instance], plans: Sequence[HostPlan], *,
                     host_netns: str, out_dir: Path, max_seconds: int = 8,
                     progress: Progress = lambda _: None,
                     notes: Sequence[str] = ()) -> Verification:
    """Measure every instance (network per port and direction, CPU, disk) and report.
    ``notes`` head the report (where it ran, how the scenario was scaled)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sections: list[ReportSection] = []
    verdicts: list[Verdict] = []
    predicted: list[Predicted] = []
    per_item: dict[str, list[Cell]] = {}
    for instance, plan in zip(instances, plans, strict=True):
        for index, port in enumerate(instance.ports):
            for direction in Direction:
                section, cell, found, curves = _network(
                    instance, host_netns, port, plan, direction, out_dir, max_seconds, progress)
                sections.append(section)
                verdicts.extend(found)
                predicted.extend(curves)
                per_item.setdefault(f"network {direction.value} eth{index}", []).append(cell)
        for mode in ("write", "read"):
            section, cell, found, curves = _disk(instance, plan, mode, out_dir, progress)
            sections.append(section)
            verdicts.extend(found)
            predicted.extend(curves)
            per_item.setdefault(f"disk {mode}", []).append(cell)
    if len(instances) > 1:
        section, cells, found, curves = _cpu(instances, plans, out_dir, progress)
        sections.insert(0, section)
        verdicts.extend(found)
        predicted.extend(curves)
        per_item = {"CPU share": cells, **per_item}
    rows = tuple(LabRow(item, tuple(cells)) for item, cells in per_item.items()
                 if len(cells) == len(instances))
    table = Table(headers=("item", *(f"{p.instance} ({p.flavor}) configured / measured"
                                     for p in plans)),
                  rows=tuple((row.item, *(f"{c} / {m} ({o})" for c, m, o in row.cells))
                             for row in rows))
    programs = tap_programs(plans)
    program_notes = tuple(
        f"{p.instance} {p.dev}: {p.strategy}" + "".join(f"\n    {c}" for c in p.commands)
        + "".join(f"\n    substituted: {t}" for t in p.substitutions) for p in programs)
    report = write_report(out_dir, "vmqos lab: configured against measured",
                          [ReportSection(title="Side by side", tables=(table,),
                                         notes=tuple(notes)),
                           ReportSection(title="Programs applied", notes=program_notes),
                           *sections])
    return Verification(instances=tuple(i.name for i in instances),
                        flavors=tuple(p.flavor for p in plans), verdicts=tuple(verdicts),
                        rows=rows, report=report, predicted=tuple(predicted),
                        programs=programs, notes=tuple(notes))


def verification_steps(instances: Sequence[Instance]) -> int:
    """The measurements :func:`run_verification` makes (each calls ``progress`` once): two per
    port, two disk runs per instance, and one CPU run when there is more than one instance."""
    ports = sum(len(instance.ports) for instance in instances)
    return 2 * ports + 2 * len(instances) + (1 if len(instances) > 1 else 0)


def results_document(verification: Verification) -> dict[str, Any]:
    """The results as data (results.json, and ``--format json``): the side-by-side rows and
    every verdict with its bounds."""
    return {
        "instances": [{"name": name, "flavor": flavor} for name, flavor in
                      zip(verification.instances, verification.flavors, strict=True)],
        "rows": [{"item": row.item, "cells": [
            {"instance": name, "configured": c, "measured": m, "outcome": o}
            for name, (c, m, o) in zip(verification.instances, row.cells, strict=True)]}
            for row in verification.rows],
        "verdicts": [{**to_jsonable(v), "ratio": v.ratio} for v in verification.verdicts],
        "programs": [to_jsonable(p) for p in verification.programs],
        "notes": list(verification.notes),
        "failed": len(verification.failed),
        # Predicted against measured, per check: reported, not judged.
        "predicted": [{**to_jsonable(p), "largest_deviation": p.deviation.largest}
                      for p in verification.predicted],
        "report": str(verification.report),
    }


@dataclass(frozen=True, slots=True)
class Built:
    """The lab's instances, and per instance its host plan and the changes applying it took."""

    instances: tuple[Instance, ...]
    applied: tuple[tuple[HostPlan, int], ...]


def build_and_apply(scenario: Scenario, servers: Sequence[Server], profile: Profile,
                    config: SandboxConfig, facts: HostFacts) -> Built:
    """One sandbox instance per server, its host plan, applied (each apply atomic)."""
    instances = tuple(ensure_instance(config, facts, server.name, tuple(server.ports))[0]
                      for server in servers)
    plans = host_plans(scenario, servers, profile, facts, instances)
    return Built(instances, tuple((plan, len(apply_host_plan(plan, netns=config.host_netns)
                                             .lines())) for plan in plans))
