"""Predicted curves: what a limit will let through over time, computed before measuring.

Role: pure. Every limit vmqos plans is a set of token buckets in series; this module drains
them in a fluid model and returns the :class:`Curve` a greedy sender sees — bulk TCP through a
port direction, direct I/O through a QEMU-throttled disk — and the share of one CPU each of a
set of cgroups gets. ``vmqos explain --predict`` prints it and ``vmqos lab`` draws it beside
the measured series (:func:`vmqos.verify.judge.deviation` says by how much they differ).

The fluid model. A bucket of ``size`` units refills at ``rate`` units/s and may not go below
empty; a sender offers as much as the line carries (``line``; ``None`` = unbounded). At every
moment the sending rate is ``x = min(line, rate of every empty bucket)``; a full or partly
full bucket with ``rate < x`` drains at ``x − rate`` and empties after ``level / (x − rate)``
seconds, when ``x`` drops to its rate. With an unbounded line and no empty bucket, the
smallest bucket's content passes at once (a phase of duration 0). The result is a handful of
:class:`Phase`\\ s — at most one per bucket, plus the open-ended last one at the slowest rate.

**Network** (:func:`limit_buckets`). A :class:`~vmqos.limits.Limit` carries the kernel's rate
and burst after tc's rounding (:mod:`vmqos.plan.kernel.psched`), so the buckets are:

* HTB (Linux net/sched/sch_htb.c): a class sends while both its rate bucket (``rate``,
  ``burst``) and its ceil bucket (``ceil``, ``cburst``) hold tokens, and a root class — libvirt
  makes ``1:1`` one — never borrows, so the pair is two buckets in series. libvirt passes no
  ``cburst`` (virNetDevBandwidthSet): tc's default ``ceil / HZ + 1600`` B applies
  (:func:`~vmqos.plan.kernel.psched.htb_default_buffer`, ~1600 B at HZ 10^9); a caller that
  installs its own (the sandbox) passes it. Open vSwitch's linux-htb queues build both
  buffers from the one ``burst`` (lib/netdev-linux.c ``htb_setup_class``).
* A policer (act_police), TBF, an OVS/OVN meter, a VF rate: one bucket (``rate``, ``burst``)
  drained at the line rate. A policer drops where a shaper queues: TCP reaches the fluid
  curve only when the burst covers its window (explain's ``burst-too-small-for-tcp``).

The qdisc counts frames (``skb->len``, the Ethernet header included) while TCP delivers
payload, so each phase's goodput is its frame rate × ``tcp_goodput_factor`` (1448/1514 at MTU
1500, :mod:`vmqos.plan.kernel.ethernet`). The seed's inbound limit (``quota:vif_inbound_average
=32768``, ``peak=65536``, ``burst=131072``) is HTB rate 32 768 000 B/s, ceil 65 536 000 B/s, a
burst the kernel keeps exactly (134 217 728 B = 64 000 000 ticks at 15.625 ticks/µs, read back
unchanged) and tc's default cburst, 1572 B (1600 B is 24.4 µs at the ceil, which tc truncates
to 24 µs). The cburst passes at once; then the rate bucket drains at ceil − rate for
(134 217 728 − 1572) / 32 768 000 = 4.096 s at 524.288 Mbit/s × 1448/1514 =
501.4 Mbit/s of goodput; then 262.144 × 1448/1514 = 250.7 Mbit/s. 1 GiB takes 30.2 s. (Issue 9
quotes 250.6 Mbit/s: that is 262.144 × 0.956, the factor rounded to three digits; the exact
factor gives 250.7.) Slow start and the sawtooth are not modelled: TCP on a short-RTT path
fills a bucket within milliseconds.

**Disk** (:func:`qemu_buckets`, QEMU util/throttle.c). Each of QEMU's six buckets (bytes and
operations; total, read, write) has ``avg``, ``max`` and ``burst_length``. A request waits
while the bucket's ``level`` exceeds ``max × burst_length`` (``throttle_compute_wait``), and
the level leaks at ``avg`` (``throttle_leak_bucket``); without ``max``, ``throttle_fix_bucket``
sets ``max = avg / 10`` — QEMU's own burst of a tenth of a second. With ``burst_length > 1`` a
second level leaks at ``max`` and may hold ``max / 10`` (the burst rate is ``max``); with
``burst_length`` 1 nothing bounds the burst's speed but the device. So a bucket is
(``avg``, ``max × burst_length``), plus (``max``, ``max / 10``) when ``burst_length > 1``; a
read passes the total and the read bucket of its unit, in series (``throttle_compute_wait_for``
takes the longest wait). QEMU checks before it accounts, so one request may overshoot a
bucket: the model ignores that one request.

The sandbox lab throttles its loop device with the cgroup I/O controller instead of QEMU:
:func:`predict_blk_throttle`.

**CPU**: CFS gives sibling groups that compete for one CPU time in proportion to their
``cpu.shares`` / ``cpu.weight`` (:func:`predict_cpu_shares`).

Units: buckets and curves count bytes (frames or payload) or I/O operations; rates are per
second; times are :data:`~vmqos.units.Duration`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vmqos.errors import ValidationError
from vmqos.libvirt_types import IOTUNE_BUCKETS
from vmqos.limits import Limit
from vmqos.mechanism import MechanismKind
from vmqos.plan.kernel.ethernet import tcp_goodput_factor
from vmqos.plan.kernel.psched import (
    DEFAULT_PSCHED,
    Psched,
    htb_buffer_roundtrip,
    htb_default_buffer,
)
from vmqos.units import (
    BitsPerSec,
    Bytes,
    Duration,
    bits_per_sec_to_bytes,
    format_bytes,
)

__all__ = [
    "Bucket",
    "Curve",
    "DiskOp",
    "DiskUnit",
    "Phase",
    "describe_transfer",
    "drain_buckets",
    "format_rate",
    "limit_buckets",
    "parse_size",
    "predict_blk_throttle",
    "predict_cpu_shares",
    "predict_disk",
    "predict_tcp",
    "qemu_buckets",
]

# Buckets an HTB class is made of (rate + ceil); the rest are one bucket each.
_HTB_TC = frozenset({MechanismKind.TC_HTB, MechanismKind.TC_HTB_ON_IFB})
_HTB_OVS = frozenset({MechanismKind.LIBVIRT_OVS_QUEUE, MechanismKind.OVS_HTB_QUEUE,
                      MechanismKind.OVN_LSP_OPTIONS})
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Bucket:
    """A token bucket: refills at ``rate`` units/s up to ``size`` units; ``name`` says which
    (``htb rate``, ``htb ceil``, ``bps_rd``...) and what it holds, for people."""

    rate: float
    size: float
    name: str


@dataclass(frozen=True, slots=True)
class Phase:
    """One stretch of a curve: from ``start`` for ``duration`` seconds (``None``: for ever) at
    ``rate`` units/s — or, with ``rate`` ``None``, ``amount`` units at once (duration 0).
    ``ends`` is the bucket whose emptying ends it."""

    start: Duration
    duration: Duration | None
    rate: float | None
    amount: float
    ends: Bucket | None = None


@dataclass(frozen=True, slots=True)
class Curve:
    """A predicted throughput over time, in ``unit`` per second (``B``: payload bytes, ``IO``:
    operations)."""

    unit: str
    phases: tuple[Phase, ...]

    @property
    def steady(self) -> float:
        """The rate for ever after the bursts."""
        return self.phases[-1].rate or 0.0

    @property
    def burst_window(self) -> Duration:
        """Seconds until the steady rate is reached."""
        return self.phases[-1].start

    @property
    def burst_rate(self) -> float | None:
        """The rate of the longest timed burst phase, if any."""
        timed = [p for p in self.phases[:-1] if p.rate is not None and p.duration]
        return max(timed, key=lambda p: p.duration or 0.0).rate if timed else None

    def amount_by(self, t: float) -> float:
        """Units delivered in ``[0, t]`` (an at-once phase counts from its start)."""
        total = 0.0
        for p in self.phases:
            if p.start > t:
                break
            if p.rate is None:
                total += p.amount
            else:
                end = t if p.duration is None else min(t, p.start + p.duration)
                total += p.rate * (end - p.start)
        return total

    def mean_between(self, start: float, end: float) -> float:
        """The mean rate over ``[start, end)``: what an interval of a measurement shows."""
        if end <= start:
            return 0.0
        before = self.amount_by(start) if start > 0 else 0.0
        return (self.amount_by(end) - before) / (end - start)

    def time_for(self, amount: float) -> Duration:
        """Seconds until ``amount`` units have passed (``inf`` if the rate is 0)."""
        done = 0.0
        for p in self.phases:
            if p.rate is None:
                done += p.amount
                if done >= amount:
                    return p.start
                continue
            room = math.inf if p.duration is None else p.rate * p.duration
            if done + room >= amount:
                return Duration(p.start + (amount - done) / p.rate if p.rate else math.inf)
            done += room
        return Duration(math.inf)


def drain_buckets(buckets: Sequence[Bucket], line: float | None = None) -> tuple[Phase, ...]:
    """Drain ``buckets`` in series, full at the start, with a greedy sender at ``line``
    units/s (``None``: unbounded); see the module docstring."""
    if line is not None and line <= 0:
        raise ValidationError(f"the line rate must be positive, got {line}", key="line_rate",
                              value=line, allowed="a positive rate, or none for unbounded")
    levels = [max(b.size, 0.0) for b in buckets]
    phases: list[Phase] = []
    t = 0.0
    while True:
        empty = [b.rate for b, lv in zip(buckets, levels, strict=True) if lv <= _EPS]
        x = min([line if line is not None else math.inf, *empty])
        if math.isinf(x):
            # Unbounded line, nothing empty: the smallest bucket's content passes at once.
            i = min(range(len(buckets)), key=lambda k: levels[k]) if buckets else -1
            if i < 0:
                raise ValidationError("nothing to predict: no bucket and no line rate",
                                      key="buckets", value=(), allowed="at least one bucket")
            amount = levels[i]
            levels = [lv - amount for lv in levels]
            levels[i] = 0.0
            phases.append(Phase(Duration(t), Duration(0.0), None, amount, buckets[i]))
            continue
        draining = [k for k, b in enumerate(buckets) if levels[k] > _EPS and b.rate < x]
        if not draining:
            phases.append(Phase(Duration(t), None, x, 0.0))
            return tuple(phases)
        first = min(draining, key=lambda k: levels[k] / (x - buckets[k].rate))
        dt = levels[first] / (x - buckets[first].rate)
        levels = [min(b.size, max(lv - (x - b.rate) * dt, 0.0))
                  for b, lv in zip(buckets, levels, strict=True)]
        levels[first] = 0.0
        phases.append(Phase(Duration(t), Duration(dt), x, x * dt, buckets[first]))
        t += dt


def _scaled(phases: Sequence[Phase], factor: float) -> tuple[Phase, ...]:
    return tuple(Phase(p.start, p.duration, None if p.rate is None else p.rate * factor,
                       p.amount * factor, p.ends) for p in phases)


# --- network ----------------------------------------------------------------------------------


def limit_buckets(limit: Limit, *, cburst: Bytes | None = None,
                  psched: Psched = DEFAULT_PSCHED) -> tuple[Bucket, ...]:
    """The token buckets (frame bytes) ``limit`` runs. ``cburst``: an HTB class's ceil bucket
    as installed, when the installer sets one (libvirt does not: tc's default applies)."""
    if not limit.rate:
        return ()
    rate = bits_per_sec_to_bytes(limit.rate)
    burst = float(limit.burst or 0)
    kind = limit.mechanism.kind
    if kind in _HTB_TC or kind in _HTB_OVS:
        ceil = bits_per_sec_to_bytes(limit.peak or limit.rate)
        if cburst is None:
            cburst = (Bytes(int(burst)) if kind in _HTB_OVS else
                      htb_buffer_roundtrip(ceil, htb_default_buffer(ceil, psched), psched))
        return (Bucket(float(rate), burst, f"{format_bytes(int(burst))} burst"),
                Bucket(float(ceil), float(cburst), f"{format_bytes(cburst)} cburst"))
    return (Bucket(float(rate), burst, f"{format_bytes(int(burst))} burst"),)


def predict_tcp(buckets: Sequence[Bucket], *, mtu: int = 1500,
                line_rate: BitsPerSec | None = None) -> Curve:
    """Bulk TCP goodput (payload bytes/s) through ``buckets`` (frame bytes, in series): the
    drained buckets' phases × the TCP payload factor at ``mtu``."""
    line = None if line_rate is None else float(bits_per_sec_to_bytes(line_rate))
    return Curve("B", _scaled(drain_buckets(buckets, line), tcp_goodput_factor(mtu)))


# --- disk -------------------------------------------------------------------------------------


class DiskOp(StrEnum):
    READ = "read"
    WRITE = "write"


class DiskUnit(StrEnum):
    BYTES = "bytes"     # the *_bytes_sec buckets, B/s
    IOPS = "iops"       # the *_iops_sec buckets, IO/s


def qemu_buckets(avg: int, max_: int | None = None, max_length: int | None = None, *,
                 name: str = "bucket") -> tuple[Bucket, ...]:
    """One QEMU throttle bucket as token buckets (util/throttle.c; module docstring)."""
    if avg <= 0:
        return ()
    top = float(max_) if max_ else avg / 10     # throttle_fix_bucket
    length = max_length or 1
    main = Bucket(float(avg), top * length,
                  f"{name} {'_max × _max_length' if length > 1 else '_max' if max_ else 'avg/10'}")
    if length > 1:
        return (main, Bucket(top, top / 10, f"{name}_max / 10"))
    return (main,)


def predict_disk(limits: Mapping[str, int], op: DiskOp, unit: DiskUnit, *,
                 device_rate: float | None = None) -> Curve | None:
    """What a greedy guest reads or writes through a disk's ``<iotune>`` values (libvirt
    names: ``read_bytes_sec``, ``total_iops_sec_max``, ...): B/s or IO/s, ``None`` when no
    bucket of that unit applies. ``device_rate``: what the device does unthrottled."""
    suffix = "bytes_sec" if unit is DiskUnit.BYTES else "iops_sec"
    buckets: list[Bucket] = []
    for avg, max_, length in IOTUNE_BUCKETS:
        if avg in (f"total_{suffix}", f"{op.value}_{suffix}"):
            buckets += qemu_buckets(limits.get(avg, 0), limits.get(max_), limits.get(length),
                                    name=avg)
    if not buckets:
        return None
    return Curve("B" if unit is DiskUnit.BYTES else "IO", drain_buckets(buckets, device_rate))


def predict_blk_throttle(rate: float, unit: DiskUnit = DiskUnit.BYTES) -> Curve:
    """The sandbox's disk: the cgroup I/O throttle (Linux block/blk-throttle.c) dispatches at
    its ``bps``/``iops`` from the first request on, budgeting per time slice (``throtl_slice``,
    100 ms) with no bucket that fills while idle: a flat curve."""
    return Curve("B" if unit is DiskUnit.BYTES else "IO", (Phase(Duration(0.0), None, rate, 0.0),))


# --- CPU --------------------------------------------------------------------------------------


def predict_cpu_shares(weights: Sequence[int]) -> tuple[float, ...]:
    """The fraction of one CPU each of sibling groups gets when all are busy on it: CFS
    divides time in proportion to the weights (``cpu.shares`` or ``cpu.weight``)."""
    total = sum(weights)
    return tuple(w / total if total else 0.0 for w in weights)


# --- words ------------------------------------------------------------------------------------

_SIZE_SUFFIXES = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6, "g": 10**9,
                  "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 1 << 10, "mib": 1 << 20,
                  "gib": 1 << 30, "tib": 1 << 40}


def parse_size(text: str, *, key: str = "size") -> Bytes:
    """``1GiB`` -> 1 073 741 824; ``500MB`` -> 500 000 000; ``4096`` -> 4096 bytes."""
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    suffix = raw[len(number):]
    try:
        value = float(number)
        factor = _SIZE_SUFFIXES[suffix]
    except (ValueError, KeyError):
        value, factor = -1.0, 0
    if value <= 0 or not math.isfinite(value) or not factor:
        allowed = ("a positive number of bytes with an optional unit: B, kB, MB, GB, TB "
                   "(powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. 1GiB")
        raise ValidationError(f"{key}: {text!r} is not a size; give {allowed}", key=key,
                              value=text, allowed=allowed)
    return Bytes(int(value * factor))


_SCALES = {"bit/s": ((1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s")),
           "B/s": ((1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s")),
           "IO/s": ()}


def format_rate(rate: float, unit: str, digits: int) -> str:
    """``rate`` (already in ``unit``: bit/s, B/s or IO/s) with ``digits`` significant digits:
    250 716 000 bit/s, 4 -> ``250.7 Mbit/s``."""
    for scale, name in _SCALES[unit]:
        if rate >= scale:
            return f"{rate / scale:.{digits}g} {name}"
    return f"{rate:.{digits}g} {unit}"


def describe_transfer(curve: Curve, amount: float, subject: str, *, what: str = "goodput",
                      unit: str = "bit/s", per_unit: float = 8.0) -> str:
    """One sentence: ``1 GiB to vm_resquota takes 30.2 s — 4.1 s at ~501 Mbit/s of goodput
    while the 128 MiB burst lasts, then 250.7 Mbit/s``. ``subject`` follows the amount (``1 GiB
    to vm_resquota``); rates are printed in ``unit`` (the curve's per second × ``per_unit``).
    Phases that carry less than 0.1 % of ``amount`` are left out of the words (they stay in
    the curve)."""
    total = curve.time_for(amount)
    parts = []
    for p in curve.phases[:-1]:
        if p.amount < amount / 1000:
            continue
        burst = "" if p.ends is None else f" while the {p.ends.name} lasts"
        if p.rate is None:
            held = (format_bytes(int(p.amount)) if curve.unit == "B"
                    else f"{p.amount:.4g} {curve.unit}")
            parts.append(f"{held} at once{burst}")
        else:
            parts.append(f"{p.duration or 0:.1f} s at "
                         f"~{format_rate(p.rate * per_unit, unit, 3)} of {what}{burst}")
    steady = format_rate(curve.steady * per_unit, unit, 4)
    took = "never completes" if math.isinf(total) else f"takes {total:.1f} s"
    head = f"{subject} {took}"
    return f"{head} — {', '.join(parts)}, then {steady}" if parts else f"{head} at {steady}"
