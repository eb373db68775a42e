"""Observed tc objects — what a host's ``tc … show`` says is there — and tc's printed units.

Role: the value types :mod:`vmqos.observe.tc_text` produces from ``tc qdisc|class|filter show``
text or ``tc -j`` JSON, and the readers of tc's printed units (the inverse of
:func:`vmqos.plan.render.tc_show.format_rate` / :func:`~vmqos.plan.render.tc_show.format_size`).

Invariants: rates are what the kernel keeps, in bytes/s (``tc_ratespec.rate``); sizes are
bytes. tc's text is lossy — a rate prints in whole units of its prefix, a size as ``%g`` of
whole KiB/MiB — so a printed value reads back as exactly that value:
``format_rate(parse_rate(t)) == t`` and ``format_size(parse_size(t)) == t`` for everything tc
prints. Every option a line carried is kept verbatim in ``options``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vmqos.errors import ValidationError
from vmqos.plan.render.tc_show import RATE_PREFIXES, format_size
from vmqos.units import (
    BitsPerSec,
    Bytes,
    BytesPerSec,
    KiB,
    bits_per_sec_to_bytes,
    kib_to_bytes,
    mib_to_kib,
)

__all__ = [
    "MirredAction",
    "ObservedAction",
    "ObservedClass",
    "ObservedFilter",
    "ObservedQdisc",
    "ObservedTc",
    "OtherAction",
    "PoliceAction",
    "U32Match",
    "build_qdisc",
    "parse_int",
    "parse_rate",
    "parse_size",
    "parse_time",
    "tc_syntax_error",
]

_NUMBER = r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?"
_RATE_RE = re.compile(rf"^(?P<num>{_NUMBER})(?P<prefix>[KMGT]?)(?P<iec>i?)bit$")
_SIZE_RE = re.compile(rf"^(?P<num>{_NUMBER})(?P<unit>b|Kb|Mb|Gb)$")
_TIME_RE = re.compile(rf"^(?P<num>{_NUMBER})(?P<unit>us|usec|ms|msec|s|sec|secs)$")
_TIME_USEC = {"us": 1, "usec": 1, "ms": 1000, "msec": 1000, "s": 1_000_000,
              "sec": 1_000_000, "secs": 1_000_000}


def tc_syntax_error(what: str, text: str, allowed: str) -> ValidationError:
    """The error for text that is not what tc prints."""
    return ValidationError(f"not a tc {what}: {text!r}", key=what, value=text, allowed=allowed)


def parse_rate(text: str) -> BytesPerSec:
    """A rate as tc prints it -> the bytes/s the kernel keeps: ``262144Kbit`` -> 32768000.

    SI prefixes (``tc``'s default) and IEC ones (``tc -iec``: ``Kibit``) are read back.
    """
    m = _RATE_RE.match(text)
    if m is None or (m["iec"] and not m["prefix"]):
        raise tc_syntax_error("rate", text, "a number and a unit such as 262144Kbit, 1Gbit or 8bit")
    base = 1024 if m["iec"] else 1000
    bits = round(float(m["num"]) * base ** RATE_PREFIXES.index(m["prefix"]))
    return bits_per_sec_to_bytes(BitsPerSec(bits))


def parse_size(text: str) -> Bytes:
    """A size as tc prints it (``sprint_size``) -> bytes: ``128Mb`` -> 134217728 (tc's ``Kb``
    and ``Mb`` are KiB and MiB), ``1e+06Kb`` -> 1024000000, ``1572b`` -> 1572. A ``/N`` cell
    suffix (``tc -d``: ``128Mb/1``) is ignored."""
    m = _SIZE_RE.match(text.split("/", 1)[0])
    if m is None:
        raise tc_syntax_error("size", text, "a number and a unit such as 1572b, 64Kb or 128Mb")
    count = round(float(m["num"]))
    unit = m["unit"]
    if unit == "b":
        return Bytes(count)
    size = kib_to_bytes(KiB(count)) if unit == "Kb" else kib_to_bytes(
        mib_to_kib(count if unit == "Mb" else count * 1024))
    text = m.group(0)
    if unit != "Kb" or format_size(size) == text:
        return size
    # The KiB count alone can print differently: sprint_size prints a whole MiB (within
    # 1 KiB) as "Mb", so "1024Kb" was 1..16 B *below* 1 MiB; and "%g" keeps six digits, so
    # "4.19328e+06Kb" is a count near 4193280 that is not within 1 KiB of a whole MiB. Take
    # the nearest size that tc prints exactly as given, so format_size(parse_size(t)) == t.
    for delta in (-1, *(k * sign for k in range(1024, 16 * 1024, 1024) for sign in (-1, 1))):
        if format_size(size + delta) == text:
            return Bytes(size + delta)
    return size


def parse_time(text: str) -> int:
    """A time as tc prints it -> microseconds: ``50ms`` -> 50000, ``10sec`` -> 10000000."""
    m = _TIME_RE.match(text)
    if m is None:
        raise tc_syntax_error("time", text, "a number and a unit such as 50ms, 10sec or 800us")
    return round(float(m["num"]) * _TIME_USEC[m["unit"]])


# --- observed values ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObservedQdisc:
    """One ``qdisc`` line (or JSON object). ``handle`` and ``parent`` are spelled as tc prints
    them (``1:``, ``ffff:``; ``root`` or ``1:1``, ``ffff:fff1``)."""

    kind: str
    handle: str
    parent: str
    dev: str | None = None
    refcnt: int | None = None
    rate: BytesPerSec | None = None       # tbf
    peakrate: BytesPerSec | None = None   # tbf
    burst: Bytes | None = None            # tbf
    limit: int | None = None              # packets (pfifo, sfq "127p") or bytes (bfifo, tbf)
    default_class: int | None = None      # htb "default": the minor of the default class
    r2q: int | None = None                # htb
    direct_qlen: int | None = None        # htb (iproute2 >= 4.x)
    options: tuple[tuple[str, str], ...] = ()

    def option(self, key: str) -> str | None:
        return _option(self.options, key)


@dataclass(frozen=True, slots=True)
class ObservedClass:
    """One ``class`` line: for HTB, rate/ceil in B/s and burst/cburst in bytes."""

    kind: str
    classid: str
    parent: str                       # "root" or the parent class id
    dev: str | None = None
    leaf: str | None = None           # the leaf qdisc's handle ("2:")
    prio: int | None = None
    rate: BytesPerSec | None = None
    ceil: BytesPerSec | None = None
    burst: Bytes | None = None
    cburst: Bytes | None = None
    quantum: int | None = None        # only with ``tc -d``
    options: tuple[tuple[str, str], ...] = ()

    def option(self, key: str) -> str | None:
        return _option(self.options, key)


@dataclass(frozen=True, slots=True)
class U32Match:
    """``match VALUE/MASK at OFFSET`` (u32's raw 32-bit key)."""

    value: int
    mask: int
    offset: int

    @property
    def matches_all(self) -> bool:
        return self.mask == 0


@dataclass(frozen=True, slots=True)
class PoliceAction:
    """A policer: u32's legacy ``police`` (libvirt, OVS) or ``action police``."""

    index: int | None = None
    rate: BytesPerSec | None = None
    burst: Bytes | None = None
    mtu: Bytes | None = None
    peakrate: BytesPerSec | None = None
    exceed: str | None = None         # "drop", "reclassify", ...
    overhead: Bytes | None = None
    kind: str = "police"


@dataclass(frozen=True, slots=True)
class MirredAction:
    """``mirred (Egress Redirect to device ifb0) stolen``."""

    direction: str                    # "egress" | "ingress"
    action: str                       # "redirect" | "mirror"
    dev: str
    control: str | None = None        # "stolen", "pipe", ...
    index: int | None = None
    kind: str = "mirred"


@dataclass(frozen=True, slots=True)
class OtherAction:
    """An action this parser does not type; ``text`` is tc's line for it."""

    kind: str
    text: str
    index: int | None = None


ObservedAction = PoliceAction | MirredAction | OtherAction


@dataclass(frozen=True, slots=True)
class ObservedFilter:
    """One ``filter`` line with its continuation lines.

    The kernel dumps a classifier as several nodes: u32 prints a header (no handle), its hash
    table (``fh 800: ht divisor 1``) and then one line per rule (``fh 800::800 ...``); fw a
    header and one line per handle. Each node is one value here; :attr:`is_rule` picks rules.
    """

    kind: str
    protocol: str
    pref: int
    parent: str | None = None         # absent when listed with "parent X" (caller fills it)
    dev: str | None = None
    chain: int | None = None
    handle: str | None = None         # u32 "fh 800::800", fw "handle 0x1"
    flowid: str | None = None         # "flowid"/"classid" as printed (":1", "1:1")
    starred: bool = False             # "*flowid"; the star's meaning changed after 3.10
    terminal: bool = False            # "terminal flowid" (a u32 rule with actions, no class)
    ht_divisor: int | None = None
    order: int | None = None
    matches: tuple[U32Match, ...] = ()
    actions: tuple[ObservedAction, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    unparsed: tuple[str, ...] = ()

    @property
    def is_rule(self) -> bool:
        return self.handle is not None and self.ht_divisor is None

    def option(self, key: str) -> str | None:
        return _option(self.options, key)


@dataclass(frozen=True, slots=True)
class ObservedTc:
    """The four ``show`` outputs of one device, parsed (see :data:`tc_show.SHOW_KINDS`)."""

    dev: str
    qdiscs: tuple[ObservedQdisc, ...] = ()
    classes: tuple[ObservedClass, ...] = ()
    filters: tuple[ObservedFilter, ...] = ()
    ingress_filters: tuple[ObservedFilter, ...] = ()

    def qdisc(self, handle: str) -> ObservedQdisc | None:
        return next((q for q in self.qdiscs if q.handle == handle), None)

    def cls(self, classid: str) -> ObservedClass | None:
        return next((c for c in self.classes if c.classid == classid), None)


def _option(options: tuple[tuple[str, str], ...], key: str) -> str | None:
    return next((v for k, v in options if k == key), None)


def parse_int(value: object) -> int | None:
    """A number as tc prints it (``10``, ``0x1``, ``127p``) or as JSON carries it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise tc_syntax_error("number", str(value), "an integer")
    if isinstance(value, int):
        return value
    text = str(value)
    try:
        return int(text, 16) if text.startswith("0x") else int(text.rstrip("p"))
    except ValueError:
        raise tc_syntax_error("number", text, "an integer") from None


def _limit(value: str | None) -> int | None:
    if value is None:
        return None
    return parse_int(value) if value.endswith("p") or value.isdigit() else parse_size(value)


def build_qdisc(kind: str, handle: str, parent: str, dev: str | None, refcnt: int | None,
                opts: list[tuple[str, str]], *, exact: bool) -> ObservedQdisc:
    get = dict(opts).get
    rate = get("rate")
    peak = get("peakrate")
    burst = get("burst")
    default = get("default")
    return ObservedQdisc(
        kind=kind, handle=handle, parent=parent, dev=dev, refcnt=refcnt,
        rate=None if rate is None else (BytesPerSec(int(rate)) if exact else parse_rate(rate)),
        peakrate=None if peak is None else (BytesPerSec(int(peak)) if exact
                                            else parse_rate(peak)),
        burst=None if burst is None else (Bytes(int(burst)) if exact else parse_size(burst)),
        limit=_limit(get("limit")),
        # 3.10 prints the default minor with %x ("default 1"), 6.1 with %#llx ("0x1").
        default_class=None if default is None else int(default.removeprefix("0x"), 16),
        r2q=parse_int(get("r2q")), direct_qlen=parse_int(get("direct_qlen")),
        options=tuple(opts))
