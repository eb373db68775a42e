"""What no route may receive is refused before anything is saved (vmqos.api.guard), and every
listing still answers afterwards, for the admin and for a member.

The inputs are the ones that gave a 500 here, three of them after saving the record: a lone
surrogate (``"\\ud800"``: valid JSON, not text), a NUL character, an integer past 64 bits, and
a body over oslo.middleware's 114688-byte limit. They are sent as raw bytes, since a JSON
encoder that is careful refuses to produce them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .conftest import Cloud

NOVA = "/compute/v2.1"
SURROGATE = '"\\ud800"'  # the JSON text of a lone high surrogate
LISTINGS = (f"{NOVA}/flavors/detail", f"{NOVA}/servers/detail", "/network/v2.0/networks",
            "/network/v2.0/ports", "/network/v2.0/subnets", "/network/v2.0/security-groups",
            "/network/v2.0/qos/policies", "/image/v2/images", "/identity/v3/projects")


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client() as client:
        yield client


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Iterator[httpx.Client]:
    cloud.make_user("guard-member", "guard-project")
    with cloud.client("guard-member", "pw", "guard-project") as client:
        yield client


@pytest.fixture(scope="module")
def flavor_id(admin: httpx.Client) -> str:
    created = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "guard", "ram": 512, "vcpus": 1, "disk": 1}})
    assert created.status_code == 200, created.text
    flavor: str = created.json()["flavor"]["id"]
    return flavor


def _raw(client: httpx.Client, method: str, path: str, body: str) -> httpx.Response:
    return client.request(method, path, content=body.encode(),
                          headers={"Content-Type": "application/json"})


def _all_listings_answer(*clients: httpx.Client) -> None:
    for client in clients:
        for path in LISTINGS:
            if path.startswith("/identity") and client is not clients[0]:
                continue  # Keystone's project list is the admin's
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)


@pytest.mark.parametrize(("method", "path", "body", "field", "shape"), [
    ("POST", "/network/v2.0/networks", f'{{"network": {{"name": {SURROGATE}}}}}',
     "network.name", "NeutronError"),
    ("POST", "/network/v2.0/qos/policies",
     f'{{"policy": {{"name": "p", "description": {SURROGATE}}}}}', "policy.description",
     "NeutronError"),
    ("POST", "/network/v2.0/security-groups",
     f'{{"security_group": {{"name": {SURROGATE}}}}}', "security_group.name", "NeutronError"),
    ("POST", "/image/v2/images", f'{{"name": "i", "tags": [{SURROGATE}]}}', "tags[0]", None),
    ("POST", "/image/v2/images", f'{{"name": "i", "custom": {SURROGATE}}}', "custom", None),
    ("POST", f"{NOVA}/servers", f'{{"server": {{"name": "s", "flavorRef": {SURROGATE}}}}}',
     "server.flavorRef", "badRequest"),
    ("POST", f"{NOVA}/servers",
     f'{{"server": {{"name": "s", "metadata": {{"k": {SURROGATE}}}}}}}',
     "server.metadata.k", "badRequest"),
    ("POST", "/network/v2.0/networks", '{"network": {"name": "a\\u0000b"}}', "network.name",
     "NeutronError"),
    ("POST", "/image/v2/images", '{"name": "i", "min_disk": 18446744073709551616}',
     "min_disk", None),
])
def test_bad_text_and_numbers_are_refused_before_saving(
        admin: httpx.Client, member: httpx.Client, method: str, path: str, body: str,
        field: str, shape: str | None) -> None:
    before = {p: len(admin.get(p).json().get(p.rsplit("/", 1)[-1], [])) for p in (
        "/network/v2.0/networks", "/image/v2/images")}
    response = _raw(member, method, path, body)
    assert response.status_code == 400, response.text
    text = response.text
    assert f"Invalid input for field/attribute {field}." in text
    if shape is not None:
        assert shape in response.json()
    _all_listings_answer(admin, member)
    after = {p: len(admin.get(p).json().get(p.rsplit("/", 1)[-1], [])) for p in before}
    assert after == before  # nothing was saved


def test_a_flavor_extra_spec_below_2_86_is_not_saved(admin: httpx.Client, member: httpx.Client,
                                                     flavor_id: str) -> None:
    """Below 2.86 Nova does not check extra specs; a value that is not text still must not
    reach the database, or `openstack flavor list` fails for everyone."""
    response = _raw(admin, "POST", f"{NOVA}/flavors/{flavor_id}/os-extra_specs",
                    f'{{"extra_specs": {{"quota:cpu_shares": {SURROGATE}}}}}')
    assert response.status_code == 400, response.text
    assert "extra_specs.quota:cpu_shares" in response.json()["badRequest"]["message"]
    assert admin.get(f"{NOVA}/flavors/{flavor_id}/os-extra_specs").json() == {"extra_specs": {}}
    _all_listings_answer(admin, member)


def test_an_unauthenticated_user_name_is_refused_in_keystones_shape(cloud: Cloud) -> None:
    body = ('{"auth": {"identity": {"methods": ["password"], "password": {"user": {'
            f'"name": {SURROGATE}, "domain": {{"name": "Default"}}, "password": "x"}}}}}}}}}}')
    with cloud.anonymous() as anonymous:
        response = _raw(anonymous, "POST", "/identity/v3/auth/tokens", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400
    assert "auth.identity.password.user.name" in error["message"]


def test_a_key_that_is_not_text_is_refused(admin: httpx.Client) -> None:
    response = _raw(admin, "POST", "/network/v2.0/networks",
                    f'{{"network": {{{SURROGATE}: "x", "name": "n"}}}}')
    assert response.status_code == 400
    assert "the key: a lone UTF-16 surrogate" in response.json()["NeutronError"]["message"]


def test_nul_in_a_query_parameter_is_refused(admin: httpx.Client) -> None:
    response = admin.get(f"{NOVA}/flavors", params={"name": "a\x00b"})
    assert response.status_code == 400
    assert "Invalid input for field/attribute name." in response.json()["badRequest"]["message"]


def test_a_body_over_the_limit_is_413_and_not_repeated(admin: httpx.Client) -> None:
    name = "n" * 200_000
    response = admin.post("/network/v2.0/networks", json={"network": {"name": name}})
    assert response.status_code == 413
    assert response.json()["NeutronError"]["message"] == "Request is too large."
    nova = admin.post(f"{NOVA}/flavors", json={"flavor": {"name": name, "ram": 1, "vcpus": 1,
                                                          "disk": 1}})
    assert (nova.status_code, nova.json()) == (413, {"overLimit": {
        "code": 413, "message": "Request is too large."}})


def test_a_body_without_a_length_is_counted(admin: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"network": {"name": "'
        for _ in range(200):
            yield b"x" * 1000
        yield b'"}}'

    response = admin.post("/network/v2.0/networks", content=chunks(),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_image_data_is_not_limited(admin: httpx.Client) -> None:
    image = admin.post("/image/v2/images", json={"name": "big", "disk_format": "raw",
                                                 "container_format": "bare"}).json()["id"]
    data = b"\0" * 300_000
    uploaded = admin.put(f"/image/v2/images/{image}/file", content=data,
                         headers={"Content-Type": "application/octet-stream"})
    assert uploaded.status_code == 204, uploaded.text
    assert admin.get(f"/image/v2/images/{image}").json()["size"] == len(data)


def test_a_long_bad_value_is_quoted_as_a_bounded_prefix(admin: httpx.Client) -> None:
    body = '{"network": {"name": "' + "y" * 5000 + '\\u0000"}}'
    response = _raw(admin, "POST", "/network/v2.0/networks", body)
    message = response.json()["NeutronError"]["message"]
    assert response.status_code == 400 and len(message) < 300
    assert "yyyy…" in message


@pytest.mark.parametrize("param", ["minRam", "minDisk"])
def test_a_flavor_filter_past_any_flavor_matches_none(admin: httpx.Client, flavor_id: str,
                                                      param: str) -> None:
    """minRam=2**70 answered 500 (the database cannot bind it). No flavor holds more than
    Nova's MAX_INT, so Nova's answer is the empty list."""
    for path in (f"{NOVA}/flavors", f"{NOVA}/flavors/detail"):
        assert admin.get(path, params={param: str(2**70)}).json() == {"flavors": []}
        listed = admin.get(path, params={param: "0"}).json()["flavors"]
        assert flavor_id in [f["id"] for f in listed]


@pytest.mark.parametrize(("param", "text"), [("minRam", "x"), ("minDisk", "1.5")])
def test_a_flavor_filter_that_is_no_integer_is_novas_400(admin: httpx.Client, param: str,
                                                         text: str) -> None:
    response = admin.get(f"{NOVA}/flavors/detail", params={param: text})
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": f"Invalid {param} filter [{text}]"}})
