"""Host aggregate metadata: ``openstack aggregate create/set/unset --property`` through the
real client, and ``set_metadata``'s statuses and messages over HTTP (Nova's
``nova/api/openstack/compute/aggregates.py`` and ``nova/compute/api.py``
``is_safe_to_update_az``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from .conftest import Cloud

NOVA = "/compute/v2.1"


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client() as client:
        yield client


def test_openstack_client_sets_and_unsets_aggregate_properties(cloud: Cloud) -> None:
    cloud.openstack("aggregate", "create", "--zone", "az_meta", "--property", "ssd=true",
                    "--property", "tier=gold", "agg-meta")
    cloud.openstack("aggregate", "set", "--property", "tier=silver", "agg-meta")
    cloud.openstack("aggregate", "unset", "--property", "ssd", "agg-meta")
    shown = json.loads(cloud.openstack("aggregate", "show", "agg-meta", "-f", "json").stdout)
    assert shown["availability_zone"] == "az_meta"
    assert "tier='silver'" in str(shown["properties"]) or shown["properties"] == {
        "tier": "silver"}
    assert "ssd" not in str(shown["properties"])


def test_set_metadata_answers_as_nova(admin: httpx.Client) -> None:
    created = admin.post(f"{NOVA}/os-aggregates", json={"aggregate": {"name": "agg-http"}})
    number = created.json()["aggregate"]["id"]
    url = f"{NOVA}/os-aggregates/{number}/action"
    answer = admin.post(url, json={"set_metadata": {"metadata": {"a": "1", "b": "2"}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["aggregate"]["metadata"] == {"a": "1", "b": "2"}
    answer = admin.post(url, json={"set_metadata": {"metadata": {
        "a": None, "availability_zone": "az_http"}}})
    assert answer.json()["aggregate"]["metadata"] == {"b": "2", "availability_zone": "az_http"}
    assert admin.get(f"{NOVA}/os-aggregates/{number}").json()["aggregate"][
        "availability_zone"] == "az_http"
    empty = admin.post(url, json={"set_metadata": {"metadata": {"availability_zone": ""}}})
    assert empty.status_code == 400
    assert empty.json()["badRequest"]["message"] == (
        f"Cannot update metadata of aggregate {number}. Reason: Aggregate agg-http does not "
        "support empty named availability zone.")
    bad = admin.post(url, json={"set_metadata": {"metadata": {"a/b": "1"}}})
    assert bad.json()["badRequest"]["message"] == (
        "Invalid input for field/attribute metadata. Value: {'a/b': '1'}. 'a/b' does not "
        "match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'")
    assert admin.post(url, json={"fly": {}}).json()["badRequest"]["message"] == (
        "There is no such action: fly")
    missing = admin.get(f"{NOVA}/os-aggregates/999999")
    assert missing.json()["itemNotFound"]["message"] == "Aggregate 999999 could not be found."
    assert admin.get(f"{NOVA}/os-aggregates/x").json()["badRequest"]["message"] == (
        "Invalid input received: id must be an integer")
