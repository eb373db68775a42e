"""The agent's metrics, decided purely (vmqos.ops.agent_metrics): literal names, labels and
values for the seed scenario's explanation and audits, and the agent's own counters."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest

from support.seed import seed_scenario
from vmqos.errors import ValidationError
from vmqos.host.state import SandboxConfig
from vmqos.observe.tc_stats import TcCounters, decode_counters
from vmqos.ops.agent import Agent, AgentConfig, parse_listen, retry_delay
from vmqos.ops.agent_metrics import (
    FAMILIES,
    AgentStatus,
    AuditRound,
    ErrorReason,
    Family,
    agent_samples,
)
from vmqos.ops.audit import AuditStatus, Section, ServerAudit
from vmqos.plan.explain.explain import explain_scenario
from vmqos.profile import get_profile

RESQUOTA_PORT = "bb8410ad-a026-4e9a-8f0b-0e8f611d5588"
RESQUOTA_TAP = "tapbb8410ad-a0"


def _round(audits: tuple[ServerAudit, ...] = ()) -> AuditRound:
    scenario = seed_scenario()
    return AuditRound(explain_scenario(scenario, get_profile(scenario.profile)), audits,
                      duration_seconds=0.25, finished_at=1_764_756_000.0,
                      libvirt_reachable=False)


def _by_name(status: AgentStatus) -> dict[str, dict[tuple[str, ...], float]]:
    return {family.name: {s.labels: s.value for s in samples}
            for family, samples in agent_samples(status)}


def _absent() -> ServerAudit:
    return ServerAudit("vm_resquota", Section(AuditStatus.ABSENT, detail="no vmqos instance"),
                       Section(AuditStatus.NOT_AUDITED, detail="libvirtd not reachable"))


def test_seed_limits_per_server_port_direction_and_layer() -> None:
    metrics = _by_name(AgentStatus("cmp-1", "c", fix=False, last=_round(),
                                   cloud_reachable=True, rounds=1))
    where = ("vm_resquota", RESQUOTA_PORT, RESQUOTA_TAP)
    inbound, outbound = (*where, "inbound"), (*where, "outbound")
    # The seed flavor: quota:vif_*_average 32768 kB/s = 262,144,000 bit/s, burst 131072 KiB,
    # inbound peak 65536 kB/s; bw-limiter: 3000 kbit/s, 300 kbit burst (OVS, 1000-bit kbit).
    limits = metrics["vmqos_port_limit_bits_per_second"]
    assert limits[(*inbound, "tc_tap")] == 262_144_000
    assert limits[(*outbound, "tc_tap")] == 262_144_000
    assert limits[(*outbound, "ovs_agent")] == 3_000_000
    assert metrics["vmqos_port_limit_burst_bytes"][(*inbound, "tc_tap")] == 134_217_728
    assert metrics["vmqos_port_limit_burst_bytes"][(*outbound, "ovs_agent")] == 38_400
    assert metrics["vmqos_port_limit_peak_bits_per_second"] == {
        (s, p, d, "inbound", "tc_tap"): 524_288_000 for s, p, d, _, _ in limits}
    effective = metrics["vmqos_port_effective_limit_bits_per_second"]
    assert effective[(*inbound, "tc_tap")] == 262_144_000
    assert effective[(*outbound, "ovs_agent")] == 3_000_000   # the stricter layer decides
    assert (*outbound, "tc_tap") not in effective
    # Three ports of vm_resquota, both directions; vm_normal's ports have no limit at all.
    assert len(limits) == 9 and len(effective) == 6
    limited = metrics["vmqos_port_rate_limited"]
    assert limited[(*inbound,)] == 1.0
    assert limited[("vm_normal", "b614c1d3-75e5-483f-88fd-cec050652945", "tapb614c1d3-75",
                    "inbound")] == 0.0
    assert metrics["vmqos_audit_servers"] == {(): 0.0}
    assert metrics["vmqos_audit_duration_seconds"] == {(): 0.25}
    assert metrics["vmqos_audit_last_success_timestamp_seconds"] == {(): 1_764_756_000.0}
    assert metrics["vmqos_cloud_reachable"] == {(): 1.0}
    assert metrics["vmqos_libvirt_reachable"] == {(): 0.0}
    assert metrics["vmqos_agent_info"] == {("cmp-1", "c", "false"): 1.0}
    assert metrics["vmqos_audits_total"] == {(): 1.0}


def test_audit_drift_status_and_missing() -> None:
    drifted = ServerAudit("vm_normal", Section(AuditStatus.DRIFTED, ("tc class 1:1 rate",)),
                          Section(AuditStatus.IN_SYNC))
    metrics = _by_name(AgentStatus("cmp-1", "c", fix=False, last=_round((drifted, _absent())),
                                   cloud_reachable=True, rounds=3))
    assert metrics["vmqos_audit_drift"] == {
        ("vm_normal", "instance"): 1.0, ("vm_normal", "libvirt"): 0.0,
        ("vm_resquota", "instance"): 0.0, ("vm_resquota", "libvirt"): 0.0}
    assert metrics["vmqos_server_missing"] == {("vm_normal",): 0.0, ("vm_resquota",): 1.0}
    status = metrics["vmqos_audit_status"]
    assert status[("vm_resquota", "instance", "absent")] == 1.0
    assert status[("vm_resquota", "libvirt", "not audited")] == 1.0
    assert status[("vm_resquota", "libvirt", "in sync")] == 0.0
    assert sum(status.values()) == 4          # one current status per object
    assert len(status) == 4 * len(AuditStatus)
    assert metrics["vmqos_audit_servers"] == {(): 2.0}


def test_before_the_first_round_only_the_agent_itself() -> None:
    metrics = _by_name(AgentStatus("cmp-1", "c", fix=True,
                                   errors={ErrorReason.CLOUD: 2}))
    assert metrics["vmqos_cloud_reachable"] == {(): 0.0}
    assert metrics["vmqos_audit_errors_total"] == {("cloud",): 2.0, ("host",): 0.0}
    assert metrics["vmqos_port_limit_bits_per_second"] == {}
    assert "vmqos_audit_last_success_timestamp_seconds" in metrics  # described, no sample
    assert metrics["vmqos_audit_last_success_timestamp_seconds"] == {}
    assert metrics["vmqos_agent_info"] == {("cmp-1", "c", "true"): 1.0}


def test_fixes_are_counted_per_object() -> None:
    metrics = _by_name(AgentStatus("cmp-1", "c", fix=True,
                                   fixes={("vm_resquota", "instance"): 2}))
    assert metrics["vmqos_audit_fixes_total"] == {("vm_resquota", "instance"): 2.0}


def test_names_follow_prometheus_conventions() -> None:
    """vmqos_ prefix; counters and only counters end in _total; a unit suffix is a base
    unit; every sample has its family's labels."""
    units = ("_bits_per_second", "_bytes", "_seconds")
    for family in FAMILIES:
        assert family.name.startswith("vmqos_")
        assert family.name.endswith("_total") == (family.kind == "counter"), family.name
        assert not any(bad in family.name for bad in ("kbps", "kbit", "_kb", "bytes_sec")), \
            family.name
    assert {f.name for f in FAMILIES if f.name.endswith(units)} >= {
        "vmqos_port_limit_bits_per_second", "vmqos_port_limit_burst_bytes",
        "vmqos_audit_duration_seconds", "vmqos_audit_last_success_timestamp_seconds"}
    status = AgentStatus("h", "c", fix=False, last=_round((_absent(),)), cloud_reachable=True)
    families: list[Family] = []
    for family, samples in agent_samples(status):
        families.append(family)
        assert all(len(s.labels) == len(family.labels) for s in samples), family.name
    assert tuple(families) == FAMILIES


def test_retry_backs_off_exponentially_and_is_bounded() -> None:
    assert [retry_delay(n, 60.0, 20.0) for n in range(7)] == [60.0, 1, 2, 4, 8, 16, 20]
    assert retry_delay(10_000, 60.0, 300.0) == 300.0


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:9675") == ("127.0.0.1", 9675)
    assert parse_listen(":9675") == ("0.0.0.0", 9675)
    assert parse_listen("[::1]:9675") == ("::1", 9675)
    with pytest.raises(ValidationError, match=r"--listen '9675' is not HOST:PORT"):
        parse_listen("9675")


def test_a_scrape_shows_the_current_status_rendered_once() -> None:
    """The exposition of a status is rendered once and reused until the status is replaced;
    the process's own metrics are read at every scrape."""
    agent = Agent(AgentConfig(cloud="c", host="cmp-1"), SandboxConfig())
    first = agent.exposition().decode()
    assert "vmqos_cloud_reachable 0.0\n" in first
    assert 'vmqos_agent_info{cloud="c",fix="false",host="cmp-1"} 1.0\n' in first
    assert "# TYPE vmqos_audit_errors_total counter\n" in first
    assert "process_cpu_seconds_total" in first  # prometheus_client reads /proc on Linux
    agent._update(last=_round((_absent(),)), cloud_reachable=True, rounds=1)
    second = agent.exposition().decode()
    assert "vmqos_cloud_reachable 1.0\n" in second
    assert 'vmqos_server_missing{server="vm_resquota"} 1.0\n' in second
    assert "vmqos_audits_total 1.0\n" in second


def test_qdisc_counters_per_port_and_side() -> None:
    counters = {RESQUOTA_TAP: {"root": TcCounters("htb", 1_500_000, 1000, 7, 42),
                               "ingress": TcCounters("ingress", 64_000, 50, 3, 0)},
                "tap-not-a-port": {"root": TcCounters("htb", 1, 1, 1, 1)}}
    last = replace(_round(), counters=counters)
    metrics = _by_name(AgentStatus("cmp-1", "c", fix=False, last=last))
    where = ("vm_resquota", RESQUOTA_PORT, RESQUOTA_TAP)
    assert metrics["vmqos_port_qdisc_bytes_total"] == {
        (*where, "ingress", "ingress"): 64_000.0, (*where, "root", "htb"): 1_500_000.0}
    assert metrics["vmqos_port_qdisc_packets_total"][(*where, "root", "htb")] == 1000
    assert metrics["vmqos_port_qdisc_drops_total"] == {
        (*where, "ingress", "ingress"): 3.0, (*where, "root", "htb"): 7.0}
    assert metrics["vmqos_port_qdisc_overlimits_total"][(*where, "root", "htb")] == 42


def test_counters_decode_the_kernels_structs() -> None:
    """gnet_stats_basic (u64 bytes, u32 packets, padded to 16), gnet_stats_queue (qlen,
    backlog, drops, requeues, overlimits), and the 64-bit packet count when sent."""
    basic = struct.pack("=QI4x", 2**40 + 5, 17)
    queue = struct.pack("=IIIII", 1, 1500, 9, 4, 11)
    assert decode_counters("htb", basic, queue) == TcCounters("htb", 2**40 + 5, 17, 9, 11)
    assert decode_counters("htb", basic, queue, struct.pack("=Q", 2**33)).packets == 2**33
    assert decode_counters("ingress", None, None) == TcCounters("ingress", 0, 0, 0, 0)
