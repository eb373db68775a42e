"""``virsh`` against the system libvirtd, and Nova's XML made definable here, for the libvirt
tests' fixtures and oracles.

Kept out of conftest.py so that test modules import it by a name no other test directory uses
(``from conftest import ...`` would get whichever conftest pytest imported last).
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from support.proc import sh

URI = "qemu:///system"

# ``define(nova_xml)`` (the conftest fixture): ``virsh define``'s result, as it is.
Define = Callable[[str], subprocess.CompletedProcess[str]]


def virsh(*args: str, check: bool = True) -> str:
    return sh("virsh", "-c", URI, *args, check=check, timeout=60)


def runnable_here(nova_xml: str, disk: Path, *, start: bool) -> str:
    """Nova's domain XML made definable on this machine, QoS elements untouched: TCG instead
    of KVM, QEMU's generic machine and CPU, the disk at ``disk``. A domain that is started
    also gets bare tap interfaces that libvirt names itself (OVS is not running here) and
    loses ``<bandwidth>``, because libvirt's own tc program needs sfq, which this kernel
    lacks."""
    domain = ET.fromstring(nova_xml)
    domain.set("type", "qemu")
    os_type = domain.find("os/type")
    assert os_type is not None
    os_type.set("machine", "pc")
    for cpu in domain.findall("cpu"):
        domain.remove(cpu)
    devices = domain.find("devices")
    assert devices is not None
    for source in devices.findall("disk/source"):
        source.set("file", str(disk))
    for iface in devices.findall("interface") if start else ():
        iface.set("type", "ethernet")
        for tag in ("source", "virtualport", "target", "bandwidth"):
            for child in iface.findall(tag):
                iface.remove(child)
    for tag in ("serial", "graphics", "video", "input"):
        for child in devices.findall(tag):
            devices.remove(child)
    return ET.tostring(domain, encoding="unicode")
