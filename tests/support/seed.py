"""The seed lab, once: its flavor properties, bandwidth, servers and fixture files, and what its
note (tests/fixtures/seed/nova-neutron-qos-note.md) printed under each command.

vm_normal (flavor m1.normal, no QoS) and vm_resquota (flavor m1.resquota, every flavor QoS knob
the note sets) on a Nova Pike / RHEL 7 compute node, ports plugged natively into br-int
(``<interface type='bridge'>`` + ``<virtualport type='openvswitch'>``). The port ids and MACs
are the ones in tests/fixtures/seed/domain-*.xml; test_domain_xml_seed checks that they still
match the fixtures, and that ``RESQUOTA_EXTRA_SPECS`` is what the note's ``openstack flavor
set`` command sets.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from vmqos.intent.neutron.network import Port
from vmqos.intent.nova.flavor import DiskQuota, Flavor, FlavorQuota, VifQuota
from vmqos.intent.scenario import Scenario, Server
from vmqos.intent.scenario_parse import parse_scenario
from vmqos.libvirt_types import Bandwidth, BandwidthSide, IoTune
from vmqos.model import VifType
from vmqos.plan.render.domain_xml import HostDetails
from vmqos.profile import Profile, get_profile
from vmqos.units import KBytesPerSec, KiB

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "seed"
NOTE = FIXTURES / "nova-neutron-qos-note.md"
NORMAL_XML = FIXTURES / "domain-m1.normal.xml"
RESQUOTA_XML = FIXTURES / "domain-m1.resquota.xml"
# The seed scenario as users see it; src/vmqos/scenarios/seed.yaml is the same text
# (test_scenario_parse checks it).
SCENARIO_YAML = REPO / "examples" / "seed.yaml"

_PROMPT = "[root@comp-1 ~]# "

# m1.resquota's properties, in the order of the note's `openstack flavor set` command.
RESQUOTA_EXTRA_SPECS: dict[str, str] = {
    "quota:cpu_shares": "512",
    "quota:disk_read_bytes_sec": "1000000",
    "quota:disk_write_bytes_sec": "1024000",
    "quota:vif_outbound_average": "32768",
    "quota:vif_outbound_peak": "65536",
    "quota:vif_outbound_burst": "131072",
    "quota:vif_inbound_average": "32768",
    "quota:vif_inbound_peak": "65536",
    "quota:vif_inbound_burst": "131072",
}


def properties(prefix: str) -> tuple[str, ...]:
    """m1.resquota's ``KEY=VALUE`` properties whose key starts with ``prefix``
    (``"quota:vif_inbound_"``: average, peak, burst), as ``--property`` takes them."""
    return tuple(f"{key}={value}" for key, value in RESQUOTA_EXTRA_SPECS.items()
                 if key.startswith(prefix))


# Each direction of m1.resquota's ports: <inbound|outbound average='32768' peak='65536'
# burst='131072'/>.
RESQUOTA_VIF = BandwidthSide(KBytesPerSec(32768), KBytesPerSec(65536), KiB(131072))
RESQUOTA_BANDWIDTH = Bandwidth(inbound=RESQUOTA_VIF, outbound=RESQUOTA_VIF)
RESQUOTA_IOTUNE = IoTune(read_bytes_sec=1000000, write_bytes_sec=1024000)


def seed_scenario() -> Scenario:
    """The seed scenario (examples/seed.yaml), parsed."""
    return parse_scenario(yaml.safe_load(SCENARIO_YAML.read_text(encoding="utf-8")))


def note_outputs() -> dict[str, list[str]]:
    """``[root@comp-1 ~]# <command>`` in the note -> the lines printed under it, verbatim (up to
    the next prompt or the end of the code block)."""
    outputs: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in NOTE.read_text(encoding="utf-8").splitlines():
        if line.startswith(_PROMPT):
            current = outputs.setdefault(line.removeprefix(_PROMPT), [])
        elif line.startswith("```"):
            current = None
        elif current is not None:
            current.append(line)
    return outputs


def note_output(command: str) -> list[str]:
    """The lines the note shows under ``[root@comp-1 ~]# <command>``."""
    outputs = note_outputs()
    if command not in outputs:
        raise AssertionError(f"the seed note never runs {command!r}")
    return outputs[command]


def qemu_drive_option(flavor: str) -> str:
    """The ``-drive`` option of the seed's QEMU command line for ``flavor``'s server,
    verbatim (tests/fixtures/seed/qemu-<flavor>.txt)."""
    argv = (FIXTURES / f"qemu-{flavor}.txt").read_text(encoding="utf-8").split()
    return argv[argv.index("-drive") + 1]


PROFILE: Profile = get_profile("pike-rhel7")
IMAGE_ID = "c11a1c31-f703-4ae6-a689-5a6b9a624625"
USER_ID, PROJECT_ID = "5a86b1db33b64571953b2022186010fe", "995b4947cc4044fba99bade057053803"

M1_NORMAL = Flavor(name="m1.normal", id="ed846e28-510c-4ca8-8bd9-0e06f5de6461", vcpus=1,
                   ram=1024, disk=20,
                   extra_specs={"aggregate_instance_extra_specs:host": "vlan"})
M1_RESQUOTA = Flavor(name="m1.resquota", id="bb3c4ff8-c09f-444d-955e-46e4e1f6fb4a", vcpus=1,
                     ram=1024, disk=20)

NORMAL_QUOTA = FlavorQuota()
# RESQUOTA_EXTRA_SPECS as parse_flavor_quota gives them (test_extra_specs checks it).
_VIF = VifQuota(average=KBytesPerSec(32768), peak=KBytesPerSec(65536), burst=KiB(131072))
RESQUOTA_QUOTA = FlavorQuota(
    cpu_shares=512,
    disk=DiskQuota(read_bytes_sec=1000000, write_bytes_sec=1024000),
    vif_inbound=_VIF,
    vif_outbound=_VIF,
)


def _ports(network_ids: tuple[str, ...], pairs: tuple[tuple[str, str], ...]) -> tuple[Port, ...]:
    return tuple(Port(id=port_id, network_id=net, mac=mac, vif_type=VifType.OVS_BRIDGE)
                 for net, (port_id, mac) in zip(network_ids, pairs, strict=True))


_NETWORKS = ("mplane_vlan11", "provider_test15", "provider_test16")
NORMAL_PORTS = _ports(_NETWORKS, (
    ("b614c1d3-75e5-483f-88fd-cec050652945", "fa:16:3e:be:fd:48"),
    ("7fe68949-32a2-461d-8c6c-c5cca0dfff7d", "fa:16:3e:dc:dd:a8"),
    ("78f00f22-370b-47c2-a721-a47cbbd434d0", "fa:16:3e:66:02:79"),
))
RESQUOTA_PORTS = _ports(_NETWORKS, (
    ("bb8410ad-a026-4e9a-8f0b-0e8f611d5588", "fa:16:3e:8d:f3:ae"),
    ("a1e966cd-47e7-4bc2-967c-13638afd47ec", "fa:16:3e:60:1e:07"),
    ("e0bb2633-17ce-4eda-9161-e6ffdf3243c6", "fa:16:3e:15:9c:1c"),
))

VM_NORMAL = Server(
    name="vm_normal", flavor="m1.normal", ports=tuple(p.id for p in NORMAL_PORTS),
    id="30ad89ac-5906-49ca-8d52-3c6343c598f6", image_id=IMAGE_ID,
    instance_name="instance-00000042", domain_id=11, created="2018-04-16 12:50:16",
    user_id=USER_ID, user_name="test", project_id=PROJECT_ID, project_name="test",
)
VM_RESQUOTA = Server(
    name="vm_resquota", flavor="m1.resquota", ports=tuple(p.id for p in RESQUOTA_PORTS),
    id="850724a4-029c-457b-a99d-3a18e8e413da", image_id=IMAGE_ID,
    instance_name="instance-00000041", domain_id=10, created="2018-04-16 12:48:40",
    user_id=USER_ID, user_name="test", project_id=PROJECT_ID, project_name="test",
)

# The RHEL 7.4 / OSP 12 host: what the domain XML shows but Nova's inputs cannot tell.
_HOST = HostDetails(
    vendor="Red Hat",
    product="OpenStack Compute",
    sysinfo_serial="4c4c4544-004a-5310-804e-b9c04f504d32",
    cpu_model="Skylake-Client",
    cpu_vendor="Intel",
    cpu_features=("ss", "hypervisor", "tsc_adjust", "avx512f", "avx512dq", "clflushopt",
                  "avx512cd", "avx512bw", "avx512vl", "pdpe1gb"),
    vnc_listen="10.20.0.101",
    keymap="en-us",
    dac_label="+107:+107",
    interface_mtu=False,    # libvirt 3.2 (RHEL 7.4) predates <mtu>; Nova did not write it
)
NORMAL_HOST = replace(_HOST, pty="/dev/pts/2", vnc_port=5901, selinux_mcs="c93,c547")
RESQUOTA_HOST = replace(_HOST, pty="/dev/pts/0", vnc_port=5900, selinux_mcs="c315,c689")
