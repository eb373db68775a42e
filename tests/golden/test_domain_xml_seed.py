"""Golden tests: the seed's two running domains (`virsh dumpxml`, Nova Pike / RHEL 7) rebuilt from
their inputs by compile_domain + render_domain_xml(form="libvirt"), compared as literal text."""

from __future__ import annotations

import pytest

from support import seed
from vmqos.libvirt_types import DomainSpec
from vmqos.plan.nova.compile import compile_domain
from vmqos.plan.render.domain_xml import (
    HostDetails,
    render_cputune,
    render_disk,
    render_domain_xml,
    render_interface,
)
from vmqos.plan.render.domain_xml_parse import parse_domain_xml

CASES = {
    "m1.normal": (seed.VM_NORMAL, seed.M1_NORMAL, seed.NORMAL_QUOTA, seed.NORMAL_PORTS,
                  seed.NORMAL_HOST, seed.NORMAL_XML),
    "m1.resquota": (seed.VM_RESQUOTA, seed.M1_RESQUOTA, seed.RESQUOTA_QUOTA,
                    seed.RESQUOTA_PORTS, seed.RESQUOTA_HOST, seed.RESQUOTA_XML),
}


def _compiled(case: str) -> tuple[DomainSpec, HostDetails, str]:
    server, flavor, quota, ports, host, path = CASES[case]
    return compile_domain(server, flavor, quota, ports, seed.PROFILE), host, path.read_text()


def _blocks(text: str, open_tag: str, close_tag: str) -> list[str]:
    """Every block of whole lines from a line holding ``open_tag`` to the next ``close_tag``."""
    lines = text.split("\n")
    out, start = [], None
    for index, line in enumerate(lines):
        if start is None and line.lstrip().startswith(open_tag):
            start = index
        if start is not None and line.strip() == close_tag:
            out.append("\n".join(lines[start:index + 1]))
            start = None
    return out


def _vda(text: str) -> str:
    (block,) = [b for b in _blocks(text, "<disk ", "</disk>") if "<target dev='vda'" in b]
    return block


# The QoS blocks of the resquota seed, copied literally from domain-m1.resquota.xml.
RESQUOTA_CPUTUNE = """\
  <cputune>
    <shares>512</shares>
  </cputune>"""
RESQUOTA_VDA = """\
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/nova/instances/850724a4-029c-457b-a99d-3a18e8e413da/disk'/>
      <backingStore type='file' index='1'>
        <format type='raw'/>
        <source file='/var/lib/nova/instances/_base/a24c93285792d6ac5a718a70a6ef23e119f98f54'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <iotune>
        <read_bytes_sec>1000000</read_bytes_sec>
        <write_bytes_sec>1024000</write_bytes_sec>
      </iotune>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>
    </disk>"""
RESQUOTA_NET0 = """\
    <interface type='bridge'>
      <mac address='fa:16:3e:8d:f3:ae'/>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='bb8410ad-a026-4e9a-8f0b-0e8f611d5588'/>
      </virtualport>
      <bandwidth>
        <inbound average='32768' peak='65536' burst='131072'/>
        <outbound average='32768' peak='65536' burst='131072'/>
      </bandwidth>
      <target dev='tapbb8410ad-a0'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>"""
NORMAL_CPUTUNE = """\
  <cputune>
    <shares>1024</shares>
  </cputune>"""


def test_literal_blocks_are_the_fixture_text() -> None:
    normal, resquota = seed.NORMAL_XML.read_text(), seed.RESQUOTA_XML.read_text()
    assert _blocks(resquota, "<cputune>", "</cputune>") == [RESQUOTA_CPUTUNE]
    assert _vda(resquota) == RESQUOTA_VDA
    assert _blocks(resquota, "<interface ", "</interface>")[0] == RESQUOTA_NET0
    assert _blocks(normal, "<cputune>", "</cputune>") == [NORMAL_CPUTUNE]


@pytest.mark.parametrize("case", CASES)
def test_cputune_block(case: str) -> None:
    spec, host, fixture = _compiled(case)
    expected = _blocks(fixture, "<cputune>", "</cputune>")
    assert _blocks(render_domain_xml(spec, form="libvirt", host=host),
                   "<cputune>", "</cputune>") == expected
    assert spec.cputune is not None
    assert [render_cputune(spec.cputune, form="libvirt", level=1)] == expected


def test_pike_default_shares_is_1024_per_vcpu_for_m1_normal() -> None:
    spec, _, _ = _compiled("m1.normal")
    assert render_cputune(spec.cputune, form="libvirt", level=1) == NORMAL_CPUTUNE  # type: ignore[arg-type]


def test_resquota_literal_blocks() -> None:
    spec, host, _ = _compiled("m1.resquota")
    assert render_cputune(spec.cputune, form="libvirt", level=1) == RESQUOTA_CPUTUNE  # type: ignore[arg-type]
    assert render_disk(spec.disks[0], form="libvirt", level=2, pci_slot=6) == RESQUOTA_VDA
    assert render_interface(spec.interfaces[0], form="libvirt", level=2, pci_slot=3,
                            mtu=host.interface_mtu) == RESQUOTA_NET0


@pytest.mark.parametrize("case", CASES)
def test_vda_disk_block_with_backing_store(case: str) -> None:
    spec, host, fixture = _compiled(case)
    expected = _vda(fixture)
    assert _vda(render_domain_xml(spec, form="libvirt", host=host)) == expected
    assert render_disk(spec.disks[0], form="libvirt", level=2, pci_slot=6) == expected


@pytest.mark.parametrize("case", CASES)
def test_interface_blocks(case: str) -> None:
    spec, host, fixture = _compiled(case)
    expected = _blocks(fixture, "<interface ", "</interface>")
    assert len(expected) == 3
    assert _blocks(render_domain_xml(spec, form="libvirt", host=host),
                   "<interface ", "</interface>") == expected
    fragments = [render_interface(iface, form="libvirt", level=2, pci_slot=3 + index,
                                  mtu=host.interface_mtu)
                 for index, iface in enumerate(spec.interfaces)]
    assert fragments == expected


@pytest.mark.parametrize("case", CASES)
def test_whole_document_equals_seed(case: str) -> None:
    spec, host, fixture = _compiled(case)
    assert render_domain_xml(spec, form="libvirt", host=host) == fixture


@pytest.mark.parametrize("case", CASES)
def test_seed_inputs_match_the_fixture(case: str) -> None:
    server, flavor, _, ports, _, path = CASES[case]
    parsed = parse_domain_xml(path.read_text())
    assert (parsed.name, parsed.uuid, parsed.domain_id) == (
        server.instance_name, server.id, server.domain_id)
    assert (parsed.vcpus, parsed.memory_kib) == (flavor.vcpus, flavor.ram * 1024)
    assert [(i.interfaceid, i.mac, i.target_dev) for i in parsed.interfaces] == [
        (p.id, p.mac, p.tap) for p in ports]


def test_resquota_extra_specs_are_the_notes_flavor_set() -> None:
    lines = seed.NOTE.read_text(encoding="utf-8").splitlines()
    start = lines.index("openstack flavor set m1.resquota \\") + 1
    options = [line.removesuffix(" \\") for line in lines[start:start + 9]]
    assert options == [f"--property {key}={value}"
                       for key, value in seed.RESQUOTA_EXTRA_SPECS.items()]


def test_parsed_seed_qos() -> None:
    parsed = parse_domain_xml(seed.RESQUOTA_XML.read_text())
    assert parsed.cputune is not None
    assert (parsed.cputune.shares, parsed.cputune.period, parsed.cputune.quota) == (512, None, None)
    (vda,) = parsed.disks
    assert vda.target_dev == "vda"
    assert vda.iotune is not None
    assert (vda.iotune.read_bytes_sec, vda.iotune.write_bytes_sec) == (1000000, 1024000)
    for iface in parsed.interfaces:
        assert iface.type == "bridge"
        assert iface.source == "br-int"
        assert iface.bandwidth is not None
        for side in (iface.bandwidth.inbound, iface.bandwidth.outbound):
            assert side is not None
            assert (side.average, side.peak, side.burst) == (32768, 65536, 131072)
    normal = parse_domain_xml(seed.NORMAL_XML.read_text())
    assert all(i.bandwidth is None for i in normal.interfaces)
    assert normal.disks[0].iotune is None


@pytest.mark.parametrize("case", CASES)
def test_nova_form_of_the_seed_round_trips(case: str) -> None:
    spec, host, fixture = _compiled(case)
    nova = parse_domain_xml(render_domain_xml(spec, form="nova", host=host))
    dumped = parse_domain_xml(fixture)
    assert nova.cputune == dumped.cputune
    assert [d.iotune for d in nova.disks] == [d.iotune for d in dumped.disks]
    assert [i.bandwidth for i in nova.interfaces] == [i.bandwidth for i in dumped.interfaces]
