"""The whole plan for the seed servers reproduces the note's recorded artifacts."""

from __future__ import annotations

import re

import pytest

from support.seed import NOTE, note_output, qemu_drive_option, seed_scenario
from vmqos.intent.scenario import Scenario
from vmqos.plan.server_plan import ServerPlan, compile_server_plan, render_server_plan_text
from vmqos.profile import get_profile


@pytest.fixture(scope="module")
def seed() -> Scenario:
    return seed_scenario()


def plan_for(seed: Scenario, name: str) -> ServerPlan:
    server = next(s for s in seed.servers if s.name == name)
    return compile_server_plan(seed, server, get_profile("pike-rhel7"))


@pytest.mark.parametrize(("server", "flavor"), [("vm_normal", "m1.normal"),
                                                ("vm_resquota", "m1.resquota")])
def test_qemu_drive_equals_the_seed(seed: Scenario, server: str, flavor: str) -> None:
    assert plan_for(seed, server).qemu == ("-drive " + qemu_drive_option(flavor),)


@pytest.mark.parametrize(("server", "domain", "shares"), [
    ("vm_normal", 11, "1024"), ("vm_resquota", 10, "512")])
def test_cgroup_write_equals_the_seed(seed: Scenario, server: str, domain: int,
                                      shares: str) -> None:
    instance = "instance-00000042" if domain == 11 else "instance-00000041"
    path = ("/sys/fs/cgroup/cpu/machine.slice/machine-qemu\\x2d"
            f"{domain}\\x2d{instance.replace('-', chr(92) + 'x2d')}.scope/cpu.shares")
    # The note shows the path as typed in a shell (backslashes doubled).
    assert f"cat {path.replace(chr(92), chr(92) * 2)}" in NOTE.read_text()
    assert any(path in line and shares in line for line in plan_for(seed, server).cgroup)


def test_resquota_tc_program_and_show_equal_the_seed(seed: Scenario) -> None:
    iface = plan_for(seed, "vm_resquota").interfaces[0]
    dev = "tapbb8410ad-a0"
    assert iface.dev == dev
    assert iface.libvirt_tc == (
        f"tc qdisc del dev {dev} root",
        f"tc qdisc del dev {dev} ingress",
        f"tc qdisc add dev {dev} root handle 1: htb default 1",
        f"tc class add dev {dev} parent 1: classid 1:1 htb rate 32768kbps ceil 65536kbps "
        "burst 131072kb quantum 2796",
        f"tc qdisc add dev {dev} parent 1:1 handle 2: sfq perturb 10",
        f"tc filter add dev {dev} parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
        f"tc qdisc add dev {dev} ingress",
        f"tc filter add dev {dev} parent ffff: protocol all u32 match u32 0 0 police rate "
        "32768kbps burst 131072kb mtu 64kb drop flowid :1",
    )
    recorded = (note_output(f"tc qdisc show dev {dev}") + note_output(f"tc class show dev {dev}")
                + note_output(f"tc filter show dev {dev}"))
    # direct_packets_stat counts packets seen before the class existed: traffic-dependent.
    assert [re.sub(r"direct_packets_stat \d+", "direct_packets_stat N", line)
            for line in iface.tc_show] == [
        re.sub(r"direct_packets_stat \d+", "direct_packets_stat N", line) for line in recorded]
    assert iface.neutron_policy == "bw-limiter"
    assert f"ovs-vsctl set Interface {dev} ingress_policing_rate=3000 " \
           "ingress_policing_burst=300" in iface.neutron_commands


def test_normal_tap_shows_the_default_qdisc(seed: Scenario) -> None:
    iface = plan_for(seed, "vm_normal").interfaces[0]
    assert iface.libvirt_tc == ()
    assert list(iface.tc_show) == note_output("tc qdisc show dev tapb614c1d3-75")


def test_plan_text_has_every_section(seed: Scenario) -> None:
    text = render_server_plan_text(plan_for(seed, "vm_resquota"))
    for heading in ("# libvirt domain XML (Nova)", "# QEMU block throttling (-drive options)",
                    "# cgroup writes", "# interface tapbb8410ad-a0", "## libvirt: tc",
                    "## tc show dev tapbb8410ad-a0", "## Neutron ovs: policy bw-limiter"):
        assert heading in text
    assert "<shares>512</shares>" in text


def test_modern_profile_uses_qmp_and_ovsdb(seed: Scenario) -> None:
    server = next(s for s in seed.servers if s.name == "vm_resquota")
    plan = compile_server_plan(seed, server, get_profile("modern"))
    assert plan.qemu_throttle == "qmp"
    assert '"execute":"block_set_io_throttle"' in plan.qemu[0]
    iface = plan.interfaces[0]
    assert iface.libvirt_tc == ()
    assert iface.libvirt_ovs and all(c.startswith("ovs-vsctl --timeout=5 ")
                                     for c in iface.libvirt_ovs)
