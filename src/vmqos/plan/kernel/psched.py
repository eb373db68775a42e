"""What the kernel keeps of a tc size or rate: the psched clock and tc's tick arithmetic.

Role: iproute2 turns every HTB burst and police burst into *ticks* of the packet scheduler's
clock (``/proc/net/psched``) and the kernel prints sizes back from those ticks, so a burst
the user asked for is not the burst the kernel enforces or ``tc show`` prints. This module
reproduces iproute2's arithmetic exactly (tc/tc_core.c ``tc_core_init``, ``tc_calc_xmittime``,
``tc_calc_xmitsize``; lib/utils.c ``get_hz``), so that limits, ``tc show`` text and host
reconciliation agree by construction.

Rates are B/s and sizes bytes (``int``, so that the kernel's and tc's plain numbers pass as
they are); what this module computes is typed: :data:`~vmqos.units.Ticks`, and the
:data:`~vmqos.units.Bytes` printed back.

Invariants: pure integer/float arithmetic with the C types' wrap-around (u32) reproduced; no
I/O — the psched text is read by the host layer and parsed by :meth:`Psched.from_text`.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.errors import PermanentHostError
from vmqos.units import Bytes, Microseconds, Ticks

__all__ = [
    "DEFAULT_PSCHED", "Psched", "htb_buffer_roundtrip", "htb_default_buffer",
    "tc_calc_xmitsize", "tc_calc_xmittime",
]

_U32 = 0xFFFF_FFFF


@dataclass(frozen=True, slots=True)
class Psched:
    """The four hex fields of ``/proc/net/psched``; defaults are a high-res-timer kernel's."""

    t2us: int = 0x3E8
    us2t: int = 0x40
    clock_res: int = 0xF4240
    hz_field: int = 0x3B9ACA00

    @classmethod
    def from_text(cls, text: str) -> Psched:
        """Parse ``000003e8 00000040 000f4240 3b9aca00``; other text is the host's fault
        (:class:`~vmqos.errors.PermanentHostError`)."""
        fields = text.split()
        try:
            if len(fields) != 4:
                raise ValueError(text)
            t2us, us2t, clock_res, hz_field = (int(f, 16) for f in fields)
        except ValueError:
            raise PermanentHostError(
                f"/proc/net/psched must hold four hex fields, got {text!r}",
                key="/proc/net/psched",
                value=text,
                allowed="four hexadecimal numbers, e.g. '000003e8 00000040 000f4240 3b9aca00'",
            ) from None
        return cls(t2us, us2t, clock_res, hz_field)

    @property
    def tick_in_usec(self) -> float:
        """Ticks per microsecond (iproute2 ``tc_core_init``): 15.625 for the defaults."""
        # Compatibility hack in tc_core_init: a 1 GHz clock means t2us is really us2t.
        t2us = self.us2t if self.clock_res == 1_000_000_000 else self.t2us
        return t2us / self.us2t * (self.clock_res / 1_000_000)

    @property
    def hz(self) -> int:
        """iproute2 ``get_hz``: the 4th field when the 3rd is 1000000, else ``HZ`` (100)."""
        hz = self.hz_field if self.clock_res == 1_000_000 else 0
        return hz or 100


DEFAULT_PSCHED = Psched()


def tc_calc_xmittime(rate: int, size: int, psched: Psched = DEFAULT_PSCHED) -> Ticks:
    """Ticks tc stores for ``size`` bytes at ``rate`` B/s. The time is truncated to whole
    microseconds (an ``unsigned int`` argument) before scaling; results wrap like the C u32s
    do on x86-64."""
    usec = Microseconds(int(1_000_000 * (float(size) / float(rate))) & _U32)
    return Ticks(int(usec * psched.tick_in_usec) & _U32)


def tc_calc_xmitsize(rate: int, ticks: Ticks, psched: Psched = DEFAULT_PSCHED) -> Bytes:
    """Bytes tc prints back for ``ticks`` at ``rate`` B/s (``tc_calc_xmitsize``)."""
    usec = Microseconds(int(ticks / psched.tick_in_usec) & _U32)
    return Bytes(int(float(rate) * usec / 1_000_000) & _U32)


def htb_default_buffer(rate: int, psched: Psched = DEFAULT_PSCHED) -> Bytes:
    """tc's HTB burst/cburst when none is given: ``rate / get_hz() + mtu`` (mtu 1600)."""
    return Bytes((rate // psched.hz + 1600) & _U32)


def htb_buffer_roundtrip(rate: int, size: int, psched: Psched = DEFAULT_PSCHED) -> Bytes:
    """The bytes the kernel keeps (and ``tc class show`` prints) for a given burst."""
    if rate == 0:
        return Bytes(0)  # tc computes no ticks without a rate (police rate 0): it prints 0b
    return tc_calc_xmitsize(rate, tc_calc_xmittime(rate, size, psched), psched)
