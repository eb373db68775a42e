"""Cinder front-end QoS of an attached volume, as libvirt ``<iotune>`` will see it.

Cinder hands the volume type's front-end QoS specs to Nova in
``connection_info['data']['qos_specs']``; ``LibvirtBaseVolumeDriver.get_config()``
(nova/virt/libvirt/volume/volume.py) copies the 13 keys of its ``tune_opts`` verbatim (raw
strings, no validation) onto the disk's ``<iotune>`` and silently ignores every other key; a
string that is not its number's plain decimal (`` 12``, ``+5``) is kept in ``verbatim``. libvirt
then parses and validates them at define time, and QEMU's ``throttle_is_valid()`` checks them
again when ``block_set_io_throttle`` runs at start.

Invariants:

* A :class:`VolumeQos` is an :class:`vmqos.libvirt_types.IoTune` (Cinder's keys are libvirt's
  ``<iotune>`` child names) plus what Nova drops or does not forward; the keys and their orders
  come from :data:`vmqos.libvirt_types.IOTUNE_FIELDS`.
* A :class:`VolumeQos` only holds values libvirt and QEMU accept; :func:`parse_volume_qos`
  raises :class:`~vmqos.errors.ValidationError` with libvirt's/QEMU's exact message text (the
  bare message, without libvirt's ``XML error:`` style prefix) otherwise.
* The six ``*_max_length`` keys and ``group_name`` are parsed and validated (libvirt and QEMU
  know them) but Nova never forwards them (nova volume.py LibvirtBaseVolumeDriver.get_config): each
  one present is recorded in
  ``notes``, and :meth:`VolumeQos.as_forwarded_by_nova` gives what really reaches libvirt.
* :func:`iotune_problems` is the one statement of libvirt's and QEMU's ``<iotune>`` rules; lint
  reuses it for flavor ``quota:disk_*`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from vmqos.errors import ValidationError
from vmqos.libvirt_numbers import (
    ARGUMENT_UNSUPPORTED,
    CONFIG_UNSUPPORTED,
    QEMU_THROTTLE_REFUSED,
    XML_ERROR,
    iotune_number_error,
    parse_ullp,
)
from vmqos.libvirt_types import (
    IOTUNE_BUCKETS,
    IOTUNE_FIELDS,
    IOTUNE_KEYS,
    IOTUNE_LENGTH_KEYS,
    IOTUNE_TOTAL_FAMILIES,
    NOVA_TUNE_OPTS,
    QEMU_BLOCK_IOTUNE_MAX,
    IoTune,
    Verbatim,
)

__all__ = [
    "GROUP_NAME_KEY",
    "QEMU_BLOCK_IOTUNE_MAX",
    "IotuneProblem",
    "VolumeQos",
    "iotune_problems",
    "parse_volume_qos",
    "problem_allowed",
]

GROUP_NAME_KEY = "group_name"

_NUMERIC_KEYS = frozenset(f.name for f in IOTUNE_FIELDS)


@dataclass(frozen=True, slots=True)
class VolumeQos(IoTune):
    """The front-end QoS of one volume: the ``<iotune>`` values (``None`` = key absent; units
    as :data:`~vmqos.libvirt_types.IOTUNE_FIELDS` says) and what Nova makes of the rest."""

    # Keys Nova drops without a word (not in tune_opts, nor a libvirt <iotune> name), sorted.
    ignored: tuple[str, ...] = ()
    # One sentence per accepted key that Nova does not forward (the *_max_length keys and
    # group_name), for lint and explain.
    notes: tuple[str, ...] = ()

    def items(self) -> list[tuple[str, int | str]]:
        """The set ``<iotune>`` values, in the order of IoTune's fields."""
        out: list[tuple[str, int | str]] = []
        for name in IOTUNE_KEYS:
            value = getattr(self, name)
            if value is not None:
                out.append((name, value))
        return out

    def as_forwarded_by_nova(self) -> VolumeQos:
        """What Nova really copies to libvirt: the 13 ``tune_opts`` keys only."""
        return replace(
            self,
            group_name=None,
            verbatim=Verbatim((k, v) for k, v in self.verbatim.items() if k in NOVA_TUNE_OPTS),
            **dict.fromkeys(IOTUNE_LENGTH_KEYS),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class IotuneProblem:
    """One ``<iotune>`` rule broken: the key it is reported on, its value, the upstream
    message, and when it fails (``define``: libvirt refuses the XML; ``start``: QEMU refuses
    ``block_set_io_throttle`` and the guest does not start)."""

    code: str       # stable id, e.g. "iotune-total-and-read-write"
    key: str
    value: int | str
    message: str
    stage: str
    prefix: str     # libvirt's words before the message (its error code's text)

    @property
    def libvirt_text(self) -> str:
        """What ``virsh define``/``start`` prints after ``error: `` (observed, libvirt 9.0)."""
        return self.prefix + self.message


def _parse_ull(key: str, text: str) -> int | None:
    """libvirt ``virXPathULongLong`` (:func:`vmqos.libvirt_numbers.parse_ullp`). An empty
    string counts as absent (the XPath returns -1, "not found")."""
    if text == "":
        return None
    number = parse_ullp(text)
    if number is None:
        raise ValidationError(
            iotune_number_error(key),
            key=key, value=text, allowed="an unsigned 64-bit decimal integer",
        )
    return number


def iotune_problems(
    values: Mapping[str, int], group_name: str | None = None
) -> list[IotuneProblem]:
    """Every libvirt/QEMU ``<iotune>`` rule that ``values`` (key -> int, libvirt names) break,
    in the order libvirt 9.0 and QEMU check them. Like the C code, ``0`` counts as unset."""
    def v(key: str) -> int:
        return values.get(key) or 0

    out: list[IotuneProblem] = []
    # virDomainDiskDefIotuneParse: a group needs at least one non-zero setting.
    if group_name is not None and not any(values.values()):
        out.append(IotuneProblem(
            "iotune-group-without-settings", GROUP_NAME_KEY, group_name,
            "group_name can be configured only together with settings", "define",
            CONFIG_UNSUPPORTED))
    # qemuValidateDomainDeviceDefDiskBlkdeviotune: the 13 non-length fields.
    for key in NOVA_TUNE_OPTS:
        if v(key) > QEMU_BLOCK_IOTUNE_MAX:
            out.append(IotuneProblem(
                "iotune-over-qemu-max", key, v(key),
                f"block I/O throttle limit must be no more than {QEMU_BLOCK_IOTUNE_MAX} "
                f"using QEMU", "define", ARGUMENT_UNSUPPORTED))
    # virDomainDiskDefValidate: total together with read or write, per family (both non-zero).
    for total_key, read_key, write_key, family in IOTUNE_TOTAL_FAMILIES:
        total = v(total_key)
        if total and (v(read_key) or v(write_key)):
            out.append(IotuneProblem(
                "iotune-total-and-read-write", total_key, total,
                f"total and read/write {family} cannot be set at the same time", "define",
                XML_ERROR))
    # QEMU throttle_is_valid(), run by block_set_io_throttle after the guest is created.
    if v("size_iops_sec") and not (
        v("total_iops_sec") or v("read_iops_sec") or v("write_iops_sec")
    ):
        out.append(IotuneProblem(
            "iotune-size-without-iops", "size_iops_sec", v("size_iops_sec"),
            "iops size requires an iops value to be set", "start", QEMU_THROTTLE_REFUSED))
    for avg_key, max_key, len_key in IOTUNE_BUCKETS:
        avg, top, length = v(avg_key), v(max_key), v(len_key)
        # libvirt sends a length only when non-zero; QEMU's default length is 1.
        if length > 1 and not top:
            out.append(IotuneProblem(
                "iotune-length-without-max", len_key, length,
                "burst length set without burst rate", "start", QEMU_THROTTLE_REFUSED))
        elif top and length > QEMU_BLOCK_IOTUNE_MAX // top:
            out.append(IotuneProblem(
                "iotune-length-too-high", len_key, length,
                "burst length too high for this burst rate", "start", QEMU_THROTTLE_REFUSED))
        if top and not avg:
            out.append(IotuneProblem(
                "iotune-max-without-avg", max_key, top,
                "bps_max/iops_max require corresponding bps/iops values", "start",
                QEMU_THROTTLE_REFUSED))
        elif top and top < avg:
            out.append(IotuneProblem(
                "iotune-max-below-avg", max_key, top,
                "bps_max/iops_max cannot be lower than bps/iops", "start",
                QEMU_THROTTLE_REFUSED))
    return out


def parse_volume_qos(specs: Mapping[str, str]) -> VolumeQos:
    """Parse a Cinder front-end ``qos_specs`` mapping into a :class:`VolumeQos`.

    Raises :class:`~vmqos.errors.ValidationError` with the first libvirt/QEMU message that the
    values would produce. Keys Nova does not copy are returned in ``ignored``.
    """
    numbers: dict[str, int] = {}
    texts: dict[str, str] = {}      # Nova copies the strings: ' 12' is written as ' 12'
    group_name: str | None = None
    ignored: list[str] = []
    notes: list[str] = []
    for key in sorted(specs):
        text = specs[key]
        if key in _NUMERIC_KEYS:
            number = _parse_ull(key, text)
            if number is not None:
                numbers[key] = number
                if text != str(number):
                    texts[key] = text
        elif key == GROUP_NAME_KEY:
            # virXPathString returns NULL for an empty string: "" is no group.
            group_name = text or None
        else:
            ignored.append(key)
            continue
        if key not in NOVA_TUNE_OPTS:
            notes.append(
                f"{key}={text}: Nova copies only its 13 tune_opts keys to <iotune>, so this "
                f"key never reaches libvirt through Nova (only via virsh blkdeviotune)."
            )
    problems = iotune_problems(numbers, group_name)
    if problems:
        first = problems[0]
        raise ValidationError(
            first.message, key=first.key, value=first.value, allowed=problem_allowed(first)
        )
    # Any: each number is in its field's unit (IOTUNE_FIELDS), which mypy cannot see by name.
    limits: dict[str, Any] = numbers
    return VolumeQos(
        **limits,
        group_name=group_name,
        verbatim=Verbatim(texts),
        ignored=tuple(ignored),
        notes=tuple(notes),
    )


def problem_allowed(problem: IotuneProblem) -> str:
    """What a value refused by ``problem`` may be instead, for an error's ``allowed``."""
    if problem.code == "iotune-group-without-settings":
        return "group_name together with at least one non-zero limit"
    if problem.code == "iotune-over-qemu-max":
        return f"an integer from 0 to {QEMU_BLOCK_IOTUNE_MAX}"
    if problem.code == "iotune-total-and-read-write":
        return f"either {problem.key} or the read_/write_ values, not both"
    return "values QEMU's throttle_is_valid() accepts"
