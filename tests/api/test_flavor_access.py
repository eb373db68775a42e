"""Nova's flavor access: ``addTenantAccess`` / ``removeTenantAccess``, ``os-flavor-access``, and
which flavors a project sees, over plain HTTP with Nova's statuses and messages, and through
the real ``openstack`` client (``flavor create --private --project``, ``flavor set/unset
--project``).

Expected texts are Nova 34's: ``nova/api/openstack/compute/flavor_access.py``,
``nova/exception.py`` (``FlavorNotFound``, ``FlavorAccessExists``, ``FlavorAccessNotFound``),
``nova/api/openstack/identity.py`` (``verify_project_id``), ``nova/api/openstack/wsgi.py``
(the action dispatch), ``nova/api/openstack/compute/flavors.py`` (``_parse_is_public``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from vmqos.store.db import Database
from vmqos.store.models import Flavor, FlavorProject

from .conftest import Cloud

NOVA = "/compute/v2.1"
MV = {"OpenStack-API-Version": "compute 2.96"}


@dataclass
class World:
    cloud: Cloud
    admin: httpx.Client
    alice: httpx.Client      # member of project A
    bob: httpx.Client        # member of project B
    project_a: str
    project_b: str
    admin_project: str
    image: str
    network: str

    def flavor(self, *, public: bool = False, **extra: Any) -> str:
        response = self.admin.post(f"{NOVA}/flavors", json={"flavor": {
            "name": f"fa-{uuid.uuid4().hex[:8]}", "ram": 1, "vcpus": 1, "disk": 1,
            "os-flavor-access:is_public": public, **extra}})
        assert response.status_code == 200, response.text
        flavor: str = response.json()["flavor"]["id"]
        return flavor

    def seq(self, flavor: str) -> int:
        """The flavor's internal number, Nova's ``flavors.id``, which its access messages
        name: read from the database itself."""
        db = Database(self.cloud.settings.database_url)
        try:
            with db.read() as session:
                seq = session.scalar(sa.select(Flavor.seq).where(Flavor.id == flavor))
        finally:
            db.dispose()
        assert seq is not None
        return seq


def _project(admin: httpx.Client, name: str) -> str:
    project: str = admin.get("/identity/v3/projects", params={"name": name}).json()[
        "projects"][0]["id"]
    return project


@pytest.fixture(scope="module")
def world(cloud: Cloud) -> Iterator[World]:
    cloud.make_user("fa-alice", "fa-project-a")
    cloud.make_user("fa-bob", "fa-project-b")
    with cloud.client(**MV) as admin, cloud.client("fa-alice", "pw", "fa-project-a",
                                                   **MV) as alice, \
            cloud.client("fa-bob", "pw", "fa-project-b", **MV) as bob:
        image = admin.post("/image/v2/images", json={
            "name": "fa-image", "disk_format": "raw", "container_format": "bare",
            "visibility": "public"}).json()["id"]
        assert admin.put(f"/image/v2/images/{image}/file", content=b"x",
                         headers={"Content-Type": "application/octet-stream"}
                         ).status_code == 204
        network = admin.post("/network/v2.0/networks", json={"network": {
            "name": "fa-net", "shared": True}}).json()["network"]["id"]
        admin_project = admin.get("/identity/v3/auth/tokens", headers={
            "X-Subject-Token": admin.headers["X-Auth-Token"]}).json()["token"]["project"]["id"]
        yield World(cloud, admin, alice, bob, _project(admin, "fa-project-a"),
                    _project(admin, "fa-project-b"), admin_project, image, network)


def _act(client: httpx.Client, flavor: str, action: str, tenant: str,
         **headers: str) -> httpx.Response:
    return client.post(f"{NOVA}/flavors/{flavor}/action", json={action: {"tenant": tenant}},
                       headers=headers)


def _message(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    (fault,) = response.json().values()
    assert fault["code"] == status
    message: str = fault["message"]
    return message


def _ids(client: httpx.Client, path: str, **params: str) -> set[str]:
    response = client.get(f"{NOVA}{path}", params=params)
    assert response.status_code == 200, response.text
    return {f["id"] for f in response.json()["flavors"]}


def _boot(client: httpx.Client, world: World, flavor: str) -> httpx.Response:
    return client.post(f"{NOVA}/servers", json={"server": {
        "name": "fa-vm", "imageRef": world.image, "flavorRef": flavor,
        "networks": [{"uuid": world.network}]}})


# --- visibility -------------------------------------------------------------------------------


def test_a_private_flavor_is_seen_by_the_projects_given_access_only(world: World) -> None:
    flavor = world.flavor()
    missing = f"Flavor {flavor} could not be found."
    assert flavor not in _ids(world.alice, "/flavors")

    added = _act(world.admin, flavor, "addTenantAccess", world.project_a)
    assert added.status_code == 200, added.text
    assert added.json() == {"flavor_access": [{"flavor_id": flavor,
                                               "tenant_id": world.project_a}]}

    for path in ("/flavors", "/flavors/detail"):
        assert flavor in _ids(world.alice, path)
        assert flavor in _ids(world.alice, path, is_public="false")  # a member's is ignored
        assert flavor not in _ids(world.bob, path)
    shown = world.alice.get(f"{NOVA}/flavors/{flavor}")
    assert shown.status_code == 200 and shown.json()["flavor"]["os-flavor-access:is_public"] \
        is False
    assert world.alice.get(f"{NOVA}/flavors/{flavor}/os-extra_specs").status_code == 200
    assert _message(world.bob.get(f"{NOVA}/flavors/{flavor}"), 404) == missing
    assert _message(world.bob.get(f"{NOVA}/flavors/{flavor}/os-extra_specs"), 404) == missing

    # servers.py create: the flavor the caller cannot see is FlavorNotFound, a 400
    assert _boot(world.alice, world, flavor).status_code == 202
    assert _message(_boot(world.bob, world, flavor), 400) == missing
    # a server list filtered by a flavor the caller cannot see matches nothing
    assert world.alice.get(f"{NOVA}/servers", params={"flavor": flavor}).json()["servers"]
    assert world.bob.get(f"{NOVA}/servers", params={"flavor": flavor}).json() == {
        "servers": []}

    removed = _act(world.admin, flavor, "removeTenantAccess", world.project_a)
    assert removed.status_code == 200 and removed.json() == {"flavor_access": []}
    assert flavor not in _ids(world.alice, "/flavors/detail")
    assert _message(world.alice.get(f"{NOVA}/flavors/{flavor}"), 404) == missing
    assert world.alice.get(f"{NOVA}/servers", params={"flavor": flavor}).json() == {
        "servers": []}


def test_a_resize_to_a_flavor_the_project_cannot_see_is_refused(world: World) -> None:
    public = world.flavor(public=True)
    private = world.flavor()
    created = _boot(world.bob, world, public)
    assert created.status_code == 202, created.text
    server = created.json()["server"]["id"]
    resize = world.bob.post(f"{NOVA}/servers/{server}/action", json={"resize": {
        "flavorRef": private}})
    assert _message(resize, 400) == f"Flavor {private} could not be found."
    assert _act(world.admin, private, "addTenantAccess", world.project_b).status_code == 200
    resize = world.bob.post(f"{NOVA}/servers/{server}/action", json={"resize": {
        "flavorRef": private}})
    assert resize.status_code == 202, resize.text


def test_the_admins_is_public_filter_is_novas(world: World) -> None:
    """``_parse_is_public``; True is the public flavors and the private ones the admin's own
    project has access to (Nova gives the creator's project none: bug 1209101)."""
    public, private, shared = world.flavor(public=True), world.flavor(), world.flavor()
    assert _act(world.admin, shared, "addTenantAccess", world.admin_project).status_code == 200
    listed = {value: _ids(world.admin, "/flavors", is_public=value)
              for value in ("true", "false", "none", "None", "YES", " no ")}
    default = _ids(world.admin, "/flavors")
    assert {public, shared} <= default and private not in default
    assert default == listed["true"] == listed["YES"]
    assert {private, shared} <= listed["false"] and public not in listed["false"]
    assert listed["false"] == listed[" no "]
    assert {public, private, shared} <= listed["none"] == listed["None"]
    for bad in ("maybe", " none"):
        assert _message(world.admin.get(f"{NOVA}/flavors", params={"is_public": bad}),
                        400) == f"Invalid is_public filter [{bad}]"
    assert private in _ids(world.admin, "/flavors/detail", is_public="false")
    assert world.admin.get(f"{NOVA}/flavors/{private}").status_code == 200


# --- the access list and the actions ----------------------------------------------------------


def test_the_access_list_is_the_admins_and_lists_projects_in_order(world: World) -> None:
    flavor = world.flavor()
    for project in (world.project_b, world.project_a):
        assert _act(world.admin, flavor, "addTenantAccess", project).status_code == 200
    listed = world.admin.get(f"{NOVA}/flavors/{flavor}/os-flavor-access")
    assert listed.status_code == 200
    assert listed.json() == {"flavor_access": [
        {"flavor_id": flavor, "tenant_id": world.project_b},
        {"flavor_id": flavor, "tenant_id": world.project_a}]}
    # nova/policies/flavor_access.py: os_compute_api:os-flavor-access is ADMIN in Nova 34
    assert _message(world.alice.get(f"{NOVA}/flavors/{flavor}/os-flavor-access"), 403) == (
        "Policy doesn't allow os_compute_api:os-flavor-access to be performed.")
    public = world.flavor(public=True)
    assert _message(world.admin.get(f"{NOVA}/flavors/{public}/os-flavor-access"), 404) == (
        "Access list not available for public flavors.")
    assert _message(world.admin.get(f"{NOVA}/flavors/nope/os-flavor-access"), 404) == (
        "Flavor nope could not be found.")


def test_the_actions_answer_with_novas_conflicts_and_misses(world: World) -> None:
    flavor = world.flavor()
    seq = world.seq(flavor)
    assert _act(world.admin, flavor, "addTenantAccess", world.project_a).status_code == 200
    assert _message(_act(world.admin, flavor, "addTenantAccess", world.project_a), 409) == (
        f"Flavor access already exists for flavor {seq} and project {world.project_a} "
        "combination.")
    assert _message(_act(world.admin, flavor, "removeTenantAccess", world.project_b), 404) == (
        f"Flavor access not found for {seq} / {world.project_b} combination.")
    # A project Keystone does not know: add refuses it; remove looks for the row anyway.
    assert _message(_act(world.admin, flavor, "addTenantAccess", "no-such"), 400) == (
        "Project ID no-such is not a valid project.")
    assert _message(_act(world.admin, flavor, "removeTenantAccess", "no-such"), 404) == (
        f"Flavor access not found for {seq} / no-such combination.")
    for action in ("addTenantAccess", "removeTenantAccess"):
        assert _message(_act(world.admin, "nope", action, world.project_b), 404) == (
            "Flavor nope could not be found.")


def test_a_public_flavor_takes_no_access_from_microversion_2_7(world: World) -> None:
    public = world.flavor(public=True)
    assert _message(_act(world.admin, public, "addTenantAccess", world.project_a), 409) == (
        "Can not add access to a public flavor.")
    assert _message(_act(world.admin, public, "addTenantAccess", world.project_a,
                         **{"OpenStack-API-Version": "compute 2.7"}), 409) == (
        "Can not add access to a public flavor.")
    # Below 2.7 Nova stores the row, and answers the list as it is.
    old = _act(world.admin, public, "addTenantAccess", world.project_a,
               **{"OpenStack-API-Version": "compute 2.6"})
    assert old.status_code == 200, old.text
    assert old.json() == {"flavor_access": [{"flavor_id": public,
                                             "tenant_id": world.project_a}]}
    assert _act(world.admin, public, "removeTenantAccess", world.project_a).status_code == 200


def test_only_an_admin_may_change_access_and_the_body_is_judged_first(world: World) -> None:
    flavor = world.flavor()
    for action, rule in (("addTenantAccess", "add_tenant_access"),
                         ("removeTenantAccess", "remove_tenant_access")):
        assert _message(_act(world.alice, flavor, action, world.project_a), 403) == (
            f"Policy doesn't allow os_compute_api:os-flavor-access:{rule} to be performed.")
        # the schema comes before the policy
        assert _message(world.alice.post(f"{NOVA}/flavors/{flavor}/action", json={
            action: {"tenant": ""}}), 400) == (
            "Invalid input for field/attribute tenant. Value: . '' should be non-empty")
    assert world.admin.get(f"{NOVA}/flavors/{flavor}/os-flavor-access").json() == {
        "flavor_access": []}


@pytest.mark.parametrize(("raw", "status", "message"), [
    (b"{", 400, "Malformed request body"),
    (b"", 400, "Malformed request body"),
    (b"\xff", 400, "Malformed request body"),
    (b"{}", 400, "Malformed request body"),
    (json.dumps({"addTenantAccess": {"tenant": "p"}, "x": 1}).encode(), 400,
     "Malformed request body"),
    (b'"ab"', 400, "Malformed request body"),
    (b'{"addTenantaccess": {"tenant": "p"}}', 400, "There is no such action: addTenantaccess"),
    (b'{"resize": {}}', 400, "There is no such action: resize"),
    (b'["addTenantAccess"]', 404, "The resource could not be found."),
    (b'"a"', 404, "The resource could not be found."),
    (b"5", 404, "The resource could not be found."),
    (b"null", 404, "The resource could not be found."),
    (b'{"addTenantAccess": {"tenant": "' + b"p" * 256 + b'"}}', 400,
     f"Invalid input for field/attribute tenant. Value: {'p' * 256}. '{'p' * 256}' is too "
     "long"),
    (b'{"removeTenantAccess": "x"}', 400, "Invalid input for field/attribute "
     "removeTenantAccess. Value: x. 'x' is not of type 'object'"),
])
def test_the_action_dispatch_and_schema_are_novas(world: World, raw: bytes, status: int,
                                                  message: str) -> None:
    flavor = world.flavor()
    response = world.admin.post(f"{NOVA}/flavors/{flavor}/action", content=raw,
                                headers={"Content-Type": "application/json"})
    assert _message(response, status) == message
    assert world.admin.get(f"{NOVA}/flavors/{flavor}/os-flavor-access").json() == {
        "flavor_access": []}


def test_the_action_takes_json_in_utf8_and_no_other_media_type(world: World) -> None:
    flavor = world.flavor()
    body = json.dumps({"addTenantAccess": {"tenant": world.project_a}})
    url = f"{NOVA}/flavors/{flavor}/action"
    for content, media in ((body.encode("utf-16"), "application/json"),
                           (b"\xef\xbb\xbf" + body.encode(), "application/json")):
        assert _message(world.admin.post(url, content=content, headers={
            "Content-Type": media}), 400) == "Malformed request body"
    assert _message(world.admin.post(url, content=body.encode(), headers={
        "Content-Type": "application/xml"}), 415) == "Unsupported Content-Type"
    # wsgi.py Request.get_content_type: text/plain (and none) is read as JSON
    taken = world.admin.post(url, content=body.encode(), headers={"Content-Type": "text/plain"})
    assert taken.status_code == 200, taken.text
    assert world.admin.post(url.replace(flavor, world.flavor()), content=body.encode(),
                            headers={"Content-Type": "application/vnd.openstack.compute+json; "
                                                     "charset=utf-8"}).status_code == 200


def test_deleting_a_flavor_removes_its_access(world: World) -> None:
    flavor = world.flavor(id="fa-reused")
    seq = world.seq(flavor)
    assert _act(world.admin, flavor, "addTenantAccess", world.project_a).status_code == 200
    assert world.admin.delete(f"{NOVA}/flavors/{flavor}").status_code == 202
    db = Database(world.cloud.settings.database_url)
    try:
        with db.read() as session:
            left = session.scalars(sa.select(FlavorProject.project_id).where(
                FlavorProject.flavor_seq == seq)).all()
    finally:
        db.dispose()
    assert left == []
    again = world.flavor(id="fa-reused")
    assert world.admin.get(f"{NOVA}/flavors/{again}/os-flavor-access").json() == {
        "flavor_access": []}
    assert again not in _ids(world.alice, "/flavors")


# --- the real client --------------------------------------------------------------------------


def test_the_openstack_client_creates_sets_and_unsets_private_flavor_access(
        world: World) -> None:
    cloud = world.cloud
    cloud.openstack("flavor", "create", "--private", "--project", "fa-project-a", "--ram", "1",
                    "--vcpus", "1", "--disk", "1", "fa-cli")
    alice = cloud.os_env("fa-alice", "pw", "fa-project-a")
    bob = cloud.os_env("fa-bob", "pw", "fa-project-b")

    def listed(env: dict[str, str]) -> set[str]:
        done = cloud.openstack("flavor", "list", "-f", "json", env=env)
        return {f["Name"] for f in json.loads(done.stdout)}

    assert "fa-cli" in listed(alice)
    assert "fa-cli" not in listed(bob)
    shown = json.loads(cloud.openstack("flavor", "show", "fa-cli", "-f", "json").stdout)
    assert shown["access_project_ids"] == [world.project_a]
    # A member finds it by name; the access list is the admin's (403), which the client logs
    # and shows as null, as against Nova 34.
    member_view = cloud.openstack("flavor", "show", "fa-cli", "-f", "json", env=alice)
    assert json.loads(member_view.stdout)["access_project_ids"] is None
    assert "os_compute_api:os-flavor-access to be performed" in member_view.stderr
    hidden = cloud.openstack("flavor", "show", "fa-cli", env=bob, check=False)
    assert hidden.returncode == 1 and "fa-cli" in hidden.stderr

    cloud.openstack("flavor", "set", "--project", "fa-project-b", "fa-cli")
    assert "fa-cli" in listed(bob)
    shown = json.loads(cloud.openstack("flavor", "show", "fa-cli", "-f", "json").stdout)
    assert shown["access_project_ids"] == [world.project_a, world.project_b]

    cloud.openstack("flavor", "unset", "--project", "fa-project-b", "fa-cli")
    assert "fa-cli" not in listed(bob)
    assert "fa-cli" in listed(alice)
    # the same project twice: Nova's 409, which the client reports as a failed command
    again = cloud.openstack("flavor", "set", "--project", "fa-project-a", "fa-cli",
                            check=False)
    assert again.returncode == 1
    assert "Flavor access already exists for flavor" in again.stderr
