"""``vmqos audit``: what this host enforces for each server, against the plan.

Thin: :mod:`vmqos.ops.audit` reads and decides; this module reads options and prints.
"""

from __future__ import annotations

import click

from vmqos.cli.console import dump_json, make_console, to_jsonable
from vmqos.cli.lab import require_root
from vmqos.cli.options import format_option, profile_option
from vmqos.cli.scenario_io import load_scenario, select_servers
from vmqos.errors import VerificationError
from vmqos.host.state import SandboxConfig
from vmqos.ops.audit import AuditStatus, Section, audit_problems, audit_servers
from vmqos.profile import get_profile

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
@format_option()
def audit(scenario: str | None, server_name: str | None, profile: str | None,
          fix: bool, fmt: str) -> None:
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
    Examples:
      vmqos audit
      vmqos audit examples/seed.yaml --server vm_resquota --fix
      vmqos audit --format json | jq '.servers[] | select(.drifted)'
    """
    require_root("vmqos audit")
    loaded = load_scenario(scenario)
    servers = select_servers(loaded, server_name)
    audits = audit_servers(loaded, servers, get_profile(profile or loaded.profile),
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


def _section_line(server: str, kind: str, section: Section) -> str:
    detail = f" ({section.detail})" if section.detail else ""
    count = f": {len(section.differences)} difference(s)" if section.differences else ""
    style = _STYLE[section.status]
    return f"[bold]{server}[/] {kind}: [{style}]{section.status}[/]{count}{detail}"
