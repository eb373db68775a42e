"""Drift between the domain Nova would define and the domain libvirt actually runs.

Pure: compares the QoS parts of a compiled :class:`~vmqos.libvirt_types.DomainSpec` with a
:class:`~vmqos.plan.render.domain_xml_parse.ParsedDomain` read from ``virsh dumpxml`` —
``<cputune>``
shares/quota/period, each disk's ``<iotune>``, each interface's ``<bandwidth>`` (matched by
MAC). libvirt does not print zero values (``average='0'`` disappears, a zero period is not
written), so zero and absent compare equal.

:func:`diff_enforced` goes one layer down for a running domain: what the cgroup holds
(``virsh schedinfo``) and what QEMU throttles (``virsh blkdeviotune``), which change without
the XML when someone writes the cgroup or sends QMP directly.
"""

from __future__ import annotations

from vmqos.libvirt_types import IOTUNE_KEYS, Bandwidth, CpuTune, DomainSpec, IoTune
from vmqos.observe.virsh import LiveDomain
from vmqos.plan.render.domain_xml_parse import ParsedDomain
from vmqos.plan.render.qemu import reported_iotune

__all__ = ["diff_domain_qos", "diff_enforced"]


def _z(value: object) -> object:
    return None if value == 0 else value


def _cputune(want: CpuTune | None, got: CpuTune | None) -> list[str]:
    out = []
    for name in ("shares", "quota", "period"):
        w = _z(getattr(want, name) if want else None)
        g = _z(getattr(got, name) if got else None)
        if w != g:
            out.append(f"<cputune><{name}>: want {_shown(w)}, running {_shown(g)}")
    return out


def _iotune(dev: str, want: IoTune | None, got: IoTune | None) -> list[str]:
    out = []
    # The values only: Nova's spelling of them (verbatim) is not what libvirt keeps.
    for name in IOTUNE_KEYS:
        w = _z(getattr(want, name) if want else None)
        g = _z(getattr(got, name) if got else None)
        if w != g:
            out.append(f"disk {dev} <iotune><{name}>: want {_shown(w)}, running "
                       f"{_shown(g)}")
    return out


def _side_text(side: object) -> str:
    parts = [f"{attr}={value}" for attr in ("average", "peak", "burst")
             if (value := _z(getattr(side, attr) if side else None)) is not None]
    return " ".join(parts) or "none"


def _bandwidth(mac: str, want: Bandwidth | None, got: Bandwidth | None) -> list[str]:
    """One line per direction whose average, peak or burst differs."""
    out = []
    for side in ("inbound", "outbound"):
        w, g = getattr(want, side) if want else None, getattr(got, side) if got else None
        if _side_text(w) != _side_text(g):
            out.append(f"interface {mac} <bandwidth><{side}>: want {_side_text(w)}, running "
                       f"{_side_text(g)}")
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


def _shown(value: object) -> str:
    return "none" if value is None else str(value)


def diff_enforced(desired: DomainSpec, live: LiveDomain) -> list[str]:
    """One line per value the running domain's cgroup or QEMU enforces differently.

    Shares and period are compared when Nova sets them (otherwise the cgroup's default
    stands); a CFS quota Nova did not ask for is drift. Disks are compared when libvirt
    reported them (blkdeviotune answers for a running domain only).
    """
    want = desired.cputune or CpuTune()
    got = live.sched
    drift = []
    if want.shares is not None and got.shares != want.shares:
        drift.append(f"cgroup cpu shares (virsh schedinfo): want {want.shares}, enforced "
                     f"{_shown(got.shares)}")
    if want.period is not None and got.vcpu_period != want.period:
        drift.append(f"cgroup vcpu_period (virsh schedinfo): want {want.period}, enforced "
                     f"{_shown(got.vcpu_period)}")
    if _z(want.quota) != got.vcpu_quota:
        drift.append(f"cgroup vcpu_quota (virsh schedinfo): want {_shown(_z(want.quota))}, "
                     f"enforced {_shown(got.vcpu_quota) if got.vcpu_quota else 'unlimited'}")
    for disk in desired.disks:
        enforced = live.iotune.get(disk.target_dev)
        if enforced is None:
            continue
        expected = reported_iotune(disk.iotune or IoTune())
        for name in IOTUNE_KEYS:
            w, g = _z(getattr(expected, name)), _z(getattr(enforced, name))
            if w != g:
                drift.append(f"disk {disk.target_dev} QEMU throttle {name} (virsh "
                             f"blkdeviotune): want {_shown(w)}, enforced {_shown(g)}")
    return drift
