"""Neutron's attribute maps for networks, ports and security groups, and how a body is checked.

This is ``neutron.api.v2.base.Controller.prepare_request_body`` for resources whose rules are
not QoS (QoS bodies are the core's, :mod:`vmqos.intent.neutron.rules` and
:mod:`vmqos.intent.neutron.policy`): unknown attributes, read-only attributes, required ones, then
each attribute's converter and validator, with neutron-lib's messages. The project twins
``tenant_id``/``project_id`` come first, before unknown attributes, as for every Neutron body
(:func:`vmqos.intent.neutron.project.populate_project_id`, with the caller :func:`requester`
makes). Attributes the default policy reserves for admins (``provider:*``, ``shared``,
``binding:host_id`` ...) are refused with Neutron's 403
``(rule:create_network:provider:network_type) is disallowed by policy``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from vmqos.api.context import neutron_forbidden
from vmqos.errors import ValidationError
from vmqos.intent.neutron.convert import convert_to_boolean, convert_to_int, validate_string
from vmqos.intent.neutron.project import Requester, populate_project_id
from vmqos.intent.neutron.security_group_rules import (
    convert_ethertype,
    convert_ip_prefix,
    convert_port,
    convert_protocol,
)
from vmqos.store.identity import TokenInfo

__all__ = ["NETWORK", "PORT", "SECURITY_GROUP", "SECURITY_GROUP_RULE", "VNIC_TYPES", "Kind",
           "parse_body", "requester"]


def requester(who: TokenInfo) -> Requester:
    """The caller as neutron-lib's context sees it: ``ContextBase.can_set_project_id`` is
    ``is_admin`` (``context_is_admin``: the ``admin`` role) or ``is_service_role`` (``service``);
    the ``context_can_set_project_id`` rule grants it to no one else by default."""
    return Requester(project_id=who.project_id,
                     can_set_project_id=who.is_admin or "service" in who.roles)


class Kind(Enum):
    STRING = "string"            # neutron-lib's type:string
    NAME = "name"                # neutron-lib's type:name_string (vmqos.intent.printable)
    BOOL = "bool"
    INT = "int"
    UUID_OR_NONE = "uuid-or-none"
    UUID_LIST = "uuid-list"
    MAC = "mac"
    LIST = "list"
    DICT = "dict"
    CHOICE = "choice"
    ANY = "any"              # no converter or validator in Neutron's map either
    PROTOCOL = "protocol"    # a security group rule's: vmqos.intent.neutron.security_group_rules
    PORT = "port"
    ETHERTYPE = "ethertype"
    IP_PREFIX = "ip-prefix"


@dataclass(frozen=True, slots=True)
class Attr:
    name: str
    kind: Kind
    post: bool = True
    put: bool = True
    required: bool = False
    admin: bool = False          # the default policy reserves it for admins
    max_len: int = 255
    low: int = 0
    high: int = 2**31 - 1
    choices: tuple[str, ...] = ()




def _ro(name: str) -> Attr:
    """A read-only attribute: shown, never accepted in a body."""
    return Attr(name, Kind.STRING, post=False, put=False)

VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical",
              "virtio-forwarder", "smart-nic", "vdpa", "accelerator-direct",
              "accelerator-direct-physical", "remote-managed")

# Names are type:name_string for networks, ports and subnets (neutron-lib
# api/definitions/network.py, port.py, subnet.py), but only type:name_not_default, a plain
# string, for security groups (neutron/extensions/securitygroup.py): Neutron stores control
# characters in a security group's name, and in every description (type:string).
_COMMON = (
    _ro("id"),
    Attr("description", Kind.STRING), Attr("tenant_id", Kind.STRING, put=False),
    Attr("project_id", Kind.STRING, put=False),
    *(_ro(a) for a in ("created_at", "updated_at", "revision_number",
                                             "tags", "status")),
)
NETWORK: Mapping[str, Attr] = {a.name: a for a in (
    *_COMMON, Attr("name", Kind.NAME),
    Attr("admin_state_up", Kind.BOOL), Attr("shared", Kind.BOOL, admin=True),
    Attr("qos_policy_id", Kind.UUID_OR_NONE), Attr("mtu", Kind.INT, low=68, high=65535),
    Attr("port_security_enabled", Kind.BOOL), Attr("router:external", Kind.BOOL, admin=True),
    Attr("provider:network_type", Kind.STRING, admin=True, put=False),
    Attr("provider:physical_network", Kind.STRING, admin=True, put=False, max_len=64),
    Attr("provider:segmentation_id", Kind.INT, admin=True, put=False),
    Attr("availability_zone_hints", Kind.LIST, put=False), Attr("dns_domain", Kind.STRING),
    *(_ro(a) for a in ("subnets", "availability_zones", "segments",
                                             "ipv4_address_scope", "ipv6_address_scope",
                                             "l2_adjacency")),
)}
PORT: Mapping[str, Attr] = {a.name: a for a in (
    *_COMMON, Attr("name", Kind.NAME),
    Attr("network_id", Kind.UUID_OR_NONE, required=True, put=False),
    Attr("admin_state_up", Kind.BOOL), Attr("mac_address", Kind.MAC, put=False),
    Attr("fixed_ips", Kind.LIST), Attr("device_id", Kind.STRING),
    Attr("device_owner", Kind.STRING), Attr("qos_policy_id", Kind.UUID_OR_NONE),
    Attr("security_groups", Kind.UUID_LIST), Attr("port_security_enabled", Kind.BOOL),
    Attr("allowed_address_pairs", Kind.LIST), Attr("extra_dhcp_opts", Kind.LIST),
    Attr("dns_name", Kind.STRING), Attr("propagate_uplink_status", Kind.BOOL),
    Attr("binding:vnic_type", Kind.CHOICE, choices=VNIC_TYPES),
    Attr("binding:host_id", Kind.STRING, admin=True),
    Attr("binding:profile", Kind.DICT, admin=True),
    *(_ro(a) for a in ("binding:vif_type", "binding:vif_details",
                                             "qos_network_policy_id", "resource_request",
                                             "dns_assignment")),
)}
SECURITY_GROUP: Mapping[str, Attr] = {a.name: a for a in (
    *_COMMON, Attr("name", Kind.STRING), Attr("stateful", Kind.BOOL),
    _ro("security_group_rules"),
)}
# neutron/extensions/securitygroup.py RESOURCE_ATTRIBUTE_MAP's rules, in its order, then what
# the extensions vmqos lists add (the description, the read-only standard attributes).
SECURITY_GROUP_RULE: Mapping[str, Attr] = {a.name: a for a in (
    _ro("id"),
    Attr("security_group_id", Kind.STRING, put=False, required=True, max_len=36),
    Attr("remote_group_id", Kind.ANY, put=False),
    Attr("direction", Kind.CHOICE, put=False, required=True, choices=("ingress", "egress")),
    Attr("protocol", Kind.PROTOCOL, put=False),
    Attr("port_range_min", Kind.PORT, put=False),
    Attr("port_range_max", Kind.PORT, put=False),
    Attr("ethertype", Kind.ETHERTYPE, put=False),
    Attr("remote_ip_prefix", Kind.IP_PREFIX, put=False),
    Attr("tenant_id", Kind.STRING, put=False),
    Attr("project_id", Kind.STRING, put=False),
    Attr("description", Kind.STRING),
    *(_ro(a) for a in ("normalized_cidr", "created_at", "updated_at", "revision_number",
                       "tags")),
)}

_MAC = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")


def _invalid(attr: str, reason: str, value: object) -> ValidationError:
    return ValidationError(f"Invalid input for {attr}. Reason: {reason}.", key=attr,
                           value=value)


def _uuid(attr: Attr, value: object) -> str:
    if isinstance(value, str):
        try:
            uuid.UUID(value)
            return value
        except ValueError:
            pass
    raise _invalid(attr.name, f"'{value}' is not a valid UUID", value)


def _convert(attr: Attr, value: Any) -> Any:
    kind = attr.kind
    if kind is Kind.STRING or kind is Kind.NAME:
        return validate_string(attr.name, value, attr.max_len, name_string=kind is Kind.NAME)
    if kind is Kind.BOOL:
        return convert_to_boolean(attr.name, value)
    if kind is Kind.INT:
        number = convert_to_int(attr.name, value)
        if not attr.low <= number <= attr.high:
            raise _invalid(attr.name, f"'{number}' is not in range {attr.low} through "
                                      f"{attr.high}", value)
        return number
    if kind is Kind.UUID_OR_NONE:
        return None if value is None else _uuid(attr, value)
    if kind is Kind.UUID_LIST:
        if not isinstance(value, list):
            raise _invalid(attr.name, f"'{value}' is not a list", value)
        return [_uuid(attr, v) for v in value]
    if kind is Kind.MAC:
        if not isinstance(value, str) or not _MAC.match(value):
            raise _invalid(attr.name, f"'{value}' is not a valid MAC address", value)
        return value.lower().replace("-", ":")
    if kind is Kind.LIST:
        if not isinstance(value, list):
            raise _invalid(attr.name, f"'{value}' is not a list", value)
        return value
    if kind is Kind.DICT:
        if not isinstance(value, dict):
            raise _invalid(attr.name, f"'{value}' is not a dictionary", value)
        return value
    if kind is Kind.ANY:
        return value
    if kind is Kind.PROTOCOL:
        return convert_protocol(value)
    if kind is Kind.PORT:
        return convert_port(attr.name, value)
    if kind is Kind.ETHERTYPE:
        return convert_ethertype(value)
    if kind is Kind.IP_PREFIX:
        return convert_ip_prefix(value)
    if value not in attr.choices:
        raise _invalid(attr.name, f"{value} is not in valid_values", value)
    return value


def parse_body(resource: str, body: Mapping[str, Any], attrs: Mapping[str, Attr], *,
               post: bool, who: TokenInfo) -> dict[str, Any]:
    """Validate the inner mapping of ``{"<resource>": {...}}``; returns converted values."""
    body = populate_project_id(body, requester(who))
    unknown = sorted(set(body) - set(attrs))
    if unknown:
        names = ", ".join(unknown)
        raise ValidationError(f"Unrecognized attribute(s) '{names}'", key=names,
                              value=body[unknown[0]])
    for name, attr in attrs.items():
        if name in body and not (attr.post if post else attr.put):
            raise ValidationError(f"Attribute '{name}' not allowed in POST" if post
                                  else f"Cannot update read-only attribute {name}",
                                  key=name, value=body[name])
        if post and attr.required and name not in body:
            raise ValidationError(f"Failed to parse request. Required attribute '{name}' "
                                  "not specified", key=name, value=None)
    # convert_values walks the map, not the body: tenant_id is checked before its twin.
    out = {name: _convert(attr, body[name]) for name, attr in attrs.items() if name in body}
    action = "create" if post else "update"
    for name in out:
        if attrs[name].admin and not who.is_admin:
            raise neutron_forbidden(f"{action}_{resource}:{name}")
    return out
