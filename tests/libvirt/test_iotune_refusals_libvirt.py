"""``check_iotune``'s texts are what the real libvirtd says.

Every ``<iotune>`` rule vmqos states once (``volume_qos.iotune_problems``) is broken on the
root disk's ``<iotune>`` — in libvirt's own form of the document, as Nova never writes
``group_name`` or the burst lengths; the domain is defined (and, for the rules QEMU
applies, started paused) with ``virsh``, and its last line must be ``error: `` followed by
exactly the text ``check_iotune`` raises.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from libvirt_tool import URI, runnable_here, virsh

from vmqos.errors import ValidationError
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Server
from vmqos.libvirt_types import IoTune
from vmqos.plan.nova.compile import compile_domain
from vmqos.plan.render.domain_xml import render_domain_xml
from vmqos.plan.render.qemu import check_iotune
from vmqos.profile import get_profile

CASES = {
    "over QEMU's max": IoTune(read_bytes_sec=1000000000000001),
    "total with read": IoTune(total_bytes_sec=1, read_bytes_sec=2),
    "group alone": IoTune(group_name="g"),
    "length without max": IoTune(read_bytes_sec=1, read_bytes_sec_max_length=5),
    "max without average": IoTune(read_bytes_sec_max=1),
    "size without iops": IoTune(size_iops_sec=1),
}


def _definable(document: str) -> str:
    """libvirt's form without what it chose for a q35 guest (controllers, PCI addresses), the
    console log in Nova's instance folder and the image cache behind the disk;
    ``runnable_here`` makes the guest a ``pc`` on a disk of its own."""
    domain = ET.fromstring(document)
    devices = domain.find("devices")
    assert devices is not None
    for child in [*devices.findall("controller"), *devices.findall("console")]:
        devices.remove(child)
    for device in devices:
        for extra in [*device.findall("address"), *device.findall("backingStore")]:
            device.remove(extra)
    return ET.tostring(domain, encoding="unicode")


def _virsh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["virsh", "-c", URI, *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize("case", CASES)
def test_virsh_says_what_check_iotune_says(libvirtd: None, case: str) -> None:
    iotune = CASES[case]
    with pytest.raises(ValidationError) as caught:
        check_iotune(iotune)
    name = f"vmqos-io{secrets.token_hex(4)}"
    server = Server(name="vm", flavor="f", id="c1018351-a229-4209-9faf-42446e0b53e5",
                    image_id="img", instance_name=name)
    spec = compile_domain(server, Flavor("f"), Flavor("f").quota, [], get_profile("modern"))
    spec = replace(spec, disks=(replace(spec.disks[0], iotune=iotune),))
    # QEMU runs as libvirt-qemu and cannot enter pytest's private (0700) tmp_path.
    folder = Path(tempfile.mkdtemp(prefix="vmqos-iotune-"))
    folder.chmod(0o755)
    try:
        disk = folder / "disk.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "16M"],
                       check=True, timeout=60)
        xml = folder / "domain.xml"
        xml.write_text(runnable_here(_definable(render_domain_xml(spec, form="libvirt")), disk,
                                     start=True))

        done = _virsh("define", str(xml))
        if done.returncode == 0:    # QEMU refuses it: libvirt sends it when the domain starts
            done = _virsh("start", "--paused", name)
    finally:
        virsh("destroy", name, check=False)
        virsh("undefine", name, check=False)
        shutil.rmtree(folder, ignore_errors=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == f"error: {caught.value.message}"
