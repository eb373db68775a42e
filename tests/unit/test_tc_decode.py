"""Decoding the kernel's tc dumps (vmqos.host.tc_observe, vmqos.host.netlink.attrs) from bytes.

This kernel has no sfq, fw or police, so a real host's libvirt-exact program cannot be read
back here; these tests build the kernel's dump messages byte by byte from the uapi structs
(include/uapi/linux/pkt_sched.h, pkt_cls.h, tc_act/tc_mirred.h: tc_htb_opt, tc_sfq_qopt,
tc_u32_sel, tc_police, tc_mirred) and check that each decodes to exactly the object the
strategy plans — i.e. that re-applying libvirt's program on a full-featured host is a no-op.
"""

from __future__ import annotations

import socket
import struct

from support import seed
from vmqos.host.netlink import TcMsg, attrs
from vmqos.host.tc_observe import decode_filter, decode_htb_class, decode_qdisc
from vmqos.plan.kernel.psched import DEFAULT_PSCHED, tc_calc_xmittime
from vmqos.reconcile.facts import FULL_FACTS
from vmqos.reconcile.state import HtbClass, Redirect, TcFilter, TcQdisc
from vmqos.reconcile.strategy import compile_host_tc

NESTED = 0x8000
ETH_P_ALL = socket.htons(0x0003)
PLAN = compile_host_tc("tapX", seed.RESQUOTA_BANDWIDTH, FULL_FACTS, swapped=True)


def nla(kind: int, payload: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def ratespec(rate: int) -> bytes:
    # cell_log, linklayer (1 = ethernet), overhead, cell_align, mpu, rate
    return struct.pack("=BBHhHI", 0, 1, 0, -1, 0, rate)


def msg(kind: str, options: bytes, *, handle: int = 0, parent: int = 0,
        info: int = 0) -> TcMsg:
    return TcMsg(7, handle, parent, info, kind, memoryview(options))


def planned(cls: type) -> list[object]:
    return [o for o in PLAN.objects if isinstance(o, cls)]


def test_attrs_walks_aligned_attributes_and_masks_the_nested_flag() -> None:
    data = nla(1, b"abc") + nla(2 | NESTED, nla(5, b"\x01\x00\x00\x00"))
    found = attrs(data)
    assert bytes(found[1]) == b"abc"
    assert bytes(attrs(found[2])[5]) == b"\x01\x00\x00\x00"
    assert set(attrs(data, wanted=frozenset({2}))) == {2}


def test_htb_root_sfq_leaf_and_ingress_qdiscs() -> None:
    glob = struct.pack("=IIIII", 3, 10, 1, 0, 0)           # version, r2q, defcls 1, ...
    root = decode_qdisc("tapX", msg("htb", nla(2, glob) + nla(5, struct.pack("=I", 1000)),
                                    handle=0x10000, parent=0xFFFFFFFF))
    sfq = struct.pack("=IiIII", 1514, 10, 127, 1024, 128)  # quantum, perturb 10 s, limit ...
    leaf = decode_qdisc("tapX", msg("sfq", sfq, handle=0x20000, parent=0x10001))
    ingress = decode_qdisc("tapX", msg("ingress", b"", handle=0xFFFF0000, parent=0xFFFFFFF1))
    qdiscs = planned(TcQdisc)
    assert [root, leaf, ingress] == qdiscs
    default = decode_qdisc("tapX", msg("noqueue", b"", handle=0, parent=0xFFFFFFFF))
    assert default is None


def test_htb_class_with_its_ticks() -> None:
    (want,) = planned(HtbClass)
    assert isinstance(want, HtbClass)
    opt = ratespec(32_768_000) + ratespec(65_536_000) + struct.pack(
        "=IIIII", want.buffer, want.cbuffer, 2796, 0, 0)
    got = decode_htb_class("tapX", msg("htb", nla(1, opt), handle=0x10001,
                                       parent=0xFFFFFFFF), DEFAULT_PSCHED)
    assert got == want
    assert got is not None and got.add_argv()[-2:] == ["quantum", "2796"]


def test_htb_rate64_wins_over_the_saturated_u32() -> None:
    rate = 5_000_000_000                                    # 40 Gbit/s: beyond u32 bytes/s
    opt = ratespec(0xFFFFFFFF) + ratespec(0xFFFFFFFF) + struct.pack("=IIIII", 1, 1, 1514, 0, 0)
    got = decode_htb_class("d", msg("htb", nla(1, opt) + nla(6, struct.pack("=Q", rate))
                                    + nla(7, struct.pack("=Q", rate)), handle=0x10001,
                                    parent=0xFFFFFFFF), DEFAULT_PSCHED)
    assert got is not None and got.rate == got.ceil == rate


def test_fw_filter() -> None:
    got = decode_filter("tapX", "1:", msg("fw", nla(1, struct.pack("=I", 1)), handle=1,
                                          info=(1 << 16) | ETH_P_ALL), {}, DEFAULT_PSCHED)
    (want,) = [f for f in planned(TcFilter) if isinstance(f, TcFilter) and f.kind == "fw"]
    assert got == want


def _u32_sel() -> bytes:
    # flags TC_U32_TERMINAL, offshift, nkeys 1, pad, offmask, off, offoff, hoff, hmask;
    # one key: mask 0, val 0, off 0, offmask 0 ("match u32 0 0")
    return struct.pack("=BBBxHHhhI", 1, 0, 1, 0, 0, 0, 0, 0) + struct.pack("=IIii", 0, 0, 0, 0)


def test_libvirts_u32_police_filter() -> None:
    ticks = tc_calc_xmittime(32_768_000, 131072 * 1024)
    police = struct.pack("=IiIII", 1, 2, 0, ticks, 65536) + ratespec(32_768_000) + \
        ratespec(0) + struct.pack("=iiI", 1, 1, 0)
    options = (nla(1, struct.pack("=I", 1)) + nla(5, _u32_sel())
               + nla(6 | NESTED, nla(1, police)))
    info = (0xC000 << 16) | ETH_P_ALL
    # a u32 filter dumps three messages: the priority, the hash table, the node
    assert decode_filter("tapX", "ffff:", msg("u32", b"", info=info), {}, DEFAULT_PSCHED) is None
    table = nla(4, struct.pack("=I", 1))                       # TCA_U32_DIVISOR only
    assert decode_filter("tapX", "ffff:", msg("u32", table, handle=0x80000000, info=info), {},
                         DEFAULT_PSCHED) is None
    got = decode_filter("tapX", "ffff:", msg("u32", options, handle=0x80000800, info=info), {},
                        DEFAULT_PSCHED)
    (want,) = [f for f in planned(TcFilter) if isinstance(f, TcFilter) and f.kind == "u32"]
    assert got == want
    assert got is not None and " ".join(got.add_argv()).endswith(
        "police rate 32768kbps burst 131072kb mtu 64kb drop flowid :1")


def test_mirred_redirect_action_names_the_device() -> None:
    mirred = struct.pack("=IIiiiiI", 1, 0, 4, 1, 1, 1, 42)   # ... eaction 1 = egress redir
    action = nla(1 | NESTED, nla(1, b"mirred\0") + nla(2 | NESTED, nla(2, mirred)))
    options = nla(5, _u32_sel()) + nla(7 | NESTED, action)
    got = decode_filter("tapX", "ffff:", msg("u32", options, handle=0x80000800,
                                             info=(1 << 16) | ETH_P_ALL),
                        {42: "vmqos0123456789"}, DEFAULT_PSCHED)
    assert got == TcFilter("tapX", "ffff:", 1, "u32", action=Redirect("vmqos0123456789"))


def test_a_selector_vmqos_never_writes_is_not_match_all() -> None:
    sel = struct.pack("=BBBxHHhhI", 1, 0, 1, 0, 0, 0, 0, 0) + struct.pack(
        "=IIii", socket.htonl(0xFFFF0000), socket.htonl(0x0A000000), 12, 0)
    got = decode_filter("d", "ffff:", msg("u32", nla(5, sel), handle=0x80000800,
                                          info=(1 << 16) | ETH_P_ALL), {}, DEFAULT_PSCHED)
    assert got is not None and not got.match_all
