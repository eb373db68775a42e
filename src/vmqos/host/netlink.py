"""Reading links, qdiscs, classes and filters from the kernel over rtnetlink, fast and exact.

Role: observation for reconcile. Why not ``tc -j``: iproute2 6.1 prints HTB classes as text
even with ``-j`` and rounds sizes in ``show`` output (``128Mb``), so it cannot tell whether a
burst is exactly right; why not pyroute2's message classes: decoding is ~0.3 ms per dump
(measured: 0.6 s for the 2000 class dumps of 1000 shaped taps), too slow for a no-op
re-apply of 1000 taps in 0.5 s. This module sends the same RTM_GET* dumps and decodes only
the few attributes vmqos manages, straight from the kernel's structs (include/uapi/linux/
rtnetlink.h, pkt_sched.h, pkt_cls.h, tc_act/tc_mirred.h).

A socket in a named namespace is made by a short-lived thread that joins the namespace
(``setns`` moves only the calling thread) and creates it there; a socket stays in the
namespace it was created in. No fork: pyroute2's ``create_socket`` forks a Python child,
and a child that gets a signal before it exits (pyroute2 itself sends SIGTERM on a slow
child) unwinds a copy of the caller's stack — in ``vmqos lab`` that ran the lab's cleanup
in the child while the parent was applying (seen in CI as "tap ... not found").

Invariants: values are returned raw (handles as integers, rates in bytes/s, bursts in ticks);
turning them into vmqos objects is :mod:`vmqos.host.tc_observe`'s job.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self, TypeVar

from vmqos.host.errors_map import from_oserror, translate

__all__ = ["LinkMsg", "NetlinkReader", "TcMsg", "attrs"]

NETLINK_ROUTE = 0
NETNS_RUN_DIR = "/run/netns"          # where `ip netns add` mounts named namespaces
CLONE_NEWNET = 0x40000000
RTM_GETLINK, RTM_GETQDISC, RTM_GETTCLASS, RTM_GETTFILTER = 18, 38, 42, 46
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
IFF_UP = 0x1
IFLA_IFNAME, IFLA_LINKINFO, IFLA_INFO_KIND, IFLA_EXT_MASK = 3, 18, 1, 29
RTEXT_FILTER_SKIP_STATS = 1 << 3
TCA_KIND, TCA_OPTIONS, TCA_STATS2 = 1, 2, 7
_LINK_WANTED = frozenset({IFLA_IFNAME, IFLA_LINKINFO})
_TC_WANTED = frozenset({TCA_KIND, TCA_OPTIONS})
_TC_STATS_WANTED = frozenset({TCA_KIND, TCA_STATS2})
_NLA_TYPE_MASK = 0x3FFF
_HDR = struct.Struct("=IHHII")        # nlmsghdr
_IFINFO = struct.Struct("=BxHiII")    # ifinfomsg
_TCMSG = struct.Struct("=BxxxiIII")   # tcmsg
_ATTR = struct.Struct("=HH")          # rtattr
_RCVBUF = 1 << 20
# One recv returns one skb, and the kernel caps a dump's skbs at 32 KiB (netlink_recvmsg's
# max_recvmsg_len); a bigger read buffer only costs an allocation per call.
_RECV = 1 << 16
_T = TypeVar("_T")


def attrs(data: bytes | memoryview, offset: int = 0,
          wanted: frozenset[int] | None = None) -> dict[int, memoryview]:
    """The attributes (type -> payload) of a netlink attribute stream; the last one of a type
    wins (none of the attributes read here repeat). With ``wanted``, only those types, and the
    scan stops once all are found (the hot path: a dump message carries many statistics)."""
    view = memoryview(data)
    out: dict[int, memoryview] = {}
    end = len(view)
    unpack = _ATTR.unpack_from
    left = len(wanted) if wanted is not None else -1
    while offset + 4 <= end:
        length, kind = unpack(view, offset)
        if length < 4:
            break
        kind &= _NLA_TYPE_MASK
        if wanted is None or kind in wanted:
            out[kind] = view[offset + 4: offset + length]
            left -= 1
            if left == 0:
                break
        offset += (length + 3) & ~3
    return out


def nested_list(data: memoryview) -> list[memoryview]:
    """The payloads of a nested attribute list in order (an action table)."""
    out: list[memoryview] = []
    offset, end = 0, len(data)
    while offset + 4 <= end:
        length, _kind = _ATTR.unpack_from(data, offset)
        if length < 4:
            break
        out.append(data[offset + 4: offset + length])
        offset += (length + 3) & ~3
    return out


def cstring(data: memoryview) -> str:
    return bytes(data).split(b"\0", 1)[0].decode()


@dataclass(frozen=True, slots=True)
class LinkMsg:
    index: int
    name: str
    kind: str                   # "veth", "ifb" ... ("" for a device without link info)
    up: bool


@dataclass(frozen=True, slots=True)
class TcMsg:
    """One RTM_NEWQDISC/NEWTCLASS/NEWTFILTER: the tcmsg header, the kind, and TCA_OPTIONS
    undecoded (most messages of a dump are for devices or kinds nobody asks about)."""

    ifindex: int
    handle: int
    parent: int
    info: int
    kind: str
    raw_options: memoryview | None = None
    raw_stats: memoryview | None = None     # TCA_STATS2, read by qdisc_stats() only

    def options(self) -> dict[int, memoryview]:
        """TCA_OPTIONS as nested attributes (for the kinds whose options are nested)."""
        return attrs(self.raw_options) if self.raw_options is not None else {}


def _socket_in_netns(netns: str) -> socket.socket:
    """A NETLINK_ROUTE socket created inside the named namespace (/run/netns/NAME), which must
    exist: nothing is created."""
    made: list[socket.socket] = []
    failed: list[BaseException] = []

    def inside() -> None:
        try:
            fd = os.open(os.path.join(NETNS_RUN_DIR, netns), os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc().setns(fd, CLONE_NEWNET) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, os.strerror(code))
            finally:
                os.close(fd)
            made.append(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE))
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)

    worker = threading.Thread(target=inside, name=f"vmqos-netns-{netns}", daemon=True)
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return made[0]


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


class NetlinkReader:
    """A NETLINK_ROUTE socket in one network namespace (``None``: this process's)."""

    def __init__(self, netns: str | None = None) -> None:
        where = f"netlink socket in namespace {netns}" if netns else "netlink socket"
        with translate(where):
            if netns is None:
                self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
            else:
                self._sock = _socket_in_netns(netns)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
            self._sock.bind((0, 0))
        self._seq = 0
        self._netns = netns
        self._buffer = bytearray(_RECV)
        self._view = memoryview(self._buffer)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _dump(self, msg_type: int, body: bytes,
              parse: Callable[[memoryview], _T]) -> list[_T]:
        """One dump request and its answer, each message's payload turned into a value by
        ``parse`` at once (the read buffer is reused: ``parse`` copies what it keeps)."""
        self._seq += 1
        seq = self._seq
        msg = _HDR.pack(_HDR.size + len(body), msg_type, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
        out: list[_T] = []
        buffer, view = self._buffer, self._view
        try:
            self._sock.send(msg + body)
            while True:
                end = self._sock.recv_into(buffer)
                if end == _RECV:
                    raise OSError(errno.EMSGSIZE, "netlink answer filled the read buffer "
                                  "and may be truncated")
                offset = 0
                while offset + _HDR.size <= end:
                    length, kind, _flags, mseq, _pid = _HDR.unpack_from(buffer, offset)
                    if length < _HDR.size:
                        return out
                    if mseq == seq:
                        if kind == NLMSG_DONE:
                            return out
                        if kind == NLMSG_ERROR:
                            (code,) = struct.unpack_from("=i", buffer, offset + _HDR.size)
                            if code:
                                raise OSError(-code, os.strerror(-code))
                            return out
                        out.append(parse(view[offset + _HDR.size: offset + length]))
                    offset += (length + 3) & ~3
        except OSError as exc:
            raise from_oserror(exc, f"netlink dump (message type {msg_type})") from exc

    def links(self) -> list[LinkMsg]:
        # IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS: the kernel leaves the counters out.
        request = _IFINFO.pack(0, 0, 0, 0, 0) + _ATTR.pack(8, IFLA_EXT_MASK) + \
            struct.pack("=I", RTEXT_FILTER_SKIP_STATS)
        return self._dump(RTM_GETLINK, request, _link)

    def _tc(self, msg_type: int, ifindex: int, parent: int) -> list[TcMsg]:
        return self._dump(msg_type, _TCMSG.pack(0, ifindex, 0, parent, 0), _tcmsg)

    def qdiscs(self) -> list[TcMsg]:
        """Every qdisc of every device in the namespace (one dump)."""
        return self._tc(RTM_GETQDISC, 0, 0)

    def qdisc_stats(self) -> list[TcMsg]:
        """Every qdisc with its TCA_STATS2 (nested) instead of its options (one dump)."""
        return self._dump(RTM_GETQDISC, _TCMSG.pack(0, 0, 0, 0, 0),
                          functools.partial(_tcmsg, stats=True))

    def classes(self, ifindex: int) -> list[TcMsg]:
        return self._tc(RTM_GETTCLASS, ifindex, 0)

    def filters(self, ifindex: int, parent: int) -> list[TcMsg]:
        return self._tc(RTM_GETTFILTER, ifindex, parent)


def _link(payload: memoryview) -> LinkMsg:
    _family, _type, index, flags, _change = _IFINFO.unpack_from(payload, 0)
    found = attrs(payload, _IFINFO.size, _LINK_WANTED)
    kind = ""
    info = found.get(IFLA_LINKINFO)
    if info is not None:
        kind_attr = attrs(info).get(IFLA_INFO_KIND)
        kind = cstring(kind_attr) if kind_attr is not None else ""
    name = found.get(IFLA_IFNAME)
    return LinkMsg(index, cstring(name) if name is not None else "", kind, bool(flags & IFF_UP))


def _tcmsg(payload: memoryview, stats: bool = False) -> TcMsg:
    """A tc message with its TCA_OPTIONS, or (``stats``) its TCA_STATS2 instead."""
    _family, index, handle, parent, info = _TCMSG.unpack_from(payload, 0)
    found = attrs(payload, _TCMSG.size, _TC_STATS_WANTED if stats else _TC_WANTED)
    kind_attr = found.get(TCA_KIND)
    raw = found.get(TCA_STATS2 if stats else TCA_OPTIONS)
    copied = memoryview(bytes(raw)) if raw is not None else None
    kind = cstring(kind_attr) if kind_attr is not None else ""
    if stats:
        return TcMsg(index, handle, parent, info, kind, raw_stats=copied)
    return TcMsg(index, handle, parent, info, kind, copied)
