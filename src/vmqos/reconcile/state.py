"""The host objects vmqos manages, as values: the desired state of a plan and the observed state.

Role: one vocabulary for both sides of a reconcile. A plan (:mod:`vmqos.reconcile.strategy`) builds
these objects from intent; the host layer (:mod:`vmqos.host.tc_observe`, ``cgroupfs``) decodes
the kernel's netlink answers and cgroup files into the very same types; :mod:`vmqos.reconcile.diff`
diffs them. Host words are the kernel's and tc's (qdisc, class, filter, handle, ticks).

Invariants:

* Equality is the kernel's: every compared field is what the kernel keeps and dumps (rates in
  bytes/s, bursts in psched *ticks*, handles in tc's printed form). The ``spec`` field — the
  exact words ``tc ... add dev DEV`` was (or will be) given — is not compared, so libvirt's
  spelling (``131072kb``) and an observed object's canonical spelling (``134217728b``) of the
  same kernel value are equal.
* Every object can render the command that creates it (``add_argv``) and the one that deletes
  it (``del_argv``); arguments never include the leading ``tc``.
* Handles: :func:`tc_handle` parses exactly as iproute2's ``get_tc_classid`` (so libvirt's
  ``flowid 1`` is class ``0:1``, the same as ``:1``), :func:`format_tc_handle` prints as
  ``print_tc_classid``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vmqos.errors import ValidationError
from vmqos.plan.kernel.psched import DEFAULT_PSCHED, Psched, tc_calc_xmittime
from vmqos.units import Bytes, BytesPerSec, Ticks

__all__ = [
    "INGRESS_AUTO_PRIO",
    "TC_ACT_SHOT",
    "CgroupValue",
    "HostState",
    "HtbClass",
    "Link",
    "Police",
    "Redirect",
    "TcFilter",
    "TcObject",
    "TcQdisc",
    "format_tc_handle",
    "size_for_ticks",
    "tc_handle",
    "tc_rate_text",
    "tc_size_text",
]

_U32 = 0xFFFF_FFFF
TC_H_ROOT = 0xFFFF_FFFF
TC_ACT_SHOT = 2            # police "drop": include/uapi/linux/pkt_cls.h TC_ACT_SHOT
# A filter added without `prio` gets the kernel's first automatic priority:
# tcf_auto_prio() = TC_H_MAKE(0xC0000000, 0) >> 16 on an empty chain (libvirt's police filter).
INGRESS_AUTO_PRIO = 0xC000


def tc_handle(text: str) -> int:
    """A handle or class id as iproute2's ``get_tc_classid`` reads it: ``1:1`` -> 0x10001,
    ``1:`` -> 0x10000, ``:1`` and a bare ``1`` -> 0x1, ``root`` -> 0xffffffff."""
    if text == "root":
        return TC_H_ROOT
    if text == "none":
        return 0
    major_text, colon, minor_text = text.partition(":")
    try:
        major = int(major_text, 16) if major_text else 0
        minor = int(minor_text, 16) if minor_text else 0
    except ValueError:
        raise ValidationError(f"not a tc handle: {text!r}", key="handle", value=text,
                              allowed="MAJ:MIN in hexadecimal, e.g. 1:1") from None
    if not colon:
        return major            # get_tc_classid: no colon means the whole 32-bit handle
    if major > 0xFFFF or minor > 0xFFFF:
        raise ValidationError(f"tc handle {text!r} out of range", key="handle", value=text,
                              allowed="each half at most ffff")
    return (major << 16) | minor


def format_tc_handle(value: int) -> str:
    """iproute2's ``print_tc_classid``: 0x10001 -> ``1:1``, 0x10000 -> ``1:``, 1 -> ``:1``."""
    if value == TC_H_ROOT:
        return "root"
    if value == 0:
        return "none"
    major, minor = value >> 16, value & 0xFFFF
    if major == 0:
        return f":{minor:x}"
    if minor == 0:
        return f"{major:x}:"
    return f"{major:x}:{minor:x}"


def tc_rate_text(rate: int) -> str:
    """A rate in bytes/s as tc words: ``32768kbps`` when whole kilobytes (libvirt's spelling),
    else ``NNNbps`` (tc's ``bps`` is bytes per second)."""
    return f"{rate // 1000}kbps" if rate % 1000 == 0 and rate else f"{rate}bps"


def tc_size_text(size: int) -> str:
    """A size in bytes as tc words: ``131072kb`` when whole KiB (tc's ``kb`` is 1024 bytes),
    else ``NNNb``."""
    return f"{size // 1024}kb" if size % 1024 == 0 and size else f"{size}b"


def size_for_ticks(rate: int, ticks: int, psched: Psched) -> int:
    """The smallest size tc turns into ``ticks`` at ``rate`` (the inverse of
    :func:`~vmqos.plan.kernel.psched.tc_calc_xmittime`), so an observed object can be re-created
    with the
    same kernel value. ``tc_calc_xmittime`` is monotone in the size until its u32 arithmetic
    wraps, hence a bisection below that; for a tick count no size reaches, the smallest size
    that reaches at least it."""
    if rate <= 0:
        return 0
    # Monotone only below tc's u32 wrap (a burst of ~274 s of the rate at 15.625 ticks/µs).
    low, high = 0, min(_U32, rate * int(_U32 / psched.tick_in_usec) // 1_000_000)
    while low < high:
        mid = (low + high) // 2
        if tc_calc_xmittime(rate, mid, psched) >= ticks:
            high = mid
        else:
            low = mid + 1
    return low


# --- tc objects ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TcQdisc:
    """A qdisc. ``parent``: ``root``, ``ingress`` or a class id (``1:1``) for a leaf.
    ``options``: the kernel parameters vmqos sets, as sorted (name, value) pairs."""

    dev: str
    parent: str
    handle: str
    kind: str
    options: tuple[tuple[str, int], ...] = ()
    spec: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return ("qdisc", self.dev, self.parent)

    def add_argv(self) -> list[str]:
        return ["qdisc", "add", "dev", self.dev, *(self.spec or self._canonical())]

    def _canonical(self) -> list[str]:
        if self.parent == "ingress":
            return ["ingress"]
        where = ["root"] if self.parent == "root" else ["parent", self.parent]
        words = [*where, "handle", self.handle, self.kind]
        for name, value in self.options:
            # htb reads `default` as hexadecimal (q_htb.c get_u32(..., 16)).
            words += [name, f"{value:x}" if name == "default" else str(value)]
        return words

    def del_argv(self) -> list[str]:
        if self.parent in ("root", "ingress"):
            return ["qdisc", "del", "dev", self.dev, self.parent]
        return ["qdisc", "del", "dev", self.dev, "parent", self.parent, "handle", self.handle]


@dataclass(frozen=True, slots=True)
class HtbClass:
    """An HTB class; ``buffer``/``cbuffer`` are the kernel's ticks (``tc_htb_opt``)."""

    dev: str
    classid: str
    parent: str                 # the qdisc handle (``1:``) for a root-level class
    rate: BytesPerSec
    ceil: BytesPerSec
    buffer: Ticks
    cbuffer: Ticks
    quantum: int
    spec: tuple[str, ...] = field(default=(), compare=False)
    # An observed class has no spec; its words are derived from the ticks when needed (only
    # to re-create it on rollback), with the host's tick parameters.
    psched: Psched | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return ("class", self.dev, self.classid)

    def _words(self) -> tuple[str, ...]:
        if self.spec:
            return self.spec
        psched = self.psched or DEFAULT_PSCHED
        burst = size_for_ticks(self.rate, self.buffer, psched)
        cburst = size_for_ticks(self.ceil, self.cbuffer, psched)
        return ("parent", self.parent, "classid", self.classid, "htb",
                "rate", tc_rate_text(self.rate), "ceil", tc_rate_text(self.ceil),
                "burst", tc_size_text(burst), "cburst", tc_size_text(cburst),
                "quantum", str(self.quantum))

    @classmethod
    def build(cls, dev: str, classid: str, parent: str, *, rate: BytesPerSec,
              ceil: BytesPerSec, burst: Bytes, cburst: Bytes, quantum: int, psched: Psched,
              spec: tuple[str, ...] = ()) -> HtbClass:
        """A class from sizes in bytes, with the ticks tc will compute for them
        (q_htb.c: ``opt.buffer = tc_calc_xmittime(rate, buffer)``)."""
        if not spec:
            spec = ("parent", parent, "classid", classid, "htb", "rate", tc_rate_text(rate),
                    "ceil", tc_rate_text(ceil), "burst", tc_size_text(burst),
                    "cburst", tc_size_text(cburst), "quantum", str(quantum))
        return cls(dev, classid, parent, rate, ceil, tc_calc_xmittime(rate, burst, psched),
                   tc_calc_xmittime(ceil, cburst, psched), quantum, spec)

    def add_argv(self) -> list[str]:
        return ["class", "add", "dev", self.dev, *self._words()]

    def change_argv(self) -> list[str]:
        return ["class", "change", "dev", self.dev, *self._words()]

    def del_argv(self) -> list[str]:
        return ["class", "del", "dev", self.dev, "classid", self.classid]


@dataclass(frozen=True, slots=True)
class Police:
    """A police action as the kernel keeps it (``struct tc_police``)."""

    rate: BytesPerSec
    buffer: Ticks
    mtu: Bytes
    action: int = TC_ACT_SHOT   # what exceeding packets get
    burst: int = field(default=-1, compare=False)  # bytes asked for; -1: derive from buffer
    psched: Psched | None = field(default=None, compare=False)

    def burst_bytes(self) -> int:
        if self.burst >= 0:
            return self.burst
        return size_for_ticks(self.rate, self.buffer, self.psched or DEFAULT_PSCHED)


@dataclass(frozen=True, slots=True)
class Redirect:
    """A ``mirred egress redirect`` to a device."""

    to_dev: str


@dataclass(frozen=True, slots=True)
class TcFilter:
    """A filter at one (parent, prio). ``match_all``: a u32 ``match u32 0 0`` selector (the
    only selector vmqos writes); ``handle`` is compared for fw (the mark) only."""

    dev: str
    parent: str                 # "ffff:" (ingress) or "1:"
    prio: int
    kind: str                   # u32, fw, matchall
    protocol: str = "all"
    handle: int | None = None
    classid: int | None = None  # the flowid, raw (see tc_handle)
    match_all: bool = True
    action: Police | Redirect | None = None
    spec: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return ("filter", self.dev, f"{self.parent} prio {self.prio}")

    def add_argv(self) -> list[str]:
        return ["filter", "add", "dev", self.dev, *(self.spec or self._canonical())]

    def _canonical(self) -> list[str]:
        words = ["parent", self.parent, "protocol", self.protocol, "prio", str(self.prio)]
        if self.handle is not None:
            words += ["handle", str(self.handle)]
        words.append(self.kind)
        if self.kind == "u32":
            words += ["match", "u32", "0", "0"]
        action = self.action
        if isinstance(action, Police):
            words += ["police", "rate", tc_rate_text(action.rate),
                      "burst", tc_size_text(action.burst_bytes()), "mtu", tc_size_text(action.mtu),
                      "drop" if action.action == TC_ACT_SHOT else "continue"]
        elif isinstance(action, Redirect):
            words += ["action", "mirred", "egress", "redirect", "dev", action.to_dev]
        if self.classid is not None:
            words += ["flowid", format_tc_handle(self.classid)]
        return words

    def del_argv(self) -> list[str]:
        return ["filter", "del", "dev", self.dev, "parent", self.parent,
                "protocol", self.protocol, "prio", str(self.prio)]


TcObject = TcQdisc | HtbClass | TcFilter


# --- links and cgroup files ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """A network device vmqos may create (an IFB) or needs (a tap), and whether it is up."""

    name: str
    kind: str
    up: bool = True


@dataclass(frozen=True, slots=True)
class CgroupValue:
    """One cgroup file's value as read back (canonical: see :mod:`vmqos.reconcile.diff`).

    For the per-device files (``blkio.throttle.*_device``, ``io.max``) the value is the line
    for one device (``7:3 1024000``), or ``""`` for no limit on it; ``device`` names it."""

    dir: str
    file: str
    value: str
    device: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.dir, self.file)


@dataclass(frozen=True, slots=True)
class HostState:
    """The managed objects of one instance: links that exist, tc objects on its devices,
    cgroup file values. Order of ``tc`` is creation order (parents first)."""

    links: tuple[Link, ...] = ()
    tc: tuple[TcObject, ...] = ()
    cgroup: tuple[CgroupValue, ...] = ()
