"""Every unit conversion, as a table of known values plus properties."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmqos import units as u

# (conversion, input, expected, where the expected value comes from)
TABLE: list[tuple[Callable[[int], int], int, int, str]] = [
    (u.kbytes_per_sec_to_bits, 32768, 262_144_000, "seed: average 32768 = 262144Kbit"),
    (u.kbytes_per_sec_to_bits, 65536, 524_288_000, "seed: peak 65536 = 524288Kbit"),
    (u.kbytes_per_sec_to_bytes, 32768, 32_768_000, "tc: 32768kbps = 32768000 B/s"),
    (u.kib_to_bytes, 131072, 134_217_728, "seed: burst 131072 KiB = 128Mb"),
    (u.kib_to_bytes, 64, 65536, "tc: mtu 64kb"),
    (u.kbit_per_sec_to_bits, 3000, 3_000_000, "Neutron max_kbps 3000 -> OVS max-rate"),
    (u.kbit_to_bits, 300, 300_000, "Neutron max_burst_kbps 300 -> OVS queue burst"),
    (u.kbit_to_bytes, 300, 37_500, "Linux bridge police burst 37500 B"),
    (u.ovs_policing_burst_to_bytes, 300, 38_400, "OVS kernel police burst 38400b"),
    (u.ovs_policing_burst_to_bytes, 8000, 1_024_000, "OVS default burst 8000 kbit"),
    (u.bits_to_bytes, 300_000, 37_500, "bits -> bytes"),
    (u.bits_per_sec_to_bytes, 8_000_000, 1_000_000, "8 Mbit/s = 1 MB/s"),
    (u.mbit_per_sec_to_bits, 3, 3_000_000, "SR-IOV max_tx_rate 3 Mbps"),
    (u.kpps_to_pps, 1000, 1_000_000, "Neutron max_kpps 1000 -> meter rate 1000000"),
    (u.kbytes_per_sec_to_kbit, 1024, 8192, "libvirt OVS: ingress_policing_rate=8192"),
    (u.kbytes_per_sec_to_kbit, 4294967295, 34_359_738_360, "libvirt OVS max average"),
    (u.kib_to_ovs_policing_kbit, 7, 56, "libvirt OVS: ingress_policing_burst=56"),
    (u.kib_to_bits, 4, 32768, "libvirt OVS: other_config:burst=32768"),
    (u.mib_to_kib, 1024, 1_048_576, "seed: <memory unit='KiB'>1048576"),
]


@pytest.mark.parametrize(("convert", "value", "expected", "why"), TABLE,
                         ids=[row[3] for row in TABLE])
def test_conversion_table(convert: Callable[[int], int], value: int, expected: int,
                          why: str) -> None:
    assert convert(value) == expected, why


@given(st.integers(min_value=0, max_value=2**40))
def test_kilobytes_are_eight_kilobits(rate: int) -> None:
    # The libvirt/Neutron confusion in one line: 1 kB/s = 8 kbit/s, exactly.
    bits = u.kbytes_per_sec_to_bits(u.KBytesPerSec(rate))
    assert bits == u.kbit_per_sec_to_bits(u.kbytes_per_sec_to_kbit(u.KBytesPerSec(rate)))
    assert u.bits_per_sec_to_bytes(bits) == u.kbytes_per_sec_to_bytes(u.KBytesPerSec(rate))


@given(st.integers(min_value=0, max_value=2**40))
def test_kib_is_1024_bytes_and_8192_bits(size: int) -> None:
    assert u.kib_to_bits(u.KiB(size)) == 8 * u.kib_to_bytes(u.KiB(size))


@given(st.integers(min_value=0, max_value=2**40))
def test_ovs_kernel_burst_is_2_4_percent_larger_than_si(kbit: int) -> None:
    si, ovs = u.kbit_to_bytes(u.Kbit(kbit)), u.ovs_policing_burst_to_bytes(u.Kbit(kbit))
    assert ovs * 1000 // 1024 in (si - 1, si, si + 1)


@pytest.mark.parametrize(("rate", "text"), [
    (0, "0 bit/s"), (999, "999 bit/s"), (3_000_000, "3 Mbit/s"),
    (262_144_000, "262.144 Mbit/s"), (34_359_738_360_000, "34.36 Tbit/s"),
    (1_500, "1.5 kbit/s"),
])
def test_format_bits_per_sec(rate: int, text: str) -> None:
    assert u.format_bits_per_sec(rate) == text


@pytest.mark.parametrize(("size", "text"), [
    (0, "0 B"), (1023, "1023 B"), (38_400, "37.5 KiB"), (134_217_728, "128 MiB"),
    (1 << 40, "1 TiB"),
])
def test_format_bytes(size: int, text: str) -> None:
    assert u.format_bytes(size) == text
