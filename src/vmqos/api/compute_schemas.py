"""Response models of the Nova subset: flavors and extra specs, servers, key pairs, zones,
aggregates (the bodies of :mod:`vmqos.api.compute_flavors`, :mod:`~vmqos.api.compute_servers`
and :mod:`~vmqos.api.compute_misc`).

Field order is the order in which Nova's views build the body
(``nova/api/openstack/compute/views/flavors.py`` ViewBuilder._build_detail, ``views/servers.py``
ViewBuilder.show); microversion-gated fields have a default and are unset below their
version (:mod:`vmqos.api.responses`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from vmqos.api.responses import ResponseModel

__all__ = [
    "Address",
    "Aggregate",
    "AggregateList",
    "AggregateResponse",
    "AvailabilityZone",
    "AvailabilityZoneList",
    "EmbeddedFlavor",
    "ExtraSpecs",
    "ExtraSpecsSet",
    "Fault",
    "Flavor",
    "FlavorAccess",
    "FlavorAccessList",
    "FlavorLink",
    "FlavorList",
    "FlavorResponse",
    "FlavorSummary",
    "FlavorSummaryList",
    "ImageLink",
    "InterfaceAttachment",
    "InterfaceAttachmentList",
    "InterfaceFixedIp",
    "Keypair",
    "KeypairList",
    "KeypairResponse",
    "Link",
    "MetaItem",
    "Metadata",
    "PlanResponse",
    "SecurityGroupName",
    "Server",
    "ServerCreated",
    "ServerCreatedResponse",
    "ServerList",
    "ServerResponse",
    "ServerSummary",
    "ServerSummaryList",
    "ServiceState",
    "VolumeAttachment",
    "ZoneState",
]


class Link(ResponseModel):
    rel: Literal["self", "bookmark"]
    href: str


# --- flavors ----------------------------------------------------------------------------------


class Flavor(ResponseModel):
    id: str
    name: str
    ram: int
    disk: int
    vcpus: int
    swap: int | Literal[""] = Field(description='MiB; before 2.75 a zero swap is ""')
    ephemeral: int = Field(serialization_alias="OS-FLV-EXT-DATA:ephemeral")
    disabled: bool = Field(serialization_alias="OS-FLV-DISABLED:disabled")
    is_public: bool = Field(serialization_alias="os-flavor-access:is_public")
    rxtx_factor: float
    links: list[Link]
    description: str | None = Field(default=None, description="from microversion 2.55")
    extra_specs: dict[str, str] = Field(default_factory=dict,
                                        description="from microversion 2.61")


class FlavorSummary(ResponseModel):
    id: str
    name: str
    links: list[Link]
    description: str | None = Field(default=None, description="from microversion 2.55")


class FlavorResponse(ResponseModel):
    flavor: Flavor


class FlavorList(ResponseModel):
    flavors: list[Flavor]


class FlavorSummaryList(ResponseModel):
    flavors: list[FlavorSummary]


class FlavorAccess(ResponseModel):
    flavor_id: str
    tenant_id: str


class FlavorAccessList(ResponseModel):
    flavor_access: list[FlavorAccess]


class ExtraSpecs(ResponseModel):
    extra_specs: dict[str, str]


class ExtraSpecsSet(ResponseModel):
    """``POST .../os-extra_specs``'s answer: the request's specs as sent, a JSON number still a
    number (``schemas/flavors_extraspecs.py`` ``create_response``); a read shows strings."""

    extra_specs: dict[str, str | int | float]


# --- servers ----------------------------------------------------------------------------------


class FlavorLink(ResponseModel):
    """A server's flavor before microversion 2.47: a reference."""

    id: str
    links: list[Link]


class EmbeddedFlavor(ResponseModel):
    """A server's flavor from microversion 2.47: the copy made at boot."""

    vcpus: int
    ram: int
    disk: int
    ephemeral: int
    swap: int
    original_name: str
    extra_specs: dict[str, str]


class ImageLink(ResponseModel):
    id: str
    links: list[Link]


class Address(ResponseModel):
    version: Literal[4, 6]
    addr: str
    type: Literal["fixed", "floating"] = Field(serialization_alias="OS-EXT-IPS:type")
    mac_addr: str = Field(serialization_alias="OS-EXT-IPS-MAC:mac_addr")


class SecurityGroupName(ResponseModel):
    name: str


class VolumeAttachment(ResponseModel):
    id: str


class Fault(ResponseModel):
    code: int
    created: str
    message: str


class Server(ResponseModel):
    id: str
    name: str
    status: str
    tenant_id: str
    user_id: str
    metadata: dict[str, str]
    hostId: str
    image: ImageLink | Literal[""] = Field(description='"" for a server booted from a volume')
    flavor: FlavorLink | EmbeddedFlavor = Field(
        description="a link before microversion 2.47, the embedded copy from 2.47")
    created: str | None
    updated: str | None
    addresses: dict[str, list[Address]] = Field(description="by network name")
    accessIPv4: str
    accessIPv6: str
    links: list[Link]
    disk_config: str = Field(serialization_alias="OS-DCF:diskConfig")
    availability_zone: str = Field(serialization_alias="OS-EXT-AZ:availability_zone")
    config_drive: str
    key_name: str | None
    launched_at: str | None = Field(serialization_alias="OS-SRV-USG:launched_at")
    terminated_at: str | None = Field(serialization_alias="OS-SRV-USG:terminated_at")
    task_state: str | None = Field(serialization_alias="OS-EXT-STS:task_state")
    vm_state: str = Field(serialization_alias="OS-EXT-STS:vm_state")
    power_state: int = Field(serialization_alias="OS-EXT-STS:power_state")
    volumes_attached: list[VolumeAttachment] = Field(
        serialization_alias="os-extended-volumes:volumes_attached")
    security_groups: list[SecurityGroupName] = Field(
        description="one entry per port and group")
    # Shown only in some states, to some callers, from some microversions.
    progress: int = Field(default=0, description="while ACTIVE or BUILD")
    fault: Fault | None = Field(default=None, description="when the server failed")
    host: str | None = Field(default="", serialization_alias="OS-EXT-SRV-ATTR:host",
                             description="admins only; null when scheduled nowhere")
    hypervisor_hostname: str | None = Field(
        default="", serialization_alias="OS-EXT-SRV-ATTR:hypervisor_hostname",
        description="admins only")
    instance_name: str = Field(default="", serialization_alias="OS-EXT-SRV-ATTR:instance_name",
                               description="admins only")
    reservation_id: str = Field(default="", serialization_alias="OS-EXT-SRV-ATTR:reservation_id",
                                description="admins only, from 2.3")
    launch_index: int = Field(default=0, serialization_alias="OS-EXT-SRV-ATTR:launch_index",
                              description="admins only, from 2.3")
    hostname: str = Field(default="", serialization_alias="OS-EXT-SRV-ATTR:hostname",
                          description="admins only, from 2.3")
    kernel_id: str = Field(default="", serialization_alias="OS-EXT-SRV-ATTR:kernel_id",
                           description="admins only, from 2.3")
    ramdisk_id: str = Field(default="", serialization_alias="OS-EXT-SRV-ATTR:ramdisk_id",
                            description="admins only, from 2.3")
    root_device_name: str = Field(default="",
                                  serialization_alias="OS-EXT-SRV-ATTR:root_device_name",
                                  description="admins only, from 2.3")
    user_data: str | None = Field(default=None, serialization_alias="OS-EXT-SRV-ATTR:user_data",
                                  description="admins only, from 2.3")
    host_status: str = Field(default="", description="admins only, from 2.16")
    locked: bool = Field(default=False, description="from 2.9")
    description: str | None = Field(default=None, description="from 2.19")
    tags: list[str] = Field(default_factory=list, description="from 2.26")
    trusted_image_certificates: list[str] | None = Field(default=None, description="from 2.63")
    server_groups: list[str] = Field(default_factory=list, description="from 2.71")
    locked_reason: str | None = Field(default=None, description="from 2.73")
    pinned_availability_zone: str | None = Field(default=None, description="from 2.96")


class ServerResponse(ResponseModel):
    server: Server


class ServerList(ResponseModel):
    servers: list[Server]


class ServerSummary(ResponseModel):
    id: str
    name: str
    links: list[Link]


class ServerSummaryList(ResponseModel):
    servers: list[ServerSummary]


class ServerCreated(ResponseModel):
    id: str
    disk_config: str = Field(serialization_alias="OS-DCF:diskConfig")
    links: list[Link]
    security_groups: list[SecurityGroupName]
    adminPass: str


class ServerCreatedResponse(ResponseModel):
    server: ServerCreated


class InterfaceFixedIp(ResponseModel):
    subnet_id: str | None
    ip_address: str


class InterfaceAttachment(ResponseModel):
    port_state: str
    port_id: str
    net_id: str
    mac_addr: str
    fixed_ips: list[InterfaceFixedIp]
    tag: str | None = Field(default=None, description="from microversion 2.70")


class InterfaceAttachmentList(ResponseModel):
    interfaceAttachments: list[InterfaceAttachment]


class PlanResponse(ResponseModel):
    plan: dict[str, JsonValue] = Field(
        description="the document `vmqos plan --format json` prints")


# --- key pairs, availability zones, aggregates ------------------------------------------------


class Keypair(ResponseModel):
    name: str
    public_key: str
    fingerprint: str
    type: str = Field(default="ssh", description="from microversion 2.2")
    user_id: str = Field(default="", description="when created or shown")
    created_at: str | None = Field(default=None, description="when shown")
    deleted: bool = Field(default=False, description="when shown")
    deleted_at: str | None = Field(default=None, description="when shown")
    updated_at: str | None = Field(default=None, description="when shown")
    id: int = Field(default=0, description="when shown")


class KeypairResponse(ResponseModel):
    keypair: Keypair


class KeypairList(ResponseModel):
    keypairs: list[KeypairResponse]


class ZoneState(ResponseModel):
    available: bool


class ServiceState(ResponseModel):
    available: bool
    active: bool
    updated_at: str | None


class AvailabilityZone(ResponseModel):
    zoneName: str
    zoneState: ZoneState
    hosts: dict[str, dict[str, ServiceState]] | None = Field(
        description="host -> service -> state; null unless detailed")


class AvailabilityZoneList(ResponseModel):
    availabilityZoneInfo: list[AvailabilityZone]


class Aggregate(ResponseModel):
    id: int
    name: str
    availability_zone: str | None
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None
    deleted: bool
    hosts: list[str]
    metadata: dict[str, str]
    uuid: str = Field(default="", description="from microversion 2.41")


class AggregateResponse(ResponseModel):
    aggregate: Aggregate


class AggregateList(ResponseModel):
    aggregates: list[Aggregate]


class Metadata(ResponseModel):
    """A server's metadata (``/servers/{id}/metadata``)."""
    metadata: dict[str, str]


class MetaItem(ResponseModel):
    """One metadata item (``/servers/{id}/metadata/{key}``)."""
    meta: dict[str, str]
