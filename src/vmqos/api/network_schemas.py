"""Response models of the Neutron subset: networks, ports, security groups, subnets, QoS
policies and their five rule types, rule types, extensions (the bodies of
:mod:`vmqos.api.network_core`, :mod:`~vmqos.api.network_groups`,
:mod:`~vmqos.api.network_subnets` and :mod:`~vmqos.api.network_qos`).

Field order is :mod:`vmqos.api.network_views`' (the standard attributes first, as Neutron's
``standard_attr`` extensions add them). Attributes the default policy shows to admins only
(``provider:*``, ``binding:host_id``/``profile``/``vif_type``/``vif_details``,
``resource_request``) have a default and stay unset for everybody else
(:mod:`vmqos.api.responses`).

A QoS rule is one model per rule type, with the attributes of neutron-lib's API definition
(:data:`vmqos.intent.neutron.rules.API_ATTRIBUTES`, which builds the bodies). In a policy's
``rules`` list a rule also carries ``qos_policy_id`` and its ``type``, which tells the types
apart there; a rule answered on its own has neither.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue

from vmqos.api.responses import ResponseModel

__all__ = [
    "RULE_MODELS",
    "AllocationPool",
    "AllowedAddressPair",
    "BandwidthLimitRule",
    "DnsAssignment",
    "DscpMarkingRule",
    "Extension",
    "ExtensionList",
    "ExtensionResponse",
    "ExtraDhcpOpt",
    "FixedIp",
    "HostRoute",
    "MinimumBandwidthRule",
    "MinimumPacketRateRule",
    "Network",
    "NetworkList",
    "NetworkResponse",
    "PacketRateLimitRule",
    "ParameterRange",
    "Policy",
    "PolicyList",
    "PolicyResponse",
    "Port",
    "PortList",
    "PortResponse",
    "QosRule",
    "RuleTypeDetails",
    "RuleTypeDriver",
    "RuleTypeList",
    "RuleTypeName",
    "RuleTypeResponse",
    "SecurityGroup",
    "SecurityGroupList",
    "SecurityGroupResponse",
    "SecurityGroupRule",
    "SecurityGroupRuleList",
    "SecurityGroupRuleResponse",
    "Subnet",
    "SubnetList",
    "SubnetResponse",
    "SupportedParameter",
]

_ADMIN = "admins only"


class _Standard(ResponseModel):
    """The standard attributes every Neutron resource here carries."""

    id: str
    name: str
    description: str
    project_id: str
    tenant_id: str
    revision_number: int
    created_at: str
    updated_at: str
    tags: list[str]


# --- networks and ports -----------------------------------------------------------------------


class Network(_Standard):
    admin_state_up: bool
    status: str
    subnets: list[str]
    shared: bool
    mtu: int
    port_security_enabled: bool
    router_external: bool = Field(serialization_alias="router:external")
    qos_policy_id: str | None
    availability_zone_hints: list[str]
    availability_zones: list[str]
    ipv4_address_scope: str | None
    ipv6_address_scope: str | None
    l2_adjacency: bool
    dns_domain: str
    is_default: bool
    provider_network_type: str = Field(default="", serialization_alias="provider:network_type",
                                       description=_ADMIN)
    provider_physical_network: str | None = Field(
        default=None, serialization_alias="provider:physical_network", description=_ADMIN)
    provider_segmentation_id: int | None = Field(
        default=None, serialization_alias="provider:segmentation_id", description=_ADMIN)


class NetworkResponse(ResponseModel):
    network: Network


class NetworkList(ResponseModel):
    networks: list[Network]


class FixedIp(ResponseModel):
    subnet_id: str
    ip_address: str


class AllowedAddressPair(ResponseModel):
    ip_address: str
    mac_address: str


class ExtraDhcpOpt(ResponseModel):
    opt_name: str
    opt_value: str
    ip_version: int


class DnsAssignment(ResponseModel):
    hostname: str
    ip_address: str
    fqdn: str


class Port(_Standard):
    network_id: str
    mac_address: str
    admin_state_up: bool
    status: str
    device_id: str
    device_owner: str
    fixed_ips: list[FixedIp]
    allowed_address_pairs: list[AllowedAddressPair]
    extra_dhcp_opts: list[ExtraDhcpOpt]
    security_groups: list[str]
    port_security_enabled: bool
    binding_vnic_type: str = Field(serialization_alias="binding:vnic_type")
    qos_policy_id: str | None
    qos_network_policy_id: str | None = Field(description="the policy of the port's network")
    dns_name: str
    dns_assignment: list[DnsAssignment]
    propagate_uplink_status: bool
    binding_host_id: str = Field(default="", serialization_alias="binding:host_id",
                                 description=_ADMIN)
    binding_profile: dict[str, JsonValue] = Field(
        default_factory=dict, serialization_alias="binding:profile", description=_ADMIN)
    binding_vif_type: str = Field(default="", serialization_alias="binding:vif_type",
                                  description=_ADMIN)
    binding_vif_details: dict[str, JsonValue] = Field(
        default_factory=dict, serialization_alias="binding:vif_details", description=_ADMIN)
    resource_request: dict[str, JsonValue] | None = Field(default=None, description=_ADMIN)


class PortResponse(ResponseModel):
    port: Port


class PortList(ResponseModel):
    ports: list[Port]


# --- security groups, subnets -----------------------------------------------------------------


class SecurityGroupRule(ResponseModel):
    id: str
    security_group_id: str
    project_id: str
    tenant_id: str
    direction: Literal["ingress", "egress"]
    ethertype: Literal["IPv4", "IPv6"]
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_address_group_id: str | None
    normalized_cidr: str | None
    remote_group_id: str | None
    description: str
    tags: list[str]
    created_at: str
    updated_at: str
    revision_number: int


class SecurityGroupRuleResponse(ResponseModel):
    security_group_rule: SecurityGroupRule


class SecurityGroupRuleList(ResponseModel):
    security_group_rules: list[SecurityGroupRule]


class SecurityGroup(_Standard):
    security_group_rules: list[SecurityGroupRule]
    stateful: bool
    shared: bool


class SecurityGroupResponse(ResponseModel):
    security_group: SecurityGroup


class SecurityGroupList(ResponseModel):
    security_groups: list[SecurityGroup]


class AllocationPool(ResponseModel):
    start: str
    end: str


class HostRoute(ResponseModel):
    destination: str
    nexthop: str


class Subnet(_Standard):
    network_id: str
    ip_version: int = Field(description="4 or 6")
    cidr: str
    gateway_ip: str | None
    allocation_pools: list[AllocationPool]
    enable_dhcp: bool
    dns_nameservers: list[str]
    host_routes: list[HostRoute]
    ipv6_ra_mode: str | None
    ipv6_address_mode: str | None
    subnetpool_id: str | None
    segment_id: str | None
    service_types: list[str]
    dns_publish_fixed_ip: bool | None


class SubnetResponse(ResponseModel):
    subnet: Subnet


class SubnetList(ResponseModel):
    subnets: list[Subnet]


# --- QoS --------------------------------------------------------------------------------------

_IN_POLICY = "in a policy's rules list only"
_Direction = Literal["ingress", "egress"]


class _Rule(ResponseModel):
    id: str
    qos_policy_id: str = Field(default="", description=_IN_POLICY)


class BandwidthLimitRule(_Rule):
    max_kbps: int = Field(description="kilobits per second")
    max_burst_kbps: int = Field(description="kilobits")
    direction: _Direction
    type: Literal["bandwidth_limit"] = Field(default="bandwidth_limit", description=_IN_POLICY)


class DscpMarkingRule(_Rule):
    dscp_mark: int
    type: Literal["dscp_marking"] = Field(default="dscp_marking", description=_IN_POLICY)


class MinimumBandwidthRule(_Rule):
    min_kbps: int = Field(description="kilobits per second")
    direction: _Direction
    type: Literal["minimum_bandwidth"] = Field(default="minimum_bandwidth",
                                               description=_IN_POLICY)


class PacketRateLimitRule(_Rule):
    max_kpps: int = Field(description="thousands of packets per second")
    max_burst_kpps: int = Field(description="thousands of packets")
    direction: _Direction
    type: Literal["packet_rate_limit"] = Field(default="packet_rate_limit",
                                               description=_IN_POLICY)


class MinimumPacketRateRule(_Rule):
    min_kpps: int = Field(description="thousands of packets per second")
    direction: Literal["ingress", "egress", "any"]
    type: Literal["minimum_packet_rate"] = Field(default="minimum_packet_rate",
                                                 description=_IN_POLICY)


QosRule = (BandwidthLimitRule | DscpMarkingRule | MinimumBandwidthRule | PacketRateLimitRule
           | MinimumPacketRateRule)
# By rule type value (vmqos.intent.neutron.model.RuleType).
RULE_MODELS: dict[str, type[QosRule]] = {
    "bandwidth_limit": BandwidthLimitRule, "dscp_marking": DscpMarkingRule,
    "minimum_bandwidth": MinimumBandwidthRule, "packet_rate_limit": PacketRateLimitRule,
    "minimum_packet_rate": MinimumPacketRateRule}


class Policy(_Standard):
    shared: bool
    is_default: bool
    rules: list[Annotated[QosRule, Field(discriminator="type")]]


class PolicyResponse(ResponseModel):
    policy: Policy


class PolicyList(ResponseModel):
    policies: list[Policy]


class RuleTypeName(ResponseModel):
    type: str


class RuleTypeList(ResponseModel):
    rule_types: list[RuleTypeName]


class ParameterRange(ResponseModel):
    start: int
    end: int


class SupportedParameter(ResponseModel):
    parameter_name: str
    parameter_type: Literal["range", "choices"]
    parameter_values: ParameterRange | list[str | int]


class RuleTypeDriver(ResponseModel):
    name: str
    supported_parameters: list[SupportedParameter]


class RuleTypeDetails(ResponseModel):
    type: str
    drivers: list[RuleTypeDriver]


class RuleTypeResponse(ResponseModel):
    rule_type: RuleTypeDetails


# --- extensions -------------------------------------------------------------------------------


class Extension(ResponseModel):
    alias: str
    name: str
    description: str
    links: list[dict[str, str]]
    updated: str


class ExtensionResponse(ResponseModel):
    extension: Extension


class ExtensionList(ResponseModel):
    extensions: list[Extension]
