"""Benchmark: full VIF QoS on N taps, applied three ways in the same run, against the targets.

Run as root from the repository root::

    .venv/bin/python benchmarks/apply.py [--taps N] [--json]

The targets, with N = 1000 taps, both directions shaped on each:
vmqos apply <= 1.5 x the same commands through one ``tc -batch``; vmqos apply >= 10 x faster
than the same commands run one process per command (as libvirt runs tc); a no-op re-apply of
all N taps <= 0.5 s. The script prints the times, the ratios and a PASS/BELOW verdict per
target; it always exits 0 (a benchmark reports, it does not fail CI).

Setup (not timed): a throwaway namespace ``vmqos-bench-<hex>`` holding N veth pairs whose
host ends carry Nova tap names, and one host plan for them with the seed's m1.resquota
bandwidth (262 Mbit/s in, 262 Mbit/s out, 128 MiB bursts) compiled for this host's probed
facts — on a kernel without ``police``/``sfq``/``fw`` that is an HTB tree with a pfifo leaf on
each tap, plus an IFB per tap with its own HTB tree fed by u32 + mirred: 2 link commands and
8 tc commands per tap.

Timed, from the same empty state each time (qdiscs and IFBs removed in between, untimed);
(2) to (4) are the best of ``--repeat`` runs (default 5; the medians are printed too: the
kernel's share of the work varies by ±20 % from run to run here), (1) runs once:

1. **one process per command**: every ``ip link ...`` and ``tc ...`` command of the plan, each
   its own process started by one shell inside the namespace (libvirt's virCommandRun: fork
   and exec per tc invocation);
2. **tc -batch**: the same link commands through one ``ip -batch`` and the same tc commands
   through one ``tc -batch``;
3. **vmqos apply**: :func:`vmqos.host.apply.apply_host_plan` — observe over netlink, diff,
   one ``ip -batch`` + one ``tc -batch``, read back and verify;
4. **no-op re-apply**: (3) again on the applied state: observe, diff, nothing to do.

The namespace is removed at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from vmqos.host.apply import apply_host_plan, observe_host_state
from vmqos.host.facts import observe_host_facts
from vmqos.host.runner import run, run_batch
from vmqos.intent.neutron.network import tap_name
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.reconcile.diff import LinkAction, TcAction, reconcile
from vmqos.reconcile.host_plan import HostPlan
from vmqos.reconcile.state import HostState
from vmqos.reconcile.strategy import compile_host_tc
from vmqos.units import KBytesPerSec, KiB

SEED_SIDE = BandwidthSide(KBytesPerSec(32768), KBytesPerSec(65536), KiB(131072))
TARGET_VS_BATCH = 1.5
TARGET_VS_FORK = 10.0
TARGET_NOOP = 0.5


def _port_id(index: int) -> str:
    return f"{index:08x}-bench-{index:04x}"


def _setup(netns: str, taps: int) -> list[str]:
    run(["ip", "netns", "add", netns])
    names = [tap_name(_port_id(i)) for i in range(taps)]
    cmds = [["link", "add", name, "type", "veth", "peer", "name", f"g{i}"]
            for i, name in enumerate(names)]
    cmds += [["link", "set", name, "up"] for name in names]
    run_batch("ip", cmds, netns=netns)
    return names


def _plan(names: list[str]) -> HostPlan:
    facts = observe_host_facts()
    bandwidth = Bandwidth(inbound=SEED_SIDE, outbound=SEED_SIDE)
    ports = tuple(compile_host_tc(name, bandwidth, facts, swapped=True) for name in names)
    return HostPlan(instance="bench", flavor="m1.resquota", ports=ports, cgroup=(),
                    cgroup_dirs=(), substitutions=(), psched=facts.psched)


def _reset(plan: HostPlan, netns: str) -> None:
    """Back to the empty state (untimed): reconcile towards "nothing"."""
    now = observe_host_state(plan, netns)
    actions = reconcile(HostState(), now)
    run_batch("tc", [a.argv() for a in actions if isinstance(a, TcAction)], netns=netns)
    run_batch("ip", [a.argv() for a in actions if isinstance(a, LinkAction)], netns=netns)


def _commands(plan: HostPlan, netns: str) -> tuple[list[list[str]], list[list[str]]]:
    actions = reconcile(plan.desired(), observe_host_state(plan, netns))
    links = [a.argv() for a in actions if isinstance(a, LinkAction)]
    tcs = [a.argv() for a in actions if isinstance(a, TcAction)]
    return links, tcs


def _fork_each(netns: str, links: list[list[str]], tcs: list[list[str]]) -> float:
    # One shell inside the namespace runs each command as its own process (fork + exec, as
    # libvirt's virCommandRun does); `ip -n`/`tc -n` per command would also remount /sys in a
    # new mount namespace every time, which libvirt does not pay.
    script = "".join(f"ip {' '.join(a)}\n" for a in links) + \
        "".join(f"tc {' '.join(a)}\n" for a in tcs)
    start = time.perf_counter()
    subprocess.run(["ip", "netns", "exec", netns, "sh", "-e", "-s"], input=script, text=True,
                   check=True, capture_output=True)
    return time.perf_counter() - start


def _batch(netns: str, links: list[list[str]], tcs: list[list[str]]) -> float:
    start = time.perf_counter()
    run_batch("ip", links, netns=netns)
    run_batch("tc", tcs, netns=netns)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5,
                        help="best of R runs for tc -batch, vmqos apply and the no-op "
                             "(one process per command runs once: it takes minutes)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    netns = f"vmqos-bench-{secrets.token_hex(3)}"
    try:
        names = _setup(netns, args.taps)
        plan = _plan(names)
        links, tcs = _commands(plan, netns)
        fork = _fork_each(netns, links, tcs)
        batches, applies, noops = [], [], []
        for _ in range(max(1, args.repeat)):
            _reset(plan, netns)
            batches.append(_batch(netns, links, tcs))
            _reset(plan, netns)
            start = time.perf_counter()
            result = apply_host_plan(plan, netns=netns)
            applies.append(time.perf_counter() - start)
            assert len(result.actions) == len(links) + len(tcs), "vmqos ran other commands"
            start = time.perf_counter()
            again = apply_host_plan(replace(plan), netns=netns)
            noops.append(time.perf_counter() - start)
            assert not again.changed, "the re-apply was not a no-op"
        batch, vmqos, noop = min(batches), min(applies), min(noops)
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False, capture_output=True)
    figures = {
        "taps": args.taps, "link_commands": len(links), "tc_commands": len(tcs),
        "one_process_per_command_s": round(fork, 3), "tc_batch_s": round(batch, 3),
        "vmqos_apply_s": round(vmqos, 3), "noop_reapply_s": round(noop, 3),
        "runs": {"tc_batch_s": [round(t, 3) for t in batches],
                 "vmqos_apply_s": [round(t, 3) for t in applies],
                 "noop_reapply_s": [round(t, 3) for t in noops]},
        "vmqos_over_batch": round(vmqos / batch, 2), "fork_over_vmqos": round(fork / vmqos, 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    verdict = {True: "PASS", False: "BELOW"}
    print(f"{args.taps} taps, both directions: {len(links)} ip + {len(tcs)} tc commands "
          f"(best of {max(1, args.repeat)}; load average {os.getloadavg()[0]:.2f})")
    med = {name: statistics.median(runs) for name, runs in
           (("batch", batches), ("vmqos", applies), ("noop", noops))}
    print(f"  one process per command  {fork:8.3f} s")
    print(f"  one tc -batch            {batch:8.3f} s   (median {med['batch']:.3f} s)")
    print(f"  vmqos apply              {vmqos:8.3f} s   (median {med['vmqos']:.3f} s, "
          f"ratio of medians {med['vmqos'] / med['batch']:.2f} x)")
    print(f"  no-op re-apply           {noop:8.3f} s   (median {med['noop']:.3f} s)")
    print(f"vmqos / tc -batch          {vmqos / batch:6.2f} x   target <= {TARGET_VS_BATCH} x  "
          f"{verdict[vmqos / batch <= TARGET_VS_BATCH]}")
    print(f"one process / vmqos        {fork / vmqos:6.1f} x   target >= {TARGET_VS_FORK} x   "
          f"{verdict[fork / vmqos >= TARGET_VS_FORK]}")
    print(f"no-op re-apply             {noop:6.3f} s   target <= {TARGET_NOOP} s   "
          f"{verdict[noop <= TARGET_NOOP]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
