"""What ML2/OVN (``OVNQosDriver``) writes into the OVN Northbound DB for a port's QoS rules.

Pure plan: :func:`compile_ovn` turns a port, its network and its effective rules into an
:class:`OvnPlan` — NB ``QoS`` rows and ``Logical_Switch_Port.options`` — and
:func:`ovn_limits` reports what OVN then enforces as :class:`Limit` values.
Source: neutron ``ml2/drivers/ovn/mech_driver/ovsdb/extensions/qos.py`` (26.0.0 and master),
ovsdbapp ``QoSAddCommand``, OVN ``ovn-nb.xml`` (neutron OVNClientQosExtension._ovn_qos_rule).

Invariants:

* Neutron *egress* (``Direction.OUTBOUND``, from the VM) is OVN ``from-lport`` matching
  ``inport``; Neutron *ingress* is ``to-lport`` matching ``outport``. At most one QoS row per
  port and direction: a bandwidth limit and the DSCP mark share the egress row.
* OVN units: QoS ``rate`` kbit/s and ``burst`` kbit (burst key only when non-zero); LSP options
  ``qos_max_rate``/``qos_min_rate`` bit/s and ``qos_burst`` bits.
* Rules are assumed validated by :mod:`vmqos.intent`; a repeated (type, direction) overwrites
  the earlier one, as the driver's per-direction dict does.
* Modelled releases: neutron 26 (2025.1) and later; ``neutron_release`` selects the
  physical-network max-bandwidth behaviour that changed in 27.0.0 (bug 2115952).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.intent.neutron.model import (
    BandwidthLimitRule,
    DscpMarkingRule,
    MinimumBandwidthRule,
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
    kbit_per_sec_to_bits,
    kbit_to_bits,
    kbit_to_bytes,
)

__all__ = [
    "OVN",
    "OVN_QOS_DEFAULT_RULE_PRIORITY",
    "PHYSICAL_NETWORK_TYPES",
    "OvnPlan",
    "OvnQosRow",
    "compile_ovn",
    "ovn_limits",
]

OVN_QOS_DEFAULT_RULE_PRIORITY = 2002   # floating IP rules use 2003
PHYSICAL_NETWORK_TYPES = frozenset({"flat", "vlan"})   # neutron_lib TYPE_PHYSICAL
_QOS_BANDWIDTH_MAX = 4294967295        # ovsdbapp const.QOS_BANDWIDTH_MAX
_LSP_KEYS = ("qos_max_rate", "qos_burst", "qos_min_rate")


@dataclass(frozen=True, slots=True)
class OvnQosRow:
    """One NB ``QoS`` row (``QoSAddCommand`` arguments)."""

    switch: str                      # neutron-<network id>
    direction: str                   # from-lport / to-lport
    priority: int
    match: str
    bandwidth: dict[str, int]        # {"rate": kbit/s, "burst": kbit} (burst only if non-zero)
    action: dict[str, int]           # {"dscp": mark}
    external_ids: dict[str, str]
    vm_direction: Direction
    rules: tuple[BandwidthLimitRule | DscpMarkingRule, ...]   # the Neutron rules folded in

    def command(self) -> str:
        args = [f"{key}={value}" for key, value in self.bandwidth.items()]
        args += [f"{key}={value}" for key, value in self.action.items()]
        return (f"ovn-nbctl qos-add {self.switch} {self.direction} {self.priority} "
                f"'{self.match}' " + " ".join(args))


@dataclass(frozen=True, slots=True)
class OvnPlan:
    port_id: str
    network_id: str
    network_type: str
    neutron_release: int
    rules: tuple[Rule, ...]
    qos_rows: tuple[OvnQosRow, ...]
    lsp_options: dict[str, str]      # Logical_Switch_Port.options keys set
    lsp_options_cleared: tuple[str, ...]  # keys the driver removes
    lsp_rules: tuple[BandwidthLimitRule | MinimumBandwidthRule, ...]  # rules behind options
    notes: tuple[str, ...]

    def commands(self) -> list[str]:
        out = [row.command() for row in self.qos_rows]
        if self.lsp_options:
            out.append(f"ovn-nbctl set Logical_Switch_Port {self.port_id} " + " ".join(
                f"options:{key}={value}" for key, value in self.lsp_options.items()))
        if self.lsp_options_cleared:
            out.append(f"ovn-nbctl remove Logical_Switch_Port {self.port_id} options "
                       + " ".join(self.lsp_options_cleared))
        return out


def compile_ovn(
    port_id: str,
    network_id: str,
    network_type: str,
    rules: Sequence[Rule],
    *,
    neutron_release: int = 27,
    device_owner: str = "",
) -> OvnPlan:
    """The NB QoS rows and LSP options ML2/OVN writes for ``rules`` on ``port_id``."""
    if neutron_release < 26:
        raise ValidationError(
            f"neutron_release {neutron_release} is not modelled for ML2/OVN QoS; "
            "use 26 (2025.1) or later",
            key="neutron_release", value=neutron_release, allowed=">= 26",
        )
    if device_owner.startswith(("network:", "neutron:")):
        # port_effective_qos_policy_id: network device ports get no port QoS in OVN, even
        # with a port-level policy (router gateways use the router-gateway QoS feature).
        return OvnPlan(port_id, network_id, network_type, neutron_release, tuple(rules), (),
                       {}, (), (), (f"device_owner {device_owner}: no port QoS in ML2/OVN",))
    notes: list[str] = []
    # _qos_rules: classify per direction; DSCP is egress; min-bw ingress is not enforced.
    bw_out: BandwidthLimitRule | None = None
    bw_in: BandwidthLimitRule | None = None
    dscp: DscpMarkingRule | None = None
    min_out: MinimumBandwidthRule | None = None
    for rule in rules:
        if isinstance(rule, BandwidthLimitRule):
            if rule.direction is Direction.OUTBOUND:
                bw_out = rule
            else:
                bw_in = rule
        elif isinstance(rule, DscpMarkingRule):
            dscp = rule
        elif isinstance(rule, MinimumBandwidthRule):
            if rule.direction is Direction.INBOUND:
                notes.append("minimum_bandwidth ingress: not enforced by ML2/OVN (warning)")
            else:
                min_out = rule
        else:
            notes.append(f"{rule.type.value}: not supported by ML2/OVN, skipped")

    lsp: dict[str, str] = {}
    cleared: tuple[str, ...] = ()
    lsp_rules: tuple[BandwidthLimitRule | MinimumBandwidthRule, ...] = ()
    if network_type in PHYSICAL_NETWORK_TYPES:
        # Egress on flat/vlan: with a min-bw rule (or, in 26.x, always) the rates go to
        # LSP.options, enforced by OVN with HTB on the physical NIC; only DSCP stays in the
        # QoS row. Since 27.0.0 max-bw alone uses the OVN policer (bug 2115952).
        if min_out is not None or neutron_release < 27:
            lsp = _lsp_options(bw_out, min_out)
            cleared = tuple(key for key in _LSP_KEYS if key not in lsp)
            lsp_rules = tuple(r for r in (bw_out, min_out) if r is not None)
            bw_out = None
        else:
            cleared = _LSP_KEYS
    elif min_out is not None:
        notes.append("minimum_bandwidth egress on a tunnelled network: placement only, "
                     "no QoS row (bug 2101063)")
    rows = tuple(row for row in (
        _qos_row(port_id, network_id, Direction.OUTBOUND, bw_out, dscp),
        _qos_row(port_id, network_id, Direction.INBOUND, bw_in, None),
    ) if row is not None)
    return OvnPlan(port_id, network_id, network_type, neutron_release, tuple(rules), rows,
                   lsp, cleared, lsp_rules, tuple(notes))


def _lsp_options(
    bw: BandwidthLimitRule | None, min_bw: MinimumBandwidthRule | None
) -> dict[str, str]:
    """OVNClientQosExtension._ovn_lsp_rule: kbit -> bit(/s) with SI_BASE 1000."""
    options: dict[str, str] = {}
    if bw is not None:
        options["qos_max_rate"] = str(kbit_per_sec_to_bits(bw.max_kbps))
        if bw.max_burst_kbps:
            options["qos_burst"] = str(kbit_to_bits(bw.max_burst_kbps))
    if min_bw is not None:
        options["qos_min_rate"] = str(kbit_per_sec_to_bits(min_bw.min_kbps))
    return options


def _qos_row(
    port_id: str,
    network_id: str,
    direction: Direction,
    bw: BandwidthLimitRule | None,
    dscp: DscpMarkingRule | None,
) -> OvnQosRow | None:
    """OVNClientQosExtension._ovn_qos_rule; None when there is neither a rate nor a DSCP
    (bug 2101063: no ``qos_add`` for min-bw-only policies)."""
    bandwidth: dict[str, int] = {}
    action: dict[str, int] = {}
    if bw is not None:
        if not 1 <= bw.max_kbps <= _QOS_BANDWIDTH_MAX:
            # [derived] ovsdbapp QoSAddCommand validates rate before the transaction.
            raise UnsupportedError(
                f"rate({bw.max_kbps}) must be between 1 and {_QOS_BANDWIDTH_MAX}, inclusive"
            )
        bandwidth["rate"] = bw.max_kbps
        if bw.max_burst_kbps:
            bandwidth["burst"] = bw.max_burst_kbps
    if dscp is not None:
        action["dscp"] = dscp.dscp_mark
    if not bandwidth and not action:
        return None
    outbound = direction is Direction.OUTBOUND
    return OvnQosRow(
        f"neutron-{network_id}", "from-lport" if outbound else "to-lport",
        OVN_QOS_DEFAULT_RULE_PRIORITY, f'{"inport" if outbound else "outport"} == "{port_id}"',
        bandwidth, action, {"neutron:port_id": port_id}, direction,
        tuple(r for r in (bw, dscp) if r is not None),
    )


def _source(rule: Rule) -> str:
    if isinstance(rule, BandwidthLimitRule):
        return (f"bandwidth_limit {rule.direction.neutron} max_kbps={rule.max_kbps} "
                f"max_burst_kbps={rule.max_burst_kbps}")
    if isinstance(rule, MinimumBandwidthRule):
        return f"minimum_bandwidth {rule.direction.neutron} min_kbps={rule.min_kbps}"
    if isinstance(rule, DscpMarkingRule):
        return f"dscp_marking dscp_mark={rule.dscp_mark}"
    return rule.type.value


def ovn_limits(plan: OvnPlan, *, mtu: int = 1500, source: str = "") -> list[Limit]:
    """What OVN enforces for ``plan`` (rates bit/s, bursts bytes); ``source`` (e.g.
    ``"policy p"``) prefixes each limit's source.

    A QoS row becomes ``set_meter(rate[, burst])``; without a burst the OVS meter bucket equals
    the rate. Neutron docs (bug 2153122): a bucket smaller than the MTU in bits drops every
    packet, so such limits are flagged.
    """
    prefix = f"{source}: " if source else ""
    out: list[Limit] = []
    for row in plan.qos_rows:
        rate = burst = None
        notes: list[str] = []
        if row.bandwidth:
            bucket = Kbit(row.bandwidth.get("burst", row.bandwidth["rate"]))
            if "burst" not in row.bandwidth:
                notes.append("no burst: meter burst = rate")
            if bucket * 1000 < mtu * 8:
                notes.append(f"meter bucket {bucket} kbit is smaller than the MTU ({mtu} B): "
                             "every packet is dropped (bug 2153122)")
            rate = kbit_per_sec_to_bits(KbitPerSec(row.bandwidth["rate"]))
            burst = kbit_to_bytes(bucket)
        mechanism = Mechanism(MechanismKind.OVN_METER if row.bandwidth else MechanismKind.OVN_DSCP,
                              (row.direction, row.match.split(" ", 1)[0]))
        out.append(Limit(Enforcer.OVN, row.vm_direction, plan.port_id, mechanism,
                         prefix + "; ".join(_source(rule) for rule in row.rules), rate=rate,
                         burst=burst, dscp=row.action.get("dscp"), notes=tuple(notes)))
    if plan.lsp_options:
        options = plan.lsp_options
        max_rate = int(options.get("qos_max_rate", 0))
        min_rate = int(options.get("qos_min_rate", 0))
        # [derived] OVN (>= 23.06) configures an OVS linux-htb queue on the localnet port with
        # these values; OVS htb_parse_class_details__ makes the burst at least MTU+64 bytes.
        burst_bytes = max(int(options.get("qos_burst", 0)) // 8, mtu + 64)
        out.append(Limit(
            Enforcer.OVN, Direction.OUTBOUND, plan.port_id,
            Mechanism(MechanismKind.OVN_LSP_OPTIONS),
            prefix + "; ".join(_source(rule) for rule in plan.lsp_rules),
            rate=BitsPerSec(max_rate) if max_rate else None,
            burst=Bytes(burst_bytes) if max_rate else None,
            min_rate=BitsPerSec(min_rate) if min_rate else None,
        ))
    return out


class _OvnBackend:
    """ML2/OVN in the backend registry."""

    name: Final = NeutronBackend.OVN

    def compile(self, port: PortContext, rules: Sequence[Rule],
                options: AgentOptions) -> OvnPlan:
        return compile_ovn(port.port_id, port.network_id, port.network_type, rules,
                           neutron_release=options.neutron_release,
                           device_owner=port.device_owner)

    def limits(self, port: PortContext, rules: Sequence[Rule], options: AgentOptions, *,
               source: str) -> list[Limit]:
        return ovn_limits(self.compile(port, rules, options), mtu=port.mtu, source=source)


OVN: Final = _OvnBackend()
