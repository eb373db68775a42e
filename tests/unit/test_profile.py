"""Profile switches are enums whatever names them, and keep their strings in JSON."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from vmqos.errors import ValidationError
from vmqos.jsonable import to_jsonable
from vmqos.profile import (
    PRESETS,
    CgroupVersion,
    Iproute2Style,
    QemuThrottle,
    SharesPolicy,
    get_profile,
)


def test_presets_hold_enum_members() -> None:
    pike = PRESETS["pike-rhel7"]
    assert pike.cgroup is CgroupVersion.V1
    assert pike.qemu_throttle is QemuThrottle.DRIVE
    assert pike.iproute2 is Iproute2Style.RHEL7
    modern = PRESETS["modern"]
    assert (modern.cgroup, modern.qemu_throttle, modern.iproute2) == (
        CgroupVersion.V2, QemuThrottle.QMP, Iproute2Style.MODERN)


def test_string_overrides_and_replace_become_members() -> None:
    profile = get_profile("modern", cgroup="v1", iproute2="rhel7", shares_policy="systemd")
    assert profile.cgroup is CgroupVersion.V1
    assert profile.iproute2 is Iproute2Style.RHEL7
    assert profile.shares_policy is SharesPolicy.SYSTEMD
    assert profile.cgroup_cpu_mount == "/sys/fs/cgroup/cpu,cpuacct"
    assert replace(profile, qemu_throttle="drive").qemu_throttle is QemuThrottle.DRIVE  # type: ignore[arg-type]


def test_unknown_switch_is_a_user_error() -> None:
    with pytest.raises(ValidationError) as caught:
        get_profile("modern", cgroup="v3")
    assert caught.value.key == "cgroup"
    assert str(caught.value) == "unknown cgroup 'v3'; choose one of: v1, v2"


def test_json_keeps_the_strings() -> None:
    data = to_jsonable(PRESETS["pike-rhel7"])
    assert (data["cgroup"], data["qemu_throttle"], data["iproute2"], data["shares_policy"]) == (
        "v1", "drive", "rhel7", "libvirt")
    assert json.loads(json.dumps(data)) == data
    assert f"{CgroupVersion.V2}" == "v2"
