"""``vmqos host facts``, ``vmqos apply`` and ``vmqos cleanup``: enforcing plans on this host.

Thin: every decision is in vmqos.plan (strategy, host_plan, reconcile) and every host action
in vmqos.host; this module reads options, calls them and prints.

Exit codes (see vmqos.cli.main): 0 done; 2 bad input; 1 a host failure — including "not
root": without root, ``apply`` prints the plan it would apply (for a host offering libvirt's
whole program) and exactly what it needed, then exits 1, because nothing was enforced.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import click

from vmqos.cli.console import dump_json, to_jsonable
from vmqos.cli.options import format_option, profile_option, scenario_profile
from vmqos.cli.scenario_io import load_scenario, select_servers
from vmqos.errors import HostError, PermanentHostError
from vmqos.host.apply import ApplyResult, apply_host_plan
from vmqos.host.facts import observe_host_facts
from vmqos.host.sandbox import Instance, ensure_instance, remove_all
from vmqos.host.state import SandboxConfig
from vmqos.intent.scenario import Scenario, Server
from vmqos.reconcile.diff import reconcile, render_actions
from vmqos.reconcile.facts import FULL_FACTS, HostFacts
from vmqos.reconcile.host_plan import HostPlan, SandboxLayout, compile_host_plan
from vmqos.reconcile.state import HostState
from vmqos.reconcile.strategy import Substitution

__all__ = ["NEEDS_ROOT", "apply", "cleanup", "host", "host_substitutions", "print_dry_run"]

NEEDS_ROOT = (
    "root (CAP_NET_ADMIN and CAP_SYS_ADMIN): to probe the kernel's tc support in a throwaway "
    "network namespace, create the instances' namespaces, veth pairs and IFBs, write tc "
    "through netlink/tc, create cgroups under /sys/fs/cgroup and attach loop devices")


def _facts_lines(facts: HostFacts) -> list[str]:
    def kinds(values: frozenset[str]) -> str:
        return ", ".join(sorted(values)) if facts.probed else "unknown (not probed: not root)"

    return [
        f"kernel       {facts.kernel}   iproute2 {facts.iproute2 or 'not found'}",
        f"qdiscs       {kinds(facts.qdiscs)}",
        f"classifiers  {kinds(facts.classifiers)}",
        f"actions      {kinds(facts.actions)}",
        f"link kinds   {kinds(facts.link_kinds)}",
        f"cgroup       {facts.cgroup_version}: {', '.join(sorted(facts.cgroup_controllers))}"
        + "".join(f"\n             {c} at {p}" for c, p in facts.cgroup_v1_mounts
                  if c in ("cpu", "blkio"))
        + (f"\n             cgroup2 at {facts.cgroup2_mount}" if facts.cgroup2_mount else ""),
        f"PID 1        {facts.pid1 or '?'} (systemd: {'yes' if facts.systemd else 'no'})",
        f"psched       {facts.psched_text}",
        "tools        " + ", ".join(f"{name} {'yes' if present else 'no'}" for name, present in
                                    (("libvirtd", facts.libvirtd), ("ovs-vsctl", facts.ovs_vsctl),
                                     ("iperf3", facts.iperf3))),
    ]


@click.group()
def host() -> None:
    """The host vmqos enforces on."""


@host.command("facts")
@format_option()
def facts_command(fmt: str) -> None:
    """What this host offers: qdisc, classifier and action kinds (probed for real in a
    throwaway network namespace — needs root), cgroup version and controllers, PID 1,
    iproute2, /proc/net/psched, and whether libvirtd, ovs-vsctl and iperf3 are installed.

    \b
    Example:
      vmqos host facts --format json
    """
    facts = observe_host_facts()
    if fmt == "json":
        click.echo(dump_json(facts.to_json()))
    else:
        click.echo("\n".join(_facts_lines(facts)))


def _subs_lines(subs: tuple[Substitution, ...]) -> list[str]:
    seen: dict[tuple[str, str], Substitution] = {}
    for sub in subs:
        seen.setdefault((sub.code, sub.text), sub)
    return [f"    {sub.subject} [{sub.code}] {sub.text}" for sub in seen.values()]


def _instance_json(instance: Instance | None, created: bool, plan: HostPlan,
                   result: ApplyResult | None, error: HostError | None) -> dict[str, Any]:
    return {
        "instance": plan.instance,
        "flavor": plan.flavor,
        "sandbox": instance.to_json() if instance is not None else None,
        "created": created,
        "changed": bool(result and result.changed),
        "actions": result.lines() if result is not None else render_actions(
            reconcile(plan.desired(), HostState())),
        "strategies": {port.dev: port.strategy for port in plan.ports},
        "substitutions": to_jsonable(plan.all_substitutions),
        "enforced": to_jsonable(plan.enforced),
        "error": str(error) if error is not None else None,
    }


def print_dry_run(loaded: Scenario, servers: list[Server], profile: str | None,
                  fmt: str = "text") -> None:
    """Without root: print what apply would run for ``servers`` (planned for a host offering
    libvirt's whole program, since the kernel cannot be probed). The caller then raises,
    saying what it needed (:data:`NEEDS_ROOT`)."""
    plans = _dry_plans(loaded, servers, profile, SandboxConfig.from_env())
    if fmt == "json":
        click.echo(dump_json({"applied": False, "needs": NEEDS_ROOT, "instances": [
            _instance_json(None, False, p, None, None) for p in plans]}))
        return
    for plan in plans:
        click.echo(f"{plan.instance}: would run (on a host offering libvirt's program):")
        click.echo("\n".join(f"  {line}" for line in render_actions(
            reconcile(plan.desired(), HostState()))) or "  (nothing)")
        subs = _subs_lines(plan.all_substitutions)
        if subs:
            click.echo("  substitutions and notes:")
            click.echo("\n".join(subs))


def _dry_plans(loaded: Scenario, servers: list[Server], profile: str | None,
               config: SandboxConfig) -> list[HostPlan]:
    # Not probed (no root): plan for a host offering libvirt's whole program.
    facts = replace(observe_host_facts(probe=False), qdiscs=FULL_FACTS.qdiscs,
                    classifiers=FULL_FACTS.classifiers, actions=FULL_FACTS.actions,
                    link_kinds=FULL_FACTS.link_kinds)
    chosen = scenario_profile(loaded, profile)
    plans = []
    for server in servers:
        taps = tuple(loaded.port(p).tap for p in server.ports)
        layout = SandboxLayout(server.name, taps, f"{config.prefix}/{server.name}", "MAJ:MIN")
        plans.append(compile_host_plan(loaded, server, chosen, facts, layout))
    return plans


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--server", "server_name", help="only this server (name or id)")
@profile_option
@format_option()
def apply(scenario: str | None, server_name: str | None, profile: str | None,
          fmt: str) -> None:
    """Enforce SCENARIO's servers (default: the built-in seed) on this host.

    Each server gets a sandbox standing in for its guest, built if missing: a network
    namespace, a veth pair per port whose host end carries Nova's tap name, a cgroup and a
    loop device as its disk. Then its tc, cgroup and disk limits are reconciled with what is
    there — minimal changes, one transaction per server, rolled back on any failure — using
    libvirt's own tc program where the kernel offers it and an equivalent one otherwise. Every
    substitution is printed. Applying twice changes nothing and says so.

    \b
    Environment: VMQOS_STATE_DIR (default /var/lib/vmqos), VMQOS_PREFIX (default vmqos),
    VMQOS_HOST_NETNS (put the taps in this namespace instead of the current one).
    Without root: prints the plan and what it needed, exit 1.
    \b
    Examples:
      vmqos apply                                   # the seed's two servers
      vmqos apply examples/seed.yaml --server vm_resquota --format json
    """
    loaded = load_scenario(scenario)
    servers = select_servers(loaded, server_name)
    if os.geteuid() != 0:
        print_dry_run(loaded, servers, profile, fmt)
        raise PermanentHostError(f"not applied: vmqos apply needs {NEEDS_ROOT}")
    config = SandboxConfig.from_env()
    facts = observe_host_facts()
    chosen = scenario_profile(loaded, profile)
    records: list[dict[str, Any]] = []
    failures: list[HostError] = []
    for server in servers:
        instance, created = ensure_instance(config, facts, server.name, tuple(server.ports))
        plan = compile_host_plan(loaded, server, chosen, facts, instance.layout())
        result: ApplyResult | None = None
        error: HostError | None = None
        try:
            result = apply_host_plan(plan, netns=config.host_netns)
        except HostError as exc:
            error = exc
            failures.append(exc)
        records.append(_instance_json(instance, created, plan, result, error))
        if fmt == "text":
            _print_instance(instance, created, plan, result, error)
    if fmt == "json":
        click.echo(dump_json({"applied": not failures, "facts": facts.to_json(),
                              "host_netns": config.host_netns, "instances": records}))
    if failures:
        raise PermanentHostError("; ".join(str(f) for f in failures)) from failures[0]


def _print_instance(instance: Instance, created: bool, plan: HostPlan,
                    result: ApplyResult | None, error: HostError | None) -> None:
    where = (f"namespace {instance.netns}, {len(instance.ports)} tap(s), cgroup "
             f"{instance.cgroup}, disk {instance.loop_device} ({instance.disk})")
    click.echo(f"{plan.instance} ({plan.flavor}): sandbox {'created' if created else 'kept'}: "
               f"{where}")
    if error is not None:
        click.echo(f"  FAILED: {error}")
    elif result is not None:
        click.echo(f"  {result.summary}")
        click.echo("\n".join(f"    {line}" for line in result.lines()), nl=bool(result.lines()))
    for port in plan.ports:
        click.echo(f"  {port.dev}: {port.strategy}"
                   + (f" (IFB {port.ifb})" if port.ifb else ""))
    subs = _subs_lines(plan.all_substitutions)
    if subs:
        click.echo("  substitutions and notes:")
        click.echo("\n".join(subs))


@click.command()
@format_option()
def cleanup(fmt: str) -> None:
    """Remove everything vmqos created on this host — sandboxes (namespaces, veths and their
    qdiscs, IFBs, cgroups, loop devices and their files) and its record — and nothing else.

    Uses the records in VMQOS_STATE_DIR for the name prefix VMQOS_PREFIX and for the
    prefix of `vmqos lab` (vmqos-lab: what a lab killed with SIGKILL left behind).
    """
    if os.geteuid() != 0:
        raise PermanentHostError(f"vmqos cleanup needs {NEEDS_ROOT}")
    config = SandboxConfig.from_env()
    removed = remove_all(config) + remove_all(config.for_lab())
    if fmt == "json":
        click.echo(dump_json({"removed": removed}))
    elif removed:
        click.echo("\n".join(f"removed {item}" for item in removed))
    else:
        click.echo("nothing to clean up: vmqos has no record of objects on this host")


def host_substitutions(loaded: Scenario, profile: str | None) -> dict[str, list[Substitution]]:
    """Per server, where `vmqos apply` on this host's kernel departs from libvirt's program
    (for `vmqos explain --on-this-host`). Probing the kernel needs root."""
    if os.geteuid() != 0:
        raise PermanentHostError(f"--on-this-host probes the kernel and needs {NEEDS_ROOT}")
    facts = observe_host_facts()
    chosen = scenario_profile(loaded, profile)
    config = SandboxConfig.from_env()
    out: dict[str, list[Substitution]] = {}
    for server in loaded.servers:
        taps = tuple(loaded.port(p).tap for p in server.ports)
        layout = SandboxLayout(server.name, taps, f"{config.prefix}/{server.name}", "MAJ:MIN")
        plan = compile_host_plan(loaded, server, chosen, facts, layout)
        seen: dict[tuple[str, str, str], Substitution] = {}
        for sub in plan.all_substitutions:
            seen.setdefault((sub.code, sub.subject, sub.text), sub)
        out[server.name] = list(seen.values())
    return out
