"""The ``vmqos`` command: entry point, error boundary, and the scenario commands.

Exit codes: 0 success; 2 bad input (a message naming the key, the value and what is allowed;
click's own usage errors use 2 as well); 1 a host or verification failure; 70 a bug (the
traceback is printed — a bug is never hidden).
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import replace

import click

from vmqos import __version__
from vmqos.cli.host import apply, cleanup, host, host_substitutions
from vmqos.cli.lab import audit, lab, verify
from vmqos.cli.options import format_option, profile_option
from vmqos.cli.output import dump_json, explanation_json, make_console, print_explanation
from vmqos.cli.render import render
from vmqos.cli.scenario_io import load_scenario, select_servers
from vmqos.cli.serve import bootstrap, serve
from vmqos.cli.validate import validate
from vmqos.errors import VmqosError
from vmqos.intent.scenario import Scenario
from vmqos.plan.explain.explain import explain_scenario
from vmqos.plan.server_plan import compile_server_plan, render_server_plan_text
from vmqos.profile import Profile, get_profile
from vmqos.store.cloud_reader import read_cloud

__all__ = ["cli", "main"]

EXIT_BUG = 70


def _profile_for(scenario: Scenario, name: str | None) -> Profile:
    return get_profile(name or scenario.profile)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vmqos")
def cli() -> None:
    """OpenStack VM QoS, exact: from Nova flavor quota:* specs and Neutron QoS policies to
    every artifact a compute node produces, with the effective limits explained.

    \b
    Start with the seed lab (the note this project reproduces):
      vmqos demo                         explain + plan of the built-in seed scenario
      vmqos explain examples/seed.yaml   who limits which port, in which direction, and why
      vmqos plan examples/seed.yaml      domain XML, tc, cgroup, QEMU and OVS artifacts
    \b
    One artifact for a flavor, straight from `openstack flavor set --property` values:
      vmqos render tc --property quota:vif_inbound_average=32768 --dev tap0
      vmqos validate --property quota:cpu_shares=-1          (exit 2, Nova's message)

    Directions are always the VM's: inbound = to the guest = Neutron "ingress".
    """


@cli.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@profile_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts")
@click.option("--cloud", help="read this clouds.yaml cloud (openstacksdk) instead of SCENARIO")
@click.option("--server", "server_name", help="only this server (name or id), and its plan")
@click.option("--on-this-host", is_flag=True,
              help="also show what `vmqos apply` would substitute on this host's kernel "
                   "(probes the kernel: needs root)")
def explain(scenario: str | None, profile: str | None, fmt: str, cloud: str | None,
            server_name: str | None, on_this_host: bool) -> None:
    """Explain SCENARIO (default: the built-in seed): per server, port and direction, every
    layer that limits traffic — libvirt tc on the tap, OVS policing/queues, OVN, SR-IOV —
    in bit/s and bytes, the effective limit, the rule that decides it, and the traps.

    \b
    Example:
      vmqos explain examples/seed.yaml
      vmqos explain examples/seed.yaml --profile modern --format json | jq .
      vmqos explain --cloud vmqos --server vm_resquota   a cloud from clouds.yaml
    """
    if cloud:
        loaded = read_cloud(cloud, profile=profile or "modern", server=server_name)
    else:
        loaded = load_scenario(scenario)
        loaded = replace(loaded, servers=tuple(select_servers(loaded, server_name)))
    explanation = explain_scenario(loaded, _profile_for(loaded, profile))
    plans = [compile_server_plan(loaded, s, _profile_for(loaded, profile))
             for s in loaded.servers] if server_name else []
    substitutions = host_substitutions(loaded, profile) if on_this_host else {}
    if fmt == "json":
        data = explanation_json(explanation)
        if plans:
            data["plans"] = plans
        if on_this_host:
            data["host_substitutions"] = substitutions
        click.echo(dump_json(data))
    else:
        print_explanation(make_console(), explanation)
        for server, subs in substitutions.items():
            click.echo(f"\non this host, `vmqos apply` enforces {server} with "
                       f"{len(subs)} substitution(s):")
            click.echo("".join(f"  {s.subject} [{s.code}] {s.text}\n" for s in subs), nl=False)
        click.echo("".join(render_server_plan_text(p) for p in plans), nl=False)


@cli.command()
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
    chosen = _profile_for(loaded, profile)
    servers = select_servers(loaded, server_name)
    plans = [compile_server_plan(loaded, s, chosen) for s in servers]
    if fmt == "json":
        click.echo(dump_json(plans))
    else:
        click.echo("\n".join(render_server_plan_text(p) for p in plans), nl=False)


@cli.command()
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
    chosen = _profile_for(scenario, profile)
    console = make_console()
    console.rule("[bold]vmqos explain[/] — the seed lab (examples/seed.yaml)")
    print_explanation(console, explain_scenario(scenario, chosen))
    console.rule("[bold]vmqos plan[/] — what the compute node does")
    click.echo("\n".join(render_server_plan_text(compile_server_plan(scenario, s, chosen))
                         for s in scenario.servers), nl=False)


cli.add_command(render)
cli.add_command(validate)
cli.add_command(host)
cli.add_command(apply)
cli.add_command(cleanup)
cli.add_command(serve)
cli.add_command(bootstrap)
cli.add_command(lab)
cli.add_command(verify)
cli.add_command(audit)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn vmqos errors into one-line messages and exit codes."""
    try:
        cli.main(args=argv, prog_name="vmqos", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        # One line, like every other user error (click's own block is four lines).
        message = " ".join(exc.format_message().split())
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message += f" (see `{exc.ctx.command_path} --help`)"
        click.echo(f"vmqos: error: {message}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("vmqos: aborted", err=True)
        return 130
    except VmqosError as exc:
        click.echo(f"vmqos: error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception:  # the one place a bug is caught: show it in full, never hide it
        traceback.print_exc()
        click.echo("vmqos: internal error (a bug): please report the traceback above",
                   err=True)
        return EXIT_BUG
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
