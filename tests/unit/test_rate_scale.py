"""A scenario's network rates divided by a stated factor (vmqos.intent.rate_scale), and the
factor chosen from a measured capacity. Reference: the seed scenario (examples/seed.yaml)."""

from __future__ import annotations

import pytest

from support.seed import seed_scenario
from vmqos.errors import ValidationError
from vmqos.intent.neutron.model import BandwidthLimitRule
from vmqos.intent.rate_scale import choose_rate_divisor, max_network_rate, scale_scenario_rates


def test_seed_divided_by_two_keeps_every_burst_window() -> None:
    seed = seed_scenario()
    half = scale_scenario_rates(seed, 2)
    quota = half.flavor("m1.resquota").quota
    for vif in (quota.vif_inbound, quota.vif_outbound):
        assert (vif.average, vif.peak, vif.burst) == (16384, 32768, 65536)
    rule = half.policy("bw-limiter").rules[0]
    assert isinstance(rule, BandwidthLimitRule)
    assert (rule.max_kbps, rule.max_burst_kbps) == (1500, 150)
    # Everything else is the seed's: CPU shares, disk limits, the other flavor, the servers.
    assert quota.cpu_shares == 512 and quota.disk == seed.flavor("m1.resquota").quota.disk
    assert half.flavor("m1.normal") == seed.flavor("m1.normal")
    assert half.servers == seed.servers and half.ports == seed.ports
    assert scale_scenario_rates(seed, 1) is seed


def test_a_zero_stays_zero_and_a_small_value_stays_set() -> None:
    seed = seed_scenario()
    scaled = scale_scenario_rates(seed, 1024)
    rule = scaled.policy("bw-limiter").rules[0]
    assert isinstance(rule, BandwidthLimitRule)
    assert (rule.max_kbps, rule.max_burst_kbps) == (2, 1)        # 3000 // 1024, max(0, 1)


@pytest.mark.parametrize("divisor", [0, -2, 1025, 1.5, True])
def test_bad_divisor_names_the_range(divisor: object) -> None:
    with pytest.raises(ValidationError, match=r"rate divisor .*: must be an integer from 1 to"):
        scale_scenario_rates(seed_scenario(), divisor)  # type: ignore[arg-type]


def test_max_rate_of_the_seed_is_its_htb_peak() -> None:
    assert max_network_rate(seed_scenario()) == 524_288_000


@pytest.mark.parametrize(("capacity", "divisor"), [
    (4e9, 1),             # 524 Mbit/s fits in a quarter of 4 Gbit/s
    (2.097152e9, 1),      # exactly a quarter
    (2e9, 2),
    (793e6, 4),           # the node measured 663-793 Mbit/s: 131 Mbit/s fits in 198
    (400e6, 8),
    (1e3, 1024),          # never beyond 1024
])
def test_choose_rate_divisor(capacity: float, divisor: int) -> None:
    assert choose_rate_divisor(524_288_000, capacity) == divisor


def test_choose_rate_divisor_needs_a_capacity() -> None:
    with pytest.raises(ValidationError, match="capacity 0"):
        choose_rate_divisor(1e6, 0)
