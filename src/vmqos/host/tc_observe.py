"""Observed tc state: the kernel's qdiscs, classes and filters as :mod:`vmqos.reconcile.state`
objects, decoded from netlink (:mod:`vmqos.host.netlink`).

Role: the observe half of reconcile. Only the parameters vmqos manages are decoded (htb
``default``; class rate, ceil, buffer and cbuffer ticks, quantum; pfifo ``limit``; sfq
``perturb``; u32 match-all, flowid, police and mirred redirect; fw handle and flowid); an
object with a kind or shape vmqos does not write still appears, so it differs from the plan
and is replaced.

Invariants: kernel default qdiscs (handle 0: noqueue, pfifo_fast, mq, a class's built-in
leaf) are "nothing"; per device, objects come parents first (qdisc, class, leaf, filter),
which is also the order to re-create them in; an observed object's ``spec`` re-creates its
exact kernel values (derived on demand by
:func:`vmqos.reconcile.state.size_for_ticks`).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable

from vmqos.host.netlink import LinkMsg, NetlinkReader, TcMsg, attrs, cstring, nested_list
from vmqos.plan.kernel.psched import Psched
from vmqos.reconcile.state import (
    TC_H_ROOT,
    HtbClass,
    Police,
    Redirect,
    TcFilter,
    TcObject,
    TcQdisc,
    format_tc_handle,
    tc_handle,
)

__all__ = ["decode_filter", "decode_htb_class", "decode_qdisc", "observe_tc"]

TC_H_INGRESS, INGRESS_HANDLE = 0xFFFF_FFF1, 0xFFFF_0000
_RATESPEC = "BBHhHI"
_HTB_OPT = struct.Struct("=" + _RATESPEC + _RATESPEC + "IIIII")
_HTB_GLOB = struct.Struct("=IIIII")
_POLICE = struct.Struct("=IiIII" + _RATESPEC + _RATESPEC + "iiI")
_MIRRED = struct.Struct("=IIiiiiI")
_U32_SEL = struct.Struct("=BBBxHHhhI")
_U32_KEY = struct.Struct("=IIii")
_U32 = struct.Struct("=I")
_U64 = struct.Struct("=Q")
_PROTOCOLS = {0x0003: "all", 0x0800: "ip", 0x86DD: "ipv6", 0x0806: "arp"}
# Attribute numbers (include/uapi/linux/pkt_sched.h, pkt_cls.h, tc_act/*.h).
TCA_HTB_PARMS, TCA_HTB_INIT, TCA_HTB_RATE64, TCA_HTB_CEIL64 = 1, 2, 6, 7
TCA_U32_CLASSID, TCA_U32_SEL, TCA_U32_POLICE, TCA_U32_ACT = 1, 5, 6, 7
TCA_FW_CLASSID, TCA_MATCHALL_CLASSID, TCA_MATCHALL_ACT = 1, 1, 2
TCA_ACT_KIND, TCA_ACT_OPTIONS = 1, 2
TCA_POLICE_TBF, TCA_POLICE_RATE64 = 1, 8
TCA_MIRRED_PARMS, TCA_EGRESS_REDIR = 2, 1


def _u32(view: memoryview | None) -> int | None:
    return None if view is None else _U32.unpack_from(view, 0)[0]


def decode_qdisc(dev: str, msg: TcMsg) -> TcQdisc | None:
    """A qdisc message as a :class:`TcQdisc`; ``None`` for a kernel default (handle 0)."""
    if msg.parent == TC_H_INGRESS:
        return TcQdisc(dev, "ingress", format_tc_handle(msg.handle), msg.kind)
    if msg.handle == 0:
        return None
    parent = format_tc_handle(msg.parent)           # TC_H_ROOT prints as "root"
    options: tuple[tuple[str, int], ...] = ()
    raw = msg.raw_options
    if msg.kind == "htb":
        init = msg.options().get(TCA_HTB_INIT)
        if init is not None:
            options = (("default", _HTB_GLOB.unpack_from(init, 0)[2]),)
    elif msg.kind in ("pfifo", "bfifo") and raw is not None and len(raw) >= 4:
        # TCA_OPTIONS of a fifo is struct tc_fifo_qopt itself, not nested attributes.
        options = (("limit", _U32.unpack_from(raw, 0)[0]),)
    elif msg.kind == "sfq" and raw is not None and len(raw) >= 8:
        # struct tc_sfq_qopt: quantum, perturb_period (seconds), limit, divisor, flows.
        options = (("perturb", struct.unpack_from("=Ii", raw, 0)[1]),)
    return TcQdisc(dev, parent, format_tc_handle(msg.handle), msg.kind, options)


def decode_htb_class(dev: str, msg: TcMsg, psched: Psched) -> HtbClass | None:
    if msg.kind != "htb":
        return None
    options = msg.options()
    parms = options.get(TCA_HTB_PARMS)
    if parms is None:
        return None
    fields = _HTB_OPT.unpack_from(parms, 0)
    rate, ceil, buffer, cbuffer, quantum = fields[5], fields[11], fields[12], fields[13], \
        fields[14]
    rate64, ceil64 = options.get(TCA_HTB_RATE64), options.get(TCA_HTB_CEIL64)
    if rate64 is not None:
        rate = _U64.unpack_from(rate64, 0)[0]
    if ceil64 is not None:
        ceil = _U64.unpack_from(ceil64, 0)[0]
    classid = format_tc_handle(msg.handle)
    # A root-level class reports parent TC_H_ROOT; it is added with its qdisc as parent.
    parent = (format_tc_handle(msg.handle & 0xFFFF_0000) if msg.parent == TC_H_ROOT
              else format_tc_handle(msg.parent))
    return HtbClass(dev, classid, parent, rate, ceil, buffer, cbuffer, quantum, (), psched)


def _police(options: dict[int, memoryview], psched: Psched) -> Police | None:
    tbf = options.get(TCA_POLICE_TBF)
    if tbf is None:
        return None
    fields = _POLICE.unpack_from(tbf, 0)
    action, buffer, mtu, rate = fields[1], fields[3], fields[4], fields[10]
    rate64 = options.get(TCA_POLICE_RATE64)
    if rate64 is not None:
        rate = _U64.unpack_from(rate64, 0)[0]
    return Police(rate, buffer, mtu, action, -1, psched)


def _actions(table: memoryview, names: dict[int, str],
             psched: Psched) -> Police | Redirect | None:
    found: Police | Redirect | None = None
    for entry in nested_list(table):
        act = attrs(entry)
        kind = act.get(TCA_ACT_KIND)
        opts = act.get(TCA_ACT_OPTIONS)
        if kind is None or opts is None:
            continue
        name = cstring(kind)
        options = attrs(opts)
        if name == "mirred":
            parms = options.get(TCA_MIRRED_PARMS)
            if parms is not None:
                fields = _MIRRED.unpack_from(parms, 0)
                if fields[5] == TCA_EGRESS_REDIR:
                    found = Redirect(names.get(fields[6], f"if{fields[6]}"))
        elif name == "police":
            found = _police(options, psched)
    return found


def decode_filter(dev: str, parent: str, msg: TcMsg, names: dict[int, str],
                  psched: Psched) -> TcFilter | None:
    """A filter node; ``None`` for the messages that only announce a priority or a u32 hash
    table (each u32 filter dumps three)."""
    opts = msg.options()
    if not opts:
        return None
    prio = msg.info >> 16
    protocol = socket.ntohs(msg.info & 0xFFFF)
    proto = _PROTOCOLS.get(protocol, f"0x{protocol:04x}")
    action: Police | Redirect | None = None
    if msg.kind == "u32":
        sel = opts.get(TCA_U32_SEL)
        if sel is None:
            return None
        nkeys = _U32_SEL.unpack_from(sel, 0)[2]
        keys = [_U32_KEY.unpack_from(sel, _U32_SEL.size + i * _U32_KEY.size)
                for i in range(nkeys)]
        match_all = keys == [(0, 0, 0, 0)]
        police = opts.get(TCA_U32_POLICE)
        if police is not None:
            action = _police(attrs(police), psched)
        table = opts.get(TCA_U32_ACT)
        if table is not None:
            action = _actions(table, names, psched) or action
        return TcFilter(dev, parent, prio, "u32", proto, None, _u32(opts.get(TCA_U32_CLASSID)),
                        match_all, action)
    if msg.kind == "fw":
        return TcFilter(dev, parent, prio, "fw", proto, msg.handle,
                        _u32(opts.get(TCA_FW_CLASSID)), False, None)
    if msg.kind == "matchall":
        table = opts.get(TCA_MATCHALL_ACT)
        if table is not None:
            action = _actions(table, names, psched)
        return TcFilter(dev, parent, prio, "matchall", proto, None,
                        _u32(opts.get(TCA_MATCHALL_CLASSID)), True, action)
    # A classifier vmqos never writes: keep it visible (match_all False) so it is replaced.
    return TcFilter(dev, parent, prio, msg.kind, proto, msg.handle or None, None, False, None)


def observe_tc(reader: NetlinkReader, devices: Iterable[str], psched: Psched,
               links: list[LinkMsg] | None = None,
               no_root_filters: frozenset[str] = frozenset()) -> tuple[TcObject, ...]:
    """The tc objects on ``devices`` (those that exist), parents first, per device.

    ``no_root_filters``: devices whose root qdisc's filters are not dumped (one netlink dump
    per device saved: vmqos's own IFBs, where nothing attaches a filter to the root).
    """
    links = reader.links() if links is None else links
    names = {link.index: link.name for link in links}
    wanted = {link.name: link.index for link in links}
    by_index: dict[int, list[TcMsg]] = {}
    for msg in reader.qdiscs():
        by_index.setdefault(msg.ifindex, []).append(msg)
    out: list[TcObject] = []
    for dev in devices:
        index = wanted.get(dev)
        if index is None:
            continue
        qdiscs = [q for q in (decode_qdisc(dev, m) for m in by_index.get(index, ())) if q]
        root = next((q for q in qdiscs if q.parent == "root"), None)
        ingress = next((q for q in qdiscs if q.parent == "ingress"), None)
        leaves = [q for q in qdiscs if q.parent not in ("root", "ingress")]
        if root is not None:
            out.append(root)
            classes: list[HtbClass] = [
                c for c in (decode_htb_class(dev, m, psched) for m in reader.classes(index))
                if c is not None]
            classes.sort(key=lambda c: c.classid)
            out.extend(classes)
            out.extend(leaves)
            if dev not in no_root_filters:
                handle = tc_handle(root.handle)
                out.extend(f for f in (decode_filter(dev, root.handle, m, names, psched)
                                       for m in reader.filters(index, handle)) if f)
        if ingress is not None:
            out.append(ingress)
            out.extend(f for f in (decode_filter(dev, "ffff:", m, names, psched)
                                   for m in reader.filters(index, INGRESS_HANDLE)) if f)
    return tuple(out)
