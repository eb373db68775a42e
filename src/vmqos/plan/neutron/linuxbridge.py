"""What the Linux bridge agent's QoS driver (neutron <= 2024.2) writes on a host for a port.

Pure plan: :func:`compile_linuxbridge` turns a tap and its port's effective rules into a
:class:`LinuxBridgePlan` — the tc policer, the TBF qdisc and the iptables mangle DSCP rules —
and :func:`linuxbridge_limits` reports what the kernel enforces as :class:`Limit` values.
Source: neutron ``linuxbridge/agent/extension_drivers/qos_driver.py`` and
``agent/linux/tc_lib.py`` at the parent of "Remove linuxbridge driver" (neutron commit 25d0273588^).

Invariants:

* Neutron *egress* (``Direction.OUTBOUND``, from the VM) is policed on the tap's tc ``ingress``
  qdisc; Neutron *ingress* is shaped by a root ``tbf`` qdisc on the tap.
* Egress burst defaults to 80 % of the rate as a float, never truncated before ``*1000/8``;
  ingress has no 80 % default: burst = ``max(max_kbps / kernel_hz, max_burst_kbps)`` kbit.
* All kbit are 1000 bits (since bug 1884273, 17.0.0). Rates in the plan are the kernel's bytes/s.
* Rules are assumed validated by :mod:`vmqos.intent`; a repeated (type, direction) overwrites
  the earlier one, as the agent's updates do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.intent.neutron.model import BandwidthLimitRule, DscpMarkingRule, Rule
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer, NeutronBackend
from vmqos.plan.neutron.port import AgentOptions, PortContext
from vmqos.units import BitsPerSec, Bytes, BytesPerSec, KbitPerSec

__all__ = [
    "LINUXBRIDGE_AGENT",
    "LinuxBridgePlan",
    "LinuxBridgePolicer",
    "LinuxBridgeTbf",
    "compile_linuxbridge",
    "dscp_chain_name",
    "linuxbridge_limits",
]

DEFAULT_BURST_RATE = 0.8   # neutron_lib qos DEFAULT_BURST_RATE
_POLICE_MTU = 65535        # tc_lib.MAX_MTU_VALUE
_FILTER_PRIO = 49
# iptables_manager: wrapped chains are prefixed with the binary name cut to 16 characters.
_WRAP = "neutron-linuxbri"
_CHAIN_LEN = 11            # neutron_lib MAX_IPTABLES_CHAIN_LEN_WRAP
_DROP_ALL = ("egress max_kbps 0: pyroute2 installs a match-all drop filter, all traffic from "
             "the VM is dropped [derived]")


@dataclass(frozen=True, slots=True)
class LinuxBridgePolicer:
    """Egress: u32 match-all filter prio 49 on ``ffff:`` with a police action (or a plain
    ``drop`` when the rate is 0, see :func:`compile_linuxbridge`)."""

    max_kbps: KbitPerSec
    burst_kbit: float | int          # as the agent computed it: 2400.0 for 3000/0, 300 given
    rate: BytesPerSec                # int(max_kbps * 1000 / 8)
    burst: Bytes                     # int(burst_kbit * 1000 / 8)


@dataclass(frozen=True, slots=True)
class LinuxBridgeTbf:
    """Ingress: ``tbf`` root qdisc."""

    max_kbps: KbitPerSec
    burst_kbit: float | int          # max(max_kbps / kernel_hz, max_burst_kbps)
    rate: BytesPerSec
    burst: Bytes
    latency_us: int


@dataclass(frozen=True, slots=True)
class LinuxBridgePlan:
    tap: str
    rules: tuple[Rule, ...]
    egress: LinuxBridgePolicer | None
    ingress: LinuxBridgeTbf | None
    tbf_latency_ms: int
    dscp_mark: int | None
    dscp_chain: str                  # wrapped mangle chain, e.g. neutron-linuxbri-qos-ob614c1
    iptables_rules: tuple[str, ...]  # mangle rules in iptables-save form (IPv4 and IPv6 alike)
    notes: tuple[str, ...]

    def commands(self) -> list[str]:
        """The legacy (pre-pyroute2) CLI equivalents of what the agent does."""
        tap, out = self.tap, []
        if self.egress is not None:
            police = (f"basic police rate {self.egress.max_kbps}kbit burst "
                      f"{self.egress.burst_kbit}kbit mtu {_POLICE_MTU} drop"
                      if self.egress.max_kbps else "u32 match u32 0 0 action drop")
            out += [f"tc qdisc del dev {tap} ingress",
                    f"tc qdisc add dev {tap} ingress handle ffff:",
                    f"tc filter add dev {tap} parent ffff: protocol all prio {_FILTER_PRIO} "
                    + police]
        if self.ingress is not None:
            out.append(f"tc qdisc replace dev {tap} root tbf rate {self.ingress.max_kbps}kbit "
                       f"latency {self.tbf_latency_ms}ms burst {self.ingress.burst_kbit}kbit")
        if self.dscp_mark is not None:
            for tool in ("iptables", "ip6tables"):
                out.append(f"{tool} -t mangle -N {self.dscp_chain}")
                out += [f"{tool} -t mangle {rule}" for rule in self.iptables_rules]
        return out


def dscp_chain_name(tap: str) -> str:
    """``qos-o<tap without 'tap'>`` cut to 11 characters, wrapped (iptables_manager)."""
    return f"{_WRAP}-" + f"qos-o{tap[3:]}"[:_CHAIN_LEN]


def compile_linuxbridge(
    tap: str,
    rules: Sequence[Rule],
    *,
    kernel_hz: int = 250,
    tbf_latency_ms: int = 50,
) -> LinuxBridgePlan:
    """The tc and iptables state the Linux bridge agent creates for ``rules`` on ``tap``."""
    if kernel_hz <= 0:
        # tc_lib.InvalidKernelHzValue
        raise ValidationError(
            f"Kernel HZ value {kernel_hz} is not valid. This value must be greater than 0.",
            key="kernel_hz", value=kernel_hz, allowed="> 0",
        )
    egress: LinuxBridgePolicer | None = None
    ingress: LinuxBridgeTbf | None = None
    dscp: int | None = None
    notes: list[str] = []
    for rule in rules:
        if isinstance(rule, BandwidthLimitRule) and rule.direction is Direction.OUTBOUND:
            # TcCommand.get_ingress_qdisc_burst_value: float 80 % when no burst is given.
            burst_kbit: float | int = (rule.max_burst_kbps if rule.max_burst_kbps
                                       else float(rule.max_kbps) * DEFAULT_BURST_RATE)
            egress = LinuxBridgePolicer(rule.max_kbps, burst_kbit,
                                        BytesPerSec(int(rule.max_kbps * 1000 / 8)),
                                        Bytes(int(burst_kbit * 1000 / 8)))
        elif isinstance(rule, BandwidthLimitRule):
            if not rule.max_kbps or not tbf_latency_ms:
                # tc_lib.add_tc_qdisc raises TcLibQdiscNeededArguments for a falsy argument.
                raise UnsupportedError(
                    "TC Qdisc type tbf needs following arguments: "
                    "['latency_ms', 'max_kbps', 'kernel_hz']."
                )
            # tc_lib._get_tbf_burst_value: at least one kernel tick's worth of data.
            tbf_burst: float | int = max(float(rule.max_kbps) / float(kernel_hz),
                                         rule.max_burst_kbps)
            ingress = LinuxBridgeTbf(rule.max_kbps, tbf_burst,
                                     BytesPerSec(int(rule.max_kbps * 1000 / 8)),
                                     Bytes(int(tbf_burst * 1000 / 8)), tbf_latency_ms * 1000)
        elif isinstance(rule, DscpMarkingRule):
            dscp = rule.dscp_mark
        else:
            notes.append(f"{rule.type.value}: not supported by the Linux bridge agent, skipped")
    if egress is not None and not egress.max_kbps:
        # [derived] pyroute2 cls_u32.get_parameters adds a police action only "if rate"; with
        # rate 0 it falls through to action="drop": a match-all drop of everything the VM sends.
        notes.append(_DROP_ALL)
    chain = dscp_chain_name(tap)
    iptables: tuple[str, ...] = ()
    if dscp is not None:
        iptables = (
            f"-A {_WRAP}-POSTROUTING -m physdev --physdev-in {tap} --physdev-is-bridged "
            f"-j {chain}",
            f"-A {chain} -j DSCP --set-dscp {dscp:#04x}",
        )
    return LinuxBridgePlan(tap, tuple(rules), egress, ingress, tbf_latency_ms, dscp, chain,
                           iptables, tuple(notes))


def linuxbridge_limits(plan: LinuxBridgePlan, *, source: str = "") -> list[Limit]:
    """What the kernel enforces for ``plan`` (rates bit/s, bursts bytes); ``source`` (e.g.
    ``"policy p"``) prefixes each limit's source."""
    prefix = f"{source}: " if source else ""
    egress_rule = ingress_rule = None
    for item in plan.rules:
        if isinstance(item, BandwidthLimitRule):
            if item.direction is Direction.OUTBOUND:
                egress_rule = item
            else:
                ingress_rule = item
    out: list[Limit] = []
    police, rule = plan.egress, egress_rule
    if police is not None and rule is not None:
        if not police.max_kbps:
            out.append(Limit(Enforcer.LINUXBRIDGE, Direction.OUTBOUND, plan.tap,
                             Mechanism(MechanismKind.LINUXBRIDGE_DROP, (_FILTER_PRIO,)),
                             prefix + _source(rule),
                             rate=BitsPerSec(0), notes=(_DROP_ALL,)))
        else:
            notes = () if rule.max_burst_kbps else (
                f"max_burst_kbps 0: the agent used 80 % of max_kbps ({police.burst_kbit} kbit)",)
            out.append(Limit(Enforcer.LINUXBRIDGE, Direction.OUTBOUND, plan.tap,
                             Mechanism(MechanismKind.LINUXBRIDGE_POLICE, (_FILTER_PRIO,)),
                             prefix + _source(rule),
                             rate=BitsPerSec(police.rate * 8), burst=police.burst, notes=notes))
    tbf, rule = plan.ingress, ingress_rule
    if tbf is not None and rule is not None:
        notes = () if tbf.burst_kbit == rule.max_burst_kbps else (
            f"TBF burst raised to max_kbps/kernel_hz = {tbf.burst_kbit} kbit",)
        out.append(Limit(Enforcer.LINUXBRIDGE, Direction.INBOUND, plan.tap,
                         Mechanism(MechanismKind.LINUXBRIDGE_TBF, (tbf.latency_us // 1000,)),
                         prefix + _source(rule),
                         rate=BitsPerSec(tbf.rate * 8), burst=tbf.burst, notes=notes))
    if plan.dscp_mark is not None:
        out.append(Limit(Enforcer.LINUXBRIDGE, Direction.OUTBOUND, plan.tap,
                         Mechanism(MechanismKind.LINUXBRIDGE_DSCP, (plan.dscp_mark,)),
                         f"{prefix}dscp_marking dscp_mark={plan.dscp_mark}",
                         dscp=plan.dscp_mark))
    return out


def _source(rule: BandwidthLimitRule) -> str:
    return (f"bandwidth_limit {rule.direction.neutron} max_kbps={rule.max_kbps} "
            f"max_burst_kbps={rule.max_burst_kbps}")


class _LinuxBridgeBackend:
    """The Linux bridge agent in the backend registry."""

    name: Final = NeutronBackend.LINUXBRIDGE

    def compile(self, port: PortContext, rules: Sequence[Rule],
                options: AgentOptions) -> LinuxBridgePlan:
        return compile_linuxbridge(port.dev, rules, kernel_hz=options.kernel_hz,
                                   tbf_latency_ms=options.tbf_latency_ms)

    def limits(self, port: PortContext, rules: Sequence[Rule], options: AgentOptions, *,
               source: str) -> list[Limit]:
        return linuxbridge_limits(self.compile(port, rules, options), source=source)


LINUXBRIDGE_AGENT: Final = _LinuxBridgeBackend()
