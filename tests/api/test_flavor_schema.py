"""Flavor create and update over HTTP, judged as Nova judges them: the body schema
(``nova/api/openstack/compute/schemas/flavors.py`` ``create``, ``create_v255``, ``update``) with
jsonschema's first error in ``nova/api/validation/validators.py``'s sentence, before the
policy; then ``nova/compute/flavors.py`` ``create``'s reading of what passed (strings for
sizes, a number for an id, a stripped name). Every refusal is a 400 and saves nothing.

The messages were checked against jsonschema 4.26.0 run on Nova's own schema modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import Cloud

NOVA = "/compute/v2.1"
INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable "
                "characters. Can not start or end with whitespace.")
BOOLEAN_ENUM = ("[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', "
                "False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']")
# The start of valid_description_regex (parameter_types._build_regex_range()) as jsonschema
# quotes it (repr): printable ASCII from the space, then Latin-1 from the no-break space
# (which repr writes as an escape) without the soft hyphen.
DESCRIPTION_REGEX_START = "'^[\\\\ -\\\\~\\xa0-¬®-"
BASE = {"name": "s", "ram": 1, "vcpus": 1, "disk": 1}


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client() as client:
        yield client


def _count(admin: httpx.Client) -> int:
    return len(admin.get(f"{NOVA}/flavors/detail", params={"is_public": "none"}).json()[
        "flavors"])


def _create(client: httpx.Client, body: object, version: str) -> httpx.Response:
    return client.post(f"{NOVA}/flavors", json=body,
                       headers={"OpenStack-API-Version": f"compute {version}"})


# (the flavor's fields over BASE, or a whole body; Nova's message)
CREATE_REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"ram": "lots"}, "Invalid input for field/attribute ram. Value: lots. 'lots' does not "
                      "match '^[0-9]+$'"),
    ({"ram": "0"}, "Invalid input for field/attribute ram. Value: 0. 0 is less than the "
                   "minimum of 1"),
    ({"vcpus": 2147483648}, "Invalid input for field/attribute vcpus. Value: 2147483648. "
                            "2147483648 is greater than the maximum of 2147483647"),
    ({"vcpus": True}, "Invalid input for field/attribute vcpus. Value: True. True is not of "
                      "type 'integer', 'string'"),
    ({"disk": -1}, "Invalid input for field/attribute disk. Value: -1. -1 is less than the "
                   "minimum of 0"),
    ({"disk": None}, "Invalid input for field/attribute disk. Value: None. None is not of type "
                     "'integer', 'string'"),
    ({"OS-FLV-EXT-DATA:ephemeral": 1.5}, "Invalid input for field/attribute "
     "OS-FLV-EXT-DATA:ephemeral. Value: 1.5. 1.5 is not of type 'integer', 'string'"),
    ({"swap": "1.5"}, "Invalid input for field/attribute swap. Value: 1.5. '1.5' does not match "
                      "'^[0-9]+$'"),
    ({"rxtx_factor": 0}, "Invalid input for field/attribute rxtx_factor. Value: 0. 0 is less "
                         "than or equal to the minimum of 0"),
    ({"rxtx_factor": "abc"}, "Invalid input for field/attribute rxtx_factor. Value: abc. 'abc' "
                             "does not match '^[0-9]+(\\\\.[0-9]+)?$'"),
    ({"os-flavor-access:is_public": "maybe"}, "Invalid input for field/attribute "
     f"os-flavor-access:is_public. Value: maybe. 'maybe' is not one of {BOOLEAN_ENUM}"),
    ({"os-flavor-access:is_public": 1}, "Invalid input for field/attribute "
     "os-flavor-access:is_public. Value: 1. 1 is not of type 'boolean', 'string'"),
    ({"id": " x"}, "Invalid input for field/attribute id. Value:  x. ' x' does not match "
                   "'^(?! )[a-zA-Z0-9. _-]+(?<! )$'"),
    ({"id": ""}, "Invalid input for field/attribute id. Value: . '' should be non-empty"),
    ({"id": False}, "Invalid input for field/attribute id. Value: False. False is not of type "
                    "'string', 'number', 'null'"),
    ({"name": 5}, "Invalid input for field/attribute name. Value: 5. 5 is not of type "
                  "'string'"),
    # required, then additionalProperties, once every property is good.
    ({"ram": None, "color": "red"}, "Invalid input for field/attribute ram. Value: None. None "
     "is not of type 'integer', 'string'"),
    ({"color": "red", "shade": 1}, "Invalid input for field/attribute flavor. Value: {'name': "
     "'s', 'ram': 1, 'vcpus': 1, 'disk': 1, 'color': 'red', 'shade': 1}. Additional properties "
     "are not allowed ('color', 'shade' were unexpected)"),
]


@pytest.mark.parametrize("version", ["2.61", "2.96"])
@pytest.mark.parametrize(("fields", "message"), CREATE_REFUSED,
                         ids=[repr(f)[:40] for f, _ in CREATE_REFUSED])
def test_create_refused_in_novas_words(admin: httpx.Client, version: str,
                                       fields: dict[str, Any], message: str) -> None:
    before = _count(admin)
    response = _create(admin, {"flavor": {**BASE, **fields}}, version)
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    assert _count(admin) == before


@pytest.mark.parametrize(("body", "message"), [
    # The schema's property order: name before ram, whatever the body's order.
    ({"flavor": {"ram": "lots", "vcpus": 1, "disk": 1, "name": " padded"}}, INVALID_NAME),
    ({"flavor": {"name": "s", "vcpus": 1, "disk": 1}}, "Invalid input for field/attribute "
     "flavor. Value: {'name': 's', 'vcpus': 1, 'disk': 1}. 'ram' is a required property"),
    ({}, "'flavor' is a required property"),
    ({"flavor": BASE, "extra": 1}, "Additional properties are not allowed ('extra' was "
                                   "unexpected)"),
    ({"flavor": "s"}, "Invalid input for field/attribute flavor. Value: s. 's' is not of type "
                      "'object'"),
])
def test_create_body_shape_refused_in_novas_words(admin: httpx.Client, body: dict[str, Any],
                                                  message: str) -> None:
    before = _count(admin)
    response = _create(admin, body, "2.96")
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    assert _count(admin) == before


def test_a_description_is_an_unknown_field_before_255(admin: httpx.Client) -> None:
    before = _count(admin)
    response = _create(admin, {"flavor": {**BASE, "description": "d", "color": 1}}, "2.54")
    assert response.json() == {"badRequest": {"code": 400, "message": (
        "Invalid input for field/attribute flavor. Value: {'name': 's', 'ram': 1, 'vcpus': 1, "
        "'disk': 1, 'description': 'd', 'color': 1}. Additional properties are not allowed "
        "('color', 'description' were unexpected)")}}
    assert _count(admin) == before


@pytest.mark.parametrize("version", ["2.55", "2.96"])
def test_a_description_is_printable_text_from_255(admin: httpx.Client, version: str) -> None:
    before = _count(admin)
    tab = _create(admin, {"flavor": {**BASE, "description": "a\tb"}}, version)
    message = tab.json()["badRequest"]["message"]
    assert message.startswith("Invalid input for field/attribute description. Value: a\tb. "
                              f"'a\\tb' does not match {DESCRIPTION_REGEX_START}")
    assert message.endswith("]*$'")
    long = _create(admin, {"flavor": {**BASE, "description": "d" * 65536}}, version)
    assert long.json()["badRequest"]["message"] == (
        f"Invalid input for field/attribute description. Value: {'d' * 65536}. "
        f"'{'d' * 65536}' is too long")
    assert _count(admin) == before
    created = _create(admin, {"flavor": {**BASE, "name": f"desc-{version}",
                                         "description": None}}, version)
    assert created.status_code == 200, created.text
    assert created.json()["flavor"]["description"] is None


def test_what_the_schema_lets_through_is_read_as_nova_reads_it(admin: httpx.Client) -> None:
    """``flavors.create``: sizes ``int(str())``, an id ``str()``'d, ``bool_from_string``."""
    response = _create(admin, {"flavor": {
        "name": "loose", "ram": "512", "vcpus": "2", "disk": "0", "swap": "0",
        "OS-FLV-EXT-DATA:ephemeral": "3", "rxtx_factor": "1.5", "id": 42,
        "os-flavor-access:is_public": "no"}}, "2.96")
    assert response.status_code == 200, response.text
    flavor = response.json()["flavor"]
    assert {k: flavor[k] for k in ("id", "name", "ram", "vcpus", "disk", "swap",
                                   "OS-FLV-EXT-DATA:ephemeral", "rxtx_factor",
                                   "os-flavor-access:is_public")} == {
        "id": "42", "name": "loose", "ram": 512, "vcpus": 2, "disk": 0, "swap": 0,
        "OS-FLV-EXT-DATA:ephemeral": 3, "rxtx_factor": 1.5,
        "os-flavor-access:is_public": False}


def test_a_falsy_id_is_generated_and_a_name_is_stripped(admin: httpx.Client) -> None:
    """``flavors.create``: ``if not flavorid`` makes a UUID; ``name.strip()`` removes the final
    newline the name pattern's ``$`` lets through."""
    response = _create(admin, {"flavor": {**BASE, "name": "m1.strip\n", "id": 0}}, "2.96")
    assert response.status_code == 200, response.text
    flavor = response.json()["flavor"]
    assert (flavor["name"], len(flavor["id"])) == ("m1.strip", 36)


@pytest.mark.parametrize(("fields", "message"), [
    # Nova's flavors.create raises InvalidInput here, which its API does not expect (a 500);
    # vmqos answers 400 with InvalidInput's words.
    ({"ram": 512.0}, "Invalid input received: ram must be an integer"),
    ({"rxtx_factor": "0"},
     "Invalid input received: 'rxtx_factor' argument must be a float between 0 and "
     "3.40282e+38"),
])
def test_what_flavors_create_refuses_is_a_400(admin: httpx.Client, fields: dict[str, Any],
                                              message: str) -> None:
    before = _count(admin)
    response = _create(admin, {"flavor": {**BASE, **fields}}, "2.96")
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    assert _count(admin) == before


def test_the_schema_comes_before_the_policy(cloud: Cloud, admin: httpx.Client) -> None:
    cloud.make_user("flavor-member", "flavor-project")
    with cloud.client("flavor-member", "pw", "flavor-project") as member:
        bad = _create(member, {"flavor": {**BASE, "ram": "lots"}}, "2.96")
        assert bad.json()["badRequest"]["message"] == (
            "Invalid input for field/attribute ram. Value: lots. 'lots' does not match "
            "'^[0-9]+$'")
        assert _create(member, {"flavor": BASE}, "2.96").status_code == 403
        flavor = admin.get(f"{NOVA}/flavors").json()["flavors"][0]["id"]
        update = member.put(f"{NOVA}/flavors/{flavor}", json={"flavor": {}},
                            headers={"OpenStack-API-Version": "compute 2.96"})
        assert update.status_code == 400
        assert member.put(f"{NOVA}/flavors/{flavor}", json={"flavor": {"description": "d"}},
                          headers={"OpenStack-API-Version": "compute 2.96"}
                          ).status_code == 403


@pytest.mark.parametrize(("body", "message"), [
    ({"flavor": {}}, "Invalid input for field/attribute flavor. Value: {}. 'description' is a "
                     "required property"),
    ({"flavor": {"description": 5}}, "Invalid input for field/attribute description. Value: 5. "
                                     "5 is not of type 'string', 'null'"),
    ({"flavor": {"description": "d", "name": "n"}}, "Invalid input for field/attribute flavor. "
     "Value: {'description': 'd', 'name': 'n'}. Additional properties are not allowed ('name' "
     "was unexpected)"),
    ({"description": "d"}, "'flavor' is a required property"),
])
def test_update_refused_in_novas_words(admin: httpx.Client, body: dict[str, Any],
                                       message: str) -> None:
    flavor = _create(admin, {"flavor": {**BASE, "name": f"upd-{len(repr(body))}",
                                        "description": "kept"}}, "2.96").json()["flavor"]["id"]
    url = f"{NOVA}/flavors/{flavor}"
    response = admin.put(url, json=body, headers={"OpenStack-API-Version": "compute 2.96"})
    assert (response.status_code, response.json()) == (400, {"badRequest": {
        "code": 400, "message": message}})
    # Below 2.55 the route does not exist: 404 before any look at the body.
    below = admin.put(url, json=body, headers={"OpenStack-API-Version": "compute 2.54"})
    assert below.status_code == 404
    shown = admin.get(url, headers={"OpenStack-API-Version": "compute 2.96"}).json()["flavor"]
    assert shown["description"] == "kept"
