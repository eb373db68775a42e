"""Reconcile (vmqos.reconcile.diff) and the host-state vocabulary (vmqos.reconcile.state):
minimal ordered actions, nothing for equal states, rollback as the reverse diff, and tc's
handle and tick arithmetic."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vmqos.errors import PermanentHostError
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.plan.kernel.psched import DEFAULT_PSCHED, Psched, tc_calc_xmittime
from vmqos.reconcile.diff import (
    CgroupWrite,
    LinkAction,
    TcAction,
    cgroup_write_text,
    reconcile,
    render_actions,
)
from vmqos.reconcile.facts import FULL_FACTS
from vmqos.reconcile.state import (
    CgroupValue,
    HostState,
    HtbClass,
    Link,
    Police,
    TcFilter,
    TcQdisc,
    format_tc_handle,
    size_for_ticks,
    tc_handle,
    tc_rate_text,
    tc_size_text,
)
from vmqos.reconcile.strategy import compile_host_tc
from vmqos.units import KBytesPerSec, KiB

HERE = replace(FULL_FACTS, qdiscs=frozenset({"htb", "pfifo", "ingress"}),
               classifiers=frozenset({"u32"}), actions=frozenset({"mirred"}),
               link_kinds=frozenset({"veth", "ifb"}))
SIDE = BandwidthSide(KBytesPerSec(1000), None, KiB(64))
CPU = CgroupValue("/sys/fs/cgroup/cpu/vmqos/s", "cpu.shares", "512")
DISK = CgroupValue("/sys/fs/cgroup/blkio/vmqos/s", "blkio.throttle.write_bps_device",
                   "7:3 1024000", "7:3")


def desired(facts=HERE, bandwidth=None) -> HostState:  # type: ignore[no-untyped-def]
    plan = compile_host_tc("tap0", bandwidth or Bandwidth(inbound=SIDE, outbound=SIDE), facts,
                           swapped=True)
    return HostState(plan.links, plan.objects, (CPU, DISK))


# --- equal states, from nothing, back to nothing --------------------------------------------


def test_equal_states_give_no_actions() -> None:
    want = desired()
    assert reconcile(want, want) == ()
    # observed objects carry no spelling: still equal (kernel values only)
    observed = replace(want, tc=tuple(replace(o, spec=()) for o in want.tc))
    assert reconcile(want, observed) == ()


def test_from_nothing_links_first_then_tc_in_creation_order_then_cgroup() -> None:
    want = desired()
    empty = HostState((), (), (replace(CPU, value="1024"), replace(DISK, value="")))
    actions = reconcile(want, empty)
    kinds = [type(a).__name__ for a in actions]
    assert kinds == ["LinkAction", "LinkAction", *["TcAction"] * 8, "CgroupWrite",
                     "CgroupWrite"]
    assert [a.op for a in actions[:2] if isinstance(a, LinkAction)] == ["add", "up"]
    tc = [a for a in actions if isinstance(a, TcAction)]
    assert all(a.op == "add" for a in tc)
    assert [a.obj for a in tc] == list(want.tc)
    assert render_actions(actions[-2:]) == [
        "echo '512' > /sys/fs/cgroup/cpu/vmqos/s/cpu.shares",
        "echo '7:3 1024000' > /sys/fs/cgroup/blkio/vmqos/s/blkio.throttle.write_bps_device"]


def test_back_to_nothing_deletes_top_qdiscs_only_and_links_last() -> None:
    have = desired()
    want = HostState((), (), (replace(CPU, value="1024"), replace(DISK, value="")))
    actions = reconcile(want, have)
    assert render_actions(actions) == [
        "tc qdisc del dev tap0 root",
        "tc qdisc del dev tap0 ingress",
        f"tc qdisc del dev {have.links[0].name} root",
        "echo '1024' > /sys/fs/cgroup/cpu/vmqos/s/cpu.shares",
        "echo '7:3 0' > /sys/fs/cgroup/blkio/vmqos/s/blkio.throttle.write_bps_device",
        f"ip link del {have.links[0].name}",
    ]


# --- minimal changes in place ----------------------------------------------------------------


def test_rate_change_is_one_class_change_per_device() -> None:
    have = desired()
    faster = BandwidthSide(KBytesPerSec(2000), None, KiB(64))
    want = desired(bandwidth=Bandwidth(inbound=faster, outbound=SIDE))
    actions = reconcile(want, have)
    assert len(actions) == 1
    (action,) = actions
    assert isinstance(action, TcAction) and action.op == "change"
    assert action.render().startswith("tc class change dev tap0 parent 1: classid 1:1 htb "
                                      "rate 2000kbps")


def test_leaf_change_replaces_the_leaf_only() -> None:
    have = desired()
    want = desired(facts=replace(HERE, qdiscs=HERE.qdiscs | {"sfq"}))
    lines = render_actions(reconcile(want, have))
    # both the tap's and the IFB's leaf become sfq; nothing else moves
    assert lines[0] == "tc qdisc del dev tap0 parent 1:1 handle 2:"
    assert lines[1] == "tc qdisc add dev tap0 parent 1:1 handle 2: sfq perturb 10"
    assert len(lines) == 4 and all("handle 2:" in line for line in lines)


def test_wrong_top_qdisc_rebuilds_its_tree_only() -> None:
    want = desired()
    tbf = TcQdisc("tap0", "root", "8001:", "tbf")
    have = replace(want, tc=(tbf, *(o for o in want.tc if o.dev != "tap0" or
                                    (isinstance(o, TcQdisc | TcFilter) and
                                     (getattr(o, "parent", "") in ("ingress", "ffff:"))))))
    lines = render_actions(reconcile(want, have))
    assert lines[0] == "tc qdisc del dev tap0 root"
    assert [line.split(" dev tap0 ")[0] for line in lines[1:]] == [
        "tc qdisc add", "tc class add", "tc qdisc add"]


def test_stray_filter_and_class_are_deleted_filters_first() -> None:
    want = desired()
    stray_filter = TcFilter("tap0", "1:", 5, "u32", classid=0x10001)
    stray_class = replace(next(o for o in want.tc if isinstance(o, HtbClass)), classid="1:5")
    have = replace(want, tc=(*want.tc, stray_class, stray_filter))
    assert render_actions(reconcile(want, have)) == [
        "tc filter del dev tap0 parent 1: protocol all prio 5",
        "tc class del dev tap0 classid 1:5",
    ]


def test_a_stranger_with_an_ifb_name_is_never_adopted() -> None:
    want = desired()
    have = replace(want, links=(Link(want.links[0].name, "veth"),))
    with pytest.raises(PermanentHostError, match="not vmqos's ifb"):
        reconcile(want, have)


def test_down_ifb_is_set_up() -> None:
    want = desired()
    have = replace(want, links=(replace(want.links[0], up=False),))
    assert render_actions(reconcile(want, have)) == [f"ip link set {want.links[0].name} up"]


def test_rollback_is_the_reverse_diff() -> None:
    before = desired()
    after = desired(facts=replace(HERE, qdiscs=HERE.qdiscs | {"sfq"}))
    undo = reconcile(before, after)
    # applying the undo to `after`, object by object, gives `before` back
    state = {o.key: o for o in after.tc}
    for action in undo:
        assert isinstance(action, TcAction)
        if action.op == "del":
            del state[action.obj.key]
        else:
            state[action.obj.key] = action.obj
    assert sorted(map(repr, state.values())) == sorted(map(repr, before.tc))


def test_cgroup_write_text() -> None:
    assert cgroup_write_text(CPU) == "512"
    assert cgroup_write_text(replace(DISK, value="")) == "7:3 0"
    io = CgroupValue("/x", "io.max", "", "7:3")
    assert cgroup_write_text(io) == "7:3 rbps=max wbps=max riops=max wiops=max"
    write = CgroupWrite(CPU, "512")
    assert write.path == "/sys/fs/cgroup/cpu/vmqos/s/cpu.shares"


# --- vocabulary --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value", "printed"), [
    ("1:1", 0x10001, "1:1"), ("1:", 0x10000, "1:"), ("ffff:", 0xFFFF0000, "ffff:"),
    (":1", 0x1, ":1"), ("1", 0x1, ":1"),   # libvirt's `flowid 1` is class 0:1, like `:1`
    ("1:0", 0x10000, "1:"), ("root", 0xFFFFFFFF, "root"), ("a:b", 0xA000B, "a:b"),
])
def test_tc_handles_as_iproute2_reads_and_prints_them(text: str, value: int,
                                                      printed: str) -> None:
    assert tc_handle(text) == value
    assert format_tc_handle(value) == printed


@pytest.mark.parametrize(("rate", "text"), [(32_768_000, "32768kbps"), (375_000, "375kbps"),
                                            (1_234_567, "1234567bps")])
def test_rate_text(rate: int, text: str) -> None:
    assert tc_rate_text(rate) == text


@pytest.mark.parametrize(("size", "text"), [(134_217_728, "131072kb"), (38_400, "38400b"),
                                            (65_536, "64kb")])
def test_size_text(size: int, text: str) -> None:
    assert tc_size_text(size) == text


@given(rate=st.integers(1, 10**10), size=st.integers(0, 2**31))
def test_size_for_ticks_recreates_the_same_ticks(rate: int, size: int) -> None:
    # below tc's u32 wrap: a burst of at most 274 s of the rate (any real burst)
    assume(size <= rate * 274)
    ticks = tc_calc_xmittime(rate, size)
    again = size_for_ticks(rate, ticks, DEFAULT_PSCHED)
    assert tc_calc_xmittime(rate, again) == ticks
    assert again <= size


def test_observed_objects_render_their_kernel_values() -> None:
    cls = HtbClass("d", "1:1", "1:", 375_000, 375_000, tc_calc_xmittime(375_000, 38_400),
                   tc_calc_xmittime(375_000, 38_400), 1514)
    assert cls.add_argv() == ["class", "add", "dev", "d", "parent", "1:", "classid", "1:1",
                              "htb", "rate", "375kbps", "ceil", "375kbps", "burst", "38400b",
                              "cburst", "38400b", "quantum", "1514"]
    police = TcFilter("d", "ffff:", 0xC000, "u32", classid=1,
                      action=Police(32_768_000, tc_calc_xmittime(32_768_000, 1 << 27), 65536))
    assert " ".join(police.add_argv()) == (
        "filter add dev d parent ffff: protocol all prio 49152 u32 match u32 0 0 police rate "
        "32768kbps burst 131072kb mtu 64kb drop flowid :1")
    odd = Psched(0x3E8, 0x40, 0xF4240, 0x64)
    assert replace(cls, psched=odd).add_argv() == cls.add_argv()
