"""Cinder front-end QoS -> libvirt <iotune> (nova virt/libvirt/volume/volume.py
LibvirtBaseVolumeDriver.get_config; libvirt domain_conf.c virDomainDiskDefIotuneParse;
QEMU util/throttle.c)."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmqos.errors import ValidationError
from vmqos.intent.nova.volume_qos import (
    QEMU_BLOCK_IOTUNE_MAX,
    VolumeQos,
    iotune_problems,
    parse_volume_qos,
)
from vmqos.libvirt_types import (
    IOTUNE_BASE_KEYS,
    IOTUNE_LENGTH_KEYS,
    NOVA_TUNE_OPTS,
    IoTune,
)

MAX_MSG = "block I/O throttle limit must be no more than 1000000000000000 using QEMU"


def test_field_names_match_plan_iotune() -> None:
    own = [f.name for f in fields(VolumeQos) if f.name not in ("ignored", "notes")]
    assert own == [f.name for f in fields(IoTune)]
    assert set(NOVA_TUNE_OPTS) == set(IOTUNE_BASE_KEYS)
    assert len(NOVA_TUNE_OPTS) == 13
    assert issubclass(VolumeQos, IoTune)
    assert VolumeQos().as_forwarded_by_nova().items() == []
    assert own[14:20] == list(IOTUNE_LENGTH_KEYS)
    assert own[20:] == ["verbatim"]


def test_vector_full_set_with_group_and_lengths() -> None:
    specs = {
        "total_bytes_sec": "10485760", "total_iops_sec": "500",
        "total_bytes_sec_max": "20971520", "total_iops_sec_max": "1000",
        "total_bytes_sec_max_length": "10", "total_iops_sec_max_length": "5",
        "size_iops_sec": "4096", "group_name": "grp1",
    }
    qos = parse_volume_qos(specs)
    assert qos.total_bytes_sec == 10485760
    assert qos.total_iops_sec == 500
    assert qos.total_bytes_sec_max == 20971520
    assert qos.total_iops_sec_max == 1000
    assert qos.total_bytes_sec_max_length == 10
    assert qos.total_iops_sec_max_length == 5
    assert qos.size_iops_sec == 4096
    assert qos.group_name == "grp1"
    assert qos.ignored == ()
    # Nova's tune_opts never carry these three keys (nova/virt/libvirt/imagebackend.py).
    assert len(qos.notes) == 3
    assert all("never reaches libvirt through Nova" in note for note in qos.notes)
    assert [n.split("=")[0] for n in qos.notes] == [
        "group_name", "total_bytes_sec_max_length", "total_iops_sec_max_length"]
    forwarded = qos.as_forwarded_by_nova()
    assert forwarded.group_name is None
    assert forwarded.total_bytes_sec_max_length is None
    assert forwarded.total_iops_sec_max == 1000


def test_vector_read_write_and_iops_max() -> None:
    qos = parse_volume_qos({"read_bytes_sec": "1000000", "write_bytes_sec": "1024000",
                            "read_iops_sec": "100", "read_iops_sec_max": "200"})
    assert qos.items() == [("read_bytes_sec", 1000000), ("read_iops_sec", 100),
                           ("write_bytes_sec", 1024000), ("read_iops_sec_max", 200)]
    assert qos.notes == ()


def test_vector_over_qemu_limit() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_volume_qos({"read_bytes_sec": "1000000000000001"})
    assert str(exc.value) == MAX_MSG
    assert exc.value.key == "read_bytes_sec"
    assert exc.value.value == 1000000000000001
    assert parse_volume_qos({"read_bytes_sec": "1000000000000000"}).read_bytes_sec == 10**15


@pytest.mark.parametrize(("specs", "message"), [
    ({"total_bytes_sec": "1", "read_bytes_sec": "2"},
     "total and read/write bytes_sec cannot be set at the same time"),
    ({"total_bytes_sec": "1", "write_bytes_sec": "2"},
     "total and read/write bytes_sec cannot be set at the same time"),
    ({"total_iops_sec": "1", "read_iops_sec": "2"},
     "total and read/write iops_sec cannot be set at the same time"),
    ({"total_bytes_sec": "5", "total_bytes_sec_max": "9", "read_bytes_sec_max": "9"},
     "total and read/write bytes_sec_max cannot be set at the same time"),
    ({"total_iops_sec": "5", "total_iops_sec_max": "9", "write_iops_sec_max": "9"},
     "total and read/write iops_sec_max cannot be set at the same time"),
    ({"group_name": "g"}, "group_name can be configured only together with settings"),
    ({"group_name": "g", "read_bytes_sec": "0"},
     "group_name can be configured only together with settings"),
    ({"read_bytes_sec_max_length": "10"}, "burst length set without burst rate"),
    ({"read_iops_sec": "5", "read_iops_sec_max_length": "2"},
     "burst length set without burst rate"),
    ({"read_iops_sec_max": "200"}, "bps_max/iops_max require corresponding bps/iops values"),
    ({"write_bytes_sec": "300", "write_bytes_sec_max": "200"},
     "bps_max/iops_max cannot be lower than bps/iops"),
    ({"size_iops_sec": "4096"}, "iops size requires an iops value to be set"),
    ({"size_iops_sec": "4096", "total_bytes_sec": "1"},
     "iops size requires an iops value to be set"),
    ({"total_bytes_sec": "1", "total_bytes_sec_max": str(QEMU_BLOCK_IOTUNE_MAX),
      "total_bytes_sec_max_length": "2"}, "burst length too high for this burst rate"),
])
def test_libvirt_and_qemu_rules(specs: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_volume_qos(specs)
    assert str(exc.value) == message
    assert exc.value.allowed


@pytest.mark.parametrize(("specs", "values", "not_forwarded"), [
    # 0 is "unset" to libvirt, so total and read do not conflict; the 0 is still kept.
    ({"total_bytes_sec": "0", "read_bytes_sec": "2"},
     [("read_bytes_sec", 2), ("total_bytes_sec", 0)], []),
    # QEMU's default length is 1: no burst rate is needed for it.
    ({"read_bytes_sec_max_length": "1"},
     [("read_bytes_sec_max_length", 1)], ["read_bytes_sec_max_length"]),
    ({"size_iops_sec": "4096", "write_iops_sec": "10"},
     [("write_iops_sec", 10), ("size_iops_sec", 4096)], []),
    ({"read_iops_sec": "100", "read_iops_sec_max": "100", "read_iops_sec_max_length": "60"},
     [("read_iops_sec", 100), ("read_iops_sec_max", 100), ("read_iops_sec_max_length", 60)],
     ["read_iops_sec_max_length"]),
    # An empty group_name is no group (libvirt's virXPathString returns NULL for ""), but it
    # is still a key Nova would not forward.
    ({"group_name": "", "read_bytes_sec": "1"}, [("read_bytes_sec", 1)], ["group_name"]),
])
def test_accepted_edge_cases(specs: dict[str, str], values: list[tuple[str, int]],
                             not_forwarded: list[str]) -> None:
    qos = parse_volume_qos(specs)
    assert qos.items() == values
    assert qos.ignored == ()
    assert [note.split("=")[0] for note in qos.notes] == not_forwarded


@pytest.mark.parametrize("text", [
    "abc", "-1", "1.5", "1_000", "12 ", "0x10", "18446744073709551616", "١٢",
])
def test_libvirt_integer_parse_rejects(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_volume_qos({"read_bytes_sec": text})
    assert str(exc.value) == "disk iotune field 'read_bytes_sec' must be an integer"
    assert exc.value.value == text


@pytest.mark.parametrize(("text", "number"), [(" 12", 12), ("+12", 12), ("\t7", 7), ("0", 0)])
def test_libvirt_integer_parse_accepts_like_strtoull(text: str, number: int) -> None:
    assert parse_volume_qos({"read_bytes_sec": text}).read_bytes_sec == number


def test_empty_value_is_absent() -> None:
    assert parse_volume_qos({"read_bytes_sec": ""}) == VolumeQos()


def test_unknown_keys_are_ignored_like_nova() -> None:
    qos = parse_volume_qos({"consumer": "front-end", "read_bytes_sec_per_gb": "10",
                            "total_iops_sec": "100", "bps": "1"})
    assert qos.ignored == ("bps", "consumer", "read_bytes_sec_per_gb")
    assert qos.total_iops_sec == 100
    assert qos.notes == ()


def test_iotune_problems_lists_all_in_order() -> None:
    problems = iotune_problems(
        {"total_bytes_sec": 1, "read_bytes_sec": 2, "read_iops_sec_max": 3,
         "write_iops_sec": 2 * 10**15},
    )
    assert [(p.code, p.key, p.stage) for p in problems] == [
        ("iotune-over-qemu-max", "write_iops_sec", "define"),
        ("iotune-total-and-read-write", "total_bytes_sec", "define"),
        ("iotune-max-without-avg", "read_iops_sec_max", "start"),
    ]
    assert iotune_problems({}) == []


@given(st.sampled_from(("total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
                        "total_iops_sec", "read_iops_sec", "write_iops_sec")),
       st.integers(min_value=0, max_value=QEMU_BLOCK_IOTUNE_MAX))
def test_property_base_limits_round_trip(key: str, number: int) -> None:
    assert getattr(parse_volume_qos({key: str(number)}), key) == number


@given(st.sampled_from(NOVA_TUNE_OPTS), st.integers(min_value=QEMU_BLOCK_IOTUNE_MAX + 1,
                                               max_value=2**64 - 1))
def test_property_over_qemu_max_rejected(key: str, number: int) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_volume_qos({key: str(number)})
    assert str(exc.value) == MAX_MSG
