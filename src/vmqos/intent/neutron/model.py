"""Neutron QoS policies and their five rule types, as typed values.

Field names are Neutron's, verbatim (``max_kbps``, ``max_burst_kbps``, ``dscp_mark`` ...), with
Neutron's units in the types: kilobits/s and kilobits (SI, 1000), kilopackets/s. ``direction``
is the shared :class:`vmqos.model.Direction` (Neutron ``ingress`` = ``Direction.INBOUND``, to
the VM). Validation with Neutron's messages lives in :mod:`vmqos.intent.neutron.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from vmqos.model import Direction
from vmqos.units import Kbit, KbitPerSec, Kpps

__all__ = [
    "BandwidthLimitRule",
    "DscpMarkingRule",
    "MinimumBandwidthRule",
    "MinimumPacketRateRule",
    "PacketRateLimitRule",
    "QosPolicy",
    "Rule",
    "RuleType",
]


class RuleType(Enum):
    BANDWIDTH_LIMIT = "bandwidth_limit"
    DSCP_MARKING = "dscp_marking"
    MINIMUM_BANDWIDTH = "minimum_bandwidth"
    PACKET_RATE_LIMIT = "packet_rate_limit"
    MINIMUM_PACKET_RATE = "minimum_packet_rate"


@dataclass(frozen=True, slots=True)
class BandwidthLimitRule:
    max_kbps: KbitPerSec
    max_burst_kbps: Kbit = Kbit(0)
    direction: Direction = Direction.OUTBOUND
    id: str = ""

    type = RuleType.BANDWIDTH_LIMIT


@dataclass(frozen=True, slots=True)
class DscpMarkingRule:
    dscp_mark: int
    id: str = ""

    type = RuleType.DSCP_MARKING


@dataclass(frozen=True, slots=True)
class MinimumBandwidthRule:
    min_kbps: KbitPerSec
    direction: Direction = Direction.OUTBOUND
    id: str = ""

    type = RuleType.MINIMUM_BANDWIDTH


@dataclass(frozen=True, slots=True)
class PacketRateLimitRule:
    max_kpps: Kpps
    max_burst_kpps: Kpps = Kpps(0)
    direction: Direction = Direction.OUTBOUND
    id: str = ""

    type = RuleType.PACKET_RATE_LIMIT


@dataclass(frozen=True, slots=True)
class MinimumPacketRateRule:
    """``direction`` ``None`` is Neutron's ``any`` (only this rule type accepts it)."""

    min_kpps: Kpps
    direction: Direction | None = Direction.OUTBOUND
    id: str = ""

    type = RuleType.MINIMUM_PACKET_RATE


Rule = (
    BandwidthLimitRule
    | DscpMarkingRule
    | MinimumBandwidthRule
    | PacketRateLimitRule
    | MinimumPacketRateRule
)


@dataclass(frozen=True, slots=True)
class QosPolicy:
    name: str
    id: str = ""
    description: str = ""
    shared: bool = False
    is_default: bool = False
    project_id: str = ""
    rules: tuple[Rule, ...] = ()

    def bandwidth_limit(self, direction: Direction) -> BandwidthLimitRule | None:
        for rule in self.rules:
            if isinstance(rule, BandwidthLimitRule) and rule.direction is direction:
                return rule
        return None

    def dscp_marking(self) -> DscpMarkingRule | None:
        for rule in self.rules:
            if isinstance(rule, DscpMarkingRule):
                return rule
        return None
