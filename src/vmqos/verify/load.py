"""Load processes: started paused, placed into cgroups and onto a CPU, released, always reaped.

Role: the CPU and disk measurements both need a child process that does nothing until it is
where it must be — inside the instance's cgroup (v1: ``cgroup.procs`` of each controller's
directory; v2: the one directory), optionally pinned to one CPU — so that none of its work is
accounted elsewhere. A child here reads one line from stdin before it starts; :func:`release`
sends that line.

Invariants: :func:`paused` kills and reaps every child it started when its block ends, however
it ends (the child is also bounded in time by itself); writing into a cgroup fails loudly as a
:class:`~vmqos.errors.HostError` naming the file.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from vmqos.errors import PermanentHostError, TemporaryHostError

__all__ = ["attach", "paused", "read_line", "release"]


def attach(pid: int, cgroup: str | Path) -> None:
    """Move ``pid`` into the cgroup directory ``cgroup`` (v1 or v2: both have cgroup.procs)."""
    procs = Path(cgroup) / "cgroup.procs"
    try:
        procs.write_text(f"{pid}\n")
    except OSError as exc:
        raise PermanentHostError(f"cannot move process {pid} into {procs}: {exc}") from exc


@contextmanager
def paused(argvs: Sequence[Sequence[str]], *, cgroups: Sequence[Sequence[str | Path]],
           cpu: int | None = None) -> Iterator[list[subprocess.Popen[str]]]:
    """Start one child per argv, pin it to ``cpu`` and move it into its cgroups; yield them
    still waiting for :func:`release`; kill and reap them all on exit."""
    procs: list[subprocess.Popen[str]] = []
    try:
        for argv, groups in zip(argvs, cgroups, strict=True):
            try:
                proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
            except OSError as exc:
                raise PermanentHostError(f"cannot start {argv[0]}: {exc}") from exc
            procs.append(proc)
            if cpu is not None:
                try:
                    os.sched_setaffinity(proc.pid, {cpu})
                except OSError as exc:
                    raise PermanentHostError(
                        f"cannot pin process {proc.pid} to CPU {cpu}: {exc}") from exc
            for group in groups:
                attach(proc.pid, group)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for proc in procs:
            # A SIGKILLed child in uninterruptible disk I/O may take a moment to go.
            with suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=5)


def release(procs: Sequence[subprocess.Popen[str]]) -> None:
    """Let paused children start (each reads one line from stdin)."""
    for proc in procs:
        assert proc.stdin is not None  # paused() opens stdin as a pipe
        try:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        except BrokenPipeError as exc:
            raise TemporaryHostError(
                f"load process {proc.pid} exited before it was released: "
                f"{_stderr(proc)}") from exc


def read_line(proc: subprocess.Popen[str]) -> str:
    """One line of a child's stdout; an exited child is a HostError with its stderr."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise PermanentHostError(f"load process {proc.pid} exited: {_stderr(proc)}")
    return line


def _stderr(proc: subprocess.Popen[str]) -> str:
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    err = proc.stderr.read() if proc.stderr is not None else ""
    return err.strip().splitlines()[-1] if err.strip() else f"exit code {proc.returncode}"
