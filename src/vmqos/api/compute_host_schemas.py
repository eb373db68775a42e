"""Response bodies of the hypervisor, service and host routes (:mod:`vmqos.api.compute_hosts`),
as Nova's hypervisors.py and services.py views shape them; fields that depend on the
microversion are optional and left out when unset."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "Host",
    "HostResponse",
    "Hypervisor",
    "HypervisorList",
    "HypervisorShow",
    "ProviderUse",
    "ResourceProvider",
    "Service",
    "ServiceList",
]


class HypervisorService(BaseModel):
    id: int | str = Field(description="a uuid from 2.53")
    host: str
    disabled_reason: str | None


class Hypervisor(BaseModel):
    id: int | str = Field(description="the compute node's id; its uuid from 2.53")
    hypervisor_hostname: str
    state: str
    status: str
    hypervisor_type: str | None = None
    hypervisor_version: int | None = None
    host_ip: str | None = None
    service: HypervisorService | None = None
    vcpus: int | None = Field(default=None, description="until 2.87, as are the columns below")
    memory_mb: int | None = None
    local_gb: int | None = None
    vcpus_used: int | None = None
    memory_mb_used: int | None = None
    local_gb_used: int | None = None
    free_ram_mb: int | None = None
    free_disk_gb: int | None = None
    current_workload: int | None = None
    running_vms: int | None = None
    disk_available_least: int | None = None
    cpu_info: dict[str, Any] | str | None = Field(default=None,
                                                  description="an object from 2.28")
    uptime: str | None = Field(default=None, description="from 2.88")


class HypervisorList(BaseModel):
    hypervisors: list[Hypervisor]


class HypervisorShow(BaseModel):
    hypervisor: Hypervisor


class Service(BaseModel):
    binary: str
    host: str
    id: int | str = Field(description="a uuid from 2.53")
    zone: str
    status: str
    state: str
    updated_at: str | None
    disabled_reason: str | None
    forced_down: bool | None = Field(default=None, description="from 2.11")


class ServiceList(BaseModel):
    services: list[Service]


class ProviderUse(BaseModel):
    total: int = Field(description="capacity after reservations and allocation ratio")
    used: int


class ResourceProvider(BaseModel):
    name: str = Field(description="the host, or '<host>:<agent type>[:<device>]'")
    uuid: str
    traits: list[str]
    inventory: dict[str, ProviderUse] = Field(description="resource class -> capacity and use")


class Host(BaseModel):
    name: str
    uuid: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    host_ip: str
    agents: list[dict[str, Any]] = Field(description="the Neutron agents' configurations")
    resource_providers: list[ResourceProvider]


class HostResponse(BaseModel):
    host: Host
