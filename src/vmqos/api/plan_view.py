"""A stored server as the core's scenario, its compiled plan, and the plan as JSON.

The plan of a server is :func:`vmqos.plan.server_plan.compile_server_plan` of a one-server
scenario built from the store: the flavor **as embedded in the instance at boot** (Nova copies
it; later flavor edits do not reach a running server), the server's ports in NIC order, their
networks, and the QoS policies those reach *now* (the Neutron agent applies policy changes to
running ports at once). Names of the owner come from Keystone's tables, as Nova writes them
into ``<nova:owner>``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vmqos.intent.scenario import Scenario
from vmqos.intent.scenario import Server as ServerValue
from vmqos.jsonable import to_jsonable
from vmqos.model import NeutronBackend
from vmqos.plan.server_plan import ServerPlan, compile_server_plan
from vmqos.profile import get_profile
from vmqos.store import qos
from vmqos.store.models import Network, Port, Project, QosPolicy, Server, User
from vmqos.store.scenario import (
    flavor_value,
    network_value,
    port_value,
    scenario_of,
    server_value,
)

__all__ = ["plan_json", "server_plan", "server_scenario"]


def server_scenario(session: Session, row: Server, *, backend: NeutronBackend,
                    profile: str) -> tuple[Scenario, ServerValue]:
    ports = {p.id: p for p in session.scalars(sa.select(Port).where(
        Port.id.in_(list(row.port_ids))))}
    port_rows = [ports[p] for p in row.port_ids if p in ports]  # a deleted port is detached
    networks = {n.id: n for n in session.scalars(sa.select(Network).where(
        Network.id.in_({p.network_id for p in port_rows})))}
    policy_ids = {p.qos_policy_id for p in port_rows} | {
        n.qos_policy_id for n in networks.values()}
    policies = session.scalars(sa.select(QosPolicy).where(
        QosPolicy.id.in_([p for p in policy_ids if p])))
    user = session.get(User, row.user_id)
    project = session.get(Project, row.project_id)
    server = server_value(row, port_ids=[p.id for p in port_rows],
                          user_name=user.name if user else row.user_id,
                          project_name=project.name if project else row.project_id)
    scenario = scenario_of(server, flavor_value(row.flavor),
                           [port_value(p) for p in port_rows],
                           [network_value(n) for n in networks.values()],
                           [qos.policy_value(session, p) for p in policies],
                           backend=backend, profile=profile)
    return scenario, server


def server_plan(session: Session, row: Server, *, backend: NeutronBackend,
                profile: str) -> ServerPlan:
    """Compile the plan; an invalid flavor (possible below microversion 2.86) raises
    :class:`vmqos.errors.ValidationError` with Nova's message."""
    scenario, server = server_scenario(session, row, backend=backend, profile=profile)
    return compile_server_plan(scenario, server, get_profile(profile))


def plan_json(plan: ServerPlan) -> dict[str, Any]:
    """The plan's fields as JSON (the same document ``vmqos plan --format json`` prints)."""
    result: dict[str, Any] = to_jsonable(plan)
    return result
