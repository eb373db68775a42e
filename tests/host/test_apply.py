"""Apply on the real kernel (root): the seed's vm_resquota in a sandbox, checked by oracles.

* apply → what the kernel shows (``tc -j``, ``tc class show``, ``ip -j -d link``, the cgroup
  files) is the plan — on this kernel the *equivalent* program: no police, sfq or fw here;
* applying twice changes nothing and says so;
* a failure half-way (the kernel refuses a command) or at the end (a cgroup write) restores
  exactly what was there before, and the error names the command and the kernel's message.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from host_oracle import CGROUP, class_text, links, tc_json

from support.proc import sh
from vmqos.errors import PermanentHostError
from vmqos.host.apply import ApplyError, apply_host_plan, observe_host_state
from vmqos.host.sandbox import Instance, ensure_instance
from vmqos.host.state import SandboxConfig
from vmqos.intent.scenario import Scenario, Server
from vmqos.profile import get_profile
from vmqos.reconcile.diff import reconcile
from vmqos.reconcile.facts import HostFacts
from vmqos.reconcile.host_plan import HostPlan, compile_host_plan
from vmqos.reconcile.strategy import ifb_name

TAPS = ("tapbb8410ad-a0", "tapa1e966cd-47", "tape0bb2633-17")


def _server(scenario: Scenario, name: str) -> Server:
    return next(s for s in scenario.servers if s.name == name)


def _sandbox(config: SandboxConfig, facts: HostFacts, scenario: Scenario,
             name: str = "vm_resquota") -> Instance:
    instance, created = ensure_instance(config, facts, name, _server(scenario, name).ports)
    assert created
    return instance


def _plan(scenario: Scenario, facts: HostFacts, instance: Instance,
          name: str = "vm_resquota") -> HostPlan:
    return compile_host_plan(scenario, _server(scenario, name), get_profile(scenario.profile),
                             facts, instance.layout())


def _cgroup(instance: Instance, controller: str, file: str) -> str:
    return (CGROUP / controller / instance.cgroup / file).read_text().strip()


def snapshot(config: SandboxConfig, instance: Instance) -> dict[str, Any]:
    """Everything the oracles see of the instance's managed objects."""
    ns = config.host_netns
    assert ns is not None
    devices = links(ns)
    out: dict[str, Any] = {"links": sorted(
        (name, link.get("linkinfo", {}).get("info_kind"), "UP" in link["flags"])
        for name, link in devices.items() if name.startswith("vmqos"))}
    for tap in (p.tap for p in instance.ports):
        for dev in (tap, ifb_name(tap)):
            if dev not in devices:
                continue
            out[dev] = {
                "qdisc": tc_json(ns, "qdisc", dev),
                "class": class_text(ns, dev),
                "ingress_filter": tc_json(ns, "filter", dev, "parent", "ffff:"),
            }
    for controller, file in (("cpu", "cpu.shares"), ("cpu", "cpu.cfs_quota_us"),
                             ("blkio", "blkio.throttle.read_bps_device"),
                             ("blkio", "blkio.throttle.write_bps_device")):
        out[f"{controller}/{file}"] = _cgroup(instance, controller, file)
    return out


def _kinds(qdiscs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(q["kind"], q["handle"], q.get("parent", "root")) for q in qdiscs]


def test_apply_is_the_plan_and_twice_changes_nothing(
        config: SandboxConfig, facts: HostFacts, seed: Scenario) -> None:
    instance = _sandbox(config, facts, seed)
    plan = _plan(seed, facts, instance)
    result = apply_host_plan(plan, netns=config.host_netns)
    assert result.changed and len(result.actions) == 3 * (2 + 8) + 3
    ns = config.host_netns
    assert ns is not None
    # Oracle: the tap's egress shapes VM-inbound traffic with the flavor's HTB class.
    tap, ifb = TAPS[0], ifb_name(TAPS[0])
    assert _kinds(tc_json(ns, "qdisc", tap)) == [
        ("htb", "1:", "root"), ("pfifo", "2:", "1:1"), ("ingress", "ffff:", "ffff:fff1")]
    assert tc_json(ns, "qdisc", tap)[0]["options"]["default"] == "0x1"
    assert tc_json(ns, "qdisc", tap)[1]["options"]["limit"] == 127
    assert class_text(ns, tap) == [
        "class htb 1:1 root leaf 2: prio 0 rate 262144Kbit ceil 524288Kbit burst 128Mb "
        "cburst 640Kb"]
    # Its ingress redirects VM-outbound traffic to the IFB, shaped at bw-limiter's 3 Mbit/s.
    (node,) = [f for f in tc_json(ns, "filter", tap, "parent", "ffff:") if "actions" in
               f.get("options", {})]
    (action,) = node["options"]["actions"]
    assert (action["kind"], action["mirred_action"], action["to_dev"]) == (
        "mirred", "redirect", ifb)
    assert node["options"]["match"] == {"value": "0", "mask": "0", "offmask": "", "off": 0}
    assert links(ns)[ifb]["linkinfo"]["info_kind"] == "ifb"
    assert "UP" in links(ns)[ifb]["flags"]
    assert _kinds(tc_json(ns, "qdisc", ifb)) == [("htb", "1:", "root"), ("pfifo", "2:", "1:1")]
    assert class_text(ns, ifb) == [
        "class htb 1:1 root leaf 2: prio 0 rate 3Mbit ceil 3Mbit burst 38400b cburst 38400b"]
    # CPU shares and the disk throttle on the instance's own loop device.
    assert _cgroup(instance, "cpu", "cpu.shares") == "512"
    rdev = os.stat(instance.loop_device).st_rdev
    disk = f"{os.major(rdev)}:{os.minor(rdev)}"
    assert _cgroup(instance, "blkio", "blkio.throttle.read_bps_device") == f"{disk} 1000000"
    assert _cgroup(instance, "blkio", "blkio.throttle.write_bps_device") == f"{disk} 1024000"
    # vmqos's own reader agrees: observed == plan.
    assert reconcile(plan.desired(), observe_host_state(plan, config.host_netns)) == ()

    before = snapshot(config, instance)
    again = apply_host_plan(_plan(seed, facts, instance), netns=config.host_netns)
    assert not again.changed and again.actions == ()
    assert again.summary.startswith("no changes")
    assert snapshot(config, instance) == before


def _faster(seed: Scenario) -> Scenario:
    """m1.resquota with half the inbound average: a class change on each tap."""
    flavors = tuple(
        replace(f, extra_specs={**f.extra_specs, "quota:vif_inbound_average": "16384"})
        if f.name == "m1.resquota" else f for f in seed.flavors)
    return replace(seed, flavors=flavors)


def test_kernel_refusal_half_way_restores_the_previous_state(
        config: SandboxConfig, facts: HostFacts, seed: Scenario) -> None:
    instance = _sandbox(config, facts, seed)
    apply_host_plan(_plan(seed, facts, instance), netns=config.host_netns)
    before = snapshot(config, instance)
    # Facts that claim sfq: the plan changes the class (accepted) and swaps the pfifo leaf for
    # sfq (the leaf is deleted, then the kernel refuses the sfq) — a failure half-way.
    lying = replace(facts, qdiscs=facts.qdiscs | {"sfq"})
    plan = _plan(_faster(seed), lying, instance)
    with pytest.raises(ApplyError) as caught:
        apply_host_plan(plan, netns=config.host_netns)
    error = caught.value
    assert error.rolled_back
    assert error.command is not None and "sfq perturb 10" in error.command
    assert "Specified qdisc kind is unknown" in error.detail
    assert "rolled back" in str(error)
    assert snapshot(config, instance) == before


def test_cgroup_refusal_at_the_end_undoes_tc_links_and_cgroup(
        config: SandboxConfig, facts: HostFacts, seed: Scenario) -> None:
    instance = _sandbox(config, facts, seed)
    before = snapshot(config, instance)
    assert before["links"] == []
    # A disk that does not exist: every tc action and cpu.shares succeed, then the kernel
    # refuses the blkio write (ENODEV) — everything before it must be undone.
    bogus = replace(instance, disk="7:99999")
    plan = _plan(seed, facts, bogus)
    with pytest.raises(ApplyError) as caught:
        apply_host_plan(plan, netns=config.host_netns)
    assert caught.value.rolled_back
    assert "No such device" in str(caught.value)
    assert "blkio.throttle.read_bps_device" in str(caught.value)
    after = snapshot(config, instance)
    assert after == before
    assert _kinds(after[TAPS[0]]["qdisc"]) == [("noqueue", "0:", "root")]
    assert after["cpu/cpu.shares"] == "1024"


def test_a_stranger_named_like_an_ifb_is_refused_not_touched(
        config: SandboxConfig, facts: HostFacts, seed: Scenario) -> None:
    instance = _sandbox(config, facts, seed)
    ns = config.host_netns
    assert ns is not None
    stranger = ifb_name(TAPS[1])
    sh("ip", "-n", ns, "link", "add", stranger, "type", "veth", "peer", "name", "vqpeer0")
    try:
        with pytest.raises(PermanentHostError, match="not vmqos's ifb"):
            apply_host_plan(_plan(seed, facts, instance), netns=ns)
        assert links(ns)[stranger]["linkinfo"]["info_kind"] == "veth"
        assert not [d for d in links(ns) if d.startswith("vmqos") and d != stranger]
        assert _kinds(tc_json(ns, "qdisc", TAPS[0])) == [("noqueue", "0:", "root")]
    finally:
        sh("ip", "-n", ns, "link", "del", stranger)


def test_sandbox_objects(config: SandboxConfig, facts: HostFacts, seed: Scenario) -> None:
    instance = _sandbox(config, facts, seed, "vm_normal")
    ns = config.host_netns
    assert ns is not None
    host_links = links(ns)
    for port in instance.ports:
        assert port.tap == "tap" + port.port_id[:11]
        assert host_links[port.tap]["linkinfo"]["info_kind"] == "veth"
        guest = links(instance.netns)[port.guest_if]
        assert guest["linkinfo"]["info_kind"] == "veth"
    assert Path(instance.disk_file).stat().st_size == config.disk_bytes
    for directory in instance.cgroup_dirs:
        assert Path(directory).is_dir()
    again, created = ensure_instance(config, facts, "vm_normal",
                                     _server(seed, "vm_normal").ports)
    assert not created and again == instance
