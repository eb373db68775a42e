"""The explanation for people (rich tables) and scripts (JSON)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from vmqos.intent.findings import Finding, Severity, distinct
from vmqos.intent.set_aside import SetAside
from vmqos.jsonable import to_jsonable
from vmqos.limits import Limit
from vmqos.model import Direction, host_view
from vmqos.plan.explain.explain import (
    DirectionExplanation,
    PortExplanation,
    ScenarioExplanation,
    ServerExplanation,
)
from vmqos.units import format_bits_per_sec, format_bytes

__all__ = ["explanation_json", "print_explanation"]

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _limit_json(limit: Limit, port: PortExplanation) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(limit)
    data["device"] = port.device_of(limit)
    data["host_view"] = host_view(limit.enforcer, limit.direction)
    return data


def explanation_json(explanation: ScenarioExplanation) -> dict[str, Any]:
    """The explain JSON document: stable keys, both direction views on every layer, and the
    elements the reader set aside (``set_aside``, empty when there are none)."""

    def direction(d: DirectionExplanation, p: PortExplanation) -> dict[str, Any]:
        return {
            "direction": d.direction.value,
            "neutron_direction": d.direction.neutron,
            "layers": [_limit_json(x, p) for x in d.layers],
            "effective": None if d.effective is None else _limit_json(d.effective, p),
            "rule": d.rule,
            "overridden": [_limit_json(x, p) for x in d.overridden],
        }

    def port(p: PortExplanation) -> dict[str, Any]:
        return {
            "port_id": p.port_id,
            "network": p.network,
            "vif_type": p.vif_type.value,
            "device": p.device,
            "policy": p.policy,
            "policy_source": p.policy_source,
            "inbound": direction(p.inbound, p),
            "outbound": direction(p.outbound, p),
            "findings": to_jsonable(p.findings),
        }

    def server(s: ServerExplanation) -> dict[str, Any]:
        return {
            "name": s.name,
            "flavor": s.flavor,
            "cpu": to_jsonable(s.cpu),
            "disks": to_jsonable(s.disks),
            "ports": [port(p) for p in s.ports],
            "findings": to_jsonable(s.findings),
        }

    return {
        "profile": explanation.profile,
        "neutron_backend": explanation.neutron_backend,
        "servers": [server(s) for s in explanation.servers],
        # Findings across servers and ports (Placement's blind spots), always present.
        "findings": to_jsonable(explanation.scenario_findings),
        # Always present: each element left out, as {element, name, id, finding}.
        "set_aside": to_jsonable(explanation.set_aside),
    }


def _rate(limit: Limit | None) -> str:
    if limit is None or limit.rate is None:
        return "unlimited"
    text = format_bits_per_sec(limit.rate)
    if limit.burst is not None:
        text += f", burst {format_bytes(limit.burst)}"
    return text


def _layer_line(limit: Limit, port: PortExplanation, *, overridden: bool) -> Text:
    line = Text()
    style = "strike red" if overridden else "bold"
    line.append(limit.enforcer.value, style=style)
    device = port.device_of(limit)
    if device != port.device:
        line.append(f" [{device}]")
    line.append(": " + _rate(limit), style="strike red" if overridden else "")
    if limit.peak is not None:
        line.append(f", bursts at up to {format_bits_per_sec(limit.peak)}")
    if limit.min_rate is not None:
        line.append(f", min {format_bits_per_sec(limit.min_rate)}")
    if limit.packet_rate is not None:
        line.append(f", {limit.packet_rate} pps")
    if limit.dscp is not None:
        line.append(f", DSCP {limit.dscp}")
    if overridden:
        line.append(" (overridden)", style="red")
    line.append(f"\n  {host_view(limit.enforcer, limit.direction)} · {limit.source}",
                style="dim")
    return line


def _server_table(server: ServerExplanation) -> Table:
    table = Table(title=f"{server.name} ({server.flavor}): network", title_justify="left",
                  show_lines=True, expand=False)
    table.add_column("port", no_wrap=True)
    table.add_column("direction", no_wrap=True)
    table.add_column("layers (VM view → host view · from)")
    table.add_column("effective")
    for port in server.ports:
        first = True
        for direction in Direction:
            d = port.direction(direction)
            lines = [_layer_line(x, port, overridden=any(x is o for o in d.overridden))
                     for x in d.layers]
            layers = Text("\n").join(lines) if lines else Text("none", style="dim")
            where = Text("")
            if first:
                where = Text(f"{port.device}\n{port.network}\nvif {port.vif_type.value}")
                if port.policy:
                    where.append(f"\n{port.policy} ({port.policy_source})", style="cyan")
            effective = Text(_rate(d.effective), style="bold green" if d.effective else "")
            effective.append(f"\n{d.rule}", style="dim")
            table.add_row(where, f"{direction.value}\n{direction.arrow}\nNeutron "
                          f"{direction.neutron}", layers, effective)
            first = False
    return table


def print_explanation(console: Console, explanation: ScenarioExplanation) -> None:
    console.print(f"[bold]profile[/] {explanation.profile}   "
                  f"[bold]neutron backend[/] {explanation.neutron_backend}   "
                  "[dim](directions are the VM's: inbound = to the guest = Neutron ingress)[/]")
    for server in explanation.servers:
        cpu = server.cpu
        console.print(
            f"\n[bold]{server.name}[/] flavor {server.flavor}: CPU shares "
            f"{cpu.shares if cpu.shares is not None else '-'} ({cpu.shares_source}) → "
            f"{cpu.cgroup} {cpu.cgroup_value}"
            + "".join(f"; {note}" for note in cpu.notes))
        for disk in server.disks:
            limits = ", ".join(f"{k}={v}" for k, v in disk.limits) or "no limits"
            console.print(f"  disk {disk.target_dev} ({disk.kind}): {limits} — "
                          f"{disk.enforced_by}")
        console.print(_server_table(server))
        _print_findings(console, [*server.findings,
                                  *(f for p in server.ports for f in p.findings)],
                        f"{server.name}: findings")
    _print_findings(console, list(explanation.scenario_findings), "across servers: findings")
    _print_set_aside(console, explanation.set_aside)


def _print_set_aside(console: Console, entries: tuple[SetAside, ...]) -> None:
    """The elements left out of the explanation, after everything that was explained."""
    if not entries:
        return
    table = Table(title=f"set aside, not explained ({len(entries)})", title_justify="left",
                  show_lines=True)
    table.add_column("severity")
    table.add_column("element")
    table.add_column("key = value")
    table.add_column("what happens / what to do")
    for entry in entries:
        finding = entry.finding
        body = Text(finding.reason)
        body.append(f"\n→ {finding.advice}", style="italic")
        body.append(f"\n[{finding.code}]", style="dim")
        table.add_row(Text(finding.severity.value, style=_SEVERITY_STYLE[finding.severity]),
                      f"{entry.element.value}\n{entry.name}",
                      f"{finding.key}\n= {finding.value}", body)
    console.print(table)


def _print_findings(console: Console, findings: list[Finding], title: str) -> None:
    """A server's findings as a table beside its limits (``vmqos validate`` prints the same
    findings as diagnostics: :func:`vmqos.cli.console.findings_text`)."""
    unique = distinct(findings)
    if not unique:
        return
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("severity")
    table.add_column("key = value")
    table.add_column("what happens / what to do")
    for finding in unique:
        body = Text(finding.reason)
        body.append(f"\n→ {finding.advice}", style="italic")
        table.add_row(Text(finding.severity.value, style=_SEVERITY_STYLE[finding.severity]),
                      f"{finding.key}\n= {finding.value}", body)
    console.print(table)
