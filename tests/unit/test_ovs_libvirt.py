"""libvirt's ovs-vsctl QoS for OVS ports (vmqos.plan.render.ovs_libvirt).

Vectors: libvirt 9.0's tests/virnetdevbandwidthtest.c, OVS variant (tests/support/
libvirt_vectors.py), and tests/virnetdevopenvswitchtest.c's ``testVirNetDevOpenvswitchInterface
SetQos`` cases (VM UUID 66616b65-7575-6964-0000-000000000000, interface tap-fake), copied
literally; the OVS port of the seed's flavor (libvirt src/util/virnetdevopenvswitch.c
``virNetDevOpenvswitchInterfaceSetQos``: rates x 8000 bit/s, burst x 8192 bit).
"""

from __future__ import annotations

import pytest

from support.libvirt_vectors import DEV, OVS_FINDS, VECTORS, VM_UUID, Vector, side
from vmqos.errors import ValidationError
from vmqos.libvirt_types import Bandwidth
from vmqos.model import Direction, Enforcer
from vmqos.plan.render.ovs_libvirt import (
    OvsVsctl,
    compile_libvirt_ovs,
    compile_libvirt_ovs_commands,
    ovs_libvirt_limits,
)


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_libvirt_unit_vectors(vector: Vector) -> None:
    assert compile_libvirt_ovs(DEV, VM_UUID, vector.bandwidth, swapped=True) == list(vector.ovs)


FAKE = "66616b65-7575-6964-0000-000000000000"
FAKE_EXT = f"'external-ids:vm-id=\"{FAKE}\"' 'external-ids:ifname=\"tap-fake\"'"
FAKE_FINDS = [
    f"ovs-vsctl --timeout=5 --no-heading --columns=_uuid find queue {FAKE_EXT}",
    f"ovs-vsctl --timeout=5 --no-heading --columns=_uuid find qos {FAKE_EXT}",
]

OPENVSWITCH_TEST_VECTORS = [
    (Bandwidth(inbound=side(20000)), [
        *FAKE_FINDS,
        f"ovs-vsctl --timeout=5 set port tap-fake qos=@qos1 {FAKE_EXT} -- --id=@qos1 create qos "
        f"type=linux-htb other_config:min-rate=160000000 queues:0=@queue0 {FAKE_EXT} -- "
        f"--id=@queue0 create queue other_config:min-rate=160000000 {FAKE_EXT}",
        "ovs-vsctl --timeout=5 set Interface tap-fake ingress_policing_rate=0 "
        "ingress_policing_burst=0",
    ]),
    (Bandwidth(inbound=side(0)), [
        *FAKE_FINDS,
        "ovs-vsctl --timeout=5 set Interface tap-fake ingress_policing_rate=0 "
        "ingress_policing_burst=0",
    ]),
    (Bandwidth(inbound=side(0), outbound=side(5000)), [
        *FAKE_FINDS,
        "ovs-vsctl --timeout=5 set Interface tap-fake ingress_policing_rate=40000",
    ]),
]


@pytest.mark.parametrize(("bandwidth", "expected"), OPENVSWITCH_TEST_VECTORS)
def test_libvirt_openvswitch_vectors(bandwidth: Bandwidth, expected: list[str]) -> None:
    assert compile_libvirt_ovs("tap-fake", FAKE, bandwidth) == expected


def test_ovs_port_with_the_seeds_inbound() -> None:
    bw = Bandwidth(inbound=side(32768, 65536, 131072), outbound=side(32768, burst=131072))
    lines = compile_libvirt_ovs("tapX", VM_UUID, bw)
    ext = f"'external-ids:vm-id=\"{VM_UUID}\"' 'external-ids:ifname=\"tapX\"'"
    config = ("other_config:min-rate=262144000 other_config:burst=1073741824 "
              "other_config:max-rate=524288000")
    assert lines[2] == (
        f"ovs-vsctl --timeout=5 set port tapX qos=@qos1 {ext} -- --id=@qos1 create qos "
        f"type=linux-htb {config} queues:0=@queue0 {ext} -- --id=@queue0 create queue "
        f"{config} {ext}")
    assert lines[3] == ("ovs-vsctl --timeout=5 set Interface tapX ingress_policing_rate=262144 "
                        "ingress_policing_burst=1048576")
    assert len(lines) == 4


def test_not_swapped_polices_inbound() -> None:
    lines = compile_libvirt_ovs("eth0", VM_UUID, Bandwidth(inbound=side(1024)), swapped=False)
    assert lines == [*OVS_FINDS,
                     "ovs-vsctl --timeout=5 set Interface eth0 ingress_policing_rate=8192"]


def test_argv_has_no_shell_quoting() -> None:
    (find_queue, *_) = compile_libvirt_ovs_commands("eth0", VM_UUID, Bandwidth(outbound=side(1)))
    assert find_queue == OvsVsctl(("--no-heading", "--columns=_uuid", "find", "queue",
                                   f'external-ids:vm-id="{VM_UUID}"',
                                   'external-ids:ifname="eth0"'))
    assert find_queue.argv()[:2] == ["--timeout=5", "--no-heading"]


def test_uuid_is_printed_like_vir_uuid_format() -> None:
    lines = compile_libvirt_ovs("eth0", VM_UUID.upper(), Bandwidth(outbound=side(1)))
    assert lines[:2] == list(OVS_FINDS)


def test_bad_uuid_is_rejected() -> None:
    with pytest.raises(ValidationError, match="'not-a-uuid' is not a domain UUID"):
        compile_libvirt_ovs("eth0", "not-a-uuid", Bandwidth(outbound=side(1)))


# --- limits --------------------------------------------------------------------------------

def test_inbound_average_is_a_guarantee_not_a_cap() -> None:
    (limit,) = ovs_libvirt_limits("tapX", Bandwidth(inbound=side(32768)), source="flavor")
    assert (limit.enforcer, limit.direction, str(limit.mechanism)) == (
        Enforcer.OVS_LIBVIRT, Direction.INBOUND, "linux-htb queue 0")
    assert limit.rate is None
    assert limit.min_rate == 262_144_000
    assert limit.burst is None
    assert "no peak: no max-rate, so this direction is NOT capped by libvirt" in limit.notes


def test_inbound_peak_is_the_cap() -> None:
    (limit,) = ovs_libvirt_limits("tapX", Bandwidth(inbound=side(32768, 65536, 131072)),
                                  source="flavor")
    assert (limit.rate, limit.min_rate, limit.burst) == (524_288_000, 262_144_000, 134_217_728)


def test_outbound_policing_burst_in_kernel_bytes() -> None:
    (limit,) = ovs_libvirt_limits("tapX", Bandwidth(outbound=side(32768, 65536, 131072)),
                                  source="flavor")
    assert (limit.direction, str(limit.mechanism)) == (Direction.OUTBOUND, "ingress_policing")
    assert limit.rate == 262_144_000
    # ingress_policing_burst = 131072*8 = 1048576 kbit; OVS: 1 kbit = 1024 bits.
    assert limit.burst == 134_217_728
    assert limit.notes == ("peak ignored: ingress policing has no peak",)


def test_outbound_burst_zero_uses_ovs_default() -> None:
    (limit,) = ovs_libvirt_limits("tapX", Bandwidth(outbound=side(1024)), source="flavor")
    assert limit.burst == 1_024_000  # 8000 kbit * 1024 / 8
    assert limit.notes == ("burst not set: OVS default 8000 kbit",)


def test_average_zero_is_not_limited() -> None:
    shaped, policed = ovs_libvirt_limits(
        "tapX", Bandwidth(inbound=side(0), outbound=side(0)), source="flavor")
    assert (shaped.rate, shaped.min_rate, str(shaped.mechanism)) == (None, None, "none")
    assert policed.rate is None
    assert policed.notes == ("ingress_policing_rate=0 disables policing: not limited",)


def test_no_bandwidth_no_limits() -> None:
    assert ovs_libvirt_limits("tapX", None, source="flavor") == []
