"""Core vocabulary shared by every layer: traffic direction and how a VM port is attached.

Direction is defined exactly once, here, from the **VM's point of view**:

* ``Direction.INBOUND``  — traffic *to* the guest. Nova ``quota:vif_inbound_*``, libvirt
  ``<inbound>``, Neutron ``direction="ingress"``.
* ``Direction.OUTBOUND`` — traffic *from* the guest. Nova ``quota:vif_outbound_*``, libvirt
  ``<outbound>``, Neutron ``direction="egress"``.

Every host-side name (tc root qdisc vs ``ingress`` qdisc, OVS ``ingress_policing_*`` vs
``linux-htb`` queue, OVN ``from-lport``/``to-lport``, SR-IOV ``max_tx_rate``) is derived from a
direction by :func:`host_view`, and nowhere else. A tap device's transmit side is the guest's
receive side, so on taps the names look "swapped"; on macvtap they do not (libvirt's
``virDomainNetTypeSharesHostView``).
"""

from __future__ import annotations

from enum import Enum, StrEnum

__all__ = ["Direction", "Enforcer", "NeutronBackend", "VifType", "host_view"]


class Direction(Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"

    @property
    def neutron(self) -> str:
        """Neutron's spelling: ``ingress`` (to the VM) or ``egress`` (from the VM)."""
        return "ingress" if self is Direction.INBOUND else "egress"

    @classmethod
    def from_neutron(cls, value: str) -> Direction:
        if value == "ingress":
            return cls.INBOUND
        if value == "egress":
            return cls.OUTBOUND
        raise ValueError(f"not a Neutron direction: {value!r}")

    @property
    def arrow(self) -> str:
        return "to VM" if self is Direction.INBOUND else "from VM"


class VifType(Enum):
    """How a Neutron port is plugged into the guest, in Nova/os-vif terms.

    The value is vmqos's own short name (used in scenario files and ``--vif-type``).
    """

    OVS_HYBRID = "bridge"            # os-vif VIFBridge: tap in a qbr Linux bridge, qvo into br-int
    ETHERNET = "ethernet"            # os-vif OVS native with delegated plug: a bare tap
    OVS_BRIDGE = "ovs"               # <interface type='bridge'> + <virtualport type='openvswitch'>
    MACVTAP = "direct"               # legacy macvtap: <interface type='direct'>
    VHOSTUSER = "vhostuser"          # os-vif VIFVHostUser: a socket, no kernel device
    HOSTDEV = "hostdev"              # os-vif VIFHostDevice: a VF whose representor is in br-int
    HW_VEB = "hw_veb"                # SR-IOV NIC agent's VF: Nova's legacy get_config_hw_veb

    @property
    def libvirt_type(self) -> str:
        """The ``<interface type=...>`` libvirt receives."""
        return {
            VifType.OVS_HYBRID: "bridge",
            VifType.ETHERNET: "ethernet",
            VifType.OVS_BRIDGE: "bridge",
            VifType.MACVTAP: "direct",
            VifType.VHOSTUSER: "vhostuser",
            VifType.HOSTDEV: "hostdev",
            VifType.HW_VEB: "hostdev",
        }[self]

    @property
    def nova_sets_bandwidth(self) -> bool:
        """Nova writes ``<bandwidth>`` for every VIF type except the os-vif vhost-user and host
        devices (``_get_config_os_vif``, Nova bug #1814882, Stein). The legacy SR-IOV path
        (``get_config_hw_veb``) does write it, onto the VF's ``<interface type='hostdev'>``."""
        return self not in (VifType.VHOSTUSER, VifType.HOSTDEV)

    @property
    def libvirt_refuses_bandwidth(self) -> bool:
        """libvirt cannot shape a VF: it refuses ``<bandwidth>`` on a ``hostdev`` interface when
        the domain starts (src/conf/domain_validate.c ``virDomainActualNetDefValidate``)."""
        return self.libvirt_type == "hostdev"

    @property
    def swapped(self) -> bool:
        """libvirt's ``swapped`` flag: true unless the device shares the host view (macvtap)."""
        return self is not VifType.MACVTAP

    @property
    def libvirt_uses_ovsdb(self) -> bool:
        """libvirt ≥ 8.0 shapes OVS ports through ``ovs-vsctl`` instead of tc."""
        return self is VifType.OVS_BRIDGE


class NeutronBackend(StrEnum):
    """The Neutron QoS backend that programs a port, by vmqos's short name.

    The value is what scenario files, ``VMQOS_NEUTRON_BACKEND`` and ``--backend`` say; it is
    parsed into this enum once, at the edge, and each backend's behaviour hangs off it here or
    in its plan module (:mod:`vmqos.plan.neutron.registry`). Definition order is the order in
    which error messages list the backends.
    """

    OVS = "ovs"                      # ML2/OVS: neutron-openvswitch-agent
    OVN = "ovn"                      # ML2/OVN: ovn-controller, no Neutron L2 agent
    SRIOV = "sriovnicswitch"         # neutron-sriov-nic-agent
    LINUXBRIDGE = "linuxbridge"      # neutron-linuxbridge-agent (removed in 26.0.0, 2025.1)

    @property
    def has_l2_agent(self) -> bool:
        """A Neutron L2 agent applies the policy, filtering network policies with
        ``QosRule.should_apply_to_port``; ML2/OVN decides in ``port_effective_qos_policy_id``."""
        return self is not NeutronBackend.OVN

    @property
    def runs_ovs_vswitchd(self) -> bool:
        """The compute node's integration bridge is ovs-vswitchd's (ML2/OVS and ML2/OVN), so a
        tap plugged straight into br-int belongs to it."""
        return self in (NeutronBackend.OVS, NeutronBackend.OVN)

    @property
    def tenant_network_type(self) -> str:
        """The default ``tenant_network_types`` of the ML2 driver: OVN tunnels with Geneve,
        the agents (devstack's defaults) with VXLAN."""
        return "geneve" if self is NeutronBackend.OVN else "vxlan"


class Enforcer(Enum):
    """A place on the host where a limit for one port is enforced."""

    TC_TAP = "tc on the tap"                 # libvirt's tc program on a tap (swapped)
    TC_MACVTAP = "tc on the macvtap"         # libvirt's tc program on a macvtap (not swapped)
    OVS_LIBVIRT = "OVS (written by libvirt)"  # libvirt's ovs-vsctl QoS on an OVS port
    OVS_AGENT = "OVS (Neutron OVS agent)"
    OVN = "OVN"
    SRIOV = "SR-IOV VF"
    LINUXBRIDGE = "tc (Neutron Linux bridge agent)"

    @property
    def key(self) -> str:
        """A stable identifier for machine-read output (a metric's ``layer`` label):
        ``tc_tap``, ``ovs_agent`` ... — the value is prose and may be reworded."""
        return self.name.lower()


# (enforcer, direction) -> the host-side mechanism, in the host's own words.
_HOST_VIEW: dict[tuple[Enforcer, Direction], str] = {
    (Enforcer.TC_TAP, Direction.INBOUND): "tap egress: root htb qdisc (shaping)",
    (Enforcer.TC_TAP, Direction.OUTBOUND): "tap ingress: ingress qdisc + u32 police (policing)",
    (Enforcer.TC_MACVTAP, Direction.INBOUND): "macvtap ingress: ingress qdisc + u32 police",
    (Enforcer.TC_MACVTAP, Direction.OUTBOUND): "macvtap egress: root htb qdisc (shaping)",
    (Enforcer.OVS_LIBVIRT, Direction.INBOUND): "OVS Port qos linux-htb queue (min-rate/max-rate)",
    (Enforcer.OVS_LIBVIRT, Direction.OUTBOUND): "OVS Interface ingress_policing_rate/burst",
    (Enforcer.OVS_AGENT, Direction.INBOUND): "OVS Port qos linux-htb queue max-rate/burst",
    (Enforcer.OVS_AGENT, Direction.OUTBOUND): "OVS Interface ingress_policing_rate/burst",
    (Enforcer.OVN, Direction.INBOUND): "OVN QoS to-lport (outport ==) meter",
    (Enforcer.OVN, Direction.OUTBOUND): "OVN QoS from-lport (inport ==) meter",
    (Enforcer.SRIOV, Direction.INBOUND): "none: VFs have no receive rate limit",
    (Enforcer.SRIOV, Direction.OUTBOUND): "VF max_tx_rate (ip link ... vf N max_tx_rate)",
    (Enforcer.LINUXBRIDGE, Direction.INBOUND): "tap egress: root tbf qdisc",
    (Enforcer.LINUXBRIDGE, Direction.OUTBOUND): "tap ingress: ingress qdisc + u32 police",
}


def host_view(enforcer: Enforcer, direction: Direction) -> str:
    """What a VM-view direction is called on the host for a given enforcement point."""
    return _HOST_VIEW[(enforcer, direction)]
