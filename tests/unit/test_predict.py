"""Predicted curves (vmqos.plan.predict) on literal limits: the seed's inbound HTB, a
police-only direction, a TBF, QEMU buckets with and without ``_max``/``_max_length``, CPU
shares and sizes (the deviation of a measured series: test_deviation.py)."""

from __future__ import annotations

import pytest

from vmqos.errors import ValidationError
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer
from vmqos.plan.predict import (
    Bucket,
    DiskOp,
    DiskUnit,
    describe_transfer,
    drain_buckets,
    limit_buckets,
    parse_size,
    predict_cpu_shares,
    predict_disk,
    predict_tcp,
    qemu_buckets,
)
from vmqos.plan.render.tc import tc_limits
from vmqos.units import BitsPerSec, Bytes, KBytesPerSec, KiB

FACTOR = 1448 / 1514
GIB = 1 << 30


def _seed_inbound() -> Limit:
    side = BandwidthSide(average=KBytesPerSec(32768), peak=KBytesPerSec(65536),
                         burst=KiB(131072))
    (htb,) = [x for x in tc_limits("tap0", Bandwidth(inbound=side), swapped=True,
                                   source="seed") if x.direction is Direction.INBOUND]
    return htb


def _limit(kind: MechanismKind, rate: int, burst: int) -> Limit:
    return Limit(enforcer=Enforcer.OVS_AGENT, direction=Direction.OUTBOUND, device="tap0",
                 mechanism=Mechanism(kind), source="test", rate=BitsPerSec(rate),
                 burst=Bytes(burst))


def test_seed_inbound_htb_buckets_are_the_kernels() -> None:
    # 128 MiB is kept exactly; tc's default cburst asks 1600 B = 24.4 µs at the ceil, which
    # tc truncates to 24 µs = 1572 B.
    assert limit_buckets(_seed_inbound()) == (
        Bucket(32_768_000, 134_217_728, "128 MiB burst"),
        Bucket(65_536_000, 1572, "1.535 KiB cburst"))


def test_seed_inbound_prediction() -> None:
    curve = predict_tcp(limit_buckets(_seed_inbound()))
    at_once, burst, steady = curve.phases
    assert (at_once.rate, at_once.amount) == (None, pytest.approx(1572 * FACTOR))
    assert burst.rate == pytest.approx(65_536_000 * FACTOR)          # 501.4 Mbit/s goodput
    assert burst.duration == pytest.approx((134_217_728 - 1572) / 32_768_000)   # 4.096 s
    assert (steady.duration, steady.rate) == (None, pytest.approx(32_768_000 * FACTOR))
    assert curve.burst_window == pytest.approx(4.09595, abs=1e-5)
    payload_in_burst = (1572 + 65_536_000 * burst.duration) * FACTOR
    assert curve.time_for(GIB) == pytest.approx(
        burst.duration + (GIB - payload_in_burst) / (32_768_000 * FACTOR))
    assert curve.time_for(GIB) == pytest.approx(30.17, abs=0.01)
    # The words, with 250.7 where it has 250.6 (262.144 × 0.956, the factor rounded).
    assert describe_transfer(curve, GIB, "1 GiB to vm_resquota") == (
        "1 GiB to vm_resquota takes 30.2 s — 4.1 s at ~501 Mbit/s of goodput while the "
        "128 MiB burst lasts, then 250.7 Mbit/s")


def test_police_only_direction() -> None:
    # The seed's outbound: OVS policing at 3 Mbit/s with 300 kbit (OVS: 38 400 B) of burst.
    police = _limit(MechanismKind.OVS_POLICING, 3_000_000, 38_400)
    assert limit_buckets(police) == (Bucket(375_000, 38_400, "37.5 KiB burst"),)
    unbounded = predict_tcp(limit_buckets(police))
    assert [(p.rate, p.duration) for p in unbounded.phases] == [
        (None, 0.0), (pytest.approx(375_000 * FACTOR), None)]
    assert unbounded.phases[0].amount == pytest.approx(38_400 * FACTOR)
    # On a 1 Gbit/s line the burst drains in 38 400 / (125e6 - 375 000) s.
    gigabit = predict_tcp(limit_buckets(police), line_rate=BitsPerSec(1_000_000_000))
    assert gigabit.burst_window == pytest.approx(38_400 / (125e6 - 375_000))
    assert gigabit.phases[0].rate == pytest.approx(125e6 * FACTOR)
    assert describe_transfer(unbounded, GIB, "1 GiB from vm") == (
        "1 GiB from vm takes 2993.7 s at 2.869 Mbit/s")


def test_tbf_on_a_100_mbit_line() -> None:
    tbf = _limit(MechanismKind.LINUXBRIDGE_TBF, 10_000_000, 100_000)
    curve = predict_tcp(limit_buckets(tbf), line_rate=BitsPerSec(100_000_000))
    burst, steady = curve.phases
    assert burst.duration == pytest.approx(100_000 / (12_500_000 - 1_250_000))   # 8.9 ms
    assert (burst.rate, steady.rate) == (pytest.approx(12_500_000 * FACTOR),
                                         pytest.approx(1_250_000 * FACTOR))
    assert predict_tcp(limit_buckets(tbf), mtu=9000).steady == pytest.approx(
        1_250_000 * 8948 / 9014)


def test_ovs_htb_queue_uses_its_burst_for_both_buckets() -> None:
    queue = Limit(enforcer=Enforcer.OVS_AGENT, direction=Direction.INBOUND, device="qvo0",
                  mechanism=Mechanism(MechanismKind.OVS_HTB_QUEUE), source="test",
                  rate=BitsPerSec(8_000_000), burst=Bytes(50_000))
    assert limit_buckets(queue) == (Bucket(1_000_000, 50_000, "48.828 KiB burst"),
                                    Bucket(1_000_000, 50_000, "48.828 KiB cburst"))
    assert limit_buckets(_limit(MechanismKind.TC_HTB, 8_000_000, 50_000),
                         cburst=Bytes(9000))[1] == Bucket(1_000_000, 9000, "8.789 KiB cburst")


def test_layers_in_series_the_stricter_decides() -> None:
    # The HTB's cburst (1572 B) passes at once; then the policer's remaining 36 828 B drain at
    # the ceil, not at once: the ceil bucket in series sets the burst's speed.
    htb = limit_buckets(_seed_inbound())
    police = limit_buckets(_limit(MechanismKind.OVS_POLICING, 3_000_000, 38_400))
    curve = predict_tcp([*htb, *police])
    assert curve.steady == pytest.approx(375_000 * FACTOR)
    assert curve.burst_window == pytest.approx((38_400 - 1572) / (65_536_000 - 375_000))
    assert curve.phases[1].rate == pytest.approx(65_536_000 * FACTOR)


def test_qemu_bucket_without_max_has_qemus_own_tenth_of_a_second() -> None:
    # util/throttle.c throttle_fix_bucket: max = avg / 10.
    assert qemu_buckets(1_000_000, name="bps_rd") == (Bucket(1e6, 1e5, "bps_rd avg/10"),)
    curve = predict_disk({"read_bytes_sec": 1_000_000}, DiskOp.READ, DiskUnit.BYTES)
    assert curve is not None
    assert [(p.rate, p.amount) for p in curve.phases] == [(None, 100_000), (1e6, 0.0)]
    assert curve.time_for(1_000_000) == pytest.approx(0.9)
    assert predict_disk({"read_bytes_sec": 1_000_000}, DiskOp.WRITE, DiskUnit.BYTES) is None


def test_qemu_bucket_with_max_and_no_length_bursts_at_device_speed() -> None:
    limits = {"write_iops_sec": 100, "write_iops_sec_max": 2000}
    curve = predict_disk(limits, DiskOp.WRITE, DiskUnit.IOPS)
    assert curve is not None
    assert [(p.rate, p.amount) for p in curve.phases] == [(None, 2000), (100, 0.0)]
    # With a device that does 5000 IO/s the 2000 pass in 2000 / (5000 - 100) s.
    fast = predict_disk(limits, DiskOp.WRITE, DiskUnit.IOPS, device_rate=5000)
    assert fast is not None
    assert fast.burst_window == pytest.approx(2000 / 4900)


def test_qemu_bucket_with_max_length_bursts_at_max() -> None:
    # iops 100, max 2000 for 60 s: the level fills at 1900/s up to 120 000 after a first
    # max/10 at once, so the burst lasts (120 000 - 200) / 1900 = 63.05 s.
    limits = {"total_iops_sec": 100, "total_iops_sec_max": 2000,
              "total_iops_sec_max_length": 60}
    assert qemu_buckets(100, 2000, 60, name="iops") == (
        Bucket(100, 120_000, "iops _max × _max_length"), Bucket(2000, 200, "iops_max / 10"))
    curve = predict_disk(limits, DiskOp.READ, DiskUnit.IOPS)
    assert curve is not None
    at_once, burst, steady = curve.phases
    assert (at_once.amount, burst.rate, steady.rate) == (200, 2000, 100)
    assert burst.duration == pytest.approx((120_000 - 200) / 1900)


def test_cpu_shares() -> None:
    assert predict_cpu_shares([1024, 512]) == pytest.approx((2 / 3, 1 / 3))
    assert predict_cpu_shares([100, 100, 200]) == pytest.approx((0.25, 0.25, 0.5))


@pytest.mark.parametrize(("text", "size"), [
    ("1GiB", 1 << 30), ("128 MiB", 128 << 20), ("500MB", 500_000_000), ("4096", 4096),
    ("1.5kB", 1500), ("2g", 2_000_000_000)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-1GiB", "1 GiBs", "lots", "inf"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_size(text, key="--predict")
    assert caught.value.key == "--predict"
    assert f"--predict: {text!r} is not a size" in caught.value.message
    assert "GiB" in (caught.value.allowed or "")


def test_drain_refuses_a_zero_line() -> None:
    with pytest.raises(ValidationError, match="line rate must be positive"):
        drain_buckets([Bucket(1, 1, "b")], 0)
