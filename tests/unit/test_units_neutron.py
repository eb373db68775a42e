"""The Neutron agents' own unit conversions (vmqos.units, last block): a table of known values
plus properties against the upstream arithmetic written out."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmqos import units as u

KBPS = st.integers(min_value=0, max_value=2**31 - 1)   # neutron-lib DB_INTEGER_MAX_VALUE

# (conversion, input, expected, where the expected value comes from)
TABLE: list[tuple[Callable[[int], int], int, int, str]] = [
    (u.kbit_per_sec_to_bytes_per_sec, 3000, 375_000, "Linux bridge police rate 375000 B/s"),
    (u.kbit_per_sec_to_bytes_per_sec, 1001, 125_125, "Linux bridge police rate 125125 B/s"),
    (u.bytes_to_bits, 1500, 12_000, "MTU 1500 B in bits (OVN bug 2153122)"),
    (u.mbit_per_sec_to_kbit, 3, 3000, "SR-IOV max_tx_rate 3 = 3000 kbit/s"),
    (u.ms_to_microseconds, 50, 50_000, "Linux bridge tbf latency 50 ms"),
    (u.microseconds_to_ms, 50_000, 50, "tbf latency 50ms"),
    (u.microseconds_to_ms, 50_999, 50, "whole milliseconds"),
]


@pytest.mark.parametrize(("convert", "value", "expected", "why"), TABLE,
                         ids=[row[3] for row in TABLE])
def test_conversion_table(convert: Callable[[int], int], value: int, expected: int,
                          why: str) -> None:
    assert convert(value) == expected, why


@pytest.mark.parametrize(("kbps", "burst", "expected"), [
    (3000, 300, 300),       # the rule's burst
    (3000, 0, 2400.0),      # 80 %, a float
    (1001, 0, 800.8000000000001),
])
def test_neutron_egress_burst(kbps: int, burst: int, expected: float) -> None:
    value = u.neutron_egress_burst(u.KbitPerSec(kbps), u.Kbit(burst))
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("kbps", "burst", "expected"), [
    (3000, 300, 300), (3000, 0, 2400), (1001, 0, 800), (1, 0, 0)])
def test_ovs_egress_policing_burst(kbps: int, burst: int, expected: int) -> None:
    assert u.ovs_egress_policing_burst(u.KbitPerSec(kbps), u.Kbit(burst)) == expected


@pytest.mark.parametrize(("kbit", "expected"), [
    (300, 37_500), (2400.0, 300_000), (800.8000000000001, 100_100), (12.0, 1500)])
def test_neutron_kbit_to_bytes(kbit: float, expected: int) -> None:
    assert u.neutron_kbit_to_bytes(kbit) == expected


@pytest.mark.parametrize(("kbps", "hz", "expected"), [(3000, 250, 12.0), (1000, 1000, 1.0)])
def test_kbit_per_tick(kbps: int, hz: int, expected: float) -> None:
    assert u.kbit_per_tick(u.KbitPerSec(kbps), hz) == expected


@given(KBPS, st.integers(min_value=0, max_value=2**31 - 1))
def test_ovs_burst_is_the_linux_bridge_burst_truncated(kbps: int, burst: int) -> None:
    # qos_linux._get_egress_burst_value then int(): the agents agree but for the fraction.
    shared = u.neutron_egress_burst(u.KbitPerSec(kbps), u.Kbit(burst))
    assert u.ovs_egress_policing_burst(u.KbitPerSec(kbps), u.Kbit(burst)) == int(shared)


@given(KBPS)
def test_rate_in_bytes_is_the_agents_float_arithmetic(kbps: int) -> None:
    # tc_lib's int(max_kbps * 1000 / 8) and OVS's bit/s / 8 agree for every integer rate.
    rate = u.kbit_per_sec_to_bytes_per_sec(u.KbitPerSec(kbps))
    assert rate == int(kbps * 1000 / 8) == u.kbit_per_sec_to_bits(u.KbitPerSec(kbps)) // 8


@pytest.mark.parametrize(
    ("kbps", "mbps"),
    [(0, 0), (99, 1), (999, 1), (1000, 1), (1499, 1), (1500, 2), (2000, 2), (2001, 2),
     (2499, 2), (2500, 3), (3000, 3), (10000, 10)],
)
def test_kbps_to_mbps_spec_table(kbps: int, mbps: int) -> None:
    assert u.kbit_per_sec_to_vf_rate(u.KbitPerSec(kbps)) == mbps


@pytest.mark.parametrize(("kbps", "mbps"), [(2500, 2), (1500, 1), (999, 1), (0, 0)])
def test_kbps_to_mbps_hwol_truncates(kbps: int, mbps: int) -> None:
    assert u.kbit_per_sec_to_vf_rate_hwol(u.KbitPerSec(kbps)) == mbps


@given(KBPS)
def test_kbps_to_mbps_equals_neutron_lib_round_val(kbps: int) -> None:
    # eswitch_manager.set_device_rate + neutron_lib helpers.round_val, written out.
    expected = 1 if 0 < kbps < 1000 else int(
        Decimal(kbps / 1000.0).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    assert u.kbit_per_sec_to_vf_rate(u.KbitPerSec(kbps)) == expected


@given(KBPS)
def test_kbps_to_mbps_hwol_equals_qos_hwol(kbps: int) -> None:
    expected = 0 if kbps == 0 else 1 if kbps < 1000 else int(kbps / 1000.0)
    assert u.kbit_per_sec_to_vf_rate_hwol(u.KbitPerSec(kbps)) == expected
