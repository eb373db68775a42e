"""Cleanup removes everything vmqos created and nothing else; host facts are what the kernel
really accepts (root, real kernel; oracles: ip, tc, losetup, /sys/fs/cgroup)."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from host_oracle import CGROUP, links, loops_under, prefixed_cgroups

from support.proc import netns_names, sh
from vmqos.host.apply import apply_host_plan
from vmqos.host.facts import observe_host_facts
from vmqos.host.sandbox import ensure_instance, list_instances, remove_all
from vmqos.host.state import SandboxConfig
from vmqos.intent.scenario import Scenario
from vmqos.profile import get_profile
from vmqos.reconcile.facts import PROBED_CLASSIFIERS, PROBED_QDISCS, HostFacts
from vmqos.reconcile.host_plan import compile_host_plan


def test_cleanup_leaves_nothing_of_vmqos_and_everything_else(
        config: SandboxConfig, facts: HostFacts, seed: Scenario) -> None:
    profile = get_profile(seed.profile)
    for server in seed.servers:
        instance, _ = ensure_instance(config, facts, server.name, server.ports)
        apply_host_plan(compile_host_plan(seed, server, profile, facts, instance.layout()),
                        netns=config.host_netns)
    ns = config.host_netns
    assert ns is not None
    assert [d for d in links(ns) if d.startswith("vmqos")]           # IFBs exist
    assert len(loops_under(config.state_dir)) == 2
    # Strangers that share the prefix but that vmqos did not create.
    stranger_ns = f"{config.prefix}-stranger"
    stranger_cg = CGROUP / "cpu" / f"{config.prefix}-stranger"
    sh("ip", "netns", "add", stranger_ns)
    stranger_cg.mkdir()
    try:
        removed = remove_all(config)
        assert any(item.startswith("IFB ") for item in removed)
        assert netns_names() & {f"{config.prefix}-vm_normal", f"{config.prefix}-vm_resquota",
                                ns} == set()
        assert loops_under(config.state_dir) == []
        assert prefixed_cgroups(config.prefix) == [stranger_cg]
        assert not config.state_file.exists()
        assert not config.disk_dir.exists() or not any(config.disk_dir.iterdir())
        assert list_instances(config) == []
        assert stranger_ns in netns_names()                            # untouched
        assert remove_all(config) == []                                # idempotent
    finally:
        sh("ip", "netns", "del", stranger_ns, check=False)
        stranger_cg.rmdir()


def test_cleanup_after_a_half_built_sandbox(config: SandboxConfig, facts: HostFacts,
                                            seed: Scenario) -> None:
    server = seed.servers[0]
    instance, _ = ensure_instance(config, facts, server.name, server.ports)
    # Someone removed parts by hand: cleanup still removes the rest, without complaint.
    sh("ip", "netns", "del", instance.netns)
    sh("losetup", "-d", instance.loop_device)
    removed = remove_all(config)
    assert f"cgroup {instance.cgroup_dirs[0]}" in removed
    assert loops_under(config.state_dir) == []


def test_facts_agree_with_the_kernel() -> None:
    facts = observe_host_facts()
    assert facts.probed
    assert facts.psched_text == Path("/proc/net/psched").read_text().strip()
    assert facts.iproute2 and facts.iproute2 in sh("tc", "-V")
    # Oracle: try a few kinds by hand in a namespace of our own.
    netns = f"vmqos-tfacts-{secrets.token_hex(3)}"
    sh("ip", "netns", "add", netns)
    try:
        sh("ip", "-n", netns, "link", "add", "a0", "type", "veth", "peer", "name", "a1")
        for kind in ("htb", "pfifo", "sfq"):
            assert (kind in facts.qdiscs) == _accepted(netns, kind), kind
        sh("tc", "-n", netns, "qdisc", "add", "dev", "a1", "ingress")
        for prio, kind in enumerate(("u32", "fw"), start=1):
            words = ["match", "u32", "0", "0"] if kind == "u32" else []
            accepted = _run_ok("tc", "-n", netns, "filter", "add", "dev", "a1", "parent",
                               "ffff:", "protocol", "all", "prio", str(prio), kind, *words)
            assert (kind in facts.classifiers) == accepted, kind
        police = _run_ok("tc", "-n", netns, "filter", "add", "dev", "a1", "parent", "ffff:",
                         "protocol", "all", "prio", "9", "u32", "match", "u32", "0", "0",
                         "police", "rate", "1mbit", "burst", "10k", "drop", "flowid", ":1")
        assert ("police" in facts.actions) == police
    finally:
        sh("ip", "netns", "del", netns)
    assert set(facts.qdiscs) <= set(PROBED_QDISCS)
    assert set(facts.classifiers) <= set(PROBED_CLASSIFIERS)
    # the probe's own namespace is gone
    assert not [n for n in netns_names() if n.startswith(f"vmqos-probe-{os.getpid()}-")]


def _run_ok(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def _accepted(netns: str, kind: str) -> bool:
    accepted = _run_ok("tc", "-n", netns, "qdisc", "replace", "dev", "a0", "root", kind)
    _run_ok("tc", "-n", netns, "qdisc", "del", "dev", "a0", "root")
    return accepted
