"""Effective policy selection: the port's policy, else its network's, for the ports a backend
shapes (neutron QosRule.should_apply_to_port; OVN skips network device ports)."""

from __future__ import annotations

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.neutron.binding import (
    PolicySource,
    effective_policy_id,
    policy_source,
    resolve_policy,
)
from vmqos.intent.neutron.network import Network, Port

# (device_owner, network policy, port policy, applied ML2/OVS, applied OVN)
TABLE = [
    ("compute:nova", "N", None, "N", "N"),
    ("compute:nova", "N", "P", "P", "P"),
    ("network:dhcp", "N", None, None, None),
    ("network:router_interface", "N", None, None, None),
    ("network:router_interface", "N", "P", "P", None),
    ("network:router_gateway", "N", None, "N", None),
    ("network:floatingip_agent_gateway", "N", None, "N", None),
    ("", "N", None, "N", "N"),
]


def _pair(owner: str, net_policy: str | None, port_policy: str | None) -> tuple[Port, Network]:
    return (Port(id="port1", network_id="net1", device_owner=owner, qos_policy_id=port_policy),
            Network(name="net1", id="net1", qos_policy_id=net_policy))


@pytest.mark.parametrize(("owner", "net_policy", "port_policy", "ovs", "ovn"), TABLE)
def test_spec_table(owner: str, net_policy: str, port_policy: str | None, ovs: str | None,
                    ovn: str | None) -> None:
    port, network = _pair(owner, net_policy, port_policy)
    assert effective_policy_id(port, network, backend="ovs") == ovs
    assert effective_policy_id(port, network, backend="ovn") == ovn
    # The SR-IOV and Linux bridge agents filter with the same should_apply_to_port.
    assert effective_policy_id(port, network, backend="sriovnicswitch") == ovs
    assert effective_policy_id(port, network, backend="linuxbridge") == ovs


@pytest.mark.parametrize("owner", ["neutron:LOADBALANCERV2", "network:distributed",
                                   "network:router_ha_interface", "network:floating_ip"])
def test_other_network_devices_get_no_network_policy(owner: str) -> None:
    port, network = _pair(owner, "N", None)
    assert effective_policy_id(port, network, backend="ovs") is None
    port, network = _pair(owner, "N", "P")
    assert effective_policy_id(port, network, backend="ovs") == "P"
    assert effective_policy_id(port, network, backend="ovn") is None


def test_no_policies() -> None:
    port, network = _pair("compute:nova", None, None)
    assert effective_policy_id(port, network, backend="ovs") is None
    assert policy_source(port, network, backend="ovn") is None
    assert resolve_policy(port, network, backend="ovs").describe() == "none"


def test_port_only_policy() -> None:
    port, network = _pair("compute:nova", None, "P")
    assert policy_source(port, network, backend="ovs") is PolicySource.PORT
    assert resolve_policy(port, network, backend="ovs").describe() == "port policy P"


@pytest.mark.parametrize(("case", "backend", "source", "text"), [
    (("compute:nova", "N", "P"), "ovs", PolicySource.PORT,
     "port policy P (replaces network policy N)"),
    (("compute:nova", "P", "P"), "ovs", PolicySource.PORT, "port policy P"),
    (("compute:nova", "N", None), "ovn", PolicySource.NETWORK, "network policy N"),
    (("network:dhcp", "N", None), "ovs", None,
     "none: network policy N does not apply to network:dhcp ports"),
    (("network:router_interface", "N", "P"), "ovn", None,
     "none: OVN applies no QoS to network:router_interface ports (port policy P ignored)"),
    (("network:router_gateway", "N", None), "ovn", None,
     "none: OVN applies no QoS to network:router_gateway ports (network policy N ignored)"),
])
def test_source_and_explanation(case: tuple[str, str, str | None], backend: str,
                                source: PolicySource | None, text: str) -> None:
    port, network = _pair(*case)
    assert policy_source(port, network, backend=backend) is source
    resolved = resolve_policy(port, network, backend=backend)
    assert resolved.source is source
    assert resolved.policy_id == effective_policy_id(port, network, backend=backend)
    assert resolved.describe() == text


def test_unknown_backend() -> None:
    port, network = _pair("compute:nova", "N", None)
    with pytest.raises(ValidationError) as info:
        effective_policy_id(port, network, backend="midonet")
    assert info.value.key == "backend"
    assert str(info.value) == ("Unknown QoS backend 'midonet'; valid backends: ovs, ovn, "
                               "sriovnicswitch, linuxbridge")
