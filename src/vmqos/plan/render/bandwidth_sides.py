"""libvirt's reading of an interface ``<bandwidth>``: which side the host device shapes with
HTB, which it polices, and the policer's burst and ``mtu`` (src/util/virnetdevbandwidth.c
``virNetDevBandwidthSet``).

``swapped`` is libvirt's flag (true for tap/bridge/ethernet, false for macvtap): the device's
egress is the VM's *inbound* when swapped. The tc program (:mod:`vmqos.plan.render.tc`),
libvirt's ovs-vsctl QoS (:mod:`vmqos.plan.render.ovs_libvirt`), ``tc show``, the host
reconciler and the flavor lint all ask these questions; they are answered here only. Kept free
of the renderers so that the lint (``vmqos validate``) loads none of them.
"""

from __future__ import annotations

from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.model import Direction
from vmqos.units import Bytes, KiB

__all__ = [
    "POLICE_BURST_MAX_KIB", "POLICE_MTU",
    "htb_side", "police_burst", "police_side", "shaped_direction",
]

# libvirt's police burst fallback: tc keeps bursts as u32 bytes, libvirt writes KiB.
POLICE_BURST_MAX_KIB = KiB(0xFFFF_FFFF // 1024)  # 4194303
# libvirt's police ``mtu 64kb``: packets up to 64 KiB (the largest GSO packet a virtio-net
# guest hands its tap) are measured, not dropped outright.
POLICE_MTU = Bytes(65536)


def shaped_direction(*, swapped: bool) -> Direction:
    """The VM direction libvirt shapes with HTB on the device's egress (virNetDevBandwidthSet
    ``swapped``)."""
    return Direction.INBOUND if swapped else Direction.OUTBOUND


def htb_side(bandwidth: Bandwidth, *, swapped: bool) -> BandwidthSide | None:
    """libvirt's ``tx && tx->average``: the side that gets the HTB tree, if any."""
    side = bandwidth.inbound if swapped else bandwidth.outbound
    return side if side is not None and side.average else None


def police_side(bandwidth: Bandwidth, *, swapped: bool) -> BandwidthSide | None:
    """libvirt's ``rx``: the policed side. No ``average != 0`` test (virNetDevBandwidthSet)."""
    return bandwidth.outbound if swapped else bandwidth.inbound


def police_burst(side: BandwidthSide) -> KiB:
    """The police ``burst``: the given burst, else ``min(average, UINT_MAX / 1024)`` KiB."""
    if side.burst:
        return side.burst
    return KiB(min(side.average, POLICE_BURST_MAX_KIB))
