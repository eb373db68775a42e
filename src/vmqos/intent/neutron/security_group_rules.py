"""Neutron security group rules: the attribute converters and the checks of a new rule.

Neutron checks a rule in two passes, and so does this module:

* the converters of the rule's attribute map run on the request body
  (``neutron/extensions/securitygroup.py``: ``convert_protocol``,
  ``convert_validate_port_value``, ``convert_ethertype_to_case_insensitive``,
  ``convert_ip_prefix_to_cidr``);
* then the plugin's checks on the whole rule, in ``neutron/db/securitygroups_db.py``
  ``_validate_base_security_group_rule_attributes`` order: legacy IPv6 ICMP names become
  ``ipv6-icmp`` (``_make_canonical_ipv6_icmp_protocol``), the whole range 1-65535 becomes no
  range (``_make_canonical_port_range``), then ``_validate_port_range``,
  ``_validate_ip_prefix``, ``_validate_ethertype_and_protocol`` and
  ``_validate_multiple_remote_entites``.

A rule that passes is a :class:`RuleSpec`; :func:`RuleSpec.key` is ``_rule_to_key``, the
identity two rules of a group may not share (``SecurityGroupRuleExists``): protocol names and
numbers compare equal, and ``0.0.0.0/0``, ``::/0`` and no prefix are the same remote. Every
error is a :class:`~vmqos.errors.ValidationError` carrying Neutron's exception name as its
``kind`` and neutron's message. One departure: a protocol that is neither a string nor an
integer (a JSON ``true``, which Neutron's ``int()`` reads as 1 and then stores as ``"True"``)
is refused as an unsupported protocol.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, replace
from types import MappingProxyType

from vmqos.errors import ValidationError

__all__ = [
    "ETHERTYPES",
    "IP_PROTOCOL_MAP",
    "RuleSpec",
    "check_rule",
    "convert_ethertype",
    "convert_ip_prefix",
    "convert_port",
    "convert_protocol",
]

# neutron_lib/constants.py IP_PROTOCOL_MAP, in its order (the order of Neutron's message).
IP_PROTOCOL_MAP = MappingProxyType({
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
    "ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112})
# IP_PROTOCOL_NUM_TO_NAME_MAP: one name per number, the legacy "icmpv6" left out; for 0 the
# later of hopopt and ip wins, as in the dict comprehension that builds it.
_NUM_TO_NAME = MappingProxyType({str(num): name for name, num in IP_PROTOCOL_MAP.items()
                                 if name != "icmpv6"})
_NAME_ALIASES = MappingProxyType({"icmpv6": "ipv6-icmp"})
_PROTO_ANY = (None, "any")                                  # neutron/common/_constants.py
_SUPPORTED_PROTOCOLS = (*_PROTO_ANY, *IP_PROTOCOL_MAP)      # sg_supported_protocols
_PORT_PROTOCOLS = (33, 132, 6, 17, 136)                     # SG_PORT_PROTO_NUMS
_PORT_PROTOCOL_NAMES = ("dccp", "sctp", "tcp", "udp", "udplite")
_ICMP_NUMBERS = (1, 58)
_IPV6_ICMP_LEGACY = ("icmp", "icmpv6")
_IPV6_ONLY = ("ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts",
              "ipv6-route", "41", "44", "58", "59", "60", "43")
ETHERTYPES = ("IPv4", "IPv6")
_ANY_PREFIX = ("0.0.0.0/0", "::/0", None)
_PORT_MAX = 65535


def _invalid(kind: str, message: str, key: str, value: object) -> ValidationError:
    return ValidationError(message, key=key, value=value, kind=kind)


# --- the attribute converters -------------------------------------------------------------------


def convert_protocol(value: object) -> str | None:
    """``convert_protocol``: any -> None, a number 0-255 as given, a known name lower-cased."""
    if value in _PROTO_ANY:
        return None
    bad = _invalid("SecurityGroupRuleInvalidProtocol",
                   f"Security group rule protocol {value} not supported. Only protocol values "
                   f"{_SUPPORTED_PROTOCOLS!r} and integer representations [0 to 255] are "
                   "supported.", "protocol", value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad
    text = str(value)
    try:
        number = int(value)
    except ValueError:  # only a str gets here: int() takes any int
        if text.lower() in IP_PROTOCOL_MAP:
            return text.lower()
        raise bad from None
    if 0 <= number <= 255:
        return text
    raise bad


def convert_port(key: str, value: object) -> int | None:
    """``convert_validate_port_value``: ``oslo_utils.netutils.is_valid_port`` (``int()`` of
    it within 0-65535), else ``SecurityGroupInvalidPortValue``."""
    if value is None:
        return None
    number = -1
    if isinstance(value, str | int | float):
        with contextlib.suppress(ValueError, OverflowError):  # "x", float("inf")
            number = int(value)
    if 0 <= number <= _PORT_MAX:
        return number
    raise _invalid("SecurityGroupInvalidPortValue", f"Invalid value for port {value}", key,
                   value)


def convert_ethertype(value: object) -> str:
    """``convert_ethertype_to_case_insensitive``."""
    if isinstance(value, str):
        for ethertype in ETHERTYPES:
            if ethertype.lower() == value.lower():
                return ethertype
    raise _invalid("SecurityGroupRuleInvalidEtherType",
                   f"Security group rule for ethertype '{value}' not supported. Allowed "
                   f"values are {list(ETHERTYPES)!r}.", "ethertype", value)


def convert_ip_prefix(value: object) -> str | None:
    """``convert_ip_prefix_to_cidr``: ``str(netaddr.IPNetwork(value))``, which keeps the host
    bits and adds the full mask to a bare address (``10.0.0.1`` -> ``10.0.0.1/32``)."""
    if not value:
        return None
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return str(ipaddress.ip_interface(value))
    except (ValueError, TypeError):
        raise _invalid("InvalidCIDR", f"Invalid CIDR {value} given as IP prefix.",
                       "remote_ip_prefix", value) from None


# --- the rule -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule's matching attributes, converted and checked."""

    security_group_id: str
    direction: str
    ethertype: str
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    remote_address_group_id: str | None = None

    @property
    def normalized_cidr(self) -> str | None:
        """The prefix with its host bits cleared (the ``normalized_cidr`` Neutron shows)."""
        if self.remote_ip_prefix is None:
            return None
        return str(ipaddress.ip_interface(self.remote_ip_prefix).network)

    def key(self) -> str:
        """``_rule_to_key``: what two rules of one group must not both have."""
        def shown(value: object) -> str:
            return "+" if value is None else str(value)

        prefix = "+" if self.remote_ip_prefix in _ANY_PREFIX else self.remote_ip_prefix
        protocol = "+" if self.protocol is None else str(_name_and_number(self.protocol,
                                                                           self.ethertype))
        return "_".join((self.direction, self.ethertype, shown(self.port_range_max),
                         shown(self.port_range_min), protocol, shown(self.remote_group_id),
                         shown(self.remote_address_group_id), shown(prefix),
                         self.security_group_id))


def _name_and_number(protocol: str, ethertype: str) -> list[str]:
    """``_get_ip_proto_name_and_num``."""
    if ethertype == "IPv6":
        if protocol in _IPV6_ICMP_LEGACY:
            protocol = "ipv6-icmp"
        elif protocol == "1":
            protocol = "58"
    if protocol in IP_PROTOCOL_MAP:
        return [protocol, str(IP_PROTOCOL_MAP[protocol])]
    if protocol in _NUM_TO_NAME:
        return [_NUM_TO_NAME[protocol], protocol]
    return [protocol, protocol]


def _protocol_number(protocol: str) -> int:
    """``_get_ip_proto_number`` of a protocol the converter accepted."""
    protocol = _NAME_ALIASES.get(protocol, protocol)
    return IP_PROTOCOL_MAP[protocol] if protocol in IP_PROTOCOL_MAP else int(protocol)


def _canonical(rule: RuleSpec) -> RuleSpec:
    if rule.ethertype == "IPv6":
        if rule.protocol in _IPV6_ICMP_LEGACY:
            rule = replace(rule, protocol="ipv6-icmp")
        elif rule.protocol == "1":
            rule = replace(rule, protocol="58")
    if rule.port_range_min == 1 and rule.port_range_max == _PORT_MAX:
        rule = replace(rule, port_range_min=None, port_range_max=None)
    return rule


def _check_port_range(rule: RuleSpec) -> None:
    low, high = rule.port_range_min, rule.port_range_max
    if low is None and high is None:
        return
    if rule.protocol is None:
        raise _invalid("SecurityGroupProtocolRequiredWithPorts",
                       "Must also specify protocol if port range is given.", "protocol", None)
    number = _protocol_number(rule.protocol)
    if number in _PORT_PROTOCOLS:
        if low == 0 or high == 0:
            raise _invalid("SecurityGroupInvalidPortValue", "Invalid value for port 0",
                           "port_range_min" if low == 0 else "port_range_max", 0)
        if low is None or high is None or low > high:
            raise _invalid("SecurityGroupInvalidPortRange",
                           "For TCP/UDP protocols, port_range_min must be <= port_range_max",
                           "port_range_min", low)
    elif number in _ICMP_NUMBERS:
        for key, field, value in (("port_range_min", "type", low),
                                  ("port_range_max", "code", high)):
            if value is not None and not 0 <= value <= 255:
                raise _invalid("SecurityGroupInvalidIcmpValue",
                               f"Invalid value for ICMP {field} ({key}) {value}. It must be 0 "
                               "to 255.", key, value)
        if low is None and high is not None:
            raise _invalid("SecurityGroupMissingIcmpType",
                           f"ICMP code (port-range-max) {high} is provided but ICMP type "
                           "(port-range-min) is missing.", "port_range_min", None)
    else:
        names = ", ".join(name.upper() for name in _PORT_PROTOCOL_NAMES)
        raise _invalid("SecurityGroupInvalidProtocolForPort",
                       f"Ports cannot be specified for protocol {number}. Ports are only "
                       f"supported for {names}.", "protocol", rule.protocol)


def _check_prefix(rule: RuleSpec) -> None:
    if rule.remote_ip_prefix is None:
        return
    version = ipaddress.ip_interface(rule.remote_ip_prefix).version
    if rule.ethertype != f"IPv{version}":
        raise _invalid("SecurityGroupRuleParameterConflict",
                       f"Conflicting value ethertype {rule.ethertype} for CIDR "
                       f"{rule.remote_ip_prefix}", "ethertype", rule.ethertype)


def check_rule(rule: RuleSpec) -> RuleSpec:
    """The plugin's checks of a new rule, on its converted attributes; the canonical rule."""
    rule = _canonical(rule)
    _check_port_range(rule)
    _check_prefix(rule)
    if rule.protocol in _IPV6_ONLY and rule.ethertype == "IPv4":
        raise _invalid("SecurityGroupEthertypeConflictWithProtocol",
                       f"Invalid ethertype {rule.ethertype} for protocol {rule.protocol}.",
                       "ethertype", rule.ethertype)
    remotes = [r for r in (rule.remote_ip_prefix, rule.remote_group_id,
                           rule.remote_address_group_id) if r]
    if len(remotes) > 1:
        raise _invalid("SecurityGroupMultipleRemoteEntites",
                       "Only one of remote_ip_prefix or remote_group_id or "
                       "remote_address_group_id may be provided.", "remote_group_id",
                       rule.remote_group_id)
    return rule
