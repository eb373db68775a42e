"""cgroup writes for <cputune>: the seed's paths, what libvirt 9.0 wrote here, machine names,
shares→weight (libvirt vircgroupv1.c, vircgroupv2.c, vircgroup.h)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import seed
from vmqos.errors import UnsupportedError, ValidationError
from vmqos.libvirt_types import CpuTune
from vmqos.plan.kernel.cgroup import CPU_QUOTA_MAX
from vmqos.plan.render.cgroup import (
    CPU_UNLIMITED,
    CgroupAction,
    CgroupWrite,
    CpuMax,
    SystemdProperty,
    cgroup_layout,
    compile_cgroup_writes,
    domain_cgroup_dir,
    expected_cgroup_values,
    machine_name,
    render_cgroup_script,
    scope_unit,
    shares_to_weight,
    thread_cgroup_dir,
    validate_cputune,
    vcpu_bandwidth,
)
from vmqos.profile import CgroupVersion, Profile, SharesPolicy, get_profile
from vmqos.units import Microseconds

PIKE = get_profile("pike-rhel7")
NOSYSTEMD_V1 = get_profile("debian12-nosystemd")          # libvirt 9.0, v1, no systemd
NOSYSTEMD_V2 = get_profile("debian12-nosystemd", cgroup="v2")
MODERN = get_profile("modern")                            # libvirt >= 9.1, v2, systemd


def _checked(domain_id: int, name: str, vcpus: int, tune: CpuTune,
             profile: Profile) -> tuple[CgroupAction, ...]:
    """libvirt's checks, then its writes: what a start that succeeds does."""
    validate_cputune(domain_id, name, tune, profile)
    return compile_cgroup_writes(domain_id, name, vcpus, tune, profile)


def _seed_cgroup_reads() -> dict[str, str]:
    """``cat <path>`` → the next line, from the note; the note shows the path shell-escaped
    (``\\\\x2d``): the file's real name has one backslash."""
    reads = {}
    for command, output in seed.note_outputs().items():
        match = re.fullmatch(r"cat (/sys/fs/cgroup/\S+scope/cpu\.shares)", command)
        if match:
            reads[match.group(1).replace("\\\\", "\\")] = output[0]
    return reads


# --- the seed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain_id", "name", "shares", "path"),
    [
        (10, "instance-00000041", 512,
         "/sys/fs/cgroup/cpu/machine.slice/machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope"
         "/cpu.shares"),
        (11, "instance-00000042", 1024,
         "/sys/fs/cgroup/cpu/machine.slice/machine-qemu\\x2d11\\x2dinstance\\x2d00000042.scope"
         "/cpu.shares"),
    ],
)
def test_seed_cgroup_shares(domain_id: int, name: str, shares: int, path: str) -> None:
    assert _seed_cgroup_reads()[path] == str(shares)
    writes = _checked(domain_id, name, 1, CpuTune(shares=shares), PIKE)
    assert writes == (CgroupWrite(path.rsplit("/", 1)[0], "cpu.shares", str(shares)),)
    assert expected_cgroup_values(domain_id, name, 1, CpuTune(shares=shares), PIKE)[path] == (
        str(shares))


def test_seed_script_line_quotes_backslashes() -> None:
    writes = compile_cgroup_writes(10, "instance-00000041", 1, CpuTune(shares=512), PIKE)
    assert render_cgroup_script(writes) == (
        "echo 512 > '/sys/fs/cgroup/cpu/machine.slice/"
        "machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope/cpu.shares'\n"
    )


# --- machine names and paths -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "domain_id", "expected"),
    [  # libvirt tests/virsystemdtest.c TEST_MACHINE vectors (no embed root)
        ("demo", 1, "qemu-1-demo"),
        ("demo-name", 2, "qemu-2-demo-name"),
        ("demo!name", 3, "qemu-3-demoname"),
        (".demo", 4, "qemu-4-demo"),
        ("bull\U0001f4a9", 5, "qemu-5-bull"),
        ("demo..name", 6, "qemu-6-demo.name"),
        ("12345678901234567890123456789012345678901234567890123456789", 7,
         "qemu-7-123456789012345678901234567890123456789012345678901234567"),
        ("123456789012345678901234567890123456789012345678901234567890", 8,
         "qemu-8-123456789012345678901234567890123456789012345678901234567"),
        ("kstest-network-device-default-httpks_(c9eed63e-981e-48ec-acdc-56b3f8c5f678)", 100,
         "qemu-100-kstest-network-device-default-httpksc9eed63e-981e-48ec"),
        ("kstest-network-device-default-httpks_(c9eed63e-981e-48ec--cdc-56b3f8c5f678)", 10,
         "qemu-10-kstest-network-device-default-httpksc9eed63e-981e-48ec-c"),
        ("demo.-.test.", 11, "qemu-11-demo.test"),
        ("|.-m", 1, "qemu-1-m"),
        ("Auto-esx7.0-rhel7.9-special-characters~!@#$%^&*_=+,?><:;|.\"[]()`\\-m", 1,
         "qemu-1-Auto-esx7.0-rhel7.9-special-characters.m"),
        ("instance-00000041", 4, "qemu-4-instance-00000041"),
    ],
)
def test_machine_name(name: str, domain_id: int, expected: str) -> None:
    assert machine_name(domain_id, name) == expected


def test_scope_unit() -> None:
    # virsystemdtest.c TEST_SCOPE_NEW("qemu-3-demo", "machine-qemu\\x2d3\\x2ddemo.scope")
    assert scope_unit(3, "demo") == "machine-qemu\\x2d3\\x2ddemo.scope"


@pytest.mark.parametrize(
    ("profile", "domain_id", "name", "domain_dir", "vcpu0"),
    [
        (NOSYSTEMD_V1, 4, "instance-00000041",
         "/sys/fs/cgroup/cpu/machine/qemu-4-instance-00000041.libvirt-qemu",
         "/sys/fs/cgroup/cpu/machine/qemu-4-instance-00000041.libvirt-qemu/vcpu0"),
        (get_profile("modern", cgroup="v1"), 10, "instance-00000041",
         "/sys/fs/cgroup/cpu,cpuacct/machine.slice/"
         "machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope",
         "/sys/fs/cgroup/cpu,cpuacct/machine.slice/"
         "machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope/libvirt/vcpu0"),
        (NOSYSTEMD_V2, 7, "instance-00000041",
         "/sys/fs/cgroup/machine/qemu-7-instance-00000041.libvirt-qemu",
         "/sys/fs/cgroup/machine/qemu-7-instance-00000041.libvirt-qemu/vcpu0"),
        (MODERN, 1, "instance-00000001",
         "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dinstance\\x2d00000001.scope",
         "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dinstance\\x2d00000001.scope"
         "/libvirt/vcpu0"),
        (PIKE, 10, "instance-00000041",
         "/sys/fs/cgroup/cpu/machine.slice/machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope",
         "/sys/fs/cgroup/cpu/machine.slice/machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope"
         "/vcpu0"),
    ],
)
def test_cgroup_dirs(profile: Profile, domain_id: int, name: str, domain_dir: str,
                     vcpu0: str) -> None:
    assert domain_cgroup_dir(profile, domain_id, name) == domain_dir
    assert thread_cgroup_dir(profile, domain_id, name, "vcpu0") == vcpu0


def test_layout_overrides() -> None:
    layout = cgroup_layout(PIKE, cpu_mount="/sys/fs/cgroup/cpu,cpuacct", libvirt_7_1=True)
    assert thread_cgroup_dir(PIKE, 10, "instance-00000041", "emulator", layout=layout) == (
        "/sys/fs/cgroup/cpu,cpuacct/machine.slice/"
        "machine-qemu\\x2d10\\x2dinstance\\x2d00000041.scope/libvirt/emulator")


# --- observed: cgroup v1, no systemd, libvirt 9.0 ---------------------------------------------

V1_DOM = "/sys/fs/cgroup/cpu/machine/qemu-4-instance-00000041.libvirt-qemu"


def test_v1_shares_period_quota_two_vcpus() -> None:
    tune = CpuTune(shares=2048, quota=50000, period=100000)
    writes = _checked(4, "instance-00000041", 2, tune, NOSYSTEMD_V1)
    assert writes == (
        CgroupWrite(V1_DOM, "cpu.shares", "2048"),
        CgroupWrite(f"{V1_DOM}/vcpu0", "cpu.cfs_period_us", "100000"),
        CgroupWrite(f"{V1_DOM}/vcpu0", "cpu.cfs_quota_us", "50000"),
        CgroupWrite(f"{V1_DOM}/vcpu1", "cpu.cfs_period_us", "100000"),
        CgroupWrite(f"{V1_DOM}/vcpu1", "cpu.cfs_quota_us", "50000"),
    )
    assert expected_cgroup_values(4, "instance-00000041", 2, tune, NOSYSTEMD_V1) == {
        f"{V1_DOM}/cpu.shares": "2048",
        f"{V1_DOM}/vcpu0/cpu.shares": "1024",
        f"{V1_DOM}/vcpu0/cpu.cfs_period_us": "100000",
        f"{V1_DOM}/vcpu0/cpu.cfs_quota_us": "50000",
        f"{V1_DOM}/vcpu1/cpu.shares": "1024",
        f"{V1_DOM}/vcpu1/cpu.cfs_period_us": "100000",
        f"{V1_DOM}/vcpu1/cpu.cfs_quota_us": "50000",
        f"{V1_DOM}/cpu.cfs_quota_us": "-1",
        f"{V1_DOM}/emulator/cpu.cfs_quota_us": "-1",
    }


def test_v1_negative_quota_written_as_given_read_back_minus_one() -> None:
    tune = CpuTune(shares=300, quota=-5, period=20000)
    writes = _checked(4, "instance-00000041", 1, tune, NOSYSTEMD_V1)
    assert writes == (
        CgroupWrite(V1_DOM, "cpu.shares", "300"),
        CgroupWrite(f"{V1_DOM}/vcpu0", "cpu.cfs_period_us", "20000"),
        CgroupWrite(f"{V1_DOM}/vcpu0", "cpu.cfs_quota_us", "-5"),
    )
    values = expected_cgroup_values(4, "instance-00000041", 1, tune, NOSYSTEMD_V1)
    assert values[f"{V1_DOM}/cpu.shares"] == "300"
    assert values[f"{V1_DOM}/vcpu0/cpu.cfs_quota_us"] == "-1"
    assert values[f"{V1_DOM}/vcpu0/cpu.cfs_period_us"] == "20000"


def test_nothing_when_period_and_quota_zero() -> None:
    assert compile_cgroup_writes(4, "i", 2, CpuTune(period=0, quota=0), NOSYSTEMD_V1) == ()
    assert compile_cgroup_writes(4, "i", 2, None, MODERN) == ()
    assert expected_cgroup_values(4, "i", 2, CpuTune(), MODERN) == {}


def test_quota_alone_keeps_kernel_period() -> None:
    tune = CpuTune(quota=50000)
    assert compile_cgroup_writes(4, "instance-00000041", 1, tune, NOSYSTEMD_V1) == (
        CgroupWrite(f"{V1_DOM}/vcpu0", "cpu.cfs_quota_us", "50000"),)
    values = expected_cgroup_values(4, "instance-00000041", 1, tune, NOSYSTEMD_V1)
    assert values[f"{V1_DOM}/vcpu0/cpu.cfs_period_us"] == "100000"


@pytest.mark.parametrize(
    ("tune", "profile", "error", "message"),
    [
        (CpuTune(shares=0), NOSYSTEMD_V1, ValidationError,
         "invalid argument: shares '0' must be in range [2, 262144]"),
        (CpuTune(shares=262145), NOSYSTEMD_V1, ValidationError,
         "Value of cputune 'shares' must be in range [2, 262144]"),
        (CpuTune(shares=1), NOSYSTEMD_V1, ValidationError,
         "Value of cputune 'shares' must be in range [2, 262144]"),
        (CpuTune(period=999), NOSYSTEMD_V1, ValidationError,
         "Value of cputune 'period' must be in range [1000, 1000000]"),
        (CpuTune(quota=17592186044416), NOSYSTEMD_V1, ValidationError,
         "Value of cputune 'quota' must be in range [1000, 17592186044415]"),
        # cgroup v2: kernel ERANGE (file), systemd (DBus) and libvirt >= 9.1 wording.
        (CpuTune(shares=20000), NOSYSTEMD_V2, UnsupportedError,
         "Unable to write to '/sys/fs/cgroup/machine/qemu-4-instance-00000041.libvirt-qemu/"
         "cpu.weight': Numerical result out of range"),
        (CpuTune(shares=20000), get_profile("modern", libvirt_generic_shares_check=True),
         UnsupportedError, "Value specified in CPUWeight is out of range"),
        (CpuTune(shares=20000), MODERN, UnsupportedError,
         "invalid argument: shares '20000' must be in range [1, 10000]"),
    ],
)
def test_refusals_only_with_check(tune: CpuTune, profile: Profile, error: type[Exception],
                                  message: str) -> None:
    compile_cgroup_writes(4, "instance-00000041", 1, tune, profile)  # total without check
    with pytest.raises(error) as caught:
        _checked(4, "instance-00000041", 1, tune, profile)
    assert str(caught.value).startswith(message)


def test_negative_quota_passes_check() -> None:
    # A negative quota is "no limit": v2 writes `max`, v1 the number as given.
    vcpu = "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d4\\x2di.scope/libvirt/vcpu0"
    tune = CpuTune(quota=-5, period=20000)
    assert _checked(4, "i", 1, tune, MODERN) == (
        CgroupWrite(vcpu, "cpu.max", "max 20000"), CgroupWrite(vcpu, "cpu.max", "max"))
    v1 = "/sys/fs/cgroup/cpu/machine/qemu-4-i.libvirt-qemu/vcpu0"
    assert _checked(4, "i", 1, tune, NOSYSTEMD_V1) == (
        CgroupWrite(v1, "cpu.cfs_period_us", "20000"), CgroupWrite(v1, "cpu.cfs_quota_us", "-5"))


# --- cgroup v2 (libvirt vircgroupv2.c) and systemd ------------------------------------------

V2_DOM = "/sys/fs/cgroup/machine/qemu-4-instance-00000041.libvirt-qemu"
SCOPE = "machine-qemu\\x2d1\\x2dinstance\\x2d00000001.scope"
V2_SCOPE = f"/sys/fs/cgroup/machine.slice/{SCOPE}"


def test_v2_cpu_max_and_weight_without_systemd() -> None:
    tune = CpuTune(shares=2048, quota=50000, period=100000)
    writes = compile_cgroup_writes(4, "instance-00000041", 1, tune, NOSYSTEMD_V2)
    assert writes == (
        CgroupWrite(V2_DOM, "cpu.weight", "2048"),
        CgroupWrite(f"{V2_DOM}/vcpu0", "cpu.max", "max 100000"),
        CgroupWrite(f"{V2_DOM}/vcpu0", "cpu.max", "50000"),
    )
    assert expected_cgroup_values(4, "instance-00000041", 1, tune, NOSYSTEMD_V2) == {
        f"{V2_DOM}/cpu.weight": "2048",
        f"{V2_DOM}/vcpu0/cpu.weight": "100",
        f"{V2_DOM}/vcpu0/cpu.max": "50000 100000",
        f"{V2_DOM}/cpu.max": "max 100000",
        f"{V2_DOM}/emulator/cpu.max": "max 100000",
    }


@pytest.mark.parametrize("quota", [-1, 17592186044415])
def test_v2_unlimited_quota_is_max(quota: int) -> None:
    tune = CpuTune(quota=quota, period=100000)
    writes = compile_cgroup_writes(4, "instance-00000041", 1, tune, NOSYSTEMD_V2)
    assert writes[-1] == CgroupWrite(f"{V2_DOM}/vcpu0", "cpu.max", "max")
    values = expected_cgroup_values(4, "instance-00000041", 1, tune, NOSYSTEMD_V2)
    assert values[f"{V2_DOM}/vcpu0/cpu.max"] == "max 100000"


def test_v2_systemd_shares_over_dbus_period_quota_as_files() -> None:
    tune = CpuTune(shares=512, quota=50000, period=100000)
    writes = _checked(1, "instance-00000001", 1, tune, MODERN)
    assert writes == (
        SystemdProperty(SCOPE, "CPUWeight", 512),
        CgroupWrite(f"{V2_SCOPE}/libvirt/vcpu0", "cpu.max", "max 100000"),
        CgroupWrite(f"{V2_SCOPE}/libvirt/vcpu0", "cpu.max", "50000"),
    )
    assert render_cgroup_script(writes) == (
        f"systemctl set-property --runtime '{SCOPE}' CPUWeight=512\n"
        f"echo 'max 100000' > '{V2_SCOPE}/libvirt/vcpu0/cpu.max'\n"
        f"echo 50000 > '{V2_SCOPE}/libvirt/vcpu0/cpu.max'\n"
    )
    values = expected_cgroup_values(1, "instance-00000001", 1, tune, MODERN)
    assert values[f"{V2_SCOPE}/cpu.weight"] == "512"
    assert values[f"{V2_SCOPE}/libvirt/vcpu0/cpu.max"] == "50000 100000"


def test_v1_systemd_modern_libvirt_uses_cpushares_property() -> None:
    writes = compile_cgroup_writes(1, "instance-00000001", 1, CpuTune(shares=512),
                                   get_profile("modern", cgroup="v1"))
    assert writes == (SystemdProperty(SCOPE, "CPUShares", 512),)


@pytest.mark.parametrize(
    ("policy", "weight"),
    [(SharesPolicy.LIBVIRT, "2048"), (SharesPolicy.SYSTEMD, "200"),
     (SharesPolicy.RUNC_OLD, "79"), (SharesPolicy.RUNC_NEW, "174")],
)
def test_v2_weight_follows_policy(policy: SharesPolicy, weight: str) -> None:
    profile = get_profile("debian12-nosystemd", cgroup="v2", shares_policy=policy)
    writes = compile_cgroup_writes(4, "instance-00000041", 1, CpuTune(shares=2048), profile)
    assert writes == (CgroupWrite(V2_DOM, "cpu.weight", weight),)


def test_runc_zero_shares_writes_nothing() -> None:
    profile = get_profile("debian12-nosystemd", cgroup="v2", shares_policy=SharesPolicy.RUNC_NEW)
    assert _checked(4, "i", 1, CpuTune(shares=0), profile) == ()


# --- shares → weight (systemd cgroup_cpu_shares_to_weight; opencontainers/cgroups
# ConvertCPUSharesToCgroupV2Value) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "shares", "weight"),
    [
        (SharesPolicy.RUNC_OLD, 1024, 39),
        (SharesPolicy.RUNC_OLD, 2, 1),
        (SharesPolicy.RUNC_OLD, 262144, 10000),
        (SharesPolicy.RUNC_NEW, 2, 1),
        (SharesPolicy.RUNC_NEW, 1024, 100),
        (SharesPolicy.RUNC_NEW, 262144, 10000),
        (SharesPolicy.RUNC_NEW, 0, 0),
        (SharesPolicy.SYSTEMD, 1024, 100),
        (SharesPolicy.SYSTEMD, 2, 1),
        (SharesPolicy.SYSTEMD, 262144, 10000),
        (SharesPolicy.LIBVIRT, 2048, 2048),
        (SharesPolicy.LIBVIRT, 20000, 20000),
    ],
)
def test_shares_to_weight_vectors(policy: SharesPolicy, shares: int, weight: int) -> None:
    assert shares_to_weight(shares, policy) == weight


def test_shares_to_weight_rejects_negative() -> None:
    with pytest.raises(ValidationError, match="-1"):
        shares_to_weight(-1, SharesPolicy.SYSTEMD)


@pytest.mark.parametrize("policy", [SharesPolicy.RUNC_NEW, SharesPolicy.SYSTEMD])
@given(a=st.integers(min_value=1, max_value=10**7), b=st.integers(min_value=1, max_value=10**7))
def test_weight_maps_monotonic_and_in_range(policy: SharesPolicy, a: int, b: int) -> None:
    low, high = sorted((a, b))
    w_low, w_high = shares_to_weight(low, policy), shares_to_weight(high, policy)
    assert 1 <= w_low <= w_high <= 10000


@pytest.mark.parametrize(("tune", "version", "shown"), [
    (CpuTune(quota=50000, period=20000), CgroupVersion.V2, "50000 20000"),
    (CpuTune(quota=50000), CgroupVersion.V2, "50000 100000"),      # kernel's default period
    (CpuTune(quota=-5, period=20000), CgroupVersion.V2, "max 20000"),
    (CpuTune(quota=CPU_QUOTA_MAX, period=20000), CgroupVersion.V2, "max 20000"),
])
def test_vcpu_bandwidth_is_typed_until_rendered(tune: CpuTune, version: CgroupVersion,
                                                shown: str) -> None:
    bandwidth = vcpu_bandwidth(tune, version)
    assert bandwidth is not None and bandwidth.v2_text() == shown
    assert vcpu_bandwidth(CpuTune(shares=512), version) is None
    assert vcpu_bandwidth(CpuTune(quota=CPU_QUOTA_MAX), CgroupVersion.V1) == CpuMax(
        Microseconds(CPU_QUOTA_MAX), Microseconds(100000))
    assert CpuMax(Microseconds(50000), Microseconds(100000)).times(3).v1_quota_text() == "150000"
    assert CPU_UNLIMITED.times(3).v1_quota_text() == "-1"
