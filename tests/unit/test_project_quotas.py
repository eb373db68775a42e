"""The quota decision and its messages (vmqos.intent.project_quotas), against the values and
words of nova/conf/quota.py, neutron/conf/quota.py, nova/compute/utils.py
check_num_instances_quota and neutron-lib's OverQuota."""

from __future__ import annotations

import pytest

from vmqos.intent.project_quotas import (
    NEUTRON_DEFAULTS,
    NOVA_DEFAULTS,
    Exceeded,
    exceeded,
    neutron_limit_below_usage,
    neutron_over_quota,
    nova_limit_below_usage,
    nova_too_many_instances,
)


def test_the_defaults_are_upstreams() -> None:
    assert dict(NOVA_DEFAULTS) == {
        "cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240,
        "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10,
        "key_pairs": 100, "metadata_items": 128, "ram": 51200, "security_group_rules": -1,
        "security_groups": -1, "server_group_members": 10, "server_groups": 10}
    assert list(NOVA_DEFAULTS) == sorted(NOVA_DEFAULTS)  # QuotaEngine.resources is sorted
    assert dict(NEUTRON_DEFAULTS) == {
        "network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10,
        "floatingip": 50, "router_route": 30, "rbac_policy": 10, "security_group": 10,
        "security_group_rule": 100}


LIMITS = {"instances": 10, "cores": 20, "ram": 512, "network": 0, "port": -1}


@pytest.mark.parametrize(("used", "deltas", "over"), [
    ({"instances": 9}, {"instances": 1}, None),                       # exactly at the limit
    ({"instances": 10}, {"instances": 1}, ("instances",)),
    ({"instances": 3, "cores": 18}, {"instances": 1, "cores": 4}, ("cores",)),
    ({"instances": 10, "cores": 20}, {"instances": 1, "cores": 1, "ram": 1},
     ("cores", "instances")),                                         # sorted, as both report
    ({}, {"network": 1}, ("network",)),                               # a limit of 0
    ({"port": 10**9}, {"port": 1}, None),                             # -1 is unlimited
    ({}, {"network": 0}, None),                                       # a zero delta fits 0
])
def test_a_resource_is_over_when_usage_plus_the_delta_passes_a_limit(
        used: dict[str, int], deltas: dict[str, int], over: tuple[str, ...] | None) -> None:
    result = exceeded(LIMITS, used, deltas)
    assert (result.resources if result else None) == over


def test_nova_words_an_instance_refusal_with_each_list_joined() -> None:
    one = exceeded(LIMITS, {"instances": 10}, {"instances": 1, "cores": 1, "ram": 64})
    assert one == Exceeded(("instances",), (1,), (10,), (10,))
    assert nova_too_many_instances(one) == (
        "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances")
    two = exceeded(LIMITS, {"instances": 10, "cores": 19}, {"instances": 1, "cores": 2})
    assert two is not None
    assert nova_too_many_instances(two) == (
        "Quota exceeded for cores, instances: Requested 2, 1, but already used 19, 10 of "
        "20, 10 cores, instances")


def test_neutron_words_an_over_quota_with_the_sorted_list() -> None:
    over = exceeded({"port": 1, "network": 1}, {"port": 1, "network": 1},
                    {"port": 1, "network": 1})
    assert over is not None
    assert neutron_over_quota(over) == "Quota exceeded for resources: ['network', 'port']."


@pytest.mark.parametrize(("limit", "used", "message"), [
    (1, 2, "Quota limit 1 for instances must be greater than or equal to already used and "
           "reserved 2."),
    (2, 2, None), (-1, 99, None), (0, 0, None),
])
def test_nova_refuses_a_limit_below_the_usage(limit: int, used: int,
                                              message: str | None) -> None:
    assert nova_limit_below_usage("instances", limit, used) == message


@pytest.mark.parametrize(("limit", "used", "message"), [
    (1, 2, "Quota limit 1 for network must be greater than or equal to already used 2"),
    (2, 2, None), (-1, 99, None),
])
def test_neutron_refuses_a_limit_below_the_usage(limit: int, used: int,
                                                 message: str | None) -> None:
    assert neutron_limit_below_usage("network", limit, used) == message
