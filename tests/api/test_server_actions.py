"""Server actions that change QoS or its enforcement (resize and its confirm/revert, stop,
start, reboot), ``PUT /servers/{id}`` and the server metadata routes: the happy paths through
the real ``openstack`` client, Nova's statuses and messages over plain HTTP.

Expected texts are Nova's: ``nova/api/openstack/common.py``
``raise_http_conflict_for_instance_invalid_state``, ``nova/exception.py``
(``CannotResizeToSameFlavor``, ``FlavorNotFound``), ``nova/api/openstack/wsgi.py`` (unknown
action), ``nova/api/openstack/compute/server_metadata.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud, boot_sources, nova_message

NOVA = "/compute/v2.1"
MV = {"OpenStack-API-Version": "compute 2.96"}


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client(**MV) as client:
        yield client


def _flavor(admin: httpx.Client, name: str, shares: str | None = None, disk: int = 1) -> str:
    response = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": name, "ram": 512, "vcpus": 1, "disk": disk}})
    assert response.status_code == 200, response.text
    flavor: str = response.json()["flavor"]["id"]
    if shares is not None:
        # Before 2.86 Nova stores extra specs unchecked: a bad one is possible then.
        assert admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs", json={"extra_specs": {
            "quota:cpu_shares": shares}},
            headers={"OpenStack-API-Version": "compute 2.61"}).status_code == 200
    return flavor


@pytest.fixture(scope="module")
def refs(admin: httpx.Client) -> dict[str, str]:
    sources = boot_sources(admin, "actions")
    return {"image": sources["image"], "network": sources["network"],
            "small": _flavor(admin, "act-small", "512"),
            "large": _flavor(admin, "act-large", "2048")}


def _server(admin: httpx.Client, refs: dict[str, str], name: str = "act") -> str:
    response = admin.post(f"{NOVA}/servers", json={"server": {
        "name": name, "imageRef": refs["image"], "flavorRef": refs["small"],
        "networks": [{"uuid": refs["network"]}]}})
    assert response.status_code == 202, response.text
    server: str = response.json()["server"]["id"]
    return server


def _act(admin: httpx.Client, server: str, body: dict[str, Any]) -> httpx.Response:
    return admin.post(f"{NOVA}/servers/{server}/action", json=body)


def _show(admin: httpx.Client, server: str) -> dict[str, Any]:
    shown: dict[str, Any] = admin.get(f"{NOVA}/servers/{server}").json()["server"]
    return shown


_message = nova_message


def _shares(admin: httpx.Client, server: str) -> int:
    plan = admin.get(f"{NOVA}/servers/{server}/vmqos-plan")
    assert plan.status_code == 200, plan.text
    shares: int = plan.json()["plan"]["domain"]["cputune"]["shares"]
    return shares


def test_openstack_client_resizes_stops_starts_and_sets(cloud: Cloud, admin: httpx.Client,
                                                       refs: dict[str, str]) -> None:
    server = _server(admin, refs, "cli-act")

    def show() -> dict[str, Any]:
        out: dict[str, Any] = json.loads(cloud.openstack("server", "show", server,
                                                         "-f", "json").stdout)
        return out

    cloud.openstack("server", "stop", server)
    assert show()["status"] == "SHUTOFF" and show()["OS-EXT-STS:power_state"] in (4, "Shutdown")
    cloud.openstack("server", "start", server)
    cloud.openstack("server", "reboot", "--hard", server)
    assert show()["status"] == "ACTIVE"

    cloud.openstack("server", "resize", "--flavor", "act-large", server)
    assert show()["status"] == "VERIFY_RESIZE"
    assert _shares(admin, server) == 2048   # Nova runs it on the new flavor meanwhile
    cloud.openstack("server", "resize", "revert", server)
    assert show()["status"] == "ACTIVE" and _shares(admin, server) == 512
    cloud.openstack("server", "resize", "--flavor", "act-large", server)
    cloud.openstack("server", "resize", "confirm", server)
    shown = show()
    assert shown["status"] == "ACTIVE" and "act-large" in str(shown["flavor"])
    assert _shares(admin, server) == 2048

    cloud.openstack("server", "set", "--name", "cli-renamed", "--property", "tier=gold",
                    "--property", "zone=a", server)
    cloud.openstack("server", "unset", "--property", "zone", server)
    shown = show()
    assert shown["name"] == "cli-renamed"
    assert shown["properties"] in ({"tier": "gold"}, "tier='gold'")


def test_power_actions_follow_novas_state_rules(admin: httpx.Client,
                                                refs: dict[str, str]) -> None:
    server = _server(admin, refs)
    assert _message(_act(admin, server, {"os-start": None}), 409) == (
        f"Cannot 'start' instance {server} while it is in vm_state active")
    assert _act(admin, server, {"os-stop": None}).status_code == 202
    shown = _show(admin, server)
    assert (shown["status"], shown["OS-EXT-STS:vm_state"],
            shown["OS-EXT-STS:power_state"]) == ("SHUTOFF", "stopped", 4)
    assert _message(_act(admin, server, {"os-stop": None}), 409) == (
        f"Cannot 'stop' instance {server} while it is in vm_state stopped")
    assert _message(_act(admin, server, {"reboot": {"type": "SOFT"}}), 409) == (
        f"Cannot 'reboot' instance {server} while it is in vm_state stopped")
    assert _act(admin, server, {"reboot": {"type": "hard"}}).status_code == 202
    shown = _show(admin, server)
    assert (shown["status"], shown["OS-EXT-STS:power_state"]) == ("ACTIVE", 1)
    assert _message(_act(admin, server, {"reboot": {}}), 400) == (
        "Invalid input for field/attribute reboot. Value: {}. 'type' is a required property")
    assert _message(_act(admin, server, {"reboot": {"type": "WARM"}}), 400) == (
        "Invalid input for field/attribute type. Value: WARM. 'WARM' is not one of "
        "['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']")


def test_resize_confirm_and_revert(admin: httpx.Client, refs: dict[str, str]) -> None:
    server = _server(admin, refs)
    for action in ("confirmResize", "revertResize"):
        assert _message(_act(admin, server, {action: None}), 409) == (
            f"Cannot '{action}' instance {server} while it is in vm_state active")
    assert _message(_act(admin, server, {"resize": {"flavorRef": refs["small"]}}), 400) == (
        "When resizing, instances must change flavor!")
    assert _message(_act(admin, server, {"resize": {"flavorRef": "nope"}}), 400) == (
        "Flavor nope could not be found.")
    assert _message(_act(admin, server, {"resize": {}}), 400) == (
        "Invalid input for field/attribute resize. Value: {}. 'flavorRef' is a required "
        "property")
    zero = _flavor(admin, "act-zero-disk", disk=0)
    assert _message(_act(admin, server, {"resize": {"flavorRef": zero}}), 400) == (
        "Server disk was unable to be resized because: Resize to zero disk flavor is not "
        "allowed.")
    broken = _flavor(admin, "act-broken", "-5")   # stored below 2.86, unusable on the node
    assert _message(_act(admin, server, {"resize": {"flavorRef": broken}}), 400) == (
        "Validation failed; '-5' is less than the min value of '0'.")
    assert _show(admin, server)["flavor"]["original_name"] == "act-small"

    assert _act(admin, server, {"resize": {"flavorRef": refs["large"]}}).status_code == 202
    shown = _show(admin, server)
    assert (shown["status"], shown["OS-EXT-STS:vm_state"]) == ("VERIFY_RESIZE", "resized")
    assert shown["flavor"]["original_name"] == "act-large"
    assert shown["flavor"]["extra_specs"] == {"quota:cpu_shares": "2048"}
    assert _shares(admin, server) == 2048
    assert _message(_act(admin, server, {"resize": {"flavorRef": refs["small"]}}), 409) == (
        f"Cannot 'resize' instance {server} while it is in vm_state resized")
    assert _message(admin.post(f"{NOVA}/servers/{server}/metadata",
                               json={"metadata": {"a": "b"}}), 409) == (
        f"Cannot 'update metadata' instance {server} while it is in vm_state resized")
    assert _act(admin, server, {"revertResize": None}).status_code == 202
    shown = _show(admin, server)
    assert (shown["status"], shown["flavor"]["original_name"]) == ("ACTIVE", "act-small")
    assert _shares(admin, server) == 512

    # A stopped server resizes too, and stays stopped once confirmed.
    assert _act(admin, server, {"os-stop": None}).status_code == 202
    assert _act(admin, server, {"resize": {"flavorRef": refs["large"]}}).status_code == 202
    assert _act(admin, server, {"confirmResize": None}).status_code == 204
    shown = _show(admin, server)
    assert (shown["status"], shown["flavor"]["original_name"]) == ("SHUTOFF", "act-large")
    assert _shares(admin, server) == 2048


@pytest.mark.parametrize("action", ["pause", "shelve", "rebuild", "createImage", "lock",
                                    "os-migrateLive", "evacuate"])
def test_known_unsupported_actions_are_409_not_404(admin: httpx.Client,
                                                   refs: dict[str, str], action: str) -> None:
    server = _server(admin, refs)
    message = _message(_act(admin, server, {action: None}), 409)
    assert message.startswith(f"Action '{action}' is not supported by vmqos")
    assert _show(admin, server)["status"] == "ACTIVE"


def test_unknown_action_and_missing_server(admin: httpx.Client, refs: dict[str, str]) -> None:
    server = _server(admin, refs)
    assert _message(_act(admin, server, {"fly": {}}), 400) == "There is no such action: fly"
    assert _message(_act(admin, server, {}), 400) == "Malformed request body"
    gone = "4e3b4ba2-1d33-4c5c-8f5c-3f6f1b7c8d9e"
    assert _message(_act(admin, gone, {"os-stop": None}), 404) == (
        f"Instance {gone} could not be found.")


def test_update_server_name_and_description(admin: httpx.Client, refs: dict[str, str]) -> None:
    created = admin.post(f"{NOVA}/servers", json={"server": {
        "name": "described", "imageRef": refs["image"], "flavorRef": refs["small"],
        "networks": [{"uuid": refs["network"]}], "description": "at boot"}})
    server = created.json()["server"]["id"]
    assert _show(admin, server)["description"] == "at boot"
    updated = admin.put(f"{NOVA}/servers/{server}", json={"server": {
        "name": "renamed", "description": "web tier"}})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["server"]["name"],
            updated.json()["server"]["description"]) == ("renamed", "web tier")
    assert _show(admin, server)["description"] == "web tier"
    old = admin.put(f"{NOVA}/servers/{server}", json={"server": {"description": "x"}},
                    headers={"OpenStack-API-Version": "compute 2.18"})
    assert _message(old, 400) == (
        "Invalid input for field/attribute server. Value: {'description': 'x'}. Additional "
        "properties are not allowed ('description' was unexpected)")
    assert _show(admin, server)["description"] == "web tier"


def test_metadata_routes(admin: httpx.Client, refs: dict[str, str]) -> None:
    server = _server(admin, refs)
    url = f"{NOVA}/servers/{server}/metadata"
    assert admin.post(url, json={"metadata": {"a": "1", "b": "2"}}).json() == {
        "metadata": {"a": "1", "b": "2"}}
    assert admin.put(f"{url}/c", json={"meta": {"c": "3"}}).json() == {"meta": {"c": "3"}}
    assert admin.get(f"{url}/c").json() == {"meta": {"c": "3"}}
    assert _message(admin.put(f"{url}/c", json={"meta": {"d": "3"}}), 400) == (
        "Request body and URI mismatch")
    assert _message(admin.put(f"{url}/c", json={"meta": {"c": "3", "d": "4"}}), 400) == (
        "Invalid input for field/attribute meta. Value: {'c': '3', 'd': '4'}. "
        "{'c': '3', 'd': '4'} has too many properties")
    assert _message(admin.post(url, json={"metadata": {"bad/key": "v"}}), 400) == (
        "Invalid input for field/attribute metadata. Value: {'bad/key': 'v'}. 'bad/key' does "
        "not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'")
    assert _message(admin.post(url, json={"metadata": {"k": 5}}), 400) == (
        "Invalid input for field/attribute k. Value: 5. 5 is not of type 'string'")
    assert admin.delete(f"{url}/a").status_code == 204
    assert _message(admin.delete(f"{url}/a"), 404) == "Metadata item was not found"
    assert _message(admin.get(f"{url}/a"), 404) == "Metadata item was not found"
    assert admin.put(url, json={"metadata": {"z": "9"}}).json() == {"metadata": {"z": "9"}}
    assert admin.get(url).json() == {"metadata": {"z": "9"}}
    many = {f"k{i}": "v" for i in range(128)}
    assert _message(admin.post(url, json={"metadata": many}), 403) == (
        "Maximum number of metadata items exceeds 128")
    assert _show(admin, server)["metadata"] == {"z": "9"}
