"""How Neutron shows networks, ports, security groups and QoS policies (field sets of OSC
network/v2/{network,port}.py _get_columns
and neutron-lib api-ref/source/v2/qos.inc). Attributes the default policy shows to admins only
(``provider:*``, ``binding:host_id``/``vif_type``/``vif_details``/``profile``,
``resource_request``) are left out for everybody else, as Neutron's policy engine strips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from vmqos.api import network_schemas as schemas
from vmqos.intent.neutron.model import QosPolicy as PolicyValue
from vmqos.intent.neutron.model import Rule
from vmqos.intent.neutron.rules import rule_to_dict
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Network, Port, QosPolicy, SecurityGroup, SecurityGroupRule, Subnet
from vmqos.store.security_group_rules import spec_of

__all__ = ["network_view", "policy_view", "port_view", "rule_view", "security_group_rule_view",
           "security_group_view", "subnet_view", "timestamp"]


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _StandardAttributes(TypedDict):
    """The keyword arguments of every resource model's standard attributes."""

    id: str
    name: str
    description: str
    project_id: str
    tenant_id: str
    revision_number: int
    created_at: str
    updated_at: str
    tags: list[str]


def _standard(row: Network | Port | SecurityGroup | QosPolicy | Subnet) -> _StandardAttributes:
    return {"id": row.id, "name": row.name, "description": row.description,
            "project_id": row.project_id, "tenant_id": row.project_id,
            "revision_number": row.revision_number, "created_at": timestamp(row.created_at),
            "updated_at": timestamp(row.updated_at), "tags": []}


def network_view(row: Network, who: TokenInfo,
                 subnets: Sequence[str] = ()) -> schemas.Network:
    view = schemas.Network(
        **_standard(row),
        admin_state_up=row.admin_state_up, status="ACTIVE", subnets=list(subnets),
        shared=row.shared, mtu=row.mtu, port_security_enabled=row.port_security_enabled,
        router_external=row.router_external, qos_policy_id=row.qos_policy_id,
        availability_zone_hints=[], availability_zones=["nova"],
        ipv4_address_scope=None, ipv6_address_scope=None, l2_adjacency=True,
        dns_domain="", is_default=False)
    if who.is_admin:
        view.provider_network_type = row.network_type
        view.provider_physical_network = row.physical_network or None
        view.provider_segmentation_id = row.segmentation_id or None
    return view


def port_view(row: Port, who: TokenInfo, network_policy_id: str | None) -> schemas.Port:
    view = schemas.Port(
        **_standard(row),
        network_id=row.network_id, mac_address=row.mac_address,
        admin_state_up=row.admin_state_up, status=row.status,
        device_id=row.device_id, device_owner=row.device_owner,
        fixed_ips=[schemas.FixedIp(subnet_id=f["subnet_id"], ip_address=f["ip_address"])
                   for f in row.fixed_ips],
        allowed_address_pairs=[], extra_dhcp_opts=[],
        security_groups=list(row.security_group_ids),
        port_security_enabled=row.port_security_enabled,
        binding_vnic_type=row.vnic_type, qos_policy_id=row.qos_policy_id,
        qos_network_policy_id=network_policy_id, dns_name="", dns_assignment=[],
        propagate_uplink_status=False)
    if who.is_admin:
        view.binding_host_id = row.host_id
        view.binding_profile = dict(row.profile)
        view.binding_vif_type = row.vif_type
        view.binding_vif_details = dict(row.vif_details)
        view.resource_request = None
    return view


def security_group_view(row: SecurityGroup,
                        rules: Sequence[SecurityGroupRule]) -> schemas.SecurityGroup:
    return schemas.SecurityGroup(
        **_standard(row),
        security_group_rules=[security_group_rule_view(r) for r in rules],
        stateful=True, shared=False)


def security_group_rule_view(row: SecurityGroupRule) -> schemas.SecurityGroupRule:
    """A rule as ``neutron/db/securitygroups_db.py`` ``_make_security_group_rule_dict``
    shows it, with its standard attributes."""
    return schemas.SecurityGroupRule.model_validate({
        "id": row.id, "security_group_id": row.security_group_id, "project_id": row.project_id,
        "tenant_id": row.project_id, "direction": row.direction, "ethertype": row.ethertype,
        "protocol": row.protocol, "port_range_min": row.port_range_min,
        "port_range_max": row.port_range_max, "remote_ip_prefix": row.remote_ip_prefix,
        "remote_address_group_id": None, "normalized_cidr": spec_of(row).normalized_cidr,
        "remote_group_id": row.remote_group_id, "description": row.description, "tags": [],
        "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at),
        "revision_number": row.revision_number})


def rule_view(rule: Rule, *, policy_id: str | None = None) -> schemas.QosRule:
    """A rule alone, or with ``policy_id`` as an entry of its policy's ``rules``."""
    body = rule_to_dict(rule, with_type=policy_id is not None, qos_policy_id=policy_id)
    return schemas.RULE_MODELS[rule.type.value].model_validate(body)


def policy_view(row: QosPolicy, value: PolicyValue) -> schemas.Policy:
    return schemas.Policy(**_standard(row), shared=row.shared, is_default=row.is_default,
                          rules=[rule_view(r, policy_id=row.id) for r in value.rules])


def subnet_view(row: Subnet) -> schemas.Subnet:
    return schemas.Subnet(
        **_standard(row),
        network_id=row.network_id, ip_version=row.ip_version, cidr=row.cidr,
        gateway_ip=row.gateway_ip,
        allocation_pools=[schemas.AllocationPool(start=p["start"], end=p["end"])
                          for p in row.allocation_pools],
        enable_dhcp=row.enable_dhcp, dns_nameservers=[], host_routes=[],
        ipv6_ra_mode=None, ipv6_address_mode=None, subnetpool_id=None,
        segment_id=None, service_types=[], dns_publish_fixed_ip=None)
