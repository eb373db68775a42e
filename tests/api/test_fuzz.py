"""Fuzzing from the OpenAPI document: no request the document allows, and none it does not,
makes the server answer 5xx, and every answer the document describes has the documented shape.

schemathesis reads ``/openapi.json`` from a real server on loopback and sends each operation a
bounded number of generated requests (schema-conforming and not), with an admin token so that
requests reach past authentication. The checks are "not a server error" and "the body
conforms to the response schema" (the typed response models of :mod:`vmqos.api.responses`);
errors are not in the document, and their shape and status are the other tests' business. A
small fixed world (a flavor, a network, a policy with a rule) gives the generated ids
something to miss or hit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import not_a_server_error, response_schema_conformance

from vmqos.api.app import create_app
from vmqos.api.image_patch import PATCH_MEDIA_TYPES
from vmqos.api.settings import Settings

from .conftest import Cloud

EXAMPLES = 5
# Glance's image PATCH body is JSON under media types of its own (vmqos.api.image_patch).
schemathesis.serializer.alias(list(PATCH_MEDIA_TYPES), "application/json")


def _document() -> dict[str, Any]:
    """The OpenAPI document the application serves (it does not depend on the database)."""
    app = create_app(Settings(database_url="sqlite://", data_dir=Path("unused")))
    document: dict[str, Any] = app.openapi()
    return document


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def world(cloud: Cloud) -> Cloud:
    with cloud.client() as admin:
        admin.post("/compute/v2.1/flavors", json={"flavor": {"name": "fz", "ram": 1,
                                                              "vcpus": 1, "disk": 1}})
        admin.post("/network/v2.0/networks", json={"network": {"name": "fz"}})
        policy = admin.post("/network/v2.0/qos/policies", json={"policy": {"name": "fz"}})
        admin.post(f"/network/v2.0/qos/policies/{policy.json()['policy']['id']}/"
                   "bandwidth_limit_rules", json={"bandwidth_limit_rule": {"max_kbps": 1}})
    return cloud


def test_the_fuzzed_document_is_the_served_one(world: Cloud) -> None:
    assert httpx.get(f"{world.url}/openapi.json").json() == DOCUMENT


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, world: Cloud) -> None:
    case.call_and_validate(base_url=world.url, headers={"X-Auth-Token": world.token()},
                           checks=[not_a_server_error, response_schema_conformance])
