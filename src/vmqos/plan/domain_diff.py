"""Drift between the domain Nova would define and the domain libvirt actually runs.

Pure: compares the QoS parts of a compiled :class:`~vmqos.plan.domain.DomainSpec` with a
:class:`~vmqos.plan.libvirt_xml_parse.ParsedDomain` read from ``virsh dumpxml`` — ``<cputune>``
shares/quota/period, each disk's ``<iotune>``, each interface's ``<bandwidth>`` (matched by
MAC). libvirt does not print zero values (``average='0'`` disappears, a zero period is not
written), so zero and absent compare equal.
"""

from __future__ import annotations

from dataclasses import fields

from vmqos.plan.domain import Bandwidth, CpuTune, DomainSpec, IoTune
from vmqos.plan.libvirt_xml_parse import ParsedDomain

__all__ = ["diff_domain_qos"]


def _z(value: object) -> object:
    return None if value == 0 else value


def _cputune(want: CpuTune | None, got: CpuTune | None) -> list[str]:
    out = []
    for name in ("shares", "quota", "period"):
        w = _z(getattr(want, name) if want else None)
        g = _z(getattr(got, name) if got else None)
        if w != g:
            out.append(f"<cputune><{name}>: want {w if w is not None else 'none'}, "
                       f"running {g if g is not None else 'none'}")
    return out


def _iotune(dev: str, want: IoTune | None, got: IoTune | None) -> list[str]:
    out = []
    for field in fields(IoTune):
        w = _z(getattr(want, field.name) if want else None)
        g = _z(getattr(got, field.name) if got else None)
        if w != g:
            out.append(f"disk {dev} <iotune><{field.name}>: want {w if w is not None else 'none'}"
                       f", running {g if g is not None else 'none'}")
    return out


def _bandwidth(mac: str, want: Bandwidth | None, got: Bandwidth | None) -> list[str]:
    out = []
    for side in ("inbound", "outbound"):
        w, g = getattr(want, side) if want else None, getattr(got, side) if got else None
        for attr in ("average", "peak", "burst"):
            wv = _z(getattr(w, attr) if w else None)
            gv = _z(getattr(g, attr) if g else None)
            if wv != gv:
                out.append(f"interface {mac} <bandwidth><{side} {attr}>: want "
                           f"{wv if wv is not None else 'none'}, running "
                           f"{gv if gv is not None else 'none'}")
    return out


def diff_domain_qos(desired: DomainSpec, observed: ParsedDomain) -> list[str]:
    """One line per QoS value that differs; empty when the running domain matches."""
    drift = _cputune(desired.cputune, observed.cputune)
    running_disks = {d.target_dev: d for d in observed.disks}
    for disk in desired.disks:
        found = running_disks.get(disk.target_dev)
        if found is None:
            drift.append(f"disk {disk.target_dev}: missing from the running domain")
            continue
        drift += _iotune(disk.target_dev, disk.iotune, found.iotune)
    running_nics = {i.mac.lower(): i for i in observed.interfaces}
    for nic in desired.interfaces:
        running = running_nics.get(nic.mac.lower())
        if running is None:
            drift.append(f"interface {nic.mac}: missing from the running domain")
            continue
        drift += _bandwidth(nic.mac, nic.bandwidth, running.bandwidth)
    return drift
