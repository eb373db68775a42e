"""The SR-IOV agent's VF (Nova's legacy ``get_config_hw_veb``) against the real libvirtd.

Nova writes the flavor's ``<bandwidth>`` into the VF's ``<interface type='hostdev'>``. What the
lint says (``vif-bandwidth-refused``) is checked here as far as this machine lets it be:
libvirt defines the domain and keeps the ``<bandwidth>`` and the ``<vlan>`` in the order vmqos's
libvirt form has them; the domain then does not start. On a compute node with an IOMMU the
start fails with domain_validate.c ``virDomainActualNetDefValidate``'s "bandwidth settings are
not supported for hostdev interfaces"; this machine has no IOMMU, so libvirt stops one step
earlier, at "host doesn't support passthrough of host PCI devices" — either way no tc runs
and the server does not boot.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import xml.etree.ElementTree as ET

from libvirt_tool import URI, Define, virsh

from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Server
from vmqos.model import VifType
from vmqos.plan.explain.lint import lint_flavor_quota
from vmqos.plan.nova.compile import compile_domain
from vmqos.plan.render.domain_xml import render_domain_xml
from vmqos.profile import get_profile

PORT_ID = "dc065497-3c8d-4f44-8fb4-e1d33c16a536"
REFUSED = "bandwidth settings are not supported for hostdev interfaces"
NO_IOMMU = "host doesn't support passthrough of host PCI devices"


def _interface(document: str) -> str:
    node = ET.fromstring(document).find("devices/interface")
    assert node is not None
    for extra in node.findall("address"):   # the guest-side PCI slot libvirt assigns
        node.remove(extra)
    return re.sub(r">\s+<", "><", ET.tostring(node, encoding="unicode").strip())


def test_libvirt_keeps_novas_vf_bandwidth_and_refuses_to_start(define: Define) -> None:
    flavor = Flavor("f", extra_specs={"quota:vif_inbound_average": "1000",
                                      "quota:vif_outbound_average": "500",
                                      "quota:vif_outbound_burst": "64"})
    port = Port(id=PORT_ID, network_id="n", mac="fa:16:3e:00:00:01", vif_type=VifType.HW_VEB)
    network = Network("n", id="n", network_type="vlan", segmentation_id=100)
    server = Server(name="vm", flavor="f", id="c1018351-a229-4209-9faf-42446e0b53e5",
                    image_id="img", instance_name=f"vmqos-vf{secrets.token_hex(4)}",
                    ports=(port.id,))
    spec = compile_domain(server, flavor, flavor.quota, [port], get_profile("modern"),
                          networks=[network], vf_pci_addresses={PORT_ID: "0000:0a:00.1"})
    [finding] = [f for f in lint_flavor_quota(flavor.quota, vcpus=1, vif_types=(port.vif_type,))
                 if f.code == "vif-bandwidth-refused"]
    assert REFUSED in finding.reason

    done = define(render_domain_xml(spec))

    assert done.returncode == 0, done.stderr
    name = server.instance_name or ""
    stored = _interface(virsh("dumpxml", name))
    assert stored == _interface(render_domain_xml(spec, form="libvirt"))
    assert '<vlan><tag id="100" /></vlan><bandwidth>' in stored
    start = subprocess.run(["virsh", "-c", URI, "start", "--paused", name],
                           capture_output=True, text=True, timeout=120, check=False)
    assert start.returncode == 1
    assert REFUSED in start.stderr or NO_IOMMU in start.stderr, start.stderr
