"""Running the host's tools: one command, or one ``tc -batch`` / ``ip -batch`` for many.

Role: the only place vmqos starts processes (``tc``, ``ip``, ``losetup``). Failures become
vmqos errors here (through :mod:`vmqos.host.errors_map`) naming the exact command and the
tool's or kernel's message.

Batches: iproute2 reads one command per line from stdin and, without ``-force``, stops at the
first failure, printing the kernel's message and ``Command failed -:N``; with ``-force`` it
goes on and reports each failure the same way (tc.c/ip.c ``batch()``). :func:`run_batch` maps
``N`` back to the command, so a failing apply names the command the kernel refused.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vmqos.errors import PermanentHostError
from vmqos.host.errors_map import CommandError, from_called_process
from vmqos.plan.render.tc import render_command

__all__ = ["BatchFailure", "netns_argv", "run", "run_batch"]

_FAILED = re.compile(r"^Command failed -:(\d+)\s*$")
_UNSAFE = re.compile(r"[\t\n\r\"'\\]|  ")
_TIMEOUT = 120


def netns_argv(tool: str, netns: str | None) -> list[str]:
    """``tc -n NS`` / ``ip -n NS``: the tool acting in a named network namespace."""
    return [tool] if netns is None else [tool, "-n", netns]


def run(argv: Sequence[str], *, input_text: str | None = None, check: bool = True,
        timeout: float = _TIMEOUT, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run one command (in ``cwd``, default this process's); raise a :class:`CommandError`
    with its stderr if it fails."""
    command = render_command(argv[0], argv[1:])
    try:
        done = subprocess.run(list(argv), input=input_text, capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=cwd)
    except FileNotFoundError as exc:
        raise PermanentHostError(f"`{argv[0]}` is not installed (needed for `{command}`)"
                                 ) from exc
    except subprocess.TimeoutExpired as exc:
        raise from_called_process(exc, command) from exc
    if check and done.returncode != 0:
        raise CommandError(command, " ".join(done.stderr.split())
                           or f"exit status {done.returncode}")
    return done


@dataclass(frozen=True, slots=True)
class BatchFailure:
    """One failed line of a batch: its index (0-based), the command and the message."""

    index: int
    command: str
    detail: str


def _check_words(words: Sequence[str]) -> str:
    line = " ".join(words)
    # iproute2's makeargs() splits on whitespace and honours quotes: an argument holding
    # either would become other arguments.
    if _UNSAFE.search(line) or "" in words:
        raise ValueError(f"batch line {line!r} has an empty, quoted or spaced argument")
    return line


def run_batch(tool: str, commands: Sequence[Sequence[str]], *, netns: str | None = None,
              force: bool = False) -> list[BatchFailure]:
    """Run ``commands`` (argv without the tool name) as one ``TOOL -batch -``.

    Without ``force`` the first failure raises a :class:`CommandError` naming it (the lines
    before it have taken effect, the ones after it have not). With ``force`` every line is
    tried and the failures are returned.
    """
    if not commands:
        return []
    argv = [*netns_argv(tool, netns), *(["-force"] if force else []), "-batch", "-"]
    text = "".join(_check_words(words) + "\n" for words in commands)
    done = run(argv, input_text=text, check=False)
    failures: list[BatchFailure] = []
    pending: list[str] = []
    for line in done.stderr.splitlines():
        match = _FAILED.match(line)
        if match is None:
            if line.strip():
                pending.append(line.strip())
            continue
        index = int(match.group(1)) - 1
        command = render_command(tool, commands[index]) if 0 <= index < len(commands) else "?"
        failures.append(BatchFailure(index, command, " ".join(pending) or "failed"))
        pending = []
    if done.returncode != 0 and not failures:
        failures.append(BatchFailure(-1, render_command(tool, ["-batch", "-"]),
                                     " ".join(done.stderr.split()) or
                                     f"exit status {done.returncode}"))
    if failures and not force:
        first = failures[0]
        raise CommandError(first.command, first.detail)
    return failures
