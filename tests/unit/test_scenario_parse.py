"""Scenario documents: the seed parses to the note's objects; bad documents name the path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from vmqos.errors import ConflictError, ValidationError
from vmqos.intent.neutron.model import BandwidthLimitRule
from vmqos.intent.scenario_parse import parse_scenario
from vmqos.model import Direction, VifType

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "src" / "vmqos" / "scenarios" / "seed.yaml"


@pytest.fixture
def seed_doc() -> dict[str, Any]:
    data = yaml.safe_load(SEED.read_text())
    assert isinstance(data, dict)
    return data


def test_examples_seed_is_the_packaged_seed() -> None:
    assert (ROOT / "examples" / "seed.yaml").read_text() == SEED.read_text()


def test_seed_scenario_matches_the_note(seed_doc: dict[str, Any]) -> None:
    scenario = parse_scenario(seed_doc)
    assert scenario.profile == "pike-rhel7"
    assert [f.name for f in scenario.flavors] == ["m1.normal", "m1.resquota"]
    resquota = scenario.flavor("m1.resquota")
    assert resquota.id == "bb3c4ff8-c09f-444d-955e-46e4e1f6fb4a"
    assert resquota.extra_specs["quota:vif_inbound_average"] == "32768"
    assert scenario.flavor("m1.normal").extra_specs == {
        "aggregate_instance_extra_specs:host": "vlan"}
    policy = scenario.policy("bw-limiter")
    assert len(policy.rules) == 1
    rule = policy.rules[0]
    assert isinstance(rule, BandwidthLimitRule)
    assert (rule.max_kbps, rule.max_burst_kbps, rule.direction) == (3000, 300, Direction.OUTBOUND)
    vm = scenario.servers[1]
    assert vm.name == "vm_resquota"
    assert vm.instance_name == "instance-00000041"
    assert vm.domain_id == 10
    ports = [scenario.port(p) for p in vm.ports]
    assert [p.tap for p in ports] == ["tapbb8410ad-a0", "tapa1e966cd-47", "tape0bb2633-17"]
    assert {p.qos_policy_id for p in ports} == {policy.id}
    assert all(p.vif_type is VifType.OVS_BRIDGE for p in ports)
    assert [scenario.network(p.network_id).name for p in ports] == [
        "mplane_vlan11", "provider_test15", "provider_test16"]


def test_ids_are_derived_deterministically(seed_doc: dict[str, Any]) -> None:
    first = parse_scenario(seed_doc)
    second = parse_scenario(copy.deepcopy(seed_doc))
    assert first.policy("bw-limiter").id == second.policy("bw-limiter").id
    assert first.networks[0].id == second.networks[0].id != ""


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (lambda d: d["flavors"][1]["properties"].update({"quota:cpu_shares": "-1"}),
         ValidationError,
         "flavors[1].properties['quota:cpu_shares']: Validation failed; '-1' is less than the "
         "min value of '0'."),
        (lambda d: d["flavors"][1]["properties"].update({"quota:vif_inbound_floor": "1"}),
         ValidationError,
         "flavors[1].properties['quota:vif_inbound_floor']: Validation failed; extra spec "
         "'quota:vif_inbound_floor' "
         "does not appear to be a valid extra spec."),
        (lambda d: d["servers"][0].update({"flavor": "m1.tiny"}),
         ValidationError, "servers[0].flavor: no flavor named 'm1.tiny'"),
        (lambda d: d["ports"][0].update({"network": "nowhere"}),
         ValidationError, "ports[0].network: no network named 'nowhere'"),
        (lambda d: d["ports"][0].update({"vif_type": "tap"}),
         ValidationError, "ports[0].vif_type: no VIF type named 'tap'"),
        (lambda d: d["ports"][3].update({"qos_policy": "gold"}),
         ValidationError, "ports[3].qos_policy: no QoS policy named 'gold'"),
        (lambda d: d["policies"][0]["rules"][0].update({"max_kbps": -1}),
         ValidationError,
         "policies[0].rules[0]: Invalid input for max_kbps. Reason: '-1' is too small - must "
         "be at least '0'."),
        (lambda d: d["policies"][0]["rules"].append({"type": "bandwidth_limit", "max_kbps": 1}),
         ConflictError, "policies[0].rules[1]: Rule bandwidth_limit conflicts with rule"),
        (lambda d: d.update({"neutron_backend": "midonet"}),
         ValidationError, "neutron_backend: 'midonet' is not a supported backend"),
        (lambda d: d["servers"][1]["ports"].append(d["servers"][0]["ports"][0]),
         ValidationError, "servers[1].ports[3]: port 'b614c1d3-75e5-483f-88fd-cec050652945' "
         "is already bound to server 'vm_normal'"),
        (lambda d: d["servers"][0].update({"colour": "blue"}),
         ValidationError, "servers[0].colour: unknown key"),
        (lambda d: d.update({"flavors": {"name": "x"}}),
         ValidationError, "flavors: expected a list"),
    ],
)
def test_bad_documents_name_the_path(
    seed_doc: dict[str, Any], mutate: Any, error: type[Exception], message: str
) -> None:
    mutate(seed_doc)
    with pytest.raises(error) as info:
        parse_scenario(seed_doc)
    assert str(info.value).startswith(message)
    assert type(info.value) is error


def test_not_a_mapping() -> None:
    with pytest.raises(ValidationError, match="scenario: expected a mapping, got list"):
        parse_scenario([1, 2])
