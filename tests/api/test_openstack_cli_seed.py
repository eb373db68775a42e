"""End to end: the seed note's ``openstack`` commands, verbatim, against ``vmqos serve``.

The server is the real entry point (``vmqos bootstrap`` prints the openrc every command runs
with, ``vmqos serve --profile pike-rhel7`` serves), the client the unmodified
python-openstackclient from PyPI. The note's commands are read from the note itself
(:mod:`tests.api.seed_note`); the two ``neutron`` commands it mentions use the modern spelling.
What the note does not show but its tables need is created first: the three VLAN networks,
the image ``rhel7``, the key pair, the security group and the ``az_vlan`` zone, and
``m1.normal``'s ``aggregate_instance_extra_specs:host=vlan`` property its ``flavor show``
prints. As in ``examples/seed.yaml``, ``bw-limiter`` is then attached to vm_resquota's ports.

Checked against independent oracles: the note's printed tables (rows whose values do not
depend on ids or time), and for each server its ``vmqos-plan`` against the core's
``compile_server_plan`` of a scenario the test builds itself from the API's answers, and
against the plan of the seed scenario (``examples/seed.yaml``) for the same server.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.proc import vmqos_exe
from support.seed import seed_scenario
from vmqos.cli.console import dump_json, to_jsonable
from vmqos.cli.output import explanation_json
from vmqos.intent.neutron.model import QosPolicy, RuleType
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.neutron.rules import API_ATTRIBUTES, parse_rule
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Scenario, Server
from vmqos.model import NeutronBackend, VifType
from vmqos.plan.explain.explain import explain_scenario
from vmqos.plan.server_plan import compile_server_plan
from vmqos.profile import get_profile

from .conftest import OPENSTACK, free_port
from .seed_note import argv, note_commands, note_table, parse_table

# The module's fixture drives the seed note's ~30 `openstack` commands (each a real client
# process, about 1.5 s of start-up here) before its first test: on a loaded two-core machine
# that alone passed the default 120 s timeout.
pytestmark = pytest.mark.slow

PASSWORD = "seed-admin"
# The note's networks; their subnets hold the addresses its `server create` tables show.
_NETWORKS = (("mplane_vlan11", "mplane", "11", "10.11.0.0/24"),
             ("provider_test15", "provider", "15", "192.168.15.0/24"),
             ("provider_test16", "provider", "16", "192.168.16.0/24"))
PROFILE = "pike-rhel7"
SERVERS = ("vm_normal", "vm_resquota")


@dataclass
class Served:
    url: str
    env: dict[str, str]
    data_dir: Path

    def openstack(self, *args: str) -> str:
        done = subprocess.run([str(OPENSTACK), *args], capture_output=True, text=True,
                              env=self.env, timeout=120, check=False)
        assert done.returncode == 0, f"openstack {' '.join(args)}\n{done.stderr}"
        return done.stdout

    def api(self) -> httpx.Client:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
        token = httpx.post(f"{self.url}/identity/v3/auth/tokens", json=body).headers[
            "X-Subject-Token"]
        return httpx.Client(base_url=self.url, headers={
            "X-Auth-Token": token, "OpenStack-API-Version": "compute 2.96"}, timeout=30)


def _openrc_env(text: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["COLUMNS"] = "400"
    for line in text.splitlines():
        match = re.match(r"^export (OS_\w+)=(.*)$", line)
        if match:
            env[match.group(1)] = match.group(2)
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("serve")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    vmqos = vmqos_exe()
    openrc = subprocess.run([vmqos, "bootstrap", "--data-dir", str(data_dir), "--url", url,
                             "--password", PASSWORD, "--output", "openrc"], capture_output=True,
                            text=True, timeout=60, check=True).stdout
    process = subprocess.Popen([vmqos, "serve", "--data-dir", str(data_dir), "--port",
                                str(port), "--profile", PROFILE], stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"{url}/identity/v3").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "vmqos serve did not answer in 30 s"
            time.sleep(0.1)
        yield Served(url, _openrc_env(openrc), data_dir)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Seeded:
    served: Served
    outputs: dict[str, str]        # note command -> what the client printed
    image_id: str


def _parallel(*groups: list[tuple[str, ...]], run: Any) -> list[list[str]]:
    """Run each group's commands in order, the groups side by side (2 CPUs: 3 at a time)."""
    def sequence(commands: list[tuple[str, ...]]) -> list[str]:
        return [run(*c) for c in commands]

    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(sequence, groups))


@pytest.fixture(scope="module")
def seeded(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    commands = note_commands()
    creates = [c for c in commands if c.startswith("openstack flavor create")]
    flavor_set = next(c for c in commands if c.startswith("openstack flavor set"))
    shows = [c for c in commands if c.startswith("openstack flavor show")]
    servers = [c for c in commands if c.startswith("openstack server create")]
    assert len(creates) == 2 and len(shows) == 2 and len(servers) == 2, commands

    work = tmp_path_factory.mktemp("files")
    image = work / "rhel7.img"
    image.write_bytes(os.urandom(4096))
    key = work / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True, timeout=30)
    networks = [[("network", "create", "--provider-network-type", "vlan",
                  "--provider-physical-network", physnet, "--provider-segment", segment, name),
                 ("subnet", "create", "--network", name, "--subnet-range", cidr, f"{name}-v4")]
                for name, physnet, segment, cidr in _NETWORKS]
    flavors = [*(tuple(argv(c)) for c in (*creates, flavor_set)),
               ("flavor", "set", "m1.normal", "--property",
                "aggregate_instance_extra_specs:host=vlan"),
               *(tuple(argv(c)) for c in shows)]
    qos = [("network", "qos", "policy", "create", "bw-limiter"),
           ("network", "qos", "rule", "create", "--type", "bandwidth-limit", "--max-kbps",
            "3000", "--max-burst-kbits", "300", "bw-limiter")]
    other = [("image", "create", "--file", str(image), "--disk-format", "qcow2",
              "--container-format", "bare", "rhel7", "-f", "value", "-c", "id"),
             ("keypair", "create", "--public-key", f"{key}.pub", "sshkey_test"),
             ("security", "group", "create", "sg_test"),
             ("aggregate", "create", "--zone", "az_vlan", "agg_vlan")]
    flavor_out, qos_out, other_out, *_networks = _parallel(flavors, qos, other, *networks,
                                                           run=served.openstack)
    outputs = {" ".join(("openstack", *c)): out for c, out in zip(flavors, flavor_out,
                                                                   strict=True)}
    outputs["qos rule create"] = qos_out[1]
    server_out = _parallel(*([tuple(argv(c))] for c in servers), run=served.openstack)
    outputs.update({c: out[0] for c, out in zip(servers, server_out, strict=True)})
    ports = served.openstack("port", "list", "--server", "vm_resquota", "-f", "value", "-c",
                             "ID").split()
    assert len(ports) == 3
    _parallel(*([("port", "set", "--qos-policy", "bw-limiter", p)] for p in ports),
              run=served.openstack)
    return Seeded(served, outputs, other_out[0].strip())


# --- the printed tables -----------------------------------------------------------------------


@pytest.mark.parametrize("flavor", ["m1.resquota", "m1.normal"])
def test_flavor_show_prints_the_notes_table(seeded: Seeded, flavor: str) -> None:
    printed = parse_table(seeded.outputs[f"openstack flavor show {flavor}"])
    seed = note_table(f"openstack flavor show {flavor}")
    assert printed["properties"] == seed["properties"]
    # The current client adds `description` (None below 2.55) and prints swap 0 as `0`
    # where Pike's printed Nova's raw "" (observed with openstackclient 10.5.0); ids are the
    # server's.
    assert set(printed) == set(seed) | {"description"}
    for field in set(seed) - {"id", "swap"}:
        assert printed[field] == seed[field], field
    assert printed["swap"] == "0" and seed["swap"] == ""
    assert printed["description"] == "None"


def test_qos_rule_create_prints_the_rule(seeded: Seeded) -> None:
    printed = parse_table(seeded.outputs["qos rule create"])
    assert {k: printed[k] for k in ("direction", "max_burst_kbps", "max_kbps")} == {
        "direction": "egress", "max_burst_kbps": "300", "max_kbps": "3000"}


# Rows of the note's `server create --wait` tables that do not depend on ids, time or the
# client version (Pike printed the flavor as "name (id)"; today's client embeds it).
_SERVER_ROWS = ("OS-DCF:diskConfig", "OS-EXT-AZ:availability_zone", "OS-EXT-STS:power_state",
                "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-SRV-USG:terminated_at",
                "key_name", "name", "security_groups", "status", "volumes_attached")


@pytest.mark.parametrize("server", SERVERS)
def test_server_create_wait_prints_the_notes_table(seeded: Seeded, server: str) -> None:
    command = next(c for c in seeded.outputs if c.endswith(f" {server}"))
    printed = parse_table(seeded.outputs[command])
    seed = note_table(f"--availability-zone az_vlan {server}")
    for field in _SERVER_ROWS:
        assert printed[field] == seed[field], field
    assert printed["image"] == f"rhel7 ({seeded.image_id})"
    # "mplane_vlan11=10.11.0.57; provider_test16=192.168.16.55; ...": one address per
    # network, each in the network's subnet (the addresses themselves are the allocator's).
    ours, theirs = (dict(pair.split("=") for pair in table["addresses"].split("; "))
                    for table in (printed, seed))
    assert set(ours) == set(theirs) == {name for name, *_ in _NETWORKS}
    for name, *_, cidr in _NETWORKS:
        assert ipaddress.ip_address(ours[name]) in ipaddress.ip_network(cidr)
        assert ipaddress.ip_address(theirs[name]) in ipaddress.ip_network(cidr)
    assert re.fullmatch(r"rhel7 \([0-9a-f-]{36}\)", seed["image"])
    # Every row the note printed is still printed (accessIPv4/6 and config_drive now as None).
    assert set(seed) <= set(printed)


# --- the plans --------------------------------------------------------------------------------


def _equivalent_scenario(api: httpx.Client, server: dict[str, Any]) -> Scenario:
    """The scenario the test builds from the API's answers, independently of the store."""
    flavor_id = next(f["id"] for f in api.get("/compute/v2.1/flavors/detail").json()["flavors"]
                     if f["name"] == server["flavor"]["original_name"])
    flavor = api.get(f"/compute/v2.1/flavors/{flavor_id}").json()["flavor"]
    attachments = api.get(f"/compute/v2.1/servers/{server['id']}/os-interface").json()
    ports, networks, policy_ids = [], {}, set()
    for attachment in attachments["interfaceAttachments"]:
        port = api.get(f"/network/v2.0/ports/{attachment['port_id']}").json()["port"]
        assert (port["binding:vif_type"], port["binding:vif_details"]["ovs_hybrid_plug"]) == (
            "ovs", False)
        ports.append(Port(id=port["id"], network_id=port["network_id"],
                          mac=port["mac_address"], name=port["name"],
                          device_owner=port["device_owner"],
                          vnic_type=port["binding:vnic_type"], vif_type=VifType.OVS_BRIDGE,
                          qos_policy_id=port["qos_policy_id"]))
        net = api.get(f"/network/v2.0/networks/{port['network_id']}").json()["network"]
        networks[net["id"]] = Network(name=net["name"], id=net["id"],
                                      qos_policy_id=net["qos_policy_id"],
                                      network_type=net["provider:network_type"],
                                      physical_network=net["provider:physical_network"],
                                      mtu=net["mtu"])
        policy_ids |= {port["qos_policy_id"], net["qos_policy_id"]} - {None}
    policies = []
    for policy_id in sorted(policy_ids):
        policy = api.get(f"/network/v2.0/qos/policies/{policy_id}").json()["policy"]
        rules = tuple(parse_rule(r["type"], {a.name: r[a.name] for a in
                                             API_ATTRIBUTES[RuleType(r["type"])]},
                                 rule_id=r["id"]) for r in policy["rules"])
        policies.append(QosPolicy(name=policy["name"], id=policy["id"], rules=rules))
    created = server["created"].replace("T", " ").removesuffix("Z")
    value = Server(name=server["name"], flavor=flavor["id"], ports=tuple(p.id for p in ports),
                   id=server["id"], image_id=server["image"]["id"],
                   instance_name=server["OS-EXT-SRV-ATTR:instance_name"], created=created,
                   user_id=server["user_id"], user_name="admin",
                   project_id=server["tenant_id"], project_name="admin",
                   availability_zone=server["OS-EXT-AZ:availability_zone"])
    return Scenario(flavors=(Flavor(name=flavor["name"], vcpus=flavor["vcpus"],
                                    ram=flavor["ram"], disk=flavor["disk"], id=flavor["id"],
                                    extra_specs=flavor["extra_specs"]),),
                    policies=tuple(policies), networks=tuple(networks.values()),
                    ports=tuple(ports), servers=(value,), neutron_backend=NeutronBackend.OVS,
                    profile=PROFILE)


def _server(api: httpx.Client, name: str) -> dict[str, Any]:
    found = api.get("/compute/v2.1/servers/detail", params={"name": f"^{name}$"}).json()
    assert len(found["servers"]) == 1
    server: dict[str, Any] = found["servers"][0]
    return server


@pytest.mark.parametrize("name", SERVERS)
def test_vmqos_plan_is_the_cores_plan(seeded: Seeded, name: str) -> None:
    with seeded.served.api() as api:
        server = _server(api, name)
        got = api.get(f"/compute/v2.1/servers/{server['id']}/vmqos-plan")
        assert got.status_code == 200, got.text
        scenario = _equivalent_scenario(api, server)
    expected = compile_server_plan(scenario, scenario.servers[0], get_profile(PROFILE))
    assert got.json()["plan"] == to_jsonable(expected)


@pytest.mark.parametrize("name", SERVERS)
def test_vmqos_plan_reproduces_the_seed_lab(seeded: Seeded, name: str) -> None:
    """Per interface, libvirt's tc program, the `tc show` text and the OVS agent's commands
    are the seed scenario's (tap names aside); so are cputune and the disk's iotune."""
    with seeded.served.api() as api:
        plan = api.get(f"/compute/v2.1/servers/{_server(api, name)['id']}/vmqos-plan").json()[
            "plan"]
    seed = seed_scenario()
    want = to_jsonable(compile_server_plan(seed, next(s for s in seed.servers if s.name == name),
                                           get_profile(PROFILE)))
    assert plan["domain"]["cputune"] == want["domain"]["cputune"]
    assert [d["iotune"] for d in plan["domain"]["disks"]] == [
        d["iotune"] for d in want["domain"]["disks"]]
    assert len(plan["interfaces"]) == len(want["interfaces"]) == 3
    for ours, theirs in zip(plan["interfaces"], want["interfaces"], strict=True):
        def same(value: Any, ours: dict[str, Any] = ours,
                 theirs: dict[str, Any] = theirs) -> Any:
            text = dump_json(value).replace(ours["dev"], theirs["dev"])
            return text.replace(ours["port_id"], theirs["port_id"])
        for key in ("libvirt_tc", "tc_show", "neutron_commands", "neutron_policy", "vif_type"):
            assert same(ours[key]) == dump_json(theirs[key]), key


# --- explain --cloud --------------------------------------------------------------------------


def _normalised(data: dict[str, Any], ids: dict[str, str]) -> Any:
    text = dump_json(sorted(data["servers"], key=lambda s: s["name"]))
    for ours, theirs in sorted(ids.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(ours, theirs)
    return text


def test_explain_cloud_reads_the_seed_lab_back(seeded: Seeded, tmp_path: Path) -> None:
    """`vmqos explain --cloud` over openstacksdk explains what `vmqos explain seed.yaml`
    explains: same layers, effective limits and findings for every port and direction."""
    clouds = subprocess.run([vmqos_exe(), "bootstrap", "--data-dir",
                             str(seeded.served.data_dir), "--url", seeded.served.url,
                             "--password", PASSWORD, "--output", "clouds.yaml"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    (tmp_path / "clouds.yaml").write_text(clouds)
    env = {**seeded.served.env, "OS_CLIENT_CONFIG_FILE": str(tmp_path / "clouds.yaml")}
    env = {k: v for k, v in env.items() if not k.startswith("OS_") or k.endswith("FILE")}
    done = subprocess.run([vmqos_exe(), "explain", "--cloud", "vmqos",
                           "--profile", PROFILE, "--format", "json"], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    ours = json.loads(done.stdout)
    seed = seed_scenario()
    theirs = explanation_json(explain_scenario(seed, get_profile(PROFILE)))
    ids: dict[str, str] = {}
    with seeded.served.api() as api:
        for server in seed.servers:
            found = _server(api, server.name)
            attachments = api.get(f"/compute/v2.1/servers/{found['id']}/os-interface").json()
            for attachment, seed_port in zip(attachments["interfaceAttachments"],
                                             server.ports, strict=True):
                ids[attachment["port_id"]] = seed_port
                ids[attachment["port_id"][:11]] = seed_port[:11]
    assert ours["neutron_backend"] == "ovs" and ours["profile"] == PROFILE
    assert _normalised(ours, ids) == _normalised(theirs, {})
