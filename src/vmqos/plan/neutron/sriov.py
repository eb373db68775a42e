"""What the SR-IOV NIC agent (``sriovnicswitch``) writes on a host for a port's QoS rules.

Pure plan: :func:`compile_sriov` turns a VF and its port's effective rules into an
:class:`SriovPlan` — the VF's ``max_tx_rate`` / ``min_tx_rate`` in Mbit/s — and
:func:`sriov_limits` reports what the VF enforces as :class:`Limit` values.
Source: neutron ``mech_sriov/agent/eswitch_manager.py`` (``set_device_rate``) and
``extension_drivers/qos_driver.py``; ``agent/ovn/extensions/qos_hwol.py`` for the OVN
hardware-offload variant (kbps→Mbps: EmbSwitch.set_device_rate rounds half-up, qos_hwol
_kbps_2_mbps truncates).

Invariants:

* Only Neutron *egress* (``Direction.OUTBOUND``, from the VM) is enforced: a VF has a transmit
  rate limit and guarantee, nothing for receive. ``max_burst_kbps`` is ignored ("not supported
  by the IP tool"); DSCP and packet-rate rules are not supported by this driver.
* Both rates are always written together (``IFLA_VF_RATE`` needs both; bug 1962844), 0 meaning
  "no limit"/"no guarantee".
* Rules are assumed validated by :mod:`vmqos.intent`; a repeated (type, direction) overwrites
  the earlier one, as the agent's updates do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from vmqos.intent.neutron.model import BandwidthLimitRule, MinimumBandwidthRule, Rule
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer, NeutronBackend
from vmqos.plan.neutron.port import AgentOptions, PortContext
from vmqos.units import KbitPerSec, MbitPerSec, mbit_per_sec_to_bits

__all__ = [
    "SRIOV_AGENT",
    "SriovPlan",
    "compile_sriov",
    "kbps_to_mbps",
    "kbps_to_mbps_hwol",
    "sriov_limits",
]


def kbps_to_mbps(kbps: KbitPerSec) -> MbitPerSec:
    """SR-IOV agent ``set_device_rate``: 0 -> 0 (disable), 0 < k < 1000 -> 1, else k/1000
    rounded half up (neutron_lib ``round_val``: ``Decimal.quantize(ROUND_HALF_UP)``).

    For a non-negative integer k, ``ROUND_HALF_UP(k / 1000)`` is exactly ``(k + 500) // 1000``;
    integer arithmetic gives the same result without Decimal's cost on the explain hot path
    (the equivalence is property-tested against the Decimal form).
    """
    if 0 < kbps < 1000:
        return MbitPerSec(1)
    return MbitPerSec((kbps + 500) // 1000)


def kbps_to_mbps_hwol(kbps: KbitPerSec) -> MbitPerSec:
    """OVN agent ``qos_hwol._kbps_2_mbps``: like :func:`kbps_to_mbps` but truncating
    (``int(kbps / 1000.0)``): 2500 -> 2, where the SR-IOV agent gives 3."""
    if 0 < kbps < 1000:
        return MbitPerSec(1)
    return MbitPerSec(kbps // 1000)


@dataclass(frozen=True, slots=True)
class SriovPlan:
    pf: str                          # the physical function's netdev
    vf_index: int
    max_tx_rate: MbitPerSec          # 0: no limit
    min_tx_rate: MbitPerSec          # 0: no guarantee
    rules: tuple[Rule, ...]
    notes: tuple[str, ...]

    def commands(self) -> list[str]:
        """The ``ip link`` equivalent of the agent's pyroute2 ``IFLA_VF_RATE`` write."""
        return [
            f"ip link set dev {self.pf} vf {self.vf_index} max_tx_rate {self.max_tx_rate} "
            f"min_tx_rate {self.min_tx_rate}"
        ]


def compile_sriov(pf: str, vf_index: int, rules: Sequence[Rule]) -> SriovPlan:
    """The VF rates the SR-IOV agent sets for ``rules``."""
    max_rule: BandwidthLimitRule | None = None
    min_rule: MinimumBandwidthRule | None = None
    notes: list[str] = []
    for rule in rules:
        if isinstance(rule, BandwidthLimitRule):
            if rule.direction is Direction.OUTBOUND:
                max_rule = rule
            else:
                # The sriovnicswitch driver accepts bandwidth_limit egress only: the API
                # rejects ingress for bound ports (QosRuleNotSupported); unbound ports skip it.
                notes.append("bandwidth_limit ingress: not supported by sriovnicswitch "
                             "(rejected at the API for bound ports), not enforced")
        elif isinstance(rule, MinimumBandwidthRule):
            if rule.direction is Direction.OUTBOUND:
                min_rule = rule
            else:
                notes.append("minimum_bandwidth ingress: placement only, no dataplane change")
        else:
            notes.append(f"{rule.type.value}: not supported by the SR-IOV agent, skipped")
    max_rate = kbps_to_mbps(max_rule.max_kbps) if max_rule else MbitPerSec(0)
    min_rate = kbps_to_mbps(min_rule.min_kbps) if min_rule else MbitPerSec(0)
    if max_rule is not None and max_rule.max_burst_kbps:
        notes.append("max_burst_kbps is ignored: a VF has no burst setting")
    return SriovPlan(pf, vf_index, max_rate, min_rate, tuple(rules), tuple(notes))


def sriov_limits(plan: SriovPlan, *, source: str = "") -> list[Limit]:
    """What the VF enforces for ``plan``: one egress Limit, or none if both rates are 0.
    ``source`` (e.g. ``"policy p"``) prefixes the limit's source."""
    if not plan.max_tx_rate and not plan.min_tx_rate:
        return []
    sources: list[str] = []
    notes: list[str] = []
    for rule in plan.rules:
        if isinstance(rule, BandwidthLimitRule) and rule.direction is Direction.OUTBOUND:
            sources.append(f"bandwidth_limit egress max_kbps={rule.max_kbps} "
                           f"max_burst_kbps={rule.max_burst_kbps}")
            if plan.max_tx_rate * 1000 != rule.max_kbps:
                notes.append(f"max_kbps {rule.max_kbps} rounded to {plan.max_tx_rate} Mbit/s")
            if rule.max_burst_kbps:
                notes.append("burst ignored")
        elif isinstance(rule, MinimumBandwidthRule) and rule.direction is Direction.OUTBOUND:
            sources.append(f"minimum_bandwidth egress min_kbps={rule.min_kbps}")
            if plan.min_tx_rate * 1000 != rule.min_kbps:
                notes.append(f"min_kbps {rule.min_kbps} rounded to {plan.min_tx_rate} Mbit/s")
    return [
        Limit(
            Enforcer.SRIOV,
            Direction.OUTBOUND,
            f"{plan.pf} vf {plan.vf_index}",
            Mechanism(MechanismKind.SRIOV_VF_RATE),
            (f"{source}: " if source else "") + "; ".join(sources),
            rate=mbit_per_sec_to_bits(plan.max_tx_rate) if plan.max_tx_rate else None,
            min_rate=mbit_per_sec_to_bits(plan.min_tx_rate) if plan.min_tx_rate else None,
            notes=tuple(dict.fromkeys(notes)),
        )
    ]


class _SriovBackend:
    """The SR-IOV NIC agent in the backend registry."""

    name: Final = NeutronBackend.SRIOV

    def compile(self, port: PortContext, rules: Sequence[Rule],
                options: AgentOptions) -> SriovPlan:
        return compile_sriov(port.pf, port.vf_index, rules)

    def limits(self, port: PortContext, rules: Sequence[Rule], options: AgentOptions, *,
               source: str) -> list[Limit]:
        return sriov_limits(self.compile(port, rules, options), source=source)


SRIOV_AGENT: Final = _SriovBackend()
