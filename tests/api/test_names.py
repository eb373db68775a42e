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
from dataclasses import dataclass

import httpx
import pytest

from .conftest import Cloud

NOVA = "/compute/v2.1"
NET = "/network/v2.0"
INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable "
                "characters. Can not start or end with whitespace.")
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgbVTA/TUMS8s8gRLu4cmRBZfzUhg4N7WFjfhReru9U "
       "t@h")
MV = {"OpenStack-API-Version": "compute 2.96"}

# JSON text of names Nova refuses, by what is wrong with them.
BAD_NAMES = {
    "NUL": '"a\\u0000b"', "lone surrogate": '"\\ud800"', "control": '"a\\u0001b"',
    "tab": '"a\\tb"', "leading space": '" lead"', "trailing space": '"tail "',
    "trailing no-break space": '"tail\\u00a0"', "U+FFFF": '"\\uffff"',
    "astral (emoji)": '"\\ud83d\\ude00"', "line separator": '"a\\u2028b"',
}


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client(**MV) as client:
        yield client


@pytest.fixture(scope="module")
def refs(admin: httpx.Client) -> dict[str, str]:
    image = admin.post("/image/v2/images", json={"name": "names-img", "disk_format": "raw",
                                                  "container_format": "bare"}).json()["id"]
    assert admin.put(f"/image/v2/images/{image}/file", content=b"x",
                     headers={"Content-Type": "application/octet-stream"}).status_code == 204
    flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "names-flavor", "ram": 512, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    return {"image": image, "flavor": flavor}


@dataclass(frozen=True)
class Field:
    """A Nova name field: the route, a body with ``NAME`` where the name's JSON goes, and the
    listings whose lengths must not change when the request is refused."""

    path: str
    body: str
    listings: tuple[str, ...]

    def request(self, client: httpx.Client, name_json: str, refs: dict[str, str],
                headers: dict[str, str] | None = None) -> httpx.Response:
        body = (self.body.replace("IMAGE", refs["image"]).replace("FLAVOR", refs["flavor"])
                .replace("NAME", name_json))
        return client.post(self.path, content=body.encode(), headers={
            "Content-Type": "application/json", **(headers or {})})


_SERVER = '{"server": {"name": %s, "imageRef": "IMAGE", "flavorRef": "FLAVOR", %s' \
          '"networks": "none"}}'
_SERVERS = (f"{NOVA}/servers/detail", f"{NET}/ports")
FIELDS = {
    "flavor.name": Field(f"{NOVA}/flavors", '{"flavor": {"name": NAME, "ram": 512, '
                         '"vcpus": 1, "disk": 1}}', (f"{NOVA}/flavors/detail?is_public=none",)),
    "server.name": Field(f"{NOVA}/servers", _SERVER % ("NAME", ""), _SERVERS),
    "server.key_name": Field(f"{NOVA}/servers", _SERVER % ('"s"', '"key_name": NAME, '),
                             _SERVERS),
    "server.availability_zone": Field(
        f"{NOVA}/servers", _SERVER % ('"s"', '"availability_zone": NAME, '), _SERVERS),
    "server.security_groups[0].name": Field(
        f"{NOVA}/servers", _SERVER % ('"s"', '"security_groups": [{"name": NAME}], '),
        _SERVERS),
    "aggregate.name": Field(f"{NOVA}/os-aggregates", '{"aggregate": {"name": NAME}}',
                            (f"{NOVA}/os-aggregates",)),
    "keypair.name": Field(f"{NOVA}/os-keypairs",
                          '{"keypair": {"name": NAME, "public_key": "' + KEY + '"}}',
                          (f"{NOVA}/os-keypairs",)),
}


def _counts(client: httpx.Client, listings: tuple[str, ...]) -> list[int]:
    counts = []
    for listing in listings:
        response = client.get(listing)
        assert response.status_code == 200, (listing, response.text)
        (items,) = response.json().values()  # {"flavors": [...]}, {"ports": [...]} ...
        counts.append(len(items))
    return counts


def _refused(admin: httpx.Client, field: Field, name_json: str, refs: dict[str, str],
             message: str, headers: dict[str, str] | None = None) -> None:
    before = _counts(admin, field.listings)
    response = field.request(admin, name_json, refs, headers)
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    assert _counts(admin, field.listings) == before  # nothing was saved


@pytest.mark.parametrize("what", list(BAD_NAMES))
@pytest.mark.parametrize("where", list(FIELDS))
def test_a_name_nova_refuses_is_novas_400_and_saves_nothing(
        admin: httpx.Client, refs: dict[str, str], where: str, what: str) -> None:
    _refused(admin, FIELDS[where], BAD_NAMES[what], refs, INVALID_NAME)


@pytest.mark.parametrize(("name_json", "message"), [
    ('""', "Invalid input for field/attribute name. Value: . '' should be non-empty"),
    ('"' + "k" * 256 + '"', f"Invalid input for field/attribute name. Value: {'k' * 256}. "
                            f"'{'k' * 256}' is too long"),
    ("5", "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'"),
    ("null", "Invalid input for field/attribute name. Value: None. None is not of type "
             "'string'"),
    ("[]", "Invalid input for field/attribute name. Value: []. [] is not of type 'string'"),
])
@pytest.mark.parametrize("where", ["flavor.name", "server.name", "aggregate.name"])
def test_length_and_type_are_novas_words(admin: httpx.Client, refs: dict[str, str], where: str,
                                         name_json: str, message: str) -> None:
    _refused(admin, FIELDS[where], name_json, refs, message)


def test_an_explicit_null_key_name_is_refused_as_nova_refuses_it(
        admin: httpx.Client, refs: dict[str, str]) -> None:
    _refused(admin, FIELDS["server.key_name"], "null", refs,
             "Invalid input for field/attribute key_name. Value: None. None is not of type "
             "'string'")


@pytest.mark.parametrize(("name_json", "shown"), [
    ('"a\\u2006b \\u0434"', "a\u2006b \u0434"),   # spaces inside, any script
    # Python's $ before a final newline lets it through; nova/compute/flavors.py create then
    # strips the name.
    ('"m1.tiny\\n"', "m1.tiny"),
    ('"' + "k" * 255 + '"', "k" * 255),
])
def test_names_nova_accepts_are_kept_as_nova_keeps_them(admin: httpx.Client, refs: dict[str, str],
                                            name_json: str, shown: str) -> None:
    response = FIELDS["flavor.name"].request(admin, name_json, refs)
    assert response.status_code == 200, response.text
    flavor = response.json()["flavor"]
    assert flavor["name"] == shown
    assert admin.get(f"{NOVA}/flavors/{flavor['id']}").json()["flavor"]["name"] == shown
    assert admin.delete(f"{NOVA}/flavors/{flavor['id']}").status_code == 202


@pytest.mark.parametrize(("zone_json", "shown", "quoted"), [
    ('"az:1"', "az:1", "'az:1'"), ('" az"', " az", "' az'"), ('"a\\u0000"', "a\x00", "'a\\x00'"),
    ('""', "", "''"), ("5", "5", "5"),
    # Nova quotes the surrogate itself; the answer carries its escape (JSON cannot encode it)
    ('"\\ud800"', "\\ud800", "'\\ud800'"),
])
def test_an_aggregate_zone_nova_refuses_matches_no_alternative(
        admin: httpx.Client, refs: dict[str, str], zone_json: str, shown: str,
        quoted: str) -> None:
    field = Field(f"{NOVA}/os-aggregates",
                  '{"aggregate": {"name": "agg", "availability_zone": NAME}}',
                  (f"{NOVA}/os-aggregates",))
    _refused(admin, field, zone_json, refs,
             f"Invalid input for field/attribute availability_zone. Value: {shown}. "
             f"{quoted} is not valid under any of the given schemas")


def test_an_aggregate_zone_may_be_null(admin: httpx.Client) -> None:
    created = admin.post(f"{NOVA}/os-aggregates", json={"aggregate": {
        "name": "agg-no-zone", "availability_zone": None}})
    assert created.status_code == 200, created.text
    assert created.json()["aggregate"]["availability_zone"] is None


def test_key_pair_names_take_at_and_dot_from_2_92(admin: httpx.Client,
                                                  refs: dict[str, str]) -> None:
    field = FIELDS["keypair.name"]
    _refused(admin, field, '"me@host.x"', refs,
             "Invalid input for field/attribute name. Value: me@host.x. 'me@host.x' does not "
             "match '^[_\\\\- a-zA-Z0-9]+$'", headers={"OpenStack-API-Version": "compute 2.91"})
    _refused(admin, field, '"me!"', refs,
             "Invalid input for field/attribute name. Value: me!. 'me!' does not match "
             "'^[_\\\\-\\\\@\\\\. a-zA-Z0-9]+$'", headers={"OpenStack-API-Version": "compute 2.92"})
    created = field.request(admin, '"me@host.x"', refs,
                            headers={"OpenStack-API-Version": "compute 2.92"})
    assert created.status_code == 201, created.text
    assert created.json()["keypair"]["name"] == "me@host.x"


def test_the_guard_defers_a_name_only_to_a_route_that_checks_it(
        admin: httpx.Client, refs: dict[str, str]) -> None:
    """Flavor update takes no name: a NUL there is the guard's refusal, naming the field."""
    response = admin.put(f"{NOVA}/flavors/{refs['flavor']}",
                         content=b'{"flavor": {"name": "a\\u0000"}}',
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute flavor.name. Value: 'a\\x00'.")


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


def test_the_openstack_client_shows_novas_refusal(cloud: Cloud) -> None:
    done = cloud.openstack("flavor", "create", "--ram", "512", "--vcpus", "1", "--disk", "1",
                           "tab\tname", check=False)
    assert done.returncode == 1
    assert INVALID_NAME in done.stderr
    listed = cloud.openstack("flavor", "list", "--all", "-f", "value", "-c", "Name").stdout
    assert "tab\tname" not in listed
