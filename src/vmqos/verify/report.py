"""The verify report: configured against measured, as a Markdown file beside its PNGs.

Role: turn :class:`~vmqos.verify.judge.Verdict` values (and any extra tables, such as the lab's
m1.normal / m1.resquota side by side) into one Markdown document in a directory, linking the
plots by relative path so the directory can be moved or published as a whole.

Invariants: values are printed in the unit of their verdict with the house formatting
(:func:`vmqos.units.format_bits_per_sec` for rates); every verdict row shows configured,
measured, their ratio, the acceptance bounds and the outcome, and the rule and notes follow the
table, so a reader sees why each check passed or failed. Markdown table cells are escaped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vmqos.units import format_bits_per_sec
from vmqos.verify.judge import Outcome, Verdict

__all__ = ["ReportSection", "Table", "format_value", "render_report", "write_report"]

_MARK = {Outcome.PASS: "PASS", Outcome.FAIL: "**FAIL**", Outcome.INCONCLUSIVE: "inconclusive",
         Outcome.NOT_APPLICABLE: "n/a"}


@dataclass(frozen=True, slots=True)
class Table:
    """A free-form table (header row + rows of already formatted cells)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class ReportSection:
    """One part of the report, e.g. one instance, port and direction."""

    title: str
    verdicts: tuple[Verdict, ...] = ()
    images: tuple[Path, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()


def format_value(value: float | None, unit: str) -> str:
    """A value in its verdict's unit, for people: ``262.144 Mbit/s``, ``1.024 MB/s``."""
    if value is None:
        return "–"
    if unit == "bit/s":
        return format_bits_per_sec(round(value))
    if unit == "B/s":
        return f"{value / 1e6:.3f} MB/s"
    if unit == ":1":
        return f"{value:.2f}:1"
    if unit == "IO/s":
        return f"{value:.1f} IO/s"
    return f"{value:g} {unit}".strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _verdict_rows(verdicts: Sequence[Verdict]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for v in verdicts:
        ratio = v.ratio
        rows.append((
            v.check, format_value(v.configured, v.unit), format_value(v.measured, v.unit),
            "–" if ratio is None else f"{ratio:.3f}",
            f"{format_value(v.low, v.unit)} … {format_value(v.high, v.unit)}",
            _MARK[v.outcome]))
    return rows


def render_report(title: str, sections: Sequence[ReportSection], *, directory: str | Path,
                  preamble: Sequence[str] = ()) -> str:
    """The Markdown text; image paths are written relative to ``directory``."""
    verdicts = [v for s in sections for v in s.verdicts]
    counts = {o: sum(v.outcome is o for v in verdicts) for o in Outcome}
    lines = [f"# {title}", ""]
    lines += [*preamble, ""] if preamble else []
    lines += [f"**{counts[Outcome.PASS]} passed, {counts[Outcome.FAIL]} failed, "
              f"{counts[Outcome.INCONCLUSIVE]} inconclusive, "
              f"{counts[Outcome.NOT_APPLICABLE]} not applicable.**", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.verdicts:
            lines += _table(("check", "configured", "measured", "ratio", "accepted",
                             "result"), _verdict_rows(section.verdicts))
            lines.append("")
            for v in section.verdicts:
                window = ("" if v.window is None
                          else f" (measured over {v.window[0]:.2f}–{v.window[1]:.2f} s)")
                lines.append(f"- *{v.check}*: {v.rule}{window}.")
                lines += [f"  - {note}" for note in v.notes]
            lines.append("")
        for table in section.tables:
            lines += [*_table(table.headers, table.rows), ""]
        lines += [f"- {note}" for note in section.notes]
        if section.notes:
            lines.append("")
        for image in section.images:
            rel = os.path.relpath(image, directory)
            lines += [f"![{Path(image).stem}]({rel})", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(directory: str | Path, title: str, sections: Sequence[ReportSection], *,
                 filename: str = "report.md", preamble: Sequence[str] = ()) -> Path:
    """Write ``directory/filename`` (creating the directory) and return its path."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / filename
    path.write_text(render_report(title, sections, directory=out_dir, preamble=preamble))
    return path
