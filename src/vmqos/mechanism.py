"""What a :class:`~vmqos.limits.Limit` sits on, in the host's own words: a kind and its detail.

Every enforcement plan names the object that enforces a limit (an HTB class, a u32 police
action, an OVS Interface column, an OpenFlow meter, a VF attribute ...). The names are a closed
set, :class:`MechanismKind`; a few carry a detail that only the plan knows (the IFB device, a
meter id, a DSCP mark), so a :class:`Mechanism` is a kind plus the values that fill its
``{}`` fields. ``str(mechanism)`` is the text explain, JSON and the lab report print.

Invariant: a kind's value is its text with one ``{}`` field (``str.format``) per detail value,
so the printed words exist once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Mechanism", "MechanismKind"]


class MechanismKind(StrEnum):
    # libvirt's tc program (plan/render/tc.py) and the host strategy's substitutes
    TC_HTB = "htb class 1:1"
    TC_HTB_ON_IFB = "htb class 1:1 on IFB {} (via u32 mirred)"
    TC_POLICE = "u32 police"
    NONE = "none"                    # a layer that is present but shapes nothing
    # libvirt's ovs-vsctl QoS on an OVS port (plan/render/ovs_libvirt.py)
    LIBVIRT_OVS_QUEUE = "linux-htb queue 0"
    LIBVIRT_OVS_POLICING = "ingress_policing"
    # the Neutron OVS agent (plan/neutron/ovs.py)
    OVS_POLICING = "Interface ingress_policing_rate/burst (tc police)"
    OVS_DPDK_POLICING = "Interface ingress_policing (DPDK ingress policer)"
    OVS_HTB_QUEUE = "Port qos linux-htb queue 0"
    OVS_DPDK_EGRESS_POLICER = "Port qos egress-policer (DPDK srTCM)"
    OVS_MIN_BW_QUEUE = "linux-htb queue {0} (pkt_mark {0})"
    OVS_DSCP_FLOW = "OpenFlow table 0 mod_nw_tos:{} (IPv4, IPv6)"
    OVS_METER = "OpenFlow meter {} ({}) table {}"
    # ML2/OVN (plan/neutron/ovn.py)
    OVN_METER = "OVN QoS {} ({}) meter"
    OVN_DSCP = "OVN QoS {} ({}) ip.dscp"
    OVN_LSP_OPTIONS = "LSP options qos_max_rate/qos_burst/qos_min_rate (HTB on the physical NIC)"
    # the SR-IOV agent (plan/neutron/sriov.py)
    SRIOV_VF_RATE = "VF max_tx_rate/min_tx_rate"
    # the Linux bridge agent (plan/neutron/linuxbridge.py)
    LINUXBRIDGE_DROP = "ingress qdisc u32 prio {} drop"
    LINUXBRIDGE_POLICE = "ingress qdisc u32 prio {} police"
    LINUXBRIDGE_TBF = "root tbf latency {}ms"
    LINUXBRIDGE_DSCP = "iptables mangle DSCP --set-dscp {:#04x}"

    @property
    def small_burst_drops_tcp(self) -> bool:
        """Explain warns ``burst-too-small-for-tcp`` when this kind enforces the effective limit
        with too small a burst.

        These are the kinds whose text said "police" when explain matched the text: tc's u32
        police (libvirt, the host strategy and the Linux bridge agent), the OVS agent's
        ingress_policing (kernel and DPDK) and its DPDK egress-policer. libvirt's own OVS
        ``ingress_policing`` and the OpenFlow/OVN meters police too but are not counted, as
        before (tests/unit/test_mechanism.py pins the set).
        """
        return self in _SMALL_BURST_WARNED


_SMALL_BURST_WARNED = frozenset({
    MechanismKind.TC_POLICE,
    MechanismKind.OVS_POLICING,
    MechanismKind.OVS_DPDK_POLICING,
    MechanismKind.OVS_DPDK_EGRESS_POLICER,
    MechanismKind.LINUXBRIDGE_POLICE,
})


@dataclass(frozen=True, slots=True)
class Mechanism:
    """A kind and the values of its ``{}`` fields (none for most kinds)."""

    kind: MechanismKind
    detail: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        return self.kind.value.format(*self.detail) if self.detail else self.kind.value

    @property
    def small_burst_drops_tcp(self) -> bool:
        return self.kind.small_burst_drops_tcp
