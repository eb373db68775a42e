"""The ``vmqos`` command: entry point, error boundary, and the scenario commands.

Exit codes: 0 success; 2 bad input (a message naming the key, the value and what is allowed;
click's own usage errors use 2 as well); 1 a host or verification failure; 70 a bug (the
traceback is printed — a bug is never hidden).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

import click

from vmqos import __version__
from vmqos.errors import VmqosError

__all__ = ["COMMANDS", "cli", "main"]

EXIT_BUG = 70


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command lives, and the one line `vmqos --help` shows for it without loading it."""

    module: str
    summary: str


# Each command is imported only when it runs (or its own --help is asked for): `vmqos --help`
# loads click alone, `vmqos validate` the validators, never matplotlib, FastAPI or the host
# layer. A summary is the first sentence of the command's docstring, which is all click shows
# of it in the list (tests/cli/test_startup.py holds the two equal).
COMMANDS: dict[str, LazyCommand] = {
    "demo": LazyCommand("vmqos.cli.explain",
                            "The main job on built-in defaults: explain the seed lab's two "
                            "servers, then print their compute-node plan (what `bash "
                            "run.sh` runs)."),
    "explain": LazyCommand("vmqos.cli.explain",
                            "Explain SCENARIO (default: the built-in seed): per server, "
                            "port and direction, every layer that limits traffic — libvirt "
                            "tc on the tap, OVS policing/queues, OVN, SR-IOV — in bit/s and "
                            "bytes, the effective limit, the rule that decides it, and the "
                            "traps."),
    "plan": LazyCommand("vmqos.cli.explain",
                            "Print every compute-node artifact for the servers of SCENARIO "
                            "(default: the seed): libvirt domain XML, QEMU throttling, "
                            "cgroup writes, libvirt's tc or ovs-vsctl program and the `tc "
                            "show` text it leaves, and what the Neutron agent writes for "
                            "each port."),
    "render": LazyCommand("vmqos.cli.render",
                            "Print one compute-node artifact for flavor properties (or "
                            "Neutron rules)."),
    "validate": LazyCommand("vmqos.cli.validate",
                            "Validate flavor properties as Nova (>= 2.86) does and QoS "
                            "rules as Neutron does."),
    "host": LazyCommand("vmqos.cli.host",
                            "The host vmqos enforces on."),
    "apply": LazyCommand("vmqos.cli.host",
                            "Enforce SCENARIO's servers (default: the built-in seed) on "
                            "this host."),
    "cleanup": LazyCommand("vmqos.cli.host",
                            "Remove everything vmqos created on this host — sandboxes "
                            "(namespaces, veths and their qdiscs, IFBs, cgroups, loop "
                            "devices and their files) and its record — and nothing else."),
    "serve": LazyCommand("vmqos.cli.serve",
                            "Serve the OpenStack-compatible API (Keystone, Nova, Neutron, "
                            "Glance subsets) for the unmodified `openstack` client; each "
                            "server's plan is GET /compute/v2.1/servers/{id}/vmqos-plan."),
    "bootstrap": LazyCommand("vmqos.cli.serve",
                            "Create the admin user and project (or reset the admin's "
                            "password) and print an openrc and a clouds.yaml entry for the "
                            "`openstack` client."),
    "lab": LazyCommand("vmqos.cli.lab",
                            "Reproduce SCENARIO's experiment (default: the seed lab) on "
                            "this host and prove it: build one sandbox per server, apply "
                            "every limit, measure it (iperf3 per port and direction, CPU "
                            "shares on one CPU, direct disk I/O), print configured against "
                            "measured side by side, write a report with plots, and clean up "
                            "— also when interrupted."),
    "verify": LazyCommand("vmqos.cli.lab",
                            "Measure instances built by `vmqos apply` against their plan "
                            "(iperf3 per port and direction, CPU shares, disk I/O) and "
                            "write a report."),
    "node": LazyCommand("vmqos.cli.node",
                            "The reference compute node: a throwaway QEMU/TCG guest with "
                            "Debian's stock kernel (sfq, fw, police, the OVS kernel datapath, "
                            "cgroup v2) running this host's own userspace."),
    "audit": LazyCommand("vmqos.cli.audit",
                            "Read the host's actual state and report drift from the intent, "
                            "per server and object."),
    "agent": LazyCommand("vmqos.cli.agent",
                            "Audit this compute node against the cloud, round after round, "
                            "and export Prometheus metrics."),
}


class LazyGroup(click.Group):
    """A click group whose commands in :data:`COMMANDS` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            command = getattr(importlib.import_module(COMMANDS[cmd_name].module), cmd_name)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's own command list, with a stand-in built from the summary for each command
        not loaded yet, so that --help imports none of them."""
        commands = [(name, self.commands.get(name)
                     or click.Command(name, help=COMMANDS[name].summary))
                    for name in self.list_commands(ctx)]
        shown = [(name, command) for name, command in commands if not command.hidden]
        limit = formatter.width - 6 - max(len(name) for name, _ in shown)
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit))
                                for name, command in shown])


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn vmqos errors into one-line messages and exit codes."""
    try:
        # Without standalone mode click returns, rather than raises, the status of a command
        # that ends with ``click.exceptions.Exit`` (``vmqos node run`` passes its command's).
        code = cli.main(args=argv, prog_name="vmqos", standalone_mode=False)
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
        import traceback  # noqa: PLC0415 (10 ms of every start-up, for a bug only)

        traceback.print_exc()
        click.echo("vmqos: internal error (a bug): please report the traceback above",
                   err=True)
        return EXIT_BUG
    return code if type(code) is int else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
