"""A qdisc's counters, as the kernel keeps them: bytes and packets through it, drops and
overlimits — the values of ``tc -s qdisc show``'s "Sent ... (dropped N, overlimits M ...)".

Pure: decodes the payloads of ``TCA_STATS2``'s ``TCA_STATS_BASIC`` (``struct
gnet_stats_basic``: u64 bytes, u32 packets), ``TCA_STATS_PKT64`` (u64 packets, when the
kernel sends it) and ``TCA_STATS_QUEUE`` (``struct gnet_stats_queue``: qlen, backlog, drops,
requeues, overlimits) from include/uapi/linux/gen_stats.h; reading them is
:mod:`vmqos.host.tc_stats`'s job. The counters are cumulative since the qdisc was created:
a rate is their difference over time (Prometheus's ``rate()``), and a replaced qdisc starts
again at 0 (a counter reset).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["TcCounters", "decode_counters"]

_BASIC = struct.Struct("=QI")
_PKT64 = struct.Struct("=Q")
_QUEUE = struct.Struct("=IIIII")


@dataclass(frozen=True, slots=True)
class TcCounters:
    kind: str                # the qdisc's kind (htb, ingress ...)
    bytes: int
    packets: int
    drops: int
    overlimits: int


def decode_counters(kind: str, basic: bytes | memoryview | None,
                    queue: bytes | memoryview | None,
                    pkt64: bytes | memoryview | None = None) -> TcCounters:
    """The counters from the attribute payloads (a missing one counts nothing)."""
    sent, packets = _BASIC.unpack_from(basic, 0) if basic is not None else (0, 0)
    if pkt64 is not None and len(pkt64) >= _PKT64.size:
        (packets,) = _PKT64.unpack_from(pkt64, 0)
    drops = overlimits = 0
    if queue is not None:
        _qlen, _backlog, drops, _requeues, overlimits = _QUEUE.unpack_from(queue, 0)
    return TcCounters(kind, sent, packets, drops, overlimits)
