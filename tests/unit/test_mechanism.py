"""Mechanism kinds: the printed words, and which kinds explain's small-burst warning counts."""

from __future__ import annotations

import json

import pytest

from vmqos.jsonable import to_jsonable
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer

# Every kind with a typical detail, and the text the plans printed before the kinds existed.
TEXTS: dict[MechanismKind, tuple[tuple[str | int, ...], str]] = {
    MechanismKind.TC_HTB: ((), "htb class 1:1"),
    MechanismKind.TC_HTB_ON_IFB: (("ifb-tapX",), "htb class 1:1 on IFB ifb-tapX (via u32 mirred)"),
    MechanismKind.TC_POLICE: ((), "u32 police"),
    MechanismKind.NONE: ((), "none"),
    MechanismKind.LIBVIRT_OVS_QUEUE: ((), "linux-htb queue 0"),
    MechanismKind.LIBVIRT_OVS_POLICING: ((), "ingress_policing"),
    MechanismKind.OVS_POLICING: ((), "Interface ingress_policing_rate/burst (tc police)"),
    MechanismKind.OVS_DPDK_POLICING: ((), "Interface ingress_policing (DPDK ingress policer)"),
    MechanismKind.OVS_HTB_QUEUE: ((), "Port qos linux-htb queue 0"),
    MechanismKind.OVS_DPDK_EGRESS_POLICER: ((), "Port qos egress-policer (DPDK srTCM)"),
    MechanismKind.OVS_MIN_BW_QUEUE: ((5,), "linux-htb queue 5 (pkt_mark 5)"),
    MechanismKind.OVS_DSCP_FLOW: ((104,), "OpenFlow table 0 mod_nw_tos:104 (IPv4, IPv6)"),
    MechanismKind.OVS_METER: ((19, "kbps", 59), "OpenFlow meter 19 (kbps) table 59"),
    MechanismKind.OVN_METER: (("from-lport", "inport"), "OVN QoS from-lport (inport) meter"),
    MechanismKind.OVN_DSCP: (("from-lport", "inport"), "OVN QoS from-lport (inport) ip.dscp"),
    MechanismKind.OVN_LSP_OPTIONS: (
        (), "LSP options qos_max_rate/qos_burst/qos_min_rate (HTB on the physical NIC)"),
    MechanismKind.SRIOV_VF_RATE: ((), "VF max_tx_rate/min_tx_rate"),
    MechanismKind.LINUXBRIDGE_DROP: ((49,), "ingress qdisc u32 prio 49 drop"),
    MechanismKind.LINUXBRIDGE_POLICE: ((49,), "ingress qdisc u32 prio 49 police"),
    MechanismKind.LINUXBRIDGE_TBF: ((50,), "root tbf latency 50ms"),
    MechanismKind.LINUXBRIDGE_DSCP: ((26,), "iptables mangle DSCP --set-dscp 0x1a"),
}

# The kinds explain's burst-too-small-for-tcp finding applies to.
WARNED = {
    MechanismKind.TC_POLICE,
    MechanismKind.OVS_POLICING,
    MechanismKind.OVS_DPDK_POLICING,
    MechanismKind.OVS_DPDK_EGRESS_POLICER,
    MechanismKind.LINUXBRIDGE_POLICE,
}


def test_every_kind_is_in_the_table() -> None:
    assert set(TEXTS) == set(MechanismKind)


@pytest.mark.parametrize("kind", list(MechanismKind))
def test_text(kind: MechanismKind) -> None:
    detail, text = TEXTS[kind]
    assert str(Mechanism(kind, detail)) == text


@pytest.mark.parametrize("kind", list(MechanismKind))
def test_small_burst_warning_is_what_the_substring_test_matched(kind: MechanismKind) -> None:
    # explain matched `"police" in mechanism` before the kinds existed: "policer" counted,
    # libvirt's "ingress_policing" did not. The property keeps exactly that set.
    detail, text = TEXTS[kind]
    mechanism = Mechanism(kind, detail)
    assert mechanism.small_burst_drops_tcp is kind.small_burst_drops_tcp
    assert kind.small_burst_drops_tcp is (kind in WARNED)
    assert kind.small_burst_drops_tcp is ("police" in text)


def test_json_is_the_text() -> None:
    limit = Limit(Enforcer.OVS_AGENT, Direction.INBOUND, "tapX",
                  Mechanism(MechanismKind.OVS_METER, (19, "kbps", 59)), "policy p")
    data = to_jsonable(limit)
    assert data["mechanism"] == "OpenFlow meter 19 (kbps) table 59"
    assert json.loads(json.dumps(data))["mechanism"] == "OpenFlow meter 19 (kbps) table 59"
