"""Security group rules as Neutron converts, checks and compares them
(vmqos.intent.neutron.security_group_rules against neutron/extensions/securitygroup.py and
neutron/db/securitygroups_db.py: the converters, _validate_* and _rule_to_key)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.neutron.security_group_rules import (
    RuleSpec,
    check_rule,
    convert_ethertype,
    convert_ip_prefix,
    convert_port,
    convert_protocol,
)

SG = "6f0a6f4e-8b1a-4a3e-9d55-0c1f2e3d4c5b"
RULE = RuleSpec(security_group_id=SG, direction="ingress", ethertype="IPv4", protocol="tcp",
                port_range_min=22, port_range_max=22, remote_ip_prefix=None,
                remote_group_id=None)


@pytest.mark.parametrize(("given", "converted"), [
    ("any", None), (None, None), ("TCP", "tcp"), ("icmpv6", "icmpv6"), ("6", "6"), (6, "6"),
    ("0", "0"), (255, "255"),
])
def test_protocols_convert_as_neutrons(given: object, converted: str | None) -> None:
    assert convert_protocol(given) == converted


@pytest.mark.parametrize("given", ["tcpx", 256, -1, "300", [], True])
def test_an_unknown_protocol_is_refused_with_the_supported_list(given: object) -> None:
    with pytest.raises(ValidationError) as caught:
        convert_protocol(given)
    assert caught.value.kind == "SecurityGroupRuleInvalidProtocol"
    assert caught.value.message.startswith(
        f"Security group rule protocol {given} not supported. Only protocol values (None, "
        "'any', 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', "
        "'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', ")
    assert caught.value.message.endswith(
        "'vrrp') and integer representations [0 to 255] are supported.")


def test_ports_ethertypes_and_prefixes_convert_as_neutrons() -> None:
    assert convert_port("port_range_min", "80") == 80
    assert convert_port("port_range_min", None) is None
    assert convert_port("port_range_max", 0) == 0
    with pytest.raises(ValidationError, match=r"^Invalid value for port 65536$"):
        convert_port("port_range_max", 65536)
    with pytest.raises(ValidationError, match=r"^Invalid value for port x$"):
        convert_port("port_range_max", "x")
    assert convert_ethertype("ipv6") == "IPv6"
    with pytest.raises(ValidationError) as caught:
        convert_ethertype("IPv5")
    assert caught.value.message == ("Security group rule for ethertype 'IPv5' not supported. "
                                    "Allowed values are ['IPv4', 'IPv6'].")
    # netaddr.IPNetwork keeps the host bits and gives a bare address its full mask.
    assert convert_ip_prefix("10.0.0.1") == "10.0.0.1/32"
    assert convert_ip_prefix("10.0.0.1/24") == "10.0.0.1/24"
    assert convert_ip_prefix("2001:DB8::/32") == "2001:db8::/32"
    assert convert_ip_prefix("") is None
    with pytest.raises(ValidationError, match=r"^Invalid CIDR 10\.0\.0\.0/33 given as IP "
                                              r"prefix\.$"):
        convert_ip_prefix("10.0.0.0/33")


@pytest.mark.parametrize(("change", "kind", "message"), [
    ({"port_range_min": 23}, "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ({"port_range_max": None}, "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ({"port_range_min": 0}, "SecurityGroupInvalidPortValue", "Invalid value for port 0"),
    ({"protocol": None}, "SecurityGroupProtocolRequiredWithPorts",
     "Must also specify protocol if port range is given."),
    ({"protocol": "gre"}, "SecurityGroupInvalidProtocolForPort",
     "Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, "
     "TCP, UDP, UDPLITE."),
    ({"protocol": "icmp", "port_range_min": 300}, "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255."),
    ({"protocol": "icmp", "port_range_min": None, "port_range_max": 4},
     "SecurityGroupMissingIcmpType",
     "ICMP code (port-range-max) 4 is provided but ICMP type (port-range-min) is missing."),
    ({"remote_ip_prefix": "2001:db8::/32"}, "SecurityGroupRuleParameterConflict",
     "Conflicting value ethertype IPv4 for CIDR 2001:db8::/32"),
    ({"protocol": "ipv6-icmp", "port_range_min": None, "port_range_max": None},
     "SecurityGroupEthertypeConflictWithProtocol",
     "Invalid ethertype IPv4 for protocol ipv6-icmp."),
    ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": SG},
     "SecurityGroupMultipleRemoteEntites",
     "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be "
     "provided."),
])
def test_the_plugin_checks_refuse_with_neutrons_exception(change: dict[str, object], kind: str,
                                                           message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_rule(replace(RULE, **change))  # type: ignore[arg-type]
    assert (caught.value.kind, caught.value.message) == (kind, message)


def test_checks_make_the_rule_canonical() -> None:
    whole = check_rule(replace(RULE, port_range_min=1, port_range_max=65535))
    assert (whole.port_range_min, whole.port_range_max) == (None, None)
    legacy = check_rule(replace(RULE, ethertype="IPv6", protocol="icmp", port_range_min=128,
                                port_range_max=0))
    assert legacy.protocol == "ipv6-icmp"
    assert check_rule(replace(RULE, ethertype="IPv6", protocol="1", port_range_min=None,
                              port_range_max=None)).protocol == "58"


def test_equal_rules_share_a_key_whatever_their_spelling() -> None:
    assert replace(RULE, protocol="6").key() == RULE.key()            # number and name
    anywhere = replace(RULE, remote_ip_prefix="0.0.0.0/0")
    assert anywhere.key() == RULE.key()                               # any is no prefix
    assert replace(RULE, remote_ip_prefix="10.0.0.0/8").key() != RULE.key()
    assert replace(RULE, direction="egress").key() != RULE.key()
    assert RULE.key() == f"ingress_IPv4_22_22_['tcp', '6']_+_+_+_{SG}"
    assert replace(RULE, ethertype="IPv6", protocol="icmp").key() == replace(
        RULE, ethertype="IPv6", protocol="58").key()


def test_the_normalized_cidr_clears_the_host_bits() -> None:
    assert replace(RULE, remote_ip_prefix="10.1.2.3/8").normalized_cidr == "10.0.0.0/8"
    assert RULE.normalized_cidr is None
