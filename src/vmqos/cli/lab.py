"""``vmqos lab`` and ``vmqos verify``: prove the plan on this host.

Thin: the orchestration is :mod:`vmqos.ops.lab`, the host mechanisms :mod:`vmqos.host`, the
decisions :mod:`vmqos.plan`. This module reads options, shows progress and prints tables.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from vmqos.cli.console import dump_json, make_console
from vmqos.cli.host import print_dry_run
from vmqos.cli.options import format_option, profile_option, scenario_profile
from vmqos.cli.scenario_io import load_scenario, select_servers
from vmqos.errors import PermanentHostError, ValidationError, VerificationError
from vmqos.host.facts import observe_host_facts
from vmqos.host.sandbox import Instance, find_instance, remove_all
from vmqos.host.state import LAB_HOST_NETNS, SandboxConfig
from vmqos.intent.rate_scale import scale_scenario_rates
from vmqos.intent.scenario import Scenario, Server
from vmqos.node.config import NodeConfig
from vmqos.ops.lab import (
    RowOutcome,
    Verification,
    build_and_apply,
    results_document,
    run_verification,
    verification_steps,
)
from vmqos.ops.node_lab import run_node_lab
from vmqos.ops.plans import host_plans
from vmqos.reconcile.facts import HostFacts
from vmqos.reconcile.host_plan import HostPlan
from vmqos.reconcile.strategy import TcStrategy
from vmqos.units import format_bits_per_sec
from vmqos.verify.judge import Outcome

__all__ = ["lab", "require_root", "verify"]

_STRATEGY = {
    TcStrategy.LIBVIRT_EXACT: "libvirt's exact tc program, word for word",
    TcStrategy.EQUIVALENT: "an equivalent tc program, departing from libvirt's where the "
                           "substitutions below say",
    TcStrategy.NONE: "nothing to install",
}

_NEEDS_ROOT = ("root: the lab creates network namespaces, veth pairs and IFBs, writes tc, "
               "creates cgroups under /sys/fs/cgroup, attaches loop devices and runs iperf3 "
               "between the namespaces it created")


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM and SIGHUP end the block as Ctrl-C does (KeyboardInterrupt), so that its
    ``finally`` runs: a lab killed by ``timeout``, a closed terminal or a CI runner still
    removes what it built. The previous handlers come back afterwards."""

    owner = os.getpid()

    def interrupt(signum: int, _frame: object) -> None:
        if os.getpid() != owner:
            # A forked child (none of vmqos's own: a library's) must never unwind the lab's
            # stack and run its cleanup; it just ends.
            os._exit(128 + signum)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _progress(total: int, console: Console) -> Iterator[Progress]:
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), console=console,
                  transient=False) as bar:
        yield bar


def _side_by_side(verification: Verification) -> Table:
    table = Table(title="configured vs measured", title_justify="left", show_lines=True)
    table.add_column("item")
    for name, flavor in zip(verification.instances, verification.flavors, strict=True):
        table.add_column(f"{name}\n{flavor}\nconfigured → measured")
    style = {RowOutcome.PASS: "green", RowOutcome.FAIL: "bold red",
             RowOutcome.INCONCLUSIVE: "yellow", RowOutcome.MEASURED: ""}
    for row in verification.rows:
        table.add_row(row.item, *(Text(f"{c} → {m}  {o}", style=style[o])
                                  for c, m, o in row.cells))
    return table


def _verify_and_report(instances: list[Instance], plans: list[HostPlan], host_netns: str,
                       out: Path, max_seconds: int, fmt: str,
                       notes: Sequence[str] = ()) -> Verification:
    """Measure, write the report and results.json beside it, then print the tables (text)
    or the results (json; progress goes to stderr then)."""
    console = make_console(stderr=fmt == "json")
    total = verification_steps(instances)
    with _progress(total, console) as bar:
        task = bar.add_task("measuring", total=total)

        def step(text: str) -> None:
            bar.update(task, description=text, advance=1)

        verification = run_verification(instances, plans, host_netns=host_netns, out_dir=out,
                                        max_seconds=max_seconds, progress=step, notes=notes)
        bar.update(task, description="done", completed=total)
    results = results_document(verification)
    (verification.report.parent / "results.json").write_text(dump_json(results) + "\n")
    if fmt == "json":
        click.echo(dump_json(results))
        return verification
    for note in verification.notes:
        console.print(note)
    console.print(_side_by_side(verification))
    for verdict in verification.verdicts:
        colour = {Outcome.PASS: "green", Outcome.FAIL: "bold red"}.get(verdict.outcome, "yellow")
        line = Text(f"{verdict.outcome.value:>14} ", style=colour)
        line.append(f"{verdict.check}: {verdict.rule}")
        console.print(line)
    console.print(f"report: {verification.report} (data: results.json beside it)")
    return verification


def _plans(loaded: Scenario, servers: Sequence[Server], profile: str | None, facts: HostFacts,
           instances: Sequence[Instance]) -> list[HostPlan]:
    return host_plans(loaded, servers, scenario_profile(loaded, profile), facts, instances)


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise PermanentHostError(f"{what} needs {_NEEDS_ROOT}; run `vmqos plan` or "
                                 "`vmqos apply` (which prints its plan without root) instead")


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@profile_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="report directory (default: ./vmqos-lab-<time>)")
@click.option("--max-seconds", type=click.IntRange(3, 60), default=8, show_default=True,
              help="longest traffic measurement per port and direction")
@click.option("--keep", is_flag=True, help="keep the instances afterwards (default: remove)")
@click.option("--node", "in_node", is_flag=True,
              help="run the lab inside the reference node (`vmqos node`: Debian's stock "
              "kernel, which has sfq, fw and police), so libvirt's exact tc program runs")
@click.option("--rate-divisor", type=click.IntRange(1, 1024), default=None,
              help="divide every network rate and burst by N and say so (default 1; with "
              "--node: chosen from the node's measured veth capacity)")
@format_option("json: the results on stdout (as results.json), progress and messages "
               "on stderr")
def lab(scenario: str | None, profile: str | None, out: str | None, max_seconds: int,
        keep: bool, in_node: bool, rate_divisor: int | None, fmt: str) -> None:
    """Reproduce SCENARIO's experiment (default: the seed lab) on this host and prove it:
    build one sandbox per server, apply every limit, measure it (iperf3 per port and
    direction, CPU shares on one CPU, direct disk I/O), print configured against measured
    side by side, write a report with plots, and clean up — also when interrupted.

    Without root it prints the plan and exactly what it needed.

    \b
    Examples:
      vmqos lab                       the seed: m1.normal vs m1.resquota + bw-limiter
      vmqos lab examples/seed.yaml --out /tmp/seed-lab --keep
      vmqos lab --format json | jq '.verdicts[] | select(.outcome != "pass")'
      vmqos lab --node                libvirt's exact program, in the reference node
    """
    loaded = load_scenario(scenario)
    if os.geteuid() != 0:
        print_dry_run(loaded, list(loaded.servers), profile, fmt)
        raise PermanentHostError(f"not run: vmqos lab needs {_NEEDS_ROOT}")
    report_dir = Path(out or f"vmqos-lab-{time.strftime('%Y%m%d-%H%M%S')}")
    console = make_console(stderr=fmt == "json")
    if in_node:
        _lab_in_node(loaded, scenario, profile, report_dir, keep, max_seconds, rate_divisor,
                     console, fmt)
        return
    divisor = rate_divisor or 1
    base = SandboxConfig.from_env()
    config = base.for_lab()
    facts = observe_host_facts()
    notes = [f"host: kernel {facts.kernel}, iproute2 {facts.iproute2}"]
    if divisor > 1:
        loaded = scale_scenario_rates(loaded, divisor)
        notes.append(f"every network rate and burst of the scenario divided by {divisor}: "
                     "each check compares against the divided value")
    with _interruptible():
        verification = _build_apply_verify(loaded, profile, config, facts, report_dir, keep,
                                           max_seconds, console, fmt, notes)
    if verification.failed:
        raise VerificationError(f"{len(verification.failed)} check(s) outside tolerance; "
                                f"see {verification.report}")


def _lab_in_node(loaded: Scenario, scenario: str | None, profile: str | None,
                 report_dir: Path, keep: bool, max_seconds: int, rate_divisor: int | None,
                 console: Console, fmt: str) -> None:
    """``vmqos lab --node``: the same lab inside the reference node; its output and report,
    brought back, with what the node was and why the rates were divided."""
    text = None if scenario is None else Path(scenario).read_text()
    args = ["--max-seconds", str(max_seconds), *(["--keep"] if keep else []),
            *(["--profile", profile] if profile else [])]
    with _interruptible():
        done = run_node_lab(NodeConfig.from_env("lab"), loaded, text, out_dir=report_dir,
                            lab_args=args, rate_divisor=rate_divisor, columns=console.width,
                            progress=lambda line: console.print(f"[dim]node:[/] {line}"))
    if fmt == "json":
        click.echo(dump_json(done.to_json()))
    else:
        click.echo(done.stdout, nl=False)
        capacity = ("" if done.capacity_bps is None else
                    f" (bare veth in the node: {format_bits_per_sec(int(done.capacity_bps))}, "
                    f"the scenario's highest rate {format_bits_per_sec(int(done.max_rate_bps))})")
        console.print(f"reference node: kernel {done.release}, booted in {done.boot_seconds} s; "
                      f"lab {done.lab_seconds:.0f} s; rates divided by {done.rate_divisor}"
                      f"{capacity}")
    if done.exit_status != 0:
        raise VerificationError(
            f"the lab in the node ended with exit status {done.exit_status}: "
            f"{done.stderr.strip()[-3000:]}\n--- guest console, last lines ---\n"
            f"{done.console_tail}")


def _build_apply_verify(loaded: Scenario, profile: str | None, config: SandboxConfig,
                        facts: HostFacts, report_dir: Path, keep: bool, max_seconds: int,
                        console: Console, fmt: str,
                        notes: Sequence[str] = ()) -> Verification:
    """The lab's work, always followed by its cleanup (unless ``keep``)."""
    try:
        built = build_and_apply(loaded, loaded.servers, scenario_profile(loaded, profile),
                                config, facts)
        for plan, changes in built.applied:
            console.print(f"[bold]{plan.instance}[/] ({plan.flavor}): {changes} change(s) applied")
            for port in plan.ports:
                if port.objects:
                    codes = ", ".join(dict.fromkeys(sub.code for sub in port.substitutions))
                    console.print(f"  {port.dev}: {_STRATEGY[port.strategy]}"
                                  + (f" ({codes})" if codes else ""))
            for sub in dict.fromkeys(s.text for s in plan.all_substitutions):
                console.print(f"  [yellow]substituted[/] {sub}")
        instances, plans = list(built.instances), [plan for plan, _ in built.applied]
        return _verify_and_report(instances, plans, LAB_HOST_NETNS, report_dir, max_seconds,
                                  fmt, notes)
    finally:
        if not keep:
            removed = remove_all(config)
            console.print(f"cleaned up: {len(removed)} object(s) removed")


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--server", "server_name", help="only this server (name or id)")
@profile_option
@click.option("--out", type=click.Path(file_okay=False), default="vmqos-verify",
              show_default=True, help="report directory")
@click.option("--max-seconds", type=click.IntRange(3, 60), default=8, show_default=True)
@format_option("json: the results on stdout (as results.json), progress and messages "
               "on stderr")
def verify(scenario: str | None, server_name: str | None, profile: str | None, out: str,
           max_seconds: int, fmt: str) -> None:
    """Measure instances built by `vmqos apply` against their plan (iperf3 per port and
    direction, CPU shares, disk I/O) and write a report. The taps must live in a vmqos
    namespace (apply with VMQOS_HOST_NETNS=vmqos-…): vmqos only sends traffic between
    namespaces it created.

    \b
    Example:
      VMQOS_HOST_NETNS=vmqos-host vmqos apply && VMQOS_HOST_NETNS=vmqos-host vmqos verify
    """
    require_root("vmqos verify")
    loaded = load_scenario(scenario)
    servers = select_servers(loaded, server_name)
    config = SandboxConfig.from_env()
    if config.host_netns is None:
        raise ValidationError(
            "vmqos verify measures between namespaces vmqos created: set VMQOS_HOST_NETNS "
            "(e.g. vmqos-host) for apply and verify", key="VMQOS_HOST_NETNS", value=None,
            allowed="vmqos-…")
    instances = []
    for server in servers:
        instance = find_instance(config, server.name)
        if instance is None:
            raise ValidationError(f"no instance for server {server.name!r}: run `vmqos apply` "
                                  "first", key="SERVER", value=server.name,
                                  allowed="a server applied with `vmqos apply`")
        instances.append(instance)
    facts = observe_host_facts()
    plans = _plans(loaded, servers, profile, facts, instances)
    verification = _verify_and_report(instances, plans, config.host_netns, Path(out),
                                      max_seconds, fmt)
    if verification.failed:
        raise VerificationError(f"{len(verification.failed)} check(s) outside tolerance")
