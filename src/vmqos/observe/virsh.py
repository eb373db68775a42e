"""Parse what ``virsh schedinfo --live`` and ``virsh blkdeviotune --live`` print.

These two read the enforcement itself, not libvirt's XML: schedinfo reads ``cpu.shares`` /
``cpu.weight`` and the CFS period/quota back from the domain's cgroup, blkdeviotune asks QEMU
(``query-block``) for the throttling it applies. Someone who writes the cgroup or sends QMP
directly changes these and not ``virsh dumpxml``, so the audit compares both. Pure: the text
comes from :mod:`vmqos.host.libvirt`. Fixtures: tests/fixtures/virsh/.

Text that is not what virsh prints is the host's fault, not the user's: it raises
:class:`~vmqos.errors.PermanentHostError` (CLI exit 1, HTTP 503).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vmqos.errors import PermanentHostError
from vmqos.libvirt_types import IOTUNE_FIELDS, IoTune
from vmqos.units import Microseconds

__all__ = ["LiveDomain", "LiveSched", "parse_blkdeviotune", "parse_schedinfo"]

# libvirt reports an unlimited CFS quota as -1 on cgroup v1 and as 2^44 - 1 ("max") on v2.
_QUOTA_UNLIMITED_V2 = (1 << 44) - 1


@dataclass(frozen=True, slots=True)
class LiveSched:
    """The CPU controls a running domain's cgroup holds. ``None``: not reported/unlimited."""

    shares: int | None
    vcpu_period: Microseconds | None
    vcpu_quota: Microseconds | None


@dataclass(frozen=True, slots=True)
class LiveDomain:
    """What a running (or paused) libvirt domain enforces, read through libvirt."""

    name: str
    state: str                                    # virsh domstate: running, paused, ...
    sched: LiveSched
    iotune: dict[str, IoTune] = field(default_factory=dict)   # target dev -> QEMU's throttle


def _fields(text: str, command: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise PermanentHostError(f"virsh {command}: unexpected line {line!r}", key=command,
                                  value=line, allowed="'name : value' lines")
        out[key.strip()] = value.strip()
    return out


def _int(values: dict[str, str], key: str, command: str) -> int | None:
    raw = values.get(key)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise PermanentHostError(f"virsh {command}: {key} is {raw!r}, not an integer", key=key,
                              value=raw, allowed="an integer") from None


def parse_schedinfo(text: str) -> LiveSched:
    """``virsh schedinfo --live NAME``."""
    values = _fields(text, "schedinfo")
    quota = _int(values, "vcpu_quota", "schedinfo")
    if quota is not None and (quota <= 0 or quota >= _QUOTA_UNLIMITED_V2):
        quota = None
    period = _int(values, "vcpu_period", "schedinfo")
    return LiveSched(shares=_int(values, "cpu_shares", "schedinfo"),
                     vcpu_period=None if period is None else Microseconds(period),
                     vcpu_quota=None if quota is None else Microseconds(quota))


def parse_blkdeviotune(text: str) -> IoTune:
    """``virsh blkdeviotune --live NAME DEV``; zero means not throttled and becomes None.

    ``group_name`` is dropped when it is QEMU's default (the device's own qdev path, which
    starts with ``/machine/``): only a named group is something Nova asked for.
    """
    values = _fields(text, "blkdeviotune")
    group = values.get("group_name") or None
    if group is not None and group.startswith("/machine/"):
        group = None
    # Any: the names are IoTune's own int fields, which mypy cannot see through a dict.
    numbers: dict[str, Any] = {f.name: _int(values, f.name, "blkdeviotune") or None
                               for f in IOTUNE_FIELDS}
    return IoTune(group_name=group, **numbers)
