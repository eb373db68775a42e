"""``vmqos explain``, ``vmqos plan`` and ``vmqos demo``: a scenario's effective limits and
its compute-node artifacts, computed from intent alone (no host is touched)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import click

from vmqos.cli.console import dump_json, make_console
from vmqos.cli.options import format_option, profile_option, scenario_profile
from vmqos.cli.output import explanation_json, print_explanation
from vmqos.cli.scenario_io import load_scenario, select_servers
from vmqos.errors import FindingsError
from vmqos.intent.findings import Severity, distinct
from vmqos.jsonable import to_jsonable
from vmqos.plan.explain.explain import ScenarioExplanation, explain_scenario
from vmqos.plan.explain.prediction import ScenarioPrediction, predict_explanation
from vmqos.plan.predict import parse_size
from vmqos.plan.server_plan import compile_server_plan, render_server_plan_text
from vmqos.store.cloud_reader import read_cloud

if TYPE_CHECKING:
    from vmqos.reconcile.strategy import Substitution

__all__ = ["demo", "explain", "plan"]


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@profile_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts")
@click.option("--cloud", help="read this clouds.yaml cloud (openstacksdk) instead of SCENARIO")
@click.option("--server", "server_name", help="only this server (name or id), and its plan")
@click.option("--on-this-host", is_flag=True,
              help="also show what `vmqos apply` would substitute on this host's kernel "
                   "(probes the kernel: needs root)")
@click.option("--keep-going", is_flag=True,
              help="SCENARIO: set aside each bad flavor, rule, network, port or server with a "
                   "finding and explain the rest (exit 0), instead of stopping at the first "
                   "bad value (exit 2); --cloud always keeps going")
@click.option("--strict", is_flag=True,
              help="exit 1 when any finding has severity error, set-aside elements included "
                   "(the output is printed first)")
@click.option("--predict", "predict_size", is_flag=False, flag_value="1GiB", default=None,
              metavar="[SIZE]",
              help="also predict, before measuring, each limited port direction's bulk TCP "
                   "goodput over time and how long SIZE (default 1GiB; B, kB, MB, GB, KiB, "
                   "MiB, GiB) takes, each disk's direct I/O, and the CPU shares")
def explain(scenario: str | None, profile: str | None, fmt: str, cloud: str | None,
            server_name: str | None, on_this_host: bool, keep_going: bool,
            strict: bool, predict_size: str | None) -> None:
    """Explain SCENARIO (default: the built-in seed): per server, port and direction, every
    layer that limits traffic — libvirt tc on the tap, OVS policing/queues, OVN, SR-IOV —
    in bit/s and bytes, the effective limit, the rule that decides it, and the traps.

    A cloud may hold what Nova stored unchecked below microversion 2.86 (a flavor with
    quota:cpu_shares=abc), servers in ERROR, rules Neutron refuses today: each is set aside
    with a finding (what Nova or libvirt does with it; JSON: the top-level "set_aside" list)
    and everything else is explained. --keep-going does the same for SCENARIO; --strict
    makes any error-severity finding exit 1.

    \b
    Examples:
      vmqos explain examples/seed.yaml
      vmqos explain examples/seed.yaml --profile modern --format json | jq .
      vmqos explain --cloud vmqos --server vm_resquota   a cloud from clouds.yaml
      vmqos explain --cloud vmqos --strict               exit 1 on any error finding
      vmqos explain my.yaml --keep-going --format json | jq .set_aside
      vmqos explain --server vm_resquota --predict       1 GiB through each limit
    """
    if cloud:
        loaded = read_cloud(cloud, profile=profile or "modern", server=server_name)
    else:
        loaded = load_scenario(scenario, keep_going=keep_going)
        loaded = replace(loaded, servers=tuple(select_servers(loaded, server_name)))
    chosen = scenario_profile(loaded, profile)
    explanation = explain_scenario(loaded, chosen)
    prediction = None if predict_size is None else predict_explanation(
        loaded, explanation, chosen, parse_size(predict_size, key="--predict"))
    plans = [compile_server_plan(loaded, s, scenario_profile(loaded, profile))
             for s in loaded.servers] if server_name else []
    substitutions: dict[str, list[Substitution]] = {}
    if on_this_host:
        # The host layer (netlink, the kernel probes) loads only for the option that uses it.
        from vmqos.cli.host import host_substitutions  # noqa: PLC0415

        substitutions = host_substitutions(loaded, profile)
    if fmt == "json":
        data = explanation_json(explanation)
        if plans:
            data["plans"] = plans
        if on_this_host:
            data["host_substitutions"] = substitutions
        if prediction is not None:
            data["prediction"] = to_jsonable(prediction)
        click.echo(dump_json(data))
    else:
        print_explanation(make_console(), explanation)
        for server, subs in substitutions.items():
            click.echo(f"\non this host, `vmqos apply` enforces {server} with "
                       f"{len(subs)} substitution(s):")
            click.echo("".join(f"  {s.subject} [{s.code}] {s.text}\n" for s in subs), nl=False)
        click.echo("".join(render_server_plan_text(p) for p in plans), nl=False)
        if prediction is not None:
            click.echo(_prediction_text(prediction), nl=False)
    if strict:
        _exit_if_errors(explanation)


def _prediction_text(prediction: ScenarioPrediction) -> str:
    lines = ["\npredicted before measuring (bulk TCP, a greedy direct-I/O guest, fluid model):"]
    lines += [f"  {p.device} {p.direction.value}: {p.text}" for p in prediction.ports]
    lines += [f"  {d.server} {d.target_dev} {d.unit.value}: {d.text}" for d in prediction.disks]
    lines += [f"  {c.server} CPU: weight {c.weight} -> {c.share:.1%} of one CPU when every "
              "server is busy on it" for c in prediction.cpu]
    return "\n".join(lines) + "\n"


def _exit_if_errors(explanation: ScenarioExplanation) -> None:
    """``--strict``: exit 1 (one line on stderr, after the output) when any finding is an
    error."""
    errors = [f for f in distinct(explanation.findings()) if f.severity is Severity.ERROR]
    if errors:
        raise FindingsError(f"--strict: {len(errors)} error-severity finding(s), "
                            f"{len(explanation.set_aside)} element(s) set aside")


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--server", "server_name", help="only this server (name or id)")
@profile_option
@format_option()
def plan(scenario: str | None, server_name: str | None, profile: str | None, fmt: str) -> None:
    """Print every compute-node artifact for the servers of SCENARIO (default: the seed):
    libvirt domain XML, QEMU throttling, cgroup writes, libvirt's tc or ovs-vsctl program and
    the `tc show` text it leaves, and what the Neutron agent writes for each port.

    \b
    Examples:
      vmqos plan examples/seed.yaml --server vm_resquota
      vmqos plan examples/seed.yaml --profile modern --format json
    """
    loaded = load_scenario(scenario)
    chosen = scenario_profile(loaded, profile)
    servers = select_servers(loaded, server_name)
    plans = [compile_server_plan(loaded, s, chosen) for s in servers]
    if fmt == "json":
        click.echo(dump_json(plans))
    else:
        click.echo("\n".join(render_server_plan_text(p) for p in plans), nl=False)


@click.command()
@profile_option
def demo(profile: str | None) -> None:
    """The main job on built-in defaults: explain the seed lab's two servers, then print their
    compute-node plan (what `bash run.sh` runs).

    \b
    Examples:
      vmqos demo
      vmqos demo --profile modern      the same lab on a current compute node
    """
    scenario = load_scenario(None)
    chosen = scenario_profile(scenario, profile)
    console = make_console()
    console.rule("[bold]vmqos explain[/] — the seed lab (examples/seed.yaml)")
    print_explanation(console, explain_scenario(scenario, chosen))
    console.rule("[bold]vmqos plan[/] — what the compute node does")
    click.echo("\n".join(render_server_plan_text(compile_server_plan(scenario, s, chosen))
                         for s in scenario.servers), nl=False)
