"""Quotas, limits and usage through the ``openstack`` client and over HTTP: Nova's os-quota-sets
and /limits, Neutron's /v2.0/quotas, and the refusal of a create past a limit, each with the
service's status and words (nova/api/openstack/compute/quota_sets.py, limits.py,
nova/compute/utils.py, neutron/extensions/quotasv2.py, neutron-lib OverQuota).

``compute_servers.create_server`` calls the server check
(:func:`vmqos.api.compute_quotas.enforce_server_create`); it is exercised on the real database
and through the route.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from vmqos.api.compute_quotas import enforce_server_create
from vmqos.api.errors import ApiError
from vmqos.store.db import Database
from vmqos.store.identity import validate_token
from vmqos.store.models import Flavor

from .conftest import Cloud

NOVA = "/compute/v2.1"
NET = "/network/v2.0"
MV = {"OpenStack-API-Version": "compute 2.96"}
_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgbVTA/TUMS8s8gRLu4cmRBZfzUhg4N7WFjfhReru9U "
        "t@h")


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client(**MV) as client:
        yield client


def _project_of(cloud: Cloud, user: str, project: str) -> str:
    token = cloud.token(user, "pw", project)
    with cloud.client() as admin:
        found: str = admin.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": token}).json()["token"]["project"]["id"]
    return found


@pytest.fixture(scope="module")
def member(cloud: Cloud, admin: httpx.Client) -> Iterator[httpx.Client]:
    cloud.make_user("q-member", "q-project")
    cloud.make_user("q-other", "q-other-project")
    with cloud.client("q-member", "pw", "q-project", **MV) as client:
        yield client


@pytest.fixture(scope="module")
def project(cloud: Cloud, member: httpx.Client) -> str:
    return _project_of(cloud, "q-member", "q-project")


@pytest.fixture(scope="module")
def boot(admin: httpx.Client, member: httpx.Client) -> dict[str, str]:
    """What a member's server needs: a public active image, a flavor, the member's network."""
    image = admin.post("/image/v2/images", json={"name": "q-img", "disk_format": "raw",
                                                  "container_format": "bare",
                                                  "visibility": "public"}).json()["id"]
    admin.put(f"/image/v2/images/{image}/file", content=b"x",
              headers={"Content-Type": "application/octet-stream"})
    flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "q-flavor", "ram": 1024, "vcpus": 2, "disk": 1}}).json()["flavor"]["id"]
    network = member.post(f"{NET}/networks", json={"network": {"name": "q-net"}}).json()[
        "network"]["id"]
    return {"image": image, "flavor": flavor, "network": network}


def _server(client: httpx.Client, boot: dict[str, str], name: str,
            **extra: Any) -> httpx.Response:
    return client.post(f"{NOVA}/servers", json={"server": {
        "name": name, "imageRef": boot["image"], "flavorRef": boot["flavor"],
        "networks": [{"uuid": boot["network"]}], **extra}})


def _nova_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    fault = {400: "badRequest", 403: "forbidden"}[status]
    assert response.json() == {fault: {"code": status, "message": message}}


def _neutron_error(response: httpx.Response, status: int, kind: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"NeutronError": {"type": kind, "message": message,
                                                "detail": ""}}


def _table(stdout: str, key: str, value: str) -> dict[str, Any]:
    return {row[key]: row[value] for row in json.loads(stdout)}


# --- through the client -----------------------------------------------------------------------


def test_the_client_shows_and_sets_quotas_and_limits(cloud: Cloud, member: httpx.Client,
                                                     project: str, boot: dict[str, str]) -> None:
    env = cloud.os_env("q-member", "pw", "q-project")
    shown = _table(cloud.openstack("quota", "show", "-f", "json", env=env).stdout,
                   "Resource", "Limit")
    # The names are the client's: Neutron's resources by the SDK's attribute names.
    assert {k: shown[k] for k in ("cores", "instances", "ram", "key-pairs", "properties",
                                  "server-groups", "server-group-members", "networks",
                                  "subnets", "ports", "routers", "floating_ips",
                                  "security_groups", "security_group_rules", "rbac_policies",
                                  "router_routes", "subnet_pools")} == {
        "cores": 20, "instances": 10, "ram": 51200, "key-pairs": 100, "properties": 128,
        "server-groups": 10, "server-group-members": 10, "networks": 100, "subnets": 100,
        "ports": 500, "routers": 10, "floating_ips": 50, "security_groups": 10,
        "security_group_rules": 100, "rbac_policies": 10, "router_routes": 30,
        "subnet_pools": -1}

    cloud.openstack("quota", "set", "--instances", "4", "--cores", "9", "--networks", "7",
                    "--ports", "40", project)
    after = _table(cloud.openstack("quota", "show", project, "-f", "json").stdout,
                   "Resource", "Limit")
    assert (after["instances"], after["cores"], after["networks"], after["ports"]) == (
        4, 9, 7, 40)

    usage = json.loads(cloud.openstack("quota", "show", "--usage", "-f", "json",
                                       env=env).stdout)
    networks = next(r for r in usage if r["Resource"] == "networks")
    assert (networks["Limit"], networks["In Use"]) == (7, 1)

    assert _server(member, boot, "q-one").status_code == 202
    limits = _table(cloud.openstack("limits", "show", "--absolute", "-f", "json",
                                    env=env).stdout, "Name", "Value")
    # The client names Nova's absolute limits by the SDK's attributes.
    assert {k: limits[k] for k in ("max_total_instances", "total_instances_used",
                                   "max_total_cores", "total_cores_used", "max_total_ram_size",
                                   "total_ram_used", "max_total_keypairs",
                                   "max_server_meta")} == {
        "max_total_instances": 4, "total_instances_used": 1, "max_total_cores": 9,
        "total_cores_used": 2, "max_total_ram_size": 51200, "total_ram_used": 1024,
        "max_total_keypairs": 100, "max_server_meta": 128}


# --- Nova over HTTP ---------------------------------------------------------------------------


def test_quota_sets_answer_as_nova(cloud: Cloud, admin: httpx.Client, member: httpx.Client,
                                   project: str) -> None:
    other = _project_of(cloud, "q-other", "q-other-project")
    body = member.get(f"{NOVA}/os-quota-sets/{other}/defaults").json()["quota_set"]
    assert body == {"id": other, "cores": 20, "instances": 10, "key_pairs": 100,
                    "metadata_items": 128, "ram": 51200, "server_group_members": 10,
                    "server_groups": 10}   # 2.96: neither the nova-network nor the files
    old = admin.get(f"{NOVA}/os-quota-sets/{other}",
                    headers={"OpenStack-API-Version": "compute 2.1"}).json()["quota_set"]
    assert (old["floating_ips"], old["fixed_ips"], old["injected_files"]) == (-1, -1, 5)
    mid = admin.get(f"{NOVA}/os-quota-sets/{other}",
                    headers={"OpenStack-API-Version": "compute 2.56"}).json()["quota_set"]
    assert "floating_ips" not in mid and mid["injected_file_path_bytes"] == 255

    _nova_error(member.get(f"{NOVA}/os-quota-sets/{other}"), 403,
                "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
    _nova_error(member.get(f"{NOVA}/os-quota-sets/{other}/detail"), 403,
                "Policy doesn't allow os_compute_api:os-quota-sets:detail to be performed.")
    _nova_error(member.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "instances": 50}}), 403,
        "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
    _nova_error(member.delete(f"{NOVA}/os-quota-sets/{project}"), 403,
                "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed.")
    _nova_error(admin.get(f"{NOVA}/os-quota-sets/nowhere"), 400,
                "Project ID nowhere is not a valid project.")
    # Keystone tells a member nothing about another project, which Nova takes as valid.
    assert member.get(f"{NOVA}/os-quota-sets/nowhere/defaults").status_code == 200
    _nova_error(admin.get(f"{NOVA}/os-quota-sets/{other}", params={"fields": "x"}), 400,
                "Additional properties are not allowed ('fields' was unexpected)")

    updated = admin.put(f"{NOVA}/os-quota-sets/{other}", json={"quota_set": {
        "instances": "7", "key_pairs": -1, "force": "true"}})
    assert updated.status_code == 200, updated.text
    assert "id" not in updated.json()["quota_set"]
    assert updated.json()["quota_set"]["instances"] == 7
    assert updated.json()["quota_set"]["key_pairs"] == -1
    assert admin.delete(f"{NOVA}/os-quota-sets/{other}").status_code == 202
    assert admin.get(f"{NOVA}/os-quota-sets/{other}").json()["quota_set"]["instances"] == 10


@pytest.mark.parametrize(("quota_set", "message"), [
    ({"networks": 1}, "Invalid input for field/attribute quota_set. Value: {'networks': 1}. "
                      "Additional properties are not allowed ('networks' was unexpected)"),
    ({"floating_ips": 1}, "Invalid input for field/attribute quota_set. Value: "
                          "{'floating_ips': 1}. Additional properties are not allowed "
                          "('floating_ips' was unexpected)"),
    ({"instances": "ten"}, "Invalid input for field/attribute instances. Value: ten. 'ten' "
                           "does not match '^-?[0-9]+$'"),
    ({"instances": -2}, "Invalid input for field/attribute instances. Value: -2. -2 is less "
                        "than the minimum of -1"),
    ({"cores": 2**31}, "Invalid input for field/attribute cores. Value: 2147483648. "
                       "2147483648 is greater than the maximum of 2147483647"),
    ({"ram": True}, "Invalid input for field/attribute ram. Value: True. True is not of type "
                    "'integer', 'string'"),
])
def test_a_bad_quota_update_is_novas_400(admin: httpx.Client, project: str,
                                         quota_set: dict[str, Any], message: str) -> None:
    _nova_error(admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": quota_set}),
                400, message)


def test_a_limit_below_the_usage_needs_force(admin: httpx.Client, member: httpx.Client,
                                             project: str, boot: dict[str, str]) -> None:
    while member.get(f"{NOVA}/limits").json()["limits"]["absolute"]["totalInstancesUsed"] < 2:
        assert _server(member, boot, "q-used").status_code == 202
    _nova_error(admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "instances": 1}}), 400, "Quota limit 1 for instances must be greater than or equal "
                                "to already used and reserved 2.")
    forced = admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "instances": 1, "force": True}})
    assert forced.status_code == 200 and forced.json()["quota_set"]["instances"] == 1
    detail = member.get(f"{NOVA}/os-quota-sets/{project}/detail").json()["quota_set"]
    assert detail["instances"] == {"in_use": 2, "limit": 1, "reserved": 0}
    assert detail["cores"]["in_use"] == 4 and detail["key_pairs"]["in_use"] == 0
    assert admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "instances": 4}}).status_code == 200


def test_limits_answer_as_nova(admin: httpx.Client, member: httpx.Client,
                               project: str) -> None:
    _nova_error(member.get(f"{NOVA}/limits", params={"tenant_id": project}), 403,
                "Policy doesn't allow os_compute_api:limits:other_project to be performed.")
    theirs = admin.get(f"{NOVA}/limits", params={"tenant_id": project}).json()
    assert theirs["limits"]["rate"] == []
    assert theirs["limits"]["absolute"]["totalInstancesUsed"] >= 1
    old = admin.get(f"{NOVA}/limits", headers={"OpenStack-API-Version": "compute 2.1"}).json()
    assert (old["limits"]["absolute"]["maxImageMeta"],
            old["limits"]["absolute"]["maxSecurityGroups"]) == (128, -1)
    new = admin.get(f"{NOVA}/limits").json()["limits"]["absolute"]
    assert not {"maxImageMeta", "maxPersonality", "maxSecurityGroups",
                "totalFloatingIpsUsed"} & set(new)
    _nova_error(admin.get(f"{NOVA}/limits", params={"reserved": "1"}), 400,
                "Additional properties are not allowed ('reserved' was unexpected)")
    assert admin.get(f"{NOVA}/limits", params={"reserved": "1"}, headers={
        "OpenStack-API-Version": "compute 2.57"}).status_code == 200


def test_key_pairs_stop_at_the_quota(cloud: Cloud, admin: httpx.Client) -> None:
    cloud.make_user("q-keys", "q-keys-project")
    project = _project_of(cloud, "q-keys", "q-keys-project")
    assert admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "key_pairs": 1}}).status_code == 200
    with cloud.client("q-keys", "pw", "q-keys-project", **MV) as keys:
        assert keys.post(f"{NOVA}/os-keypairs", json={"keypair": {
            "name": "one", "public_key": _KEY}}).status_code == 201
        _nova_error(keys.post(f"{NOVA}/os-keypairs", json={"keypair": {
            "name": "two", "public_key": _KEY}}), 403, "Quota exceeded, too many key pairs.")


def test_the_server_check_refuses_as_nova(cloud: Cloud, admin: httpx.Client,
                                          member: httpx.Client, project: str,
                                          boot: dict[str, str]) -> None:
    """:func:`enforce_server_create` on the real database, with the member's own token
    (the call compute_servers.create_server is to make before it creates anything)."""
    admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "instances": 4, "cores": 9, "metadata_items": 2}})
    while member.get(f"{NOVA}/limits").json()["limits"]["absolute"]["totalInstancesUsed"] < 4:
        assert _server(member, boot, "q-fill").status_code == 202
    database = Database(cloud.settings.database_url)

    def check(metadata: dict[str, str] | None = None) -> str | None:
        """The check in a transaction of its own (the server must not wait on ours)."""
        with database.write() as session:
            who = validate_token(session, cloud.token("q-member", "pw", "q-project"))
            assert who is not None
            flavor = session.scalars(sa.select(Flavor).where(Flavor.id == boot["flavor"])).one()
            try:
                enforce_server_create(session, who, flavor, metadata, [(None, None)])
            except ApiError as refused:
                assert refused.status == 403
                return refused.message
        return None

    try:
        assert check() == ("Quota exceeded for cores, instances: Requested 2, 1, but already "
                           "used 8, 4 of 9, 4 cores, instances")
        assert check({"a": "1", "b": "2", "c": "3"}) == (
            "Maximum number of metadata items exceeds 2")
        admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
            "instances": 5, "cores": 20}})
        assert check() is None
        # Each of the four servers has its port: none is free for a fifth.
        admin.put(f"{NET}/quotas/{project}", json={"quota": {"port": 4}})
        assert check() == "Maximum number of ports exceeded"
        admin.put(f"{NET}/quotas/{project}", json={"quota": {"port": 3, "force": True}})
        assert check() == "The number of defined ports: 4 is over the limit: 3"
        admin.put(f"{NET}/quotas/{project}", json={"quota": {"port": -1}})
    finally:
        database.dispose()


def test_a_server_past_the_instance_quota_is_novas_403(admin: httpx.Client,
                                                       member: httpx.Client, project: str,
                                                       boot: dict[str, str]) -> None:
    used = member.get(f"{NOVA}/limits").json()["limits"]["absolute"]["totalInstancesUsed"]
    admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "instances": used, "cores": -1, "force": True}})
    _nova_error(_server(member, boot, "q-over"), 403,
                f"Quota exceeded for instances: Requested 1, but already used {used} of "
                f"{used} instances")


def test_all_projects_for_a_member_is_novas_403(cloud: Cloud, member: httpx.Client) -> None:
    _nova_error(member.get(f"{NOVA}/servers/detail", params={"all_tenants": "True"}), 403,
                "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be "
                "performed.")
    _nova_error(member.get(f"{NOVA}/servers", params={"all_tenants": ""}), 403,
                "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be "
                "performed.")
    listed = cloud.openstack("server", "list", "--all-projects", check=False,
                             env=cloud.os_env("q-member", "pw", "q-project"))
    assert "os_compute_api:servers:detail:get_all_tenants" in listed.stderr


# --- Neutron over HTTP ------------------------------------------------------------------------


def test_creates_past_a_neutron_quota_are_409_over_quota(cloud: Cloud,
                                                         admin: httpx.Client) -> None:
    cloud.make_user("q-net", "q-net-project")
    project = _project_of(cloud, "q-net", "q-net-project")
    assert admin.put(f"{NET}/quotas/{project}", json={"quota": {
        "network": 1, "subnet": 1, "port": 1}}).status_code == 200
    with cloud.client("q-net", "pw", "q-net-project") as client:
        network = client.post(f"{NET}/networks", json={"network": {"name": "n1"}})
        assert network.status_code == 201, network.text
        _neutron_error(client.post(f"{NET}/networks", json={"network": {"name": "n2"}}), 409,
                       "OverQuota", "Quota exceeded for resources: ['network'].")
        network_id = network.json()["network"]["id"]
        subnet = {"network_id": network_id, "ip_version": 4}
        for kind, first, second in (
                ("subnet", {**subnet, "cidr": "10.5.0.0/24"}, {**subnet, "cidr": "10.6.0.0/24"}),
                ("port", {"network_id": network_id}, {"network_id": network_id})):
            assert client.post(f"{NET}/{kind}s", json={kind: first}).status_code == 201
            _neutron_error(client.post(f"{NET}/{kind}s", json={kind: second}), 409,
                           "OverQuota", f"Quota exceeded for resources: ['{kind}'].")
        details = client.get(f"{NET}/quotas/{project}/details").json()["quota"]
        assert details["port"] == {"limit": 1, "used": 1, "reserved": 0}
        assert details["router"] == {"limit": 10, "used": 0, "reserved": 0}
    _neutron_error(admin.put(f"{NET}/quotas/{project}", json={"quota": {"port": 0}}), 400,
                   "HTTPBadRequest",
                   "Quota limit 0 for port must be greater than or equal to already used 1")
    assert admin.put(f"{NET}/quotas/{project}", json={"quota": {
        "port": 0, "force": True}}).json()["quota"]["port"] == 0
    assert admin.put(f"{NET}/quotas/{project}", json={"quota": {
        "port": 5, "check_limit": True}}).json()["quota"]["port"] == 5


def test_neutron_quotas_answer_as_neutron(cloud: Cloud, admin: httpx.Client,
                                          member: httpx.Client, project: str) -> None:
    other = _project_of(cloud, "q-other", "q-other-project")
    assert member.get(f"{NET}/quotas/{project}").json()["quota"]["security_group"] == 10
    assert member.get(f"{NET}/quotas/{project}/default").json() == {"quota": {
        "network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10,
        "floatingip": 50, "router_route": 30, "rbac_policy": 10, "security_group": 10,
        "security_group_rule": 100}}
    _neutron_error(member.get(f"{NET}/quotas/{other}"), 403, "PolicyNotAuthorized",
                   "(rule:get_quota) is disallowed by policy")
    _neutron_error(member.get(f"{NET}/quotas"), 403, "PolicyNotAuthorized",
                   "(rule:get_quota) is disallowed by policy")
    _neutron_error(member.get(f"{NET}/quotas/{other}/details"), 403, "AdminRequired",
                   "User does not have admin privileges: Only admin is authorized to access "
                   "quotas for another project.")
    _neutron_error(member.put(f"{NET}/quotas/{project}", json={"quota": {"network": 1}}),
                   403, "PolicyNotAuthorized", "(rule:update_quota) is disallowed by policy")
    _neutron_error(member.delete(f"{NET}/quotas/{project}"), 403, "PolicyNotAuthorized",
                   "(rule:delete_quota) is disallowed by policy")
    for quota, kind, message in (
            ({"networks": 1}, "HTTPBadRequest", "Unrecognized attribute(s) 'networks'"),
            ({"network": "many"}, "InvalidInput",
             "Invalid input for operation: 'many' is not an integer."),
            ({"network": -5}, "HTTPBadRequest",
             "Invalid input for network. Reason: '-5' is too small - must be at least '-1'."),
            ({"network": 2**31}, "HTTPBadRequest",
             "Invalid input for network. Reason: '2147483648' is too large - must be no "
             "larger than '2147483647'.")):
        _neutron_error(admin.put(f"{NET}/quotas/{other}", json={"quota": quota}), 400, kind,
                       message)
    listed = admin.get(f"{NET}/quotas").json()["quotas"]
    assert other not in {q["project_id"] for q in listed}
    assert admin.put(f"{NET}/quotas/{other}", json={"quota": {"router": 3}}).status_code == 200
    mine = next(q for q in admin.get(f"{NET}/quotas").json()["quotas"]
                if q["project_id"] == other)
    assert (mine["tenant_id"], mine["router"], mine["network"]) == (other, 3, 100)
    assert admin.delete(f"{NET}/quotas/{other}").status_code == 204
    _neutron_error(admin.delete(f"{NET}/quotas/{other}"), 404, "TenantQuotaNotFound",
                   f"Quota for project {other} could not be found.")
