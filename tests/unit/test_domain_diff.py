"""Audit of libvirt domains: the seed's running domains against the plan for the seed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vmqos.intent.scenario import Scenario
from vmqos.intent.scenario_parse import parse_scenario
from vmqos.plan.domain_diff import diff_domain_qos
from vmqos.plan.libvirt_xml_parse import parse_domain_xml
from vmqos.plan.profile import get_profile
from vmqos.plan.server_plan import compile_server_plan

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "seed"


@pytest.fixture(scope="module")
def seed() -> Scenario:
    return parse_scenario(yaml.safe_load((ROOT / "examples" / "seed.yaml").read_text()))


@pytest.mark.parametrize(("server", "flavor"), [("vm_normal", "m1.normal"),
                                                ("vm_resquota", "m1.resquota")])
def test_the_seeds_running_domains_match_the_plan(seed: Scenario, server: str,
                                                  flavor: str) -> None:
    plan = compile_server_plan(seed, next(s for s in seed.servers if s.name == server),
                               get_profile("pike-rhel7"))
    running = parse_domain_xml((FIXTURES / f"domain-{flavor}.xml").read_text())
    assert diff_domain_qos(plan.domain, running) == []


def test_drift_is_reported_per_value(seed: Scenario) -> None:
    plan = compile_server_plan(seed, next(s for s in seed.servers if s.name == "vm_resquota"),
                               get_profile("pike-rhel7"))
    text = (FIXTURES / "domain-m1.resquota.xml").read_text()
    text = text.replace("<shares>512</shares>", "<shares>1024</shares>")
    text = text.replace("<write_bytes_sec>1024000</write_bytes_sec>", "")
    text = text.replace("<outbound average='32768' peak='65536' burst='131072'/>",
                        "<outbound average='1000'/>", 1)
    drift = diff_domain_qos(plan.domain, parse_domain_xml(text))
    assert drift == [
        "<cputune><shares>: want 512, running 1024",
        "disk vda <iotune><write_bytes_sec>: want 1024000, running none",
        "interface fa:16:3e:8d:f3:ae <bandwidth><outbound average>: want 32768, running 1000",
        "interface fa:16:3e:8d:f3:ae <bandwidth><outbound peak>: want 65536, running none",
        "interface fa:16:3e:8d:f3:ae <bandwidth><outbound burst>: want 131072, running none",
    ]
