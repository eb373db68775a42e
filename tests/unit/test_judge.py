"""Tolerance judgement (vmqos.verify.judge): the rules its docstring states, on literal series.

Series shapes follow what this host measured (tests/verify): an 8/16 Mbit/s HTB with a 1 MiB
burst gives ~15.5 Mbit/s for ~1 s, then ~7.65 Mbit/s (0.956 of the rate); cpu.shares
1024:512 gives ~2:1; a 1024000 B/s blkio throttle gives ~1.02 MB/s.
"""

from __future__ import annotations

import pytest

from vmqos.errors import ValidationError
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.plan.render.tc import tc_limits
from vmqos.units import KBytesPerSec, KiB
from vmqos.verify.judge import (
    CPU_SHARE,
    TCP_GOODPUT,
    Outcome,
    Sample,
    Shaping,
    burst_drain_rate,
    burst_window,
    judge_burst,
    judge_cpu_shares,
    judge_rate,
    judge_ratio,
    judge_tcp_goodput,
    mean_over,
    recommended_seconds,
    tcp_goodput_factor,
)


def series(*parts: tuple[float, float], step: float = 0.2) -> list[Sample]:
    """(seconds, value) parts -> consecutive samples of ``step`` seconds."""
    out: list[Sample] = []
    t = 0.0
    for seconds, value in parts:
        for _ in range(round(seconds / step)):
            out.append(Sample(t, t + step, value))
            t = round(t + step, 9)
    return out


SCALED_SEED = Shaping(rate=8e6, burst=1 << 20, peak=16e6)


def test_goodput_factor() -> None:
    assert tcp_goodput_factor() == pytest.approx(1448 / 1514)
    assert tcp_goodput_factor(timestamps=False) == pytest.approx(1460 / 1514)
    assert tcp_goodput_factor(ipv6=True) == pytest.approx(1428 / 1514)
    assert tcp_goodput_factor(9000) == pytest.approx(8948 / 9014)
    # The band's lower bound is passable only from MTU 646 up.
    assert tcp_goodput_factor(646) >= TCP_GOODPUT.low > tcp_goodput_factor(645)
    assert TCP_GOODPUT.contains(tcp_goodput_factor())


def test_burst_window_of_the_seed() -> None:
    # m1.resquota inbound: average 32768 kB/s, peak 65536 kB/s, burst 131072 KiB.
    bw = Bandwidth(inbound=BandwidthSide(KBytesPerSec(32768), KBytesPerSec(65536),
                                         KiB(131072)))
    (limit,) = [lim for lim in tc_limits("tapX", bw, swapped=True, source="flavor")
                if lim.rate]
    shaping = Shaping.from_limit(limit)
    assert shaping == Shaping(rate=262_144_000, burst=134_217_728, peak=524_288_000)
    assert burst_window(shaping) == pytest.approx(4.096)  # the README's "4 s"
    assert recommended_seconds(shaping) == pytest.approx(6.596)


def test_burst_window_cases() -> None:
    assert burst_window(Shaping(8e6)) == 0.0
    assert burst_window(Shaping(8e6, 1000, peak=8e6)) == 0.0  # ceil == rate
    assert burst_window(Shaping(8e6, 1_000_000)) == pytest.approx(1.0)  # bound: 8·B/rate
    assert burst_window(Shaping(8e6, 1_000_000), line_rate=1e9) == pytest.approx(8e6 / 992e6)


def test_shaping_rejects_nonsense() -> None:
    with pytest.raises(ValidationError, match="positive rate"):
        Shaping(0)
    with pytest.raises(ValidationError):
        Shaping(1e6, -1)


def test_mean_over_weights_partial_overlaps() -> None:
    samples = [Sample(0, 1, 10), Sample(1, 2, 20)]
    assert mean_over(samples, 0.5, 1.5) == (15.0, 1.0)
    assert mean_over(samples, 5) == (None, 0.0)
    assert mean_over(samples) == (15.0, 2.0)


def test_goodput_of_a_correct_shaper_passes() -> None:
    v = judge_tcp_goodput(SCALED_SEED, series((1.0, 15.5e6), (2.0, 7.65e6)))
    assert v.outcome is Outcome.PASS
    assert v.window == (pytest.approx(1.5486, abs=1e-3), 3.0)
    assert v.measured == pytest.approx(7.65e6)
    assert v.ratio == pytest.approx(0.956, abs=1e-3)
    assert (v.low, v.high) == (pytest.approx(7.2e6), pytest.approx(8.16e6))
    assert "burst window (1.05 s)" in v.rule
    assert any("1.000 of the TCP ceiling" in n for n in v.notes)


@pytest.mark.parametrize("steady", [10e6, 8.3e6, 7.1e6, 0.0])
def test_goodput_outside_the_band_fails(steady: float) -> None:
    v = judge_tcp_goodput(SCALED_SEED, series((1.0, 15.5e6), (2.0, steady)))
    assert v.outcome is Outcome.FAIL


def test_the_burst_does_not_count_as_steady_state() -> None:
    # Same mean over 3 s as a correct shaper would need, but only thanks to the burst.
    v = judge_tcp_goodput(SCALED_SEED, series((1.6, 15.5e6), (1.4, 5e6)))
    assert v.outcome is Outcome.FAIL


def test_too_short_is_inconclusive_and_says_how_long() -> None:
    v = judge_tcp_goodput(SCALED_SEED, series((1.0, 15.5e6), (1.0, 7.65e6)))
    assert v.outcome is Outcome.INCONCLUSIVE
    assert any("measure at least 2.5 s" in n for n in v.notes)


def test_small_mtu_says_the_rule_cannot_pass() -> None:
    v = judge_tcp_goodput(Shaping(8e6), series((3.0, 7e6)), mtu=576)
    assert any("cannot pass" in n for n in v.notes)


def test_burst_visible() -> None:
    v = judge_burst(SCALED_SEED, series((1.0, 15.5e6), (2.0, 7.65e6)))
    assert v.outcome is Outcome.PASS
    assert v.configured == 16e6  # the bucket allows the peak for the whole first second
    assert v.low == pytest.approx(tcp_goodput_factor() * 12e6)


def test_burst_missing_or_too_big_fails() -> None:
    assert judge_burst(SCALED_SEED, series((3.0, 7.65e6))).outcome is Outcome.FAIL
    assert judge_burst(SCALED_SEED, series((1.0, 40e6), (2.0, 7.65e6))).outcome is Outcome.FAIL


def test_tiny_burst_is_not_applicable() -> None:
    v = judge_burst(Shaping(20e6, 32 * 1024), series((3.0, 19e6)))
    assert v.outcome is Outcome.NOT_APPLICABLE
    assert "too small to see" in v.notes[-1]


def test_burst_without_peak_uses_the_line_rate() -> None:
    # A policer-like bucket: 2.5 MB over a 20 Mbit/s rate on a 1 Gbit/s line.
    v = judge_burst(Shaping(20e6, 2_500_000), series((1.0, 38e6), (2.0, 19e6)), line_rate=1e9)
    assert v.configured == pytest.approx(40e6)
    assert v.outcome is Outcome.PASS


def test_cpu_shares() -> None:
    v = judge_cpu_shares((1024, 512), (2.0, 1.04))
    assert v.outcome is Outcome.PASS and v.configured == 2.0
    assert v.measured == pytest.approx(1.923, abs=1e-3)
    assert v.rule == CPU_SHARE.describe() == "within ±10 % of the configured value"
    assert judge_cpu_shares((1024, 512), (1.5, 1.5)).outcome is Outcome.FAIL
    assert judge_cpu_shares((1024, 512), (1.0, 0.0)).outcome is Outcome.INCONCLUSIVE


def test_disk_rate() -> None:
    ok = judge_rate("disk write", 1_024_000, series((3.0, 1_023_600), step=0.25), unit="B/s")
    assert ok.outcome is Outcome.PASS and ok.window == (0.0, 3.0)
    assert judge_rate("disk write", 1_024_000, series((3.0, 1.2e6), step=0.25),
                      unit="B/s").outcome is Outcome.FAIL
    short = judge_rate("disk write", 1_024_000, series((0.5, 1e6), step=0.25), unit="B/s")
    assert short.outcome is Outcome.INCONCLUSIVE and short.measured is None


def test_ratio_needs_a_positive_configured_value() -> None:
    with pytest.raises(ValidationError, match="must be positive"):
        judge_ratio("x", 0, 1.0, tolerance=CPU_SHARE, unit=":1")


def test_from_limit_without_rate() -> None:
    bw = Bandwidth(inbound=BandwidthSide(KBytesPerSec(0), KBytesPerSec(100)))
    (limit,) = tc_limits("tapX", bw, swapped=True, source="flavor")
    assert Shaping.from_limit(limit) is None


def test_a_path_slower_than_the_peak_drains_the_bucket_later() -> None:
    # The seed divided by 4 in the reference node: 65.5 Mbit/s, ceil 131 Mbit/s, 32 MiB.
    shaping = Shaping(65_536_000, 32 << 20, peak=131_072_000)
    assert burst_window(shaping) == pytest.approx(4.1, abs=0.01)
    slow = series((1.0, 113e6), (8.0, 62.6e6))          # the first second at 0.86 of the ceil
    drain = burst_drain_rate(shaping, slow)
    assert drain == pytest.approx(113e6 / tcp_goodput_factor())
    assert burst_window(shaping, line_rate=drain) == pytest.approx(
        8 * (32 << 20) / (drain - 65_536_000))
    verdict = judge_tcp_goodput(shaping, slow, line_rate=drain)
    assert verdict.window[0] > 5.0 and any("drained at" in n for n in verdict.notes)
    # At the peak (or without one) nothing changes.
    assert burst_drain_rate(shaping, series((1.0, 126e6), (8.0, 62.6e6))) is None
    assert burst_drain_rate(Shaping(65_536_000, 32 << 20), slow) is None
