"""The node's processes — QEMU and virtiofsd — started, recognised and stopped in bounded steps.

Recognised by command line, never by pid alone: a pid in a record may have been reused by
the time it is read, so a process is the node's only if ``/proc/<pid>/cmdline`` names one of
the node's programs *and* an argument inside its run directory (both command lines do:
vmqos.node.qemu_argv), and, for a recorded pid, its start time still matches. That makes
finding leftovers exact even when vmqos was SIGKILLed between starting a process and writing
it down.

Stopping: SIGTERM, a bounded wait, SIGKILL, a bounded wait. A zombie counts as gone (it holds
no socket, file or memory; its parent, or init, reaps it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmqos.host.errors_map import translate

__all__ = ["ProcessRecord", "belongs", "find_processes", "is_alive", "spawn", "stop_process",
           "wait_gone"]

_PROC = Path("/proc")
_TERM_WAIT_S = 5.0
_KILL_WAIT_S = 5.0


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # comm (field 2) may hold blanks and parentheses: split after its last ')'.
    return text[text.rindex(")") + 2:].split()


def start_time(pid: int) -> int | None:
    """Field 22 of proc(5) ``stat``: clock ticks after boot; with the pid, a unique id."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def cmdline(pid: int) -> list[str]:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [os.fsdecode(part) for part in raw.split(b"\0") if part]


def is_alive(pid: int, started: int | None = None) -> bool:
    """``pid`` runs (not a zombie) and, if ``started`` is given, is that same process."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return started is None or (len(fields) > 19 and int(fields[19]) == started)


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """A process the node started: what a later vmqos needs to find the same one."""

    role: str
    pid: int
    started: int | None

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "pid": self.pid, "started": self.started}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcessRecord:
        started = data.get("started")
        return cls(role=str(data["role"]), pid=int(data["pid"]),
                   started=int(started) if started is not None else None)

    def alive(self) -> bool:
        return is_alive(self.pid, self.started)


def belongs(argv: Sequence[str], programs: Sequence[str], run_dir: Path) -> bool:
    """Whether a command line is one of ``programs`` (by file name) working in ``run_dir``."""
    if not argv or os.path.basename(argv[0]) not in {os.path.basename(p) for p in programs}:
        return False
    inside = f"{run_dir}/"
    return any(inside in arg for arg in argv[1:])


def find_processes(programs: Sequence[str], run_dir: Path) -> list[int]:
    """Every live process that :func:`belongs` to the node at ``run_dir``."""
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and belongs(cmdline(int(entry.name)), programs, run_dir) \
                and is_alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def spawn(role: str, argv: Sequence[str], log: Path) -> tuple[subprocess.Popen[bytes],
                                                             ProcessRecord]:
    """Start ``argv`` in a session of its own (a Ctrl-C at vmqos's terminal reaches vmqos,
    which then stops it in order, not the process directly), output to ``log``."""
    with translate(f"starting the node's {role} ({argv[0]})"), log.open("wb") as out:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc, ProcessRecord(role, proc.pid, start_time(proc.pid))


def wait_gone(record: ProcessRecord, child: subprocess.Popen[bytes] | None,
              timeout: float) -> bool:
    """Whether the process ended within ``timeout`` seconds (a child is reaped here)."""
    deadline = time.monotonic() + timeout
    while True:
        if child is not None and child.poll() is not None:
            return True
        if not record.alive():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop_process(record: ProcessRecord, child: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM, then SIGKILL: the process is gone when this returns (or was not ours)."""
    for sig, wait in ((signal.SIGTERM, _TERM_WAIT_S), (signal.SIGKILL, _KILL_WAIT_S)):
        if not record.alive():
            break
        try:
            os.kill(record.pid, sig)
        except ProcessLookupError:
            break
        if wait_gone(record, child, wait):
            break
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=_KILL_WAIT_S)
