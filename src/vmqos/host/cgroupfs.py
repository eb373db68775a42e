"""cgroupfs: reading and writing the cgroup files of a plan, creating and removing directories.

Role: the cgroup half of observe/apply. Values are read back in the canonical form of
:class:`vmqos.reconcile.state.CgroupValue`: a plain file's stripped content; for a
per-device file (``blkio.throttle.*_device``, ``io.max``) the line of the one device the
plan names, or ``""`` when the kernel lists no limit for it.

Invariants: every failure is a vmqos host error naming the file and the kernel's message;
removal only ever ``rmdir``\\ s (which the kernel refuses for a non-empty cgroup) after moving
no task anywhere: tasks of a sandbox are ended by :mod:`vmqos.host.sandbox` first.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterable
from pathlib import Path

from vmqos.host.errors_map import translate
from vmqos.reconcile.diff import CgroupWrite
from vmqos.reconcile.state import CgroupValue

__all__ = ["cgroup_pids", "enable_v2_controllers", "make_cgroup", "read_value", "read_values",
           "remove_cgroup", "write_value"]


def read_value(want: CgroupValue) -> CgroupValue:
    """What ``want``'s file holds now, in ``want``'s canonical form."""
    path = f"{want.dir}/{want.file}"
    with translate(f"reading {path}"):
        text = Path(path).read_text()
    if want.device is None:
        return CgroupValue(want.dir, want.file, text.strip())
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == want.device:
            return CgroupValue(want.dir, want.file, " ".join(fields), want.device)
    return CgroupValue(want.dir, want.file, "", want.device)


def read_values(wanted: Iterable[CgroupValue]) -> tuple[CgroupValue, ...]:
    return tuple(read_value(value) for value in wanted)


def write_value(action: CgroupWrite) -> None:
    """One write(2) of the whole text, as ``echo TEXT > FILE`` does; the kernel's refusal
    (EINVAL, ENODEV ...) is raised with the file and the text."""
    with translate(f"writing {action.text!r} to {action.path}"):
        fd = os.open(action.path, os.O_WRONLY)
        try:
            os.write(fd, action.text.encode())
        finally:
            os.close(fd)


def make_cgroup(path: str) -> list[str]:
    """Create ``path`` and missing parents; return the directories created (outermost first)."""
    created: list[str] = []
    missing: list[Path] = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        current = current.parent
    with translate(f"creating cgroup {path}"):
        for directory in reversed(missing):
            directory.mkdir()
            created.append(str(directory))
    return created


def enable_v2_controllers(root: str, relative: str, controllers: Iterable[str]) -> None:
    """Enable ``controllers`` in ``cgroup.subtree_control`` from ``root`` down to the parent of
    ``relative`` (cgroup v2 delegates a controller one level at a time)."""
    wanted = " ".join(f"+{name}" for name in controllers)
    parts = relative.strip("/").split("/")
    for depth in range(len(parts)):
        directory = "/".join([root, *parts[:depth]])
        with translate(f"enabling {wanted} in {directory}/cgroup.subtree_control"):
            Path(f"{directory}/cgroup.subtree_control").write_text(wanted)


def cgroup_pids(path: str) -> list[int]:
    """The processes in one cgroup (not its children)."""
    procs = Path(f"{path}/cgroup.procs")
    if not procs.exists():
        return []
    with translate(f"reading {procs}"):
        return [int(line) for line in procs.read_text().split()]


def remove_cgroup(path: str) -> bool:
    """``rmdir`` a cgroup and its child cgroups, deepest first; False if it was not there."""
    root = Path(path)
    if not root.exists():
        return False
    children = sorted((p for p in root.rglob("*") if p.is_dir()),
                      key=lambda p: len(p.parts), reverse=True)
    with translate(f"removing cgroup {path}"):
        for directory in (*children, root):
            _rmdir(directory)
    return True


def _rmdir(directory: Path) -> None:
    # A task that has just been killed can take a moment to leave the cgroup: the kernel
    # answers EBUSY until it has; retry for at most a second.
    for _ in range(50):
        try:
            directory.rmdir()
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            time.sleep(0.02)
    directory.rmdir()
