"""libvirt's tc program for an interface ``<bandwidth>`` (``virNetDevBandwidthSet``), as values.

Role: given a :class:`~vmqos.libvirt_types.Bandwidth` in libvirt's units (``average``/``peak``
kB/s, ``burst`` KiB), produce exactly the ``tc`` commands libvirt 9.0 runs on the host device
(src/util/virnetdevbandwidth.c virNetDevBandwidthSet, non-hierarchical form), and the
limits the kernel then enforces (:func:`tc_limits`, for explain).

Invariants:

* Commands are frozen values; ``argv()`` has no leading ``tc`` and ``render()`` is the exact
  line libvirt logs (``virCommandToString`` quoting).
* ``swapped`` is libvirt's flag (true for tap/bridge/ethernet, false for macvtap): which side
  is shaped and which policed is :mod:`vmqos.plan.render.bandwidth_sides`' answer.
* The kernel's view of a size (bytes after tc's tick round trip, iproute2 tc_core.c
  tc_calc_xmittime) is computed here, from :class:`Psched`, so that limits and ``tc show``
  text agree by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer
from vmqos.plan.kernel.ethernet import ETH_HEADER
from vmqos.plan.kernel.psched import (
    DEFAULT_PSCHED,
    Psched,
    htb_buffer_roundtrip,
    htb_default_buffer,
)
from vmqos.plan.render.bandwidth_sides import (
    POLICE_BURST_MAX_KIB,
    htb_side,
    police_burst,
    police_side,
    shaped_direction,
)
from vmqos.units import (
    Bytes,
    KBytesPerSec,
    kbytes_per_sec_to_bits,
    kbytes_per_sec_to_bytes,
    kib_to_bytes,
)

__all__ = [
    "ClassAdd", "FilterAdd", "QdiscAdd", "QdiscDel", "TcCommand",
    "compile_libvirt_tc", "htb_class_params", "libvirt_quote", "quantum", "render_command",
    "render_tc_program", "tc_limits",
    "validate_bandwidth",
]

_U32 = 0xFFFF_FFFF
_U64 = (1 << 64) - 1
# virBufferEscapeShell: an argument is single-quoted only if it holds one of these.
_SHELL_META = frozenset("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")


def libvirt_quote(arg: str) -> str:
    """Quote one argument the way libvirt's ``virBufferEscapeShell`` does in its logs."""
    if not arg:
        return "''"
    if _SHELL_META.isdisjoint(arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def render_command(binary: str, argv: Sequence[str]) -> str:
    """``binary`` + ``argv`` as one line, as libvirt's ``virCommandToString`` prints it."""
    return " ".join([binary, *(libvirt_quote(a) for a in argv)])


# --- commands ---------------------------------------------------------------------------


class _TcCommandBase:
    __slots__ = ()

    def argv(self) -> list[str]:
        raise NotImplementedError

    def render(self) -> str:
        return render_command("tc", self.argv())


@dataclass(frozen=True, slots=True)
class QdiscDel(_TcCommandBase):
    """``tc qdisc del dev DEV root|ingress`` (``virNetDevBandwidthClear``; exit code ignored)."""

    dev: str
    parent: str  # "root" or "ingress"

    def argv(self) -> list[str]:
        return ["qdisc", "del", "dev", self.dev, self.parent]


@dataclass(frozen=True, slots=True)
class QdiscAdd(_TcCommandBase):
    """``tc qdisc add dev DEV [root|parent P] [handle H] KIND PARAMS...``.

    ``parent`` is ``"root"``, a class id (``"1:1"``), or ``None`` for the ingress qdisc, which
    names its own place.
    """

    dev: str
    parent: str | None
    handle: str | None
    kind: str
    params: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        out = ["qdisc", "add", "dev", self.dev]
        if self.parent == "root":
            out.append("root")
        elif self.parent is not None:
            out += ["parent", self.parent]
        if self.handle is not None:
            out += ["handle", self.handle]
        out.append(self.kind)
        out.extend(self.params)
        return out


@dataclass(frozen=True, slots=True)
class ClassAdd(_TcCommandBase):
    """``tc class add dev DEV parent P classid C KIND PARAMS...``."""

    dev: str
    parent: str
    classid: str
    kind: str
    params: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        return ["class", "add", "dev", self.dev, "parent", self.parent, "classid", self.classid,
                self.kind, *self.params]


@dataclass(frozen=True, slots=True)
class FilterAdd(_TcCommandBase):
    """``tc filter add dev DEV parent P protocol PROTO [prio N] [handle H] KIND PARAMS...``."""

    dev: str
    parent: str
    protocol: str
    kind: str
    params: tuple[str, ...] = ()
    prio: int | None = None
    handle: str | None = None

    def argv(self) -> list[str]:
        out = ["filter", "add", "dev", self.dev, "parent", self.parent, "protocol", self.protocol]
        if self.prio is not None:
            out += ["prio", str(self.prio)]
        if self.handle is not None:
            out += ["handle", self.handle]
        out.append(self.kind)
        out.extend(self.params)
        return out


TcCommand = QdiscDel | QdiscAdd | ClassAdd | FilterAdd


def quantum(average: KBytesPerSec) -> int:
    """libvirt's HTB class quantum: ``average*1024/8/1500`` (u64 arithmetic), at least 1."""
    return ((average * 1024) & _U64) // 8 // 1500 or 1


def validate_bandwidth(bandwidth: Bandwidth) -> None:
    """Raise if a value is not what libvirt's parser accepts."""
    # libvirt parses each value with virStrToLong_ullp: unsigned 64-bit decimal only.
    for name, side in (("inbound", bandwidth.inbound), ("outbound", bandwidth.outbound)):
        if side is None:
            continue
        for attr, value in (("average", side.average), ("peak", side.peak),
                            ("burst", side.burst)):
            if value is not None and not 0 <= value <= _U64:
                raise ValidationError(
                    f"could not convert bandwidth {attr} value '{value}'",
                    key=f"bandwidth.{name}.{attr}",
                    value=value,
                    allowed=f"an integer from 0 to {_U64}",
                )


def htb_class_params(tx: BandwidthSide) -> tuple[str, ...]:
    """libvirt's words for class 1:1 after ``htb``: rate, then ceil and burst only when set
    (no cburst, ever), then its quantum."""
    params = ["rate", f"{tx.average}kbps"]
    if tx.peak:
        params += ["ceil", f"{tx.peak}kbps"]
    if tx.burst:
        params += ["burst", f"{tx.burst}kb"]
    params += ["quantum", str(quantum(tx.average))]
    return tuple(params)


def compile_libvirt_tc(
    dev: str, bandwidth: Bandwidth | None, *, swapped: bool
) -> tuple[TcCommand, ...]:
    """The commands ``virNetDevBandwidthSet(dev, bandwidth, false, swapped)`` runs, in order."""
    # libvirt's parser turns <bandwidth/> (no child) into NULL: nothing runs at all.
    if bandwidth is None or (bandwidth.inbound is None and bandwidth.outbound is None):
        return ()
    validate_bandwidth(bandwidth)
    cmds: list[TcCommand] = [QdiscDel(dev, "root"), QdiscDel(dev, "ingress")]
    tx = htb_side(bandwidth, swapped=swapped)
    if tx is not None:
        cmds += [
            QdiscAdd(dev, "root", "1:", "htb", ("default", "1")),
            ClassAdd(dev, "1:", "1:1", "htb", htb_class_params(tx)),
            QdiscAdd(dev, "1:1", "2:", "sfq", ("perturb", "10")),
            FilterAdd(dev, "1:0", "all", "fw", ("flowid", "1"), prio=1, handle="1"),
        ]
    rx = police_side(bandwidth, swapped=swapped)
    if rx is not None:
        cmds += [
            QdiscAdd(dev, None, None, "ingress"),
            FilterAdd(dev, "ffff:", "all", "u32", (
                "match", "u32", "0", "0", "police", "rate", f"{rx.average}kbps",
                "burst", f"{police_burst(rx)}kb", "mtu", "64kb", "drop", "flowid", ":1")),
        ]
    return tuple(cmds)


def render_tc_program(dev: str, bandwidth: Bandwidth | None, *, swapped: bool) -> list[str]:
    """:func:`compile_libvirt_tc` as command lines, each starting with ``tc ``."""
    return [c.render() for c in compile_libvirt_tc(dev, bandwidth, swapped=swapped)]


# --- enforced limits, for explain --------------------------------------------------------


def _check_tc_size(kib: int, direction: Direction) -> None:
    # iproute2 get_size rejects a size that does not fit its u32 byte count, so libvirt's
    # tc command fails and the domain does not start (or the hotplug/domiftune fails).
    if kib * 1024 > _U32:
        raise UnsupportedError(
            f"{direction.value} burst '{kib}' KiB cannot be applied by libvirt: tc keeps "
            f"bursts as 32-bit byte counts; use at most {POLICE_BURST_MAX_KIB} KiB")


def tc_limits(
    dev: str,
    bandwidth: Bandwidth | None,
    *,
    swapped: bool,
    source: str,
    mtu: int = 1500,
    psched: Psched = DEFAULT_PSCHED,
) -> list[Limit]:
    """What libvirt's tc program enforces on ``dev``, in bits/s and kernel-kept bytes. Whether
    the policer survives (ovs-vswitchd deletes the ingress qdisc of a tap in br-int) is
    :mod:`vmqos.plan.enforcement`'s decision, not the program's."""
    if bandwidth is None or (bandwidth.inbound is None and bandwidth.outbound is None):
        return []
    validate_bandwidth(bandwidth)
    enforcer = Enforcer.TC_TAP if swapped else Enforcer.TC_MACVTAP
    out: list[Limit] = []
    shaped = shaped_direction(swapped=swapped)
    tx = htb_side(bandwidth, swapped=swapped)
    if tx is not None:
        rate_bps = kbytes_per_sec_to_bytes(tx.average)
        notes: list[str] = []
        if tx.burst:
            _check_tc_size(tx.burst, shaped)
            burst = htb_buffer_roundtrip(rate_bps, kib_to_bytes(tx.burst), psched)
        else:
            burst = htb_buffer_roundtrip(rate_bps, htb_default_buffer(rate_bps, psched), psched)
            notes.append(f"burst not set: tc's default rate/HZ + 1600 B, about one "
                         f"{mtu}-byte-MTU frame ({burst} B)")
        out.append(Limit(
            enforcer=enforcer, direction=shaped, device=dev,
            mechanism=Mechanism(MechanismKind.TC_HTB), source=source,
            rate=kbytes_per_sec_to_bits(tx.average), burst=Bytes(burst),
            peak=kbytes_per_sec_to_bits(tx.peak) if tx.peak else None, notes=tuple(notes)))
    elif bandwidth.side(shaped) is not None:
        # average='0': libvirt skips the whole HTB tree, peak and burst included.
        out.append(Limit(
            enforcer=enforcer, direction=shaped, device=dev,
            mechanism=Mechanism(MechanismKind.NONE), source=source,
            notes=("average 0: libvirt installs no htb; not limited",)))
    rx = police_side(bandwidth, swapped=swapped)
    if rx is not None:
        out.append(_police_limit(
            dev, rx, enforcer=enforcer, direction=shaped_direction(swapped=not swapped),
            source=source, mtu=mtu, psched=psched))
    return out


def _police_limit(
    dev: str, rx: BandwidthSide, *, enforcer: Enforcer, direction: Direction, source: str,
    mtu: int, psched: Psched,
) -> Limit:
    notes = ["peak ignored: police has no peak"] if rx.peak else []
    if rx.average == 0:
        # [derived] iproute2 m_police.c builds no rate table for rate 0; the kernel's
        # act_police then only drops packets above its mtu (64 KiB).
        notes.append("average 0: police has no rate; only packets over 64 KiB are dropped")
        return Limit(enforcer=enforcer, direction=direction, device=dev,
                     mechanism=Mechanism(MechanismKind.TC_POLICE), source=source,
                     notes=tuple(notes))
    kib = police_burst(rx)
    _check_tc_size(kib, direction)
    if not rx.burst:
        notes.append(f"burst not set: libvirt uses average as burst ({kib} KiB)")
    rate_bps = kbytes_per_sec_to_bytes(rx.average)
    burst = htb_buffer_roundtrip(rate_bps, kib_to_bytes(kib), psched)
    frame = mtu + ETH_HEADER
    if burst < frame:
        # act_police never lets a packet larger than its whole bucket conform.
        notes.append(f"burst {burst} B is below one {frame}-byte frame: "
                     "full-size frames are always dropped")
    return Limit(
        enforcer=enforcer, direction=direction, device=dev,
        mechanism=Mechanism(MechanismKind.TC_POLICE),
        source=source, rate=kbytes_per_sec_to_bits(rx.average), burst=Bytes(burst),
        notes=tuple(notes))
