"""Updating and deleting Keystone projects and users, through the ``openstack`` client and over
HTTP: what the change does to tokens, and Keystone's refusals verbatim (keystone/api/projects.py,
users.py, keystone/resource/core.py, keystone/identity/core.py, keystone/exception.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud

ID = "/identity/v3"
UNAUTHENTICATED = {"error": {"code": 401, "title": "Unauthorized",
                             "message": "The request you have made requires authentication."}}


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client() as client:
        yield client


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Iterator[httpx.Client]:
    cloud.make_user("ws-member", "ws-project")
    with cloud.client("ws-member", "pw", "ws-project") as client:
        yield client


def _token(cloud: Cloud, user: str, password: str, project: str) -> httpx.Response:
    return httpx.post(f"{cloud.url}{ID}/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}})


def _id(client: httpx.Client, kind: str, name: str) -> str:
    found = client.get(f"{ID}/{kind}s", params={"name": name}).json()[f"{kind}s"]
    assert len(found) == 1, found
    value: str = found[0]["id"]
    return value


def _keystone_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == status
    assert response.json()["error"]["message"] == message


def test_the_client_sets_and_deletes_projects_and_users(cloud: Cloud,
                                                        admin: httpx.Client) -> None:
    cloud.openstack("project", "create", "ops-a", "--description", "first")
    cloud.openstack("project", "set", "--name", "ops-b", "--description", "second",
                    "--disable", "ops-a")
    project = json.loads(cloud.openstack("project", "show", "ops-b", "-f", "json").stdout)
    assert (project["name"], project["description"], project["enabled"]) == (
        "ops-b", "second", False)
    cloud.openstack("project", "set", "--enable", "ops-b")

    cloud.openstack("user", "create", "--project", "ops-b", "--password", "pw1", "ops-u")
    cloud.openstack("role", "add", "--project", "ops-b", "--user", "ops-u", "member")
    cloud.openstack("user", "set", "--name", "ops-v", "--email", "v@example.org", "--disable",
                    "ops-u")
    user = json.loads(cloud.openstack("user", "show", "ops-v", "-f", "json").stdout)
    assert (user["name"], user["email"], user["enabled"]) == ("ops-v", "v@example.org", False)
    assert _token(cloud, "ops-v", "pw1", "ops-b").json() == UNAUTHENTICATED

    cloud.openstack("user", "set", "--enable", "--password", "pw2", "ops-v")
    assert _token(cloud, "ops-v", "pw1", "ops-b").status_code == 401
    issued = json.loads(cloud.openstack("token", "issue", "-f", "json",
                                        env=cloud.os_env("ops-v", "pw2", "ops-b")).stdout)
    assert issued["project_id"] == project["id"] and issued["user_id"] == user["id"]

    cloud.openstack("user", "delete", "ops-v")
    cloud.openstack("project", "delete", "ops-b")
    assert admin.get(f"{ID}/users", params={"name": "ops-v"}).json()["users"] == []
    assert admin.get(f"{ID}/projects", params={"name": "ops-b"}).json()["projects"] == []


def test_a_disabled_or_deleted_user_and_a_new_password_end_the_tokens(cloud: Cloud,
                                                                      admin: httpx.Client) -> None:
    cloud.make_user("tok-user", "tok-project")
    user = _id(admin, "user", "tok-user")
    old = _token(cloud, "tok-user", "pw", "tok-project").headers["X-Subject-Token"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": old}) as client:
        assert client.get("/compute/v2.1/flavors").status_code == 200  # cached as valid now

        assert admin.patch(f"{ID}/users/{user}", json={"user": {"enabled": False}}
                           ).status_code == 200
        assert client.get("/compute/v2.1/flavors").json() == UNAUTHENTICATED
        assert _token(cloud, "tok-user", "pw", "tok-project").json() == UNAUTHENTICATED
        _keystone_error(admin.get(f"{ID}/auth/tokens", headers={"X-Subject-Token": old}), 404,
                        f"Could not find token: {old}.")
        # Enabling the user again does not bring a revoked token back.
        assert admin.patch(f"{ID}/users/{user}", json={"user": {"enabled": True}}
                           ).status_code == 200
        assert client.get("/compute/v2.1/flavors").status_code == 401

    second = _token(cloud, "tok-user", "pw", "tok-project").headers["X-Subject-Token"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": second}) as client:
        assert client.get("/network/v2.0/networks").status_code == 200
        assert admin.patch(f"{ID}/users/{user}", json={"user": {"password": "new"}}
                           ).status_code == 200
        assert client.get("/network/v2.0/networks").status_code == 401

    third = _token(cloud, "tok-user", "new", "tok-project").headers["X-Subject-Token"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": third}) as client:
        assert client.get("/image/v2/images").status_code == 200
        assert admin.delete(f"{ID}/users/{user}").status_code == 204
        assert client.get("/image/v2/images").status_code == 401
    _keystone_error(admin.get(f"{ID}/users/{user}"), 404, f"Could not find user: {user}.")


def test_a_disabled_project_stops_its_tokens_until_enabled(cloud: Cloud,
                                                           admin: httpx.Client) -> None:
    cloud.make_user("dis-user", "dis-project")
    project = _id(admin, "project", "dis-project")
    token = _token(cloud, "dis-user", "pw", "dis-project").headers["X-Subject-Token"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": token}) as client:
        assert client.get("/compute/v2.1/servers").status_code == 200
        assert admin.patch(f"{ID}/projects/{project}", json={"project": {"enabled": False}}
                           ).json()["project"]["enabled"] is False
        assert client.get("/compute/v2.1/servers").status_code == 401
        # keystone/auth/core.py _assert_project_is_enabled: Unauthorized, its words alone
        assert _token(cloud, "dis-user", "pw", "dis-project").json() == UNAUTHENTICATED
        assert admin.patch(f"{ID}/projects/{project}", json={"project": {"enabled": True}}
                           ).status_code == 200
        assert client.get("/compute/v2.1/servers").status_code == 200


def test_deleting_a_project_leaves_what_it_owns(cloud: Cloud, admin: httpx.Client) -> None:
    cloud.make_user("gone-user", "gone-project")
    project = _id(admin, "project", "gone-project")
    with cloud.client("gone-user", "pw", "gone-project") as member:
        network = member.post("/network/v2.0/networks", json={"network": {"name": "kept"}})
        assert network.status_code == 201, network.text
        assert admin.delete(f"{ID}/projects/{project}").status_code == 204
        assert member.get("/network/v2.0/networks").status_code == 401
    kept = admin.get(f"/network/v2.0/networks/{network.json()['network']['id']}")
    assert kept.status_code == 200 and kept.json()["network"]["project_id"] == project
    _keystone_error(admin.get(f"{ID}/projects/{project}"), 404,
                    f"Could not find project: {project}.")
    _keystone_error(admin.delete(f"{ID}/projects/{project}"), 404,
                    f"Could not find project: {project}.")
    # The user stays, with no role anywhere: no token.
    assert _token(cloud, "gone-user", "pw", "gone-project").status_code == 401


@pytest.mark.parametrize(("kind", "body", "status", "message"), [
    ("project", {"project": {"name": "taken-p"}}, 409,
     "Conflict occurred attempting to store project - it is not permitted to have two "
     "projects with either the same name or same id in the same domain: name is taken-p, "
     "project id <id>."),
    ("project", {"project": {"id": "other"}}, 400, "Cannot change ID"),
    ("project", {"project": {"domain_id": "elsewhere"}}, 400, "Cannot change Domain ID"),
    ("project", {"project": {"parent_id": "elsewhere"}}, 403,
     "Update of `parent_id` is not allowed."),
    ("project", {"project": {"is_domain": True}}, 400, "Update of `is_domain` is not allowed."),
    ("project", {"project": {"name": ""}}, 400,   # jsonschema >= 4.23's minLength 1 wording
     "Invalid input for field/attribute name. Value: . '' should be non-empty"),
    ("project", {"project": {"name": " \t "}}, 400,
     "Invalid input for field/attribute name. Value:  \t . ' \\t ' does not match "
     "'[\\\\S]+'"),
    ("user", {"user": {"name": "u" * 256}}, 400,
     f"Invalid input for field/attribute name. Value: {'u' * 256}. '{'u' * 256}' is too "
     "long"),
    ("project", {"project": {"enabled": "maybe"}}, 400,
     "Invalid input for field/attribute enabled. Value: maybe. 'maybe' is not one of [True, "
     "'True', 'TRUE', 'true', False, 'False', 'FALSE', 'false', '', '1', '0', 'y', 'Y', 'n', "
     "'N', 'on', 'ON', 'off', 'OFF', 'yes', 'no']"),
    ("project", {"projects": {}}, 400,
     "Additional properties are not allowed ('projects' was unexpected)"),
    ("user", {"user": {"name": "taken-u"}}, 409,
     "Conflict occurred attempting to store user - Duplicate entry found with name taken-u."),
    ("user", {"user": {}}, 400,
     "Invalid input for field/attribute user. Value: {}. {} should be non-empty"),
    ("user", {}, 400, "'user' is a required property"),
    ("user", {"user": {"password": 5}}, 400,
     "Invalid input for field/attribute password. Value: 5. 5 is not of type 'string', "
     "'null'"),
])
def test_keystone_refuses_bad_updates(cloud: Cloud, admin: httpx.Client, kind: str,
                                      body: dict[str, Any], status: int, message: str) -> None:
    names = {"project": "edit-p", "user": "edit-u"}
    for taken in ("taken-p", "edit-p"):
        if not admin.get(f"{ID}/projects", params={"name": taken}).json()["projects"]:
            admin.post(f"{ID}/projects", json={"project": {"name": taken}})
    for taken in ("taken-u", "edit-u"):
        if not admin.get(f"{ID}/users", params={"name": taken}).json()["users"]:
            admin.post(f"{ID}/users", json={"user": {"name": taken, "password": "x"}})
    target = _id(admin, kind, names[kind])
    _keystone_error(admin.patch(f"{ID}/{kind}s/{target}", json=body), status,
                    message.replace("<id>", target))


def test_only_admins_change_identities(cloud: Cloud, admin: httpx.Client) -> None:
    cloud.make_user("plain", "plain-project")
    project = _id(admin, "project", "plain-project")
    user = _id(admin, "user", "plain")
    with cloud.client("plain", "pw", "plain-project") as member:
        for method, path, action, body in (
                ("PATCH", f"projects/{project}", "update_project", {"project": {"name": "x"}}),
                ("DELETE", f"projects/{project}", "delete_project", None),
                ("PATCH", f"users/{user}", "update_user", {"user": {"name": "x"}}),
                ("DELETE", f"users/{user}", "delete_user", None)):
            _keystone_error(member.request(method, f"{ID}/{path}", json=body), 403,
                            "You are not authorized to perform the requested action: "
                            f"identity:{action}.")
    _keystone_error(admin.patch(f"{ID}/users/nobody", json={"user": {"name": "y"}}), 404,
                    "Could not find user: nobody.")
    # An empty project update changes nothing, as Keystone's schema allows it.
    unchanged = admin.patch(f"{ID}/projects/{project}", json={"project": {}})
    assert unchanged.status_code == 200 and unchanged.json()["project"]["name"] == "plain-project"


def test_extra_attributes_are_kept_and_shown(admin: httpx.Client) -> None:
    created = admin.post(f"{ID}/users", json={"user": {
        "name": "extra-u", "password": "x", "email": "a@example.org", "description": "d"}})
    user = created.json()["user"]
    assert (user["email"], user["description"]) == ("a@example.org", "d")
    changed = admin.patch(f"{ID}/users/{user['id']}", json={"user": {
        "email": "b@example.org", "name": " extra-v "}}).json()["user"]
    assert (changed["email"], changed["description"], changed["name"]) == (
        "b@example.org", "d", "extra-v")
    project = admin.post(f"{ID}/projects", json={"project": {
        "name": "extra-p", "tags": ["a"], "cost-center": "42"}}).json()["project"]
    assert (project["tags"], project["cost-center"]) == (["a"], "42")
    updated = admin.patch(f"{ID}/projects/{project['id']}", json={"project": {
        "tags": ["a", "b"]}}).json()["project"]
    assert (updated["tags"], updated["cost-center"]) == (["a", "b"], "42")


@pytest.mark.parametrize(("kind", "name", "message"), [
    ("project", "   ", "Invalid input for field/attribute name. Value:    . '   ' does not "
                       "match '[\\\\S]+'"),
    ("user", "\t\n", "Invalid input for field/attribute name. Value: \t\n. '\\t\\n' does not "
                   "match '[\\\\S]+'"),
    ("project", "p" * 65, f"Invalid input for field/attribute name. Value: {'p' * 65}. "
                          f"'{'p' * 65}' is too long"),
    ("project", "", "Invalid input for field/attribute name. Value: . '' should be non-empty"),
])
def test_a_name_of_whitespace_alone_is_refused_at_create(cloud: Cloud, admin: httpx.Client,
                                                         member: httpx.Client, kind: str,
                                                         name: str, message: str) -> None:
    """keystone/resource/schema.py ``_name_properties`` and keystone/identity/schema.py
    ``_identity_name`` (``pattern: [\\S]+``), before the policy: a member gets the same 400,
    and nothing is made."""
    body: dict[str, Any] = {kind: {"name": name}}
    if kind == "user":
        body["user"]["password"] = "pw"
    _keystone_error(admin.post(f"{ID}/{kind}s", json=body), 400, message)
    _keystone_error(member.post(f"{ID}/{kind}s", json=body), 400, message)
    _keystone_error(member.post(f"{ID}/{kind}s", json={kind: {"name": "fine", **(
        {"password": "pw"} if kind == "user" else {})}}), 403,
        f"You are not authorized to perform the requested action: identity:create_{kind}.")
    names = {item["name"] for item in admin.get(f"{ID}/{kind}s").json()[f"{kind}s"]}
    assert name not in names and name.strip() not in names
