"""The Ethernet frame a qdisc counts: the IP packet (up to the MTU) plus the 14-byte hard
header (include/uapi/linux/if_ether.h ``ETH_HLEN``); tc's rate tables and policers measure
``skb->len``, which on a tap or veth includes that header. Changes with a kernel."""

from __future__ import annotations

from vmqos.units import Bytes

__all__ = ["ETH_HEADER", "FRAME_BYTES", "MTU_DEFAULT", "frame_bytes"]

ETH_HEADER = Bytes(14)                       # the Ethernet hard header on top of the MTU
MTU_DEFAULT = Bytes(1500)


def frame_bytes(mtu: Bytes) -> Bytes:
    """One full-size frame at ``mtu``, as a qdisc counts it."""
    return Bytes(mtu + ETH_HEADER)


FRAME_BYTES = frame_bytes(MTU_DEFAULT)       # 1514
