"""The lint's claim about the strings Nova copies verbatim into ``<bandwidth>`` and ``<iotune>``,
checked against the real libvirtd: Nova's form of the domain XML (what Nova hands to
``virDomainDefineXML``) is defined with ``virsh define``.

For every ``quota:vif_*`` / ``quota:disk_*`` key and each string Nova's API takes (Python
``int()``): where ``lint_flavor_quota`` says "the instance will fail to spawn with E", libvirt
refuses the domain with exactly E; where it says nothing, libvirt defines the domain and
``virsh dumpxml`` shows the number vmqos's libvirt form shows. Nothing is started: define is
where libvirt parses the numbers.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET

import pytest
from libvirt_tool import Define, virsh

from vmqos.intent.neutron.network import Port
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.nova.quota_specs import QUOTA_SPECS
from vmqos.intent.scenario import Server
from vmqos.model import VifType
from vmqos.plan.explain.lint import lint_flavor_quota
from vmqos.plan.nova.compile import compile_domain
from vmqos.plan.render.domain_xml import render_domain_xml
from vmqos.profile import get_profile

# The twelve keys Nova's libvirt driver copies unconverted (the CPU keys go through int()).
KEYS = [k for k, spec in QUOTA_SPECS.items()
        if spec.libvirt and k.startswith(("quota:vif_", "quota:disk_"))]
TEXTS = ["007", " 12", "+5", "\t12", "\n12", "12 ", " 12 ", "1_000", "\u0661\u0662",
         "\uff11\uff12", "\u00a012", "-0", "18446744073709551616"]
_CLAIM = re.compile(r'the instance will fail to spawn with "(.*)": Nova\'s API reads')

def _specs(key: str, text: str) -> dict[str, str]:
    # Nova writes a side's peak and burst only with its average.
    specs = {key: text}
    if key.startswith("quota:vif_") and not key.endswith("_average"):
        specs[key.rsplit("_", 1)[0] + "_average"] = "1000"
    return specs


def _value(domain: ET.Element, key: str) -> str | None:
    """The key's value in a domain document: ``<bandwidth>`` attribute or ``<iotune>`` text."""
    name = key.split(":", 1)[1]
    if name.startswith("vif_"):
        _, direction, metric = name.split("_")
        side = domain.find(f"devices/interface/bandwidth/{direction}")
        return None if side is None else side.get(metric)
    return domain.findtext(f"devices/disk/iotune/{name.removeprefix('disk_')}")


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("key", KEYS)
def test_libvirt_does_what_the_lint_says(define: Define, key: str, text: str) -> None:
    flavor = Flavor("f", extra_specs=_specs(key, text))
    port = Port(id="dc065497-3c8d-4f44-8fb4-e1d33c16a536", network_id="n",
                mac="fa:16:3e:00:00:01", vif_type=VifType.OVS_BRIDGE)
    server = Server(name="vm", flavor="f", id="c1018351-a229-4209-9faf-42446e0b53e5",
                    image_id="img", instance_name=f"vmqos-vb{secrets.token_hex(4)}",
                    ports=(port.id,))
    spec = compile_domain(server, flavor, flavor.quota, [port], get_profile("modern"))
    nova = render_domain_xml(spec)
    # What reaches libvirt is Nova's string, not int()'s number.
    assert _value(ET.fromstring(nova), key) == text
    findings = [f for f in lint_flavor_quota(flavor.quota, vcpus=1, vif_types=(port.vif_type,))
                if f.code == "verbatim-number-refused"]

    done = define(nova)

    if findings:
        [finding] = findings
        claim = _CLAIM.search(finding.reason)
        assert claim is not None, finding.reason
        assert done.returncode == 1
        assert done.stderr.splitlines()[-1] == f"error: {claim.group(1)}"
    else:
        assert done.returncode == 0, done.stderr
        stored = _value(ET.fromstring(virsh("dumpxml", server.instance_name or "")), key)
        assert stored == str(int(text))
        assert stored == _value(ET.fromstring(render_domain_xml(spec, form="libvirt")), key)
