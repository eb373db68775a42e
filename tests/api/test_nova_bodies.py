"""Nova's request-body schemas over HTTP: a server's ``description`` and ``metadata``, the
server metadata routes and the ``metadata_items`` quota, key pairs per microversion, and the
order Nova checks a body and the policy in (the schema first: ``@validation.schema`` runs before
the handler's ``context.can``).

Expected texts are Nova's: ``nova/api/validation/validators.py`` ``_SchemaValidator.validate``
around jsonschema's messages, for the schemas of ``nova/api/openstack/compute/schemas/``
(``servers.py``, ``server_metadata.py``, ``aggregates.py``, ``keypairs.py``) and the parameter
types of ``nova/api/validation/parameter_types.py``; ``nova/exception.py``
``MetadataLimitExceeded``; ``nova/policy.py``'s "Policy doesn't allow ... to be performed.".
A request Nova refuses changes nothing: each refusal is followed by a read that shows so.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud, boot_sources, nova_message

NOVA = "/compute/v2.1"
MV = {"OpenStack-API-Version": "compute 2.96"}
KEY_PATTERN = "^[a-zA-Z0-9-_:. ]{1,255}$"
PUBLIC_KEY = "ssh-ed25519 " + base64.b64encode(b"k" * 51).decode() + " me@host"


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client(**MV) as client:
        yield client


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Iterator[httpx.Client]:
    cloud.make_user("body-member", "body-project")
    with cloud.client("body-member", "pw", "body-project", **MV) as client:
        yield client


@pytest.fixture(scope="module")
def refs(admin: httpx.Client, member: httpx.Client) -> dict[str, str]:
    sources = boot_sources(admin, "bodies")
    flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "bodies", "ram": 512, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    project = member.get("/identity/v3/auth/tokens", headers={
        "X-Subject-Token": member.headers["X-Auth-Token"]}).json()["token"]["project"]["id"]
    return {"image": sources["image"], "network": sources["network"], "flavor": flavor,
            "project": project}


_message = nova_message


def _create(client: httpx.Client, refs: dict[str, str], name: str,
            headers: dict[str, str] | None = None, **fields: Any) -> httpx.Response:
    return client.post(f"{NOVA}/servers", headers=headers, json={"server": {
        "name": name, "imageRef": refs["image"], "flavorRef": refs["flavor"],
        "networks": [{"uuid": refs["network"]}], **fields}})


def _names(client: httpx.Client) -> set[str]:
    return {s["name"] for s in client.get(f"{NOVA}/servers").json()["servers"]}


def _server(client: httpx.Client, refs: dict[str, str], name: str) -> str:
    created = _create(client, refs, name)
    assert created.status_code == 202, created.text
    server: str = created.json()["server"]["id"]
    return server


# --- item: description (parameter_types.description, from 2.19) ----------------------------

def _pattern_refusal(value: str) -> str:
    """The start of jsonschema's message for a description the printable pattern refuses
    (the rest quotes Nova's whole ``valid_description_regex``)."""
    return (f"Invalid input for field/attribute description. Value: {value}. {value!r} does "
            "not match '^[\\\\ -\\\\~")


@pytest.mark.parametrize(("value", "start"), [
    ("d" * 256, f"Invalid input for field/attribute description. Value: {'d' * 256}. "
                f"'{'d' * 256}' is too long"),
    (5, "Invalid input for field/attribute description. Value: 5. 5 is not of type 'string', "
        "'null'"),
    ("tab\there", _pattern_refusal("tab\there")),
    ("nul\x00", _pattern_refusal("nul\x00")),       # Nova's pattern, not the request guard
    ("😀", _pattern_refusal("😀")),                 # above U+FFFF: outside Nova's class
])
def test_a_bad_description_is_refused_at_create_and_update(
        admin: httpx.Client, refs: dict[str, str], value: object, start: str) -> None:
    created = _create(admin, refs, "desc-bad", description=value)
    assert _message(created, 400).startswith(start)
    assert "desc-bad" not in _names(admin)
    server = _server(admin, refs, "desc-update")
    updated = admin.put(f"{NOVA}/servers/{server}", json={"server": {"description": value}})
    assert _message(updated, 400).startswith(start)
    shown = admin.get(f"{NOVA}/servers/{server}").json()["server"]
    assert shown["description"] is None


def test_the_refusal_quotes_novas_whole_description_pattern(admin: httpx.Client,
                                                            refs: dict[str, str]) -> None:
    message = _message(_create(admin, refs, "desc-pattern", description="a\x01"), 400)
    assert message.endswith("]*$'")
    # repr() of Nova's class: Latin-1 from U+00A0 (written \xa0) without the soft hyphen
    assert "does not match '^[\\\\ -\\\\~\\xa0-¬®-" in message


def test_a_description_may_be_spaces_or_null_from_2_19(admin: httpx.Client,
                                                       refs: dict[str, str]) -> None:
    created = _create(admin, refs, "desc-ok", description="  two  spaces  ")
    assert created.status_code == 202, created.text
    server = created.json()["server"]["id"]
    assert admin.get(f"{NOVA}/servers/{server}").json()["server"]["description"] == (
        "  two  spaces  ")
    cleared = admin.put(f"{NOVA}/servers/{server}", json={"server": {"description": None}})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["server"]["description"] is None


def test_before_2_19_a_description_is_an_additional_property_at_create(
        admin: httpx.Client, refs: dict[str, str]) -> None:
    old = _create(admin, refs, "desc-old", headers={"OpenStack-API-Version": "compute 2.18"},
                  description="x")
    assert _message(old, 400).startswith("Invalid input for field/attribute server. Value: ")
    assert _message(old, 400).endswith(
        "Additional properties are not allowed ('description' was unexpected)")
    assert "desc-old" not in _names(admin)


# --- item: metadata (parameter_types.metadata, the metadata_items quota) ---------------------

@pytest.mark.parametrize(("metadata", "message"), [
    ({"bad/key": "v"}, "Invalid input for field/attribute metadata. Value: {'bad/key': 'v'}. "
                       f"'bad/key' does not match any of the regexes: '{KEY_PATTERN}'"),
    ({"k": 5}, "Invalid input for field/attribute k. Value: 5. 5 is not of type 'string'"),
    ({"k": "v" * 256}, f"Invalid input for field/attribute k. Value: {'v' * 256}. "
                       f"'{'v' * 256}' is too long"),
    (None, "Invalid input for field/attribute metadata. Value: None. None is not of type "
           "'object'"),
    ("a=b", "Invalid input for field/attribute metadata. Value: a=b. 'a=b' is not of type "
            "'object'"),
])
def test_server_create_metadata_is_novas(admin: httpx.Client, refs: dict[str, str],
                                         metadata: object, message: str) -> None:
    assert _message(_create(admin, refs, "meta-bad", metadata=metadata), 400) == message
    assert "meta-bad" not in _names(admin)


@pytest.mark.parametrize(("method", "path", "body", "message"), [
    ("POST", "", {"metadata": {}, "x": 1},
     "Additional properties are not allowed ('x' was unexpected)"),
    ("POST", "", [], "[] is not of type 'object'"),
    ("POST", "", {}, "'metadata' is a required property"),
    ("PUT", "", {"metadata": {"k": None}},
     "Invalid input for field/attribute k. Value: None. None is not of type 'string'"),
    ("PUT", "/k", {"meta": {}},
     "Invalid input for field/attribute meta. Value: {}. {} should be non-empty"),
    ("PUT", "/k", {"meta": {"k": "v"}, "metadata": {}},
     "Additional properties are not allowed ('metadata' was unexpected)"),
])
def test_server_metadata_bodies_are_novas(admin: httpx.Client, refs: dict[str, str],
                                          method: str, path: str, body: object,
                                          message: str) -> None:
    server = _server(admin, refs, "meta-routes")
    url = f"{NOVA}/servers/{server}/metadata"
    assert admin.post(url, json={"metadata": {"keep": "1"}}).status_code == 200
    assert _message(admin.request(method, url + path, json=body), 400) == message
    assert admin.get(url).json() == {"metadata": {"keep": "1"}}


def test_metadata_items_is_the_projects_quota(admin: httpx.Client, member: httpx.Client,
                                              refs: dict[str, str]) -> None:
    """``_check_metadata_properties_quota``: the limit an admin set for the project, at create
    and at every change; Nova's 403 names it."""
    project = refs["project"]
    assert admin.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "metadata_items": 2}}).status_code == 200
    try:
        three = {"a": "1", "b": "2", "c": "3"}
        assert _message(_create(member, refs, "meta-quota", metadata=three), 403) == (
            "Maximum number of metadata items exceeds 2")
        assert "meta-quota" not in _names(member)
        server = _server(member, refs, "meta-quota-2")
        url = f"{NOVA}/servers/{server}/metadata"
        assert member.post(url, json={"metadata": {"a": "1", "b": "2"}}).status_code == 200
        assert _message(member.post(url, json={"metadata": {"c": "3"}}), 403) == (
            "Maximum number of metadata items exceeds 2")
        assert _message(member.put(f"{url}/c", json={"meta": {"c": "3"}}), 403) == (
            "Maximum number of metadata items exceeds 2")
        assert _message(member.put(url, json={"metadata": three}), 403) == (
            "Maximum number of metadata items exceeds 2")
        assert member.get(url).json() == {"metadata": {"a": "1", "b": "2"}}
        assert member.post(url, json={"metadata": {"a": "changed"}}).status_code == 200
    finally:
        assert admin.delete(f"{NOVA}/os-quota-sets/{project}").status_code == 202


# --- item: the schema before the policy ---------------------------------------------------------

def _aggregate(admin: httpx.Client, name: str) -> int:
    created = admin.post(f"{NOVA}/os-aggregates", json={"aggregate": {"name": name}})
    assert created.status_code == 200, created.text
    number: int = created.json()["aggregate"]["id"]
    return number


def test_aggregate_actions_judge_the_body_before_the_policy(admin: httpx.Client,
                                                            member: httpx.Client) -> None:
    number = _aggregate(admin, "agg-order")
    url = f"{NOVA}/os-aggregates/{number}/action"
    cases = [
        ({"set_metadata": {"metadata": {"a/b": "1"}}},
         "Invalid input for field/attribute metadata. Value: {'a/b': '1'}. 'a/b' does not "
         f"match any of the regexes: '{KEY_PATTERN}'"),
        ({"set_metadata": {}},
         "Invalid input for field/attribute set_metadata. Value: {}. 'metadata' is a required "
         "property"),
        ({"set_metadata": {"metadata": {"k": 1}}},
         "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string', 'null'"),
        ({"add_host": {}},
         "Invalid input for field/attribute add_host. Value: {}. 'host' is a required "
         "property"),
        ({"remove_host": {"host": "a/b"}},
         "Invalid input for field/attribute host. Value: a/b. 'a/b' does not match "
         "'^[a-zA-Z0-9-._]*$'"),
    ]
    for body, message in cases:
        assert _message(member.post(url, json=body), 400) == message
        assert _message(admin.post(url, json=body), 400) == message
    for action, body in (("set_metadata", {"set_metadata": {"metadata": {"a": "1"}}}),
                         ("add_host", {"add_host": {"host": "h1"}})):
        assert _message(member.post(url, json=body), 403) == (
            f"Policy doesn't allow os_compute_api:os-aggregates:{action} to be performed.")
    assert _message(member.post(url, json={"set_metadata": {"metadata": {}}, "x": {}}),
                    400) == "Malformed request body"
    assert admin.get(f"{NOVA}/os-aggregates/{number}").json()["aggregate"]["metadata"] == {}


@pytest.mark.parametrize(("body", "message"), [
    ({"aggregate": {"name": " lead"}}, "An invalid 'name' value was provided. The name must "
     "be: printable characters. Can not start or end with whitespace."),
    ({"aggregate": {"name": "a", "availability_zone": "z:1"}},
     "Invalid input for field/attribute availability_zone. Value: z:1. 'z:1' is not valid "
     "under any of the given schemas"),
    ({"aggregate": {"name": "a", "extra": 1}},
     "Invalid input for field/attribute aggregate. Value: {'name': 'a', 'extra': 1}. "
     "Additional properties are not allowed ('extra' was unexpected)"),
    ({"aggregate": {}}, "Invalid input for field/attribute aggregate. Value: {}. 'name' is a "
                        "required property"),
    ({}, "'aggregate' is a required property"),
])
def test_aggregate_create_is_novas_schema_then_the_policy(admin: httpx.Client,
                                                          member: httpx.Client,
                                                          body: object, message: str) -> None:
    assert _message(member.post(f"{NOVA}/os-aggregates", json=body), 400) == message
    assert _message(admin.post(f"{NOVA}/os-aggregates", json=body), 400) == message
    good = {"aggregate": {"name": "agg-policy"}}
    assert _message(member.post(f"{NOVA}/os-aggregates", json=good), 403) == (
        "Policy doesn't allow os_compute_api:os-aggregates:create to be performed.")


def test_server_actions_judge_the_body_before_the_server_and_the_policy(
        cloud: Cloud, admin: httpx.Client, refs: dict[str, str]) -> None:
    """A reader may not reboot; Nova still answers a bad body first, and a missing server's
    bad body too."""
    cloud.make_user("body-reader", "body-project", role="reader")
    server = _server(admin, refs, "act-order")
    gone = "4e3b4ba2-1d33-4c5c-8f5c-3f6f1b7c8d9e"
    bad_reboot = {"reboot": {"type": "gentle"}}
    reboot_message = ("Invalid input for field/attribute type. Value: gentle. 'gentle' is not "
                      "one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']")
    with cloud.client("body-reader", "pw", "body-project", **MV) as reader:
        for target in (server, gone):
            url = f"{NOVA}/servers/{target}/action"
            assert _message(reader.post(url, json=bad_reboot), 400) == reboot_message
            assert _message(admin.post(url, json=bad_reboot), 400) == reboot_message
            assert _message(admin.post(url, json={"resize": {"flavorRef": ""}}), 400) == (
                "Invalid input for field/attribute flavorRef. Value: . '' should be non-empty")
            assert _message(admin.post(url, json={"os-stop": None, "x": 1}), 400) == (
                "Malformed request body")
            assert _message(admin.post(url, json={"reboot": {"type": "HARD"}, "x": 1}),
                            400) == "Malformed request body"
    assert admin.get(f"{NOVA}/servers/{server}").json()["server"]["status"] == "ACTIVE"


def test_flavor_and_quota_bodies_come_before_their_admin_policy(member: httpx.Client,
                                                                refs: dict[str, str]) -> None:
    """Flavor create, extra specs and quota sets were already schema-first; pinned here."""
    assert _message(member.post(f"{NOVA}/flavors", json={"flavor": {"name": "x"}}), 400) == (
        "Invalid input for field/attribute flavor. Value: {'name': 'x'}. 'ram' is a required "
        "property")
    assert _message(member.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "x", "ram": 1, "vcpus": 1, "disk": 0}}), 403) == (
        "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
    specs = f"{NOVA}/flavors/{refs['flavor']}/os-extra_specs"
    assert _message(member.post(specs, json={"extra_specs": {"a/b": "1"}}), 400).endswith(
        f"'a/b' does not match any of the regexes: '{KEY_PATTERN}'")
    assert _message(member.post(specs, json={"extra_specs": {"a": "1"}}), 403) == (
        "Policy doesn't allow os_compute_api:os-flavor-extra-specs:create to be performed.")
    quota = f"{NOVA}/os-quota-sets/{refs['project']}"
    assert _message(member.put(quota, json={"quota_set": {"cores": "x"}}), 400).startswith(
        "Invalid input for field/attribute cores. Value: x.")
    assert _message(member.put(quota, json={"quota_set": {"cores": 5}}), 403) == (
        "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")


# --- item: key pairs per microversion -----------------------------------------------------------

def _keypair(client: httpx.Client, version: str, **fields: Any) -> httpx.Response:
    return client.post(f"{NOVA}/os-keypairs", json={"keypair": fields},
                       headers={"OpenStack-API-Version": f"compute {version}"})


@pytest.mark.parametrize(("version", "fields", "message"), [
    ("2.1", {"name": "k", "public_key": PUBLIC_KEY, "type": "ssh"},
     "Additional properties are not allowed ('type' was unexpected)"),
    ("2.9", {"name": "k", "public_key": PUBLIC_KEY, "user_id": "u"},
     "Additional properties are not allowed ('user_id' was unexpected)"),
    ("2.2", {"name": "k", "public_key": PUBLIC_KEY, "type": "rsa"},
     "Invalid input for field/attribute type. Value: rsa. 'rsa' is not one of "
     "['ssh', 'x509']"),
    ("2.92", {"name": "k"}, "'public_key' is a required property"),
    ("2.92", {"name": "k", "public_key": 5},
     "Invalid input for field/attribute public_key. Value: 5. 5 is not of type 'string'"),
    ("2.91", {"name": "me@host", "public_key": PUBLIC_KEY},
     "Invalid input for field/attribute name. Value: me@host. 'me@host' does not match "
     "'^[_\\\\- a-zA-Z0-9]+$'"),
    ("2.92", {"name": "k" * 256, "public_key": PUBLIC_KEY},
     f"Invalid input for field/attribute name. Value: {'k' * 256}. '{'k' * 256}' is too long"),
    ("2.92", {"public_key": PUBLIC_KEY}, "'name' is a required property"),
])
def test_keypair_create_is_novas_schema_for_the_version(member: httpx.Client, version: str,
                                                        fields: dict[str, Any],
                                                        message: str) -> None:
    answer = _message(_keypair(member, version, **fields), 400)
    assert answer.endswith(message), answer
    assert member.get(f"{NOVA}/os-keypairs").json() == {"keypairs": []}


def test_keypair_fields_per_version_and_another_users_pairs(cloud: Cloud,
                                                            admin: httpx.Client) -> None:
    cloud.make_user("kp-owner", "kp-project")
    cloud.make_user("kp-other", "kp-project")
    with cloud.client("kp-owner", "pw", "kp-project", **MV) as owner, \
            cloud.client("kp-other", "pw", "kp-project", **MV) as other:
        me = owner.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": owner.headers["X-Auth-Token"]}).json()["token"]["user"]["id"]
        created = _keypair(owner, "2.1", name="old-style", public_key=PUBLIC_KEY)
        assert created.status_code == 200, created.text
        assert set(created.json()["keypair"]) == {"name", "public_key", "fingerprint",
                                                  "user_id"}
        listed = owner.get(f"{NOVA}/os-keypairs", headers={
            "OpenStack-API-Version": "compute 2.1"}).json()["keypairs"]
        assert set(listed[0]["keypair"]) == {"name", "public_key", "fingerprint"}
        assert set(owner.get(f"{NOVA}/os-keypairs").json()["keypairs"][0]["keypair"]) == {
            "name", "public_key", "fingerprint", "type"}
        shown = owner.get(f"{NOVA}/os-keypairs/old-style").json()["keypair"]
        assert shown["user_id"] == me and shown["type"] == "ssh"
        assert set(shown) == {"name", "public_key", "fingerprint", "user_id", "created_at",
                              "deleted", "deleted_at", "id", "updated_at", "type"}
        # From 2.10 an admin names another user, in the body or the query; a user may not.
        assert _message(_keypair(other, "2.10", name="theirs", public_key=PUBLIC_KEY,
                                 user_id=me), 403) == (
            "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.")
        made = _keypair(admin, "2.10", name="by-admin", public_key=PUBLIC_KEY, user_id=me)
        assert made.status_code == 201, made.text
        assert made.json()["keypair"]["user_id"] == me
        names = {k["keypair"]["name"] for k in owner.get(f"{NOVA}/os-keypairs").json()[
            "keypairs"]}
        assert names == {"old-style", "by-admin"}
        assert {k["keypair"]["name"] for k in admin.get(
            f"{NOVA}/os-keypairs", params={"user_id": me}).json()["keypairs"]} == names
        assert admin.get(f"{NOVA}/os-keypairs/by-admin", params={"user_id": me}).json()[
            "keypair"]["user_id"] == me
        assert _message(other.get(f"{NOVA}/os-keypairs", params={"user_id": me}), 403) == (
            "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.")
        assert _message(other.delete(f"{NOVA}/os-keypairs/by-admin", params={
            "user_id": me}), 403) == (
            "Policy doesn't allow os_compute_api:os-keypairs:delete to be performed.")
        assert admin.delete(f"{NOVA}/os-keypairs/by-admin", params={
            "user_id": me}).status_code == 204
        assert [k["keypair"]["name"] for k in owner.get(f"{NOVA}/os-keypairs").json()[
            "keypairs"]] == ["old-style"]


# --- aggregate update (schemas/aggregates.py update) -----------------------------------------

def test_openstack_aggregate_set_renames_and_moves_the_zone(cloud: Cloud,
                                                             admin: httpx.Client) -> None:
    cloud.openstack("aggregate", "create", "--zone", "az-before", "agg-set")
    cloud.openstack("aggregate", "set", "--name", "agg-renamed", "--zone", "az-after",
                    "agg-set")
    shown = cloud.openstack("aggregate", "show", "agg-renamed", "-f", "value", "-c",
                            "availability_zone").stdout.strip()
    assert shown == "az-after"
    zones = {z["zoneName"] for z in admin.get(f"{NOVA}/os-availability-zone").json()[
        "availabilityZoneInfo"]}
    assert "az-after" in zones and "az-before" not in zones


@pytest.mark.parametrize(("body", "message"), [
    ({"aggregate": {}}, "Invalid input for field/attribute aggregate. Value: {}. {} is not "
                        "valid under any of the given schemas"),
    ({"aggregate": {"name": "   "}}, "An invalid 'name' value was provided. The name must be: "
     "printable characters with at least one non space character"),
    ({"aggregate": {"name": "a\tb"}}, "An invalid 'name' value was provided. The name must be: "
     "printable characters with at least one non space character"),
    ({"aggregate": {"availability_zone": "z:1"}},
     "Invalid input for field/attribute availability_zone. Value: z:1. 'z:1' is not valid "
     "under any of the given schemas"),
    ({"aggregate": {"name": "x", "hosts": []}},
     "Invalid input for field/attribute aggregate. Value: {'name': 'x', 'hosts': []}. "
     "Additional properties are not allowed ('hosts' was unexpected)"),
    ({"aggregate": {"name": "x"}, "more": 1},
     "Additional properties are not allowed ('more' was unexpected)"),
])
def test_aggregate_update_is_novas_schema_then_the_policy(admin: httpx.Client,
                                                          member: httpx.Client,
                                                          body: object, message: str) -> None:
    number = _aggregate(admin, f"agg-up-{uuid.uuid4().hex[:8]}")
    url = f"{NOVA}/os-aggregates/{number}"
    assert _message(member.put(url, json=body), 400) == message
    assert _message(admin.put(url, json=body), 400) == message
    assert _message(member.put(url, json={"aggregate": {"name": "fine"}}), 403) == (
        "Policy doesn't allow os_compute_api:os-aggregates:update to be performed.")


def test_aggregate_update_keeps_spaces_out_names_unique_and_changes_all_or_nothing(
        admin: httpx.Client) -> None:
    number = _aggregate(admin, "agg-whole")
    _aggregate(admin, "agg-taken")
    url = f"{NOVA}/os-aggregates/{number}"
    renamed = admin.put(url, json={"aggregate": {"name": "  agg-spaced  "}})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["aggregate"]["name"] == "agg-spaced"    # common.normalize_name
    assert _message(admin.put(url, json={"aggregate": {"name": "agg-taken"}}), 409) == (
        "Aggregate agg-taken already exists.")
    # Nova saves the name before refusing the empty zone; here nothing changes.
    assert _message(admin.put(url, json={"aggregate": {
        "name": "agg-half", "availability_zone": None}}), 400) == (
        f"Cannot update aggregate {number}. Reason: Aggregate agg-half does not support "
        "empty named availability zone.")
    assert admin.get(url).json()["aggregate"]["name"] == "agg-spaced"
    assert _message(admin.put(f"{NOVA}/os-aggregates/x", json={"aggregate": {"name": "y"}}),
                    400) == "Invalid input received: id must be an integer"
    assert _message(admin.put(f"{NOVA}/os-aggregates/999999", json={"aggregate": {
        "name": "y"}}), 404) == "Aggregate 999999 could not be found."
