"""The ``vmqos`` command: entry point, error boundary, and the scenario commands.

Exit codes: 0 success; 2 bad input (a message naming the key, the value and what is allowed;
click's own usage errors use 2 as well); 1 a host or verification failure; 70 a bug (the
traceback is printed — a bug is never hidden).
"""

from __future__ import annotations

import sys
import traceback
from importlib import resources
from pathlib import Path

import click
import yaml

from vmqos import __version__
from vmqos.cli.options import FORMATS, profile_option
from vmqos.cli.output import dump_json, explanation_json, make_console, print_explanation
from vmqos.cli.render import render
from vmqos.cli.validate import validate
from vmqos.errors import ValidationError, VmqosError
from vmqos.intent.scenario import Scenario
from vmqos.intent.scenario_parse import parse_scenario
from vmqos.plan.explain import explain_scenario
from vmqos.plan.profile import Profile, get_profile
from vmqos.plan.server_plan import compile_server_plan, render_server_plan_text

__all__ = ["cli", "main"]

EXIT_BUG = 70


def load_scenario(path: str | None) -> Scenario:
    """Read and validate a scenario file; ``None`` is the embedded seed scenario."""
    if path is None:
        text = resources.files("vmqos.scenarios").joinpath("seed.yaml").read_text()
        source = "the built-in seed scenario"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"cannot read scenario {path!r}: {exc.strerror}",
                                  key="SCENARIO", value=path,
                                  allowed="a readable YAML or JSON file") from exc
        except UnicodeDecodeError as exc:
            raise ValidationError(f"scenario {path!r} is not UTF-8 text: {exc.reason} at "
                                  f"byte {exc.start}", key="SCENARIO", value=path,
                                  allowed="a UTF-8 YAML or JSON file") from exc
        source = path
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source} is not valid YAML: {exc}".replace("\n", " "),
                              key="SCENARIO", value=path,
                              allowed="a YAML or JSON document") from exc
    return parse_scenario(data)


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
def explain(scenario: str | None, profile: str | None, fmt: str) -> None:
    """Explain SCENARIO (default: the built-in seed): per server, port and direction, every
    layer that limits traffic — libvirt tc on the tap, OVS policing/queues, OVN, SR-IOV —
    in bit/s and bytes, the effective limit, the rule that decides it, and the traps.

    \b
    Example:
      vmqos explain examples/seed.yaml
      vmqos explain examples/seed.yaml --profile modern --format json | jq .
    """
    loaded = load_scenario(scenario)
    explanation = explain_scenario(loaded, _profile_for(loaded, profile))
    if fmt == "json":
        click.echo(dump_json(explanation_json(explanation)))
    else:
        print_explanation(make_console(), explanation)


@cli.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--server", "server_name", help="only this server (name or id)")
@profile_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
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
    servers = [s for s in loaded.servers if server_name in (None, s.name, s.id)]
    if server_name is not None and not servers:
        known = ", ".join(s.name for s in loaded.servers)
        raise ValidationError(f"--server: no server named {server_name!r}; known: {known}",
                              key="--server", value=server_name, allowed=known)
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
