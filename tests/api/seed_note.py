"""The seed note's ``openstack`` commands and the tables it printed, read from the note itself.

Commands are taken verbatim (prompt removed, backslash continuations joined) so that the
end-to-end test runs exactly what the note ran; tables are parsed into ``{field: value}``
(a continuation row with an empty field adds a line to the previous value).
"""

from __future__ import annotations

import re
import shlex

from support.seed import NOTE

_PROMPT = re.compile(r"^\[stack@director [^\]]*\]\$ ")

__all__ = ["note_commands", "note_table", "parse_table"]


def _lines() -> list[str]:
    return NOTE.read_text(encoding="utf-8").splitlines()


def note_commands() -> list[str]:
    """Every ``openstack ...`` command in the note, in order, as one line each."""
    out: list[str] = []
    pending = ""
    for raw in _lines():
        line = _PROMPT.sub("", raw)
        if pending:
            pending += " " + line.strip()
        elif line.startswith("openstack "):
            pending = line.strip()
        else:
            continue
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        out.append(" ".join(pending.split()))
        pending = ""
    return out


def argv(command: str) -> list[str]:
    """The arguments after ``openstack``."""
    words = shlex.split(command)
    assert words[0] == "openstack", command
    return words[1:]


def parse_table(text: str) -> dict[str, str]:
    """An ``openstack ... show`` table (``| Field | Value |``) as a mapping."""
    table: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|", 1)]
        if len(cells) != 2 or cells == ["Field", "Value"]:
            continue
        name, value = cells
        if name:
            table[name] = value
            last = name
        elif last:
            table[last] += "\n" + value
    return table


def note_table(command_end: str) -> dict[str, str]:
    """The table printed after the note's command ending with ``command_end``."""
    lines = _lines()
    for index, raw in enumerate(lines):
        if _PROMPT.match(raw) and raw.rstrip().endswith(command_end):
            block = []
            for line in lines[index + 1:]:
                if line.startswith("```"):
                    break
                block.append(line)
            return parse_table("\n".join(block))
    raise AssertionError(f"no command ending with {command_end!r} in the seed note")
