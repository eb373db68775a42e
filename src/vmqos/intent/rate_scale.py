"""A scenario with every network rate divided by one stated factor: pure.

Why: the reference node (vmqos.node) is a QEMU/TCG guest; its veth pairs carry a few hundred
Mbit/s, less than the rates some scenarios configure (the seed's 524 Mbit/s HTB ceiling).
There the lab runs the scenario with its rates divided by ``divisor`` and says so, so that
every measurement is judged against the rate the node really enforced — never against an
unscaled target.

What is divided (each an integer, rounded down, at least 1): the flavor's
``quota:vif_{inbound,outbound}_{average,peak,burst}`` and the Neutron ``bandwidth_limit``
``max_kbps``/``max_burst_kbps`` and ``minimum_bandwidth`` ``min_kbps``. Bursts are divided
too, so that the burst window (burst / (peak - rate), in seconds) keeps its length. CPU
shares, disk limits and packet rates are left as they are: the node reaches them unscaled.
"""

from __future__ import annotations

from dataclasses import replace

from vmqos.errors import ValidationError
from vmqos.intent.neutron.model import BandwidthLimitRule, MinimumBandwidthRule, QosPolicy, Rule
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Scenario
from vmqos.units import BitsPerSec, Kbit, KbitPerSec, kbit_per_sec_to_bits, kbytes_per_sec_to_bits

__all__ = ["CAPACITY_SHARE", "SCALED_FLAVOR_KEYS", "choose_rate_divisor", "max_network_rate",
           "scale_scenario_rates"]

# The share of the node's bare veth capacity the highest configured rate may use: HTB, sfq and
# a policer cost the TCG guest CPU too. Measured in the node (2026-12-03): with the seed's
# rates halved, its 262 Mbit/s ceil was a third of the bare 793 Mbit/s, yet HTB reached only
# 0.82-0.90 of it in the burst window, so the bucket outlasted its computed window and the
# steady-state check saw the burst's tail; a quarter leaves the peak within reach.
CAPACITY_SHARE = 0.25

SCALED_FLAVOR_KEYS = tuple(f"quota:vif_{d}_{k}" for d in ("inbound", "outbound")
                           for k in ("average", "peak", "burst"))


def _divide(value: int, divisor: int) -> int:
    # 0 keeps its meaning ("not set" / libvirt's "no limit"): never turn it into 1.
    return 0 if value == 0 else max(value // divisor, 1)


def _flavor(flavor: Flavor, divisor: int) -> Flavor:
    specs = dict(flavor.extra_specs)
    for key in SCALED_FLAVOR_KEYS:
        if key in specs:
            # Already validated by the flavor's own parse (an unsigned decimal).
            specs[key] = str(_divide(int(specs[key]), divisor))
    return replace(flavor, extra_specs=specs)


def _rule(rule: Rule, divisor: int) -> Rule:
    if isinstance(rule, BandwidthLimitRule):
        return replace(rule, max_kbps=KbitPerSec(_divide(rule.max_kbps, divisor)),
                       max_burst_kbps=Kbit(_divide(rule.max_burst_kbps, divisor)))
    if isinstance(rule, MinimumBandwidthRule):
        return replace(rule, min_kbps=KbitPerSec(_divide(rule.min_kbps, divisor)))
    return rule


def _policy(policy: QosPolicy, divisor: int) -> QosPolicy:
    return replace(policy, rules=tuple(_rule(rule, divisor) for rule in policy.rules))


def scale_scenario_rates(scenario: Scenario, divisor: int) -> Scenario:
    """``scenario`` with its network rates and bursts divided by ``divisor`` (1: unchanged)."""
    if isinstance(divisor, bool) or not isinstance(divisor, int) or not 1 <= divisor <= 1024:
        raise ValidationError(f"rate divisor {divisor!r}: must be an integer from 1 to 1024",
                              key="rate_divisor", value=divisor, allowed="1..1024")
    if divisor == 1:
        return scenario
    return replace(scenario,
                   flavors=tuple(_flavor(f, divisor) for f in scenario.flavors),
                   policies=tuple(_policy(p, divisor) for p in scenario.policies))


def max_network_rate(scenario: Scenario) -> BitsPerSec:
    """The highest rate the scenario configures anywhere: a flavor's VIF average or peak, a
    policy's ``bandwidth_limit`` (0 when none)."""
    rates = [kbytes_per_sec_to_bits(value) for flavor in scenario.flavors
             for quota in (flavor.quota.vif_inbound, flavor.quota.vif_outbound)
             for value in (quota.average, quota.peak) if value]
    rates += [kbit_per_sec_to_bits(rule.max_kbps) for policy in scenario.policies
              for rule in policy.rules if isinstance(rule, BandwidthLimitRule)]
    return BitsPerSec(max(rates, default=0))


def choose_rate_divisor(max_rate: float, capacity: float, *,
                        share: float = CAPACITY_SHARE) -> int:
    """The smallest power of two that brings ``max_rate`` (bit/s) within ``share`` of the
    measured ``capacity`` (bit/s); 1 when it already fits."""
    if capacity <= 0:
        raise ValidationError(f"capacity {capacity!r} bit/s: must be positive",
                              key="capacity", value=capacity, allowed="> 0 bit/s")
    divisor = 1
    while max_rate / divisor > share * capacity and divisor < 1024:
        divisor *= 2
    return divisor
