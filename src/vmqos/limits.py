"""One enforced limit: where, in which direction, how much — in common units.

Every enforcement plan (libvirt's tc program, libvirt's OVS QoS, the Neutron OVS/OVN/SR-IOV/
Linux bridge agents) reports what it enforces as :class:`Limit` values, so that explain can
compare layers without knowing any backend. Rates are bits/s and bursts bytes, *as the
datapath will really enforce them* (after tc's tick rounding, OVS's 1024-bit kilobit, Neutron's
80 % default burst ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.mechanism import Mechanism
from vmqos.model import Direction, Enforcer
from vmqos.units import BitsPerSec, Bytes, Pps

__all__ = ["Limit"]


@dataclass(frozen=True, slots=True)
class Limit:
    enforcer: Enforcer
    direction: Direction
    device: str                      # the object it sits on: tap/qvo name, OVS Interface, VF
    mechanism: Mechanism             # what enforces it, in the host's words
    source: str                      # the intent that asked for it
    rate: BitsPerSec | None = None   # None: no rate cap (e.g. a DSCP-only or min-only layer)
    burst: Bytes | None = None
    peak: BitsPerSec | None = None   # a ceiling above rate (HTB ceil), if any
    min_rate: BitsPerSec | None = None  # a guarantee (HTB min-rate, VF min_tx_rate)
    packet_rate: Pps | None = None
    dscp: int | None = None
    notes: tuple[str, ...] = ()
