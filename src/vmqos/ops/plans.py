"""Host plans for servers and the sandbox instances that stand in for them: the one place the
lab, ``vmqos verify`` and the audit turn intent into what a host must enforce."""

from __future__ import annotations

from collections.abc import Sequence

from vmqos.host.sandbox import Instance
from vmqos.intent.scenario import Scenario, Server
from vmqos.profile import Profile
from vmqos.reconcile.facts import HostFacts
from vmqos.reconcile.host_plan import HostPlan, compile_host_plan

__all__ = ["host_plans"]


def host_plans(scenario: Scenario, servers: Sequence[Server], profile: Profile,
               facts: HostFacts, instances: Sequence[Instance]) -> list[HostPlan]:
    """One host plan per server, laid out on the instance built for it (same order)."""
    return [compile_host_plan(scenario, server, profile, facts, instance.layout())
            for server, instance in zip(servers, instances, strict=True)]
