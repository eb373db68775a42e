"""libvirt's own unit-test vectors for ``virNetDevBandwidthSet``, in one copy.

From libvirt 9.0 tests/virnetdevbandwidthtest.c (``testVirNetDevBandwidthSet``, the
``DO_TEST_SET`` cases of ``mymain``): each ``<bandwidth>`` is set on ``eth0`` with
``hierarchical=false, swapped=true`` — a tap, so ``<inbound>`` becomes the root HTB and
``<outbound>`` the ingress police — and the test compares the commands libvirt runs: the tc
program, and for an Open vSwitch port (the same cases with VM UUID ``VM_UUID``) the
``ovs-vsctl`` commands of ``virNetDevOpenvswitchInterfaceSetQos``.

The unit tests feed ``bandwidth`` to the renderers; the CLI tests feed ``properties`` (the
flavor's ``quota:vif_*`` keys that give that ``<bandwidth>``) to ``vmqos render``.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.units import KBytesPerSec, KiB

DEV = "eth0"
VM_UUID = "c1018351-a229-4209-9faf-42446e0b53e5"

# (average kB/s, peak kB/s or None, burst KiB or None) of one <inbound>/<outbound>.
Side = tuple[int, int | None, int | None]


@dataclass(frozen=True)
class Vector:
    name: str
    element: bool               # False: the domain has no <bandwidth> (libvirt passes NULL)
    inbound: Side | None
    outbound: Side | None
    tc: tuple[str, ...]         # what libvirt runs on a tap
    ovs: tuple[str, ...]        # what libvirt runs on an OVS port

    @property
    def bandwidth(self) -> Bandwidth | None:
        if not self.element:
            return None
        return Bandwidth(inbound=_side(self.inbound), outbound=_side(self.outbound))

    @property
    def properties(self) -> tuple[str, ...]:
        """The flavor properties Nova turns into this ``<bandwidth>`` (flavor inbound is
        libvirt's ``<inbound>``)."""
        out: list[str] = []
        for direction, side in (("inbound", self.inbound), ("outbound", self.outbound)):
            if side is not None:
                out += [f"quota:vif_{direction}_{name}={value}"
                        for name, value in zip(("average", "peak", "burst"), side, strict=True)
                        if value is not None]
        return tuple(out)


def side(average: int, peak: int | None = None, burst: int | None = None) -> BandwidthSide:
    """``<inbound|outbound average= peak= burst=/>`` in libvirt's units (kB/s, kB/s, KiB)."""
    return BandwidthSide(KBytesPerSec(average), None if peak is None else KBytesPerSec(peak),
                         None if burst is None else KiB(burst))


def _side(values: Side | None) -> BandwidthSide | None:
    return None if values is None else side(*values)


_CLEAR = (f"tc qdisc del dev {DEV} root", f"tc qdisc del dev {DEV} ingress")


def _htb(klass: str) -> tuple[str, ...]:
    return (f"tc qdisc add dev {DEV} root handle 1: htb default 1",
            f"tc class add dev {DEV} parent 1: classid 1:1 htb {klass}",
            f"tc qdisc add dev {DEV} parent 1:1 handle 2: sfq perturb 10",
            f"tc filter add dev {DEV} parent 1:0 protocol all prio 1 handle 1 fw flowid 1")


def _police(rate: str, burst: str) -> tuple[str, ...]:
    return (f"tc qdisc add dev {DEV} ingress",
            f"tc filter add dev {DEV} parent ffff: protocol all u32 match u32 0 0 police rate "
            f"{rate} burst {burst} mtu 64kb drop flowid :1")


_IDS = f"'external-ids:vm-id=\"{VM_UUID}\"' 'external-ids:ifname=\"{DEV}\"'"
OVS_FINDS = tuple(f"ovs-vsctl --timeout=5 --no-heading --columns=_uuid find {table} {_IDS}"
               for table in ("queue", "qos"))


def _set_qos(other_config: str) -> str:
    return (f"ovs-vsctl --timeout=5 set port {DEV} qos=@qos1 {_IDS} -- --id=@qos1 create qos "
            f"type=linux-htb {other_config} queues:0=@queue0 {_IDS} -- --id=@queue0 create "
            f"queue {other_config} {_IDS}")


def _policing(settings: str) -> str:
    return f"ovs-vsctl --timeout=5 set Interface {DEV} {settings}"


VECTORS: tuple[Vector, ...] = (
    Vector("no <bandwidth>", False, None, None, (), ()),
    Vector("empty <bandwidth/>", True, None, None, (), ()),
    Vector("inbound 1024", True, (1024, None, None), None,
           (*_CLEAR, *_htb("rate 1024kbps quantum 87")),
           (*OVS_FINDS, _set_qos("other_config:min-rate=8192000"),
            _policing("ingress_policing_rate=0 ingress_policing_burst=0"))),
    Vector("outbound 1024", True, None, (1024, None, None),
           (*_CLEAR, *_police("1024kbps", "1024kb")),
           (*OVS_FINDS, _policing("ingress_policing_rate=8192"))),
    # <inbound average='1' peak='2' floor='3' burst='4'/>: Set ignores floor, which is no
    # part of BandwidthSide (and no flavor key: Nova rejects quota:vif_inbound_floor).
    Vector("inbound 1/2/4, outbound 5/6/7", True, (1, 2, 4), (5, 6, 7),
           (*_CLEAR, *_htb("rate 1kbps ceil 2kbps burst 4kb quantum 1"),
            *_police("5kbps", "7kb")),
           (*OVS_FINDS, _set_qos("other_config:min-rate=8000 other_config:burst=32768 "
                              "other_config:max-rate=16000"),
            _policing("ingress_policing_rate=40 ingress_policing_burst=56"))),
    Vector("uint32 max both ways", True, (4294967295, None, None), (4294967295, None, None),
           (*_CLEAR, *_htb("rate 4294967295kbps quantum 366503875"),
            *_police("4294967295kbps", "4194303kb")),
           (*OVS_FINDS, _set_qos("other_config:min-rate=34359738360000"),
            _policing("ingress_policing_rate=34359738360"))),
)
