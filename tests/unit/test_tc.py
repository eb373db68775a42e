"""libvirt's tc program (vmqos.plan.render.tc) against libvirt's own unit-test vectors and the spec.

Vectors: libvirt 9.0's tests/virnetdevbandwidthtest.c (tests/support/libvirt_vectors.py);
virNetDevBandwidthSet (src/util/virnetdevbandwidth.c) on a tap and on macvtap, partly observed
on this host; its quantum; iproute2's tick round trip (tc/tc_core.c, /proc/net/psched).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import seed
from support.libvirt_vectors import DEV, VECTORS, Vector, side
from vmqos.errors import (
    HostError,
    IntentError,
    PermanentHostError,
    UnsupportedError,
    ValidationError,
)
from vmqos.libvirt_types import Bandwidth
from vmqos.model import Direction, Enforcer
from vmqos.plan.kernel.psched import (
    DEFAULT_PSCHED,
    Psched,
    htb_buffer_roundtrip,
    htb_default_buffer,
)
from vmqos.plan.render.tc import (
    ClassAdd,
    FilterAdd,
    QdiscAdd,
    QdiscDel,
    compile_libvirt_tc,
    libvirt_quote,
    quantum,
    render_tc_program,
    tc_limits,
)
from vmqos.units import KBytesPerSec

# --- libvirt's tests/virnetdevbandwidthtest.c: dev eth0, swapped=true ---------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_libvirt_unit_vectors(vector: Vector) -> None:
    assert render_tc_program(DEV, vector.bandwidth, swapped=True) == list(vector.tc)


# --- virNetDevBandwidthSet on a tap tapX (swapped) and macvtap (not swapped) --------------

DELS = ["tc qdisc del dev tapX root", "tc qdisc del dev tapX ingress"]

TAP_AND_MACVTAP = [
    (Bandwidth(inbound=side(32768, 65536, 131072)), True, [
        "tc qdisc add dev tapX root handle 1: htb default 1",
        "tc class add dev tapX parent 1: classid 1:1 htb rate 32768kbps ceil 65536kbps "
        "burst 131072kb quantum 2796",
        "tc qdisc add dev tapX parent 1:1 handle 2: sfq perturb 10",
        "tc filter add dev tapX parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
    ]),
    (Bandwidth(outbound=side(32768, 65536, 131072)), True, [
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate 32768kbps "
        "burst 131072kb mtu 64kb drop flowid :1",
    ]),
    (Bandwidth(outbound=side(32768)), True, [
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate 32768kbps "
        "burst 32768kb mtu 64kb drop flowid :1",
    ]),
    (Bandwidth(outbound=side(0)), True, [
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate 0kbps "
        "burst 0kb mtu 64kb drop flowid :1",
    ]),
    (Bandwidth(inbound=side(0, 100)), True, []),
    (Bandwidth(inbound=side(100, 200, 300), outbound=side(10, 20, 30)), True, [
        "tc qdisc add dev tapX root handle 1: htb default 1",
        "tc class add dev tapX parent 1: classid 1:1 htb rate 100kbps ceil 200kbps burst 300kb "
        "quantum 8",
        "tc qdisc add dev tapX parent 1:1 handle 2: sfq perturb 10",
        "tc filter add dev tapX parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate 10kbps "
        "burst 30kb mtu 64kb drop flowid :1",
    ]),
    (Bandwidth(inbound=side(100, 200, 300), outbound=side(10, 20, 30)), False, [
        "tc qdisc add dev tapX root handle 1: htb default 1",
        "tc class add dev tapX parent 1: classid 1:1 htb rate 10kbps ceil 20kbps burst 30kb "
        "quantum 1",
        "tc qdisc add dev tapX parent 1:1 handle 2: sfq perturb 10",
        "tc filter add dev tapX parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate 100kbps "
        "burst 300kb mtu 64kb drop flowid :1",
    ]),
]


@pytest.mark.parametrize(("bandwidth", "swapped", "adds"), TAP_AND_MACVTAP)
def test_tap_and_macvtap(bandwidth: Bandwidth, swapped: bool, adds: list[str]) -> None:
    assert render_tc_program("tapX", bandwidth, swapped=swapped) == DELS + adds


def test_peak_zero_and_burst_zero_are_omitted_like_absent() -> None:
    got = render_tc_program("tapX", Bandwidth(inbound=side(1000, 0, 0)), swapped=True)
    assert got[3] == "tc class add dev tapX parent 1: classid 1:1 htb rate 1000kbps quantum 85"


def test_commands_are_values_with_argv() -> None:
    cmds = compile_libvirt_tc("tapX", Bandwidth(inbound=side(1024), outbound=side(8)),
                              swapped=True)
    assert cmds == (
        QdiscDel("tapX", "root"),
        QdiscDel("tapX", "ingress"),
        QdiscAdd("tapX", "root", "1:", "htb", ("default", "1")),
        ClassAdd("tapX", "1:", "1:1", "htb", ("rate", "1024kbps", "quantum", "87")),
        QdiscAdd("tapX", "1:1", "2:", "sfq", ("perturb", "10")),
        FilterAdd("tapX", "1:0", "all", "fw", ("flowid", "1"), prio=1, handle="1"),
        QdiscAdd("tapX", None, None, "ingress"),
        FilterAdd("tapX", "ffff:", "all", "u32", (
            "match", "u32", "0", "0", "police", "rate", "8kbps", "burst", "8kb", "mtu", "64kb",
            "drop", "flowid", ":1")),
    )
    assert cmds[2].argv() == ["qdisc", "add", "dev", "tapX", "root", "handle", "1:", "htb",
                              "default", "1"]
    for cmd in cmds:
        assert cmd.render() == "tc " + " ".join(cmd.argv())


@pytest.mark.parametrize(("arg", "quoted"), [
    ("tapX", "tapX"),
    ("", "''"),
    ('external-ids:ifname="eth0"', "'external-ids:ifname=\"eth0\"'"),
    ("a b", "'a b'"),
    ("it's", "'it'\\''s'"),
    ("1:", "1:"),
])
def test_libvirt_quote(arg: str, quoted: str) -> None:
    assert libvirt_quote(arg) == quoted


def test_odd_device_name_is_quoted_like_libvirt() -> None:
    assert QdiscDel("tap x", "root").render() == "tc qdisc del dev 'tap x' root"


@pytest.mark.parametrize("bad", [
    Bandwidth(inbound=side(-1)),
    Bandwidth(outbound=side(1, burst=-5)),
    Bandwidth(outbound=side(1 << 64)),
])
def test_values_libvirt_cannot_parse_are_rejected(bad: Bandwidth) -> None:
    with pytest.raises(ValidationError, match=r"could not convert bandwidth \w+ value '-?\d+'"):
        compile_libvirt_tc("tapX", bad, swapped=True)


# --- quantum: floor(average * 1024 / 8 / 1500), at least 1 (virNetDevBandwidthSet) -------

@pytest.mark.parametrize(("average", "expected"), [
    (1, 1), (5, 1), (10, 1), (100, 8), (1000, 85), (1024, 87), (12500, 1066), (32768, 2796),
    (65536, 5592), (125000, 10666), (4294967295, 366503875),
])
def test_quantum_table(average: int, expected: int) -> None:
    assert quantum(KBytesPerSec(average)) == expected


@given(st.integers(min_value=0, max_value=(1 << 54) - 1))
def test_quantum_formula(average: int) -> None:
    q = quantum(KBytesPerSec(average))
    assert q >= 1
    assert q == max(1, average * 1024 // 8 // 1500)


def test_quantum_wraps_like_libvirt_u64() -> None:
    # average*1024 is computed in unsigned long long: 2^54 * 1024 wraps to 0 -> quantum 1.
    assert quantum(KBytesPerSec(1 << 54)) == 1


# --- psched and the tick round trip (iproute2 tc/tc_core.c) ------------------------------

def test_psched_default_and_parse() -> None:
    parsed = Psched.from_text("000003e8 00000040 000f4240 3b9aca00\n")
    assert parsed == DEFAULT_PSCHED
    assert parsed.tick_in_usec == 15.625
    assert parsed.hz == 1_000_000_000


def test_psched_low_res_kernel_falls_back_to_hz_100() -> None:
    # A kernel whose 3rd field is not 1000000: get_hz() returns HZ (100).
    old = Psched.from_text("000f4240 000f4240 3b9aca00 00000064")
    assert old.hz == 100
    assert old.tick_in_usec == 1000.0  # 1 GHz compatibility hack: t2us := us2t


@pytest.mark.parametrize("text", ["", "000003e8 00000040 000f4240", "zz 1 2 3"])
def test_psched_rejects_garbage(text: str) -> None:
    with pytest.raises(PermanentHostError, match="/proc/net/psched"):
        Psched.from_text(text)


def test_unparsable_psched_is_a_host_error_not_a_user_error() -> None:
    with pytest.raises(HostError) as err:
        Psched.from_text("not psched")
    assert not isinstance(err.value, IntentError)
    assert (err.value.exit_code, err.value.http_status) == (1, 503)


@pytest.mark.parametrize(("rate", "size", "shown"), [
    (65_536_000, 1600, 1572),             # seed cburst
    (32_768_000, 134_217_728, 134_217_728),  # seed burst 128Mb
    (1_024_000, 1600, 1598),
    (125_000_000, 1600, 1375),            # 1 Gbit: 12 µs -> 187 ticks -> 11 µs
    (1_000_000_000, 1601, 0),             # 8 Gbit ceil: 1 µs -> 15 ticks -> 0 µs
])
def test_htb_roundtrip(rate: int, size: int, shown: int) -> None:
    assert htb_buffer_roundtrip(rate, size) == shown


def test_default_buffer() -> None:
    assert htb_default_buffer(32_768_000) == 1600
    assert htb_default_buffer(4_294_967_295_000) == 5894
    assert htb_default_buffer(32_768_000, Psched.from_text("1 1 0 0")) == 327_680 + 1600


@given(st.integers(min_value=1000, max_value=10**12), st.integers(min_value=1, max_value=2**32 - 1))
def test_roundtrip_loses_less_than_two_microseconds(rate: int, size: int) -> None:
    if 1e6 * size / rate * 15.625 >= 2**32:
        return  # tick count would wrap a u32: tc's own arithmetic is meaningless there
    shown = htb_buffer_roundtrip(rate, size)
    assert 0 <= shown <= size
    assert size - shown <= 2 * rate / 1e6 + 1


# --- limits --------------------------------------------------------------------------------

def test_seed_limits_on_a_tap() -> None:
    inbound, outbound = tc_limits("tapbb8410ad-a0", seed.RESQUOTA_BANDWIDTH, swapped=True,
                                  source="flavor")
    assert (inbound.enforcer, inbound.direction, str(inbound.mechanism)) == (
        Enforcer.TC_TAP, Direction.INBOUND, "htb class 1:1")
    assert (inbound.rate, inbound.peak, inbound.burst) == (262_144_000, 524_288_000, 134_217_728)
    assert inbound.notes == ()
    assert (outbound.direction, str(outbound.mechanism)) == (Direction.OUTBOUND, "u32 police")
    assert (outbound.rate, outbound.peak, outbound.burst) == (262_144_000, None, 134_217_728)
    assert outbound.notes == ("peak ignored: police has no peak",)


def test_macvtap_limits_are_not_swapped() -> None:
    bw = Bandwidth(inbound=side(100, 200, 300), outbound=side(10, 20, 30))
    shaped, policed = tc_limits("macvtap0", bw, swapped=False, source="flavor")
    assert (shaped.enforcer, shaped.direction, shaped.rate, shaped.peak) == (
        Enforcer.TC_MACVTAP, Direction.OUTBOUND, 80_000, 160_000)
    assert shaped.burst == 30 * 1024
    assert (policed.direction, policed.rate, policed.burst) == (Direction.INBOUND, 800_000,
                                                                300 * 1024)


def test_default_burst_is_noted_with_kernel_bytes() -> None:
    (limit,) = tc_limits("tapX", Bandwidth(inbound=side(32768)), swapped=True, source="f")
    assert limit.burst == 1572
    assert limit.peak is None
    assert limit.notes == ("burst not set: tc's default rate/HZ + 1600 B, about one "
                           "1500-byte-MTU frame (1572 B)",)


def test_police_without_burst_uses_average() -> None:
    (limit,) = tc_limits("tapX", Bandwidth(outbound=side(1024)), swapped=True, source="f")
    assert limit.burst == 1024 * 1024
    assert limit.notes == ("burst not set: libvirt uses average as burst (1024 KiB)",)


def test_average_zero_limits() -> None:
    shaped, policed = tc_limits(
        "tapX", Bandwidth(inbound=side(0, 100), outbound=side(0)), swapped=True, source="f")
    assert (shaped.rate, str(shaped.mechanism)) == (None, "none")
    assert policed.rate is None
    assert policed.notes == ("average 0: police has no rate; only packets over 64 KiB are "
                             "dropped",)


def test_police_burst_below_one_frame_drops_full_frames() -> None:
    (limit,) = tc_limits("tapX", Bandwidth(outbound=side(1000, burst=1)), swapped=True,
                         source="f", mtu=1500)
    assert limit.burst == 1024
    assert limit.notes[-1] == ("burst 1024 B is below one 1514-byte frame: full-size frames "
                               "are always dropped")


def test_burst_tc_cannot_store_is_unsupported() -> None:
    with pytest.raises(UnsupportedError, match="4194303 KiB"):
        tc_limits("tapX", Bandwidth(inbound=side(1, burst=4194304)), swapped=True, source="f")


def test_no_bandwidth_no_limits() -> None:
    assert tc_limits("tapX", None, swapped=True, source="f") == []
    assert tc_limits("tapX", Bandwidth(), swapped=True, source="f") == []
