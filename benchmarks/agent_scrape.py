"""Benchmark: one ``vmqos agent`` scrape with 1,000 servers' ports, against issue 12's target.

Run from the repository root::

    .venv/bin/python benchmarks/agent_scrape.py [--servers N] [--runs N]

The target (issue 12, section 5): a ``/metrics`` scrape of an agent over 1,000 taps within
100 ms. What is measured: the agent's exposition (``Agent.exposition``, what ``GET /metrics``
answers) for a status holding the seed's vm_resquota explained ``--servers`` times (three
ports each, every port with its flavor and Neutron layers) and one audit per server: first the
render after a round (which the agent does in its worker, not in a scrape), then the median of
``--runs`` scrapes of that status. It always exits 0: a benchmark reports, it does not fail CI.
The cloud read and the host audit of a round are not measured here: they need a cloud and
root (the round's duration is the ``vmqos_audit_duration_seconds`` metric).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.seed import seed_scenario
from vmqos.host.state import SandboxConfig
from vmqos.ops.agent import Agent, AgentConfig
from vmqos.ops.agent_metrics import AuditRound
from vmqos.ops.audit import AuditStatus, Section, ServerAudit
from vmqos.plan.explain.explain import explain_scenario
from vmqos.profile import get_profile

TARGET_MS = 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=334)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    scenario = seed_scenario()
    explanation = explain_scenario(scenario, get_profile(scenario.profile))
    template = next(s for s in explanation.servers if s.name == "vm_resquota")
    servers = tuple(
        replace(template, name=f"vm{i}", ports=tuple(
            replace(p, port_id=f"{i:04d}-{j}", device=f"tap{i:04d}-{j}")
            for j, p in enumerate(template.ports)))
        for i in range(args.servers))
    audits = tuple(ServerAudit(s.name, Section(AuditStatus.IN_SYNC),
                               Section(AuditStatus.NOT_AUDITED)) for s in servers)
    agent = Agent(AgentConfig(cloud="bench", host="cmp-1"), SandboxConfig())
    agent._update(last=AuditRound(replace(explanation, servers=servers), audits, 0.1,
                                  time.time(), False), cloud_reachable=True, rounds=1)
    started = time.perf_counter()
    body = agent.exposition()
    render_ms = 1000 * (time.perf_counter() - started)
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        agent.exposition()
        times.append(1000 * (time.perf_counter() - started))
    ports = sum(len(s.ports) for s in servers)
    scrape = statistics.median(times)
    print(f"{ports} ports, {len(body):,} bytes of exposition")
    print(f"render after a round: {render_ms:7.1f} ms   (in the agent's worker, not a scrape)")
    print(f"scrape (median of {args.runs}): {scrape:6.1f} ms   target <= {TARGET_MS:.0f} ms   "
          f"{'PASS' if scrape <= TARGET_MS else 'ABOVE'}")


if __name__ == "__main__":
    main()
