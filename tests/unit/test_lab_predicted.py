"""How the lab reports predicted against measured (vmqos.ops.lab.Predicted): the figures and
the issue's targets, in words; the verdicts are the judge's and are not touched."""

from __future__ import annotations

from vmqos.ops.lab import Predicted
from vmqos.units import Duration
from vmqos.verify.judge import Deviation


def test_describe_network_check() -> None:
    p = Predicted("vm tap inbound: TCP goodput", "bit/s", 250_716_000.0, Deviation(
        steady=-0.012, window_predicted=Duration(4.076), window_measured=Duration(4.3),
        window=0.055, largest_interval=0.04))
    assert p.describe() == (
        "predicted steady 250,716,000 bit/s; measured -1.2% of it (target ±3%); burst window "
        "predicted 4.08 s, measured 4.30 s (+5.5%, target ±10%); largest steady-state "
        "interval +4.0%")
    assert p.deviation.largest == 0.055


def test_describe_burst_not_seen_and_cpu_ratio() -> None:
    unseen = Predicted("x", "bit/s", 1e6, Deviation(
        steady=None, window_predicted=Duration(1.0), window_measured=None, window=None,
        largest_interval=None))
    assert unseen.describe() == ("predicted steady 1,000,000 bit/s; burst window predicted "
                                 "1.00 s, measured not seen")
    assert unseen.deviation.largest is None
    cpu = Predicted("CPU share ratio 1024:512", ":1", 2.0, Deviation(
        steady=0.021, window_predicted=Duration(0.0), window_measured=None, window=None,
        largest_interval=None))
    assert cpu.describe() == "predicted ratio 2.000:1; measured +2.1% of it (target ±3%)"
