"""Compute hosts and scheduling in ``vmqos serve``: registration, Nova's hypervisor and service
lists, servers landing on hosts (the real ``openstack`` client sees where), minimum guarantees
admitted as Placement admits them, Nova's fault when nothing fits, allocations freed on
delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from .conftest import Cloud

NOVA = "/compute/v2.1"
NET = "/network/v2.0"
MV = {"OpenStack-API-Version": "compute 2.96"}
EGRESS = "NET_BW_EGR_KILOBIT_PER_SEC"


def _register(admin: httpx.Client, name: str, *, egress: int = 3_000_000,
              memory_mb: int = 16384) -> dict[str, Any]:
    response = admin.put(f"{NOVA}/vmqos-hosts/{name}", json={"host": {
        "vcpus": 8, "memory_mb": memory_mb, "disk_gb": 100, "host_ip": "192.0.2.10",
        "agents": [{"agent_type": "Open vSwitch agent",
                    "bridge_mappings": {"physnet1": "br-phys"},
                    "resource_provider_bandwidths": {
                        "br-phys": {"egress": egress, "ingress": egress}}}]}})
    assert response.status_code == 200, response.text
    return response.json()["host"]  # type: ignore[no-any-return]


def _world(admin: httpx.Client, suffix: str = "") -> dict[str, str]:
    flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": f"m1{suffix}", "ram": 512, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    image = admin.post("/image/v2/images", json={
        "name": "img", "disk_format": "raw", "container_format": "bare"}).json()["id"]
    admin.put(f"/image/v2/images/{image}/file", content=b"x",
              headers={"Content-Type": "application/octet-stream"})
    network = admin.post(f"{NET}/networks", json={"network": {
        "name": f"provider{suffix}", "provider:network_type": "vlan",
        "provider:physical_network": "physnet1"}}).json()["network"]["id"]
    policy = admin.post(f"{NET}/qos/policies", json={"policy": {"name": "gold"}}).json()[
        "policy"]["id"]
    rule = admin.post(f"{NET}/qos/policies/{policy}/minimum_bandwidth_rules", json={
        "minimum_bandwidth_rule": {"min_kbps": 1_000_000, "direction": "egress"}})
    assert rule.status_code == 201, rule.text
    return {"flavor": flavor, "image": image, "network": network, "policy": policy}


def _boot(admin: httpx.Client, world: dict[str, str], name: str, *,
          guaranteed: bool = True) -> dict[str, Any]:
    port = admin.post(f"{NET}/ports", json={"port": {
        "network_id": world["network"],
        **({"qos_policy_id": world["policy"]} if guaranteed else {})}}).json()["port"]["id"]
    created = admin.post(f"{NOVA}/servers", json={"server": {
        "name": name, "flavorRef": world["flavor"], "imageRef": world["image"],
        "networks": [{"port": port}]}})
    assert created.status_code == 202, created.text
    server = admin.get(f"{NOVA}/servers/{created.json()['server']['id']}").json()["server"]
    server["port"] = port
    return server  # type: ignore[no-any-return]


def test_guarantees_fill_hosts_then_no_valid_host(new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    with cloud.client(**MV) as admin:
        world = _world(admin)
        _register(admin, "cmp-a", memory_mb=32768)        # most free RAM: chosen first
        _register(admin, "cmp-b")
        hosts = []
        for n in range(6):      # 3 Gbit/s per host, 1 Gbit/s per port: six fit, not seven
            server = _boot(admin, world, f"vm{n}")
            assert server["status"] == "ACTIVE", server.get("fault")
            hosts.append(server["OS-EXT-SRV-ATTR:host"])
        assert hosts[0] == "cmp-a" and sorted(hosts) == ["cmp-a"] * 3 + ["cmp-b"] * 3
        # The port is bound to the host the server landed on.
        port = admin.get(f"{NET}/ports/{server['port']}").json()["port"]
        assert port["binding:host_id"] == hosts[-1]
        full = _boot(admin, world, "vm-too-many")
        assert full["status"] == "ERROR"
        # nova/scheduler/manager.py: NoValidHost(reason="") when Placement has no candidate.
        assert full["fault"] == {"code": 500, "created": full["fault"]["created"],
                                 "message": "No valid host was found. "}
        assert full["OS-EXT-SRV-ATTR:host"] is None and full["hostId"] == ""
        unbound = admin.get(f"{NET}/ports/{full['port']}").json()["port"]
        assert unbound["binding:host_id"] == "" and unbound["device_id"] == ""
        # Unguaranteed ports ask Placement for nothing: still room.
        assert _boot(admin, world, "vm-best-effort", guaranteed=False)["status"] == "ACTIVE"
        # The bridge's inventory and use, as the host shows them.
        shown = admin.get(f"{NOVA}/vmqos-hosts/cmp-a").json()["host"]
        bridge = {p["name"]: p for p in shown["resource_providers"]}[
            "cmp-a:Open vSwitch agent:br-phys"]
        assert bridge["inventory"][EGRESS] == {"total": 3_000_000, "used": 3_000_000}
        assert "CUSTOM_PHYSNET_PHYSNET1" in bridge["traits"]
        # Deleting a server frees its allocation: the next guaranteed server fits again.
        victim = next(s for s in admin.get(f"{NOVA}/servers/detail").json()["servers"]
                      if s["name"] == "vm0")
        assert victim["OS-EXT-SRV-ATTR:host"] == "cmp-a"
        assert admin.delete(f"{NOVA}/servers/{victim['id']}").status_code == 204
        again = _boot(admin, world, "vm-after-delete")
        assert (again["status"], again["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", "cmp-a")


def test_hypervisors_and_services_as_nova_lists_them(new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    with cloud.client(**MV) as admin, cloud.client() as old:
        # Before any registration the built-in host stands in.
        [builtin] = admin.get(f"{NOVA}/os-hypervisors").json()["hypervisors"]
        assert builtin["hypervisor_hostname"] == "vmqos-compute"
        host = _register(admin, "cmp-a")
        [listed] = admin.get(f"{NOVA}/os-hypervisors").json()["hypervisors"]
        assert listed == {"id": host["uuid"], "hypervisor_hostname": "cmp-a", "state": "up",
                          "status": "enabled"}
        [detail] = admin.get(f"{NOVA}/os-hypervisors/detail").json()["hypervisors"]
        assert detail["hypervisor_type"] == "QEMU" and detail["host_ip"] == "192.0.2.10"
        assert detail["uptime"] is None and "vcpus" not in detail      # 2.88 removed them
        assert admin.get(f"{NOVA}/os-hypervisors/{host['uuid']}").status_code == 200
        bad = admin.get(f"{NOVA}/os-hypervisors/not-a-uuid")
        assert (bad.status_code, bad.json()["badRequest"]["message"]) == (
            400, "Invalid uuid not-a-uuid")
        # Microversion 2.1: integer ids and the resource columns.
        [old_detail] = old.get(f"{NOVA}/os-hypervisors/detail").json()["hypervisors"]
        assert old_detail["id"] == 1 and old_detail["vcpus"] == 8
        assert old_detail["memory_mb_used"] == 512                     # the host's reserve
        missing = old.get(f"{NOVA}/os-hypervisors/7")
        assert (missing.status_code, missing.json()["itemNotFound"]["message"]) == (
            404, "Hypervisor with ID '7' could not be found.")
        [service] = admin.get(f"{NOVA}/os-services").json()["services"]
        assert {k: service[k] for k in ("binary", "host", "zone", "status", "state",
                                        "forced_down")} == {
            "binary": "nova-compute", "host": "cmp-a", "zone": "nova", "status": "enabled",
            "state": "up", "forced_down": False}


def test_registration_is_checked_whole_and_admin_only(new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    cloud.make_user("alice", "project-a")
    with cloud.client(**MV) as admin, cloud.client("alice", "pw", "project-a", **MV) as alice:
        denied = alice.put(f"{NOVA}/vmqos-hosts/cmp-x", json={"host": {}})
        assert denied.status_code == 403
        bad = admin.put(f"{NOVA}/vmqos-hosts/cmp-x", json={"host": {"agents": [{
            "agent_type": "Open vSwitch agent",
            "resource_provider_bandwidths": {"br": {"egress": -5}}}]}})
        assert bad.status_code == 400
        assert "agents[0].resource_provider_bandwidths.br.egress" in bad.json()[
            "badRequest"]["message"]
        assert admin.get(f"{NOVA}/vmqos-hosts/cmp-x").status_code == 404   # nothing saved
        _register(admin, "cmp-x")
        world = _world(admin)
        _boot(admin, world, "pinned")
        busy = admin.delete(f"{NOVA}/vmqos-hosts/cmp-x")
        assert busy.status_code == 409


def test_openstack_client_lists_hypervisors_and_servers_by_host(
        new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    with cloud.client(**MV) as admin:
        world = _world(admin)
        _register(admin, "cmp-a", memory_mb=32768)
        _register(admin, "cmp-b")
        first = _boot(admin, world, "on-a")
        second = _boot(admin, world, "on-b", guaranteed=False)
    # RAM sends the first to cmp-a; then cmp-b has more free vCPUs and disk (Nova's CPU and
    # disk weighers) and takes the second.
    assert (first["OS-EXT-SRV-ATTR:host"], second["OS-EXT-SRV-ATTR:host"]) == ("cmp-a", "cmp-b")
    hypervisors = json.loads(cloud.openstack("hypervisor", "list", "-f", "json").stdout)
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == ["cmp-a", "cmp-b"]
    services = json.loads(cloud.openstack("compute", "service", "list", "-f", "json").stdout)
    assert sorted(s["Host"] for s in services) == ["cmp-a", "cmp-b"]
    on_a = json.loads(cloud.openstack("server", "list", "--host", "cmp-a", "--all-projects",
                                      "-f", "json").stdout)
    assert [s["Name"] for s in on_a] == ["on-a"]
    on_b = json.loads(cloud.openstack("server", "list", "--host", "cmp-b", "--all-projects",
                                      "-f", "json").stdout)
    assert [s["Name"] for s in on_b] == ["on-b"]


def _policy(admin: httpx.Client, name: str, min_kbps: int) -> str:
    policy = admin.post(f"{NET}/qos/policies", json={"policy": {"name": name}}).json()[
        "policy"]["id"]
    assert admin.post(f"{NET}/qos/policies/{policy}/minimum_bandwidth_rules", json={
        "minimum_bandwidth_rule": {"min_kbps": min_kbps, "direction": "egress"}}
    ).status_code == 201
    return policy  # type: ignore[no-any-return]


def _bridge_use(admin: httpx.Client, host: str) -> dict[str, int]:
    shown = admin.get(f"{NOVA}/vmqos-hosts/{host}").json()["host"]
    bridge = {p["name"]: p for p in shown["resource_providers"]}[
        f"{host}:Open vSwitch agent:br-phys"]
    return bridge["inventory"][EGRESS]  # type: ignore[no-any-return]


def test_a_bound_ports_policy_change_moves_its_allocation(
        new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    with cloud.client(**MV) as admin:
        world = _world(admin)
        host = _register(admin, "cmp-a")
        server = _boot(admin, world, "vm")
        port = admin.get(f"{NET}/ports/{server['port']}").json()["port"]
        # Nova records which provider serves each request group (binding:profile), and the
        # port shows the request (port-resource-request-groups).
        [group] = port["resource_request"]["request_groups"]
        bridge = next(p for p in host["resource_providers"]
                           if p["name"].endswith(":br-phys"))
        assert port["binding:profile"]["allocation"] == {group["id"]: _uuid_of(bridge)}
        assert bridge["uuid"] == _uuid_of(bridge)
        assert _bridge_use(admin, "cmp-a")["used"] == 1_000_000
        # qos_plugin _change_placement_allocation: the difference moves with the policy.
        silver = _policy(admin, "silver", 2_500_000)
        moved = admin.put(f"{NET}/ports/{server['port']}", json={"port": {
            "qos_policy_id": silver}})
        assert moved.status_code == 200, moved.text
        assert _bridge_use(admin, "cmp-a")["used"] == 2_500_000
        [new_group] = moved.json()["port"]["resource_request"]["request_groups"]
        assert moved.json()["port"]["binding:profile"]["allocation"] == {
            new_group["id"]: _uuid_of(bridge)}
        # More than the bridge has: refused, and nothing changes.
        platinum = _policy(admin, "platinum", 3_500_000)
        refused = admin.put(f"{NET}/ports/{server['port']}", json={"port": {
            "qos_policy_id": platinum}})
        assert refused.status_code == 409
        error = refused.json()["NeutronError"]
        assert error["type"] == "QosPlacementAllocationUpdateConflict"
        assert error["message"].startswith("Updating placement allocation with ")
        assert error["message"].endswith(f"for consumer {server['id']} failed. The requested "
                                         "resources would exceed the capacity available.")
        assert admin.get(f"{NET}/ports/{server['port']}").json()["port"][
            "qos_policy_id"] == silver
        assert _bridge_use(admin, "cmp-a")["used"] == 2_500_000
        # Deleting the server releases the allocation and the port's record of it.
        assert admin.delete(f"{NOVA}/servers/{server['id']}").status_code == 204
        assert _bridge_use(admin, "cmp-a")["used"] == 0
        assert "allocation" not in admin.get(f"{NET}/ports/{server['port']}").json()["port"][
            "binding:profile"]


def _uuid_of(provider: dict[str, Any]) -> str:
    """The device provider's uuid: neutron-lib device_resource_provider_uuid with the OVS
    mechanism driver's namespace."""
    import uuid  # noqa: PLC0415 (only this helper computes one)
    host, _agent, device = provider["name"].split(":")
    return str(uuid.uuid5(uuid.UUID("87ee7d5c-73bb-11e8-9008-c4d987b2a692"),
                          f"{host}:{device}"))


def test_pike_admits_no_guarantees(new_server: Callable[..., Cloud]) -> None:
    # Neutron and Nova before Stein: minimum_bandwidth never reaches Placement.
    cloud = new_server(profile="pike-rhel7")
    with cloud.client(**MV) as admin:
        world = _world(admin)
        _register(admin, "cmp-a", egress=1_000_000)
        for n in range(3):
            assert _boot(admin, world, f"vm{n}")["status"] == "ACTIVE"
        assert _bridge_use(admin, "cmp-a")["used"] == 0


def _vcpus_used(admin: httpx.Client, host: str) -> int:
    shown = admin.get(f"{NOVA}/vmqos-hosts/{host}").json()["host"]
    root = next(p for p in shown["resource_providers"] if p["name"] == host)
    return root["inventory"]["VCPU"]["used"]  # type: ignore[no-any-return]


def _act(admin: httpx.Client, server_id: str, body: dict[str, Any]) -> int:
    return admin.post(f"{NOVA}/servers/{server_id}/action", json=body).status_code


def test_resize_moves_to_another_host_and_holds_both_until_confirmed(
        new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    with cloud.client(**MV) as admin:
        world = _world(admin)
        big = admin.post(f"{NOVA}/flavors", json={"flavor": {
            "name": "m2", "ram": 1024, "vcpus": 2, "disk": 1}}).json()["flavor"]["id"]
        _register(admin, "cmp-a", memory_mb=32768)
        _register(admin, "cmp-b")
        server = _boot(admin, world, "vm")
        assert server["OS-EXT-SRV-ATTR:host"] == "cmp-a"
        # conductor _cold_migrate: not the same host (allow_resize_to_same_host is false).
        assert _act(admin, server["id"], {"resize": {"flavorRef": big}}) == 202
        shown = admin.get(f"{NOVA}/servers/{server['id']}").json()["server"]
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("VERIFY_RESIZE", "cmp-b")
        assert (_vcpus_used(admin, "cmp-a"), _vcpus_used(admin, "cmp-b")) == (1, 2)
        port = admin.get(f"{NET}/ports/{server['port']}").json()["port"]
        assert port["binding:host_id"] == "cmp-b"
        assert _bridge_use(admin, "cmp-b")["used"] == 1_000_000      # the guarantee moved
        assert _act(admin, server["id"], {"confirmResize": None}) == 204
        assert (_vcpus_used(admin, "cmp-a"), _vcpus_used(admin, "cmp-b")) == (0, 2)
        assert _bridge_use(admin, "cmp-a")["used"] == 0
        # Back to the small flavor, then revert: the server returns to cmp-b's allocation.
        assert _act(admin, server["id"], {"resize": {"flavorRef": world["flavor"]}}) == 202
        moved = admin.get(f"{NOVA}/servers/{server['id']}").json()["server"]
        assert moved["OS-EXT-SRV-ATTR:host"] == "cmp-a"
        assert _act(admin, server["id"], {"revertResize": None}) == 202
        back = admin.get(f"{NOVA}/servers/{server['id']}").json()["server"]
        assert (back["status"], back["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", "cmp-b")
        assert back["flavor"]["original_name"] == "m2"
        assert (_vcpus_used(admin, "cmp-a"), _vcpus_used(admin, "cmp-b")) == (0, 2)
        assert admin.get(f"{NET}/ports/{server['port']}").json()["port"][
            "binding:host_id"] == "cmp-b"


def test_resize_with_no_other_host_leaves_the_server_as_it_was(
        new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    with cloud.client(**MV) as admin:
        world = _world(admin)
        big = admin.post(f"{NOVA}/flavors", json={"flavor": {
            "name": "m2", "ram": 1024, "vcpus": 2, "disk": 1}}).json()["flavor"]["id"]
        _register(admin, "only")
        server = _boot(admin, world, "vm")
        # A cast in Nova: 202, then the conductor's NoValidHost leaves it ACTIVE, its fault
        # recorded but shown only in ERROR (views/servers.py _fault_statuses).
        assert _act(admin, server["id"], {"resize": {"flavorRef": big}}) == 202
        shown = admin.get(f"{NOVA}/servers/{server['id']}").json()["server"]
        assert (shown["status"], shown["flavor"]["original_name"]) == ("ACTIVE", "m1")
        assert "fault" not in shown
        assert _vcpus_used(admin, "only") == 1


def test_the_hosts_agents_are_neutrons_agents(new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    cloud.make_user("alice", "project-a")
    with cloud.client(**MV) as admin:
        _register(admin, "cmp-a")
        _register(admin, "cmp-b")
    agents = json.loads(cloud.openstack("network", "agent", "list", "-f", "json").stdout)
    assert sorted((a["Host"], a["Agent Type"], a["Binary"], a["Alive"]) for a in agents) == [
        ("cmp-a", "Open vSwitch agent", "neutron-openvswitch-agent", True),
        ("cmp-b", "Open vSwitch agent", "neutron-openvswitch-agent", True)]
    shown = json.loads(cloud.openstack("network", "agent", "show", agents[0]["ID"],
                                       "-f", "json").stdout)
    assert shown["configuration"]["resource_provider_bandwidths"] == {
        "br-phys": {"egress": 3_000_000, "ingress": 3_000_000}}
    with cloud.client("alice", "pw", "project-a") as alice:
        assert alice.get(f"{NET}/agents").json() == {"agents": []}
        hidden = alice.get(f"{NET}/agents/{agents[0]['ID']}")
        assert (hidden.status_code, hidden.json()["NeutronError"]["type"]) == (
            404, "AgentNotFound")


def _aggregate(admin: httpx.Client, name: str, zone: str | None) -> int:
    created = admin.post(f"{NOVA}/os-aggregates", json={"aggregate": {
        "name": name, **({"availability_zone": zone} if zone else {})}})
    assert created.status_code == 200, created.text
    return int(created.json()["aggregate"]["id"])


def _host_action(admin: httpx.Client, aggregate: int, action: str,
                 host: str) -> httpx.Response:
    return admin.post(f"{NOVA}/os-aggregates/{aggregate}/action",
                      json={action: {"host": host}})


def test_zones_come_from_the_hosts_aggregates(new_server: Callable[..., Cloud]) -> None:
    cloud = new_server()
    with cloud.client(**MV) as admin:
        world = _world(admin)
        _register(admin, "cmp-a", memory_mb=32768)
        _register(admin, "cmp-b")
        east = _aggregate(admin, "east", "az-east")
        west = _aggregate(admin, "west", "az-west")
        plain = _aggregate(admin, "plain", None)
        assert _host_action(admin, east, "add_host", "cmp-b").status_code == 200
        # nova/compute/api.py add_host_to_aggregate, in its order and words.
        missing = _host_action(admin, east, "add_host", "cmp-x")
        assert (missing.status_code, missing.json()["itemNotFound"]["message"]) == (
            404, "Compute host cmp-x could not be found.")
        twice = _host_action(admin, east, "add_host", "cmp-b")
        assert (twice.status_code, twice.json()["conflictingRequest"]["message"]) == (
            409, f"Aggregate {east} already has host cmp-b.")
        other_zone = _host_action(admin, west, "add_host", "cmp-b")
        assert (other_zone.status_code, other_zone.json()["conflictingRequest"]["message"]) == (
            409, f"Cannot add host to aggregate {west}. Reason: One or more hosts already in "
                 "availability zone(s) ['az-east'].")
        assert _host_action(admin, plain, "add_host", "cmp-b").status_code == 200
        shown = admin.get(f"{NOVA}/os-aggregates/{east}").json()["aggregate"]
        assert shown["hosts"] == ["cmp-b"]
        zones = {z["zoneName"] for z in admin.get(f"{NOVA}/os-availability-zone").json()[
            "availabilityZoneInfo"]}
        assert zones == {"az-east", "nova"}        # az-west has no host, so it is no zone
        # A requested zone keeps the server on its hosts, whatever the weighers prefer.
        port = admin.post(f"{NET}/ports", json={"port": {"network_id": world["network"]}}
                          ).json()["port"]["id"]
        created = admin.post(f"{NOVA}/servers", json={"server": {
            "name": "east-vm", "flavorRef": world["flavor"], "imageRef": world["image"],
            "availability_zone": "az-east", "networks": [{"port": port}]}})
        assert created.status_code == 202, created.text
        east_vm = admin.get(f"{NOVA}/servers/{created.json()['server']['id']}").json()[
            "server"]
        assert (east_vm["OS-EXT-SRV-ATTR:host"], east_vm["OS-EXT-AZ:availability_zone"]) == (
            "cmp-b", "az-east")
        refused = admin.post(f"{NOVA}/servers", json={"server": {
            "name": "west-vm", "flavorRef": world["flavor"], "imageRef": world["image"],
            "availability_zone": "az-west", "networks": "none"}})
        assert (refused.status_code, refused.json()["badRequest"]["message"]) == (
            400, "The requested availability zone is not available")
        # Without a zone the server takes its host's (here the roomier cmp-a: nova).
        free = _boot(admin, world, "free", guaranteed=False)
        assert (free["OS-EXT-SRV-ATTR:host"], free["OS-EXT-AZ:availability_zone"]) == (
            "cmp-a", "nova")
        # A host with servers may not change zone (ensure_no_instances_need_to_move_az_...).
        moving = _host_action(admin, east, "remove_host", "cmp-b")
        assert moving.status_code == 409
        assert moving.json()["conflictingRequest"]["message"].startswith(
            f"Cannot remove host from aggregate {east}. Reason: The host cannot be removed "
            "from the aggregate as the availability zone of the host would change from "
            "'az-east' to 'None' but the host already has 1 instance(s).")
        rename = admin.put(f"{NOVA}/os-aggregates/{east}", json={"aggregate": {
            "availability_zone": "az-north"}})
        assert (rename.status_code, rename.json()["conflictingRequest"]["message"]) == (
            409, f"Cannot update aggregate {east}. Reason: One or more hosts contain "
                 "instances in this zone.")
        gone = _host_action(admin, plain, "remove_host", "cmp-a")
        assert (gone.status_code, gone.json()["itemNotFound"]["message"]) == (
            404, f"Cannot remove host cmp-a in aggregate {plain}")
    cloud.openstack("aggregate", "add", "host", "plain", "cmp-a")
    shown = json.loads(cloud.openstack("aggregate", "show", "plain", "-f", "json").stdout)
    assert shown["hosts"] == ["cmp-b", "cmp-a"]
