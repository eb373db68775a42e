"""Keystone and Nova over HTTP: authentication and token expiry, microversions, flavor and
extra-spec validation with Nova's messages, and the server paths the client does not show
(ERROR on a flavor the compute node cannot use, Nova's 400s for bad references)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from vmqos.store.db import Database

from .conftest import ADMIN_PASSWORD, Cloud

NOVA = "/compute/v2.1"
V286 = {"OpenStack-API-Version": "compute 2.86"}
_PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ1Gv1Hhx2Jc1b0d7c1kP3mR0M0W9dJ0vW8y6mJ2n5aQ "
               "test")


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client() as client:
        yield client


def _auth(cloud: Cloud, user: str, password: str, project: str = "admin") -> httpx.Response:
    return httpx.post(f"{cloud.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}})


def _keystone_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "title", "message"}
    assert response.json()["error"]["code"] == status


# --- identity ---------------------------------------------------------------------------------


def test_token_response_has_what_the_client_needs(cloud: Cloud) -> None:
    response = _auth(cloud, "admin", ADMIN_PASSWORD)
    assert response.status_code == 201
    assert response.headers["X-Subject-Token"]
    token = response.json()["token"]
    assert token["expires_at"].endswith("Z")
    assert {e["type"] for e in token["catalog"]} == {"identity", "compute", "network", "image"}
    assert [r["name"] for r in token["roles"]] == ["admin", "member", "reader"]


@pytest.mark.parametrize(("user", "password"), [("admin", "wrong"), ("nobody", "x")])
def test_bad_credentials_are_401(cloud: Cloud, user: str, password: str) -> None:
    _keystone_error(_auth(cloud, user, password), 401)


def test_missing_and_unknown_tokens_are_401_everywhere(cloud: Cloud) -> None:
    for path in (f"{NOVA}/flavors", "/network/v2.0/networks", "/image/v2/images",
                 "/identity/v3/users"):
        for headers in ({}, {"X-Auth-Token": "not-a-token"}):
            response = httpx.get(f"{cloud.url}{path}", headers=headers)
            _keystone_error(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")


def test_discovery_needs_no_token(cloud: Cloud) -> None:
    assert httpx.get(f"{cloud.url}/identity/v3").status_code == 200
    assert httpx.get(f"{cloud.url}/identity").status_code == 300
    assert httpx.get(f"{cloud.url}{NOVA}").json()["version"]["version"] == "2.96"
    assert httpx.get(f"{cloud.url}/image").json()["versions"][0]["links"]
    assert httpx.get(f"{cloud.url}/network").status_code == 200


def test_tokens_expire_and_can_be_revoked(new_server: Any) -> None:
    cloud = new_server(token_ttl=2)
    token = _auth(cloud, "admin", ADMIN_PASSWORD).headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token}
    assert httpx.get(f"{cloud.url}{NOVA}/flavors", headers=headers).status_code == 200
    time.sleep(2.2)
    _keystone_error(httpx.get(f"{cloud.url}{NOVA}/flavors", headers=headers), 401)
    other = new_server()
    token = _auth(other, "admin", ADMIN_PASSWORD).headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token}
    assert httpx.delete(f"{other.url}/identity/v3/auth/tokens",
                        headers={**headers, "X-Subject-Token": token}).status_code == 204
    _keystone_error(httpx.get(f"{other.url}{NOVA}/flavors", headers=headers), 401)


def test_passwords_are_stored_hashed(cloud: Cloud) -> None:
    db = Database(cloud.settings.database_url)
    try:
        with db.read() as session:
            stored = session.execute(text("SELECT password_hash FROM users")).scalars().all()
    finally:
        db.dispose()
    assert stored and all(h.startswith("scrypt$16384$8$1$") for h in stored)
    assert all(ADMIN_PASSWORD not in h for h in stored)


# --- microversions ----------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "status", "echo"), [
    (None, 200, "2.1"), ("compute 2.61", 200, "2.61"), ("compute latest", 200, "2.96"),
    ("compute 2.97", 406, None), ("compute 3.0", 406, None), ("compute 2.x", 400, None)])
def test_microversion_negotiation(admin: httpx.Client, header: str | None, status: int,
                                  echo: str | None) -> None:
    headers = {"OpenStack-API-Version": header} if header else {}
    response = admin.get(f"{NOVA}/flavors", headers=headers)
    assert response.status_code == status, response.text
    if echo is None:
        fault = "notAcceptable" if status == 406 else "badRequest"
        assert response.json()[fault]["code"] == status
    else:
        assert response.headers["OpenStack-API-Version"] == f"compute {echo}"
        assert response.headers["X-OpenStack-Nova-API-Version"] == echo


# --- flavors and extra specs ------------------------------------------------------------------


def _flavor(admin: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    response = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": name, "ram": 512, "vcpus": 1, "disk": 1, "id": None, **extra}},
        headers={"OpenStack-API-Version": "compute 2.61"})
    assert response.status_code == 200, response.text
    flavor: dict[str, Any] = response.json()["flavor"]
    return flavor


def test_flavor_conflicts_and_views(admin: httpx.Client) -> None:
    flavor = _flavor(admin, "f-views")
    assert len(flavor["id"]) == 36 and flavor["extra_specs"] == {}
    response = admin.post(f"{NOVA}/flavors", json={"flavor": {"name": "f-views", "ram": 1,
                                                               "vcpus": 1, "disk": 1}})
    assert response.status_code == 409
    assert response.json() == {"conflictingRequest": {
        "code": 409, "message": "Flavor with name f-views already exists."}}
    old = admin.get(f"{NOVA}/flavors/{flavor['id']}").json()["flavor"]
    assert old["swap"] == "" and "description" not in old and "extra_specs" not in old
    missing = admin.get(f"{NOVA}/flavors/f-views")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Flavor f-views could not be found."


@pytest.mark.parametrize(("key", "value", "message"), [
    ("quota:cpu_shares", "-1", "Validation failed; '-1' is less than the min value of '0'."),
    ("quota:vif_inbound_average", "abc",
     "Validation failed; 'abc' is not a valid integer value."),
    ("quota:vif_inbound_floor", "1",
     "Validation failed; extra spec 'quota:vif_inbound_floor' does not appear to be a valid "
     "extra spec."),
])
def test_extra_specs_validated_from_286(admin: httpx.Client, key: str, value: str,
                                        message: str) -> None:
    flavor = _flavor(admin, f"f-{key}-{value}")["id"]
    response = admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs",
                          json={"extra_specs": {key: value}}, headers=V286)
    assert response.status_code == 400
    assert response.json() == {"badRequest": {"code": 400, "message": message}}
    # Below 2.86 Nova stores any string (the client sends 2.61).
    assert admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs",
                      json={"extra_specs": {key: value}}).status_code == 200
    assert admin.get(f"{NOVA}/flavors/{flavor}/os-extra_specs/{key}").json() == {key: value}


# Nova's verdicts beyond quota: (nova/api/validation/extra_specs/hw.py, os.py, resources.py,
# traits.py, validators.py), one per kind of check.
NAMESPACE_REJECTED = [
    ("hw:cpu_policy", "bogus",
     "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."),
    ("hw:numa_nodes", "0", "Validation failed; '0' is less than the min value of '1'."),
    ("hw:redirected_usb_ports", "16",
     "Validation failed; '16' is greater than the max value of '15'."),
    ("hw:boot_menu", "maybe", "Validation failed; 'maybe' is not a valid boolean-like value."),
    ("hw:mem_page_size", "huge", "Validation failed; 'huge' is not of the format "
     "'(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'."),
    ("hw:numa_mem.1", "0", "Validation failed; '0' is less than the min value of '1'."),
    ("hw:cpu_polcy", "dedicated",
     "Validation failed; extra spec 'hw:cpu_polcy' does not appear to be a valid extra spec."),
    ("os:secure_boot", "optional",
     "Validation failed; 'optional' is not one of: disabled, required."),
    ("resources1:VCPU", "two", "Validation failed; 'two' is not a valid integer value."),
    ("trait2:NOT_A_TRAIT", "required", "Validation failed; extra spec 'trait2:NOT_A_TRAIT' does "
     "not appear to be a valid extra spec."),
]


@pytest.mark.parametrize("version", ["2.86", "2.96"])
@pytest.mark.parametrize(("key", "value", "message"), NAMESPACE_REJECTED,
                         ids=[f"{k}={v}" for k, v, _ in NAMESPACE_REJECTED])
def test_every_namespace_validated_from_286(admin: httpx.Client, version: str, key: str,
                                            value: str, message: str) -> None:
    flavor = _flavor(admin, f"f-ns-{version}-{key}-{value}")["id"]
    url = f"{NOVA}/flavors/{flavor}/os-extra_specs"
    headers = {"OpenStack-API-Version": f"compute {version}"}
    # A valid spec rides along: a 400 saves nothing of the body.
    response = admin.post(url, json={"extra_specs": {"quota:cpu_shares": "512", key: value}},
                          headers=headers)
    assert response.status_code == 400, response.text
    assert response.json() == {"badRequest": {"code": 400, "message": message}}
    put = admin.put(f"{url}/{key}", json={key: value}, headers=headers)
    assert put.status_code == 400
    assert put.json() == {"badRequest": {"code": 400, "message": message}}
    assert admin.get(url).json() == {"extra_specs": {}}
    # Below 2.86 Nova stores any string.
    below = {"OpenStack-API-Version": "compute 2.85"}
    assert admin.post(url, json={"extra_specs": {key: value}}, headers=below).status_code == 200
    assert admin.put(f"{url}/{key}", json={key: value}, headers=below).status_code == 200
    assert admin.get(f"{url}/{key}").json() == {key: value}


def test_valid_specs_of_every_namespace_are_stored_at_296(admin: httpx.Client) -> None:
    flavor = _flavor(admin, "f-ns-valid")["id"]
    specs = {"hw:cpu_policy": "dedicated", "hw:numa_cpus.0": "0-3,^2", "hw:boot_menu": "Yes",
             "resources1:VGPU": "1", "resources:CUSTOM_FPGA": "2",
             "trait1:HW_CPU_X86_AVX2": "required", "trait:CUSTOM_GOLD": "forbidden",
             "capabilities:cpu_info:arch": "x86_64", "aggregate_instance_extra_specs:ssd": "true",
             "group_policy": "isolate", "quotas:cpu_shares": "-1", "foo": "bar"}
    response = admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs", json={"extra_specs": specs},
                          headers={"OpenStack-API-Version": "compute 2.96"})
    assert response.status_code == 200, response.text
    assert admin.get(f"{NOVA}/flavors/{flavor}/os-extra_specs").json() == {"extra_specs": specs}


# Nova's body schema (nova/api/openstack/compute/schemas/flavors_extraspecs.py create, update;
# parameter_types.metadata) applies at every microversion, before the policy and before the
# validators, in jsonschema's words inside nova/api/validation/validators.py's sentence.
_REGEXES = "'^[a-zA-Z0-9-_:. ]{1,255}$'"
# A valid spec rides along in each: a 400 saves nothing of the body.
SCHEMA_REFUSED_POST = [
    ({"quota:cpu_shares": "512", "quota/cpu_shares": "1"}, "Invalid input for field/attribute "
     "extra_specs. Value: {'quota:cpu_shares': '512', 'quota/cpu_shares': '1'}. "
     f"'quota/cpu_shares' does not match any of the regexes: {_REGEXES}"),
    ({"foo": "1", "quota:cpu_shares": "1" * 256}, "Invalid input for field/attribute "
     f"quota:cpu_shares. Value: {'1' * 256}. '{'1' * 256}' is too long"),
    ({"foo": "1", "hw:boot_menu": True}, "Invalid input for field/attribute hw:boot_menu. "
     "Value: True. True is not of type 'string', 'number'"),
    ({"foo": "1", "hw:numa_nodes": None}, "Invalid input for field/attribute hw:numa_nodes. "
     "Value: None. None is not of type 'string', 'number'"),
    # A value's failure before a key's, whichever comes first in the body.
    ({"b/x": "1", "foo": False}, "Invalid input for field/attribute foo. Value: False. False is "
     "not of type 'string', 'number'"),
]


def _saved(admin: httpx.Client, flavor: str) -> dict[str, str]:
    specs: dict[str, str] = admin.get(f"{NOVA}/flavors/{flavor}/os-extra_specs").json()[
        "extra_specs"]
    return specs


@pytest.mark.parametrize("version", ["2.61", "2.96"])
@pytest.mark.parametrize(("specs", "message"), SCHEMA_REFUSED_POST,
                         ids=[list(s)[-1] for s, _ in SCHEMA_REFUSED_POST])
def test_novas_body_schema_at_every_microversion(admin: httpx.Client, version: str,
                                                 specs: dict[str, Any], message: str) -> None:
    flavor = _flavor(admin, f"f-schema-{version}-{list(specs)[-1]}")["id"]
    response = admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs", json={"extra_specs": specs},
                          headers={"OpenStack-API-Version": f"compute {version}"})
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    assert _saved(admin, flavor) == {}


@pytest.mark.parametrize("version", ["2.61", "2.96"])
@pytest.mark.parametrize(("url_key", "body", "message"), [
    ("x", {"quota/x": "1"}, f"'quota/x' does not match any of the regexes: {_REGEXES}"),
    ("a", {"a": "1", "b": "2"}, "{'a': '1', 'b': '2'} has too many properties"),
    ("a", {}, "{} should be non-empty"),
    ("hw:boot_menu", {"hw:boot_menu": True}, "Invalid input for field/attribute hw:boot_menu. "
     "Value: True. True is not of type 'string', 'number'"),
    ("foo", {"foo": "x" * 256}, f"Invalid input for field/attribute foo. Value: {'x' * 256}. "
     f"'{'x' * 256}' is too long"),
])
def test_novas_update_schema_at_every_microversion(admin: httpx.Client, version: str,
                                                   url_key: str, body: dict[str, Any],
                                                   message: str) -> None:
    flavor = _flavor(admin, f"f-uschema-{version}-{len(body)}-{url_key[:4]}")["id"]
    response = admin.put(f"{NOVA}/flavors/{flavor}/os-extra_specs/{url_key}", json=body,
                         headers={"OpenStack-API-Version": f"compute {version}"})
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    assert _saved(admin, flavor) == {}


@pytest.mark.parametrize("version", ["2.86", "2.96"])
@pytest.mark.parametrize(("specs", "message"), [
    ({"quota:vif_outbound_peak": "max", "quota:cpu_shares": "-1"},
     "Validation failed; 'max' is not a valid integer value."),
    ({"quota:cpu_shares": "-1", "quota:vif_outbound_peak": "max"},
     "Validation failed; '-1' is less than the min value of '0'."),
    ({"hw:cpu_policy": "bogus", "hw:cpu_polcy": "dedicated"},
     "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."),
])
def test_the_first_bad_spec_in_the_body_is_named(admin: httpx.Client, version: str,
                                                 specs: dict[str, str], message: str) -> None:
    """flavors_extraspecs.py ``_check_extra_specs_value`` walks the body as the client sent it
    (httpx keeps the dict's order in the JSON text)."""
    flavor = _flavor(admin, f"f-order-{version}-{next(iter(specs))}")["id"]
    response = admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs",
                          json={"extra_specs": specs},
                          headers={"OpenStack-API-Version": f"compute {version}"})
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    assert _saved(admin, flavor) == {}


def test_openstack_flavor_set_gets_novas_verdict_on_its_first_bad_property(
        cloud: Cloud, admin: httpx.Client) -> None:
    """The real client sends its --property options as one object in command-line order."""
    flavor = _flavor(admin, "f-osc-order")["id"]
    done = cloud.openstack("--os-compute-api-version", "2.86", "flavor", "set",
                           "--property", "quota:vif_outbound_peak=max",
                           "--property", "quota:cpu_shares=-1", flavor, check=False)
    assert done.returncode == 1
    assert "Validation failed; 'max' is not a valid integer value." in done.stderr
    assert "min value" not in done.stderr
    slash = cloud.openstack("flavor", "set", "--property", "quota/cpu_shares=1", flavor,
                            check=False)
    assert slash.returncode == 1
    assert ("Invalid input for field/attribute extra_specs. Value: {'quota/cpu_shares': '1'}. "
            "'quota/cpu_shares' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"
            ) in slash.stderr
    assert _saved(admin, flavor) == {}


def test_json_numbers_are_stored_as_strings(admin: httpx.Client) -> None:
    flavor = _flavor(admin, "f-numbers")["id"]
    url = f"{NOVA}/flavors/{flavor}/os-extra_specs"
    response = admin.post(url, json={"extra_specs": {"hw:numa_nodes": 2, "foo": 1.5}},
                          headers={"OpenStack-API-Version": "compute 2.96"})
    # The answer is the body as sent (schemas/flavors_extraspecs.py create_response); what is
    # stored, and read back, is text.
    assert (response.status_code, response.json()) == (200, {"extra_specs": {
        "hw:numa_nodes": 2, "foo": 1.5}})
    assert _saved(admin, flavor) == {"hw:numa_nodes": "2", "foo": "1.5"}
    put = admin.put(f"{url}/foo", json={"foo": 7})
    assert (put.status_code, put.json()) == (200, {"foo": 7})
    assert admin.get(f"{url}/foo").json() == {"foo": "7"}
    # From 2.86 the validators read str() of the number.
    refused = admin.post(url, json={"extra_specs": {"quota:cpu_shares": -1}},
                         headers={"OpenStack-API-Version": "compute 2.86"})
    assert refused.json() == {"badRequest": {
        "code": 400, "message": "Validation failed; '-1' is less than the min value of '0'."}}


def test_update_checks_the_value_before_the_uri(admin: httpx.Client) -> None:
    """``FlavorExtraSpecsController.update``: schema, policy, value, and only then "Request
    body and URI mismatch"."""
    flavor = _flavor(admin, "f-put-order")["id"]
    url = f"{NOVA}/flavors/{flavor}/os-extra_specs/quota:cpu_shares"
    at_286 = admin.put(url, json={"quota:cpu_period": "x"}, headers=V286)
    assert at_286.json() == {"badRequest": {
        "code": 400, "message": "Validation failed; 'x' is not a valid integer value."}}
    below = admin.put(url, json={"quota:cpu_period": "x"})
    assert below.json() == {"badRequest": {"code": 400,
                                           "message": "Request body and URI mismatch"}}
    assert _saved(admin, flavor) == {}


def test_the_schema_comes_before_the_policy(cloud: Cloud, admin: httpx.Client) -> None:
    """Nova's ``validation.schema`` decorator runs before the method's ``context.can``: a
    member's bad body is a 400, a member's good body a 403."""
    cloud.make_user("schema-member", "schema-project")
    flavor = _flavor(admin, "f-schema-policy")["id"]
    url = f"{NOVA}/flavors/{flavor}/os-extra_specs"
    with cloud.client("schema-member", "pw", "schema-project") as member:
        bad = member.post(url, json={"extra_specs": {"a/b": "1"}})
        assert bad.json() == {"badRequest": {"code": 400, "message": (
            "Invalid input for field/attribute extra_specs. Value: {'a/b': '1'}. 'a/b' does "
            f"not match any of the regexes: {_REGEXES}")}}
        put = member.put(f"{url}/a", json={"a": True})
        assert put.status_code == 400
        assert member.post(url, json={"extra_specs": {"a": "1"}}).status_code == 403
    assert _saved(admin, flavor) == {}


def test_extra_spec_put_and_delete(admin: httpx.Client) -> None:
    flavor = _flavor(admin, "f-put")["id"]
    url = f"{NOVA}/flavors/{flavor}/os-extra_specs"
    assert admin.put(f"{url}/quota:cpu_shares", json={"quota:cpu_shares": "512"},
                     headers=V286).json() == {"quota:cpu_shares": "512"}
    assert admin.put(f"{url}/quota:cpu_shares", json={"quota:cpu_period": "1"}
                     ).status_code == 400
    assert admin.delete(f"{url}/quota:cpu_shares").status_code == 200
    gone = admin.delete(f"{url}/quota:cpu_shares")
    assert gone.status_code == 404
    assert gone.json()["itemNotFound"]["message"] == (
        f"Flavor {flavor} has no extra specs with key quota:cpu_shares.")


# --- servers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refs(admin: httpx.Client) -> dict[str, str]:
    image = admin.post("/image/v2/images", json={"name": "img", "disk_format": "raw",
                                                  "container_format": "bare"}).json()["id"]
    assert admin.put(f"/image/v2/images/{image}/file", content=b"x" * 100,
                     headers={"Content-Type": "application/octet-stream"}).status_code == 204
    network = admin.post("/network/v2.0/networks", json={"network": {"name": "net"}}).json()
    assert admin.post(f"{NOVA}/os-keypairs", json={"keypair": {
        "name": "k", "public_key": _PUBLIC_KEY}}).status_code == 200
    return {"image": image, "network": network["network"]["id"],
            "flavor": _flavor(admin, "f-server")["id"]}


def _server(admin: httpx.Client, refs: dict[str, str], **extra: Any) -> httpx.Response:
    body = {"name": "s", "imageRef": refs["image"], "flavorRef": refs["flavor"],
            "networks": [{"uuid": refs["network"]}], **extra}
    return admin.post(f"{NOVA}/servers", json={"server": body},
                      headers={"OpenStack-API-Version": "compute 2.96"})


@pytest.mark.parametrize(("extra", "message"), [
    ({"key_name": "nope"}, "Invalid key_name provided."),
    ({"availability_zone": "az_nope"}, "The requested availability zone is not available"),
    ({"imageRef": "4e3b4ba2-1d33-4c5c-8f5c-3f6f1b7c8d9e"},
     "Image 4e3b4ba2-1d33-4c5c-8f5c-3f6f1b7c8d9e could not be found."),
    ({"flavorRef": "nope"}, "Flavor nope could not be found."),
    ({"networks": [{"uuid": "4e3b4ba2-1d33-4c5c-8f5c-3f6f1b7c8d9e"}]},
     "Network 4e3b4ba2-1d33-4c5c-8f5c-3f6f1b7c8d9e could not be found."),
    ({"security_groups": [{"name": "nope"}]}, None),
])
def test_bad_server_references_are_400(admin: httpx.Client, refs: dict[str, str],
                                       extra: dict[str, Any], message: str | None) -> None:
    response = _server(admin, refs, **extra)
    assert response.status_code == 400, response.text
    if message is not None:
        assert response.json()["badRequest"]["message"] == message


def test_server_with_an_unusable_flavor_goes_to_error(admin: httpx.Client,
                                                      refs: dict[str, str]) -> None:
    flavor = _flavor(admin, "f-broken")["id"]
    assert admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs", json={"extra_specs": {
        "quota:cpu_shares": "-5"}}).status_code == 200
    created = _server(admin, refs, flavorRef=flavor, key_name="k")
    assert created.status_code == 202
    server = admin.get(f"{NOVA}/servers/{created.json()['server']['id']}").json()["server"]
    assert server["status"] == "ERROR"
    assert server["fault"]["message"] == (
        "Validation failed; '-5' is less than the min value of '0'.")
    plan = admin.get(f"{NOVA}/servers/{server['id']}/vmqos-plan")
    assert plan.status_code == 409 and "conflictingRequest" in plan.json()


def test_server_delete_removes_its_ports(admin: httpx.Client, refs: dict[str, str]) -> None:
    server = _server(admin, refs).json()["server"]["id"]
    ports = admin.get("/network/v2.0/ports", params={"device_id": server}).json()["ports"]
    assert len(ports) == 1 and ports[0]["device_owner"] == "compute:nova"
    assert admin.get(f"{NOVA}/servers/{server}/vmqos-plan",
                     params={"format": "text"}).text.startswith("### s (profile modern)")
    assert admin.delete(f"{NOVA}/servers/{server}").status_code == 204
    assert admin.get("/network/v2.0/ports", params={"device_id": server}).json()["ports"] == []
    assert admin.get(f"{NOVA}/servers/{server}").status_code == 404


def test_glance_lookup_by_name_is_404(admin: httpx.Client) -> None:
    response = admin.get("/image/v2/images/img")
    assert response.status_code == 404
    assert response.text.startswith("404 Not Found\n\n")
    assert [i["name"] for i in admin.get("/image/v2/images", params={"name": "img"}
                                         ).json()["images"]] == ["img"]


def test_unknown_attributes_are_novas_400(admin: httpx.Client) -> None:
    response = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "f-extra", "ram": 1, "vcpus": 1, "disk": 1, "color": "red"}})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == (
        "Invalid input for field/attribute flavor. Value: {'name': 'f-extra', 'ram': 1, "
        "'vcpus': 1, 'disk': 1, 'color': 'red'}. Additional properties are not allowed "
        "('color' was unexpected)")
    wrong_type = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "f-type", "ram": "lots", "vcpus": 1, "disk": 1}})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["badRequest"]["message"] == (
        "Invalid input for field/attribute ram. Value: lots. 'lots' does not match '^[0-9]+$'")
