"""The qdisc counters the agent exports (vmqos.host.tc_stats) are the kernel's: after real
traffic through a veth in a throwaway namespace, they equal what ``tc -s -j qdisc show``
reports, for the root (htb) and the ingress qdisc, and a device that does not exist is absent.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from support.proc import sh
from vmqos.host.tc_stats import observe_qdisc_counters


@pytest.fixture
def netns() -> Iterator[tuple[str, str]]:
    """Two namespaces (the device's, the peer's), IPv6 off so nothing talks by itself."""
    names = (f"vmqos-s{secrets.token_hex(3)}", f"vmqos-p{secrets.token_hex(3)}")
    try:
        for name in names:
            sh("ip", "netns", "add", name)
            sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "netns", "exec", name, "sysctl", "-qw",
               "net.ipv6.conf.default.disable_ipv6=1")
        yield names
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)


def _tc_s(netns: str, dev: str) -> dict[str, dict[str, int | str]]:
    """``tc -s -j qdisc show dev DEV``: the oracle, per side."""
    out: dict[str, dict[str, int | str]] = {}
    for q in json.loads(sh("tc", "-n", netns, "-s", "-j", "qdisc", "show", "dev", dev)):
        side = "ingress" if q.get("parent") == "ffff:fff1" else "root" if q.get("root") else ""
        if side:
            out[side] = {"kind": q["kind"], "bytes": q["bytes"], "packets": q["packets"],
                         "drops": q["drops"], "overlimits": q["overlimits"]}
    return out


def test_counters_equal_tc_s_after_traffic(netns: tuple[str, str]) -> None:
    netns, peer = netns
    ns, other = ("ip", "-n", netns), ("ip", "-n", peer)
    sh(*ns, "link", "add", "vmqosa0", "type", "veth", "peer", "name", "vmqosb0", "netns", peer)
    sh(*ns, "addr", "add", "10.250.0.1/30", "dev", "vmqosa0")
    sh(*other, "addr", "add", "10.250.0.2/30", "dev", "vmqosb0")
    sh(*ns, "link", "set", "vmqosa0", "up")
    sh(*other, "link", "set", "vmqosb0", "up")
    tc = ("tc", "-n", netns)
    sh(*tc, "qdisc", "add", "dev", "vmqosa0", "root", "handle", "1:", "htb", "default", "1")
    sh(*tc, "class", "add", "dev", "vmqosa0", "parent", "1:", "classid", "1:1", "htb", "rate",
       "1mbit", "burst", "2k")
    sh(*tc, "qdisc", "add", "dev", "vmqosa0", "ingress")
    # The ingress qdisc counts only what its filters classify (sch_handle_ingress runs the
    # mini-qdisc's counters from tcf_classify), as libvirt's police filter does.
    sh(*tc, "filter", "add", "dev", "vmqosa0", "parent", "ffff:", "protocol", "all", "u32",
       "match", "u32", "0", "0", "flowid", ":1")
    # UDP datagrams leave through a0's root qdisc; the ARP reply and the peer's ICMP port
    # unreachables come in through its ingress. (This host has no ping; Python sends.)
    send = ("import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "for _ in range(20):\n"
            "    s.sendto(b'x' * 1200, ('10.250.0.2', 9))\n")
    sh("ip", "netns", "exec", netns, sys.executable, "-c", send)
    time.sleep(0.5)  # what the HTB class held back has left by then
    found = observe_qdisc_counters(["vmqosa0", "nope0"], netns)
    oracle = _tc_s(netns, "vmqosa0")
    assert set(found) == {"vmqosa0"}
    for side in ("root", "ingress"):
        got = found["vmqosa0"][side]
        assert {"kind": got.kind, "bytes": got.bytes, "packets": got.packets,
                "drops": got.drops, "overlimits": got.overlimits} == oracle[side], side
    assert found["vmqosa0"]["root"].kind == "htb"
    assert found["vmqosa0"]["root"].packets >= 20 and found["vmqosa0"]["ingress"].packets >= 1
    assert found["vmqosa0"]["root"].overlimits > 0  # 20 x 1228 B at once: over the 2 kB burst
    assert observe_qdisc_counters(["vmqosa0"], f"vmqos-absent-{secrets.token_hex(3)}") == {}
