"""What the ML2/OVS agent's QoS driver writes on a host for one port's effective QoS rules.

Pure plan: :func:`compile_ovs_agent` turns a port and its effective rules into an
:class:`OvsAgentPlan` — OVSDB column values and rows, OpenFlow flows, meters — and
:func:`ovs_agent_limits` reports what the datapath then enforces, as :class:`Limit` values.
Source: neutron ``qos_driver.py`` (OVS extension driver), ``ovs_lib.py`` and
``openflow/native/br_int.py`` at the spec's snapshot; OVS ``lib/netdev-linux.c`` and
``lib/netdev-dpdk.c`` for what OVS does with the values (OVS netdev_linux_set_policing,
htb_parse_class_details__).

Invariants:

* Neutron *egress* (``Direction.OUTBOUND``, from the VM) is OVS ``ingress_policing`` on the
  Interface; Neutron *ingress* is a ``linux-htb`` (or DPDK ``egress-policer``) QoS on the Port.
* Rules are assumed validated by :mod:`vmqos.intent` (at most one per type and direction); a
  repeated (type, direction) overwrites the earlier one, exactly as the agent's updates do.
* Flows are rendered in ``ovs-ofctl dump-flows`` form without cookie and statistics
  (``table=N, priority=P,<match> actions=<actions>``), as OVS prints them over OpenFlow 1.0+NXM
  (``set_field`` on a register prints as ``load:``, ``ip_dscp`` as ``mod_nw_tos:<dscp<<2>``).
* Upstream picks meter ids at random; here they are deterministic: ``meter_id_base`` or, by
  default, ``(ofport - 1) * 4 + 1``, then +0 pps egress, +1 pps ingress, +2 bps egress,
  +3 bps ingress (ofports are unique on br-int, so ids never collide between ports).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
    PacketRateLimitRule,
    Rule,
)
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer, NeutronBackend
from vmqos.plan.neutron.port import AgentOptions, PortContext
from vmqos.units import (
    BitsPerSec,
    Bytes,
    Kbit,
    KbitPerSec,
    Pps,
    kbit_per_sec_to_bits,
    kbit_to_bytes,
    kpps_to_pps,
    ovs_policing_burst_to_bytes,
)

__all__ = [
    "DPDK_INTERFACE_TYPES",
    "OVS_AGENT",
    "OVS_MAX_RATE",
    "SET_QUEUE_INIT_FLOW",
    "OvsAgentPlan",
    "OvsFlow",
    "OvsMeter",
    "OvsPhysicalBridge",
    "OvsPortRef",
    "OvsQos",
    "OvsQueue",
    "compile_ovs_agent",
    "ovs_agent_limits",
    "ovs_port_ref",
]

# ovs_lib.OVS_MAX_RATE: parent rate of every agent HTB QoS, so OVS does not default it to the
# tap's link speed (bug 1730605) and min-bw queues are not capped at ~100 Mbit (bug 1977752).
OVS_MAX_RATE = 2**35 - 1
# neutron_lib DEFAULT_BURST_RATE: egress burst when max_burst_kbps is 0 (bug 1572670).
DEFAULT_BURST_RATE = 0.8
# OVS netdev-linux / netdev-dpdk: ingress_policing_burst 0 with a rate means 8000 kbit.
OVS_DEFAULT_POLICING_BURST = Kbit(8000)
# ovs_constants.OVS_DPDK_PORT_TYPES: these get an egress-policer instead of linux-htb.
DPDK_INTERFACE_TYPES = frozenset({"dpdk", "dpdkvhostuser", "dpdkvhostuserclient"})
_BR_INT = "br-int"
_PACKET_RATE_LIMIT_TABLE = 58    # ovs_constants.PACKET_RATE_LIMIT
_BANDWIDTH_RATE_LIMIT_TABLE = 59  # ovs_constants.BANDWIDTH_RATE_LIMIT


@dataclass(frozen=True, slots=True)
class OvsPortRef:
    """The VM's port on br-int, as the agent sees it (its ``VifPort`` plus port details)."""

    port_id: str
    port_name: str                   # the OVS port: tapXXX, or qvoXXX with hybrid plug
    ofport: int
    mac: str
    interface_type: str = ""         # Interface.type: "" (system), "dpdkvhostuser", ...
    physical_network: str | None = None  # None: tunnelled network (vxlan/geneve)
    local_vlan: int = 1              # the port's br-int tag
    agent_id: str = ""               # the agent's random min-bw QoS id (ovs_lib._min_bw_qos_id)
    mtu: int = 1500


@dataclass(frozen=True, slots=True)
class OvsPhysicalBridge:
    """A bridge_mappings bridge: its patch port to br-int and its physical NIC ports."""

    name: str
    patch_ofport: int
    nic_ports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OvsQueue:
    ref: str                         # ovs-vsctl --id name without '@': "q0", "q5"
    queue_num: int
    other_config: dict[str, str]
    external_ids: dict[str, str]


@dataclass(frozen=True, slots=True)
class OvsQos:
    ref: str                         # ovs-vsctl --id name without '@'
    type: str                        # "linux-htb" or "egress-policer"
    other_config: dict[str, str]
    external_ids: dict[str, str]
    queues: tuple[OvsQueue, ...]
    ports: tuple[str, ...]           # Port rows whose ``qos`` column references this row

    def vsctl(self) -> str:
        """``ovs-vsctl`` creating the rows and setting ``Port.qos`` in one transaction."""
        parts = [f"set Port {port} qos=@{self.ref}" for port in self.ports]
        create = [f"--id=@{self.ref} create QoS type={self.type}"]
        create += [f"other-config:{k}={v}" for k, v in self.other_config.items()]
        create += [f"queues:{q.queue_num}=@{q.ref}" for q in self.queues]
        parts.append(" ".join(create))
        for queue in self.queues:
            row = [f"--id=@{queue.ref} create Queue"]
            row += [f"other-config:{k}={v}" for k, v in queue.other_config.items()]
            parts.append(" ".join(row))
        return "ovs-vsctl " + " -- ".join(parts)


@dataclass(frozen=True, slots=True)
class OvsFlow:
    bridge: str
    table: int
    priority: int
    match: str                       # in OVS's print order
    actions: str
    openflow13: bool = False         # meter instructions need ``-O OpenFlow13``

    def __str__(self) -> str:
        return f"table={self.table}, priority={self.priority},{self.match} actions={self.actions}"

    def command(self) -> str:
        proto = "-O OpenFlow13 " if self.openflow13 else ""
        return f"ovs-ofctl {proto}add-flow {self.bridge} '{self}'"


@dataclass(frozen=True, slots=True)
class OvsMeter:
    """An OpenFlow 1.3 meter with one drop band (br_int.create_meter)."""

    meter_id: int
    unit: str                        # "pktps" (packet rate rule) or "kbps" (meter bandwidth)
    rate: int                        # packets/s or kbit/s
    burst_size: int                  # packets or kbit; 0 = no BURST flag (burst = rate)
    direction: Direction

    def command(self) -> str:
        flags = f"{self.unit},burst" if self.burst_size else self.unit
        band = f"band=type=drop,rate={self.rate}"
        if self.burst_size:
            band += f",burst_size={self.burst_size}"
        return f"ovs-ofctl -O OpenFlow13 add-meter {_BR_INT} meter={self.meter_id},{flags},{band}"


@dataclass(frozen=True, slots=True)
class OvsAgentPlan:
    port: OvsPortRef
    rules: tuple[Rule, ...]
    qos_meter_bandwidth: bool
    # Interface columns (kbit/s, kbit). None: not written (meter-bandwidth mode).
    ingress_policing_rate: KbitPerSec | None
    ingress_policing_burst: Kbit | None
    egress_burst_defaulted: bool     # the 80 % default was applied
    qos: tuple[OvsQos, ...]          # the VM Port's QoS first, then the min-bw NIC QoS
    port_other_config: dict[str, str]  # meter ids the agent persists on the Port
    flows: tuple[OvsFlow, ...]
    meters: tuple[OvsMeter, ...]
    notes: tuple[str, ...]
    limits: tuple[Limit, ...]        # what the datapath enforces; see ovs_agent_limits

    @property
    def port_qos(self) -> OvsQos | None:
        """The QoS row the VM Port's ``qos`` column references, if any."""
        for qos in self.qos:
            if self.port.port_name in qos.ports:
                return qos
        return None

    def commands(self) -> list[str]:
        out: list[str] = []
        if self.ingress_policing_rate is not None:
            out.append(
                f"ovs-vsctl set Interface {self.port.port_name}"
                f" ingress_policing_rate={self.ingress_policing_rate}"
                f" ingress_policing_burst={self.ingress_policing_burst}"
            )
        out += [qos.vsctl() for qos in self.qos if qos.ports]
        out += [
            f"ovs-vsctl set Port {self.port.port_name} other_config:{key}={value}"
            for key, value in self.port_other_config.items()
        ]
        out += [meter.command() for meter in self.meters]
        out += [flow.command() for flow in self.flows]
        return out


# The br-int flow installed at agent start (bug 1959567): without it queue 0 is not used.
SET_QUEUE_INIT_FLOW = OvsFlow(
    _BR_INT, 0, 200, "reg3=0", "set_queue:0,load:0x1->NXM_NX_REG3[0],resubmit(,0)"
)


def _egress_policing_burst(rule: BandwidthLimitRule) -> tuple[Kbit, bool]:
    """qos_linux._get_egress_burst_value then ``int()`` ("ovs accepts only integer burst")."""
    if rule.max_burst_kbps:
        return rule.max_burst_kbps, False
    return Kbit(int(float(rule.max_kbps) * DEFAULT_BURST_RATE)), True


def compile_ovs_agent(
    port: OvsPortRef,
    rules: Sequence[Rule],
    *,
    qos_meter_bandwidth: bool = False,
    meter_id_base: int | None = None,
    physical_bridges: Sequence[OvsPhysicalBridge] = (),
) -> OvsAgentPlan:
    """The OVSDB rows, flows and meters the OVS agent writes for ``rules`` on ``port``."""
    b = _Build(port, meter_id_base, physical_bridges, render=True)
    b.run(rules, qos_meter_bandwidth)
    return OvsAgentPlan(port, tuple(rules), qos_meter_bandwidth, b.rate, b.burst,
                        b.defaulted, tuple(b.qos), b.other_config, tuple(b.flows),
                        tuple(b.meters), tuple(b.notes), tuple(b.limits))


def ovs_agent_limits(
    port: OvsPortRef,
    rules: Sequence[Rule],
    *,
    qos_meter_bandwidth: bool = False,
    meter_id_base: int | None = None,
    physical_bridges: Sequence[OvsPhysicalBridge] = (),
    source: str = "",
) -> list[Limit]:
    """What the OVS datapath enforces for ``rules`` on ``port`` (rates bit/s, bursts bytes).

    Equal to ``compile_ovs_agent(...).limits`` but without rendering rows and flows (the
    explain hot path); ``source`` (e.g. ``"policy p"``) prefixes each limit's source.
    """
    b = _Build(port, meter_id_base, physical_bridges, render=False, source=source)
    b.run(rules, qos_meter_bandwidth)
    return b.limits


def _source(rule: Rule) -> str:
    if isinstance(rule, BandwidthLimitRule):
        return (f"bandwidth_limit {rule.direction.neutron} max_kbps={rule.max_kbps} "
                f"max_burst_kbps={rule.max_burst_kbps}")
    if isinstance(rule, PacketRateLimitRule):
        return (f"packet_rate_limit {rule.direction.neutron} max_kpps={rule.max_kpps} "
                f"max_burst_kpps={rule.max_burst_kpps}")
    if isinstance(rule, MinimumBandwidthRule):
        return f"minimum_bandwidth {rule.direction.neutron} min_kbps={rule.min_kbps}"
    if isinstance(rule, DscpMarkingRule):
        return f"dscp_marking dscp_mark={rule.dscp_mark}"
    return f"minimum_packet_rate min_kpps={rule.min_kpps}"


class _Build:
    """Accumulates one plan; each method mirrors one agent handler and the Limit it yields.
    With ``render`` false only limits and notes are produced (same decisions, less work)."""

    def __init__(self, port: OvsPortRef, meter_id_base: int | None,
                 bridges: Sequence[OvsPhysicalBridge], *, render: bool,
                 source: str = "") -> None:
        self.port, self.bridges, self.render = port, bridges, render
        self.prefix = f"{source}: " if source else ""
        self.base = (port.ofport - 1) * 4 + 1 if meter_id_base is None else meter_id_base
        self.rate: KbitPerSec | None = None
        self.burst: Kbit | None = None
        self.defaulted = self.metered = False
        self.qos: list[OvsQos] = []
        self.flows: list[OvsFlow] = []
        self.meters: list[OvsMeter] = []
        self.other_config: dict[str, str] = {}
        self.notes: list[str] = []
        self.limits: list[Limit] = []

    def run(self, rules: Sequence[Rule], qos_meter_bandwidth: bool) -> None:
        # One pass by kind and direction; a later rule of the same kind overwrites the
        # earlier one, as the agent's update handlers do.
        bw: dict[bool, BandwidthLimitRule] = {}
        pps: dict[bool, PacketRateLimitRule] = {}
        min_bw: dict[bool, MinimumBandwidthRule] = {}
        dscp: DscpMarkingRule | None = None
        min_pps = False
        for rule in rules:
            if isinstance(rule, BandwidthLimitRule):
                bw[rule.direction is Direction.OUTBOUND] = rule
            elif isinstance(rule, DscpMarkingRule):
                dscp = rule
            elif isinstance(rule, MinimumBandwidthRule):
                min_bw[rule.direction is Direction.OUTBOUND] = rule
            elif isinstance(rule, PacketRateLimitRule):
                pps[rule.direction is Direction.OUTBOUND] = rule
            else:
                min_pps = True
        port, notes = self.port, self.notes
        bw_out, bw_in = bw.get(True), bw.get(False)
        if qos_meter_bandwidth:  # first in 26.0.0: both directions on kbps meters, no 80 %
            for bw_rule in (bw_out, bw_in):
                if bw_rule is not None:
                    self.meter("kbps", bw_rule.max_kbps, bw_rule.max_burst_kbps,
                               bw_rule.direction, _source(bw_rule))
        else:
            if bw_out is not None:
                self.rate = bw_out.max_kbps
                self.burst, self.defaulted = _egress_policing_burst(bw_out)
                self.policing(bw_out, self.burst, self.defaulted)
            else:
                # No egress rule: the agent's delete_bandwidth_limit writes both columns to 0.
                self.rate, self.burst = KbitPerSec(0), Kbit(0)
            if bw_in is None:
                pass
            elif port.interface_type in DPDK_INTERFACE_TYPES:
                self.dpdk_egress_policer(bw_in)
            else:
                self.htb_ingress(bw_in)
        if dscp is not None:
            self.dscp(dscp)
        if True in min_bw:
            if port.physical_network is None:
                notes.append("minimum_bandwidth egress on a tunnelled network: placement only, "
                             "no dataplane change")
            else:
                self.min_bw(min_bw[True])
        if False in min_bw:
            notes.append("minimum_bandwidth ingress: placement only, no dataplane change")
        for outbound in (True, False):
            if outbound in pps:
                rule_pps = pps[outbound]
                self.meter("pktps", kpps_to_pps(rule_pps.max_kpps),
                           kpps_to_pps(rule_pps.max_burst_kpps), rule_pps.direction,
                           _source(rule_pps))
        if min_pps:
            notes.append("minimum_packet_rate: placement only, no dataplane enforcement")
        if self.metered:
            notes.append("meters are skipped if br-int reports no meter support "
                         "(ovs-ofctl meter-features)")

    def limit(self, direction: Direction, mechanism: Mechanism, source: str,
              **values: Any) -> None:
        self.limits.append(Limit(Enforcer.OVS_AGENT, direction,
                                 values.pop("device", self.port.port_name), mechanism,
                                 self.prefix + source, **values))

    def policing(self, rule: BandwidthLimitRule, burst: Kbit, defaulted: bool) -> None:
        """Interface ingress_policing_rate/burst; what netdev-linux/-dpdk make of it."""
        if rule.max_kbps == 0:
            self.notes.append("egress max_kbps 0: ingress_policing_rate 0 disables policing")
            return
        notes = []
        if defaulted:
            notes.append(f"max_burst_kbps 0: the agent wrote 80 % of max_kbps ({burst} kbit)")
        if burst == 0:
            notes.append("ingress_policing_burst 0: OVS default 8000 kbit")
        effective = burst or OVS_DEFAULT_POLICING_BURST
        if self.port.interface_type in DPDK_INTERFACE_TYPES:
            # netdev_dpdk_policer_construct: kbit -> bytes with 1000.
            mechanism, size = Mechanism(MechanismKind.OVS_DPDK_POLICING), \
                kbit_to_bytes(effective)
        else:
            # netdev-linux: "kilobit" of burst = 1024 bits (units.ovs_policing_burst_to_bytes).
            mechanism, size = Mechanism(MechanismKind.OVS_POLICING), \
                ovs_policing_burst_to_bytes(effective)
        self.limit(Direction.OUTBOUND, mechanism, _source(rule),
                   rate=kbit_per_sec_to_bits(rule.max_kbps), burst=size, notes=tuple(notes))

    def htb_ingress(self, rule: BandwidthLimitRule) -> None:
        """ovs_lib._update_ingress_bw_limit_for_port: queue 0 of a linux-htb QoS."""
        name, mtu = self.port.port_name, self.port.mtu
        if self.render:
            config = {}
            if rule.max_kbps:  # ovs_lib._update_queue writes rates only "if max_kbps"
                config = {"max-rate": str(rule.max_kbps * 1000),
                          "burst": str(rule.max_burst_kbps * 1000)}
            queue = OvsQueue("q0", 0, config,
                             {"port": name, "type": "bandwidth_limit", "queue-num": "0"})
            self.qos.append(OvsQos("q", "linux-htb", {"max-rate": str(OVS_MAX_RATE)},
                                   {"id": name, "_type": "bandwidth_limit"}, (queue,), (name,)))
            self.flows.append(SET_QUEUE_INIT_FLOW)
        if not rule.max_kbps:
            self.notes.append("ingress max_kbps 0: the queue has no max-rate, traffic to the "
                              "VM is not limited")
            return
        # OVS htb_parse_class_details__: rate >= MTU bytes/s, burst >= MTU+64 bytes; no 80 %.
        rate = max(rule.max_kbps * 1000 // 8, mtu)
        asked = rule.max_burst_kbps * 1000 // 8
        notes = []
        if asked < mtu + 64:
            notes.append(f"HTB burst raised to MTU+64 = {mtu + 64} B [derived]")
        if rate * 8 > rule.max_kbps * 1000:
            notes.append("HTB rate raised to MTU bytes/s")
        self.limit(Direction.INBOUND, Mechanism(MechanismKind.OVS_HTB_QUEUE), _source(rule),
                   rate=BitsPerSec(rate * 8), burst=Bytes(max(asked, mtu + 64)),
                   notes=tuple(notes))

    def dpdk_egress_policer(self, rule: BandwidthLimitRule) -> None:
        """ovs_lib._update_ingress_bw_limit_for_dpdk_port: cir/cbs in bytes (bug 1724729)."""
        cir, cbs = rule.max_kbps * 1000 // 8, rule.max_burst_kbps * 1000 // 8
        name = self.port.port_name
        if self.render:
            self.qos.append(OvsQos("q", "egress-policer", {"cir": str(cir), "cbs": str(cbs)},
                                   {"id": name}, (), (name,)))
        if cir and cbs:
            self.limit(Direction.INBOUND, Mechanism(MechanismKind.OVS_DPDK_EGRESS_POLICER),
                       _source(rule), rate=BitsPerSec(cir * 8), burst=Bytes(cbs))
        else:
            # DPDK rte_meter_srtcm_profile_config returns -EINVAL for cir 0 or cbs+ebs 0;
            # OVS egress_policer_qos_construct then logs an error and installs nothing.
            self.notes.append("egress-policer with cir or cbs 0 is rejected by DPDK rte_meter: "
                              "traffic to the VM is not limited [derived]")

    def dscp(self, rule: DscpMarkingRule) -> None:
        """br_int.install_dscp_marking_rule: set reg2, ip_dscp, resubmit (IPv4 and IPv6)."""
        ofport, tos = self.port.ofport, rule.dscp_mark << 2
        if self.render:
            actions = f"load:0x1->NXM_NX_REG2[],mod_nw_tos:{tos},resubmit:{ofport}"
            for proto in ("ip", "ipv6"):
                self.flows.append(OvsFlow(_BR_INT, 0, 65535,
                                          f"{proto},reg2=0,in_port={ofport}", actions))
        self.limit(Direction.OUTBOUND, Mechanism(MechanismKind.OVS_DSCP_FLOW, (tos,)),
                   _source(rule), dscp=rule.dscp_mark)

    def meter(self, unit: str, rate: int, burst: int, direction: Direction, source: str) -> None:
        """MeterRuleManager + br_int.create_meter/apply_meter_to_port."""
        port, pps = self.port, unit == "pktps"
        meter_id = self.base + (0 if pps else 2) + (direction is Direction.INBOUND)
        table = _PACKET_RATE_LIMIT_TABLE if pps else _BANDWIDTH_RATE_LIMIT_TABLE
        self.metered = True
        if self.render:
            self.meters.append(OvsMeter(meter_id, unit, rate, burst, direction))
            if direction is Direction.OUTBOUND:
                match = f"in_port={port.ofport},dl_src={port.mac}"
            else:
                match = f"dl_vlan={port.local_vlan},dl_dst={port.mac}"
            self.flows.append(OvsFlow(_BR_INT, table, 100, match,
                                      f"meter:{meter_id},goto_table:{table + 1}", True))
            key = f"{'pps' if pps else 'bps'}_{port.port_id}_{direction.neutron}"
            self.other_config[key] = str(meter_id)
        notes = () if burst else ("no BURST flag: datapath burst = rate",)
        mechanism = Mechanism(MechanismKind.OVS_METER, (meter_id, unit, table))
        if pps:
            self.limit(direction, mechanism, source, packet_rate=Pps(rate),
                       notes=(f"burst {burst or rate} packets", *notes))
        else:
            self.limit(direction, mechanism, source,
                       rate=kbit_per_sec_to_bits(KbitPerSec(rate)),
                       burst=kbit_to_bytes(Kbit(burst or rate)), notes=notes)

    def min_bw(self, rule: MinimumBandwidthRule) -> None:
        """ovs_lib.update_minimum_bandwidth_queue: queue number = the VM port's ofport."""
        port, num = self.port, self.port.ofport
        nics = tuple(nic for bridge in self.bridges for nic in bridge.nic_ports)
        if self.render:
            queue = OvsQueue(f"q{num}", num, {"min-rate": str(rule.min_kbps * 1000),
                                              "max-rate": str(OVS_MAX_RATE)},
                             {"port": port.port_id, "type": "minimum_bandwidth",
                              "queue-num": str(num)})
            self.qos.append(OvsQos("qmin", "linux-htb", {"max-rate": str(OVS_MAX_RATE)},
                                   {"id": port.agent_id, "_type": "minimum_bandwidth"},
                                   (queue,), nics))
            self.flows.append(OvsFlow(_BR_INT, 0, 200, f"reg4=0,in_port={num}",
                                      f"load:{num:#x}->NXM_NX_PKT_MARK[],"
                                      "load:0x1->NXM_NX_REG4[0],resubmit(,0)"))
            for bridge in self.bridges:
                self.flows.append(OvsFlow(
                    bridge.name, 0, 200,
                    f"pkt_mark={num:#x},reg4=0,in_port={bridge.patch_ofport}",
                    f"set_queue:{num},load:0x1->NXM_NX_REG4[0],resubmit(,0)"))
        if not nics:
            self.notes.append("minimum_bandwidth egress: the QoS goes on every physical NIC of "
                              "the bridge_mappings bridges; pass physical_bridges to render them")
        # OVS htb_parse_class_details__ raises min-rate to MTU bytes/s.
        floor = max(rule.min_kbps * 1000 // 8, port.mtu) * 8
        notes = ("HTB min-rate raised to MTU bytes/s",) if floor > rule.min_kbps * 1000 else ()
        self.limit(Direction.OUTBOUND, Mechanism(MechanismKind.OVS_MIN_BW_QUEUE, (num,)),
                   _source(rule),
                   device=",".join(nics) or f"physical NICs of {port.physical_network}",
                   min_rate=BitsPerSec(floor), notes=notes)


def ovs_port_ref(port: PortContext) -> OvsPortRef:
    """The OVS agent's view of a bound port."""
    return OvsPortRef(port.port_id, port.dev, port.ofport, port.mac, port.interface_type,
                      port.physical_network, port.local_vlan, port.agent_id, port.mtu)


class _OvsAgentBackend:
    """The ML2/OVS agent in the backend registry."""

    name: Final = NeutronBackend.OVS

    def compile(self, port: PortContext, rules: Sequence[Rule],
                options: AgentOptions) -> OvsAgentPlan:
        return compile_ovs_agent(ovs_port_ref(port), rules,
                                 qos_meter_bandwidth=options.qos_meter_bandwidth)

    def limits(self, port: PortContext, rules: Sequence[Rule], options: AgentOptions, *,
               source: str) -> list[Limit]:
        # The explain hot path: the limits without rendering rows and flows.
        return ovs_agent_limits(ovs_port_ref(port), rules,
                                qos_meter_bandwidth=options.qos_meter_bandwidth, source=source)


OVS_AGENT: Final = _OvsAgentBackend()
