"""The host strategy (vmqos.reconcile.strategy, host_plan): libvirt's program where the kernel
offers it, the equivalent one where it does not, explicit bursts, and whole-instance plans.

Reference: libvirt's program is vmqos.plan.render.tc's (itself checked against libvirt's unit-test
vectors in test_tc.py); the kernel kinds of "this host" are ENVIRONMENT.md's measured table.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from support.libvirt_vectors import side
from support.seed import RESQUOTA_BANDWIDTH, seed_scenario
from vmqos.errors import PermanentHostError, UnsupportedError, ValidationError
from vmqos.intent.scenario import Scenario
from vmqos.intent.scenario_parse import parse_scenario
from vmqos.libvirt_types import Bandwidth, IoTune
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer
from vmqos.plan.kernel.psched import DEFAULT_PSCHED, htb_buffer_roundtrip, tc_calc_xmittime
from vmqos.plan.render.tc import compile_libvirt_tc, render_command
from vmqos.profile import CgroupVersion, get_profile
from vmqos.reconcile.facts import FULL_FACTS, HostFacts
from vmqos.reconcile.host_plan import SandboxLayout, compile_host_plan, disk_limits
from vmqos.reconcile.state import HtbClass, Link, Police, Redirect, TcFilter, TcQdisc
from vmqos.reconcile.strategy import (
    PFIFO_LIMIT,
    compile_host_tc,
    derive_burst,
    ifb_name,
)
from vmqos.units import BitsPerSec, Bytes

# What this machine's kernel offers (ENVIRONMENT.md): no sfq, fw, police.
HERE = replace(FULL_FACTS, qdiscs=frozenset({"htb", "tbf", "pfifo", "ingress", "clsact"}),
               classifiers=frozenset({"u32"}), actions=frozenset({"mirred"}),
               link_kinds=frozenset({"veth", "ifb"}), probed=True)


def lines(plan_objects: tuple[object, ...]) -> list[str]:
    return [render_command("tc", obj.add_argv()) for obj in plan_objects]  # type: ignore[attr-defined]


# --- libvirt's own program where the kernel offers it --------------------------------------


def test_full_support_chooses_libvirts_program_word_for_word() -> None:
    plan = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, FULL_FACTS, swapped=True)
    assert plan.strategy == "libvirt-exact"
    assert plan.ifb is None and plan.links == ()
    assert lines(plan.objects) == [
        "tc qdisc add dev tapX root handle 1: htb default 1",
        "tc class add dev tapX parent 1: classid 1:1 htb rate 32768kbps ceil 65536kbps "
        "burst 131072kb quantum 2796",
        "tc qdisc add dev tapX parent 1:1 handle 2: sfq perturb 10",
        "tc filter add dev tapX parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate "
        "32768kbps burst 131072kb mtu 64kb drop flowid :1",
    ]
    # ... which is libvirt's program, without its two clearing deletes (the reconciler
    # deletes only what it finds).
    libvirt = [c.render() for c in compile_libvirt_tc("tapX", RESQUOTA_BANDWIDTH, swapped=True)]
    assert lines(plan.objects) == libvirt[2:]
    assert {s.code for s in plan.substitutions} == {"peak-ignored"}
    # The class keeps tc's default cburst, as `tc class show` then prints it: ceil/HZ + 1600 B.
    htb = next(o for o in plan.objects if isinstance(o, HtbClass))
    assert htb.cbuffer == tc_calc_xmittime(65536000, 65536000 // 10**9 + 1600)


def test_a_kernel_without_one_of_libvirts_kinds_gets_explicit_bursts() -> None:
    facts = replace(FULL_FACTS, classifiers=frozenset({"u32"}))     # no fw
    assert FULL_FACTS.runs_libvirt_tc and not facts.runs_libvirt_tc
    plan = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, facts, swapped=True)
    assert "cburst 640kb" in lines(plan.objects)[1]
    assert {"cburst-derived", "htb-default-for-fw"} <= {s.code for s in plan.substitutions}


@pytest.mark.parametrize(("bandwidth", "swapped", "shaped", "policed"), [
    (Bandwidth(inbound=side(1024)), True, Direction.INBOUND, None),
    (Bandwidth(outbound=side(1024)), True, None, Direction.OUTBOUND),
    (Bandwidth(inbound=side(100, 200, 300), outbound=side(10, 20, 30)), False,
     Direction.OUTBOUND, Direction.INBOUND),
])
def test_full_support_places_sides_like_libvirt(
        bandwidth: Bandwidth, swapped: bool, shaped: Direction | None,
        policed: Direction | None) -> None:
    plan = compile_host_tc("tapX", bandwidth, FULL_FACTS, swapped=swapped)
    assert plan.strategy == "libvirt-exact"
    kinds = {(type(o).__name__, getattr(o, "kind", "")) for o in plan.objects}
    assert (("TcQdisc", "htb") in kinds) == (shaped is not None)
    assert (("TcFilter", "u32") in kinds) == (policed is not None)
    mechanisms = {limit.direction: str(limit.mechanism) for limit in plan.enforced}
    if shaped is not None:
        assert mechanisms[shaped] == "htb class 1:1"
    if policed is not None:
        assert mechanisms[policed] == "u32 police"


def test_police_filter_keeps_libvirts_auto_priority_and_kernel_values() -> None:
    plan = compile_host_tc("tapX", Bandwidth(outbound=side(32768)), FULL_FACTS, swapped=True)
    police = plan.objects[-1]
    assert isinstance(police, TcFilter)
    assert "prio" not in police.spec                     # libvirt gives none ...
    assert police.prio == 0xC000                         # ... so the kernel picks 49152
    assert police.action == Police(32768000, tc_calc_xmittime(32768000, 32768 * 1024),
                                   65536, 2)
    # libvirt's police burst without a burst: average KiB (police_burst), not derived.
    assert "32768kb" in police.spec
    assert not any(s.code == "burst-derived" for s in plan.substitutions)


# --- the equivalent program where it does not ----------------------------------------------


def test_this_kernel_substitutes_pfifo_default_class_and_ifb() -> None:
    plan = compile_host_tc("tapbb8410ad-a0", RESQUOTA_BANDWIDTH, HERE, swapped=True)
    ifb = ifb_name("tapbb8410ad-a0")
    assert plan.strategy == "equivalent"
    assert plan.ifb == ifb and plan.links == (Link(ifb, "ifb", True),)
    assert lines(plan.objects) == [
        "tc qdisc add dev tapbb8410ad-a0 root handle 1: htb default 1",
        "tc class add dev tapbb8410ad-a0 parent 1: classid 1:1 htb rate 32768kbps ceil "
        "65536kbps burst 131072kb cburst 640kb quantum 2796",
        f"tc qdisc add dev tapbb8410ad-a0 parent 1:1 handle 2: pfifo limit {PFIFO_LIMIT}",
        "tc qdisc add dev tapbb8410ad-a0 ingress",
        "tc filter add dev tapbb8410ad-a0 parent ffff: protocol all prio 1 u32 match u32 0 0 "
        f"action mirred egress redirect dev {ifb}",
        f"tc qdisc add dev {ifb} root handle 1: htb default 1",
        # the policer's rate and burst; no peak (police has none); cburst = burst.
        f"tc class add dev {ifb} parent 1: classid 1:1 htb rate 32768kbps burst 131072kb "
        "cburst 131072kb quantum 1514",
        f"tc qdisc add dev {ifb} parent 1:1 handle 2: pfifo limit {PFIFO_LIMIT}",
    ]
    codes = [s.code for s in plan.substitutions]
    for code in ("pfifo-for-sfq", "htb-default-for-fw", "ifb-for-police", "peak-ignored"):
        assert code in codes
    assert all(s.text for s in plan.substitutions)
    outbound = next(x for x in plan.enforced if x.direction is Direction.OUTBOUND)
    assert str(outbound.mechanism) == f"htb class 1:1 on IFB {ifb} (via u32 mirred)"
    assert outbound.rate == 262_144_000 and outbound.burst == 134_217_728


def test_police_present_but_no_sfq_or_fw() -> None:
    facts = replace(FULL_FACTS, qdiscs=frozenset({"htb", "pfifo", "ingress"}),
                    classifiers=frozenset({"u32"}))
    plan = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, facts, swapped=True)
    assert plan.ifb is None
    assert {s.code for s in plan.substitutions} >= {"pfifo-for-sfq", "htb-default-for-fw"}
    assert any(isinstance(o, TcFilter) and isinstance(o.action, Police) for o in plan.objects)


@pytest.mark.parametrize(("missing", "message"), [
    ({"link_kinds": frozenset()}, "'ifb'"),
    ({"actions": frozenset()}, "'mirred'"),
    ({"qdiscs": frozenset({"pfifo", "ingress"})}, "'htb'"),
])
def test_no_equivalent_is_unsupported(missing: dict[str, frozenset[str]], message: str) -> None:
    with pytest.raises(UnsupportedError, match=message):
        compile_host_tc("tapX", RESQUOTA_BANDWIDTH, replace(HERE, **missing), swapped=True)  # type: ignore[arg-type]


def test_ifb_names_are_deterministic_prefixed_and_fit_ifnamsiz() -> None:
    names = {ifb_name(f"tap{i:011x}") for i in range(2000)}
    assert len(names) == 2000
    assert all(n.startswith("vmqos") and len(n) == 15 for n in names)
    # Stable across versions: cleanup and apply find stale IFBs by this very name.
    assert ifb_name("tapbb8410ad-a0") == "vmqos051e76b30d"


# --- explicit bursts ----------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "mtu", "expected"), [
    (125_000, 1500, 3028),             # 1 Mbit/s: 10 ms is 1250 B < two 1514-byte frames
    (375_000, 1500, 3750),             # 3 Mbit/s: 10 ms
    (32_768_000, 1500, 327_680),       # 262 Mbit/s: 10 ms
    (125_000, 9000, 18_028),           # jumbo frames: two of them
    (1 << 40, 1500, 0xFFFF_FFFF),      # capped at tc's u32 byte count
])
def test_derive_burst(rate: int, mtu: int, expected: int) -> None:
    assert derive_burst(rate, mtu) == expected


def test_libvirts_program_without_a_burst_keeps_tcs_default() -> None:
    plan = compile_host_tc("tapX", Bandwidth(inbound=side(1000)), FULL_FACTS, swapped=True)
    cls = next(o for o in plan.objects if isinstance(o, HtbClass))
    assert cls.spec == ("parent", "1:", "classid", "1:1", "htb", "rate", "1000kbps",
                        "quantum", "85")
    default = 1_000_000 // DEFAULT_PSCHED.hz + 1600
    assert cls.buffer == cls.cbuffer == tc_calc_xmittime(1_000_000, default)
    inbound = next(x for x in plan.enforced if x.direction is Direction.INBOUND)
    assert inbound.burst == htb_buffer_roundtrip(1_000_000, default)
    assert plan.substitutions == ()


def test_missing_burst_is_derived_never_tcs_one_mtu_default() -> None:
    # The equivalent program (this machine's kernel): vmqos's own program, explicit bursts.
    plan = compile_host_tc("tapX", Bandwidth(inbound=side(1000)), HERE, swapped=True)
    cls = next(o for o in plan.objects if isinstance(o, HtbClass))
    assert "burst" in cls.spec and "cburst" in cls.spec
    assert cls.buffer == tc_calc_xmittime(1_000_000, 10_000)      # 10 ms of 1 MB/s
    assert cls.cbuffer == cls.buffer                              # no peak: cburst = burst
    note = next(s for s in plan.substitutions if s.code == "burst-derived")
    assert "10000 B" in note.text and "about one MTU" in note.text
    # tc's own default here would be rate/HZ + 1600 B, after the tick round trip:
    default = htb_buffer_roundtrip(1_000_000, 1_000_000 // DEFAULT_PSCHED.hz + 1600)
    assert f"({default} B here" in note.text


def test_average_zero_installs_nothing_and_says_so() -> None:
    plan = compile_host_tc("tapX", Bandwidth(inbound=side(0, 100), outbound=side(0)),
                           HERE, swapped=True)
    assert plan.objects == () and plan.strategy == "none"
    assert [s.code for s in plan.substitutions] == ["average-zero", "average-zero"]


# --- another enforcer's limit on the tap ---------------------------------------------------


def test_override_enforces_a_neutron_limit_with_its_own_bytes() -> None:
    ovs = Limit(enforcer=Enforcer.OVS_AGENT, direction=Direction.OUTBOUND, device="{tap}",
                mechanism=Mechanism(MechanismKind.LIBVIRT_OVS_POLICING),
                source="policy bw-limiter",
                rate=BitsPerSec(3_000_000), burst=Bytes(38_400))
    plan = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, FULL_FACTS, swapped=True,
                           overrides={Direction.OUTBOUND: ovs})
    police = plan.objects[-1]
    assert isinstance(police, TcFilter) and isinstance(police.action, Police)
    assert police.action.rate == 375_000
    assert "375kbps" in police.spec and "38400b" in police.spec
    assert plan.strategy == "equivalent"
    here = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, HERE, swapped=True,
                           overrides={Direction.OUTBOUND: ovs, Direction.INBOUND: None})
    assert [type(o).__name__ for o in here.objects] == [
        "TcQdisc", "TcFilter", "TcQdisc", "HtbClass", "TcQdisc"]
    assert isinstance(here.objects[1], TcFilter)
    assert here.objects[1].action == Redirect(ifb_name("tapX"))


# --- whole-instance plans ------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Scenario:
    return seed_scenario()


def _layout(scenario: Scenario, name: str, disk: str | None = "7:3") -> SandboxLayout:
    server = next(s for s in scenario.servers if s.name == name)
    return SandboxLayout(name, tuple(scenario.port(p).tap for p in server.ports),
                         f"vmqos-test/{name}", disk)


def _plan(scenario: Scenario, name: str, facts: HostFacts, disk: str | None = "7:3"):  # type: ignore[no-untyped-def]
    server = next(s for s in scenario.servers if s.name == name)
    return compile_host_plan(scenario, server, get_profile(scenario.profile), facts,
                             _layout(scenario, name, disk))


def test_seed_resquota_enforces_explains_effective_limits(seed: Scenario) -> None:
    plan = _plan(seed, "vm_resquota", HERE)
    assert len(plan.ports) == 3
    for port in plan.ports:
        by_dir = {limit.direction: limit for limit in port.enforced}
        # inbound: the flavor's libvirt HTB; outbound: bw-limiter (the OVS agent is the last
        # writer of the tap's ingress), 3 Mbit/s and 300 kbit = 38400 B (OVS's 1024-bit kbit).
        assert by_dir[Direction.INBOUND].rate == 262_144_000
        assert by_dir[Direction.INBOUND].peak == 524_288_000
        assert by_dir[Direction.OUTBOUND].rate == 3_000_000
        assert by_dir[Direction.OUTBOUND].burst == 38_400
        assert "enforcer-on-tap" in {s.code for s in port.substitutions}
    values = {(v.file, v.value) for v in plan.cgroup}
    assert ("cpu.shares", "512") in values
    assert ("blkio.throttle.read_bps_device", "7:3 1000000") in values
    assert ("blkio.throttle.write_bps_device", "7:3 1024000") in values
    assert ("blkio.throttle.read_iops_device", "") in values
    assert plan.cgroup_dirs == ("/sys/fs/cgroup/cpu/vmqos-test/vm_resquota",
                                "/sys/fs/cgroup/blkio/vmqos-test/vm_resquota")
    assert "blkio-for-qemu" in {s.code for s in plan.substitutions}
    assert plan.disk_limits == {"rbps": 1000000, "wbps": 1024000}


def test_seed_normal_has_nova_default_shares_and_no_tc(seed: Scenario) -> None:
    plan = _plan(seed, "vm_normal", HERE)
    assert all(port.objects == () for port in plan.ports)
    assert {(v.file, v.value) for v in plan.cgroup} >= {
        ("cpu.shares", "1024"), ("cpu.cfs_quota_us", "-1"), ("cpu.cfs_period_us", "100000"),
        ("blkio.throttle.write_bps_device", "")}
    assert plan.desired().tc == ()


def test_cgroup_v2_weight_and_io_max(seed: Scenario) -> None:
    v2 = replace(HERE, cgroup_version=CgroupVersion.V2, cgroup2_mount="/sys/fs/cgroup",
                 cgroup_v1_mounts=())
    plan = _plan(seed, "vm_resquota", v2)
    assert plan.cgroup_dirs == ("/sys/fs/cgroup/vmqos-test/vm_resquota",)
    values = {v.file: v.value for v in plan.cgroup}
    assert values["cpu.weight"] == "512"          # pike-rhel7: libvirt passes shares through
    assert values["cpu.max"] == "max 100000"
    assert values["io.max"] == "7:3 rbps=1000000 wbps=1024000 riops=max wiops=max"
    assert plan.disk_limits == {"rbps": 1000000, "wbps": 1024000}
    assert _plan(seed, "vm_normal", v2).disk_limits == {}


def test_quota_becomes_an_instance_quota_times_vcpus() -> None:
    scenario = parse_scenario({
        "profile": "modern",
        "flavors": [{"name": "f", "vcpus": 2, "properties": {
            "quota:cpu_quota": "50000", "quota:cpu_period": "100000",
            "quota:disk_total_bytes_sec": "2000000", "quota:disk_read_bytes_sec": "3000000"}}],
        "networks": [{"name": "n"}],
        "ports": [{"id": "11111111-2222-3333-4444-555555555555", "network": "n"}],
        "servers": [{"name": "s", "flavor": "f", "image": "i",
                     "ports": ["11111111-2222-3333-4444-555555555555"]}],
    })
    plan = compile_host_plan(scenario, scenario.servers[0], get_profile("modern"), HERE,
                             SandboxLayout("s", ("tap11111111-22",), "vmqos-test/s", "7:0"))
    values = {v.file: v.value for v in plan.cgroup}
    assert values["cpu.cfs_quota_us"] == "100000"
    assert values["cpu.cfs_period_us"] == "100000"
    assert values["cpu.shares"] == "1024"         # modern Nova: no default shares
    assert values["blkio.throttle.read_bps_device"] == "7:0 2000000"   # min(read, total)
    assert values["blkio.throttle.write_bps_device"] == "7:0 2000000"  # total alone
    codes = {s.code for s in plan.substitutions}
    assert {"quota-per-instance", "disk-total-split"} <= codes


def test_libvirt_refusals_are_kept(seed: Scenario) -> None:
    bad = replace(seed, flavors=tuple(
        replace(f, extra_specs={**f.extra_specs, "quota:cpu_shares": "0"})
        if f.name == "m1.resquota" else f for f in seed.flavors))
    with pytest.raises(ValidationError, match="shares '0' must be in range"):
        _plan(bad, "vm_resquota", HERE)


def test_layout_must_hold_every_tap(seed: Scenario) -> None:
    server = next(s for s in seed.servers if s.name == "vm_resquota")
    with pytest.raises(ValidationError, match="has no tap"):
        compile_host_plan(seed, server, get_profile(seed.profile), HERE,
                          SandboxLayout("vm_resquota", ("tapother",), "x/y"))


def test_disk_limits_ignore_qemus_zero() -> None:
    assert disk_limits(IoTune(read_bytes_sec=0, write_iops_sec=5, total_iops_sec=3)) == {
        "riops": 3, "wiops": 3}
    assert disk_limits(None) == {}


def test_qdisc_and_class_objects_compare_by_kernel_value_not_spelling() -> None:
    a = HtbClass.build("d", "1:1", "1:", rate=1_000_000, ceil=1_000_000, burst=10240,
                       cburst=10240, quantum=1514, psched=DEFAULT_PSCHED)
    b = replace(a, spec=("parent", "1:", "classid", "1:1", "htb", "rate", "8mbit"))
    assert a == b
    assert TcQdisc("d", "root", "1:", "htb", (("default", 1),), ("x",)) == \
        TcQdisc("d", "root", "1:", "htb", (("default", 1),))


# --- host facts as data ----------------------------------------------------------------------


@pytest.mark.parametrize("facts", [
    FULL_FACTS, HERE,
    replace(HERE, cgroup_version=CgroupVersion.V2, cgroup2_mount="/sys/fs/cgroup",
            cgroup_v1_mounts=(),
            cgroup_controllers=frozenset({"cpu", "io"}), systemd=True, pid1="systemd"),
])
def test_host_facts_json_round_trip(facts: HostFacts) -> None:
    text = json.dumps(facts.to_json())
    assert HostFacts.from_json(json.loads(text)) == facts


def test_host_facts_paths_and_psched() -> None:
    assert HERE.cgroup_dir("cpu", "vmqos/s") == "/sys/fs/cgroup/cpu/vmqos/s"
    assert HERE.cgroup_dir("blkio", "vmqos/s") == "/sys/fs/cgroup/blkio/vmqos/s"
    v2 = replace(HERE, cgroup_version=CgroupVersion.V2, cgroup2_mount="/sys/fs/cgroup/unified")
    assert v2.cgroup_dir("blkio", "vmqos/s") == "/sys/fs/cgroup/unified/vmqos/s"
    with pytest.raises(PermanentHostError, match="'memory' controller is not mounted"):
        HERE.cgroup_dir("memory", "x")
    assert HERE.psched == DEFAULT_PSCHED
    assert replace(HERE, psched_text="").psched == DEFAULT_PSCHED
    with pytest.raises(ValidationError, match="unknown host facts field"):
        HostFacts.from_json({"qdisc": ["htb"]})


def test_a_host_without_cgroup_controllers_is_a_host_error(seed: Scenario) -> None:
    bare = replace(HERE, cgroup_version=CgroupVersion.V1, cgroup_v1_mounts=())
    with pytest.raises(PermanentHostError, match="no cgroup v1 cpu and blkio") as err:
        _plan(seed, "vm_resquota", bare)
    assert (err.value.exit_code, err.value.http_status) == (1, 503)


# --- the cbursts this plan installs (what vmqos.plan.predict needs beside each Limit) ---------


def test_cburst_of_each_htb_class_the_plan_installs() -> None:
    plan = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, HERE, swapped=True)
    inbound, outbound = (next(x for x in plan.enforced if x.direction is d)
                         for d in (Direction.INBOUND, Direction.OUTBOUND))
    # With a peak: 10 ms at the 524.288 Mbit/s ceiling. On the IFB (no peak): the burst.
    assert plan.cburst(inbound, DEFAULT_PSCHED) == 655_360
    assert outbound.mechanism.kind is MechanismKind.TC_HTB_ON_IFB
    assert plan.cburst(outbound, DEFAULT_PSCHED) == outbound.burst
    police = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, FULL_FACTS, swapped=True)
    (policer,) = [x for x in police.enforced if x.direction is Direction.OUTBOUND]
    assert police.cburst(policer, DEFAULT_PSCHED) is None


def test_predicted_goodput_of_the_sandbox_seed() -> None:
    # This host's program for the seed inbound: the 655 360 B cburst passes at once, then the
    # rest of the 128 MiB drains at ceil - rate; outbound the IFB's HTB, cburst = burst.
    plan = compile_host_tc("tapX", RESQUOTA_BANDWIDTH, HERE, swapped=True)
    factor = 1448 / 1514
    inbound = plan.predict_tcp(Direction.INBOUND, DEFAULT_PSCHED)
    assert inbound is not None
    at_once, burst, steady = inbound.phases
    assert at_once.amount == pytest.approx(655_360 * factor)
    assert burst.duration == pytest.approx((134_217_728 - 655_360) / 32_768_000)
    assert (burst.rate, steady.rate) == (pytest.approx(65_536_000 * factor),
                                         pytest.approx(32_768_000 * factor))
    outbound = plan.predict_tcp(Direction.OUTBOUND, DEFAULT_PSCHED)
    assert outbound is not None
    assert [p.rate is None for p in outbound.phases] == [True, False]
    assert outbound.steady == pytest.approx(32_768_000 * factor)
    assert compile_host_tc("tapX", None, HERE, swapped=True).predict_tcp(
        Direction.INBOUND, DEFAULT_PSCHED) is None
