"""CPU shares under real contention: two busy loops pinned to one CPU in sibling cgroups.

The oracle is twofold: the cgroups' own accounting (cpuacct.usage, the controller the shares
do not touch) and each loop's /proc/PID/schedstat must agree, and the ratio must follow
cpu.shares — 1024:512 (the seed's m1.resquota against the Pike default for one vCPU) gives
about 2:1 (ENVIRONMENT.md measured 1.92:1), equal shares about 1:1.
"""

from __future__ import annotations

import pytest
from verify_sandbox import V1Groups

from vmqos.errors import IntentError, PermanentHostError
from vmqos.verify.cpu import measure_cpu_shares
from vmqos.verify.judge import Outcome, judge_cpu_shares


def set_shares(groups: V1Groups, a: int, b: int) -> None:
    for name, shares in (("a", a), ("b", b)):
        path = groups.path("cpu", name) / "cpu.shares"
        path.write_text(f"{shares}\n")
        assert path.read_text().strip() == str(shares)  # read back through the cgroup file


def measure(groups: V1Groups, seconds: float, *, explicit: bool) -> tuple[float, ...]:
    """``explicit``: name the cpuacct groups; else measure_cpu_shares finds them itself."""
    fractions: list[float] = []
    m = measure_cpu_shares(
        [groups.path("cpu", "a"), groups.path("cpu", "b")], seconds=seconds,
        accounting=[groups.path("cpuacct", "a"), groups.path("cpuacct", "b")] if explicit
        else None, progress=fractions.append)
    assert m.source == "cpuacct.usage"
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 10
    assert m.seconds == pytest.approx(seconds, abs=0.2)
    # Two loops on one CPU: together they get most of it (other processes on the machine may
    # take some: the ratio between the two groups is what is judged), and the cgroup's
    # accounting is the loops' own on-CPU time.
    assert 0.5 * m.seconds <= sum(m.usage) <= 1.02 * m.seconds
    for group_time, process_time in zip(m.usage, m.process_usage, strict=True):
        assert group_time == pytest.approx(process_time, rel=0.05, abs=0.01)
    return (m.ratio, *m.usage)


def test_shares_1024_to_512_give_two_to_one(v1_groups: V1Groups) -> None:
    set_shares(v1_groups, 1024, 512)
    ratio, a, b = measure(v1_groups, 3.0, explicit=True)
    assert 1.6 <= ratio <= 2.4
    verdict = judge_cpu_shares((1024, 512), (a, b))
    assert verdict.outcome is Outcome.PASS, verdict
    assert verdict.configured == 2.0


def test_equal_shares_give_one_to_one(v1_groups: V1Groups) -> None:
    set_shares(v1_groups, 1024, 1024)
    ratio, a, b = measure(v1_groups, 1.5, explicit=False)
    assert 0.8 <= ratio <= 1.25
    assert judge_cpu_shares((1024, 512), (a, b)).outcome is Outcome.FAIL


def test_bad_inputs(v1_groups: V1Groups) -> None:
    with pytest.raises(IntentError, match="two sibling cgroups"):
        measure_cpu_shares([v1_groups.path("cpu", "a")])
    with pytest.raises(PermanentHostError, match="does not exist"):
        measure_cpu_shares([v1_groups.path("cpu", "a"), v1_groups.path("cpu", "nope")])
