"""QEMU block throttling for one disk: what libvirt hands QEMU for a ``<iotune>``.

Two eras (libvirt qemu_command.c / qemu_process.c), selected by ``Profile.qemu_throttle``:

* ``drive`` — libvirt before the ``-blockdev`` switch (the seed's libvirt 3.x on RHEL 7) appends
  ``,throttling.<name>=<n>`` to the ``-drive`` argument (``qemuBuildDriveStr`` →
  ``qemuBuildDiskThrottling``): :func:`render_drive_option`, :func:`render_drive_throttling`.
* ``qmp`` — blockdev-era libvirt puts nothing into argv and sends ``block_set_io_throttle`` on
  the monitor after QEMU starts paused (``qemuProcessSetupDiskThrottling``):
  :func:`render_qmp_block_set_io_throttle`, :func:`render_qmp_text`.

:func:`render_blkdeviotune` is what ``query-block`` / ``virsh blkdeviotune`` then shows, for
verification. Invariants: values are bytes/s and I/O operations/s, passed through unchanged
(no unit conversion happens anywhere on this path); ``None`` and ``0`` both mean "not set";
every function is pure and allocation-light (one table walk per call).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.intent.nova.volume_qos import iotune_problems, problem_allowed
from vmqos.libvirt_numbers import XML_ERROR, iotune_number_error
from vmqos.libvirt_types import (
    IOTUNE_FIELDS,
    IOTUNE_LENGTHS,
    IOTUNE_LIMITS,
    QEMU_BLOCK_IOTUNE_MAX,
    DiskDevice,
    IoTune,
)

__all__ = [
    "QEMU_BLOCK_IOTUNE_MAX",
    "check_iotune",
    "qom_path",
    "render_blkdeviotune",
    "render_drive_option",
    "render_drive_throttling",
    "render_qmp_block_set_io_throttle",
    "render_qmp_legacy_device_form",
    "render_qmp_text",
    "reported_iotune",
]

# Every walk below is in libvirt's qemuBuildDiskThrottling order (src/qemu/qemu_command.c),
# the order of IOTUNE_FIELDS, which is also the argument order of
# qemuMonitorJSONSetBlockIoThrottle: the six rates, the six `_max`, iops-size, (group), then the
# six `_max_length`. The seed's `bps-read` before `bps-write` agrees.
# (length field, the `_max` field it qualifies):
_LENGTHS = tuple((f, f.burst_of) for f in IOTUNE_LENGTHS if f.burst_of is not None)


def _get(iotune: IoTune, field: str) -> int:
    value: int | None = getattr(iotune, field)
    return value or 0


def _escape_comma(text: str) -> str:
    # virQEMUBuildBufferEscapeComma: QEMU's option parser reads ",," as a literal comma.
    return text.replace(",", ",,")


def _has_any(iotune: IoTune) -> bool:
    # qemuDiskConfigBlkdeviotuneEnabled: a group name or any non-zero value.
    if iotune.group_name:
        return True
    return any(_get(iotune, f.name) for f in IOTUNE_FIELDS)


def render_drive_throttling(iotune: IoTune) -> str:
    """The ``,throttling.<name>=<n>`` suffix of a legacy ``-drive``; ``""`` when nothing is set.

    Each non-zero field in qemuBuildDiskThrottling order; ``group_name`` (commas doubled) goes
    between ``iops-size`` and the ``-max-length`` options, as libvirt writes it.
    """
    parts: list[str] = []
    for field in IOTUNE_LIMITS:
        value = _get(iotune, field.name)
        if value:
            parts.append(f",throttling.{field.drive_option}={value}")
    if iotune.group_name:
        parts.append(f",throttling.group={_escape_comma(iotune.group_name)}")
    for field, _ in _LENGTHS:
        value = _get(iotune, field.name)
        if value:
            parts.append(f",throttling.{field.drive_option}={value}")
    return "".join(parts)


def render_drive_option(disk: DiskDevice, *, index: int = 0) -> str:
    """The whole ``-drive`` value as libvirt 3.x printed it (qemuBuildDriveStr).

    ``file=<path>,format=<type>,if=none,id=drive-<alias>,cache=<mode>[,throttling...]``. The
    drive id is libvirt's ``drive-`` + the device alias (qemuAliasDiskDriveFromDisk); ``index``
    only names the alias when the disk has none (``<bus>-disk<index>``, libvirt's scheme).
    """
    alias = disk.alias or f"{disk.bus}-disk{index}"
    text = (
        f"file={_escape_comma(disk.source_file)},format={disk.driver_type},"
        f"if=none,id=drive-{alias}"
    )
    if disk.cache:
        text += f",cache={disk.cache}"
    if disk.iotune is not None:
        text += render_drive_throttling(disk.iotune)
    return text


def qom_path(disk: DiskDevice) -> str:
    """The QOM name libvirt addresses a disk's throttling by (qemuDomainDiskPrivate qomName).

    virtio ``/machine/peripheral/<alias>/virtio-backend``; ide, sata, scsi, fdc ``<alias>``;
    usb ``/machine/peripheral/<alias>/<alias>.0/legacy[0]``. libvirt has none for other buses.
    """
    bus = disk.bus
    if bus == "virtio":
        return f"/machine/peripheral/{disk.alias}/virtio-backend"
    if bus in ("ide", "sata", "scsi", "fdc"):
        return disk.alias
    if bus == "usb":
        return f"/machine/peripheral/{disk.alias}/{disk.alias}.0/legacy[0]"
    raise UnsupportedError(
        f"disk {disk.target_dev!r} on bus {bus!r} has no QOM path libvirt can throttle; "
        "use bus virtio, ide, sata, scsi, fdc or usb"
    )


def _qmp_arguments(iotune: IoTune) -> dict[str, int | str]:
    # qemuMonitorJSONSetBlockIoThrottle: the 13 base keys always ("U:"), "group" when set
    # ("S:"), the six lengths only when non-zero ("P:").
    args: dict[str, int | str] = {f.qmp_key: _get(iotune, f.name) for f in IOTUNE_LIMITS}
    if iotune.group_name:
        args["group"] = iotune.group_name
    for field, _ in _LENGTHS:
        value = _get(iotune, field.name)
        if value:
            args[field.qmp_key] = value
    return args


def render_qmp_block_set_io_throttle(disk: DiskDevice) -> dict[str, object] | None:
    """The blockdev-era monitor command for one disk, or ``None`` when it has no throttling.

    ``id`` is the disk's QOM path (:func:`qom_path`); argument order is libvirt's.
    """
    iotune = disk.iotune
    if iotune is None or not _has_any(iotune):
        return None
    arguments: dict[str, int | str] = {"id": qom_path(disk)}
    arguments.update(_qmp_arguments(iotune))
    return {"execute": "block_set_io_throttle", "arguments": arguments}


def render_qmp_legacy_device_form(device: str, iotune: IoTune) -> dict[str, object]:
    """The older ``device``-addressed form (libvirt 3.x–5.x, drive alias such as
    ``drive-virtio-disk1``), as tests/qemumonitorjsontest.c expects it: same keys and order as
    the ``id`` form with ``device`` in place of ``id``."""
    arguments: dict[str, int | str] = {"device": device}
    arguments.update(_qmp_arguments(iotune))
    return {"execute": "block_set_io_throttle", "arguments": arguments}


def render_qmp_text(disk: DiskDevice) -> str:
    """The QMP command as one compact JSON line (virJSONValueToString without pretty
    printing: no spaces, no trailing newline); ``""`` when the disk has no throttling."""
    command = render_qmp_block_set_io_throttle(disk)
    if command is None:
        return ""
    return json.dumps(command, separators=(",", ":"))


def reported_iotune(iotune: IoTune) -> IoTune:
    """The throttle QEMU reports back for ``iotune`` (``query-block``, ``virsh
    blkdeviotune``), in libvirt's field names: a ``_max`` set without its ``_max_length``
    reports length 1, QEMU's default burst length (observed with QEMU 7.2 here)."""
    # Any: the names are IoTune's int length fields, which mypy cannot see through a dict.
    lengths: dict[str, Any] = {field.name: _get(iotune, field.name) or 1
                               for field, max_field in _LENGTHS if _get(iotune, max_field)}
    return replace(iotune, **lengths)


def render_blkdeviotune(disk: DiskDevice, *, legacy_drive: bool = False) -> dict[str, int | str]:
    """What ``query-block`` reports for the disk, with the QMP key names and the zero-filling
    libvirt applies for ``virsh blkdeviotune`` (19 numbers always, ``group`` when throttled).

    QEMU defaults (observed with QEMU 7.2 here): every bucket's burst length starts at 1, so a
    ``_max`` without
    its ``_max_length`` reports length 1 (a length with no ``_max`` is refused by QEMU, and with
    neither set libvirt shows 0); ``group`` is absent for an unthrottled disk (QAPI ``*group``);
    without ``group_name`` the throttle group is named after the block backend — the QOM path
    in the blockdev era, the ``-drive`` id (``drive-<alias>``, QEMU blockdev.c
    ``throttling_group = id``) when ``legacy_drive`` is set.
    """
    iotune = disk.iotune if disk.iotune is not None else IoTune()
    check_iotune(iotune)
    view: dict[str, int | str] = {f.qmp_key: _get(iotune, f.name) for f in IOTUNE_LIMITS}
    if iotune.group_name:
        view["group"] = iotune.group_name
    elif _has_any(iotune):
        view["group"] = f"drive-{disk.alias}" if legacy_drive else qom_path(disk)
    reported = reported_iotune(iotune)
    for field, max_field in _LENGTHS:
        view[field.qmp_key] = _get(reported, field.name) if _get(iotune, max_field) else 0
    return view


def check_iotune(iotune: IoTune) -> None:
    """Raise :class:`ValidationError` with what ``virsh`` prints (libvirt 9.0 here) for an
    ``<iotune>`` that libvirt refuses at define time or QEMU refuses when it is applied. The
    rules are :func:`~vmqos.intent.nova.volume_qos.iotune_problems`', the one statement of
    them; a negative number, which no parse produces, is libvirt's unparsable field."""
    for field in (f.name for f in IOTUNE_FIELDS):
        value: int | None = getattr(iotune, field)
        if value is not None and value < 0:
            raise ValidationError(XML_ERROR + iotune_number_error(field), key=f"iotune.{field}",
                                  value=value, allowed="an unsigned integer")
    problems = iotune_problems({f.name: _get(iotune, f.name) for f in IOTUNE_FIELDS},
                               iotune.group_name)
    if problems:
        first = problems[0]
        raise ValidationError(first.libvirt_text, key=f"iotune.{first.key}", value=first.value,
                              allowed=problem_allowed(first))
