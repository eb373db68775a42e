"""Neutron's agents: one per agent a registered compute host declares.

``GET /network/v2.0/agents[/{id}]`` (``openstack network agent list/show``), as neutron/db/
agents_db.py ``_make_agent_dict`` shapes them, with the ``configurations`` the host was
registered with (:mod:`vmqos.api.compute_hosts`) — its bridge mappings and the
``resource_provider_bandwidths`` Placement's inventories come from. Neutron's policy
``get_agent`` is admin-only: a member's listing is empty and a member's show is 404, as
Neutron's policy engine hides what a caller may not see. Agents report no heartbeat yet (the
host registration stands in for one): each is alive, and its times are the host's
registration and last update.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from vmqos.api.context import app_state, caller
from vmqos.api.errors import ApiError
from vmqos.api.responses import ResponseModel
from vmqos.store import hosts
from vmqos.store.identity import TokenInfo
from vmqos.store.models import ComputeHost

__all__ = ["router"]

router = APIRouter(prefix="/network/v2.0", tags=["network"])
Caller = Annotated[TokenInfo, Depends(caller)]

# neutron_lib/constants.py AGENT_PROCESS_*; neutron/common/ovn/constants.py for OVN.
_BINARIES = {"Open vSwitch agent": "neutron-openvswitch-agent",
             "NIC Switch agent": "neutron-sriov-nic-agent",
             "OVN Controller agent": "ovn-controller"}
_L2_AGENT_TOPIC = "N/A"
# Agent ids are stable for a (host, agent type): uuid5 in this namespace.
_AGENT_NAMESPACE = uuid.UUID("d1a3c2f0-6b5e-4d8a-9a47-5f0e8c6b2a31")


class Agent(ResponseModel):
    id: str
    agent_type: str
    binary: str
    topic: str
    host: str
    admin_state_up: bool
    created_at: str
    started_at: str
    heartbeat_timestamp: str
    alive: bool
    configurations: dict[str, Any] = Field(description="as the agent reports them")
    description: str | None
    availability_zone: str | None
    resources_synced: bool | None = Field(description="its Placement report is in sync")
    resource_versions: dict[str, Any]
    ha_chassis_priority: int | None


class AgentList(ResponseModel):
    agents: list[Agent]


class AgentResponse(ResponseModel):
    agent: Agent


def _time(row: ComputeHost, updated: bool) -> str:
    # Neutron prints agent times as str(datetime): "2026-12-03 10:56:01".
    return (row.updated_at if updated else row.created_at).strftime("%Y-%m-%d %H:%M:%S")


def _agents(row: ComputeHost) -> list[Agent]:
    out = []
    for agent in row.agents:
        agent_type = agent["agent_type"]
        configurations = {k: v for k, v in agent.items() if k != "agent_type"}
        out.append(Agent(
            id=str(uuid.uuid5(_AGENT_NAMESPACE, f"{row.name}:{agent_type}")),
            agent_type=agent_type, binary=_BINARIES[agent_type], topic=_L2_AGENT_TOPIC,
            host=row.name, admin_state_up=True, created_at=_time(row, False),
            started_at=_time(row, False), heartbeat_timestamp=_time(row, True), alive=True,
            configurations=configurations, description=None, availability_zone=None,
            resources_synced=True, resource_versions={}, ha_chassis_priority=None))
    return out


def _all(request: Request) -> list[Agent]:
    with app_state(request).db.read() as session:
        return [a for row in hosts.list_hosts(session) for a in _agents(row)]


@router.get("/agents", summary="List agents (admin)")
def list_agents(request: Request, who: Caller, agent_type: str | None = None,
                host: str | None = None, binary: str | None = None) -> AgentList:
    if not who.is_admin:
        return AgentList(agents=[])
    return AgentList(agents=[a for a in _all(request)
                             if (agent_type is None or a.agent_type == agent_type)
                             and (host is None or a.host == host)
                             and (binary is None or a.binary == binary)])


@router.get("/agents/{agent_id}", summary="Show an agent (admin)")
def show_agent(agent_id: str, request: Request, who: Caller) -> AgentResponse:
    found = [a for a in _all(request) if a.id == agent_id] if who.is_admin else []
    if not found:
        raise ApiError(404, f"Agent {agent_id} could not be found.", kind="AgentNotFound")
    return AgentResponse(agent=found[0])
