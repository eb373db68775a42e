"""QEMU block throttling: the seed's -drive strings, what libvirt 9.0 + QEMU 7.2 did here, QOM
paths, QMP shape (libvirt qemu_command.c qemuBuildDiskThrottling, qemu_process.c
qemuProcessSetupDiskThrottling)."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import seed
from vmqos.errors import UnsupportedError, ValidationError
from vmqos.libvirt_types import (
    IOTUNE_BASE_KEYS,
    IOTUNE_FIELDS,
    IOTUNE_LENGTH_KEYS,
    DiskDevice,
    IoTune,
)
from vmqos.plan.render.qemu import (
    check_iotune,
    qom_path,
    render_blkdeviotune,
    render_drive_option,
    render_drive_throttling,
    render_qmp_block_set_io_throttle,
    render_qmp_legacy_device_form,
    render_qmp_text,
)

QMP_BASE_KEYS = (
    "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr", "bps_max", "bps_rd_max",
    "bps_wr_max", "iops_max", "iops_rd_max", "iops_wr_max", "iops_size",
)
QMP_LENGTH_KEYS = (
    "bps_max_length", "bps_rd_max_length", "bps_wr_max_length", "iops_max_length",
    "iops_rd_max_length", "iops_wr_max_length",
)


SEED_RESQUOTA_DISK = DiskDevice(
    target_dev="vda",
    source_file="/var/lib/nova/instances/850724a4-029c-457b-a99d-3a18e8e413da/disk",
    iotune=seed.RESQUOTA_IOTUNE,
)
SEED_NORMAL_DISK = DiskDevice(
    target_dev="vda",
    source_file="/var/lib/nova/instances/30ad89ac-5906-49ca-8d52-3c6343c598f6/disk",
)


# --- the seed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavor", "disk", "literal"),
    [
        (
            "m1.resquota",
            SEED_RESQUOTA_DISK,
            "file=/var/lib/nova/instances/850724a4-029c-457b-a99d-3a18e8e413da/disk,"
            "format=qcow2,if=none,id=drive-virtio-disk0,cache=none,"
            "throttling.bps-read=1000000,throttling.bps-write=1024000",
        ),
        (
            "m1.normal",
            SEED_NORMAL_DISK,
            "file=/var/lib/nova/instances/30ad89ac-5906-49ca-8d52-3c6343c598f6/disk,"
            "format=qcow2,if=none,id=drive-virtio-disk0,cache=none",
        ),
    ],
)
def test_seed_drive_option(flavor: str, disk: DiskDevice, literal: str) -> None:
    assert seed.qemu_drive_option(flavor) == literal
    assert render_drive_option(disk) == literal


def test_seed_note_drive_line() -> None:
    note = seed.NOTE.read_text()
    line = next(x for x in note.splitlines() if x.startswith("-drive file="))
    assert line == f"-drive {render_drive_option(SEED_RESQUOTA_DISK)}"


def test_drive_option_index_only_names_a_missing_alias() -> None:
    assert "id=drive-virtio-disk0," in render_drive_option(SEED_NORMAL_DISK, index=3)
    unnamed = replace(SEED_NORMAL_DISK, alias="")
    assert "id=drive-virtio-disk3," in render_drive_option(unnamed, index=3)


def test_drive_option_escapes_commas_in_path() -> None:
    disk = replace(SEED_NORMAL_DISK, source_file="/a,b/disk", cache="")
    assert render_drive_option(disk) == "file=/a,,b/disk,format=qcow2,if=none,id=drive-virtio-disk0"


# --- -drive suffix order (qemuBuildDiskThrottling) ---------------------------------------------


def test_drive_throttling_full_order() -> None:
    everything = IoTune(**{f.name: n for n, f in enumerate(fields(IoTune), start=1)
                           if f.name != "group_name"}, group_name="g,1")
    assert render_drive_throttling(everything) == (
        ",throttling.bps-total=5,throttling.bps-read=1,throttling.bps-write=3"
        ",throttling.iops-total=6,throttling.iops-read=2,throttling.iops-write=4"
        ",throttling.bps-total-max=9,throttling.bps-read-max=7,throttling.bps-write-max=8"
        ",throttling.iops-total-max=12,throttling.iops-read-max=10"
        ",throttling.iops-write-max=11,throttling.iops-size=13,throttling.group=g,,1"
        ",throttling.bps-total-max-length=15,throttling.bps-read-max-length=16"
        ",throttling.bps-write-max-length=17,throttling.iops-total-max-length=18"
        ",throttling.iops-read-max-length=19,throttling.iops-write-max-length=20"
    )


def test_drive_throttling_skips_zero_and_unset() -> None:
    assert render_drive_throttling(IoTune()) == ""
    assert render_drive_throttling(IoTune(read_bytes_sec=0, write_iops_sec=7)) == (
        ",throttling.iops-write=7"
    )


# --- QOM paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bus", "alias", "path"),
    [
        ("virtio", "virtio-disk0", "/machine/peripheral/virtio-disk0/virtio-backend"),
        ("ide", "ide0-0-0", "ide0-0-0"),
        ("sata", "sata0-0-1", "sata0-0-1"),
        ("scsi", "scsi0-0-0-0", "scsi0-0-0-0"),
        ("fdc", "fdc0-0-0", "fdc0-0-0"),
        ("usb", "usb-disk2", "/machine/peripheral/usb-disk2/usb-disk2.0/legacy[0]"),
    ],
)
def test_qom_path_by_bus(bus: str, alias: str, path: str) -> None:
    assert qom_path(DiskDevice("sda", "/d", bus=bus, alias=alias)) == path


def test_qom_path_unknown_bus() -> None:
    with pytest.raises(UnsupportedError, match="bus 'xen'"):
        qom_path(DiskDevice("xvda", "/d", bus="xen", alias="xen-disk0"))


# --- QMP block_set_io_throttle ---------------------------------------------------------------


def test_qmp_seed_disk_all_base_keys() -> None:
    command = render_qmp_block_set_io_throttle(SEED_RESQUOTA_DISK)
    assert command == {
        "execute": "block_set_io_throttle",
        "arguments": {
            "id": "/machine/peripheral/virtio-disk0/virtio-backend",
            "bps": 0, "bps_rd": 1000000, "bps_wr": 1024000, "iops": 0, "iops_rd": 0,
            "iops_wr": 0, "bps_max": 0, "bps_rd_max": 0, "bps_wr_max": 0, "iops_max": 0,
            "iops_rd_max": 0, "iops_wr_max": 0, "iops_size": 0,
        },
    }
    assert isinstance(command["arguments"], dict)
    assert list(command["arguments"]) == ["id", *QMP_BASE_KEYS]


def test_qmp_text_is_one_compact_line() -> None:
    assert render_qmp_text(SEED_RESQUOTA_DISK) == (
        '{"execute":"block_set_io_throttle","arguments":'
        '{"id":"/machine/peripheral/virtio-disk0/virtio-backend","bps":0,"bps_rd":1000000,'
        '"bps_wr":1024000,"iops":0,"iops_rd":0,"iops_wr":0,"bps_max":0,"bps_rd_max":0,'
        '"bps_wr_max":0,"iops_max":0,"iops_rd_max":0,"iops_wr_max":0,"iops_size":0}}'
    )


@pytest.mark.parametrize("iotune", [None, IoTune(), IoTune(read_bytes_sec=0)])
def test_qmp_none_without_throttling(iotune: IoTune | None) -> None:
    disk = replace(SEED_NORMAL_DISK, iotune=iotune)
    assert render_qmp_block_set_io_throttle(disk) is None
    assert render_qmp_text(disk) == ""


def test_qmp_group_alone_is_sent() -> None:
    # qemuDiskConfigBlkdeviotuneEnabled counts a group name on its own.
    command = render_qmp_block_set_io_throttle(replace(SEED_NORMAL_DISK,
                                                       iotune=IoTune(group_name="g")))
    assert command is not None
    assert command["arguments"] == {"id": "/machine/peripheral/virtio-disk0/virtio-backend",
                                    **dict.fromkeys(QMP_BASE_KEYS, 0), "group": "g"}


# libvirt's monitor unit test (tests/qemumonitorjsontest.c): values 1…20, group "group14",
# device "drive-virtio-disk1".
MONITOR_TEST_IOTUNE = IoTune(
    total_bytes_sec=1, read_bytes_sec=2, write_bytes_sec=3, total_iops_sec=4, read_iops_sec=5,
    write_iops_sec=6, total_bytes_sec_max=7, read_bytes_sec_max=8, write_bytes_sec_max=9,
    total_iops_sec_max=10, read_iops_sec_max=11, write_iops_sec_max=12, size_iops_sec=13,
    group_name="group14", total_bytes_sec_max_length=15, read_bytes_sec_max_length=16,
    write_bytes_sec_max_length=17, total_iops_sec_max_length=18, read_iops_sec_max_length=19,
    write_iops_sec_max_length=20,
)


def test_qmp_legacy_device_form_matches_libvirt_monitor_test() -> None:
    command = render_qmp_legacy_device_form("drive-virtio-disk1", MONITOR_TEST_IOTUNE)
    expected = [
        ("device", "drive-virtio-disk1"), ("bps", 1), ("bps_rd", 2), ("bps_wr", 3),
        ("iops", 4), ("iops_rd", 5), ("iops_wr", 6), ("bps_max", 7), ("bps_rd_max", 8),
        ("bps_wr_max", 9), ("iops_max", 10), ("iops_rd_max", 11), ("iops_wr_max", 12),
        ("iops_size", 13), ("group", "group14"), ("bps_max_length", 15),
        ("bps_rd_max_length", 16), ("bps_wr_max_length", 17), ("iops_max_length", 18),
        ("iops_rd_max_length", 19), ("iops_wr_max_length", 20),
    ]
    assert command["execute"] == "block_set_io_throttle"
    arguments = command["arguments"]
    assert isinstance(arguments, dict)
    assert list(arguments.items()) == expected
    assert json.dumps(command, separators=(",", ":")).startswith(
        '{"execute":"block_set_io_throttle","arguments":{"device":"drive-virtio-disk1","bps":1,'
    )


# --- query-block / virsh blkdeviotune (observed with QEMU 7.2) ------------------------------


def test_blkdeviotune_row_total_with_group() -> None:
    disk = replace(SEED_NORMAL_DISK, iotune=IoTune(
        total_bytes_sec=10485760, total_iops_sec=500, total_bytes_sec_max=20971520,
        total_iops_sec_max=1000, total_bytes_sec_max_length=10, total_iops_sec_max_length=5,
        size_iops_sec=4096, group_name="grp1"))
    assert render_blkdeviotune(disk) == {
        "bps": 10485760, "bps_rd": 0, "bps_wr": 0, "iops": 500, "iops_rd": 0, "iops_wr": 0,
        "bps_max": 20971520, "bps_rd_max": 0, "bps_wr_max": 0, "iops_max": 1000,
        "iops_rd_max": 0, "iops_wr_max": 0, "iops_size": 4096, "group": "grp1",
        "bps_max_length": 10, "bps_rd_max_length": 0, "bps_wr_max_length": 0,
        "iops_max_length": 5, "iops_rd_max_length": 0, "iops_wr_max_length": 0,
    }


def test_blkdeviotune_row_defaults_group_and_length() -> None:
    disk = replace(SEED_NORMAL_DISK, iotune=IoTune(
        read_bytes_sec=1000000, write_bytes_sec=1024000, read_iops_sec=100,
        read_iops_sec_max=200))
    assert render_blkdeviotune(disk) == {
        "bps": 0, "bps_rd": 1000000, "bps_wr": 1024000, "iops": 0, "iops_rd": 100,
        "iops_wr": 0, "bps_max": 0, "bps_rd_max": 0, "bps_wr_max": 0, "iops_max": 0,
        "iops_rd_max": 200, "iops_wr_max": 0, "iops_size": 0,
        "group": "/machine/peripheral/virtio-disk0/virtio-backend",
        "bps_max_length": 0, "bps_rd_max_length": 0, "bps_wr_max_length": 0,
        "iops_max_length": 0, "iops_rd_max_length": 1, "iops_wr_max_length": 0,
    }


def test_blkdeviotune_legacy_drive_group_is_drive_id() -> None:
    view = render_blkdeviotune(SEED_RESQUOTA_DISK, legacy_drive=True)
    assert view["group"] == "drive-virtio-disk0"


def test_blkdeviotune_unthrottled_has_no_group() -> None:
    view = render_blkdeviotune(SEED_NORMAL_DISK)
    assert "group" not in view
    assert set(view.values()) == {0}


# --- define-time and QEMU refusals (libvirt domain_validate.c, QEMU util/throttle.c) --------
# Each message is what `virsh define` / `virsh start` printed after "error: " for that
# <iotune> with libvirt 9.0 and QEMU 7.2 on this machine.


@pytest.mark.parametrize(
    ("iotune", "message"),
    [
        (IoTune(read_bytes_sec=1000000000000001), "argument unsupported: "
         "block I/O throttle limit must be no more than 1000000000000000 using QEMU"),
        (IoTune(total_bytes_sec=1, read_bytes_sec=2),
         "XML error: total and read/write bytes_sec cannot be set at the same time"),
        (IoTune(total_iops_sec=1, write_iops_sec=2),
         "XML error: total and read/write iops_sec cannot be set at the same time"),
        (IoTune(total_bytes_sec_max=1, write_bytes_sec_max=2),
         "XML error: total and read/write bytes_sec_max cannot be set at the same time"),
        (IoTune(total_iops_sec_max=1, read_iops_sec_max=2),
         "XML error: total and read/write iops_sec_max cannot be set at the same time"),
        (IoTune(read_bytes_sec=-1),
         "XML error: disk iotune field 'read_bytes_sec' must be an integer"),
        (IoTune(group_name="g"), "unsupported configuration: "
         "group_name can be configured only together with settings"),
        (IoTune(read_bytes_sec=1, read_bytes_sec_max_length=5), "internal error: unable to "
         "execute QEMU command 'block_set_io_throttle': burst length set without burst rate"),
        (IoTune(read_bytes_sec_max=1), "internal error: unable to execute QEMU command "
         "'block_set_io_throttle': bps_max/iops_max require corresponding bps/iops values"),
        (IoTune(size_iops_sec=1), "internal error: unable to execute QEMU command "
         "'block_set_io_throttle': iops size requires an iops value to be set"),
    ],
)
def test_check_iotune_refusals(iotune: IoTune, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_iotune(iotune)
    assert caught.value.message == message
    assert caught.value.key is not None and caught.value.key.startswith("iotune.")


def test_check_iotune_accepts_limit_and_seed() -> None:
    limit = IoTune(read_bytes_sec=1000000000000000)          # QEMU's THROTTLE_VALUE_MAX
    assert check_iotune(limit) is None
    assert render_drive_throttling(limit) == ",throttling.bps-read=1000000000000000"
    with pytest.raises(ValidationError):                      # one more is refused
        check_iotune(IoTune(read_bytes_sec=1000000000000001))
    assert check_iotune(seed.RESQUOTA_IOTUNE) is None
    assert render_drive_throttling(seed.RESQUOTA_IOTUNE) == (
        ",throttling.bps-read=1000000,throttling.bps-write=1024000")


# --- properties ------------------------------------------------------------------------------

_NUMERIC = IOTUNE_BASE_KEYS + IOTUNE_LENGTH_KEYS
_DRIVE_OPTION = {f.name: f.drive_option for f in IOTUNE_FIELDS}
_QMP_KEY = {f.name: f.qmp_key for f in IOTUNE_FIELDS}


@st.composite
def iotunes(draw: st.DrawFn) -> IoTune:
    values = {name: draw(st.none() | st.integers(min_value=0, max_value=10**15))
              for name in _NUMERIC}
    group = draw(st.none() | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_",
                                     min_size=1, max_size=12))
    return IoTune(**values, group_name=group)


@given(iotunes())
def test_every_set_field_appears_exactly_once(iotune: IoTune) -> None:
    suffix = render_drive_throttling(iotune)
    options = [part.split("=", 1) for part in suffix.split(",") if part]
    names = [name for name, _ in options]
    assert len(names) == len(set(names))
    rendered = dict(options)
    for name in _NUMERIC:
        value = getattr(iotune, name) or 0
        key = f"throttling.{_DRIVE_OPTION[name]}"
        assert (rendered.get(key) == str(value)) if value else (key not in rendered)
    assert rendered.get("throttling.group") == iotune.group_name

    disk = replace(SEED_NORMAL_DISK, iotune=iotune)
    command = render_qmp_block_set_io_throttle(disk)
    if command is None:
        assert not suffix
        return
    arguments = command["arguments"]
    assert isinstance(arguments, dict)
    assert list(arguments)[:14] == ["id", *QMP_BASE_KEYS]
    for name in IOTUNE_BASE_KEYS:
        assert arguments[_QMP_KEY[name]] == (getattr(iotune, name) or 0)
    for name in IOTUNE_LENGTH_KEYS:
        value = getattr(iotune, name) or 0
        assert arguments.get(_QMP_KEY[name]) == (value or None)
    assert arguments.get("group") == iotune.group_name
    assert json.loads(render_qmp_text(disk)) == command
