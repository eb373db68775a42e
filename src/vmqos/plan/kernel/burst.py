"""The smallest token bucket TCP runs through at its rate: what vmqos gives a shaper when the
intent names no burst, and below which the explanation warns that a policer starves TCP.

The rule: 10 ms of the rate -- the tc-tbf rule of thumb (burst >= rate/HZ) for a HZ=100
kernel -- and at least two full frames, since a bucket below one frame stalls every full-size
packet. Observed here (kernel 6.18, HTB at 1 Gbit/s): 4 ms of burst already gives TCP 95.6 %
of the rate, while bursts of a second or more defeat the limit (kubernetes #90838); Neutron's
80 % default burst exists for the same reason (LP #1572670). From about 52 Mbit/s up, 10 ms
exceeds the 64 KiB of a GSO packet; below that no 64 KiB floor is needed for HTB, which sends
a packet larger than its bucket by going into token debt (a policer does not: the flavor lint
says so separately).

A policer needs far more: it drops where a shaper queues, and TCP halves its window at each
drop. Measured in the reference node (vmqos.node: Debian's kernel 6.1, libvirt's u32 police at
3 Mbit/s on a veth, one iperf3 flow from the guest side, steady state after the bucket):
100 ms of burst (the seed's bw-limiter, 300 kbit at 3000 kbps) gave TCP 0.46 of the rate,
187 ms 0.85, 400 ms 0.97, a second (libvirt's default) passed too. :func:`policer_tcp_burst_floor`
is therefore 400 ms of the rate — and never below one 64 KiB GSO packet, which a policer
with a smaller bucket drops even on an idle link.
"""

from __future__ import annotations

from vmqos.plan.kernel.ethernet import MTU_DEFAULT, frame_bytes
from vmqos.units import Bytes, BytesPerSec

__all__ = ["GSO_MAX_BYTES", "POLICER_TCP_BURST_SECONDS", "TCP_BURST_SECONDS",
           "policer_tcp_burst_floor", "tcp_burst_floor"]

TCP_BURST_SECONDS = 0.010       # rate / HZ at HZ = 100
POLICER_TCP_BURST_SECONDS = 0.4  # the smallest measured to keep TCP within 0.90 of the rate
GSO_MAX_BYTES = Bytes(65536)    # the largest packet a virtio-net guest hands its tap


def tcp_burst_floor(rate: BytesPerSec, mtu: Bytes = MTU_DEFAULT) -> Bytes:
    """10 ms of ``rate``, at least two full frames at ``mtu``: 125 000 B/s (1 Mbit/s) -> 3028 B,
    125 000 000 B/s (1 Gbit/s) -> 1 250 000 B."""
    return Bytes(max(rate // 100, 2 * frame_bytes(mtu)))


def policer_tcp_burst_floor(rate: BytesPerSec, mtu: Bytes = MTU_DEFAULT) -> Bytes:
    """400 ms of ``rate``, at least one 64 KiB GSO packet: 375 000 B/s (3 Mbit/s) -> 150 000 B,
    125 000 B/s (1 Mbit/s) -> 65 536 B."""
    return Bytes(max(int(rate * POLICER_TCP_BURST_SECONDS), GSO_MAX_BYTES,
                     tcp_burst_floor(rate, mtu)))
