"""Audit of libvirt domains: the seed's running domains against the plan for the seed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from support.seed import seed_scenario
from vmqos.errors import HostError, IntentError, PermanentHostError
from vmqos.intent.scenario import Scenario
from vmqos.libvirt_types import IoTune
from vmqos.observe.domain_diff import diff_domain_qos, diff_enforced
from vmqos.observe.virsh import LiveDomain, LiveSched, parse_blkdeviotune, parse_schedinfo
from vmqos.plan.render.domain_xml_parse import parse_domain_xml
from vmqos.plan.server_plan import compile_server_plan
from vmqos.profile import get_profile

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "seed"


@pytest.fixture(scope="module")
def seed() -> Scenario:
    return seed_scenario()


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
        "interface fa:16:3e:8d:f3:ae <bandwidth><outbound>: want average=32768 peak=65536 "
        "burst=131072, running average=1000",
    ]


VIRSH = ROOT / "tests" / "fixtures" / "virsh"


def test_schedinfo_reads_the_cgroup_values() -> None:
    assert parse_schedinfo((VIRSH / "schedinfo-v1-drifted.txt").read_text()) == LiveSched(
        shares=2048, vcpu_period=100000, vcpu_quota=None)       # -1: unlimited
    assert parse_schedinfo((VIRSH / "schedinfo-v1-quota.txt").read_text()) == LiveSched(
        shares=2048, vcpu_period=200000, vcpu_quota=50000)
    # cgroup v2 reports an unlimited quota ("max") as 2^44 - 1.
    assert parse_schedinfo("cpu_shares     : 100\nvcpu_quota     : 17592186044415\n"
                           ).vcpu_quota is None


def test_blkdeviotune_drops_zeros_and_qemus_default_group() -> None:
    tune = parse_blkdeviotune((VIRSH / "blkdeviotune-drifted.txt").read_text())
    assert tune == IoTune(read_bytes_sec=1000000, write_bytes_sec=5000)
    named = parse_blkdeviotune("write_bytes_sec: 10\ngroup_name     : gold\n")
    assert named == IoTune(write_bytes_sec=10, group_name="gold")


def test_virsh_text_that_is_not_virshs_is_a_host_error() -> None:
    with pytest.raises(PermanentHostError, match="cpu_shares is 'lots', not an integer"):
        parse_schedinfo("cpu_shares: lots\n")
    with pytest.raises(PermanentHostError, match="unexpected line 'what'"):
        parse_blkdeviotune("error: no domain\nwhat\n")


@pytest.mark.parametrize("text", ["cpu_shares: lots\n", "what\n", "vcpu_quota: -\n"])
def test_unparsable_virsh_exits_1_and_answers_503(text: str) -> None:
    with pytest.raises(HostError) as err:
        parse_schedinfo(text)
    assert not isinstance(err.value, IntentError)
    assert (err.value.exit_code, err.value.http_status) == (1, 503)


def test_enforcement_drift_under_an_unchanged_xml(seed: Scenario) -> None:
    plan = compile_server_plan(seed, next(s for s in seed.servers if s.name == "vm_resquota"),
                               get_profile("pike-rhel7"))
    live = LiveDomain(
        name="instance-00000041", state="paused",
        sched=parse_schedinfo((VIRSH / "schedinfo-v1-quota.txt").read_text()),
        iotune={"vda": parse_blkdeviotune((VIRSH / "blkdeviotune-drifted.txt").read_text())})
    assert diff_enforced(plan.domain, live) == [
        "cgroup cpu shares (virsh schedinfo): want 512, enforced 2048",
        "cgroup vcpu_quota (virsh schedinfo): want none, enforced 50000",
        "disk vda QEMU throttle write_bytes_sec (virsh blkdeviotune): want 1024000, "
        "enforced 5000",
    ]
    in_sync = LiveDomain(name="instance-00000041", state="running",
                         sched=LiveSched(shares=512, vcpu_period=100000, vcpu_quota=None),
                         iotune={"vda": IoTune(read_bytes_sec=1000000, write_bytes_sec=1024000)})
    assert diff_enforced(plan.domain, in_sync) == []


def test_a_burst_without_a_length_is_qemus_one_second(seed: Scenario) -> None:
    # QEMU reports *_max_length 1 for a *_max given without a length (Nova gives none).
    plan = compile_server_plan(seed, seed.servers[0], get_profile("pike-rhel7"))
    disk = replace(plan.domain.disks[0], iotune=IoTune(write_bytes_sec_max=2000))
    spec = replace(plan.domain, cputune=None, disks=(disk,))
    live = LiveDomain(name="i", state="running", sched=LiveSched(None, None, None), iotune={
        "vda": IoTune(write_bytes_sec_max=2000, write_bytes_sec_max_length=1)})
    assert diff_enforced(spec, live) == []
    live = replace(live, iotune={"vda": IoTune(write_bytes_sec_max=2000,
                                               write_bytes_sec_max_length=4)})
    assert diff_enforced(spec, live) == [
        "disk vda QEMU throttle write_bytes_sec_max_length (virsh blkdeviotune): want 1, "
        "enforced 4"]
