"""How to enforce one port's bandwidth on *this* host: libvirt's program, or an equivalent one.

Role: pure. Given libvirt's ``<bandwidth>`` for a tap (or, per direction, the limit another
enforcer would apply — a Neutron agent's OVS policing, say) and the :class:`HostFacts` of the
host, :func:`compile_host_tc` returns the tc objects to create and every departure from
libvirt's program, each as a :class:`Substitution` with a sentence for people.

Strategy (libvirt virNetDevBandwidthSet; observed: kernel 6.18 here lacks sfq, fw, police):

* Where the kernel offers ``htb``, ``sfq``, ``fw``, ``u32`` and ``police``
  (:attr:`HostFacts.runs_libvirt_tc`): libvirt's own program
  (:func:`vmqos.plan.render.tc.compile_libvirt_tc`), word for word — tc's default burst and
  cburst where libvirt gives none, as on a libvirt host. Measured in the reference node
  (vmqos.node, Debian's kernel 6.1; tests/node): the seed's HTB class unchanged reaches its
  ceil in the burst window and its rate after it, within the lab's tolerances.
* No ``fw``: the filter is left out. HTB's ``default 1`` already sends every packet to class
  1:1 — and libvirt's ``flowid 1`` names class ``0:1`` (iproute2 reads a bare number as the
  whole handle), which htb_classify() does not find, so it falls back to the default anyway.
* No ``sfq``: a ``pfifo limit 127`` leaf (127 packets is sfq's own queue limit). The class's
  rate and burst are unchanged; only sfq's fairness between flows inside the class is lost.
* No ``police``: VM-outbound traffic (the tap's host ingress) is redirected by a u32
  match-all filter with ``mirred egress redirect`` to an IFB, and shaped there by an HTB class
  with the policer's rate and burst. A shaper queues where a policer drops, so TCP reaches the
  rate more smoothly; the long-run limit is the same.

Explicit bursts, in the equivalent program only: tc's default HTB burst is ``rate/HZ + 1600``
bytes, and HZ is 10^9 on a high-resolution-timer kernel, so the default is about one MTU —
which collapses TCP at high rates (observed here: 10 Gbit HTB gave TCP 78 % with tc's default
burst). Every HTB class of the equivalent program therefore gets an explicit ``burst`` and
``cburst``; a burst the intent does not give is derived by :func:`derive_burst` and reported.

Invariants: the objects are in creation order (links first, then per device qdisc, class,
leaf, filter); IFB names depend only on the tap name (:func:`ifb_name`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from vmqos.errors import UnsupportedError
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer
from vmqos.plan.kernel.burst import tcp_burst_floor
from vmqos.plan.kernel.ethernet import ETH_HEADER
from vmqos.plan.kernel.psched import (
    Psched,
    htb_buffer_roundtrip,
    htb_default_buffer,
    tc_calc_xmitsize,
    tc_calc_xmittime,
)
from vmqos.plan.predict import Curve, limit_buckets, predict_tcp
from vmqos.plan.render.bandwidth_sides import (
    POLICE_MTU,
    htb_side,
    police_burst,
    police_side,
    shaped_direction,
)
from vmqos.plan.render.tc import htb_class_params, quantum, validate_bandwidth
from vmqos.reconcile.facts import HostFacts
from vmqos.reconcile.state import (
    INGRESS_AUTO_PRIO,
    TC_ACT_SHOT,
    HtbClass,
    Link,
    Police,
    Redirect,
    TcFilter,
    TcObject,
    TcQdisc,
    tc_rate_text,
    tc_size_text,
)
from vmqos.units import (
    BitsPerSec,
    Bytes,
    BytesPerSec,
    bits_per_sec_to_bytes,
    format_bits_per_sec,
    kbytes_per_sec_to_bits,
    kib_to_bytes,
)

__all__ = [
    "PFIFO_LIMIT",
    "HostTcPlan",
    "SideSpec",
    "Substitution",
    "TcStrategy",
    "compile_host_tc",
    "derive_burst",
    "ifb_name",
]

_U32 = 0xFFFF_FFFF
# sfq's default queue limit (net/sched/sch_sfq.c SFQ_MAX_DEPTH + 1 = 128 slots, limit 127).
PFIFO_LIMIT = 127


class TcStrategy(StrEnum):
    """How a tap's plan relates to libvirt's program."""

    LIBVIRT_EXACT = "libvirt-exact"  # libvirt's program word for word
    EQUIVALENT = "equivalent"        # another program with the same limits (substitutions)
    NONE = "none"                    # nothing to install


@dataclass(frozen=True, slots=True)
class Substitution:
    """One place where what vmqos does on this host departs from the reference program.

    ``code`` is stable for scripts (``pfifo-for-sfq``, ``burst-derived`` ...); ``subject`` the
    device or cgroup it concerns; ``text`` one sentence for people."""

    code: str
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class SideSpec:
    """One VM direction's limit to enforce, in a :class:`~vmqos.limits.Limit`'s units, so a
    limit passes through unconverted; the kernel's B/s is :attr:`kernel_rate`. ``libvirt`` is
    set when it is a side of libvirt's ``<bandwidth>`` (whose exact words are then reused)."""

    direction: Direction
    rate: BitsPerSec
    peak: BitsPerSec | None
    burst: Bytes | None             # None: the intent gives none
    source: str
    libvirt: BandwidthSide | None = None

    @property
    def kernel_rate(self) -> BytesPerSec:
        """The rate as tc and the kernel keep it (``tc_ratespec.rate``)."""
        return bits_per_sec_to_bytes(self.rate)


@dataclass(frozen=True, slots=True)
class HostTcPlan:
    """Everything vmqos sets up for one tap: links (an IFB), tc objects, what it enforces."""

    dev: str
    ifb: str | None
    links: tuple[Link, ...]
    objects: tuple[TcObject, ...]
    enforced: tuple[Limit, ...]
    substitutions: tuple[Substitution, ...]
    strategy: TcStrategy

    def cburst(self, limit: Limit, psched: Psched) -> Bytes | None:
        """The ceil bucket, in the bytes the kernel keeps, of the HTB class this plan installs
        for ``limit`` (on the tap, or on its IFB); ``None`` when ``limit`` is no HTB class of
        this plan. A :class:`~vmqos.limits.Limit` carries no cburst: libvirt never sets one,
        and this plan sets its own (:meth:`_Builder.htb_tree`)."""
        kind = limit.mechanism.kind
        if kind is MechanismKind.TC_HTB_ON_IFB:
            dev = str(limit.mechanism.detail[0])
        elif kind is MechanismKind.TC_HTB:
            dev = limit.device
        else:
            return None
        for obj in self.objects:
            if isinstance(obj, HtbClass) and obj.dev == dev:
                return tc_calc_xmitsize(obj.ceil, obj.cbuffer, psched)
        return None

    def predict_tcp(self, direction: Direction, psched: Psched, *, mtu: int = 1500,
                    line_rate: BitsPerSec | None = None) -> Curve | None:
        """Bulk TCP goodput through every layer this plan enforces in ``direction`` (in
        series, with the cbursts it installs); ``None`` when none caps the rate."""
        acting = [x for x in self.enforced if x.direction is direction and x.rate]
        if not acting:
            return None
        return predict_tcp([b for x in acting for b in limit_buckets(
            x, cburst=self.cburst(x, psched), psched=psched)], mtu=mtu, line_rate=line_rate)


def ifb_name(dev: str) -> str:
    """The IFB that carries ``dev``'s host-ingress shaping: ``vmqos`` + 10 hex digits of a hash
    of the tap name — exactly IFNAMSIZ - 1 = 15 characters, the same on every run, and with
    the vmqos prefix that marks every object vmqos creates."""
    return "vmqos" + hashlib.sha256(dev.encode()).hexdigest()[:10]


def derive_burst(rate: int, mtu: int) -> Bytes:
    """The burst vmqos sets when the intent gives none, in bytes: the bucket TCP needs
    (:func:`~vmqos.plan.kernel.burst.tcp_burst_floor`), within tc's 32-bit byte count."""
    return Bytes(min(tcp_burst_floor(BytesPerSec(rate), Bytes(mtu)), _U32))


def _sub(code: str, subject: str, text: str) -> Substitution:
    return Substitution(code, subject, text)


def _libvirt_spec(side: BandwidthSide, direction: Direction, source: str) -> SideSpec:
    return SideSpec(
        direction=direction,
        rate=kbytes_per_sec_to_bits(side.average),
        peak=kbytes_per_sec_to_bits(side.peak) if side.peak else None,
        burst=kib_to_bytes(side.burst) if side.burst else None,
        source=source, libvirt=side)


def _limit_spec(limit: Limit, direction: Direction) -> SideSpec | None:
    if limit.rate is None:
        return None
    return SideSpec(direction=direction, rate=limit.rate, peak=limit.peak, burst=limit.burst,
                    source=limit.source)


@dataclass
class _Builder:
    dev: str
    facts: HostFacts
    mtu: int
    psched: Psched
    links: list[Link]
    objects: list[TcObject]
    enforced: list[Limit]
    subs: list[Substitution]
    enforcer: Enforcer

    def need(self, what: str, kind: str, *, for_what: str) -> None:
        if kind not in getattr(self.facts, what):
            raise UnsupportedError(
                f"{self.dev}: this host's kernel offers no {kind!r} "
                f"({what[:-1]}), which {for_what} needs; vmqos has no equivalent without it")

    def htb_tree(self, dev: str, spec: SideSpec, *, ceil: BitsPerSec | None, where: str,
                 with_fw: bool) -> int:
        """Root HTB qdisc, class 1:1 and its leaf on ``dev``; returns the kernel's burst."""
        rate = spec.kernel_rate
        self.need("qdiscs", "htb", for_what=f"shaping {spec.direction.value} traffic")
        self.objects.append(TcQdisc(dev, "root", "1:", "htb", (("default", 1),),
                                    ("root", "handle", "1:", "htb", "default", "1")))
        side = spec.libvirt
        if side is not None and self.facts.runs_libvirt_tc:
            return self.libvirt_htb_class(dev, spec, side, with_fw=with_fw)
        burst = spec.burst
        if burst is None:
            burst = derive_burst(rate, self.mtu)
            default = htb_buffer_roundtrip(
                rate, htb_default_buffer(rate, self.psched), self.psched)
            self.subs.append(_sub("burst-derived", where, (
                f"burst derived: the intent gives none for {spec.direction.value} traffic, so "
                f"vmqos sets {burst} B (10 ms at {format_bits_per_sec(spec.rate)}, at least two "
                f"{self.mtu + ETH_HEADER}-byte frames) instead of tc's default rate/HZ + "
                f"1600 B ({default} B here, about one MTU), which collapses TCP")))
        top = ceil or spec.rate
        top_rate = bits_per_sec_to_bytes(top)
        if ceil:
            cburst = derive_burst(top_rate, self.mtu)
            self.subs.append(_sub("cburst-derived", where, (
                f"cburst set to {cburst} B (10 ms at the ceiling {format_bits_per_sec(top)}) "
                "instead of tc's default of about one MTU; the ceiling still caps the burst's "
                "speed")))
        else:
            # Without a peak the ceiling is the rate, and HTB sends only while *both* buckets
            # hold tokens: tc's default cburst (about one MTU) would cap every burst at one
            # frame. cburst = burst makes the class a plain token bucket of that size.
            cburst = burst
            self.subs.append(_sub("cburst-is-burst", where, (
                f"no peak: cburst set to the burst ({burst} B), so the burst really passes; "
                "tc's default cburst of about one MTU would cap it at one frame")))
        if side is not None:
            # libvirt's words (virNetDevBandwidthSet), cburst inserted after its burst.
            words = ["parent", "1:", "classid", "1:1", "htb", "rate", f"{side.average}kbps"]
            if side.peak:
                words += ["ceil", f"{side.peak}kbps"]
            words += ["burst", f"{side.burst}kb" if side.burst else tc_size_text(burst),
                      "cburst", tc_size_text(cburst), "quantum", str(quantum(side.average))]
            q = quantum(side.average)
        else:
            # One full frame per round: a single class needs no DRR fairness, and an explicit
            # quantum avoids sch_htb's "quantum of class is big" at high rates (Linux
            # net/sched/sch_htb.c htb_change_class).
            q = self.mtu + ETH_HEADER
            words = ["parent", "1:", "classid", "1:1", "htb", "rate", tc_rate_text(rate)]
            if ceil:
                words += ["ceil", tc_rate_text(bits_per_sec_to_bytes(ceil))]
            words += ["burst", tc_size_text(burst), "cburst", tc_size_text(cburst),
                      "quantum", str(q)]
        self.objects.append(HtbClass(
            dev, "1:1", "1:", rate, top_rate, tc_calc_xmittime(rate, burst, self.psched),
            tc_calc_xmittime(top_rate, cburst, self.psched), q, tuple(words)))
        self.leaf_and_filter(dev, where, with_fw=with_fw)
        return htb_buffer_roundtrip(rate, burst, self.psched)

    def libvirt_htb_class(self, dev: str, spec: SideSpec, side: BandwidthSide, *,
                          with_fw: bool) -> int:
        """libvirt's class 1:1 word for word: its burst, or tc's default (rate/HZ + 1600 B)
        when it gives none, and always tc's default cburst — what a libvirt host runs."""
        rate = spec.kernel_rate
        top_rate = bits_per_sec_to_bytes(spec.peak or spec.rate)
        burst = kib_to_bytes(side.burst) if side.burst else htb_default_buffer(rate, self.psched)
        cburst = htb_default_buffer(top_rate, self.psched)
        self.objects.append(HtbClass(
            dev, "1:1", "1:", rate, top_rate, tc_calc_xmittime(rate, burst, self.psched),
            tc_calc_xmittime(top_rate, cburst, self.psched), quantum(side.average),
            ("parent", "1:", "classid", "1:1", "htb", *htb_class_params(side))))
        self.leaf_and_filter(dev, dev, with_fw=with_fw)
        return htb_buffer_roundtrip(rate, burst, self.psched)

    def leaf_and_filter(self, dev: str, where: str, *, with_fw: bool) -> None:
        """Class 1:1's leaf (sfq, else pfifo) and libvirt's fw filter (if the kernel has it)."""
        if "sfq" in self.facts.qdiscs:
            self.objects.append(TcQdisc(dev, "1:1", "2:", "sfq", (("perturb", 10),),
                                        ("parent", "1:1", "handle", "2:", "sfq", "perturb", "10")))
        else:
            self.need("qdiscs", "pfifo", for_what="a leaf queue when sfq is missing")
            self.objects.append(TcQdisc(dev, "1:1", "2:", "pfifo", (("limit", PFIFO_LIMIT),)))
            self.subs.append(_sub("pfifo-for-sfq", where, (
                f"no sfq qdisc on this kernel: class 1:1 gets a pfifo leaf of {PFIFO_LIMIT} "
                "packets (sfq's own limit); the rate and burst are unchanged, only sfq's "
                "fairness between flows inside the class is lost")))
        if with_fw:
            if "fw" in self.facts.classifiers:
                self.objects.append(TcFilter(
                    dev, "1:", 1, "fw", handle=1, classid=0x1, match_all=False,
                    spec=("parent", "1:0", "protocol", "all", "prio", "1", "handle", "1", "fw",
                          "flowid", "1")))
            else:
                self.subs.append(_sub("htb-default-for-fw", where, (
                    "no fw classifier on this kernel: libvirt's `fw` filter is left out; "
                    "HTB's `default 1` already sends every packet to class 1:1 (libvirt's "
                    "`flowid 1` is class 0:1, which HTB does not find, so it falls back to "
                    "the default class anyway)")))

    def shaped(self, spec: SideSpec) -> None:
        burst = self.htb_tree(self.dev, spec, ceil=spec.peak, where=self.dev, with_fw=True)
        self.enforced.append(Limit(
            enforcer=self.enforcer, direction=spec.direction, device=self.dev,
            mechanism=Mechanism(MechanismKind.TC_HTB), source=spec.source,
            rate=spec.rate, burst=Bytes(burst), peak=spec.peak or None))

    def policed(self, spec: SideSpec) -> str | None:
        """The host-ingress side: libvirt's u32 police, or IFB + mirred + HTB. Returns the
        IFB's name when one is used."""
        rate = spec.kernel_rate
        self.need("qdiscs", "ingress", for_what=f"limiting {spec.direction.value} traffic")
        side = spec.libvirt
        burst = kib_to_bytes(police_burst(side)) if side is not None else spec.burst
        if burst is None:
            burst = derive_burst(rate, self.mtu)
            self.subs.append(_sub("burst-derived", self.dev, (
                f"burst derived: the intent gives none for {spec.direction.value} traffic, so "
                f"vmqos sets {burst} B (10 ms at {format_bits_per_sec(spec.rate)}, at least two "
                "full frames); a policer with about one MTU of burst starves TCP")))
        if spec.peak:
            self.subs.append(_sub("peak-ignored", self.dev, (
                f"{spec.direction.value} peak {format_bits_per_sec(spec.peak)} ignored, as libvirt "
                "does: its ingress policer has no peak")))
        self.objects.append(TcQdisc(self.dev, "ingress", "ffff:", "ingress", (), ("ingress",)))
        police_ok = "police" in self.facts.actions and "u32" in self.facts.classifiers
        if police_ok:
            words = ["parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
                     "police", "rate",
                     f"{side.average}kbps" if side is not None else tc_rate_text(rate),
                     "burst", tc_size_text(burst), "mtu", "64kb", "drop", "flowid", ":1"]
            self.objects.append(TcFilter(
                self.dev, "ffff:", INGRESS_AUTO_PRIO, "u32", classid=0x1,
                action=Police(rate, tc_calc_xmittime(rate, burst, self.psched),
                              POLICE_MTU, TC_ACT_SHOT, burst),
                spec=tuple(words)))
            self.enforced.append(Limit(
                enforcer=self.enforcer, direction=spec.direction, device=self.dev,
                mechanism=Mechanism(MechanismKind.TC_POLICE), source=spec.source,
                rate=spec.rate, burst=Bytes(htb_buffer_roundtrip(rate, burst, self.psched))))
            return None
        self.need("link_kinds", "ifb", for_what="shaping host-ingress traffic without police")
        self.need("actions", "mirred", for_what="redirecting host-ingress traffic to an IFB")
        self.need("classifiers", "u32", for_what="matching all host-ingress traffic")
        ifb = ifb_name(self.dev)
        self.links.append(Link(ifb, "ifb", True))
        self.objects.append(TcFilter(
            self.dev, "ffff:", 1, "u32", action=Redirect(ifb),
            spec=("parent", "ffff:", "protocol", "all", "prio", "1", "u32", "match", "u32",
                  "0", "0", "action", "mirred", "egress", "redirect", "dev", ifb)))
        self.subs.append(_sub("ifb-for-police", self.dev, (
            f"no police action on this kernel: {spec.direction.value} traffic (host ingress on "
            f"{self.dev}) is redirected by u32 + mirred to IFB {ifb} and shaped there by an "
            f"HTB class at the policer's {format_bits_per_sec(spec.rate)} and {burst} B burst; a "
            "shaper queues where a policer drops, so TCP reaches the rate more smoothly")))
        shaper = SideSpec(spec.direction, spec.rate, None, Bytes(burst), spec.source)
        kept = self.htb_tree(ifb, shaper, ceil=None, where=ifb, with_fw=False)
        self.enforced.append(Limit(
            enforcer=self.enforcer, direction=spec.direction, device=self.dev,
            mechanism=Mechanism(MechanismKind.TC_HTB_ON_IFB, (ifb,)), source=spec.source,
            rate=spec.rate, burst=Bytes(kept)))
        return ifb


def compile_host_tc(
    dev: str,
    bandwidth: Bandwidth | None,
    facts: HostFacts,
    *,
    swapped: bool,
    mtu: int = 1500,
    overrides: Mapping[Direction, Limit | None] | None = None,
    source: str = "libvirt <bandwidth>",
) -> HostTcPlan:
    """The tc objects that enforce ``bandwidth`` on ``dev`` with what ``facts`` offers.

    ``swapped`` is libvirt's flag (true for taps): the HTB side is then the VM's inbound.
    ``overrides`` replaces a direction's libvirt side by the limit another enforcer applies
    (a Neutron agent's: the last writer of the same host object, see vmqos.plan.enforcement), or
    by ``None`` for "not limited".
    """
    if bandwidth is not None:
        validate_bandwidth(bandwidth)
    overrides = overrides or {}
    enforcer = Enforcer.TC_TAP if swapped else Enforcer.TC_MACVTAP
    build = _Builder(dev, facts, mtu, facts.psched, [], [], [], [], enforcer)
    shaped_dir = shaped_direction(swapped=swapped)
    policed_dir = shaped_direction(swapped=not swapped)
    specs: dict[Direction, SideSpec | None] = {}
    for direction in (shaped_dir, policed_dir):
        if direction in overrides:
            limit = overrides[direction]
            specs[direction] = None if limit is None else _limit_spec(limit, direction)
            continue
        libvirt_side = None
        if bandwidth is not None:
            # libvirt's own choice of sides (htb_side tests `average`, police_side does not);
            # the side as written is kept to say why an average of 0 installs nothing.
            libvirt_side = (htb_side(bandwidth, swapped=swapped) or bandwidth.side(direction)
                            if direction is shaped_dir
                            else police_side(bandwidth, swapped=swapped))
        if libvirt_side is not None and not libvirt_side.average:
            # average 0: libvirt installs no HTB; its police would have no rate and only drop
            # packets over 64 KiB. Either way the rate is not limited.
            build.subs.append(_sub("average-zero", dev, (
                f"{direction.value} average 0: not rate-limited (libvirt installs no htb, "
                "and a police without a rate only drops packets over 64 KiB); vmqos installs "
                "nothing for it")))
            libvirt_side = None
        specs[direction] = (None if libvirt_side is None
                            else _libvirt_spec(libvirt_side, direction, source))
    ifb = None
    shaped_spec, policed_spec = specs[shaped_dir], specs[policed_dir]
    if shaped_spec is not None:
        build.shaped(shaped_spec)
    if policed_spec is not None:
        ifb = build.policed(policed_spec)
    # Explicit bursts and libvirt's own omissions do not change the program's shape.
    departures = {s.code for s in build.subs} - {"burst-derived", "cburst-derived",
                                                  "cburst-is-burst", "peak-ignored",
                                                  "average-zero"}
    strategy = (TcStrategy.NONE if not build.objects
                else TcStrategy.EQUIVALENT if departures or overrides
                else TcStrategy.LIBVIRT_EXACT)
    return HostTcPlan(dev=dev, ifb=ifb, links=tuple(build.links), objects=tuple(build.objects),
                      enforced=tuple(build.enforced), substitutions=tuple(build.subs),
                      strategy=strategy)

