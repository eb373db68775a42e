"""Compute hosts: registered through vmqos, listed as Nova lists hypervisors and services.

* ``PUT /compute/v2.1/vmqos-hosts/{host}`` (admin): register or update a compute host — its
  sizes and its Neutron agents' ``configurations``, which become its Placement providers
  (:mod:`vmqos.intent.compute_host`). What nova-compute and the agents report on a real
  node; vmqos's agent (``vmqos agent``) is the one meant to send it. ``GET`` shows a host
  with its providers, their capacity and what is allocated; ``DELETE`` refuses a host with
  servers (409).
* ``GET /os-hypervisors[/detail|/{id}]`` and ``GET /os-services`` (admin, Nova's policies
  ``os_compute_api:os-hypervisors:*`` and ``os_compute_api:os-services:list``) as
  nova/api/openstack/compute/hypervisors.py ``_view_hypervisor`` and services.py
  ``_get_service_detail`` build them: ids are uuids from 2.53; detail has the resource
  columns until 2.87 and ``uptime`` from 2.88; services have ``forced_down`` from 2.11.
  Until a host is registered the service's built-in host stands in, so a plain ``vmqos
  serve`` lists the host its servers are on.
* No heartbeat is modelled yet: every registered host is ``up``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from vmqos.api import compute_host_schemas as schemas
from vmqos.api.context import app_state, caller, nova_forbidden
from vmqos.api.errors import ApiError
from vmqos.api.microversion import Microversion, nova_microversion
from vmqos.api.server_views import iso
from vmqos.intent.scheduling import RESERVED_HOST_MEMORY_MB, root_capacity
from vmqos.store import hosts
from vmqos.store.identity import TokenInfo
from vmqos.store.models import ComputeHost, Server

__all__ = ["BUILTIN_HOST_UUID", "router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])
Caller = Annotated[TokenInfo, Depends(caller)]
Version = Annotated[Microversion, Depends(nova_microversion)]

# The built-in host's compute node and service, before any host is registered.
BUILTIN_HOST_UUID = "2e6a5f40-36a2-4bb6-9b2b-7d5f1c2b0e01"
_BUILTIN_SERVICE_UUID = "7f0c8a1e-5d1b-4b8e-a4a3-6c9e2f3d4b02"
# What libvirt reports for QEMU 7.2 (virConnectGetVersion: major * 1e6 + minor * 1e3).
_HYPERVISOR = ("QEMU", 7002000)


def _admin(who: TokenInfo, rule: str) -> None:
    if not who.is_admin:
        raise nova_forbidden(rule)


class HostBody(BaseModel):
    """A registration: ``vcpus``, ``memory_mb``, ``disk_gb``, ``host_ip`` and ``agents``, each
    agent a Neutron agent's ``agent_type`` and ``configurations`` keys."""

    model_config = ConfigDict(extra="forbid")
    host: dict[str, Any]


def _rows(request: Request) -> list[ComputeHost]:
    with app_state(request).db.read() as session:
        rows = list(hosts.list_hosts(session))
        for row in rows:
            session.expunge(row)
    if rows:
        return rows
    builtin = app_state(request).settings.host
    return [ComputeHost(seq=1, name=builtin, uuid=BUILTIN_HOST_UUID,
                        service_uuid=_BUILTIN_SERVICE_UUID, vcpus=8, memory_mb=16384,
                        disk_gb=100, agents=[], host_ip="", disabled=False,
                        disabled_reason=None)]


def _servers_on(request: Request) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """host -> [(server name, uuid, flavor)]."""
    builtin = app_state(request).settings.host
    out: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    with app_state(request).db.read() as session:
        for host, name, uuid, flavor in session.execute(
                sa.select(Server.host, Server.name, Server.id, Server.flavor)):
            out.setdefault(host or builtin, []).append((name, uuid, flavor))
    return out


def _hypervisor(row: ComputeHost, mv: Microversion, *, detail: bool,
                servers: list[tuple[str, str, dict[str, Any]]]) -> schemas.Hypervisor:
    uuid_ids = mv.at_least("2.53")
    view: dict[str, Any] = {
        "id": row.uuid if uuid_ids else row.seq,
        "hypervisor_hostname": row.name,
        "state": "up",
        "status": "disabled" if row.disabled else "enabled",
    }
    if not detail:
        return schemas.Hypervisor(**view)
    view.update(hypervisor_type=_HYPERVISOR[0], hypervisor_version=_HYPERVISOR[1],
                host_ip=row.host_ip or None,
                service={"id": row.service_uuid if uuid_ids else row.seq, "host": row.name,
                         "disabled_reason": row.disabled_reason})
    if mv.at_least("2.88"):
        view["uptime"] = None
        return schemas.Hypervisor(**view)
    vcpus_used = sum(int(f.get("vcpus", 0)) for _, _, f in servers)
    ram_used = RESERVED_HOST_MEMORY_MB + sum(int(f.get("ram", 0)) for _, _, f in servers)
    disk_used = sum(int(f.get("disk", 0)) + int(f.get("ephemeral", 0)) for _, _, f in servers)
    view.update(vcpus=row.vcpus, memory_mb=row.memory_mb, local_gb=row.disk_gb,
                vcpus_used=vcpus_used, memory_mb_used=ram_used, local_gb_used=disk_used,
                free_ram_mb=row.memory_mb - ram_used, free_disk_gb=row.disk_gb - disk_used,
                current_workload=0, running_vms=len(servers),
                disk_available_least=row.disk_gb - disk_used,
                cpu_info={} if mv.at_least("2.28") else "")
    return schemas.Hypervisor(**view)


@router.get("/os-hypervisors", summary="List hypervisors (admin)",
            response_model_exclude_unset=True)
def list_hypervisors(request: Request, who: Caller, mv: Version) -> schemas.HypervisorList:
    _admin(who, "os_compute_api:os-hypervisors:list")
    return schemas.HypervisorList(hypervisors=[_hypervisor(r, mv, detail=False, servers=[])
                                               for r in _rows(request)])


@router.get("/os-hypervisors/detail", summary="List hypervisors with details (admin)",
            response_model_exclude_unset=True)
def list_hypervisors_detail(request: Request, who: Caller,
                            mv: Version) -> schemas.HypervisorList:
    _admin(who, "os_compute_api:os-hypervisors:list-detail")
    on = _servers_on(request)
    return schemas.HypervisorList(hypervisors=[
        _hypervisor(r, mv, detail=True, servers=on.get(r.name, [])) for r in _rows(request)])


@router.get("/os-hypervisors/{hypervisor_id}", summary="Show a hypervisor (admin)",
            response_model_exclude_unset=True)
def show_hypervisor(hypervisor_id: str, request: Request, who: Caller,
                    mv: Version) -> schemas.HypervisorShow:
    _admin(who, "os_compute_api:os-hypervisors:show")
    for row in _rows(request):
        if hypervisor_id == (row.uuid if mv.at_least("2.53") else str(row.seq)):
            on = _servers_on(request)
            return schemas.HypervisorShow(hypervisor=_hypervisor(
                row, mv, detail=True, servers=on.get(row.name, [])))
    if mv.at_least("2.53") and not _is_uuid(hypervisor_id):
        raise ApiError(400, f"Invalid uuid {hypervisor_id}")
    raise ApiError(404, f"Hypervisor with ID '{hypervisor_id}' could not be found.")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@router.get("/os-services", summary="List compute services (admin)",
            response_model_exclude_unset=True)
def list_services(request: Request, who: Caller, mv: Version,
                  host: str | None = None, binary: str | None = None) -> schemas.ServiceList:
    _admin(who, "os_compute_api:os-services:list")
    uuid_ids = mv.at_least("2.53")
    services = []
    for row in _rows(request):
        view: dict[str, Any] = {
            "binary": "nova-compute", "host": row.name,
            "id": row.service_uuid if uuid_ids else row.seq, "zone": "nova",
            "status": "disabled" if row.disabled else "enabled", "state": "up",
            "updated_at": iso(row.updated_at) if row.updated_at else None,
            "disabled_reason": row.disabled_reason}
        if mv.at_least("2.11"):
            view["forced_down"] = False
        services.append(view)
    return schemas.ServiceList(services=[
        schemas.Service(**s) for s in services
        if (host is None or s["host"] == host) and (binary is None or s["binary"] == binary)])


def _host_view(row: ComputeHost, usage: dict[tuple[str, str], int]) -> schemas.HostResponse:
    value = hosts.host_value(row)
    root = [{"name": value.name, "uuid": row.uuid, "traits": [],
             "inventory": {rc: {"total": cap, "used": usage.get((value.name, rc), 0)}
                           for rc, cap in root_capacity(value).items()}}]
    providers = [{"name": p.name, "uuid": p.uuid, "traits": sorted(p.traits),
                  "inventory": {rc: {"total": cap, "used": usage.get((p.name, rc), 0)}
                                for rc, cap in p.inventory}} for p in value.providers]
    return schemas.HostResponse.model_validate({"host": {
        "name": row.name, "uuid": row.uuid, "vcpus": row.vcpus, "memory_mb": row.memory_mb,
        "disk_gb": row.disk_gb, "host_ip": row.host_ip, "agents": row.agents,
        "resource_providers": root + providers}})


@router.put("/vmqos-hosts/{host_name}", summary="Register or update a compute host (admin)")
def register_host(host_name: str, request: Request, who: Caller,
                  body: Annotated[HostBody, Body()]) -> schemas.HostResponse:
    _admin(who, "vmqos:hosts:register")
    with app_state(request).db.write() as session:
        row = hosts.register_host(session, host_name, body.host)
        return _host_view(row, hosts.usage(session))


@router.get("/vmqos-hosts/{host_name}", summary="Show a registered host and its allocations")
def show_host(host_name: str, request: Request, who: Caller) -> schemas.HostResponse:
    _admin(who, "vmqos:hosts:show")
    with app_state(request).db.read() as session:
        return _host_view(hosts.get_host(session, host_name), hosts.usage(session))


@router.delete("/vmqos-hosts/{host_name}", status_code=204, response_class=Response,
               summary="Remove a registered host without servers (admin)")
def delete_host(host_name: str, request: Request, who: Caller) -> Response:
    _admin(who, "vmqos:hosts:delete")
    with app_state(request).db.write() as session:
        hosts.delete_host(session, host_name)
    return Response(status_code=204)
