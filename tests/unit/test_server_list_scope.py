"""Whose servers a listing shows (vmqos.api.server_list_scope), against
nova/api/openstack/common.py is_all_tenants and servers.py _get_servers' policy check."""

from __future__ import annotations

from datetime import datetime

import pytest

from vmqos.api.errors import ApiError
from vmqos.api.server_list_scope import all_tenants
from vmqos.store.identity import TokenInfo


def _who(*roles: str) -> TokenInfo:
    moment = datetime(2026, 1, 1)
    return TokenInfo("u", "user", "p", "project", roles, moment, moment, "a")


ADMIN, MEMBER = _who("admin", "member", "reader"), _who("member", "reader")


@pytest.mark.parametrize(("params", "wanted"), [
    ({}, False), ({"all_tenants": ""}, True), ({"all_tenants": "True"}, True),
    ({"all_tenants": " yes "}, True), ({"all_tenants": "0"}, False),
    ({"all_tenants": "off"}, False),
])
def test_an_admin_lists_every_project_when_asked(params: dict[str, str], wanted: bool) -> None:
    assert all_tenants(ADMIN, params, detail=True) is wanted


@pytest.mark.parametrize(("detail", "rule"), [(True, "detail"), (False, "index")])
def test_a_member_asking_for_every_project_is_refused(detail: bool, rule: str) -> None:
    with pytest.raises(ApiError) as caught:
        all_tenants(MEMBER, {"all_tenants": "1"}, detail=detail)
    assert (caught.value.status, caught.value.message) == (
        403, f"Policy doesn't allow os_compute_api:servers:{rule}:get_all_tenants to be "
             "performed.")
    assert all_tenants(MEMBER, {"all_tenants": "false"}, detail=detail) is False
    assert all_tenants(MEMBER, {}, detail=detail) is False


def test_a_value_that_is_no_boolean_is_a_400() -> None:
    with pytest.raises(ApiError) as caught:
        all_tenants(ADMIN, {"all_tenants": "maybe"}, detail=False)
    assert (caught.value.status, caught.value.message) == (
        400, "Invalid input received: Unrecognized value 'maybe', acceptable values are: "
             "'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'")
