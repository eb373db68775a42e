"""Names through the HTTP API: Nova's name fields refuse what Nova refuses, with Nova's
message and nothing saved; Neutron, Glance and Keystone take the control characters they take,
and what the database cannot store is a 400 naming the field, never a 500.

Nova (``nova/api/validation/parameter_types.py`` ``name``; schemas ``flavors.py``,
``servers.py``, ``aggregates.py``, ``keypairs.py``): printable characters only — no control
characters, NUL, lone surrogates, line separators, U+FFFF or characters past the BMP — and no
space at either end. Neutron (neutron-lib ``type:name_string``) refuses the same in network,
port and subnet names but not in security group names or descriptions (``type:string``);
Glance's image schema and Keystone's ``[\\S]+`` take them. Bodies are sent as raw JSON text,
since a careful encoder refuses to write some of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .conftest import Cloud

NOVA = "/compute/v2.1"
NET = "/network/v2.0"
MV = {"OpenStack-API-Version": "compute 2.96"}

@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client(**MV) as client:
        yield client


# --- Neutron, Glance, Keystone ----------------------------------------------------------------


def _post(client: httpx.Client, path: str, body: str) -> httpx.Response:
    return client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def network(admin: httpx.Client) -> str:
    network_id: str = admin.post(f"{NET}/networks", json={"network": {"name": "names-net"}}
                                 ).json()["network"]["id"]
    return network_id


# path, body with NAME and NETWORK where the name's JSON and the network's id go
NEUTRON_NAMED = {
    "network": (f"{NET}/networks", '{"network": {"name": NAME}}'),
    "port": (f"{NET}/ports", '{"port": {"network_id": "NETWORK", "name": NAME}}'),
    "subnet": (f"{NET}/subnets", '{"subnet": {"network_id": "NETWORK", "cidr": "10.77.0.0/24", '
                                 '"ip_version": 4, "name": NAME}}'),
}


@pytest.mark.parametrize("resource", list(NEUTRON_NAMED))
def test_neutron_names_refuse_control_characters_in_neutrons_words(
        admin: httpx.Client, network: str, resource: str) -> None:
    path, body = NEUTRON_NAMED[resource]
    response = _post(admin, path, body.replace("NETWORK", network).replace("NAME",
                                                                          '"a\\u0001b"'))
    assert (response.status_code, response.json()) == (400, {"NeutronError": {
        "type": "HTTPBadRequest", "detail": "",
        "message": "Invalid input for name. Reason: 'a\x01b' is not a valid string."}})


def test_neutron_keeps_control_characters_where_it_takes_strings(admin: httpx.Client) -> None:
    created = _post(admin, f"{NET}/security-groups",
                    '{"security_group": {"name": "g\\u0001", "description": "d\\u0007"}}')
    assert created.status_code == 201, created.text
    group = created.json()["security_group"]
    shown = admin.get(f"{NET}/security-groups/{group['id']}").json()["security_group"]
    assert (shown["name"], shown["description"]) == ("g\x01", "d\x07")
    network = _post(admin, f"{NET}/networks",
                    '{"network": {"name": "n", "description": "tab\\there"}}')
    assert network.status_code == 201, network.text
    assert network.json()["network"]["description"] == "tab\there"


def test_a_nul_neutron_would_store_is_a_400_naming_the_field(admin: httpx.Client) -> None:
    before = len(admin.get(f"{NET}/security-groups").json()["security_groups"])
    response = _post(admin, f"{NET}/security-groups", '{"security_group": {"name": "g\\u0000"}}')
    assert response.status_code == 400
    assert response.json()["NeutronError"]["message"].startswith(
        "Invalid input for field/attribute security_group.name. Value: 'g\\x00'.")
    assert len(admin.get(f"{NET}/security-groups").json()["security_groups"]) == before


def test_glance_keeps_control_characters_in_a_name_and_refuses_nul(admin: httpx.Client) -> None:
    created = _post(admin, "/image/v2/images", '{"name": "img\\u0001\\u001f"}')
    assert created.status_code == 201, created.text
    image = created.json()["id"]
    assert admin.get(f"/image/v2/images/{image}").json()["name"] == "img\x01\x1f"
    before = len(admin.get("/image/v2/images").json()["images"])
    refused = _post(admin, "/image/v2/images", '{"name": "img\\u0000"}')
    assert refused.status_code == 400
    assert refused.text.startswith("400 Bad Request\n\nInvalid input for field/attribute name. "
                                   "Value: 'img\\x00'.")
    assert len(admin.get("/image/v2/images").json()["images"]) == before


def test_keystone_keeps_control_characters_in_a_name_and_refuses_nul(
        admin: httpx.Client) -> None:
    created = _post(admin, "/identity/v3/projects", '{"project": {"name": "p\\u0001"}}')
    assert created.status_code == 201, created.text
    assert created.json()["project"]["name"] == "p\x01"
    refused = _post(admin, "/identity/v3/projects", '{"project": {"name": "p\\u0000"}}')
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["code"], error["title"]) == (400, "Bad Request")
    assert error["message"].startswith("Invalid input for field/attribute project.name. "
                                       "Value: 'p\\x00'.")
    projects = admin.get("/identity/v3/projects").json()["projects"]
    assert "p\x00" not in [p["name"] for p in projects]
