"""The one table of <iotune> limits: its views keep upstream's literal orders, and the typed
mirrors of it (IoTune, DiskQuota, the flavor's quota:disk_* specs) keep its names."""

from __future__ import annotations

from dataclasses import fields

from vmqos.intent.nova.extra_specs import QUOTA_SPECS
from vmqos.intent.nova.flavor import DISK_QUOTA_KEYS, DiskQuota
from vmqos.libvirt_types import (
    FLAVOR_DISK_FIELDS,
    IOTUNE_BASE_KEYS,
    IOTUNE_BUCKETS,
    IOTUNE_FIELDS,
    IOTUNE_KEYS,
    IOTUNE_LENGTH_KEYS,
    IOTUNE_TOTAL_FAMILIES,
    NOVA_TUNE_OPTS,
    IoTune,
    IotuneAverages,
    IotuneUnit,
)

# nova/virt/libvirt/config.py LibvirtConfigGuestDisk._format_iotune, in source order.
NOVA_CONFIG_ORDER = [
    "read_bytes_sec", "read_iops_sec", "write_bytes_sec", "write_iops_sec",
    "total_bytes_sec", "total_iops_sec", "read_bytes_sec_max", "write_bytes_sec_max",
    "total_bytes_sec_max", "read_iops_sec_max", "write_iops_sec_max", "total_iops_sec_max",
    "size_iops_sec",
]
# nova/virt/libvirt/volume/volume.py LibvirtBaseVolumeDriver.get_config tune_opts.
NOVA_TUNE_OPTS_ORDER = [
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
    "total_iops_sec", "read_iops_sec", "write_iops_sec",
    "read_bytes_sec_max", "read_iops_sec_max", "write_bytes_sec_max", "write_iops_sec_max",
    "total_bytes_sec_max", "total_iops_sec_max", "size_iops_sec",
]
# libvirt src/conf/domain_conf.c virDomainDiskDefFormatIotune (group_name after size_iops_sec).
LIBVIRT_ORDER = [
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
    "total_iops_sec", "read_iops_sec", "write_iops_sec",
    "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
    "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec",
    "total_bytes_sec_max_length", "read_bytes_sec_max_length", "write_bytes_sec_max_length",
    "total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length",
]


def test_table_is_libvirt_order_and_views_are_upstream_orders() -> None:
    assert [f.name for f in IOTUNE_FIELDS] == LIBVIRT_ORDER
    assert list(IOTUNE_BASE_KEYS) == NOVA_CONFIG_ORDER
    assert list(NOVA_TUNE_OPTS) == NOVA_TUNE_OPTS_ORDER
    assert list(IOTUNE_LENGTH_KEYS) == LIBVIRT_ORDER[13:]


def test_iotune_fields_mirror_the_table() -> None:
    # The values, then Nova's spelling of them.
    assert list(IOTUNE_KEYS) == [*NOVA_CONFIG_ORDER, "group_name", *LIBVIRT_ORDER[13:]]
    assert [f.name for f in fields(IoTune)] == [*IOTUNE_KEYS, "verbatim"]


def test_flavor_keys_mirror_the_table() -> None:
    assert [f.name for f in fields(DiskQuota)] == [*DISK_QUOTA_KEYS, "verbatim"]
    assert list(DISK_QUOTA_KEYS) == NOVA_CONFIG_ORDER[:6]
    assert issubclass(DiskQuota, IotuneAverages)
    assert issubclass(IoTune, IotuneAverages)
    assert not issubclass(DiskQuota, IoTune)
    disk_specs = [k for k, spec in QUOTA_SPECS.items()
                  if spec.libvirt and k.startswith("quota:disk_")]
    assert disk_specs == [f.nova_quota for f in FLAVOR_DISK_FIELDS]
    assert [QUOTA_SPECS[k].unit for k in disk_specs] == ["B/s", "IOPS"] * 3


def test_units() -> None:
    units = {f.name: f.unit for f in IOTUNE_FIELDS}
    assert units["size_iops_sec"] is IotuneUnit.BYTES
    assert units["write_iops_sec_max"] is IotuneUnit.IOPS
    assert units["read_bytes_sec"] is IotuneUnit.BYTES_PER_SEC
    assert {units[k] for k in IOTUNE_LENGTH_KEYS} == {IotuneUnit.SECONDS}


def test_buckets_and_total_families() -> None:
    assert IOTUNE_BUCKETS[0] == ("total_bytes_sec", "total_bytes_sec_max",
                                 "total_bytes_sec_max_length")
    assert IOTUNE_BUCKETS[-1] == ("write_iops_sec", "write_iops_sec_max",
                                  "write_iops_sec_max_length")
    assert len(IOTUNE_BUCKETS) == 6
    assert IOTUNE_TOTAL_FAMILIES == (
        ("total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "bytes_sec"),
        ("total_iops_sec", "read_iops_sec", "write_iops_sec", "iops_sec"),
        ("total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max", "bytes_sec_max"),
        ("total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "iops_sec_max"),
    )


def test_iotune_field_types_carry_the_table_units() -> None:
    unit_type = {IotuneUnit.BYTES_PER_SEC: "BytesPerSec", IotuneUnit.IOPS: "Iops",
                 IotuneUnit.BYTES: "Bytes", IotuneUnit.SECONDS: "Seconds"}
    declared = {f.name: f.type for f in fields(IoTune)}
    for field in IOTUNE_FIELDS:
        assert declared[field.name] == f"{unit_type[field.unit]} | None", field.name
