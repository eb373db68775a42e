"""Measure how CPU time is shared between sibling cgroups under contention.

Role: ``cpu.shares`` (v1) and ``cpu.weight`` (v2) only act when groups compete for the same
CPU, so this runs one busy loop per cgroup, all pinned to ONE CPU, and compares the CPU time
each group got over the same window (CFS hands out time in proportion to the groups' weights).

Invariants:

* The loops are paused until they are inside their cgroups and on their CPU
  (:mod:`vmqos.verify.load`); they stop by themselves after the window plus a margin and are
  killed in ``finally`` regardless.
* CPU time is read from the group's own accounting — v1 ``cpuacct.usage`` (ns), v2
  ``cpu.stat`` ``usage_usec`` — when the group has it. With v1 ``cpu`` and ``cpuacct``
  mounted apart (as on this host) the same path under the cpuacct mount is used when it
  exists (:func:`cpuacct_dir`), or the directories given as ``accounting``; the loops are
  moved there too. Without any, each loop's ``/proc/PID/schedstat`` on-CPU time is used.
  Both are recorded, so a report can show they agree.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vmqos.errors import IntentError, PermanentHostError
from vmqos.verify.load import paused, read_line, release

__all__ = ["CpuShareMeasurement", "cpuacct_dir", "measure_cpu_shares"]

# Bounded by itself: it spins for at most the given seconds after its "go" line.
_BUSY_LOOP = (
    "import sys, time\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "end = time.monotonic() + float(sys.argv[1])\n"
    "while time.monotonic() < end:\n"
    "    pass\n"
)


@dataclass(frozen=True, slots=True)
class CpuShareMeasurement:
    """CPU seconds each cgroup's busy loop got over the same ``seconds`` on ``cpu``."""

    cgroups: tuple[str, ...]
    cpu: int
    seconds: float
    usage: tuple[float, ...]          # CPU seconds per group, from ``source``
    source: str                       # "cpuacct.usage", "cpu.stat usage_usec" or "schedstat"
    process_usage: tuple[float, ...]  # CPU seconds of each loop from /proc/PID/schedstat

    @property
    def ratio(self) -> float:
        """First group's CPU time over the second's (the shares ratio, if they work)."""
        return self.usage[0] / self.usage[1] if self.usage[1] > 0 else float("inf")

    @property
    def fractions(self) -> tuple[float, ...]:
        total = sum(self.usage)
        return tuple(u / total if total > 0 else 0.0 for u in self.usage)


def _group_usage_ns(group: Path) -> tuple[int, str] | None:
    acct = group / "cpuacct.usage"
    if acct.exists():
        return int(acct.read_text()), "cpuacct.usage"
    stat = group / "cpu.stat"
    if (group / "cgroup.controllers").exists() and stat.exists():
        for line in stat.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) * 1000, "cpu.stat usage_usec"
    return None


def _v1_mounts() -> list[tuple[Path, set[str]]]:
    """(mount point, super options) of every cgroup v1 hierarchy, from /proc/self/mountinfo."""
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields = right.split()
        if len(fields) >= 3 and fields[0] == "cgroup":
            mounts.append((Path(left.split()[4]), set(fields[2].split(","))))
    return mounts


def cpuacct_dir(cpu_dir: str | Path) -> Path | None:
    """The cgroup v1 cpuacct directory at the same place as ``cpu_dir`` when ``cpu`` and
    ``cpuacct`` are separate hierarchies (``/sys/fs/cgroup/cpu/X`` -> ``.../cpuacct/X``);
    None when they are co-mounted, the directory does not exist or this is not v1."""
    path = Path(cpu_dir)
    mounts = _v1_mounts()
    cpu_mount = next((m for m, opts in mounts if "cpu" in opts and "cpuacct" not in opts
                      and path.is_relative_to(m)), None)
    acct_mount = next((m for m, opts in mounts if "cpuacct" in opts and "cpu" not in opts),
                      None)
    if cpu_mount is None or acct_mount is None:
        return None
    candidate = acct_mount / path.relative_to(cpu_mount)
    return candidate if candidate.is_dir() else None


def _process_usage_ns(pid: int) -> int:
    # /proc/PID/schedstat: time spent on the CPU (ns), time waiting, timeslices.
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def _snapshot(groups: Sequence[Path | None], pids: Sequence[int]) -> tuple[list[int | None],
                                                                          list[int], str]:
    group_ns: list[int | None] = []
    source = "cpuacct.usage"
    for group in groups:
        found = None if group is None else _group_usage_ns(group)
        group_ns.append(None if found is None else found[0])
        if found is not None:
            source = found[1]
    return group_ns, [_process_usage_ns(pid) for pid in pids], source


def measure_cpu_shares(
    cgroups: Sequence[str | Path], *, seconds: float = 3.0, warmup: float = 0.3,
    cpu: int | None = None, accounting: Sequence[str | Path] | None = None,
    progress: Callable[[float], None] | None = None,
) -> CpuShareMeasurement:
    """Run one busy loop in each of ``cgroups`` (v1 cpu-controller or v2 directories), all
    pinned to ``cpu`` (default: the highest CPU this process may use), and measure the CPU
    time each group gets over ``seconds`` after ``warmup``. ``accounting``: where to read
    v1 CPU time when it is not in the cgroup itself (default: :func:`cpuacct_dir`).
    ``progress`` is called with the fraction done, about ten times a second."""
    if len(cgroups) < 2:
        raise IntentError("a CPU share measurement needs at least two sibling cgroups",
                          key="cgroups", value=list(map(str, cgroups)),
                          allowed="two or more cgroup directories")
    if accounting is not None and len(accounting) != len(cgroups):
        raise IntentError("give one accounting directory per cgroup", key="accounting",
                          value=list(map(str, accounting)), allowed=f"{len(cgroups)} paths")
    dirs = [Path(c) for c in cgroups]
    for d in dirs:
        if not d.is_dir():
            raise PermanentHostError(f"cgroup directory {d} does not exist")
    acct = ([Path(a) for a in accounting] if accounting is not None
            else [cpuacct_dir(d) for d in dirs])
    target = max(os.sched_getaffinity(0)) if cpu is None else cpu
    limit = warmup + seconds + 5.0
    argv = [sys.executable, "-c", _BUSY_LOOP, f"{limit:.1f}"]
    placements = [[d] if a is None else [d, a] for d, a in zip(dirs, acct, strict=True)]
    # The group to read accounting from: the accounting directory, else the group itself.
    readers = [a if a is not None else d for d, a in zip(dirs, acct, strict=True)]
    with paused([argv] * len(dirs), cgroups=placements, cpu=target) as procs:
        for proc in procs:
            read_line(proc)  # "ready": the interpreter is up, nothing spun yet
        release(procs)
        time.sleep(warmup)
        g0, p0, source = _snapshot(readers, [p.pid for p in procs])
        t0 = time.monotonic()
        while (left := seconds - (time.monotonic() - t0)) > 0:
            time.sleep(min(0.1, left))
            if progress is not None:
                progress(min(1.0, (time.monotonic() - t0) / seconds))
        g1, p1, _ = _snapshot(readers, [p.pid for p in procs])
        elapsed = time.monotonic() - t0
    process = tuple((b - a) / 1e9 for a, b in zip(p0, p1, strict=True))
    groups = [(b - a) / 1e9 for a, b in zip(g0, g1, strict=True) if a is not None and b is not None]
    usage = tuple(groups) if len(groups) == len(dirs) else process
    if len(groups) != len(dirs):
        source = "schedstat"
    return CpuShareMeasurement(cgroups=tuple(map(str, dirs)), cpu=target, seconds=elapsed,
                               usage=usage, source=source, process_usage=process)
