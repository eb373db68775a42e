"""The Ethernet frame a qdisc counts: the IP packet (up to the MTU) plus the 14-byte hard
header (include/uapi/linux/if_ether.h ``ETH_HLEN``); tc's rate tables and policers measure
``skb->len``, which on a tap or veth includes that header. Changes with a kernel."""

from __future__ import annotations

from vmqos.units import Bytes

__all__ = ["ETH_HEADER", "FRAME_BYTES", "MTU_DEFAULT", "frame_bytes", "tcp_goodput_factor"]

ETH_HEADER = Bytes(14)                       # the Ethernet hard header on top of the MTU
MTU_DEFAULT = Bytes(1500)


def frame_bytes(mtu: Bytes) -> Bytes:
    """One full-size frame at ``mtu``, as a qdisc counts it."""
    return Bytes(mtu + ETH_HEADER)


FRAME_BYTES = frame_bytes(MTU_DEFAULT)       # 1514


_TCP_TIMESTAMPS = 12      # the TCP timestamp option Linux sends by default


def tcp_goodput_factor(mtu: int = 1500, *, timestamps: bool = True, ipv6: bool = False) -> float:
    """TCP payload per byte a qdisc counts: 1448/1514 ≈ 0.956 at MTU 1500 (IPv4, timestamps).

    The IP and TCP headers (20 + 20, or 40 + 20 for IPv6, plus 12 of timestamps) come out of
    the MTU, and the qdisc counts the Ethernet header on top of it."""
    headers = (40 if ipv6 else 20) + 20 + (_TCP_TIMESTAMPS if timestamps else 0)
    return (mtu - headers) / (mtu + ETH_HEADER)
