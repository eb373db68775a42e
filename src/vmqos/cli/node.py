"""``vmqos node start|run|stop|status``: the reference compute node from the command line.

Thin: vmqos.node.lifecycle does the work. A node started here is detached — it outlives this
command until ``vmqos node stop``. ``run`` prints the command's stdout and stderr as they came
and exits with its status (128+N if signal N killed it, as a shell reports it; 124 if it
timed out, as coreutils ``timeout`` does).
"""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from vmqos.cli.console import dump_json
from vmqos.cli.options import format_option
from vmqos.errors import ValidationError
from vmqos.node.config import NodeConfig
from vmqos.node.lifecycle import Node, node_status, stop_node

__all__ = ["node"]

_name_option = click.option("--name", default="default", show_default=True,
                            help="which node (each has its own run directory)")


def _config(name: str) -> NodeConfig:
    return NodeConfig.from_env(name)


def _parse_env(values: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"--env {item!r}: expected NAME=VALUE, e.g. LC_ALL=C",
                                  key="--env", value=item, allowed="NAME=VALUE")
        env[key] = value
    return env


@click.group()
def node() -> None:
    """The reference compute node: a throwaway QEMU/TCG guest with Debian's stock kernel
    (sfq, fw, police, the OVS kernel datapath, cgroup v2) running this host's own userspace.

    \b
    Example:
      vmqos node start
      vmqos node run -- tc qdisc add dev lo root sfq
      vmqos node stop
    """


@node.command()
@_name_option
@click.option("--memory", "memory_mib", type=int, default=None,
              help="guest RAM in MiB (default 1024)")
@click.option("--cpus", type=int, default=None, help="vCPUs (default 1)")
@click.option("--boot-timeout", "boot_timeout_s", type=float, default=None,
              help="seconds to wait for the guest agent (default 300)")
@format_option()
def start(name: str, memory_mib: int | None, cpus: int | None, boot_timeout_s: float | None,
          fmt: str) -> None:
    """Build (once, cached) and boot the node, and leave it running until `vmqos node stop`;
    cleans up first after an earlier vmqos that died."""
    config = _config(name)
    config = replace(config, memory_mib=memory_mib or config.memory_mib,
                     cpus=cpus or config.cpus,
                     boot_timeout_s=boot_timeout_s or config.boot_timeout_s)
    started = Node.start(config, detach=True)
    status = node_status(config)
    if fmt == "json":
        click.echo(dump_json(status.to_json()))
    else:
        click.echo(f"node {name!r} running: kernel {started.record.release}, booted in "
                   f"{started.record.boot_seconds} s (console: {config.paths.console_log})")


@node.command(context_settings={"ignore_unknown_options": True})
@_name_option
@click.option("--timeout", "timeout_s", type=float, default=None,
              help="seconds the command may take (default 120); then it is killed (exit 124)")
@click.option("--env", "env_items", multiple=True, metavar="NAME=VALUE",
              help="an environment variable for the command (repeatable)")
@format_option()
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
def run(name: str, timeout_s: float | None, env_items: tuple[str, ...], fmt: str,
        argv: tuple[str, ...]) -> None:
    """Run a command in the running node (`vmqos node run -- CMD ARGS...`), print its output
    and exit with its status."""
    env = _parse_env(env_items)
    result = Node.attach(_config(name)).run(argv, env=env, timeout_s=timeout_s)
    if fmt == "json":
        click.echo(dump_json(result.to_json()))
    else:
        sys.stdout.buffer.write(result.stdout)
        sys.stdout.buffer.flush()
        sys.stderr.buffer.write(result.stderr)
        sys.stderr.buffer.flush()
    status = result.exit_status
    raise click.exceptions.Exit(status if status >= 0 else 128 - status)


@node.command()
@_name_option
@format_option()
def stop(name: str, fmt: str) -> None:
    """Power the node off (then SIGTERM, then SIGKILL) and remove its processes, sockets and
    record; also cleans up after a vmqos that died."""
    config = _config(name)
    was_running = stop_node(config)
    if fmt == "json":
        click.echo(dump_json({"name": name, "was_running": was_running, "state": "stopped"}))
    else:
        click.echo(f"node {name!r} stopped" if was_running else
                   f"node {name!r} was not running (cleaned up)")


@node.command()
@_name_option
@format_option()
def status(name: str, fmt: str) -> None:
    """Whether the node runs, its processes, kernel and boot time."""
    state = node_status(_config(name))
    if fmt == "json":
        click.echo(dump_json(state.to_json()))
        return
    record = state.record
    line = f"node {name!r}: {state.state}"
    if record is not None and state.state != "stopped":
        pids = ", ".join(f"{p.role} {p.pid}" for p in record.processes)
        line += (f" (kernel {record.release}, booted in {record.boot_seconds} s; {pids}; "
                 f"owner {record.owner.pid if record.owner else 'none: detached'})")
    if state.state == "stale":
        line += f"; its owner is gone: `vmqos node stop --name {name}` cleans it up"
    click.echo(line)
