"""`tc ... show` text (vmqos.plan.render.tc_show) against the seed note and the spec.

Vectors: the seed lab note's captured tc output (tests/fixtures/seed); iproute2's printers
(tc/tc_util.c sprint_rate, sprint_size; tc/q_htb.c, q_sfq.c, f_fw.c, f_u32.c, m_police.c, in
6.1 and 3.10); 17 class lines printed by real tc 6.1 here; police lines derived from
m_police.c (this kernel has no police). Lines marked [obs] below were also re-checked on this
host (kernel 6.18, iproute2 6.1) in a throwaway namespace.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import seed
from support.libvirt_vectors import side
from vmqos.errors import UnsupportedError, ValidationError
from vmqos.libvirt_types import Bandwidth
from vmqos.plan.render.tc import tc_limits
from vmqos.plan.render.tc_show import TcShow, format_rate, format_size, render_tc_show

PFIFO_MODERN = "qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1"
PFIFO_RHEL7 = "qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap  1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1"
INGRESS = "qdisc ingress ffff: parent ffff:fff1 ---------------- "


# --- the seed note -------------------------------------------------------------------------

def seed_bandwidth(dev: str) -> Bandwidth | None:
    """The ``<bandwidth>`` of the seed domain's interface whose target is ``dev``."""
    for path in (seed.RESQUOTA_XML, seed.NORMAL_XML):
        root = ET.parse(path).getroot()
        for iface in root.iter("interface"):
            target = iface.find("target")
            if target is None or target.get("dev") != dev:
                continue
            bw = iface.find("bandwidth")
            if bw is None:
                return None
            sides = {}
            for child in bw:
                attrs = {k: int(v) for k, v in child.attrib.items()}
                sides[child.tag] = side(attrs["average"], attrs.get("peak"), attrs.get("burst"))
            return Bandwidth(inbound=sides.get("inbound"), outbound=sides.get("outbound"))
    raise AssertionError(f"{dev} not in the seed domains")


def test_seed_fixture_is_what_we_think() -> None:
    outputs = seed.note_outputs()
    assert outputs["tc qdisc show dev tapbb8410ad-a0"] == [
        "qdisc htb 1: root refcnt 2 r2q 10 default 1 direct_packets_stat 1",
        "qdisc sfq 2: parent 1:1 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec",
    ]
    assert seed_bandwidth("tapbb8410ad-a0") == seed.RESQUOTA_BANDWIDTH == Bandwidth(
        inbound=side(32768, 65536, 131072), outbound=side(32768, 65536, 131072))
    assert seed_bandwidth("tapb614c1d3-75") is None


def test_seed_golden_m1_resquota() -> None:
    outputs = seed.note_outputs()
    dev = "tapbb8410ad-a0"
    # A tap in br-int shaped by libvirt's tc (RHEL 7 libvirt < 8.0): ovs-vswitchd deleted the
    # ingress qdisc libvirt added for <outbound> (ovs-issues #210) -- the seed shows none.
    show = render_tc_show(dev, seed_bandwidth(dev), swapped=True, iproute2="rhel7",
                          direct_packets_stat=1, ingress_removed_by_ovs=True)
    for kind in ("qdisc", "class", "filter"):
        assert list(show.lines(kind)) == outputs[show.command(kind)]
    assert show.ingress_filters == ()


def test_seed_golden_m1_normal() -> None:
    outputs = seed.note_outputs()
    dev = "tapb614c1d3-75"
    show = render_tc_show(dev, seed_bandwidth(dev), swapped=True, iproute2="rhel7",
                          noqueue=False)
    assert show.qdisc == (PFIFO_RHEL7,)
    assert outputs[show.command("qdisc")] == [PFIFO_RHEL7]
    assert outputs[show.command("class")] == [] == list(show.classes)
    assert outputs[show.command("filter")] == [] == list(show.filters)


# --- full outputs of the seed's inbound, both generations -------------------------------

SEED_INBOUND = Bandwidth(inbound=seed.RESQUOTA_VIF)


def test_full_show_rhel7() -> None:
    show = render_tc_show("tapX", SEED_INBOUND, swapped=True, iproute2="rhel7",
                          direct_packets_stat=1)
    assert show.text("qdisc") + show.text("class") + show.text("filter") == (
        "qdisc htb 1: root refcnt 2 r2q 10 default 1 direct_packets_stat 1\n"
        "qdisc sfq 2: parent 1:1 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec\n"
        "class htb 1:1 root leaf 2: prio 0 rate 262144Kbit ceil 524288Kbit burst 128Mb "
        "cburst 1572b\n"
        # iproute2 3.10 prints the classifier line, then the handle line (as the seed shows).
        "filter parent 1: protocol all pref 1 fw\n"
        "filter parent 1: protocol all pref 1 fw handle 0x1 classid :1\n")


def test_full_show_modern() -> None:
    show = render_tc_show("tapX", SEED_INBOUND, swapped=True)
    assert show.qdisc == (
        "qdisc htb 1: root refcnt 2 r2q 10 default 0x1 direct_packets_stat 0 direct_qlen 1000",
        "qdisc sfq 2: parent 1:1 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec ",
    )
    assert show.classes == (
        "class htb 1:1 root leaf 2: prio 0 rate 262144Kbit ceil 524288Kbit burst 128Mb "
        "cburst 1572b ",
    )
    assert show.filters == (
        "filter parent 1: protocol all pref 1 fw chain 0 ",
        "filter parent 1: protocol all pref 1 fw chain 0 handle 0x1 classid :1 ",
    )
    assert show.ingress_filters == ()


@pytest.mark.parametrize(("mtu", "quantum"), [(1500, "1514b"), (1450, "1464b"), (9000, "9014b")])
def test_sfq_quantum_follows_mtu(mtu: int, quantum: str) -> None:
    show = render_tc_show("tapX", SEED_INBOUND, swapped=True, mtu=mtu)
    assert show.qdisc[1] == (f"qdisc sfq 2: parent 1:1 limit 127p quantum {quantum} depth 127 "
                             "divisor 1024 perturb 10sec ")


def test_multiqueue_refcnt() -> None:
    show = render_tc_show("tapX", SEED_INBOUND, swapped=True, txqueues=2)
    assert show.qdisc[0].startswith("qdisc htb 1: root refcnt 3 r2q 10 default 0x1 ")


def test_no_burst_shows_tc_default() -> None:
    show = render_tc_show("tapX", Bandwidth(inbound=side(32768, 65536)), swapped=True)
    assert show.classes == ("class htb 1:1 root leaf 2: prio 0 rate 262144Kbit ceil 524288Kbit "
                            "burst 1572b cburst 1572b ",)


# --- root qdisc without HTB ----------------------------------------------------------------

def test_no_bandwidth_with_noqueue() -> None:
    show = render_tc_show("tapX", None, swapped=True)  # [obs] libvirt >= 6.9
    assert show.text("qdisc") == "qdisc noqueue 8001: root refcnt 2 \n"
    assert show.text("class") == show.text("filter") == show.text("ingress_filter") == ""
    auto = render_tc_show("tapX", Bandwidth(), swapped=True, noqueue_handle=0x8017)
    assert auto.qdisc == ("qdisc noqueue 8017: root refcnt 2 ",)


def test_no_bandwidth_without_noqueue_modern() -> None:
    assert render_tc_show("tapX", None, swapped=True, noqueue=False).qdisc == (PFIFO_MODERN,)


def test_outbound_only_modern() -> None:  # [obs] apart from the police lines
    show = render_tc_show("tapX", Bandwidth(outbound=side(1024)), swapped=True)
    assert show.qdisc == (PFIFO_MODERN, INGRESS)
    assert show.classes == show.filters == ()
    assert show.ingress_filters[:4] == (
        "filter protocol all pref 49152 u32 chain 0 ",
        "filter protocol all pref 49152 u32 chain 0 fh 800: ht divisor 1 ",
        "filter protocol all pref 49152 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 "
        "*flowid :1 not_in_hw ",
        "  match 00000000/00000000 at 0",
    )


def test_inbound_average_zero_leaves_kernel_default() -> None:
    show = render_tc_show("tapX", Bandwidth(inbound=side(0, 100)), swapped=True)
    assert show.qdisc == (PFIFO_MODERN,)


def test_multiqueue_default_root() -> None:
    # [obs] a 3-queue device: mq with pfifo_fast children, dumped in reverse by modern kernels.
    show = render_tc_show("tapX", Bandwidth(outbound=side(1)), swapped=True, txqueues=3)
    assert show.qdisc == (
        "qdisc mq 0: root ",
        "qdisc pfifo_fast 0: parent :3 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
        "qdisc pfifo_fast 0: parent :2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
        "qdisc pfifo_fast 0: parent :1 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
        INGRESS,
    )
    noqueue = render_tc_show("tapX", None, swapped=True, txqueues=3, noqueue_handle=0x8002)
    assert noqueue.qdisc == ("qdisc noqueue 8002: root refcnt 4 ",)


def test_macvtap_shapes_outbound() -> None:
    bw = Bandwidth(inbound=side(100, 200, 300), outbound=side(10, 20, 30))
    show = render_tc_show("macvtap0", bw, swapped=False)
    assert show.classes == ("class htb 1:1 root leaf 2: prio 0 rate 80Kbit ceil 160Kbit "
                            "burst 30Kb cburst 1600b ",)
    assert show.ingress_filters[4] == (" police 0x1 rate 800Kbit burst 300Kb mtu 64Kb action "
                                       "drop overhead 0b ")


# --- the 17 class lines real tc 6.1 printed here --------------------------------------------

TC_6_1_CLASS_LINES = [
    (32768, 65536, 131072, "rate 262144Kbit ceil 524288Kbit burst 128Mb cburst 1572b"),
    (32768, None, None, "rate 262144Kbit ceil 262144Kbit burst 1572b cburst 1572b"),
    (1024, None, None, "rate 8192Kbit ceil 8192Kbit burst 1598b cburst 1598b"),
    (1, 2, 4, "rate 8Kbit ceil 16Kbit burst 4Kb cburst 1600b"),
    (1000, None, None, "rate 8Mbit ceil 8Mbit burst 1600b cburst 1600b"),
    (12500, 25000, 1250, "rate 100Mbit ceil 200Mbit burst 1250Kb cburst 1600b"),
    (125000, None, None, "rate 1Gbit ceil 1Gbit burst 1375b cburst 1375b"),
    (100, 200, 300, "rate 800Kbit ceil 1600Kbit burst 300Kb cburst 1600b"),
    (10, 20, 30, "rate 80Kbit ceil 160Kbit burst 30Kb cburst 1600b"),
    (3, None, None, "rate 24Kbit ceil 24Kbit burst 1599b cburst 1599b"),
    (1250, 2500, 64, "rate 10Mbit ceil 20Mbit burst 64Kb cburst 1600b"),
    (65536, None, 65536, "rate 524288Kbit ceil 524288Kbit burst 64Mb cburst 1572b"),
    (2000, 2048, 128, "rate 16Mbit ceil 16384Kbit burst 128Kb cburst 1597b"),
    (984, 1024, 64, "rate 7872Kbit ceil 8192Kbit burst 64Kb cburst 1598b"),
    (625, 625, 625, "rate 5Mbit ceil 5Mbit burst 625Kb cburst 1600b"),
    (500000, 1000000, 1000000, "rate 4Gbit ceil 8Gbit burst 1e+06Kb cburst 0b"),
    (4294967295, None, None, "rate 34359Gbit ceil 34359Gbit burst 0b cburst 0b"),
]


def test_tc_6_1_class_lines_are_17_cases() -> None:
    assert len(TC_6_1_CLASS_LINES) == 17


@pytest.mark.parametrize(("average", "peak", "burst", "suffix"), TC_6_1_CLASS_LINES)
def test_tc_6_1_class_lines(average: int, peak: int | None, burst: int | None,
                              suffix: str) -> None:
    show = render_tc_show("tapX", Bandwidth(inbound=side(average, peak, burst)), swapped=True)
    assert show.classes == (f"class htb 1:1 root leaf 2: prio 0 {suffix} ",)


@pytest.mark.parametrize(("average", "peak", "burst", "suffix"), TC_6_1_CLASS_LINES)
def test_limit_burst_is_what_tc_shows(average: int, peak: int | None, burst: int | None,
                                      suffix: str) -> None:
    bw = Bandwidth(inbound=side(average, peak, burst))
    (limit,) = tc_limits("tapX", bw, swapped=True, source="flavor")
    assert limit.burst is not None
    assert f" burst {format_size(limit.burst)} " in f" {suffix} "


# --- police display [derived from iproute2 m_police.c] --------------------------------------

POLICE_LINES = [
    (32768, 131072, "police 0x1 rate 262144Kbit burst 128Mb mtu 64Kb action drop overhead 0b"),
    (32768, 32768, "police 0x1 rate 262144Kbit burst 32Mb mtu 64Kb action drop overhead 0b"),
    (1024, 1024, "police 0x1 rate 8192Kbit burst 1Mb mtu 64Kb action drop overhead 0b"),
    (10, 30, "police 0x1 rate 80Kbit burst 30Kb mtu 64Kb action drop overhead 0b"),
    (65536, 65536, "police 0x1 rate 524288Kbit burst 64Mb mtu 64Kb action drop overhead 0b"),
]
# iproute 3.10 prints the same lines except that rates below 1 Mbit stay in bit.
RHEL7_RATE = {"80Kbit": "80000bit"}


@pytest.mark.parametrize(("average", "burst", "line"), POLICE_LINES)
def test_police_lines(average: int, burst: int, line: str) -> None:
    bw = Bandwidth(outbound=side(average, burst=burst))
    assert render_tc_show("tapX", bw, swapped=True).ingress_filters[4] == f" {line} "
    rate = line.split()[3]
    old = line.replace(f"rate {rate} ", f"rate {RHEL7_RATE.get(rate, rate)} ")
    assert render_tc_show("tapX", bw, swapped=True, iproute2="rhel7").ingress_filters[4] == (
        f" {old}")


def test_police_block_modern_and_rhel7() -> None:
    bw = Bandwidth(outbound=side(32768, burst=131072))
    assert render_tc_show("tapX", bw, swapped=True, police_index=3).text("ingress_filter") == (
        "filter protocol all pref 49152 u32 chain 0 \n"
        "filter protocol all pref 49152 u32 chain 0 fh 800: ht divisor 1 \n"
        "filter protocol all pref 49152 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 "
        "*flowid :1 not_in_hw \n"
        "  match 00000000/00000000 at 0\n"
        " police 0x3 rate 262144Kbit burst 128Mb mtu 64Kb action drop overhead 0b \n"
        "\tref 1 bind 1 \n"
        "\n")
    # iproute 3.10: no chain, no not_in_hw, and a terminal selector is not starred.
    assert render_tc_show("tapX", bw, swapped=True, iproute2="rhel7").ingress_filters == (
        "filter protocol all pref 49152 u32",
        "filter protocol all pref 49152 u32 fh 800: ht divisor 1",
        "filter protocol all pref 49152 u32 fh 800::800 order 2048 key ht 800 bkt 0 flowid :1",
        "  match 00000000/00000000 at 0",
        " police 0x1 rate 262144Kbit burst 128Mb mtu 64Kb action drop overhead 0b",
        "ref 1 bind 1",
        "",
    )


def test_police_rate_zero() -> None:
    show = render_tc_show("tapX", Bandwidth(outbound=side(0)), swapped=True)
    assert show.ingress_filters[4] == (" police 0x1 rate 0bit burst 0b mtu 64Kb action drop "
                                       "overhead 0b ")


# --- rate and size formatting (tc_util.c sprint_rate, sprint_size) ------------------------

@pytest.mark.parametrize(("bytes_per_sec", "modern", "rhel7"), [
    (1_000_000, "8Mbit", "8000Kbit"),
    (125_000_000, "1Gbit", "1000Mbit"),
    (32_768_000, "262144Kbit", "262144Kbit"),
    (65_536_000, "524288Kbit", "524288Kbit"),
    (2_048_000, "16384Kbit", "16384Kbit"),
    (100, "800bit", "800bit"),
    (0, "0bit", "0bit"),
])
def test_format_rate(bytes_per_sec: int, modern: str, rhel7: str) -> None:
    assert format_rate(bytes_per_sec, style="modern") == modern
    assert format_rate(bytes_per_sec, style="rhel7") == rhel7


def test_format_rate_large() -> None:
    assert format_rate(4_294_967_295_000, style="modern") == "34359Gbit"
    with pytest.raises(UnsupportedError, match="32-bit"):
        format_rate(4_294_967_295_000, style="rhel7")
    with pytest.raises(ValidationError, match="unknown iproute2 style 'iproute5'"):
        format_rate(1, style="iproute5")


@pytest.mark.parametrize(("size", "text"), [
    (134_217_728, "128Mb"), (1572, "1572b"), (65536, "64Kb"), (1_024_000_000, "1e+06Kb"),
    (1514, "1514b"), (1024, "1Kb"), (1039, "1Kb"), (1040, "1040b"), (0, "0b"),
    (1_048_576 + 1023, "1Mb"), (1_048_576 + 1024, "1025Kb"),
])
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


_SIZE = re.compile(r"^([0-9.e+]+)(Mb|Kb|b)$")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_format_size_parses_back_within_tc_tolerance(size: int) -> None:
    m = _SIZE.match(format_size(size))
    assert m is not None
    value, unit = float(m.group(1)), m.group(2)
    factor, tolerance = {"Mb": (1 << 20, 1024), "Kb": (1024, 16), "b": (1, 1)}[unit]
    if "e" in m.group(1):
        # %g keeps six significant digits: at >= 1e6 units tc itself prints a rounded number.
        tolerance = max(tolerance, value * factor * 5e-6 + factor)
    assert abs(value * factor - size) < tolerance


_RATE = re.compile(r"^(\d+)(|K|M|G|T)bit$")


@given(st.integers(min_value=0, max_value=2**60))
def test_format_rate_modern_parses_back(bytes_per_sec: int) -> None:
    m = _RATE.match(format_rate(bytes_per_sec, style="modern"))
    assert m is not None
    mult = 1000 ** " KMGT".index(m.group(2) or " ")
    bits = bytes_per_sec * 8
    shown = int(m.group(1)) * mult
    assert shown <= bits < shown + mult
    if bits < 1_000_000:
        assert shown == bits  # below 1 Mbit only exact multiples collapse


# --- TcShow helpers ------------------------------------------------------------------------

def test_text_and_commands() -> None:
    show = TcShow("tapX", ("a",), (), ("b", "c"), ())
    assert show.text("filter") == "b\nc\n"
    assert show.text("class") == ""
    assert show.command("ingress_filter") == "tc filter show dev tapX parent ffff:"
    with pytest.raises(ValidationError, match="unknown tc show kind 'classes'"):
        show.text("classes")


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="unknown iproute2 style"):
        render_tc_show("tapX", None, swapped=True, iproute2="6.1")
    with pytest.raises(ValidationError, match="must be positive"):
        render_tc_show("tapX", None, swapped=True, txqueues=0)
