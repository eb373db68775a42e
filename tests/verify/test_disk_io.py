"""Direct I/O against a blkio throttle on a real loop device, from inside a real cgroup.

The seed's m1.resquota asks for quota:disk_write_bytes_sec=1024000 and
quota:disk_read_bytes_sec=1000000; a sandbox instance enforces them with the v1 blkio
throttle on its loop device. The oracle for the configuration is the cgroup file read back;
the measurement must land within ±25 % of it (and the ±10 % judge must pass), while the same
device without the cgroup is far faster.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from verify_sandbox import LoopDevice, V1Groups

from vmqos.errors import IntentError, PermanentHostError
from vmqos.verify.disk import check_device_is_free, measure_disk
from vmqos.verify.judge import Outcome, judge_rate


def throttle(groups: V1Groups, dev: LoopDevice, knob: str, value: int) -> Path:
    group = groups.path("blkio", "a")
    path = group / f"blkio.throttle.{knob}"
    path.write_text(f"{dev.rdev} {value}\n")
    assert path.read_text().split() == [dev.rdev, str(value)]
    return group


def test_write_bps_throttle(v1_groups: V1Groups, loop_device: LoopDevice) -> None:
    group = throttle(v1_groups, loop_device, "write_bps_device", 1_024_000)
    m = measure_disk(loop_device.path, cgroups=(group,), seconds=3.0)
    assert m.mode == "write" and m.seconds == pytest.approx(3.0, abs=0.3)
    assert 0.75 * 1_024_000 <= m.bytes_per_second <= 1.25 * 1_024_000
    verdict = judge_rate("disk write bytes/s", 1_024_000, m.samples, unit="B/s")
    assert verdict.outcome is Outcome.PASS, verdict
    # The group's own counter saw the bytes (the process really was inside the cgroup).
    serviced = (group / "blkio.throttle.io_service_bytes").read_text()
    assert any(line.split()[:2] == [loop_device.rdev, "Write"] and
               int(line.split()[2]) >= m.bytes_total for line in serviced.splitlines())
    # Outside the cgroup the same device is much faster: the limit is the throttle's.
    free = measure_disk(loop_device.path, seconds=0.5, max_bytes=32 << 20)
    assert free.bytes_per_second > 10 * 1_024_000


def test_read_bps_throttle(v1_groups: V1Groups, loop_device: LoopDevice) -> None:
    group = throttle(v1_groups, loop_device, "read_bps_device", 1_000_000)
    done: list[float] = []
    m = measure_disk(loop_device.path, cgroups=(group,), mode="read", seconds=2.0,
                     progress=done.append)
    assert done == sorted(done) and len(done) >= 7 and done[-1] >= 0.95
    assert 0.75 * 1_000_000 <= m.bytes_per_second <= 1.25 * 1_000_000


def test_write_iops_throttle(v1_groups: V1Groups, loop_device: LoopDevice) -> None:
    group = throttle(v1_groups, loop_device, "write_iops_device", 50)
    m = measure_disk(loop_device.path, cgroups=(group,), seconds=2.0, block_size=4096)
    assert 0.75 * 50 <= m.iops <= 1.25 * 50
    assert judge_rate("disk write IO/s", 50, m.iops_samples, unit="IO/s").outcome is \
        Outcome.PASS


def test_refuses_what_is_not_a_free_block_device(tmp_path: Path,
                                                  loop_device: LoopDevice) -> None:
    with pytest.raises(IntentError, match="not a block device"):
        measure_disk(tmp_path)
    # The block device holding / (mounted) must never be written to.
    root = os.stat("/").st_dev
    devname = (Path(f"/sys/dev/block/{os.major(root)}:{os.minor(root)}") / "uevent"
               ).read_text().split("DEVNAME=")[1].split()[0]
    with pytest.raises(IntentError, match="is mounted"):
        check_device_is_free(f"/dev/{devname}")
    with pytest.raises(PermanentHostError, match="too small"):
        measure_disk(loop_device.path, offset=1 << 30, seconds=0.5)
