"""Nova's zone rules for aggregates with hosts (nova/compute/api.py AggregateAPI)."""

from __future__ import annotations

from vmqos.intent.availability_zones import (
    ZonedAggregate,
    add_host_reason,
    host_zone,
    refusal,
    remove_host_reason,
    zone_change_reason,
)

EAST = ZonedAggregate(1, "east", "az-east", ("h1",))
WEST = ZonedAggregate(2, "west", "az-west", ())
PLAIN = ZonedAggregate(3, "plain", None, ("h1", "h2"))
ALL = [EAST, WEST, PLAIN]


def test_a_host_is_in_its_aggregates_zone_or_nova() -> None:
    assert host_zone("h1", ALL) == "az-east"
    assert host_zone("h2", ALL) == "nova"


def test_a_host_is_in_one_zone() -> None:
    assert add_host_reason(WEST, "h1", ALL, 0) == (
        "One or more hosts already in availability zone(s) ['az-east']")
    assert add_host_reason(WEST, "h2", ALL, 0) is None
    assert add_host_reason(PLAIN, "h3", ALL, 5) is None      # no zone: nothing moves


def test_servers_do_not_change_zone() -> None:
    assert "would change from 'None' to 'az-west' but the host already has 2" in (
        add_host_reason(WEST, "h2", ALL, 2) or "")
    assert "would change from 'az-east' to 'None'" in (remove_host_reason(EAST, "h1", ALL, 1)
                                                       or "")
    assert remove_host_reason(EAST, "h1", ALL, 0) is None
    assert zone_change_reason(EAST, "az-north", ALL, {"h1"}) == (
        "One or more hosts contain instances in this zone")
    assert zone_change_reason(PLAIN, "az-west", ALL, set()) == (
        "One or more hosts already in availability zone(s) ['az-east']")


def test_refusals_in_novas_words() -> None:
    assert refusal("add", 7, "x") == "Cannot add host to aggregate 7. Reason: x."
    assert refusal("delete", 7, "x") == "Cannot remove host from aggregate 7. Reason: x."
    assert refusal("update_meta", 7, "x") == "Cannot update metadata of aggregate 7. Reason: x."
