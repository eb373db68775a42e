"""The seed lab inside the reference node (vmqos.ops.node_lab): the same `vmqos lab`, whose
host facts there show the whole kernel, so libvirt's tc program runs word for word; its rates
divided by the factor the node's measured capacity asks for, and every check judged against
the divided values.

Reference: libvirt's program is vmqos.plan.render.tc.compile_libvirt_tc; what explain predicts
is vmqos.plan.explain on the same (divided) scenario.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from node_tool import FIGURES

from support.seed import seed_scenario
from vmqos.intent.rate_scale import scale_scenario_rates
from vmqos.model import VifType
from vmqos.node.lifecycle import Node
from vmqos.ops.node_lab import run_lab_in_node
from vmqos.plan.explain.explain import explain_scenario
from vmqos.plan.nova.compile import compile_bandwidth
from vmqos.plan.render.tc import compile_libvirt_tc
from vmqos.profile import get_profile

pytestmark = pytest.mark.node

_EQUIVALENT_CODES = {"pfifo-for-sfq", "htb-default-for-fw", "ifb-for-police"}


def test_seed_lab_in_the_node_runs_libvirts_exact_program(node: Node, tmp_path: Path) -> None:
    seed = seed_scenario()
    done = run_lab_in_node(node, seed, None, out_dir=tmp_path / "report")
    context = (f"exit {done.exit_status}\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}\n"
               f"--- guest console ---\n{done.console_tail}")
    results = done.results
    assert results is not None, context
    FIGURES["seed lab in the node"] = f"{done.lab_seconds:.0f} s"
    FIGURES["seed lab rate divisor"] = (f"{done.rate_divisor} (bare veth "
                                        f"{(done.capacity_bps or 0) / 1e6:.0f} Mbit/s)")
    for verdict in results["verdicts"]:
        FIGURES[f"lab: {verdict['check']}"] = (
            f"configured {verdict['configured']:.6g}, measured {verdict['measured'] or 0:.6g} "
            f"({verdict['outcome']})")
    assert done.capacity_bps is not None and done.rate_divisor >= 1
    assert (tmp_path / "report" / "report.md").is_file()
    assert any(f"kernel {node.record.release}" in note for note in results["notes"])
    if done.rate_divisor > 1:
        assert any(f"divided by {done.rate_divisor}" in note for note in results["notes"])

    # The programs: libvirt's words on every shaped tap, nothing substituted for sfq, fw or
    # police (the kernel has them all).
    divided = scale_scenario_rates(seed, done.rate_divisor)
    quota = divided.flavor("m1.resquota").quota
    bandwidth = compile_bandwidth(quota, VifType.OVS_BRIDGE)
    shaped = [p for p in results["programs"] if p["commands"]]
    assert len(shaped) == 3, context
    for program in shaped:
        libvirt = [c.render() for c in compile_libvirt_tc(program["dev"], bandwidth,
                                                          swapped=True)]
        assert not _EQUIVALENT_CODES & set(program["codes"]), program
        # root htb, class 1:1, sfq leaf, fw filter: libvirt's lines, in libvirt's order.
        assert program["commands"][:4] == libvirt[2:6], program
        police = [c for c in program["commands"] if " police " in c]
        assert len(police) == 1 and " u32 match u32 0 0 police rate " in police[0]

    # Every check passes — except where explain, on the same divided scenario, says that the
    # policer's burst keeps TCP below the rate (the seed's bw-limiter: 100 ms of burst).
    explained = explain_scenario(divided, get_profile(divided.profile))
    starved = {port.device for server in explained.servers for port in server.ports
               if "burst-too-small-for-tcp" in {f.code for f in port.findings}}
    assert starved == {p["dev"] for p in shaped}
    for verdict in results["verdicts"]:
        # A port's outbound checks (TCP goodput, burst) are the policer's.
        policed = "outbound" in verdict["check"]
        if policed and any(tap in verdict["check"] for tap in starved):
            assert verdict["ratio"] < 0.9, json.dumps(verdict)
        else:
            assert verdict["outcome"] == "pass", f"{json.dumps(verdict)}\n{context}"
