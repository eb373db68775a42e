"""Real TCP traffic through real shapers: vmqos.verify.iperf measured, vmqos.verify.judge judged.

Each test builds a sandbox instance's network (conftest.netpair), shapes it with plain `tc`
commands — the oracle for what is configured is `tc ... show`, read back through
vmqos.observe.tc_text — runs iperf3 between the two namespaces and checks the result with
bounds that a broken shaper (none, or a wrong rate) fails. Each run is 2-3 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from verify_sandbox import NetPair

from support.proc import sh
from vmqos.errors import PermanentHostError, TemporaryHostError
from vmqos.observe.tc_observed import MirredAction
from vmqos.observe.tc_text import parse_classes, parse_filters, parse_qdiscs
from vmqos.verify import iperf
from vmqos.verify.iperf import measure_tcp
from vmqos.verify.judge import (
    Outcome,
    Shaping,
    burst_window,
    judge_burst,
    judge_tcp_goodput,
    tcp_goodput_factor,
)
from vmqos.verify.plots import plot_throughput
from vmqos.verify.report import ReportSection, write_report

pytestmark = pytest.mark.network  # real TCP through iperf3 between the namespaces

RATE = 20_000_000  # bit/s


def shape_root(pair: NetPair, dev: str, *, rate: str, burst: str, ceil: str | None = None,
               netns: str | None = None) -> None:
    """HTB on ``dev``'s egress with every packet in class 1:1 (libvirt's tree, pfifo leaf)."""
    params = ["rate", rate, *(["ceil", ceil] if ceil else []), "burst", burst]
    pair.tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "1")
    pair.tc("class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", *params)
    pair.tc("qdisc", "add", "dev", dev, "parent", "1:1", "handle", "2:", "pfifo", "limit",
            "1000")


def configured(pair: NetPair, dev: str) -> Shaping:
    """What the kernel really keeps for class 1:1, read back from `tc class show`."""
    (cls,) = parse_classes(pair.tc("class", "show", "dev", dev))
    assert cls.rate is not None and cls.burst is not None and cls.ceil is not None
    return Shaping(rate=cls.rate * 8, burst=cls.burst,
                   peak=cls.ceil * 8 if cls.ceil > cls.rate else None)


def test_unshaped_path_is_fast_and_fails_the_rule(netpair: NetPair) -> None:
    m = measure_tcp(netpair.peer, netpair.guest, netpair.guest_addr, seconds=2)
    assert m.bits_per_second > 25 * RATE  # veth here: ~15 Gbit/s
    pairs = zip(m.samples[:-1], m.samples[1:], strict=True)
    assert m.samples and all(a.end <= b.start + 1e-6 for a, b in pairs)
    assert m.direction == f"{netpair.peer} -> {netpair.guest}"
    # The same numbers judged against a 20 Mbit/s limit: the rule catches a missing shaper.
    assert judge_tcp_goodput(Shaping(RATE, 32 * 1024), m.samples).outcome is Outcome.FAIL


def test_htb_on_the_tap_limits_vm_inbound(netpair: NetPair) -> None:
    shape_root(netpair, netpair.tap, rate="20mbit", burst="32kb")
    shaping = configured(netpair, netpair.tap)
    assert (shaping.rate, shaping.burst, shaping.peak) == (RATE, 32 * 1024, None)
    m = measure_tcp(netpair.peer, netpair.guest, netpair.guest_addr, seconds=3)
    verdict = judge_tcp_goodput(shaping, m.samples)
    assert verdict.outcome is Outcome.PASS, verdict
    assert verdict.measured is not None
    assert 0.90 * RATE <= verdict.measured <= 1.02 * RATE
    # A correct shaper sits near the TCP payload ceiling (1448/1514 of the rate).
    assert verdict.measured / (RATE * tcp_goodput_factor()) == pytest.approx(1.0, abs=0.06)


def test_burst_is_visible_then_the_rate_holds(netpair: NetPair, tmp_path: Path) -> None:
    # The seed's m1.resquota inbound (rate 262 Mbit/s, peak 2x, 128 MiB = 4.1 s of burst),
    # scaled to 8 Mbit/s, 16 Mbit/s and 1 MiB: about one second of burst.
    shape_root(netpair, netpair.tap, rate="8mbit", ceil="16mbit", burst="1mb")
    shaping = configured(netpair, netpair.tap)
    assert burst_window(shaping) == pytest.approx(1.05, abs=0.01)
    m = measure_tcp(netpair.peer, netpair.guest, netpair.guest_addr, seconds=3)
    burst = judge_burst(shaping, m.samples)
    steady = judge_tcp_goodput(shaping, m.samples)
    assert burst.outcome is Outcome.PASS, burst
    assert steady.outcome is Outcome.PASS, steady
    assert burst.measured is not None and steady.measured is not None
    assert burst.measured > 1.5 * steady.measured
    png = plot_throughput(
        tmp_path / "burst.png", m.samples, title="HTB 8/16 Mbit/s, burst 1 MiB",
        rate=shaping.rate, peak=shaping.peak, burst_window=burst_window(shaping),
        steady_start=steady.window[0] if steady.window else None,
        goodput_factor=tcp_goodput_factor())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = write_report(tmp_path, "verify", [ReportSection(
        "tap inbound", (burst, steady), images=(png,))])
    text = report.read_text()
    assert "![burst](burst.png)" in text and "| PASS |" in text


def test_ifb_redirect_limits_vm_outbound(netpair: NetPair, run_id: str) -> None:
    # No act_police here: VM outbound (tap ingress) is redirected to an IFB and shaped there.
    ifb = f"vmqos-i{run_id}"[:15]
    sh("ip", "-n", netpair.peer, "link", "add", ifb, "type", "ifb")
    sh("ip", "-n", netpair.peer, "link", "set", ifb, "up")
    netpair.tc("qdisc", "add", "dev", netpair.tap, "ingress")
    netpair.tc("filter", "add", "dev", netpair.tap, "parent", "ffff:", "protocol", "all",
               "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect",
               "dev", ifb)
    shape_root(netpair, ifb, rate="20mbit", burst="32kb")
    # The host's own text and JSON say the same (two independent printers of one dump).
    for dev in (netpair.tap, ifb):
        text, js = (parse_qdiscs(netpair.tc(*fmt, "qdisc", "show", "dev", dev))
                    for fmt in ((), ("-j",)))
        assert [(q.kind, q.handle, q.parent, q.default_class) for q in text] == [
            (q.kind, q.handle, q.parent, q.default_class) for q in js]
    assert [q.kind for q in text] == ["htb", "pfifo"]
    shown = netpair.tc("filter", "show", "dev", netpair.tap, "parent", "ffff:")
    (rule,) = [f for f in parse_filters(shown, parent="ffff:") if f.is_rule]
    (redirect,) = rule.actions
    assert isinstance(redirect, MirredAction)
    assert (redirect.direction, redirect.action, redirect.dev) == ("egress", "redirect", ifb)
    # The server in the guest sends (-R): guest eth0 -> tap ingress -> IFB -> HTB.
    m = measure_tcp(netpair.peer, netpair.guest, netpair.guest_addr, seconds=3, reverse=True)
    assert m.direction == f"{netpair.guest} -> {netpair.peer}"
    verdict = judge_tcp_goodput(configured(netpair, ifb), m.samples)
    assert verdict.outcome is Outcome.PASS, verdict
    # The other direction stays unshaped.
    assert measure_tcp(netpair.peer, netpair.guest, netpair.guest_addr,
                       seconds=1).bits_per_second > 25 * RATE


def test_errors_carry_iperf3s_message(netpair: NetPair) -> None:
    start = time.monotonic()
    # The server runs in the guest, but the client is sent to its own address: refused.
    with pytest.raises(TemporaryHostError, match="Connection refused"):
        measure_tcp(netpair.peer, netpair.guest, netpair.peer_addr, seconds=1)
    # 10.211.0.3 is the /30's broadcast address: no route for a TCP connection.
    with pytest.raises(PermanentHostError, match="unable to connect to server"):
        measure_tcp(netpair.peer, netpair.guest, "10.211.0.3", seconds=1)
    with pytest.raises(PermanentHostError, match="Cannot open network namespace"):
        measure_tcp(f"{netpair.peer}-missing", netpair.guest, netpair.guest_addr, seconds=1)
    assert time.monotonic() - start < 10


def test_server_ports_stay_below_the_ephemeral_range() -> None:
    # A port inside the range lets a client that dials its own address connect to itself
    # (seen in CI: iperf3 then failed with "received an unknown control message").
    low, _high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert iperf._PORTS[1] < low
