"""Measure disk throughput and IOPS with direct I/O on a block device, from inside a cgroup.

Role: the disk half of ``vmqos verify``. Nova's ``quota:disk_*`` limits are enforced by QEMU
on a real compute node; on a vmqos sandbox (no hypervisor) they are the instance cgroup's
blkio throttle (v1 ``blkio.throttle.{read,write}_{bps,iops}_device``) or ``io.max`` (v2) on
the instance's disk device. Both act on the bios a task in the cgroup submits, so the load —
:mod:`vmqos.verify.direct_io`, ``O_DIRECT`` from a child process — is moved into the cgroup
before it starts.

Invariants:

* Writing destroys data: the device must be a block device that is not mounted, has no
  mounted partition and no holders (device-mapper, md); anything else is refused.
* Bounded by ``seconds`` and ``max_bytes``; the child is killed in ``finally`` regardless.
* The series are per reporting interval (default 0.25 s): bytes/s and IO/s, from the child's
  own cumulative counts and monotonic clock.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vmqos.errors import IntentError, PermanentHostError, TemporaryHostError
from vmqos.verify.judge import Sample
from vmqos.verify.load import paused, read_line, release

__all__ = ["DiskMeasurement", "check_device_is_free", "measure_disk"]


@dataclass(frozen=True, slots=True)
class DiskMeasurement:
    device: str
    mode: str                          # "read" | "write"
    block_size: int
    cgroups: tuple[str, ...]
    seconds: float                     # as measured by the I/O process
    bytes_total: int
    ops_total: int
    samples: tuple[Sample, ...]        # bytes/s per interval
    iops_samples: tuple[Sample, ...]   # IO/s per interval

    @property
    def bytes_per_second(self) -> float:
        return self.bytes_total / self.seconds if self.seconds > 0 else 0.0

    @property
    def iops(self) -> float:
        return self.ops_total / self.seconds if self.seconds > 0 else 0.0


def _mounted_devices() -> set[int]:
    devices = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        major, minor = line.split()[2].split(":")
        devices.add(os.makedev(int(major), int(minor)))
    return devices


def check_device_is_free(device: str | Path) -> int:
    """Refuse a device that is not a block device or is in use; return its ``st_rdev``."""
    path = Path(device)
    try:
        st = path.stat()
    except OSError as exc:
        raise PermanentHostError(f"cannot stat {path}: {exc}") from exc
    if not stat.S_ISBLK(st.st_mode):
        raise IntentError(f"{path} is not a block device", key="device", value=str(path),
                          allowed="a block device such as the instance's loop device")
    sysdir = Path(f"/sys/dev/block/{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
    mounted = _mounted_devices()
    parts = [sysdir]
    if sysdir.exists():
        parts += [p for p in sysdir.iterdir() if (p / "partition").exists()]
    for part in parts:
        dev_file = part / "dev"
        if dev_file.exists():
            major, minor = dev_file.read_text().strip().split(":")
            if os.makedev(int(major), int(minor)) in mounted:
                what = str(path) if part == sysdir else f"partition {part.name} of {path}"
                raise IntentError(f"{what} is mounted: refusing direct I/O on it",
                                  key="device", value=str(path),
                                  allowed="an unmounted block device")
        holders = part / "holders"
        if holders.exists() and any(holders.iterdir()):
            raise IntentError(f"{path} is held by {', '.join(h.name for h in holders.iterdir())}"
                              ": refusing direct I/O on it", key="device", value=str(path),
                              allowed="a block device nothing else uses")
    return st.st_rdev


def _series(points: list[tuple[float, int, int]]) -> tuple[tuple[Sample, ...],
                                                           tuple[Sample, ...]]:
    rates: list[Sample] = []
    iops: list[Sample] = []
    prev = (0.0, 0, 0)
    for t, done, ops in points:
        if t - prev[0] <= 1e-6:
            continue
        rates.append(Sample(prev[0], t, (done - prev[1]) / (t - prev[0])))
        iops.append(Sample(prev[0], t, (ops - prev[2]) / (t - prev[0])))
        prev = (t, done, ops)
    return tuple(rates), tuple(iops)


def measure_disk(
    device: str | Path, *, cgroups: tuple[str | Path, ...] = (), mode: str = "write",
    seconds: float = 3.0, max_bytes: int = 256 << 20, block_size: int = 64 * 1024,
    interval: float = 0.25, offset: int = 0, progress: Callable[[float], None] | None = None,
) -> DiskMeasurement:
    """Direct ``mode`` I/O of ``block_size`` requests on ``device`` from a process inside
    ``cgroups`` (v1: one directory per controller, e.g. the blkio one; v2: the one directory)
    for ``seconds`` or ``max_bytes``, whichever ends first. **Overwrites the device** in
    write mode. ``progress`` is called with the fraction of ``seconds`` done at each report."""
    if mode not in ("read", "write"):
        raise IntentError(f"unknown disk measurement mode {mode!r}", key="mode", value=mode,
                          allowed="read, write")
    if block_size <= 0 or block_size % 512 or offset % 4096:
        raise IntentError("direct I/O needs a block size that is a multiple of 512 and a "
                          "4096-aligned offset", key="block_size", value=block_size,
                          allowed="e.g. 4096 or 65536")
    check_device_is_free(device)
    argv = [sys.executable, "-m", "vmqos.verify.direct_io", str(device), "--mode", mode,
            "--block-size", str(block_size), "--max-bytes", str(max_bytes),
            "--seconds", str(seconds), "--interval", str(interval), "--offset", str(offset)]
    points: list[tuple[float, int, int]] = []
    with paused([argv], cgroups=[list(cgroups)]) as (proc,):
        if read_line(proc).strip() != "ready":
            raise PermanentHostError(f"the direct I/O process on {device} did not start")
        release([proc])
        assert proc.stdout is not None
        for line in proc.stdout:
            at, count, requests = line.split()
            points.append((float(at), int(count), int(requests)))
            if progress is not None:
                progress(min(1.0, float(at) / seconds))
        # stdout closed: the process ended; a bounded wait covers a last blocked request.
        try:
            code = proc.wait(timeout=seconds + 30)
        except Exception as exc:
            raise TemporaryHostError(f"direct I/O on {device} did not stop") from exc
        if code != 0:
            err = proc.stderr.read().strip() if proc.stderr is not None else ""
            raise PermanentHostError(err or f"direct I/O on {device} failed (exit {code})")
    if not points:
        raise PermanentHostError(f"direct I/O on {device} reported nothing")
    rates, iops = _series(points)
    t, done, ops = points[-1]
    return DiskMeasurement(device=str(device), mode=mode, block_size=block_size,
                           cgroups=tuple(map(str, cgroups)), seconds=t, bytes_total=done,
                           ops_total=ops, samples=rates, iops_samples=iops)
