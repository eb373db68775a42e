"""Output for people and scripts from the core's plain data values: the pieces every command
shares — JSON for scripts, a rich console for tables, findings as diagnostics.

Kept free of the plan's heavier modules, and of rich until a command asks for a console:
rich costs about 0.1 s of start-up here, and a command that only validates (a script calls
it in a loop over a cloud's flavors) prints plain lines.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

from vmqos.intent.findings import Finding, Severity, distinct
from vmqos.jsonable import to_jsonable

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["dump_json", "echo_findings", "findings_text", "make_console", "to_jsonable"]

_SEVERITY_COLOUR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_SEVERITY_WIDTH = max(len(s.value) for s in Severity) + 2
_MAX_WIDTH = 100       # lines longer than this are hard to read, however wide the terminal


def dump_json(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, sort_keys=False)


def findings_text(findings: Iterable[Finding], title: str, *, width: int = _MAX_WIDTH,
                  colour: bool = False) -> str:
    """Findings as a compiler prints diagnostics: a title line, then per finding its severity
    and ``key = value``, the reason and ``→ advice`` wrapped beneath, a blank line between.
    Words are never split, so a value such as ``cpu.weight=2048`` stays one grep-able token.
    Empty when there is nothing to say."""
    unique = distinct(findings)
    if not unique:
        return ""
    indent = " " * (2 + _SEVERITY_WIDTH)
    width = max(width, len(indent) + 30)
    reason = textwrap.TextWrapper(width=width, initial_indent=indent, subsequent_indent=indent,
                                  break_long_words=False, break_on_hyphens=False)
    advice = textwrap.TextWrapper(width=width, initial_indent=indent + "→ ",
                                  subsequent_indent=indent + "  ", break_long_words=False,
                                  break_on_hyphens=False)
    blocks = []
    for finding in unique:
        label = finding.severity.value.ljust(_SEVERITY_WIDTH)
        if colour:
            label = click.style(label, fg=_SEVERITY_COLOUR[finding.severity], bold=True)
        blocks.append("\n".join([f"  {label}{finding.key} = {finding.value}",
                                 reason.fill(finding.reason), advice.fill(finding.advice)]))
    return f"{title}:\n" + "\n\n".join(blocks)


def echo_findings(findings: Iterable[Finding], title: str) -> None:
    """Print :func:`findings_text` to stdout, as wide as the terminal (at most 100 columns),
    coloured when stdout is one."""
    text = findings_text(findings, title, colour=True,
                         width=min(shutil.get_terminal_size((_MAX_WIDTH, 24)).columns,
                                   _MAX_WIDTH))
    if text:
        click.echo(text)  # click drops the colour codes when stdout is not a terminal


def make_console(*, stderr: bool = False) -> Console:
    """A console for tables: at least 120 columns, even when piped, so tables stay readable.
    ``stderr``: for progress and messages while stdout carries JSON. No emoji codes: vmqos
    prints keys such as ``quota:cpu_shares`` that are not meant as ``:name:`` codes (and the
    emoji table is 15 ms of start-up)."""
    from rich.console import Console  # noqa: PLC0415 (rich loads with the first console)

    probe = Console(stderr=stderr, emoji=False)
    return probe if probe.is_terminal else Console(stderr=stderr, emoji=False,
                                                   width=max(probe.width, 120))
