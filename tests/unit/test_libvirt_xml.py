"""compile_nova + libvirt_xml against Nova's XML (nova virt/libvirt/driver.py, designer.py
set_vif_bandwidth_config), libvirt's <bandwidth> parse rules (src/conf/netdev_bandwidth_conf.c)
and round trips. Literal comparison unless the vector comes from a Nova test that uses an XML
matcher (test_vif.py, test_config.py): those are compared after removing the whitespace between
tags."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import DiskQuota, Flavor, FlavorQuota, VifQuota
from vmqos.intent.scenario import Server, Volume
from vmqos.libvirt_types import (
    IOTUNE_BASE_KEYS,
    IOTUNE_LENGTH_KEYS,
    Bandwidth,
    BandwidthSide,
    CpuTune,
    DiskDevice,
    DomainSpec,
    InterfaceDevice,
    IoTune,
    NovaMetadata,
    XmlForm,
)
from vmqos.model import VifType
from vmqos.plan.nova.compile import (
    compile_bandwidth,
    compile_cputune,
    compile_domain,
    compile_flavor_iotune,
    disk_alias,
)
from vmqos.plan.render.domain_xml import (
    HostDetails,
    render_bandwidth,
    render_cputune,
    render_disk,
    render_domain_xml,
    render_interface,
    render_iotune,
)
from vmqos.plan.render.domain_xml_parse import parse_domain_xml
from vmqos.profile import get_profile
from vmqos.units import KBytesPerSec, KiB

MODERN = get_profile("modern")
PIKE = get_profile("pike-rhel7")
PORT_ID = "dc065497-3c8d-4f44-8fb4-e1d33c16a536"
MAC = "22:52:25:62:e2:aa"
U64 = (1 << 64) - 1


def squash(xml: str) -> str:
    """What Nova's XML matcher ignores: whitespace between tags and inside a tag."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", xml.strip())).replace(" />", "/>")


def vif(average: int | None = None, peak: int | None = None,
        burst: int | None = None) -> VifQuota:
    return VifQuota(average=None if average is None else KBytesPerSec(average),
                    peak=None if peak is None else KBytesPerSec(peak),
                    burst=None if burst is None else KiB(burst))


def server(**kw: object) -> Server:
    base: dict[str, object] = {"name": "vm", "flavor": "f", "id": "u-1", "image_id": "img",
                               "instance_name": "instance-0000002a"}
    return Server(**(base | kw))  # type: ignore[arg-type]


# --- cputune (nova driver.py _update_guest_cputune) -----------------------------------------


def test_cputune_from_flavor_in_nova_order() -> None:
    quota = FlavorQuota(cpu_shares=2048, cpu_period=100000, cpu_quota=50000)
    spec = compile_domain(server(), Flavor("f", vcpus=2), quota, (), MODERN)
    assert spec.cputune is not None
    assert render_cputune(spec.cputune) == (
        "<cputune><shares>2048</shares><quota>50000</quota><period>100000</period></cputune>")
    # libvirt prints period before quota (virDomainCputuneDefFormat).
    assert render_cputune(spec.cputune, form="libvirt") == (
        "<cputune><shares>2048</shares><period>100000</period><quota>50000</quota></cputune>")


def test_no_cputune_on_current_nova() -> None:
    spec = compile_domain(server(), Flavor("f", vcpus=4), FlavorQuota(), (), MODERN)
    assert spec.cputune is None
    for form in ("nova", "libvirt"):
        assert "<cputune" not in render_domain_xml(spec, form=form)


def test_pike_default_shares_per_vcpu() -> None:
    spec = compile_domain(server(), Flavor("f", vcpus=4), FlavorQuota(), (), PIKE)
    assert spec.cputune is not None
    assert render_cputune(spec.cputune) == "<cputune><shares>4096</shares></cputune>"


@pytest.mark.parametrize(("quota", "profile", "expected"), [
    (FlavorQuota(cpu_shares=512), PIKE, CpuTune(shares=512)),
    (FlavorQuota(cpu_period=20000), PIKE, CpuTune(shares=2048, period=20000)),
    (FlavorQuota(cpu_quota=-1), MODERN, CpuTune(quota=-1)),
    (FlavorQuota(cpu_shares=0), MODERN, CpuTune(shares=0)),
    (FlavorQuota(), MODERN, None),
])
def test_compile_cputune(quota: FlavorQuota, profile: object, expected: CpuTune | None) -> None:
    assert compile_cputune(quota, 2, profile) == expected  # type: ignore[arg-type]


def test_zero_period_and_quota_are_written_by_nova_but_not_printed_by_libvirt() -> None:
    tune = CpuTune(shares=1024, quota=0, period=0)
    assert render_cputune(tune) == (
        "<cputune><shares>1024</shares><quota>0</quota><period>0</period></cputune>")
    assert render_cputune(tune, form="libvirt") == "<cputune><shares>1024</shares></cputune>"
    assert render_cputune(CpuTune(period=0), form="libvirt") == ""


# --- iotune (nova Image.disk_qos, config.py LibvirtConfigGuestDisk) --------------------------


def test_iotune_on_local_root_disk() -> None:
    quota = FlavorQuota(disk=DiskQuota(read_bytes_sec=1000000, write_bytes_sec=1024000))
    spec = compile_domain(server(), Flavor("f"), quota, (), MODERN)
    (root,) = spec.disks
    assert (root.target_dev, root.source_kind, root.alias) == ("vda", "image", "virtio-disk0")
    assert root.iotune is not None
    assert render_iotune(root.iotune) == ("<iotune><read_bytes_sec>1000000</read_bytes_sec>"
                                          "<write_bytes_sec>1024000</write_bytes_sec></iotune>")


def test_six_disk_keys_in_nova_order() -> None:
    # Values of nova test_config.py test_config_iotune.
    quota = FlavorQuota(disk=DiskQuota(
        read_bytes_sec=1024000, read_iops_sec=1000, write_bytes_sec=1024000,
        write_iops_sec=1000, total_bytes_sec=2048000, total_iops_sec=2000))
    tune = compile_flavor_iotune(quota)
    assert tune is not None
    assert render_iotune(tune) == (
        "<iotune><read_bytes_sec>1024000</read_bytes_sec><read_iops_sec>1000</read_iops_sec>"
        "<write_bytes_sec>1024000</write_bytes_sec><write_iops_sec>1000</write_iops_sec>"
        "<total_bytes_sec>2048000</total_bytes_sec><total_iops_sec>2000</total_iops_sec>"
        "</iotune>")
    # libvirt's own order: total, read, write bytes, then iops.
    assert render_iotune(tune, form="libvirt") == (
        "<iotune><total_bytes_sec>2048000</total_bytes_sec><read_bytes_sec>1024000"
        "</read_bytes_sec><write_bytes_sec>1024000</write_bytes_sec><total_iops_sec>2000"
        "</total_iops_sec><read_iops_sec>1000</read_iops_sec><write_iops_sec>1000"
        "</write_iops_sec></iotune>")


def test_thirteen_keys_nova_test_config() -> None:
    tune = IoTune(read_bytes_sec=1024000, read_iops_sec=1000, total_bytes_sec=2048000,
                  write_bytes_sec=1024000, write_iops_sec=1000, total_iops_sec=2000,
                  write_bytes_sec_max=1536000, write_iops_sec_max=1500,
                  read_bytes_sec_max=1536000, read_iops_sec_max=1500,
                  total_iops_sec_max=2000, total_bytes_sec_max=3072000, size_iops_sec=16,
                  group_name="g", total_bytes_sec_max_length=3)
    expected = """
              <iotune>
                <read_bytes_sec>1024000</read_bytes_sec>
                <read_iops_sec>1000</read_iops_sec>
                <write_bytes_sec>1024000</write_bytes_sec>
                <write_iops_sec>1000</write_iops_sec>
                <total_bytes_sec>2048000</total_bytes_sec>
                <total_iops_sec>2000</total_iops_sec>
                <read_bytes_sec_max>1536000</read_bytes_sec_max>
                <write_bytes_sec_max>1536000</write_bytes_sec_max>
                <total_bytes_sec_max>3072000</total_bytes_sec_max>
                <read_iops_sec_max>1500</read_iops_sec_max>
                <write_iops_sec_max>1500</write_iops_sec_max>
                <total_iops_sec_max>2000</total_iops_sec_max>
                <size_iops_sec>16</size_iops_sec>
              </iotune>"""
    # Nova's config object has no group/length attributes: they cannot reach its XML.
    assert render_iotune(tune) == squash(expected)
    assert squash(render_iotune(tune, level=7)) == squash(expected)


def test_iotune_libvirt_form_group_and_lengths() -> None:
    tune = IoTune(total_bytes_sec=5000, total_iops_sec=6000, total_bytes_sec_max=10000,
                  total_iops_sec_max=11000, total_bytes_sec_max_length=3,
                  total_iops_sec_max_length=5, group_name="a&b", read_bytes_sec=0)
    # libvirt tests/qemuxml2argvdata/blkdeviotune-max-length.xml order, plus group_name.
    assert render_iotune(tune, form="libvirt", level=3) == """\
      <iotune>
        <total_bytes_sec>5000</total_bytes_sec>
        <total_iops_sec>6000</total_iops_sec>
        <total_bytes_sec_max>10000</total_bytes_sec_max>
        <total_iops_sec_max>11000</total_iops_sec_max>
        <group_name>a&amp;b</group_name>
        <total_bytes_sec_max_length>3</total_bytes_sec_max_length>
        <total_iops_sec_max_length>5</total_iops_sec_max_length>
      </iotune>"""
    assert render_iotune(IoTune(read_bytes_sec=0), form="libvirt") == ""
    assert render_iotune(IoTune(read_bytes_sec=0)) == (
        "<iotune><read_bytes_sec>0</read_bytes_sec></iotune>")


def test_boot_from_volume_root_gets_no_flavor_quota() -> None:
    quota = FlavorQuota(disk=DiskQuota(total_iops_sec=500))
    cinder = IoTune(total_bytes_sec=10485760, total_bytes_sec_max=20971520)
    srv = server(image_id=None, volumes=(Volume(id="vol-root", target_dev="vda"),
                                         Volume(id="vol-data", target_dev="vdc")))
    spec = compile_domain(srv, Flavor("f", ephemeral=1, swap=512), quota, (), MODERN,
                          volume_iotunes={"vol-data": cinder}, image_id_fallback="img-x")
    by_dev = {d.target_dev: d for d in spec.disks}
    assert [d.target_dev for d in spec.disks] == ["vda", "vdb", "vdc", "vdd"]
    assert (by_dev["vda"].source_kind, by_dev["vda"].iotune) == ("volume", None)
    assert (by_dev["vdc"].source_kind, by_dev["vdc"].iotune) == ("volume", cinder)
    # disk.local and disk.swap are image-backed local disks: the flavor quota applies.
    assert by_dev["vdb"].source_file.endswith("/u-1/disk.local")
    assert by_dev["vdd"].source_file.endswith("/u-1/disk.swap")
    assert by_dev["vdb"].iotune == by_dev["vdd"].iotune == IoTune(total_iops_sec=500)
    assert spec.metadata.root_image_id == "img-x"
    assert '<disk type="block" device="disk">' in render_domain_xml(spec)


def test_image_root_backing_file_is_the_sha1_cache_name() -> None:
    spec = compile_domain(server(image_id="c11a1c31-f703-4ae6-a689-5a6b9a624625", id="x"),
                          Flavor("f"), FlavorQuota(), (), PIKE)
    assert spec.disks[0].backing_file == (
        "/var/lib/nova/instances/_base/a24c93285792d6ac5a718a70a6ef23e119f98f54")


@pytest.mark.parametrize(("dev", "alias"), [("vda", "virtio-disk0"), ("vdb", "virtio-disk1"),
                                            ("vdz", "virtio-disk25"), ("vdaa", "virtio-disk26")])
def test_disk_alias(dev: str, alias: str) -> None:
    assert disk_alias(dev) == alias


# --- bandwidth (nova designer.py set_vif_bandwidth_config) -----------------------------------

BW_QUOTA = FlavorQuota(vif_inbound=vif(100, 200, 300), vif_outbound=vif(10, 20, 30))
BW_XML = """
             <bandwidth>
              <inbound average="100" peak="200" burst="300"/>
              <outbound average="10" peak="20" burst="30"/>
             </bandwidth>"""


def iface(vif_type: VifType, bandwidth: Bandwidth | None, **kw: object) -> InterfaceDevice:
    base: dict[str, object] = {"vif_type": vif_type, "mac": MAC, "port_id": PORT_ID,
                               "dev": "nicdc065497-3c", "bandwidth": bandwidth, "mtu": 9000}
    return InterfaceDevice(**(base | kw))  # type: ignore[arg-type]


def test_bandwidth_ovs_native_ethernet_test_vif() -> None:
    bandwidth = compile_bandwidth(BW_QUOTA, VifType.ETHERNET)
    expected = """
            <interface type="ethernet">
             <mac address="22:52:25:62:e2:aa"/>
             <model type="virtio"/>
             <mtu size="9000"/>
             <target dev="nicdc065497-3c"/>""" + BW_XML + """
            </interface>"""
    assert render_interface(iface(VifType.ETHERNET, bandwidth, source="")) == squash(expected)


def test_bandwidth_ovs_hybrid_test_vif() -> None:
    bandwidth = compile_bandwidth(BW_QUOTA, VifType.OVS_HYBRID)
    expected = """
            <interface type="bridge">
             <mac address="22:52:25:62:e2:aa"/>
             <model type="virtio"/>
             <source bridge="br100"/>
             <mtu size="9000"/>
             <target dev="nicdc065497-3c"/>""" + BW_XML + """
            </interface>"""
    assert render_interface(iface(VifType.OVS_HYBRID, bandwidth, source="br100")) == squash(
        expected)


def test_bandwidth_is_last_child_in_nova_form_and_after_virtualport_in_libvirt_form() -> None:
    bandwidth = Bandwidth(inbound=BandwidthSide(KBytesPerSec(1)))
    device = iface(VifType.OVS_BRIDGE, bandwidth, source="br-int", dev="tapdc065497-3c")
    assert render_interface(device) == (
        '<interface type="bridge"><mac address="22:52:25:62:e2:aa"/><model type="virtio"/>'
        '<source bridge="br-int"/><mtu size="9000"/><target dev="tapdc065497-3c"/>'
        '<virtualport type="openvswitch"><parameters interfaceid="'
        'dc065497-3c8d-4f44-8fb4-e1d33c16a536"/></virtualport>'
        '<bandwidth><inbound average="1"/></bandwidth></interface>')
    assert render_interface(device, form="libvirt", running=False, mtu=False) == (
        "<interface type='bridge'><mac address='22:52:25:62:e2:aa'/><source bridge='br-int'/>"
        "<virtualport type='openvswitch'><parameters interfaceid="
        "'dc065497-3c8d-4f44-8fb4-e1d33c16a536'/></virtualport>"
        "<bandwidth><inbound average='1'/></bandwidth><target dev='tapdc065497-3c'/>"
        "<model type='virtio'/></interface>")


@pytest.mark.parametrize("vif_type", [VifType.VHOSTUSER, VifType.HOSTDEV])
def test_no_bandwidth_for_vhostuser_and_hostdev(vif_type: VifType) -> None:
    assert compile_bandwidth(BW_QUOTA, vif_type) is None
    port = Port(id=PORT_ID, network_id="n", mac=MAC, vif_type=vif_type)
    spec = compile_domain(server(), Flavor("f"), BW_QUOTA, (port,), MODERN)
    assert spec.interfaces[0].bandwidth is None
    for form in ("nova", "libvirt"):
        assert "<bandwidth" not in render_domain_xml(spec, form=form)


def test_vhostuser_and_hostdev_nova_form() -> None:
    port = Port(id=PORT_ID, network_id="n", mac=MAC, vif_type=VifType.VHOSTUSER)
    spec = compile_domain(server(), Flavor("f"), BW_QUOTA, (port,), MODERN)
    assert render_interface(spec.interfaces[0]) == (
        '<interface type="vhostuser"><mac address="22:52:25:62:e2:aa"/><model type="virtio"/>'
        '<source type="unix" mode="client" path="/var/run/openvswitch/vhudc065497-3c"/>'
        '<target dev="vhudc065497-3c"/></interface>')
    port = replace(port, vif_type=VifType.HOSTDEV)
    spec = compile_domain(server(), Flavor("f"), BW_QUOTA, (port,), MODERN,
                          vf_pci_addresses={PORT_ID: "0000:0a:00.1"})
    # nova test_vif.py test_config_os_vif_hostdevice_ethernet (XML matcher).
    assert render_interface(spec.interfaces[0]) == squash("""
            <interface type="hostdev" managed="yes">
             <mac address="22:52:25:62:e2:aa"/>
             <source>
              <address type="pci" domain="0x0000"
               bus="0x0a" slot="0x00" function="0x1"/>
             </source>
            </interface>""")


def test_sriov_agent_vf_gets_the_flavor_bandwidth_and_its_vlan() -> None:
    # nova vif.py get_config_hw_veb: net_type 'hostdev' for vnic direct, the VLAN from
    # vif_details, then designer.set_vif_bandwidth_config — unlike os-vif's VIFHostDevice.
    assert compile_bandwidth(BW_QUOTA, VifType.HW_VEB) is not None
    port = Port(id=PORT_ID, network_id="n", mac=MAC, vif_type=VifType.HW_VEB)
    vlan100 = Network("n", id="n", network_type="vlan", physical_network="physnet1",
                      segmentation_id=100)
    spec = compile_domain(server(), Flavor("f"), BW_QUOTA, (port,), MODERN, networks=[vlan100],
                          vf_pci_addresses={PORT_ID: "0000:0a:00.1"})
    # nova test_vif.py test_hw_veb_driver: type, PCI source, MAC and VLAN 100; LibvirtConfig-
    # GuestInterface.format_dom's order: mac, (no model), source, vlan, bandwidth last.
    assert render_interface(spec.interfaces[0]) == squash("""
            <interface type="hostdev" managed="yes">
             <mac address="22:52:25:62:e2:aa"/>
             <source>
              <address type="pci" domain="0x0000"
               bus="0x0a" slot="0x00" function="0x1"/>
             </source>
             <vlan>
              <tag id="100"/>
             </vlan>""" + BW_XML + """
            </interface>""")
    # libvirt 9.0's own order (virsh dumpxml here): mac, source, vlan, bandwidth.
    assert render_interface(spec.interfaces[0], form="libvirt", running=False, mtu=False) == (
        "<interface type='hostdev' managed='yes'><mac address='22:52:25:62:e2:aa'/><source>"
        "<address type='pci' domain='0x0000' bus='0x0a' slot='0x00' function='0x1'/></source>"
        "<vlan><tag id='100'/></vlan><bandwidth><inbound average='100' peak='200' burst='300'/>"
        "<outbound average='10' peak='20' burst='30'/></bandwidth></interface>")


@pytest.mark.parametrize(("network", "tag"), [
    (Network("n", id="n", network_type="flat", physical_network="physnet1"), "0"),
    (Network("n", id="n", network_type="vlan", segmentation_id=4094), "4094"),
])
def test_hw_veb_vlan_is_the_segment_or_flat_zero(network: Network, tag: str) -> None:
    # mech_sriov _get_vif_details: str(segmentation_id), FLAT_VLAN = 0; "0" is a true string.
    port = Port(id=PORT_ID, network_id="n", mac=MAC, vif_type=VifType.HW_VEB)
    spec = compile_domain(server(), Flavor("f"), FlavorQuota(), (port,), MODERN,
                          networks=[network])
    assert spec.interfaces[0].vlan == tag
    assert f'<vlan><tag id="{tag}"/></vlan>' in render_interface(spec.interfaces[0])


def test_os_vif_host_device_gets_no_vlan() -> None:
    # _set_config_VIFHostDevice passes vlan None to set_vif_host_backend_hw_veb.
    port = Port(id=PORT_ID, network_id="n", mac=MAC, vif_type=VifType.HOSTDEV)
    vlan = Network("n", id="n", segmentation_id=7)
    spec = compile_domain(server(), Flavor("f"), BW_QUOTA, (port,), MODERN, networks=[vlan])
    assert spec.interfaces[0].vlan is None
    assert "<vlan" not in render_interface(spec.interfaces[0])


def test_inbound_peak_only_gives_no_bandwidth() -> None:
    assert compile_bandwidth(FlavorQuota(vif_inbound=vif(peak=200)), VifType.OVS_HYBRID) is None


def test_inbound_average_zero_is_set() -> None:
    bandwidth = compile_bandwidth(FlavorQuota(vif_inbound=vif(0)), VifType.ETHERNET)
    assert bandwidth == Bandwidth(inbound=BandwidthSide(KBytesPerSec(0)))
    assert render_bandwidth(bandwidth) == '<bandwidth><inbound average="0"/></bandwidth>'
    # libvirt drops a zero average when formatting: an empty <bandwidth> remains [obs].
    assert render_bandwidth(bandwidth, form="libvirt", level=0) == "<bandwidth>\n</bandwidth>"


@pytest.mark.parametrize(("quota", "expected"), [
    (FlavorQuota(vif_outbound=vif(32768, burst=131072)),
     Bandwidth(outbound=BandwidthSide(KBytesPerSec(32768), burst=KiB(131072)))),
    # A side's peak/burst without its average is dropped; the other side still counts.
    (FlavorQuota(vif_inbound=vif(peak=5, burst=6), vif_outbound=vif(7)),
     Bandwidth(outbound=BandwidthSide(KBytesPerSec(7)))),
    (FlavorQuota(vif_outbound=vif(burst=6)), None),
])
def test_compile_bandwidth_table(quota: FlavorQuota, expected: Bandwidth | None) -> None:
    assert compile_bandwidth(quota, VifType.MACVTAP) == expected


@pytest.mark.parametrize(("vif_type", "dev", "source", "kind"), [
    (VifType.OVS_HYBRID, "tapdc065497-3c", "qbrdc065497-3c", "bridge"),
    (VifType.OVS_BRIDGE, "tapdc065497-3c", "br-int", "bridge"),
    (VifType.ETHERNET, "tapdc065497-3c", None, "ethernet"),
    (VifType.MACVTAP, "macvtap0", "eth1", "direct"),
])
def test_interface_devices_per_vif_type(vif_type: VifType, dev: str, source: str | None,
                                        kind: str) -> None:
    port = Port(id=PORT_ID, network_id="net-a", mac=MAC, vif_type=vif_type)
    spec = compile_domain(server(domain_id=7), Flavor("f"), BW_QUOTA, (port,), MODERN,
                          networks=(Network("a", id="net-a", mtu=1450),))
    (device,) = spec.interfaces
    assert (device.dev, device.alias, device.mtu) == (dev, "net0", 1450)
    (parsed,) = parse_domain_xml(render_domain_xml(spec, form="libvirt")).interfaces
    assert (parsed.type, parsed.source, parsed.mac) == (kind, source, MAC)
    assert parsed.bandwidth == compile_bandwidth(BW_QUOTA, vif_type)


# --- libvirt parse rules (netdev_bandwidth_conf.c virNetDevBandwidthParse) -------------------


def domain_with(bandwidth: str, kind: str = "bridge") -> str:
    return (f"<domain type='kvm'><name>d</name><devices><interface type='{kind}'>"
            f"<mac address='{MAC}'/><bandwidth>{bandwidth}</bandwidth>"
            "</interface></devices></domain>")


@pytest.mark.parametrize(("bandwidth", "message"), [
    # virNetDevBandwidthParseRate tests "average or floor" first: peak alone fails on that.
    ("<inbound peak='10'/>", "Missing mandatory average or floor attributes"),
    ("<inbound peak='10' floor='3'/>", "'peak' and 'burst' require 'average' attribute"),
    ("<outbound burst='10' floor='1'/>", "'peak' and 'burst' require 'average' attribute"),
    ("<inbound/>", "Missing mandatory average or floor attributes"),
    ("<outbound average=''/>", "could not convert bandwidth average value ''"),
    ("<inbound average='-1'/>", "could not convert bandwidth average value '-1'"),
    ("<inbound average='18446744073709551616'/>",
     "could not convert bandwidth average value '18446744073709551616'"),
    ("<inbound average='1' peak='1.5'/>", "could not convert bandwidth peak value '1.5'"),
    ("<inbound average='1' burst='0x10'/>", "could not convert bandwidth burst value '0x10'"),
    ("<inbound average='1' floor='5'/>", "floor attribute is not supported for this config"),
    ("<outbound average='1' floor='5'/>", "'floor' attribute allowed only in <inbound> element"),
])
def test_bandwidth_parse_errors(bandwidth: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_domain_xml(domain_with(bandwidth))
    assert caught.value.message == message
    assert caught.value.key is not None and caught.value.key.startswith("bandwidth")


@pytest.mark.parametrize(("bandwidth", "expected"), [
    ("<inbound average='18446744073709551615'/>",
     Bandwidth(inbound=BandwidthSide(KBytesPerSec(U64)))),
    ("<inbound average=' +7' floor='0'/><inbound average='9'/>",
     Bandwidth(inbound=BandwidthSide(KBytesPerSec(7)))),
    ("<outbound average='0' peak='0' burst='0'/>",
     Bandwidth(outbound=BandwidthSide(KBytesPerSec(0), KBytesPerSec(0), KiB(0)))),
    ("", None),
    ("<foo/>", None),
])
def test_bandwidth_parse_accepts(bandwidth: str, expected: Bandwidth | None) -> None:
    (parsed,) = parse_domain_xml(domain_with(bandwidth)).interfaces
    assert parsed.bandwidth == expected


def test_floor_on_a_network_interface_is_unsupported_here() -> None:
    with pytest.raises(UnsupportedError):
        parse_domain_xml(domain_with("<inbound average='1' floor='5'/>", kind="network"))


@pytest.mark.parametrize(("text", "message"), [
    ("<domain><name>d</name><cputune><shares>x</shares></cputune></domain>",
     "can't parse cputune shares value"),
    ("<domain><name>d</name><devices><disk><iotune><read_iops_sec>-5</read_iops_sec></iotune>"
     "</disk></devices></domain>", "disk iotune field 'read_iops_sec' must be an integer"),
    ("<domain><uuid>x</uuid></domain>", "missing name information"),
    ("<network><name>d</name></network>", "expecting root element of 'domain', not 'network'"),
])
def test_other_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_domain_xml(text)
    assert caught.value.message == message


@pytest.mark.parametrize(("unit", "kib"), [("KiB", 1024), ("k", 1024), ("MiB", 1048576),
                                           ("KB", 1000), ("b", 1), ("G", 1073741824)])
def test_memory_units(unit: str, kib: int) -> None:
    text = f"<domain><name>d</name><memory unit='{unit}'>1024</memory></domain>"
    assert parse_domain_xml(text).memory_kib == kib


def test_unknown_form_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        render_cputune(CpuTune(shares=1), form="virsh")
    assert caught.value.key == "form"


def test_escaping_in_both_forms() -> None:
    spec = replace(_SPEC, name="a&b<c>'\"d")
    for form in ("nova", "libvirt"):
        assert parse_domain_xml(render_domain_xml(spec, form=form)).name == "a&b<c>'\"d"
    assert "<name>a&amp;b&lt;c&gt;&apos;&quot;d</name>" in render_domain_xml(spec, form="libvirt")
    assert "<name>a&amp;b&lt;c&gt;'\"d</name>" in render_domain_xml(spec, form="nova")


# --- property: render -> parse keeps the QoS ---------------------------------------------------

_META = NovaMetadata("33.0.0", "vm & co", "2024-01-01 00:00:00", "m1", 512, 1, 0, 0, 1,
                     "u", "uid", "p", "pid", "img")
_SPEC = DomainSpec(name="instance-1", uuid="u-1", metadata=_META, memory_kib=524288, vcpus=1,
                   cputune=None, disks=(), interfaces=())

u64 = st.integers(0, U64)
opt_u64 = st.none() | u64
sides = st.builds(BandwidthSide, u64.map(KBytesPerSec), opt_u64.map(
    lambda v: None if v is None else KBytesPerSec(v)), opt_u64.map(
    lambda v: None if v is None else KiB(v)))
bandwidths = st.none() | st.builds(Bandwidth, st.none() | sides, st.none() | sides)
s64 = st.integers(-(1 << 63), (1 << 63) - 1)
cputunes = st.none() | st.builds(CpuTune, opt_u64, st.none() | s64, opt_u64)
iotunes = st.none() | st.builds(
    IoTune, **dict.fromkeys((*IOTUNE_BASE_KEYS, *IOTUNE_LENGTH_KEYS), opt_u64),
    group_name=st.none() | st.text("ab&<>'\" _-", max_size=6))
devs = st.integers(0, 700).map(lambda i: "vd" + (chr(97 + i // 26 - 1) if i >= 26 else "")
                               + chr(97 + i % 26))
disks = st.builds(DiskDevice, target_dev=devs, source_file=st.just("/x/disk"),
                  source_kind=st.sampled_from(("image", "volume")), iotune=iotunes,
                  backing_file=st.none() | st.just("/x/_base/y"))
interfaces = st.builds(
    InterfaceDevice, vif_type=st.sampled_from(list(VifType)), mac=st.just(MAC),
    port_id=st.uuids().map(str), dev=st.just("tap0123"), source=st.just("0000:0a:00.1"),
    bandwidth=bandwidths, mtu=st.integers(68, 9000))
specs = st.builds(
    replace, st.just(_SPEC), cputune=cputunes, disks=st.lists(disks, max_size=3).map(tuple),
    interfaces=st.lists(interfaces, max_size=3).map(tuple),
    domain_id=st.none() | st.integers(1, 99999),
    machine=st.sampled_from(("pc-i440fx-rhel7.4.0", "pc-q35-9.0")))


def nova_view(spec: DomainSpec) -> tuple[object, ...]:
    def io(t: IoTune | None) -> IoTune | None:
        kept = IoTune(**{k: getattr(t, k) for k in IOTUNE_BASE_KEYS}) if t else None
        return None if kept is None or kept.is_empty() else kept

    def bw(b: Bandwidth | None) -> Bandwidth | None:
        return None if b is None or (b.inbound is None and b.outbound is None) else b

    return (spec.cputune, [io(d.iotune) for d in spec.disks],
            [bw(i.bandwidth) for i in spec.interfaces])


def libvirt_view(spec: DomainSpec) -> tuple[object, ...]:
    """What `virsh dumpxml` can show: libvirt omits zero values (and empty elements)."""
    def ct(t: CpuTune | None) -> CpuTune | None:
        kept = t and CpuTune(shares=t.shares, quota=t.quota or None, period=t.period or None)
        return None if not kept or kept.is_empty() else kept

    def io(t: IoTune | None) -> IoTune | None:
        if t is None:
            return None
        kept = IoTune(**{k: getattr(t, k) or None for k in (*IOTUNE_BASE_KEYS,
                                                            *IOTUNE_LENGTH_KEYS)},
                      group_name=t.group_name or None)
        return None if kept.is_empty() else kept

    def side(s: BandwidthSide | None) -> BandwidthSide | None:
        return None if not s or not s.average else BandwidthSide(
            s.average, s.peak or None, s.burst or None)

    def bw(b: Bandwidth | None) -> Bandwidth | None:
        kept = b and Bandwidth(side(b.inbound), side(b.outbound))
        return None if not kept or (kept.inbound is None and kept.outbound is None) else kept

    return (ct(spec.cputune), [io(d.iotune) for d in spec.disks],
            [bw(i.bandwidth) for i in spec.interfaces])


def parsed_view(text: str) -> tuple[object, ...]:
    parsed = parse_domain_xml(text)
    return (parsed.cputune, [d.iotune for d in parsed.disks],
            [i.bandwidth for i in parsed.interfaces])


@settings(max_examples=300, deadline=None)
@given(specs)
def test_render_parse_round_trip(spec: DomainSpec) -> None:
    nova = render_domain_xml(spec, form="nova")
    assert parsed_view(nova) == nova_view(spec)
    libvirt = render_domain_xml(spec, form="libvirt", host=HostDetails(selinux_mcs="c1"))
    assert parsed_view(libvirt) == libvirt_view(spec)
    parsed = parse_domain_xml(libvirt)
    assert (parsed.name, parsed.uuid, parsed.domain_id) == (spec.name, spec.uuid, spec.domain_id)
    assert [d.target_dev for d in parsed.disks] == [d.target_dev for d in spec.disks]
    assert [(i.type, i.mac) for i in parsed.interfaces] == [
        (i.vif_type.libvirt_type, i.mac) for i in spec.interfaces]
    assert [i.interfaceid for i in parsed.interfaces] == [
        i.port_id if i.vif_type is VifType.OVS_BRIDGE else None for i in spec.interfaces]


@given(iotunes.filter(lambda t: t is not None))
def test_disk_fragment_round_trip(tune: IoTune | None) -> None:
    disk = DiskDevice("vdb", "/x", iotune=tune)
    for form in ("nova", "libvirt"):
        text = f"<domain><name>d</name><devices>{render_disk(disk, form=form)}</devices></domain>"
        expected = (nova_view if form == "nova" else libvirt_view)(replace(_SPEC, disks=(disk,)))
        assert parsed_view(text)[1] == expected[1]


# --- performance -------------------------------------------------------------------------------


def test_renders_2000_domains_per_second() -> None:
    ports = tuple(Port(id=f"{i:08d}-75e5-483f-88fd-cec050652945", network_id="n",
                       mac=f"fa:16:3e:00:00:{i:02x}", vif_type=VifType.OVS_BRIDGE)
                  for i in range(3))
    quota = FlavorQuota(cpu_shares=512, disk=DiskQuota(read_bytes_sec=1000000),
                        vif_inbound=vif(32768, 65536, 131072), vif_outbound=vif(32768))
    spec = compile_domain(server(domain_id=3), Flavor("f"), quota, ports, PIKE)
    host = HostDetails(cpu_model="Skylake-Client", pty="/dev/pts/1", selinux_mcs="c1,c2")
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(200):
            render_domain_xml(spec, form="libvirt", host=host)
            render_domain_xml(spec, form="nova", host=host)
        best = max(best, 400 / (time.perf_counter() - start))
    assert best >= 2000, f"{best:.0f} documents/s"


def test_forms_are_named_by_xml_form() -> None:
    spec = compile_domain(server(domain_id=3), Flavor("f"), FlavorQuota(cpu_shares=512), [], PIKE)
    assert [f.value for f in XmlForm] == ["nova", "libvirt"]
    for form in XmlForm:
        assert render_domain_xml(spec, form=form) == render_domain_xml(spec, form=form.value)
    assert render_domain_xml(spec, form=XmlForm.LIBVIRT) != render_domain_xml(spec)
