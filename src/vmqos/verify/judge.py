"""Tolerance judgement: a configured limit against a measured series, as a :class:`Verdict`.

Role: the pure half of ``vmqos verify``. The measuring shell (:mod:`vmqos.verify`) produces
time series (:class:`Sample`: seconds from the start, a value per interval); this module decides
pass/fail by a rule it states in words, so that the report says *why* something passed.

The rules (the project's acceptance rules for ``vmqos verify``):

* **TCP goodput**: after the burst window, the time-weighted mean goodput is within
  0.90–1.02 × the configured rate (:data:`TCP_GOODPUT`).
* **Burst**: the goodput of the first second shows at least half of the extra bytes the
  bucket allows in that second, and not more than 1.02 × everything the bucket allows.
* **CPU share ratio** and **disk rate**: within ±10 % of the configured value.

Beside the verdicts, :func:`deviation` measures a series against the curve
:mod:`vmqos.plan.predict` predicted for it (steady state and burst window); it is reported,
never judged.

How the 0.90–1.02 band relates to what a correct shaper delivers: a qdisc counts ``skb->len``
(the Ethernet frame without preamble, gap and FCS) while iperf3 reports TCP payload, so at MTU
1500 with TCP timestamps the ceiling is 1448/1514 ≈ 0.956 of the configured rate (observed on
kernel 6.18 / iproute2 6.1 here: 0.955–0.956 for TBF and IFB+TBF). The band puts 0.956 inside
with room on both sides: the lower bound allows 6 % less than that ceiling (0.90/0.956 = 0.94;
interval jitter, a 2-core host, TCP's sawtooth under HTB), the upper bound fails a shaper that
lets 7 % more through than a correct one could (1.02/0.956 = 1.067). It therefore cannot tell a
1000-vs-1024 kilo mix-up (2.4 %) from noise, and it needs MTU ≥ 646 to be passable at all
(``tcp_goodput_factor``, from :mod:`vmqos.plan.kernel.ethernet` and re-exported here, falls
below 0.90 there; the verdict says so). Each TCP verdict
notes the ceiling and the measured share of it.

The burst window: a bucket of ``burst`` bytes refilled at ``rate`` and drained at ``peak``
(HTB ``ceil``; the line rate for TBF or a policer) empties after ``8·burst / (peak − rate)``
seconds. Without a known peak or line rate the window is bounded by ``8·burst / rate`` (it is
shorter whenever the line is at least twice the rate), which is what :func:`burst_window`
returns. Steady state starts a settle time (default 0.5 s: TCP slow start and one interval)
after the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from vmqos.errors import ValidationError
from vmqos.limits import Limit
from vmqos.plan.kernel.ethernet import tcp_goodput_factor
from vmqos.plan.predict import Curve
from vmqos.units import Duration

__all__ = [
    "CPU_SHARE",
    "DISK_RATE",
    "TCP_GOODPUT",
    "Deviation",
    "Outcome",
    "Sample",
    "Shaping",
    "Tolerance",
    "Verdict",
    "burst_drain_rate",
    "burst_window",
    "deviation",
    "judge_burst",
    "judge_cpu_shares",
    "judge_rate",
    "judge_ratio",
    "judge_tcp_goodput",
    "mean_over",
    "recommended_seconds",
    "tcp_goodput_factor",
]


class Outcome(Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"   # the measurement cannot decide (too short, no data)
    NOT_APPLICABLE = "n/a"          # nothing to check (no limit; a burst too small to see)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """An acceptance band as a ratio of measured to configured."""

    low: float
    high: float

    def contains(self, ratio: float) -> bool:
        return self.low <= ratio <= self.high

    def describe(self) -> str:
        if math.isclose(self.low + self.high, 2.0):
            return f"within ±{(self.high - 1) * 100:.0f} % of the configured value"
        return f"within {self.low:.2f}–{self.high:.2f} × the configured value"


TCP_GOODPUT = Tolerance(0.90, 1.02)
CPU_SHARE = Tolerance(0.90, 1.10)
DISK_RATE = Tolerance(0.90, 1.10)


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured interval: ``start``/``end`` in seconds from the start of the measurement,
    ``value`` the mean over it (bit/s for traffic, B/s or IO/s for a disk)."""

    start: float
    end: float
    value: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Shaping:
    """A configured rate limit in plain numbers: ``rate`` and ``peak`` in bit/s, ``burst`` in
    bytes (the kernel's, after tc's rounding), as in :class:`~vmqos.limits.Limit`."""

    rate: float
    burst: int = 0
    peak: float | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 0 or (self.peak is not None and self.peak <= 0):
            raise ValidationError(
                f"a shaping needs a positive rate, a burst >= 0 and a positive peak; got "
                f"rate {self.rate}, burst {self.burst}, peak {self.peak}",
                key="rate", value=self.rate, allowed="rate > 0, burst >= 0, peak > 0 or none")

    @classmethod
    def from_limit(cls, limit: Limit) -> Shaping | None:
        """The shaping a :class:`Limit` enforces, or None when it caps no rate."""
        if not limit.rate:
            return None
        return cls(rate=float(limit.rate), burst=int(limit.burst or 0),
                   peak=None if limit.peak is None else float(limit.peak))


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check: configured against measured, the acceptance bounds (absolute, in ``unit``),
    the outcome and the rule that decided it."""

    check: str
    unit: str
    configured: float
    measured: float | None
    low: float
    high: float
    outcome: Outcome
    rule: str
    window: tuple[float, float] | None = None   # seconds of the series the measured value covers
    notes: tuple[str, ...] = ()

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.configured:
            return None
        return self.measured / self.configured

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS


def mean_over(samples: Sequence[Sample], start: float = 0.0,
              end: float = math.inf) -> tuple[float | None, float]:
    """The time-weighted mean of the samples' part inside ``[start, end)`` and the seconds it
    covers; ``(None, 0.0)`` when no sample overlaps."""
    total = covered = 0.0
    for s in samples:
        overlap = min(s.end, end) - max(s.start, start)
        if overlap > 0:
            total += s.value * overlap
            covered += overlap
    return (total / covered if covered > 0 else None), covered


def burst_window(shaping: Shaping, *, line_rate: float | None = None) -> float:
    """Seconds until the bucket is empty when traffic arrives as fast as it may leave: at the
    peak, or at ``line_rate`` when the path carries less than that."""
    if shaping.burst <= 0:
        return 0.0
    rates = [r for r in (shaping.peak, line_rate) if r is not None]
    drain = min(rates) if rates else None
    if drain is None:
        return 8 * shaping.burst / shaping.rate   # bound, see the module docstring
    if drain <= shaping.rate:
        return 0.0   # ceil == rate: the bucket never drains faster than it fills
    return 8 * shaping.burst / (drain - shaping.rate)


def burst_drain_rate(shaping: Shaping, samples: Sequence[Sample], *, first: float = 1.0,
                     mtu: int = 1500) -> float | None:
    """The frame rate (bit/s) the path carried in the first ``first`` seconds, when that is
    below the peak: the bucket then empties later than :func:`burst_window` at the peak says.

    Why: a path slower than the peak (the reference node's TCG guest carried HTB at 0.86-0.95
    of a 131 Mbit/s ceil) drains the bucket at what it carries, so the steady state starts
    later; judging from the peak's window would count the burst's tail as steady state. The
    first second includes TCP's slow start, so this underestimates the drain and errs
    towards a later, cleaner steady state. None without a peak, a burst or a full second."""
    if shaping.peak is None or shaping.burst <= 0:
        return None
    measured, covered = mean_over(samples, 0.0, first)
    if measured is None or covered < 0.9 * first:
        return None
    frames = measured / tcp_goodput_factor(mtu)
    return frames if frames < shaping.peak else None


def recommended_seconds(shaping: Shaping, *, settle: float = 0.5, steady: float = 2.0,
                        line_rate: float | None = None) -> float:
    """How long to measure so that ``steady`` seconds of steady state follow the burst."""
    return burst_window(shaping, line_rate=line_rate) + settle + steady


def judge_tcp_goodput(
    shaping: Shaping, samples: Sequence[Sample], *, settle: float = 0.5,
    min_steady: float = 1.0, tolerance: Tolerance = TCP_GOODPUT, mtu: int = 1500,
    line_rate: float | None = None, check: str = "TCP goodput",
) -> Verdict:
    """Steady-state goodput (bit/s) against ``shaping.rate``, after the burst window."""
    window = burst_window(shaping, line_rate=line_rate)
    start = window + settle
    measured, covered = mean_over(samples, start)
    factor = tcp_goodput_factor(mtu)
    rule = (f"mean goodput after the burst window ({window:.2f} s) + {settle:.1f} s settle "
            f"{tolerance.describe()}")
    notes = [f"TCP payload ceiling at MTU {mtu}: {factor:.3f} × rate "
             f"({factor * shaping.rate / 1e6:.3f} Mbit/s)"]
    if shaping.peak is not None and line_rate is not None and line_rate < shaping.peak:
        notes.append(f"the burst drained at {line_rate / 1e6:.3f} Mbit/s, below the peak "
                     f"{shaping.peak / 1e6:.3f} Mbit/s: the window is counted from that")
    if factor < tolerance.low:
        notes.append(f"at MTU {mtu} even a perfect shaper stays below {tolerance.low:.2f} × "
                     "rate: this rule cannot pass")
    end = max((s.end for s in samples), default=start)
    if measured is None or covered < min_steady:
        notes.append(f"only {covered:.1f} s of steady state; measure at least "
                     f"{start + min_steady:.1f} s")
        outcome = Outcome.INCONCLUSIVE
    else:
        notes.append(f"measured {measured / (factor * shaping.rate):.3f} of the TCP ceiling")
        outcome = Outcome.PASS if tolerance.contains(measured / shaping.rate) else Outcome.FAIL
    return Verdict(check=check, unit="bit/s", configured=shaping.rate, measured=measured,
                   low=tolerance.low * shaping.rate, high=tolerance.high * shaping.rate,
                   outcome=outcome, rule=rule, window=(start, max(end, start)),
                   notes=tuple(notes))


def judge_burst(
    shaping: Shaping, samples: Sequence[Sample], *, first: float = 1.0, mtu: int = 1500,
    line_rate: float | None = None, check: str = "burst in the first second",
) -> Verdict:
    """Is the burst visible in the first ``first`` seconds?

    ``configured`` is the mean rate (bit/s of frames) the bucket allows over that time:
    ``min(peak, line, rate + 8·burst/first)``. Pass when the measured goodput shows at least
    half of the excess over the rate (after the TCP payload factor) and at most 1.02 × it.
    """
    cap = min(shaping.peak or math.inf, line_rate or math.inf)
    allowed = min(cap, shaping.rate + 8 * shaping.burst / first)
    excess = allowed - shaping.rate
    factor = tcp_goodput_factor(mtu)
    low = factor * (shaping.rate + 0.5 * excess)
    high = TCP_GOODPUT.high * allowed
    rule = (f"first {first:.1f} s goodput >= {factor:.3f} × (rate + half the burst's excess) "
            f"and <= {TCP_GOODPUT.high:.2f} × what the bucket allows")
    measured, covered = mean_over(samples, 0.0, first)
    window = burst_window(shaping, line_rate=line_rate)
    notes = [f"burst {shaping.burst} B drains in {window:.2f} s"]
    if excess < 0.10 * shaping.rate:
        notes.append("the burst adds less than 10 % to the first second: too small to see")
        outcome = Outcome.NOT_APPLICABLE
    elif measured is None or covered < 0.9 * first:
        outcome = Outcome.INCONCLUSIVE
    else:
        outcome = Outcome.PASS if low <= measured <= high else Outcome.FAIL
    return Verdict(check=check, unit="bit/s", configured=allowed, measured=measured, low=low,
                   high=high, outcome=outcome, rule=rule, window=(0.0, first),
                   notes=tuple(notes))


def judge_ratio(check: str, configured: float, measured: float | None, *,
                tolerance: Tolerance, unit: str, notes: Sequence[str] = ()) -> Verdict:
    """A single measured value against a configured one."""
    if configured <= 0:
        raise ValidationError(f"{check}: the configured value must be positive, "
                              f"got {configured}", key=check, value=configured,
                              allowed="a positive number")
    if measured is None:
        outcome = Outcome.INCONCLUSIVE
    else:
        outcome = Outcome.PASS if tolerance.contains(measured / configured) else Outcome.FAIL
    return Verdict(check=check, unit=unit, configured=configured, measured=measured,
                   low=tolerance.low * configured, high=tolerance.high * configured,
                   outcome=outcome, rule=tolerance.describe(), notes=tuple(notes))


def judge_cpu_shares(shares: tuple[int, int], usage: tuple[float, float], *,
                     tolerance: Tolerance = CPU_SHARE) -> Verdict:
    """Two sibling groups competing for one CPU get CPU time in the ratio of their
    ``cpu.shares`` (v1) or ``cpu.weight`` (v2): CFS gives each runnable entity time in
    proportion to its weight. ``usage`` is the CPU time each got over the same window."""
    configured = shares[0] / shares[1]
    measured = usage[0] / usage[1] if usage[1] > 0 else None
    return judge_ratio(f"CPU share ratio {shares[0]}:{shares[1]}", configured, measured,
                       tolerance=tolerance, unit=":1",
                       notes=(f"CPU time {usage[0]:.3f} s vs {usage[1]:.3f} s",))


def judge_rate(check: str, configured: float, samples: Sequence[Sample], *, unit: str,
               tolerance: Tolerance = DISK_RATE, skip: float = 0.0,
               min_covered: float = 1.0) -> Verdict:
    """The time-weighted mean of a series after ``skip`` seconds against ``configured``."""
    measured, covered = mean_over(samples, skip)
    notes = []
    if covered < min_covered:
        notes.append(f"only {covered:.1f} s measured; need {min_covered:.1f} s")
        measured = None
    verdict = judge_ratio(check, configured, measured, tolerance=tolerance, unit=unit,
                          notes=notes)
    end = max((s.end for s in samples), default=skip)
    return replace(verdict, window=(skip, max(end, skip)))


# --- predicted against measured -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deviation:
    """How far a measured series is from a predicted curve. Ratios are (measured − predicted)
    / predicted; ``None`` where the measurement cannot show it (no burst phase, too short)."""

    steady: float | None                 # the mean after the predicted window + settle
    window_predicted: Duration
    window_measured: Duration | None
    window: float | None
    largest_interval: float | None       # the largest per-interval deviation in steady state

    @property
    def largest(self) -> float | None:
        """The larger of the steady-state and the burst-window deviation, by magnitude."""
        found = [abs(d) for d in (self.steady, self.window) if d is not None]
        return max(found) if found else None


def _window_end(curve: Curve, samples: Sequence[Sample], scale: float) -> Duration | None:
    """Where the measured burst window ends: the first interval below the midpoint of the
    burst rate and the steady rate, after the series first rose above it, placed inside that
    interval by how far its mean lies between the two levels. ``None`` without a timed burst
    phase longer than a typical (the median) interval, or when the series never falls."""
    high = curve.burst_rate
    if high is None or not samples:
        return None
    widths = sorted(s.duration for s in samples)
    if curve.burst_window <= widths[len(widths) // 2]:
        return None
    hi, lo = high * scale, curve.steady * scale
    mid = (hi + lo) / 2
    risen = False
    for s in samples:
        if s.value >= mid:
            risen = True
        elif risen:
            return Duration(s.start + min(max((s.value - lo) / (hi - lo), 0.0), 1.0)
                            * s.duration)
    return None


def deviation(curve: Curve, samples: Sequence[Sample], *, scale: float = 1.0,
              settle: float = 0.5) -> Deviation:
    """``samples`` (values in the curve's unit/s × ``scale``: 8 for goodput measured in bit/s)
    against ``curve``: the steady state is the time-weighted mean after the predicted window +
    ``settle`` (as :func:`judge_tcp_goodput` takes it) against the predicted steady rate; the
    burst window as :func:`_window_end` finds it against the predicted one; the largest
    steady-state interval leaves out stubs shorter than half the median interval."""
    window = curve.burst_window
    steady_from = window + settle
    predicted = curve.steady * scale
    measured, covered = mean_over(samples, steady_from)
    steady = (None if measured is None or not covered or predicted <= 0
              else (measured - predicted) / predicted)
    worst: float | None = None
    # iperf3's last interval is the remainder of the run: a stub of a few packets is noise.
    widths = sorted(s.duration for s in samples)
    typical = widths[len(widths) // 2] if widths else 0.0
    for s in samples:
        if s.start >= steady_from and predicted > 0 and s.duration >= typical / 2:
            d = (s.value - predicted) / predicted
            worst = d if worst is None or abs(d) > abs(worst) else worst
    end = _window_end(curve, samples, scale)
    return Deviation(steady=steady, window_predicted=window, window_measured=end,
                     window=None if end is None or not window else (end - window) / window,
                     largest_interval=worst)
