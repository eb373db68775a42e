"""libvirt's QoS on Open vSwitch ports (``virNetDevOpenvswitchInterfaceSetQos``), as values.

Role: for ``<interface type='bridge'><virtualport type='openvswitch'>`` libvirt (≥ 8.0; 9.0
here) does not run tc; it writes OVS rows with ``ovs-vsctl --timeout=5`` (libvirt
virNetDevOpenvswitchInterfaceSetQos, tests/virnetdevbandwidthtest.c). This module renders those
commands and the limits OVS then enforces.

Invariants:

* Units are converted only through :mod:`vmqos.units`: ``min-rate = average*8000`` and
  ``max-rate = peak*8000`` bit/s, queue ``burst = burst*8192`` bits,
  ``ingress_policing_rate = average*8`` kbit/s, ``ingress_policing_burst = burst*8``.
* The commands are those of a port with no earlier libvirt QoS rows: both ``find`` commands
  print nothing. When they do find rows (a live update), libvirt continues with
  ``set queue``/``set qos``/``destroy`` commands that depend on that ovsdb state; those belong
  to a diff against the observed host, not to this pure rendering.
* The HTB side is the VM's inbound when ``swapped`` (always, for an OVS port's tap).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from vmqos.errors import ValidationError
from vmqos.libvirt_types import Bandwidth, BandwidthSide
from vmqos.limits import Limit
from vmqos.mechanism import Mechanism, MechanismKind
from vmqos.model import Direction, Enforcer
from vmqos.plan.render.bandwidth_sides import htb_side, police_side, shaped_direction
from vmqos.plan.render.tc import render_command, validate_bandwidth
from vmqos.units import (
    Kbit,
    bits_to_bytes,
    kbit_per_sec_to_bits,
    kbytes_per_sec_to_bits,
    kbytes_per_sec_to_kbit,
    kib_to_bits,
    kib_to_ovs_policing_kbit,
    ovs_policing_burst_to_bytes,
)

__all__ = [
    "OVS_DEFAULT_POLICING_BURST",
    "OvsVsctl",
    "compile_libvirt_ovs",
    "compile_libvirt_ovs_commands",
    "ovs_libvirt_limits",
]

# OVS lib/netdev-linux.c: ingress_policing_burst 0 with a non-zero rate means 8000 kbit.
OVS_DEFAULT_POLICING_BURST = Kbit(8000)


@dataclass(frozen=True, slots=True)
class OvsVsctl:
    """One ``ovs-vsctl --timeout=5 ARGS...`` run (libvirt's ``virNetDevOpenvswitchCreateCmd``)."""

    args: tuple[str, ...]

    def argv(self) -> list[str]:
        """Without the leading ``ovs-vsctl``, for exec."""
        return ["--timeout=5", *self.args]

    def render(self) -> str:
        return render_command("ovs-vsctl", self.argv())


def _external_ids(vm_uuid: str, ifname: str) -> tuple[str, str]:
    return f'external-ids:vm-id="{vm_uuid}"', f'external-ids:ifname="{ifname}"'


def _finds(vm_id: str, if_id: str) -> list[OvsVsctl]:
    # virNetDevOpenvswitchFindUUID, queue first, then qos (both Set and ClearTx paths).
    return [OvsVsctl(("--no-heading", "--columns=_uuid", "find", table, vm_id, if_id))
            for table in ("queue", "qos")]


def _htb_config(tx: BandwidthSide) -> tuple[str, ...]:
    out = [f"other_config:min-rate={kbytes_per_sec_to_bits(tx.average)}"]
    if tx.burst:
        out.append(f"other_config:burst={kib_to_bits(tx.burst)}")
    if tx.peak:
        out.append(f"other_config:max-rate={kbytes_per_sec_to_bits(tx.peak)}")
    return tuple(out)


def _format_uuid(vm_uuid: str) -> str:
    # libvirt parses the domain UUID and prints it back with virUUIDFormat: lower-case 8-4-4-4-12.
    try:
        return str(uuid.UUID(vm_uuid))
    except ValueError:
        raise ValidationError(
            f"vm_uuid {vm_uuid!r} is not a domain UUID",
            key="vm_uuid", value=vm_uuid,
            allowed="a UUID, e.g. c1018351-a229-4209-9faf-42446e0b53e5") from None


def compile_libvirt_ovs_commands(
    ifname: str, vm_uuid: str, bandwidth: Bandwidth | None, *, swapped: bool = True
) -> tuple[OvsVsctl, ...]:
    """The ``ovs-vsctl`` invocations of ``virNetDevOpenvswitchInterfaceSetQos``, in order."""
    # libvirt's parser turns <bandwidth/> into NULL, and SetQos returns at once for NULL.
    if bandwidth is None or (bandwidth.inbound is None and bandwidth.outbound is None):
        return ()
    validate_bandwidth(bandwidth)
    vm_id, if_id = _external_ids(_format_uuid(vm_uuid), ifname)
    cmds = _finds(vm_id, if_id)
    tx = htb_side(bandwidth, swapped=swapped)
    if tx is not None:
        config = _htb_config(tx)
        # No queue found: one transaction creates the QoS row and its queue 0 on the Port.
        cmds.append(OvsVsctl((
            "set", "port", ifname, "qos=@qos1", vm_id, if_id,
            "--", "--id=@qos1", "create", "qos", "type=linux-htb", *config,
            "queues:0=@queue0", vm_id, if_id,
            "--", "--id=@queue0", "create", "queue", *config, vm_id, if_id)))
    # else: virNetDevOpenvswitchInterfaceClearTxQos — only its two finds, nothing found.
    rx = police_side(bandwidth, swapped=swapped)
    if rx is not None:
        args = ["set", "Interface", ifname,
                f"ingress_policing_rate={kbytes_per_sec_to_kbit(rx.average)}"]
        if rx.burst:
            args.append(f"ingress_policing_burst={kib_to_ovs_policing_kbit(rx.burst)}")
        cmds.append(OvsVsctl(tuple(args)))
    else:
        # virNetDevOpenvswitchInterfaceClearRxQos
        cmds.append(OvsVsctl(("set", "Interface", ifname, "ingress_policing_rate=0",
                              "ingress_policing_burst=0")))
    return tuple(cmds)


def compile_libvirt_ovs(
    ifname: str, vm_uuid: str, bandwidth: Bandwidth | None, *, swapped: bool = True
) -> list[str]:
    """:func:`compile_libvirt_ovs_commands` as the exact lines libvirt logs."""
    return [c.render() for c in compile_libvirt_ovs_commands(
        ifname, vm_uuid, bandwidth, swapped=swapped)]


def ovs_libvirt_limits(
    ifname: str, bandwidth: Bandwidth | None, *, source: str, swapped: bool = True
) -> list[Limit]:
    """What OVS enforces after libvirt's commands, in bits/s and bytes."""
    if bandwidth is None or (bandwidth.inbound is None and bandwidth.outbound is None):
        return []
    validate_bandwidth(bandwidth)
    out: list[Limit] = []
    shaped = shaped_direction(swapped=swapped)
    tx = htb_side(bandwidth, swapped=swapped)
    if tx is not None:
        notes = ["average becomes linux-htb min-rate (a guarantee), not a cap"]
        if tx.peak:
            notes.append("peak becomes max-rate: the cap")
        else:
            notes.append("no peak: no max-rate, so this direction is NOT capped by libvirt")
        out.append(Limit(
            enforcer=Enforcer.OVS_LIBVIRT, direction=shaped, device=ifname,
            mechanism=Mechanism(MechanismKind.LIBVIRT_OVS_QUEUE), source=source,
            rate=kbytes_per_sec_to_bits(tx.peak) if tx.peak else None,
            burst=bits_to_bytes(kib_to_bits(tx.burst)) if tx.burst else None,
            min_rate=kbytes_per_sec_to_bits(tx.average), notes=tuple(notes)))
    elif bandwidth.side(shaped) is not None:
        out.append(Limit(
            enforcer=Enforcer.OVS_LIBVIRT, direction=shaped, device=ifname,
            mechanism=Mechanism(MechanismKind.NONE), source=source,
            notes=("average 0: libvirt removes its QoS rows; not limited",)))
    rx = police_side(bandwidth, swapped=swapped)
    if rx is not None:
        out.append(_policing_limit(ifname, rx, shaped_direction(swapped=not swapped), source))
    return out


def _policing_limit(ifname: str, rx: BandwidthSide, direction: Direction, source: str) -> Limit:
    notes: list[str] = []
    if rx.peak:
        notes.append("peak ignored: ingress policing has no peak")
    rate = kbytes_per_sec_to_kbit(rx.average)
    if rate == 0:
        notes.append("ingress_policing_rate=0 disables policing: not limited")
        return Limit(enforcer=Enforcer.OVS_LIBVIRT, direction=direction, device=ifname,
                     mechanism=Mechanism(MechanismKind.LIBVIRT_OVS_POLICING), source=source,
                     notes=tuple(notes))
    if rx.burst:
        kbit = kib_to_ovs_policing_kbit(rx.burst)
    else:
        kbit = OVS_DEFAULT_POLICING_BURST
        notes.append(f"burst not set: OVS default {OVS_DEFAULT_POLICING_BURST} kbit")
    return Limit(
        enforcer=Enforcer.OVS_LIBVIRT, direction=direction, device=ifname,
        mechanism=Mechanism(MechanismKind.LIBVIRT_OVS_POLICING), source=source,
        rate=kbit_per_sec_to_bits(rate),
        burst=ovs_policing_burst_to_bytes(kbit), notes=tuple(notes))

