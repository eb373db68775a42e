"""What the kernel's CPU controller accepts and starts from: the ranges of ``cpu.shares``
(v1), ``cpu.weight`` (v2) and CFS bandwidth, and a fresh cgroup's values.

libvirt checks a domain's ``<cputune>`` against the same ranges before it writes anything
(src/util/vircgroup.h ``VIR_CGROUP_CPU_SHARES_MIN``/``_MAX``, ``VIR_CGROUP_CPU_PERIOD_MIN``/
``_MAX``, ``VIR_CGROUP_CPU_QUOTA_MIN``/``_MAX``), which mirror the kernel's: kernel/sched/sched.h
``MIN_SHARES``/``MAX_SHARES``, include/linux/cgroup.h ``CGROUP_WEIGHT_MIN``/``_DFL``/``_MAX``,
kernel/sched/core.c ``min_cfs_quota_period``/``max_cfs_quota_period`` and ``max_cfs_runtime``
(``MAX_BW``). Defaults: v1 shares 1024, v2 weight 100 (Documentation/admin-guide/cgroup-v2.rst),
CFS period 100 ms. Values are plain ints in the kernel's own units (microseconds for periods and
quotas), as the files hold them. Changes with a kernel or libvirt.
"""

from __future__ import annotations

__all__ = [
    "CPU_QUOTA_MAX", "PERIOD_DEFAULT", "PERIOD_MAX", "PERIOD_MIN", "QUOTA_MIN",
    "SHARES_DEFAULT", "SHARES_MAX", "SHARES_MIN", "WEIGHT_DEFAULT", "WEIGHT_MAX", "WEIGHT_MIN",
]

SHARES_MIN, SHARES_MAX, SHARES_DEFAULT = 2, 262144, 1024
WEIGHT_MIN, WEIGHT_MAX, WEIGHT_DEFAULT = 1, 10000, 100
CPU_QUOTA_MAX = 17592186044415          # VIR_CGROUP_CPU_QUOTA_MAX = 2^44 - 1, kernel MAX_BW
PERIOD_MIN, PERIOD_MAX, QUOTA_MIN = 1000, 1000000, 1000
PERIOD_DEFAULT = 100000                 # the kernel's default CFS period, microseconds
