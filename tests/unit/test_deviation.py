"""Predicted against measured (vmqos.verify.judge.deviation) on synthetic series: a series
sampled from the curve itself, one 2 % low, one whose burst lasts 10 % longer, a crossing
inside an interval, and a curve without a burst."""

from __future__ import annotations

import math

import pytest

from vmqos.plan.predict import Curve, Phase
from vmqos.units import Duration
from vmqos.verify.judge import Sample, deviation

# 16 Mbit/s of goodput for 1 s, then 8 Mbit/s (payload B/s; the judge tests' scaled seed).
CURVE = Curve("B", (Phase(Duration(0.0), Duration(1.0), 2e6, 2e6),
                    Phase(Duration(1.0), None, 1e6, 0.0)))


def _sampled(curve: Curve, seconds: float, step: float = 0.2, gain: float = 1.0,
             stretch: float = 1.0) -> list[Sample]:
    out = []
    for k in range(round(seconds / step)):
        a, b = k * step, (k + 1) * step
        value = curve.mean_between(a / stretch, b / stretch) * 8
        out.append(Sample(a, b, value * (gain if a >= curve.burst_window * stretch else 1.0)))
    return out


def test_deviation_of_the_curve_itself_is_zero() -> None:
    d = deviation(CURVE, _sampled(CURVE, 6), scale=8)
    assert d.steady == pytest.approx(0.0)
    assert d.window_measured == pytest.approx(1.0)
    assert d.window == pytest.approx(0.0)
    assert d.largest == pytest.approx(0.0)


def test_deviation_finds_a_low_steady_state_and_a_long_burst() -> None:
    low = deviation(CURVE, _sampled(CURVE, 6, gain=0.98), scale=8)
    assert low.steady == pytest.approx(-0.02)
    assert low.largest_interval == pytest.approx(-0.02)
    long = deviation(CURVE, _sampled(CURVE, 6, stretch=1.1), scale=8)
    assert long.window == pytest.approx(0.1, abs=0.01)
    assert long.largest == pytest.approx(0.1, abs=0.01)


def test_deviation_interpolates_inside_the_crossing_interval() -> None:
    # The window ends 0.05 s into a 0.2 s interval: its mean lies a quarter of the way up.
    samples = [Sample(0.0, 0.2, 16e6), Sample(0.2, 0.4, 16e6), Sample(0.4, 0.6, 10e6),
               Sample(0.6, 0.8, 8e6), Sample(0.8, 3.0, 8e6)]
    curve = Curve("B", (Phase(Duration(0.0), Duration(0.45), 2e6, 0.9e6),
                        Phase(Duration(0.45), None, 1e6, 0.0)))
    d = deviation(curve, samples, scale=8, settle=0.2)
    assert d.window_measured == pytest.approx(0.45)
    assert d.steady == pytest.approx(0.0)


def test_deviation_without_a_visible_burst() -> None:
    flat = Curve("B", (Phase(Duration(0.0), None, 1e6, 0.0),))
    d = deviation(flat, [Sample(0.0, 1.0, 8.4e6), Sample(1.0, 2.0, 8.4e6)], scale=8, settle=0.0)
    assert d.window is None and d.window_measured is None
    assert d.steady == pytest.approx(0.05)
    assert math.isclose(d.largest or 0, 0.05)


def test_a_short_last_interval_is_no_largest_deviation() -> None:
    samples = [*_sampled(CURVE, 6), Sample(6.0, 6.05, 2e6)]
    d = deviation(CURVE, samples, scale=8)
    assert d.largest_interval == pytest.approx(0.0)
    assert deviation(CURVE, [*_sampled(CURVE, 6), Sample(6.0, 6.2, 7.2e6)],
                     scale=8).largest_interval == pytest.approx(-0.1)
