"""``/openapi.json`` describes the bodies the API answers, not objects of anything.

Every JSON success response of every operation has a schema with named properties (or a
mapping of named models, where Neutron and Nova key a body by the path), and the main
resources' schemas carry their wire names — the ones the ``openstack`` client reads — with
the microversion- and role-gated fields optional. Each QoS rule type's model has exactly
neutron-lib's attributes, taken from the table the core builds its bodies from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vmqos.api.app import create_app
from vmqos.api.network_schemas import RULE_MODELS
from vmqos.api.settings import Settings
from vmqos.intent.neutron.model import RuleType
from vmqos.intent.neutron.rules import API_ATTRIBUTES


def _document() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", data_dir=Path("unused")))
    document: dict[str, Any] = app.openapi()
    return document


DOCUMENT = _document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def _operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    out = []
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if status.startswith("2") and content is not None:
                    out.append((method.upper(), path, status, content["schema"]))
    return out


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return SCHEMAS[ref.rsplit("/", 1)[-1]] if ref else schema


def _is_described(schema: dict[str, Any]) -> bool:
    schema = _resolve(schema)
    if "anyOf" in schema or "oneOf" in schema:
        return all(_is_described(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    if schema.get("type") == "array":
        return _is_described(schema["items"])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):  # a mapping: its values must be described (a scalar, or any
        # of several: an extra spec's answer echoes a string or a number)
        return all(value.get("type") in ("string", "integer", "number", "boolean")
                   or _is_described(value) for value in extra.get("anyOf", [extra]))
    return bool(schema.get("properties"))


@pytest.mark.parametrize(("method", "path", "status", "schema"), _operations(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_json_answer_has_a_described_schema(method: str, path: str, status: str,
                                                  schema: dict[str, Any]) -> None:
    assert _is_described(schema), f"{method} {path} {status}: {schema}"


def _properties(name: str) -> tuple[set[str], set[str]]:
    schema = SCHEMAS[name]
    return set(schema["properties"]), set(schema.get("required", ()))


@pytest.mark.parametrize(("name", "required", "optional"), [
    ("Flavor", {"id", "name", "ram", "disk", "vcpus", "swap", "OS-FLV-EXT-DATA:ephemeral",
                "OS-FLV-DISABLED:disabled", "os-flavor-access:is_public", "rxtx_factor",
                "links"}, {"description", "extra_specs"}),
    ("Server", {"id", "name", "status", "flavor", "image", "addresses", "security_groups",
                "OS-EXT-AZ:availability_zone", "OS-EXT-STS:vm_state", "OS-DCF:diskConfig"},
     {"fault", "progress", "OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:instance_name",
      "host_status", "locked", "tags", "pinned_availability_zone"}),
    ("EmbeddedFlavor", {"vcpus", "ram", "disk", "ephemeral", "swap", "original_name",
                        "extra_specs"}, set()),
    ("Image", {"id", "name", "status", "visibility", "disk_format", "container_format",
               "checksum", "size", "self", "file", "schema"}, set()),
    ("Network", {"id", "name", "project_id", "shared", "mtu", "qos_policy_id",
                 "router:external", "subnets"},
     {"provider:network_type", "provider:physical_network", "provider:segmentation_id"}),
    ("Port", {"id", "network_id", "mac_address", "fixed_ips", "device_owner",
              "binding:vnic_type", "qos_policy_id", "qos_network_policy_id"},
     {"binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details",
      "resource_request"}),
    ("Policy", {"id", "name", "project_id", "shared", "is_default", "rules"}, set()),
    ("SecurityGroup", {"id", "name", "security_group_rules"}, set()),
    ("Subnet", {"id", "network_id", "cidr", "ip_version", "allocation_pools"}, set()),
    ("Keypair", {"name", "public_key", "fingerprint"}, {"type", "user_id", "created_at"}),
    ("Token", {"methods", "user", "project", "roles", "catalog", "expires_at"}, set()),
])
def test_main_resources_have_their_fields(name: str, required: set[str],
                                          optional: set[str]) -> None:
    properties, required_here = _properties(name)
    assert required <= required_here, required - required_here
    assert optional <= properties - required_here, optional - (properties - required_here)


def test_a_servers_flavor_and_image_are_either_shape() -> None:
    server = SCHEMAS["Server"]["properties"]
    assert {_resolve(s).get("title") for s in server["flavor"]["anyOf"]} == {
        "FlavorLink", "EmbeddedFlavor"}
    shapes = [_resolve(s) for s in server["image"]["anyOf"]]
    assert [s.get("title") for s in shapes if "$ref" not in s and "const" not in s] == [
        "ImageLink"]
    assert [s["const"] for s in shapes if "const" in s] == [""]


def test_image_extra_properties_are_strings() -> None:
    assert SCHEMAS["Image"]["additionalProperties"] == {"type": "string"}


def test_a_policys_rules_are_told_apart_by_type() -> None:
    rules = SCHEMAS["Policy"]["properties"]["rules"]["items"]
    assert rules["discriminator"]["propertyName"] == "type"
    assert set(rules["discriminator"]["mapping"]) == {t.value for t in RuleType}


@pytest.mark.parametrize("rule_type", list(RuleType), ids=lambda t: t.value)
def test_each_rule_model_has_neutron_libs_attributes(rule_type: RuleType) -> None:
    model = RULE_MODELS[rule_type.value]
    attributes = [a.name for a in API_ATTRIBUTES[rule_type]]
    assert list(model.model_fields) == ["id", "qos_policy_id", *attributes, "type"]
    properties, required = _properties(model.__name__)
    assert required == {"id", *attributes}
    assert properties - required == {"qos_policy_id", "type"}
