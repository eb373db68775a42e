"""What ``tc qdisc/class/filter show dev IF`` prints after libvirt's tc program.

Role: render, byte for byte, the text a host shows for a device shaped by
:func:`vmqos.plan.render.tc.compile_libvirt_tc`, in two iproute2 generations (iproute2 tc/q_htb.c,
tc/tc_core.c, tc/tc_util.c):

* ``modern`` (:class:`~vmqos.profile.Iproute2Style`) — iproute2 6.1 (Debian 12) with a
  kernel ≥ 4.13: rates by the ≥ v3.14 algorithm, ``default 0x1``, ``direct_qlen``,
  ``chain 0``, ``not_in_hw``, and the trailing spaces iproute2 really prints.
* ``rhel7`` — iproute 3.10 with a RHEL 7 kernel, as captured in the seed lab note: old rate
  algorithm (no Gbit branch, 32-bit rates), ``default 1``, no ``direct_qlen``/``chain``. The
  seed's captured lines carry no trailing whitespace (iproute 3.10 prints some), so this style
  strips it: compare real RHEL 7 output after ``rstrip()``.

Invariants: one string per output line, no newline characters; blank lines that tc prints are
empty strings. Sizes go through tc's tick round trip
(:func:`vmqos.plan.kernel.psched.htb_buffer_roundtrip`)
with the caller's :class:`~vmqos.plan.kernel.psched.Psched`.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.libvirt_types import Bandwidth
from vmqos.plan.kernel.psched import (
    DEFAULT_PSCHED,
    Psched,
    htb_buffer_roundtrip,
    htb_default_buffer,
)
from vmqos.plan.render.bandwidth_sides import POLICE_MTU, htb_side, police_burst, police_side
from vmqos.profile import Iproute2Style
from vmqos.units import KBytesPerSec, KiB, kbytes_per_sec_to_bytes, kib_to_bytes

__all__ = [
    "DEFAULT_PSCHED",
    "IPROUTE2_STYLES",
    "RATE_PREFIXES",
    "SHOW_KINDS",
    "Psched",
    "TcShow",
    "format_rate",
    "format_size",
    "htb_buffer_roundtrip",
    "render_tc_show",
]

IPROUTE2_STYLES = tuple(style.value for style in Iproute2Style)
# TcShow.text() kinds, and the command each one's lines answer.
SHOW_KINDS: dict[str, str] = {
    "qdisc": "tc qdisc show dev {dev}",
    "class": "tc class show dev {dev}",
    "filter": "tc filter show dev {dev}",
    "ingress_filter": "tc filter show dev {dev} parent ffff:",
}

_U32 = 0xFFFF_FFFF
_U64 = (1 << 64) - 1
# sprint_rate's SI prefixes, in order of 1000**i; vmqos.observe.tc_text reads rates back with them.
RATE_PREFIXES = ("", "K", "M", "G", "T")
_PRIOMAP = "1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1"  # pfifo_fast's fixed prio2band map


def _style(style: Iproute2Style | str) -> Iproute2Style:
    try:
        return Iproute2Style(style)
    except ValueError:
        raise ValidationError(
            f"unknown iproute2 style {style!r}; choose one of: {', '.join(IPROUTE2_STYLES)}",
            key="iproute2", value=style, allowed=", ".join(IPROUTE2_STYLES)) from None


def format_rate(bytes_per_sec: int, *, style: Iproute2Style | str) -> str:
    """A rate as ``tc`` prints it: 32768000 B/s -> ``262144Kbit`` (both styles)."""
    if _style(style) is Iproute2Style.MODERN:
        # iproute2 >= v3.14 sprint_rate (commit 8cecdc28): collapse exact multiples of 1000.
        bits = (bytes_per_sec << 3) & _U64
        i = 0
        while i < 4:
            if bits < 1000 or (bits % 1000 and bits < 1_000_000):
                break
            bits //= 1000
            i += 1
        return f"{float(bits):.0f}{RATE_PREFIXES[i]}bit"
    # iproute 3.10 print_rate: a __u32 byte rate, Mbit above 1e9 bit/s, no Gbit branch.
    if bytes_per_sec > _U32:
        raise UnsupportedError(
            f"rate {bytes_per_sec} B/s does not fit iproute 3.10's 32-bit rates "
            f"(at most {_U32} B/s); use the modern iproute2 style")
    tmp = float(bytes_per_sec) * 8
    if tmp >= 1e9:
        return f"{tmp / 1e6:.0f}Mbit"
    if tmp >= 1e6:
        return f"{tmp / 1e3:.0f}Kbit"
    return f"{tmp:.0f}bit"


def format_size(size: int) -> str:
    """A size as ``tc`` prints it (``sprint_size``, same in 3.10 and 6.1): ``128Mb``,
    ``1572b``, ``1e+06Kb`` (``%g`` of a whole number of KiB/MiB within a small error)."""
    sz = size & _U32  # the argument is a __u32
    if sz >= 1 << 20:
        mib = round(sz / (1 << 20))  # rint(): round half to even, as Python's round()
        if abs((1 << 20) * mib - sz) < 1024:
            return f"{mib:g}Mb"
    if sz >= 1024:
        kib = round(sz / 1024)
        if abs(1024 * kib - sz) < 16:
            return f"{kib:g}Kb"
    return f"{sz}b"


@dataclass(frozen=True, slots=True)
class TcShow:
    """The four ``show`` outputs for one device (see :data:`SHOW_KINDS`)."""

    dev: str
    qdisc: tuple[str, ...]
    classes: tuple[str, ...]
    filters: tuple[str, ...]
    ingress_filters: tuple[str, ...]

    def lines(self, kind: str) -> tuple[str, ...]:
        if kind == "qdisc":
            return self.qdisc
        if kind == "class":
            return self.classes
        if kind == "filter":
            return self.filters
        if kind == "ingress_filter":
            return self.ingress_filters
        raise ValidationError(
            f"unknown tc show kind {kind!r}; choose one of: {', '.join(SHOW_KINDS)}",
            key="kind", value=kind, allowed=", ".join(SHOW_KINDS))

    def text(self, kind: str) -> str:
        """The exact stdout of the ``show`` command for ``kind`` (empty when no lines)."""
        return "".join(line + "\n" for line in self.lines(kind))

    def command(self, kind: str) -> str:
        self.lines(kind)  # validates kind
        return SHOW_KINDS[kind].format(dev=self.dev)


def _refcnt(txqueues: int) -> str:
    # A root qdisc is referenced once per tx queue plus once by the device; print_qdisc
    # omits a refcnt of 1.
    return f"refcnt {txqueues + 1} "


def _default_root(style: Iproute2Style, txqueues: int) -> list[str]:
    """The kernel's default root qdisc after libvirt deleted its own (net.core.default_qdisc
    = pfifo_fast). A multi-queue device gets ``mq`` with one pfifo_fast per queue."""
    rhel7 = style is Iproute2Style.RHEL7
    priomap = ("priomap  " if rhel7 else "priomap ") + _PRIOMAP
    if txqueues == 1:
        return [f"qdisc pfifo_fast 0: root refcnt 2 bands 3 {priomap}"]
    # Dump order of mq's children: kernel 3.10 kept them on a list in queue order; modern
    # kernels hash them by handle (all 0:) with head insertion, so they come out reversed
    # ([obs] on kernel 6.18 with a 3-queue ifb).
    queues = range(1, txqueues + 1) if rhel7 else range(txqueues, 0, -1)
    return ["qdisc mq 0: root ", *(f"qdisc pfifo_fast 0: parent :{q:x} bands 3 {priomap}"
                                   for q in queues)]


def render_tc_show(
    dev: str,
    bandwidth: Bandwidth | None,
    *,
    swapped: bool,
    iproute2: Iproute2Style | str = Iproute2Style.MODERN,
    mtu: int = 1500,
    txqueues: int = 1,
    direct_packets_stat: int = 0,
    noqueue: bool = True,
    noqueue_handle: int = 0x8001,
    txqueuelen: int = 1000,
    police_index: int = 1,
    ingress_removed_by_ovs: bool = False,
    psched: Psched = DEFAULT_PSCHED,
) -> TcShow:
    """The ``show`` text after libvirt applied ``bandwidth`` to ``dev``.

    ``noqueue``: libvirt ≥ 6.9 put ``noqueue`` on the root before (so a device without
    bandwidth shows it, with the kernel's auto handle ``noqueue_handle``); older libvirt leaves
    the kernel default ``pfifo_fast``. ``direct_packets_stat`` is traffic-dependent (the seed
    shows 1); ``txqueuelen`` is HTB's ``direct_qlen``; ``police_index`` is the police action's
    index, which counts police actions in the network namespace.

    ``ingress_removed_by_ovs``: the tap is an OVS port that libvirt shaped with tc (libvirt
    < 8.0, as in the seed); ovs-vswitchd deletes the ingress qdisc when it configures the
    Interface's ingress policing (ovs-issues #210), so the policed side leaves no trace.
    """
    style = _style(iproute2)
    if mtu <= 0 or txqueues <= 0:
        raise ValidationError(
            f"mtu {mtu} and txqueues {txqueues} must be positive",
            key="mtu" if mtu <= 0 else "txqueues", value=mtu if mtu <= 0 else txqueues,
            allowed="an integer of at least 1")
    modern = style is Iproute2Style.MODERN
    chain = "chain 0 " if modern else ""  # TCA_CHAIN: kernel >= 4.13 and iproute2 >= 4.13
    qdisc: list[str] = []
    classes: list[str] = []
    filters: list[str] = []
    ingress: list[str] = []
    empty = bandwidth is None or (bandwidth.inbound is None and bandwidth.outbound is None)
    tx = None if bandwidth is None else htb_side(bandwidth, swapped=swapped)
    rx = None if bandwidth is None else police_side(bandwidth, swapped=swapped)
    if tx is not None:
        rate = kbytes_per_sec_to_bytes(tx.average)
        ceil = kbytes_per_sec_to_bytes(tx.peak) if tx.peak else rate
        buffer = kib_to_bytes(tx.burst) if tx.burst else htb_default_buffer(rate, psched)
        burst = format_size(htb_buffer_roundtrip(rate, buffer, psched))
        # libvirt never passes cburst: tc's default for the ceil rate applies.
        cburst = format_size(htb_buffer_roundtrip(ceil, htb_default_buffer(ceil, psched), psched))
        # default: %#llx since iproute2 v4.20, %x before.
        qdisc.append(
            f"qdisc htb 1: root {_refcnt(txqueues)}r2q 10 "
            f"default {'0x1' if modern else '1'} direct_packets_stat {direct_packets_stat}"
            + (f" direct_qlen {max(txqueuelen, 2)}" if modern else ""))
        # sfq: kernel defaults limit = depth = 127, quantum = psched_mtu(dev) = MTU + the
        # Ethernet hard header (14 bytes). [obs] on kernel 6.1 + iproute2 6.1 in the reference
        # node (vmqos.node; tests/node/test_exact_program.py), trailing space included.
        qdisc.append(f"qdisc sfq 2: parent 1:1 limit 127p quantum {format_size(mtu + 14)} "
                     "depth 127 divisor 1024 perturb 10sec ")
        classes.append(
            f"class htb 1:1 root leaf 2: prio 0 rate {format_rate(rate, style=style)} "
            f"ceil {format_rate(ceil, style=style)} "
            f"burst {burst} cburst {cburst} ")
        # fw filter: the kernel dumps the classifier itself, then its one handle; "flowid 1"
        # is classid 0:1, printed ":1". [obs] on kernel 6.1 + iproute2 6.1 in the reference
        # node, where traffic marked 1 also lands in the default class (HTB finds no 0:1).
        filters.append(f"filter parent 1: protocol all pref 1 fw {chain}")
        filters.append(f"filter parent 1: protocol all pref 1 fw {chain}handle 0x1 classid :1 ")
    elif empty and noqueue:
        qdisc.append(f"qdisc noqueue {noqueue_handle:x}: root {_refcnt(txqueues)}")
    else:
        qdisc += _default_root(style, txqueues)
    if rx is not None and not ingress_removed_by_ovs:
        qdisc.append("qdisc ingress ffff: parent ffff:fff1 ---------------- ")
        ingress += _u32_police_lines(rx.average, police_burst(rx), modern=modern,
                                     police_index=police_index, style=style, psched=psched)
    if not modern:
        # The seed's captured text has no trailing whitespace (see the module docstring).
        qdisc, classes, filters, ingress = (
            [line.rstrip() for line in lines] for lines in (qdisc, classes, filters, ingress))
    return TcShow(dev, tuple(qdisc), tuple(classes), tuple(filters), tuple(ingress))


def _u32_police_lines(
    average: KBytesPerSec, burst_kib: KiB, *, modern: bool, police_index: int,
    style: Iproute2Style, psched: Psched,
) -> list[str]:
    """``tc filter show dev IF parent ffff:`` for libvirt's match-all u32 + police filter.

    Modern: [obs] line for line, police lines included, on kernel 6.1 + iproute2 6.1 in the
    reference node (vmqos.node; tests/node/test_exact_program.py: the seed's program, a
    quarter of it, and one without burst or peak, whose police burst is libvirt's average
    KiB); the u32 lines also on kernel 6.18 here, which has no act_police. rhel7: derived
    from iproute 3.10's f_u32.c/m_police.c and tc_core.c tc_calc_xmitsize, checked against
    the seed's captured text. ``pref 49152`` is the kernel's auto priority (libvirt gives
    none), the knode handle is ``800::800``.
    """
    rate = kbytes_per_sec_to_bytes(average)
    # tc computes no burst ticks without a rate, so rate 0 prints "burst 0b".
    burst = htb_buffer_roundtrip(rate, kib_to_bytes(burst_kib), psched)
    head = "filter protocol all pref 49152 u32 " + ("chain 0 " if modern else "")
    # iproute2 6.1 marks a terminal selector with "*flowid"; 3.10 starred the non-terminal
    # ones instead. The kernel reports not_in_hw (TCA_U32_FLAGS) only to iproute2 >= 4.9.
    flowid = "*flowid :1 not_in_hw " if modern else "flowid :1 "
    police = (f" police 0x{police_index:x} rate {format_rate(rate, style=style)} "
              f"burst {format_size(burst)} mtu {format_size(POLICE_MTU)} "
              "action drop overhead 0b ")
    return [
        head,
        head + "fh 800: ht divisor 1 ",
        head + "fh 800::800 order 2048 key ht 800 bkt 0 " + flowid,
        "  match 00000000/00000000 at 0",
        police,
        # 6.1 prints "\tref %d " "bind %d "; 3.10 "\nref %d bind %d\n". Both end the
        # police block with a newline before print_filter's own, hence the blank line.
        "\tref 1 bind 1 " if modern else "ref 1 bind 1",
        "",
    ]
