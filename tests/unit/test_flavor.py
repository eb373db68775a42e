"""A Flavor parses its quota:* specs once, when it is built, with Nova's validation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.nova.flavor import Flavor, FlavorQuota, VifQuota
from vmqos.units import KBytesPerSec, KiB


def test_flavor_carries_its_parsed_quota() -> None:
    flavor = Flavor("f", extra_specs={"quota:cpu_shares": "2048",
                                      "quota:vif_inbound_average": "100",
                                      "quota:vif_inbound_burst": "200"})
    assert flavor.quota == FlavorQuota(
        cpu_shares=2048,
        vif_inbound=VifQuota(average=KBytesPerSec(100), burst=KiB(200)))
    assert Flavor("plain").quota == FlavorQuota()


def test_invalid_spec_cannot_become_a_flavor() -> None:
    with pytest.raises(ValidationError) as info:
        Flavor("f", extra_specs={"quota:cpu_shares": "-1"})
    assert info.value.message == "Validation failed; '-1' is less than the min value of '0'."


def test_replace_parses_the_new_specs() -> None:
    flavor = Flavor("f", extra_specs={"quota:cpu_shares": "512"})
    assert replace(flavor, extra_specs={"quota:cpu_shares": "0"}).quota.cpu_shares == 0


def test_quota_is_derived_not_compared() -> None:
    # Equal specs give equal flavors; the quota is not a constructor argument.
    assert Flavor("f", extra_specs={"quota:cpu_period": "1000"}) == Flavor(
        "f", extra_specs={"quota:cpu_period": "1000"})
    with pytest.raises(TypeError):
        Flavor("f", quota=FlavorQuota())  # type: ignore[call-arg]
