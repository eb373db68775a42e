"""How Neutron shows networks, ports, security groups and QoS policies (field sets of OSC
network/v2/{network,port}.py _get_columns
and neutron-lib api-ref/source/v2/qos.inc). Attributes the default policy shows to admins only
(``provider:*``, ``binding:host_id``/``vif_type``/``vif_details``/``profile``,
``resource_request``) are left out for everybody else, as Neutron's policy engine strips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from vmqos.intent.neutron.model import QosPolicy as PolicyValue
from vmqos.intent.neutron.rules import rule_to_dict
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Network, Port, QosPolicy, SecurityGroup, Subnet

__all__ = ["network_view", "policy_view", "port_view", "security_group_view", "subnet_view",
           "timestamp"]


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _standard(row: Network | Port | SecurityGroup | QosPolicy | Subnet) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description,
            "project_id": row.project_id, "tenant_id": row.project_id,
            "revision_number": row.revision_number, "created_at": timestamp(row.created_at),
            "updated_at": timestamp(row.updated_at), "tags": []}


def network_view(row: Network, who: TokenInfo,
                 subnets: Sequence[str] = ()) -> dict[str, Any]:
    view = _standard(row)
    view.update({
        "admin_state_up": row.admin_state_up, "status": "ACTIVE", "subnets": list(subnets),
        "shared": row.shared, "mtu": row.mtu, "port_security_enabled": row.port_security_enabled,
        "router:external": row.router_external, "qos_policy_id": row.qos_policy_id,
        "availability_zone_hints": [], "availability_zones": ["nova"],
        "ipv4_address_scope": None, "ipv6_address_scope": None, "l2_adjacency": True,
        "dns_domain": "", "is_default": False,
    })
    if who.is_admin:
        view.update({"provider:network_type": row.network_type,
                     "provider:physical_network": row.physical_network or None,
                     "provider:segmentation_id": row.segmentation_id or None})
    return view


def port_view(row: Port, who: TokenInfo, network_policy_id: str | None) -> dict[str, Any]:
    view = _standard(row)
    view.update({
        "network_id": row.network_id, "mac_address": row.mac_address,
        "admin_state_up": row.admin_state_up, "status": row.status,
        "device_id": row.device_id, "device_owner": row.device_owner,
        "fixed_ips": list(row.fixed_ips), "allowed_address_pairs": [],
        "extra_dhcp_opts": [], "security_groups": list(row.security_group_ids),
        "port_security_enabled": row.port_security_enabled,
        "binding:vnic_type": row.vnic_type, "qos_policy_id": row.qos_policy_id,
        "qos_network_policy_id": network_policy_id, "dns_name": "", "dns_assignment": [],
        "propagate_uplink_status": False,
    })
    if who.is_admin:
        view.update({"binding:host_id": row.host_id, "binding:profile": dict(row.profile),
                     "binding:vif_type": row.vif_type,
                     "binding:vif_details": dict(row.vif_details), "resource_request": None})
    return view


def security_group_view(row: SecurityGroup) -> dict[str, Any]:
    view = _standard(row)
    view.update({"security_group_rules": list(row.rules), "stateful": True, "shared": False})
    return view


def policy_view(row: QosPolicy, value: PolicyValue) -> dict[str, Any]:
    view = _standard(row)
    view.update({"shared": row.shared, "is_default": row.is_default,
                 "rules": [rule_to_dict(r, with_type=True, qos_policy_id=row.id)
                           for r in value.rules]})
    return view


def subnet_view(row: Subnet) -> dict[str, Any]:
    view = _standard(row)
    view.update({"network_id": row.network_id, "ip_version": row.ip_version,
                 "cidr": row.cidr, "gateway_ip": row.gateway_ip,
                 "allocation_pools": list(row.allocation_pools),
                 "enable_dhcp": row.enable_dhcp, "dns_nameservers": [], "host_routes": [],
                 "ipv6_ra_mode": None, "ipv6_address_mode": None, "subnetpool_id": None,
                 "segment_id": None, "service_types": [], "dns_publish_fixed_ip": None})
    return view
