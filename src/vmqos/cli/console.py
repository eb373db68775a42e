"""Output for people (rich tables) and scripts (JSON) from the core's plain data values: the
pieces every command shares. Kept free of the plan's heavier modules so that a command that
only validates starts at once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from vmqos.intent.findings import Finding, Severity
from vmqos.jsonable import to_jsonable

__all__ = ["dump_json", "make_console", "print_findings", "to_jsonable"]

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def dump_json(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, sort_keys=False)


def print_findings(console: Console, findings: Iterable[Finding], title: str) -> None:
    unique: dict[tuple[str, str, str, str], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.code, finding.key, finding.value, finding.reason), finding)
    if not unique:
        return
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("severity")
    table.add_column("key = value")
    table.add_column("what happens / what to do")
    for finding in unique.values():
        body = Text(finding.reason)
        body.append(f"\n→ {finding.advice}", style="italic")
        table.add_row(Text(finding.severity.value, style=_SEVERITY_STYLE[finding.severity]),
                      f"{finding.key}\n= {finding.value}", body)
    console.print(table)


def make_console(*, stderr: bool = False) -> Console:
    """A console for tables: at least 120 columns, even when piped, so tables stay readable.
    ``stderr``: for progress and messages while stdout carries JSON."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=max(probe.width, 120))
