"""libvirt's exact tc program in the reference node (Debian's kernel 6.1, iproute2 6.1): what
``tc show`` prints for it equals ``render tc-show`` line for line, and what explain says
about it holds when measured.

Reference: the program is vmqos.plan.render.tc.compile_libvirt_tc (libvirt
virNetDevBandwidthSet), run unchanged on the host end of a veth pair (node_traffic); the
oracle is the node's own ``tc`` and iperf3 through it.
"""

from __future__ import annotations

import re

import pytest
from node_tool import FIGURES
from node_traffic import (
    GUEST_IP,
    HOST_NS,
    TAP,
    apply_libvirt_program,
    iperf,
    psched,
    run_ok,
    tap_pair,
    tc,
    tc_json,
)

from support.libvirt_vectors import side
from support.seed import RESQUOTA_BANDWIDTH
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.model import Direction
from vmqos.node.lifecycle import Node
from vmqos.plan.render.tc import compile_libvirt_tc, tc_limits
from vmqos.plan.render.tc_show import SHOW_KINDS, render_tc_show
from vmqos.units import KBytesPerSec, KiB
from vmqos.verify.judge import (
    Outcome,
    Shaping,
    Verdict,
    burst_window,
    judge_burst,
    judge_tcp_goodput,
)

pytestmark = pytest.mark.node

# The seed's shape, with rates the TCG node carries (a quarter of the seed's and a quarter of
# its burst, so that its burst window keeps the seed's 4.1 s); and libvirt's police without a
# burst (it then uses average KiB as the burst: 1 s at the rate).
SCALED_SEED = BandwidthSide(KBytesPerSec(8192), KBytesPerSec(16384), KiB(32768))
PROGRAMS = {
    "seed": RESQUOTA_BANDWIDTH,
    "seed-scaled": Bandwidth(inbound=SCALED_SEED, outbound=SCALED_SEED),
    "no-burst-no-peak": Bandwidth(inbound=side(1000), outbound=side(375)),
}


def _show(node: Node, kind: str) -> str:
    words = SHOW_KINDS[kind].format(dev=TAP).split()[1:]
    return tc(node, *words)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_tc_show_equals_render_tc_show_line_for_line(node: Node, name: str) -> None:
    bandwidth = PROGRAMS[name]
    with tap_pair(node):
        apply_libvirt_program(node, bandwidth)
        # The one traffic counter in the text: packets that left between `qdisc add` and
        # `class add` (IPv6 neighbour discovery on the fresh link) went out directly.
        direct, _, _ = _counters(node)
        expected = render_tc_show(TAP, bandwidth, swapped=True, iproute2="modern",
                                  psched=psched(node), direct_packets_stat=direct)
        for kind in SHOW_KINDS:
            assert _show(node, kind).splitlines() == list(expected.lines(kind)), kind


def _counters(node: Node) -> tuple[int, int, int]:
    """(packets HTB sent directly, packets through class 1:1, packets its sfq leaf sent)."""
    root = next(q for q in tc_json(node, "qdisc", "show", "dev", TAP) if q["kind"] == "htb")
    options = root["options"]
    assert isinstance(options, dict)
    leaf = next(q for q in tc_json(node, "qdisc", "show", "dev", TAP) if q["kind"] == "sfq")
    # iproute2 6.1 prints classes as text even with -j (observed in the node).
    text = tc(node, "-s", "class", "show", "dev", TAP)
    sent = re.search(r"^class htb 1:1 .*\n Sent \d+ bytes (\d+) pkt", text, re.MULTILINE)
    assert sent is not None, text
    return int(options["direct_packets_stat"]), int(sent.group(1)), int(leaf["packets"])


_SEND_MARKED = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    s.sendto(b"vmqos", ({guest!r}, 9))
"""


def _send_marked(node: Node, mark: int, count: int) -> None:
    # SO_MARK: every datagram leaves the tap with skb->mark = mark, which is what the fw
    # classifier matches its handle against (net/sched/cls_fw.c fw_classify).
    run_ok(node, ["ip", "netns", "exec", HOST_NS, node.config.python, "-c",
                  _SEND_MARKED.format(guest=GUEST_IP), str(mark), str(count)])


def test_fw_flowid_1_never_selects_a_class_traffic_lands_in_the_default(node: Node) -> None:
    """explain: libvirt's ``fw ... flowid 1`` names class 0:1, which HTB does not find, so
    every packet falls back to ``default 1`` — also those with fwmark 1, which fw matches."""
    with tap_pair(node):
        apply_libvirt_program(node, PROGRAMS["seed-scaled"])
        before = _counters(node)
        _send_marked(node, 1, 50)
        _send_marked(node, 0, 50)
        after = _counters(node)
        direct, through, leaf = (a - b for a, b in zip(after, before, strict=True))
        # 100 datagrams (and any ARP): all through class 1:1 and its sfq, none out directly.
        assert direct == 0 and through >= 100 and leaf == through
        # The control: the same program with a default class that does not exist. Marked
        # packets matched by `fw flowid 1` then go where unclassified packets go — straight
        # out (direct_packets_stat) — so flowid 1 selected nothing; `flowid 1:1` would.
        run_ok(node, ["tc", "-n", HOST_NS, "qdisc", "del", "dev", TAP, "root"])
        run_ok(node, ["tc", "-n", HOST_NS, "qdisc", "add", "dev", TAP, "root", "handle", "1:",
                      "htb", "default", "2"])
        for command in compile_libvirt_tc(TAP, PROGRAMS["seed-scaled"], swapped=True):
            words = command.argv()
            if "sfq" in words or words[0] == "class" or "fw" in words:   # the rest as is
                run_ok(node, ["tc", "-n", HOST_NS, *words])
        before = _counters(node)
        _send_marked(node, 1, 20)
        after = _counters(node)
        assert after[0] - before[0] >= 20 and after[1] == before[1]
        run_ok(node, ["tc", "-n", HOST_NS, "filter", "replace", "dev", TAP, "parent", "1:0",
                      "protocol", "all", "prio", "1", "handle", "1", "fw", "flowid", "1:1"])
        before = _counters(node)
        _send_marked(node, 1, 20)
        after = _counters(node)
        assert after[1] - before[1] >= 20 and after[0] == before[0]


def _figure(verdict: Verdict) -> str:
    measured = "-" if verdict.measured is None else f"{verdict.measured / 1e6:.2f}"
    return (f"configured {verdict.configured / 1e6:.2f} Mbit/s, measured {measured} Mbit/s "
            f"({verdict.outcome.value})")


def _shaping(bandwidth: Bandwidth, direction: Direction) -> Shaping:
    limit = next(x for x in tc_limits(TAP, bandwidth, swapped=True, source="test")
                 if x.direction is direction)
    shaping = Shaping.from_limit(limit)
    assert shaping is not None
    return shaping


def test_htb_peak_during_the_burst_window_then_the_rate(node: Node) -> None:
    """explain: the seed's HTB class sends at its ceil (the peak) until the 128 MiB burst is
    spent, 4.1 s at the seed's rates, then at the average — here at a quarter of the rates
    and burst, so the window is the same 4.1 s."""
    bandwidth = PROGRAMS["seed-scaled"]
    shaping = _shaping(bandwidth, Direction.INBOUND)
    assert burst_window(shaping) == pytest.approx(4.1, abs=0.05)
    with tap_pair(node):
        apply_libvirt_program(node, bandwidth)
        samples, _ = iperf(node, Direction.INBOUND, 7)
    burst = judge_burst(shaping, samples)
    goodput = judge_tcp_goodput(shaping, samples)
    FIGURES["HTB seed/4 first second"] = _figure(burst)
    FIGURES["HTB seed/4 after the window"] = _figure(goodput)
    assert burst.outcome is Outcome.PASS, burst
    assert goodput.outcome is Outcome.PASS, goodput


def test_police_with_libvirts_default_burst_and_with_an_explicit_one(node: Node) -> None:
    """explain: without a burst libvirt gives its policer ``average`` KiB — a second of traffic
    at the rate passes at line rate first; with an explicit burst the first second holds only
    that much more. After the bucket is spent TCP runs at the rate either way."""
    default = Bandwidth(outbound=side(375))                 # 3 Mbit/s, burst 375 KiB (1 s)
    explicit = Bandwidth(outbound=side(375, None, 100))      # the same, burst 100 KiB
    results = {}
    for name, bandwidth in (("default", default), ("explicit", explicit)):
        shaping = _shaping(bandwidth, Direction.OUTBOUND)
        with tap_pair(node):
            apply_libvirt_program(node, bandwidth)
            samples, _ = iperf(node, Direction.OUTBOUND, 7)
        results[name] = (shaping, judge_burst(shaping, samples),
                         judge_tcp_goodput(shaping, samples))
        FIGURES[f"police 3 Mbit/s, {name} burst, first second"] = _figure(results[name][1])
        FIGURES[f"police 3 Mbit/s, {name} burst, steady"] = _figure(results[name][2])
    shaping, burst, goodput = results["default"]
    assert shaping.burst == 375 * 1024
    assert burst.outcome is Outcome.PASS, burst
    assert goodput.outcome is Outcome.PASS, goodput
    shaping, burst, goodput = results["explicit"]
    assert shaping.burst == 100 * 1024 - 1                 # tc's tick round trip
    assert burst.outcome is Outcome.PASS, burst
    assert goodput.outcome is Outcome.PASS, goodput
    # The default burst lets more through in the first second than the explicit one.
    assert results["default"][1].measured > results["explicit"][1].measured  # type: ignore[operator]
