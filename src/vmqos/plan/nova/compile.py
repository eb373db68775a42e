"""Compile one server's intent into the :class:`DomainSpec` Nova's libvirt driver hands to libvirt.

Input is already-validated intent (a :class:`FlavorQuota` from ``parse_flavor_quota``, scenario
:class:`Server`/:class:`Port` values, Cinder front-end QoS already converted to :class:`IoTune`);
output is plan data with libvirt's units. Nothing here does I/O.

Invariants (each encodes Nova behaviour in nova/virt/libvirt/{driver,config,designer,vif}.py):

* ``<cputune>``: the flavor's ``quota:cpu_{shares,quota,period}`` verbatim; on a profile with
  ``nova_default_shares`` (Kilo..Yoga, bug 1383377) ``shares`` defaults to ``1024 * vcpus``;
  otherwise (Zed+, bug 1978489) no ``<cputune>`` at all when the flavor sets none.
* ``<iotune>`` from the six ``quota:disk_*`` keys lands on image-backed local disks only (root
  ``disk`` when the server boots from an image, ``disk.local``, ``disk.swap``). Cinder volumes,
  boot-from-volume root included, get only ``volume_iotunes[volume.id]`` — never the flavor's.
* ``<iotune>`` and ``<bandwidth>`` keep Nova's strings (``verbatim``): neither
  ``Image.disk_qos`` nor ``set_vif_bandwidth_config`` converts them; ``<cputune>`` gets
  ``int()``'s numbers (``_update_guest_cputune``).
* ``<bandwidth>`` follows ``designer.set_vif_bandwidth_config`` + ``LibvirtConfigGuestInterface``:
  present only if an inbound or outbound ``average`` is set (``0`` counts: Nova copies the string
  ``"0"``, which is truthy), a side's peak/burst only with that side's average, and never for
  os-vif's vhost-user or host devices (bug 1814882). The SR-IOV NIC agent's VFs (``hw_veb``)
  take Nova's legacy path, ``get_config_hw_veb``, which does write it — and libvirt refuses
  the domain for it (:attr:`VifType.libvirt_refuses_bandwidth`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from vmqos.intent.neutron.network import Network, Port, tap_name
from vmqos.intent.nova.flavor import Flavor, FlavorQuota, VifQuota
from vmqos.intent.scenario import Server
from vmqos.libvirt_types import (
    Bandwidth,
    BandwidthSide,
    CpuTune,
    DiskDevice,
    DomainSpec,
    InterfaceDevice,
    IoTune,
    NovaMetadata,
)
from vmqos.model import VifType
from vmqos.profile import Profile
from vmqos.units import mib_to_kib

__all__ = [
    "compile_bandwidth",
    "compile_cputune",
    "compile_domain",
    "compile_flavor_iotune",
    "disk_alias",
]

# Nova's default [DEFAULT]instance_name_template is "instance-%08x" of the database id, which a
# scenario may not know; the first instance of a fresh cloud is the stand-in.
_FALLBACK_INSTANCE_NAME = "instance-00000001"
# The host path of an attached volume depends on the os-brick connector (iSCSI by-path, RBD
# network disk, FC ...); QoS does not, so one recognisable stand-in is used.
_VOLUME_SOURCE = "/dev/disk/by-id/volume-{id}"
# os-vif's vhost-user socket directory for OVS (VIFVHostUser.path).
_VHOSTUSER_DIR = "/var/run/openvswitch"


def compile_bandwidth(quota: FlavorQuota, vif_type: VifType) -> Bandwidth | None:
    """The ``<bandwidth>`` Nova writes for one port of this flavor, or ``None`` for none.

    Hot path of explain (called per port): two attribute tests before any allocation.
    """
    inbound = quota.vif_inbound
    outbound = quota.vif_outbound
    # LibvirtConfigGuestInterface.format_dom: `if self.vif_inbound_average or
    # self.vif_outbound_average` — a peak or burst alone produces nothing.
    if inbound.average is None and outbound.average is None:
        return None
    # _get_config_os_vif skips set_vif_bandwidth_config for VIFVHostUser and VIFHostDevice.
    if not vif_type.nova_sets_bandwidth:
        return None
    return Bandwidth(inbound=_side(inbound), outbound=_side(outbound))


def _side(quota: VifQuota) -> BandwidthSide | None:
    # format_dom writes <inbound>/<outbound> only when that side's average is not None; the
    # side's peak/burst are attributes of that element, so without an average they vanish.
    if quota.average is None:
        return None
    # Nova's strings go along: set_vif_bandwidth_config copies them unconverted.
    return BandwidthSide(average=quota.average, peak=quota.peak, burst=quota.burst,
                         verbatim=quota.verbatim)


def compile_cputune(quota: FlavorQuota, vcpus: int, profile: Profile) -> CpuTune | None:
    """``LibvirtDriver._update_guest_cputune`` for a kvm guest on a cpu-controller-capable host."""
    shares = quota.cpu_shares
    if shares is None and profile.nova_default_shares:
        # Kilo..Yoga (commit 21a07f92e8): guest.cputune.shares = 1024 * guest.vcpus, then the
        # flavor's quota:cpu_* keys override.
        shares = 1024 * vcpus
    tune = CpuTune(shares=shares, quota=quota.cpu_quota, period=quota.cpu_period)
    # Zed+ (commit f77a9fee5b): the CPUTune object is created only when a key is present.
    return None if tune.is_empty() else tune


def compile_flavor_iotune(quota: FlavorQuota) -> IoTune | None:
    """``Image.disk_qos``: the six flavor disk keys (``tune_items``), nothing else, as the
    strings they are (``verbatim``)."""
    disk = quota.disk
    tune = IoTune(read_bytes_sec=disk.read_bytes_sec, read_iops_sec=disk.read_iops_sec,
                  write_bytes_sec=disk.write_bytes_sec, write_iops_sec=disk.write_iops_sec,
                  total_bytes_sec=disk.total_bytes_sec, total_iops_sec=disk.total_iops_sec,
                  verbatim=disk.verbatim)
    return None if tune.is_empty() else tune


def _disk_index(dev: str) -> int:
    """libvirt's ``virDiskNameToIndex``: ``vda`` -> 0, ``vdz`` -> 25, ``vdaa`` -> 26."""
    index = 0
    for char in dev[2:]:
        index = index * 26 + (ord(char) - ord("a") + 1)
    return index - 1


def _disk_name(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return "vd" + letters


def disk_alias(dev: str) -> str:
    """libvirt's virtio disk alias (``qemuAssignDeviceDiskAlias``): ``vdb`` -> ``virtio-disk1``."""
    return f"virtio-disk{_disk_index(dev)}"


def _interface(
    index: int,
    port: Port,
    bandwidth: Bandwidth | None,
    mtu: int,
    *,
    vlan: str | None,
    physical_dev: str,
    integration_bridge: str,
    vf_pci_addresses: Mapping[str, str],
) -> InterfaceDevice:
    vif = port.vif_type
    dev = tap_name(port.id)
    if vif is VifType.OVS_HYBRID:
        source = "qbr" + port.id[:11]          # os-vif VIFBridge.bridge_name
    elif vif is VifType.OVS_BRIDGE:
        source = integration_bridge            # + <virtualport type='openvswitch'>
    elif vif is VifType.ETHERNET:
        source = ""                            # os-vif plugs the tap itself: no <source>
    elif vif is VifType.MACVTAP:
        # libvirt names macvtap devices macvtapN from a host-wide counter; N is a stand-in.
        dev, source = f"macvtap{index}", physical_dev
    elif vif is VifType.VHOSTUSER:
        dev = "vhu" + port.id[:11]
        source = f"{_VHOSTUSER_DIR}/{dev}"
    else:  # HOSTDEV, HW_VEB: the VF's PCI address is the <source>; no host netdev in the XML.
        dev = ""
        source = vf_pci_addresses.get(port.id, f"0000:0a:00.{index % 8}")
    return InterfaceDevice(
        vif_type=vif,
        mac=port.mac,
        port_id=port.id,
        dev=dev,
        source=source,
        bandwidth=bandwidth,
        alias=f"net{index}",
        mtu=mtu,
        vlan=vlan,
    )


def _hw_veb_vlan(network: Network | None) -> str:
    """The VLAN the SR-IOV NIC agent's driver binds (mech_sriov ``_get_vif_details``:
    ``str(segmentation_id)``, ``"0"`` on a flat network), which ``get_config_hw_veb`` writes as
    ``<vlan><tag id=.../></vlan>`` — ``"0"`` included, as a non-empty string is true. A
    network that does not say its VLAN gets the flat network's 0, a stand-in."""
    if network is None or network.network_type != "vlan" or network.segmentation_id is None:
        return "0"
    return str(network.segmentation_id)


def compile_domain(
    server: Server,
    flavor: Flavor,
    quota: FlavorQuota,
    ports: Sequence[Port],
    profile: Profile,
    *,
    volume_iotunes: Mapping[str, IoTune] | None = None,
    image_id_fallback: str | None = None,
    networks: Sequence[Network] = (),
    physical_dev: str = "eth1",
    integration_bridge: str = "br-int",
    instances_path: str = "/var/lib/nova/instances",
    vf_pci_addresses: Mapping[str, str] | None = None,
) -> DomainSpec:
    """The domain Nova builds for ``server`` (ports in NIC order).

    * ``volume_iotunes``: Cinder front-end QoS per volume id, already converted to ``IoTune``.
    * ``image_id_fallback``: the image recorded in ``<nova:root>`` when the server boots from a
      volume (Nova takes it from the volume's image metadata); ``None`` writes no root element.
    * ``networks``: to find each port's MTU (default 1500).
    * ``physical_dev``: the macvtap lower device (``<source dev=...>``; Nova reads it from the
      port's ``binding:vif_details`` ``physical_interface``, which a scenario does not carry).
    * ``integration_bridge``: ``<source bridge=...>`` of native OVS ports (``[ovs]`` default).
    * ``vf_pci_addresses``: port id -> VF PCI address for host-device ports (stand-in otherwise).
    """
    flavor_iotune = compile_flavor_iotune(quota)
    uuid = server.id
    volume_devs = {volume.target_dev for volume in server.volumes}
    disks: list[DiskDevice] = []
    if server.image_id is not None:
        # Image backend qcow2: the overlay's backing file is the image cache entry, named by
        # imagecache.get_cache_fname(): the SHA-1 of the image id.
        base = hashlib.sha1(server.image_id.encode(), usedforsecurity=False).hexdigest()
        disks.append(DiskDevice(
            target_dev="vda",
            source_file=f"{instances_path}/{uuid}/disk",
            backing_file=f"{instances_path}/_base/{base}",
            iotune=flavor_iotune,
            alias=disk_alias("vda"),
        ))
    taken = volume_devs | {disk.target_dev for disk in disks}
    local: list[tuple[str, str | None]] = []
    if flavor.ephemeral:
        # The ephemeral cache name carries a hash of the mkfs command, which is not modelled.
        local.append(("disk.local", None))
    if flavor.swap:
        local.append(("disk.swap", f"{instances_path}/_base/swap_{flavor.swap}"))
    next_index = 0
    for file_name, backing in local:
        while _disk_name(next_index) in taken:
            next_index += 1
        dev = _disk_name(next_index)
        taken.add(dev)
        disks.append(DiskDevice(
            target_dev=dev,
            source_file=f"{instances_path}/{uuid}/{file_name}",
            backing_file=backing,
            iotune=flavor_iotune,
            alias=disk_alias(dev),
        ))
    iotunes = volume_iotunes or {}
    for volume in server.volumes:
        disks.append(DiskDevice(
            target_dev=volume.target_dev,
            source_file=_VOLUME_SOURCE.format(id=volume.id),
            driver_type="raw",
            source_kind="volume",
            iotune=iotunes.get(volume.id),
            alias=disk_alias(volume.target_dev),
        ))
    disks.sort(key=lambda disk: _disk_index(disk.target_dev))

    by_ref = {network.id: network for network in networks}
    by_ref.update((network.name, network) for network in networks)
    bandwidths: dict[VifType, Bandwidth | None] = {}
    interfaces: list[InterfaceDevice] = []
    for index, port in enumerate(ports):
        if port.vif_type not in bandwidths:
            bandwidths[port.vif_type] = compile_bandwidth(quota, port.vif_type)
        network = by_ref.get(port.network_id)
        interfaces.append(_interface(
            index, port, bandwidths[port.vif_type], network.mtu if network else 1500,
            vlan=_hw_veb_vlan(network) if port.vif_type is VifType.HW_VEB else None,
            physical_dev=physical_dev,
            integration_bridge=integration_bridge,
            vf_pci_addresses=vf_pci_addresses or {},
        ))

    metadata = NovaMetadata(
        package_version=profile.nova_package_version,
        display_name=server.name,
        creation_time=server.created,
        flavor_name=flavor.name,
        memory_mib=flavor.ram,
        disk_gib=flavor.disk,
        swap_mib=flavor.swap,
        ephemeral_gib=flavor.ephemeral,
        vcpus=flavor.vcpus,
        user_name=server.user_name,
        user_id=server.user_id,
        project_name=server.project_name,
        project_id=server.project_id,
        root_image_id=server.image_id if server.image_id is not None else image_id_fallback,
    )
    return DomainSpec(
        name=server.instance_name or _FALLBACK_INSTANCE_NAME,
        uuid=uuid,
        metadata=metadata,
        memory_kib=mib_to_kib(flavor.ram),
        vcpus=flavor.vcpus,
        cputune=compile_cputune(quota, flavor.vcpus, profile),
        disks=tuple(disks),
        interfaces=tuple(interfaces),
        domain_id=server.domain_id,
        emulator=profile.emulator,
        machine=profile.machine,
    )
