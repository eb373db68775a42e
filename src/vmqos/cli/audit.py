"""``vmqos audit``: what this host enforces for each server, against the plan.

Thin: :mod:`vmqos.ops.audit` reads and decides; this module reads options and prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import click

from vmqos.cli.console import dump_json, make_console, to_jsonable
from vmqos.cli.lab import require_root
from vmqos.cli.options import format_option, profile_option, scenario_profile
from vmqos.cli.scenario_io import load_scenario, select_servers
from vmqos.errors import ValidationError, VerificationError
from vmqos.host.state import SandboxConfig
from vmqos.intent.scenario import Scenario, Server
from vmqos.ops.audit import (
    AuditStatus,
    Section,
    audit_problems,
    audit_servers,
    audit_transcript,
)

__all__ = ["audit"]

_STYLE = {AuditStatus.IN_SYNC: "green", AuditStatus.FIXED: "green",
          AuditStatus.DRIFTED: "yellow", AuditStatus.ABSENT: "dim",
          AuditStatus.NOT_AUDITED: "dim"}


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--server", "server_name", help="only this server (name or id)")
@profile_option
@click.option("--fix", is_flag=True, help="reconcile the vmqos instance: apply the minimal "
              "changes (libvirt domains are only read)")
@click.option("--from-text", "from_text", type=click.File("r"), metavar="FILE",
              help="audit a transcript of `tc qdisc|class|filter show dev TAP` pasted from a "
                   "compute node (- for stdin) instead of this host; needs no root")
@format_option()
def audit(scenario: str | None, server_name: str | None, profile: str | None,
          fix: bool, from_text: TextIO | None, fmt: str) -> None:
    """Read the host's actual state and report drift from the intent, per server and object.

    \b
    Two kinds of object are audited for each server:
      instance  the vmqos instance (`vmqos apply`): tc through netlink, cgroup files, the
                disk's throttle; --fix applies the minimal changes.
      libvirt   the libvirt domain named as Nova names it, when libvirtd answers at
                $LIBVIRT_DEFAULT_URI (default qemu:///system): its XML (virsh dumpxml:
                cputune, iotune, bandwidth) and, while it runs, what is enforced below
                libvirt (virsh schedinfo: the cgroup's shares/period/quota; virsh
                blkdeviotune: QEMU's throttling). Read-only.
    A server needs one of the two; exit 1 when anything drifted (and was not fixed).

    \b
    --from-text FILE audits a compute node vmqos does not run on: paste the session of
      # tc qdisc show dev TAP     # tc class show dev TAP     # tc filter show dev TAP
    for the servers' taps (prompts, Markdown fences and prose around them are ignored;
    -s/-d/-j are fine). Each tap's objects are compared as values with what the plan
    leaves there: qdiscs, HTB classes (rate, ceil, burst, cburst), filters and policers.

    \b
    Examples:
      vmqos audit
      vmqos audit examples/seed.yaml --server vm_resquota --fix
      vmqos audit --format json | jq '.servers[] | select(.drifted)'
      vmqos audit examples/seed.yaml --from-text comp-1-tc.txt
    """
    loaded = load_scenario(scenario)
    servers = select_servers(loaded, server_name)
    if from_text is not None:
        if fix:
            raise ValidationError("--fix reconciles this host; --from-text only reads a transcript",
                                  key="--fix", value=True, allowed="--fix or --from-text")
        _audit_transcript(loaded, servers, profile, from_text, fmt)
        return
    require_root("vmqos audit")
    audits = audit_servers(loaded, servers, scenario_profile(loaded, profile),
                           SandboxConfig.from_env(), fix=fix)
    if fmt == "json":
        click.echo(dump_json({"servers": [
            {"server": a.server, "drifted": a.drifted, "missing": a.missing,
             "instance": to_jsonable(a.instance), "libvirt": to_jsonable(a.libvirt)}
            for a in audits]}))
    else:
        console = make_console()
        for a in audits:
            for kind, section in (("instance", a.instance), ("libvirt", a.libvirt)):
                console.print(_section_line(a.server, kind, section))
                for line in section.differences:
                    console.print(f"  {line}")
    problems = audit_problems(audits, fixed=fix)
    if problems:
        raise VerificationError("; ".join(problems))


def _audit_transcript(loaded: Scenario, servers: Sequence[Server], profile: str | None,
                      source: TextIO, fmt: str) -> None:
    audits, unknown = audit_transcript(loaded, servers, scenario_profile(loaded, profile),
                                       source.read(), source=source.name)
    if fmt == "json":
        click.echo(dump_json({"servers": [
            {"server": a.server, "drifted": a.drifted,
             "ports": [{"device": p.device, **to_jsonable(p.section)} for p in a.ports]}
            for a in audits], "unknown_devices": unknown}))
    else:
        console = make_console()
        for a in audits:
            for port in a.ports:
                console.print(_section_line(a.server, port.device, port.section))
                for line in port.section.differences:
                    console.print(f"  {line}")
        if unknown:
            console.print(f"[dim]not ports of these servers: {', '.join(unknown)}[/]")
    drifted = [a.server for a in audits if a.drifted]
    if drifted:
        raise VerificationError(f"{len(drifted)} server(s) drifted from the plan "
                                f"({', '.join(drifted)})")


def _section_line(server: str, kind: str, section: Section) -> str:
    detail = f" ({section.detail})" if section.detail else ""
    count = f": {len(section.differences)} difference(s)" if section.differences else ""
    style = _STYLE[section.status]
    return f"[bold]{server}[/] {kind}: [{style}]{section.status}[/]{count}{detail}"
