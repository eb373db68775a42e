"""Parse libvirt domain XML back into QoS values (round-trip tests now, host audit later).

:func:`parse_domain_xml` applies libvirt's own parse rules for ``<bandwidth>``
(src/conf/netdev_bandwidth_conf.c: inbound/outbound need ``average`` or ``floor``; ``peak`` and
``burst`` need ``average``) and its number parsing (:mod:`vmqos.libvirt_numbers`), raising
:class:`~vmqos.errors.ValidationError` with libvirt's message text. Rendering lives in
:mod:`vmqos.plan.render.domain_xml`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from vmqos.errors import UnsupportedError, ValidationError
from vmqos.libvirt_numbers import (
    bandwidth_number_error,
    iotune_number_error,
    parse_ll,
    parse_ullp,
)
from vmqos.libvirt_types import (
    IOTUNE_BASE_KEYS,
    IOTUNE_LENGTH_KEYS,
    Bandwidth,
    BandwidthSide,
    CpuTune,
    IoTune,
)
from vmqos.units import KBytesPerSec, KiB, Microseconds

__all__ = ["ParsedDisk", "ParsedDomain", "ParsedInterface", "parse_domain_xml"]


@dataclass(frozen=True, slots=True)
class ParsedDisk:
    target_dev: str
    source: str | None
    iotune: IoTune | None
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedInterface:
    type: str
    mac: str
    target_dev: str | None
    source: str | None           # bridge, macvtap lower dev, vhost-user socket, or VF PCI address
    interfaceid: str | None      # <virtualport><parameters interfaceid=...>
    bandwidth: Bandwidth | None
    mtu: int | None = None
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedDomain:
    name: str
    uuid: str
    vcpus: int
    memory_kib: int
    cputune: CpuTune | None
    disks: tuple[ParsedDisk, ...]
    interfaces: tuple[ParsedInterface, ...]
    domain_type: str = "kvm"
    domain_id: int | None = None


def _invalid(message: str, key: str, value: object, allowed: str) -> ValidationError:
    return ValidationError(message, key=key, value=value, allowed=allowed)


def _unmodelled(direction: str) -> UnsupportedError:
    return UnsupportedError(
        f"<{direction} floor=...> (QoS of a libvirt network) is not modelled by vmqos")


def _rate_value(text: str, name: str, direction: str) -> int:
    value = parse_ullp(text)
    if value is None:
        raise _invalid(bandwidth_number_error(name, text),
                       f"bandwidth.{direction}.{name}", text, "an unsigned 64-bit decimal")
    return value


def _rate(node: ET.Element, direction: str) -> tuple[BandwidthSide, int]:
    """virNetDevBandwidthParseRate, check for check; returns the side and its floor."""
    average, peak, burst, floor = (node.get(k) for k in ("average", "peak", "burst", "floor"))
    avg = 0
    if average is not None:
        avg = _rate_value(average, "average", direction)
    elif floor is None:
        raise _invalid("Missing mandatory average or floor attributes", f"bandwidth.{direction}",
                       None, "an average (or floor) attribute")
    if (peak is not None or burst is not None) and average is None:
        raise _invalid("'peak' and 'burst' require 'average' attribute", f"bandwidth.{direction}",
                       None, "peak and burst only together with average")
    side = BandwidthSide(
        average=KBytesPerSec(avg),
        peak=None if peak is None else KBytesPerSec(_rate_value(peak, "peak", direction)),
        burst=None if burst is None else KiB(_rate_value(burst, "burst", direction)),
    )
    return side, 0 if floor is None else _rate_value(floor, "floor", direction)


def _bandwidth_node(node: ET.Element, iface_type: str) -> Bandwidth | None:
    # virNetDevBandwidthParse (9.0: the first <inbound>/<outbound> counts, others are ignored).
    inbound = outbound = None
    found = node.find("inbound")
    if found is not None:
        inbound, floor = _rate(found, "inbound")
        if floor and iface_type != "network":
            raise _invalid("floor attribute is not supported for this config",
                           "bandwidth.inbound.floor", floor, "floor only on type='network'")
        if floor:
            raise _unmodelled("inbound")
    found = node.find("outbound")
    if found is not None:
        outbound, floor = _rate(found, "outbound")
        if floor:
            raise _invalid("'floor' attribute allowed only in <inbound> element",
                           "bandwidth.outbound.floor", floor, "floor only in <inbound>")
    if inbound is None and outbound is None:
        return None
    return Bandwidth(inbound=inbound, outbound=outbound)


def _cputune_node(node: ET.Element) -> CpuTune:
    values: dict[str, int | None] = {}
    for name, conv in (("shares", parse_ullp), ("period", parse_ullp), ("quota", parse_ll)):
        text = node.findtext(name)
        value = None if text is None else conv(text)
        if text is not None and value is None:
            raise _invalid(f"can't parse cputune {name} value", f"cputune.{name}", text,
                           "a 64-bit decimal integer")
        values[name] = value
    quota, period = values["quota"], values["period"]
    return CpuTune(shares=values["shares"],
                   quota=None if quota is None else Microseconds(quota),
                   period=None if period is None else Microseconds(period))


def _iotune_node(node: ET.Element) -> IoTune | None:
    values: dict[str, int | str] = {}
    # Nova's order, then the lengths: the first bad value is the one reported.
    for key in (*IOTUNE_BASE_KEYS, *IOTUNE_LENGTH_KEYS):
        text = node.findtext(key)
        if text is not None:
            value = parse_ullp(text)
            if value is None:
                raise _invalid(iotune_number_error(key), f"iotune.{key}",
                               text, "an unsigned 64-bit decimal")
            values[key] = value
    group = node.findtext("group_name")
    if group is not None:
        values["group_name"] = group
    return IoTune(**values) if values else None  # type: ignore[arg-type]


def _attr(node: ET.Element, path: str, name: str) -> str | None:
    found = node.find(path)
    return None if found is None else found.get(name)


def _interface_node(node: ET.Element) -> ParsedInterface:
    kind = node.get("type", "")
    source: str | None
    if kind == "hostdev":
        addr = node.find("source/address")
        source = None if addr is None else ":".join(
            addr.get(k, "").removeprefix("0x") for k in ("domain", "bus", "slot")
        ) + "." + addr.get("function", "").removeprefix("0x")
    else:
        key = {"bridge": "bridge", "direct": "dev", "vhostuser": "path", "network": "network"}
        source = _attr(node, "source", key.get(kind, "bridge"))
    bandwidth = node.find("bandwidth")
    mtu = _attr(node, "mtu", "size")
    return ParsedInterface(
        type=kind,
        mac=_attr(node, "mac", "address") or "",
        target_dev=_attr(node, "target", "dev"),
        source=source,
        interfaceid=_attr(node, "virtualport/parameters", "interfaceid"),
        bandwidth=None if bandwidth is None else _bandwidth_node(bandwidth, kind),
        mtu=None if mtu is None else parse_ullp(mtu),
        alias=_attr(node, "alias", "name"),
    )


def _disk_node(node: ET.Element) -> ParsedDisk:
    src = node.find("source")
    iotune = node.find("iotune")
    return ParsedDisk(
        target_dev=_attr(node, "target", "dev") or "",
        source=None if src is None else (src.get("file") or src.get("dev") or src.get("name")),
        iotune=None if iotune is None else _iotune_node(iotune),
        alias=_attr(node, "alias", "name"),
    )


# virScaleInteger: b/bytes, k/KiB/M/MiB... powers of 1024, KB/MB... powers of 1000.
_SCALE = {"b": 1, "byte": 1, "bytes": 1} | {
    s: base ** (i + 1)
    for i, p in enumerate("kmgtpe")
    for s, base in ((p, 1024), (p + "ib", 1024), (p + "b", 1000))
}


def _memory_kib(node: ET.Element | None) -> int:
    if node is None:
        return 0
    unit = node.get("unit", "KiB")
    scale = _SCALE.get(unit.lower())
    value = parse_ullp(node.text or "")
    if scale is None or value is None:
        raise _invalid(f"unknown suffix '{unit}'" if scale is None else
                       f"could not parse memory value '{node.text}'", "memory",
                       node.text, "an unsigned integer with a libvirt unit")
    kib: int = -(-value * scale // 1024)  # VIR_DIV_UP to KiB
    return kib


def parse_domain_xml(text: str) -> ParsedDomain:
    """The QoS-relevant facts of a domain document (either form, or real ``virsh dumpxml``)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise _invalid(f"XML error: {exc}", "xml", None, "a well-formed XML document") from exc
    if root.tag != "domain":
        raise _invalid(f"expecting root element of 'domain', not '{root.tag}'", "xml", root.tag,
                       "a <domain> document")
    name = (root.findtext("name") or "").strip()
    if not name:
        raise _invalid("missing name information", "name", None, "a <name> element")
    vcpu = root.findtext("vcpu")
    vcpus = 1 if vcpu is None else parse_ullp(vcpu)
    if vcpus is None:
        raise _invalid("maximum vcpus count must be an integer", "vcpu", vcpu, "an integer")
    cputune = root.find("cputune")
    devices = root.find("devices")
    domain_id = root.get("id")
    return ParsedDomain(
        name=name,
        uuid=(root.findtext("uuid") or "").strip(),
        vcpus=vcpus,
        memory_kib=_memory_kib(root.find("memory")),
        cputune=None if cputune is None else _cputune_node(cputune),
        disks=() if devices is None else tuple(map(_disk_node, devices.iterfind("disk"))),
        interfaces=() if devices is None else tuple(
            map(_interface_node, devices.iterfind("interface"))),
        domain_type=root.get("type", ""),
        domain_id=None if domain_id is None else parse_ll(domain_id),
    )
