"""Host-level lint of a flavor's ``quota:*``: what Nova accepts but a compute node rejects,
ignores or gets wrong.

:func:`lint_flavor_quota` takes a :class:`FlavorQuota` that already passed Nova's validation and
the few host facts that change the outcome (cgroup version, libvirt's define-time shares check,
the VIF types of the instance's ports, whether disks are Cinder volumes). It returns
:class:`Finding` values; it never raises for a bad quota.

Invariants:

* Every finding has a stable ``code`` (listed in :data:`FINDING_CODES`), names the key and the
  value, and its reason quotes the libvirt/QEMU/kernel behaviour (nova vif.py
  _get_config_os_vif; libvirt virNetDevBandwidthSet, domain_validate.c, vircgroup.h; the
  kernel's cgroup-v2.rst cpu.weight) with the numbers of this flavor.
* A VIF or disk value whose string Nova writes verbatim (:class:`~vmqos.libvirt_types.Verbatim`)
  is judged by the string, the way libvirt parses it (:mod:`vmqos.libvirt_numbers`) or lxml
  serialises it (:func:`~vmqos.plan.render.xml_chars.lxml_refuses`); every other finding by
  the number Nova's API read.
* Findings come out in a fixed order: CPU, VIF (inbound, then outbound), disk, VMware keys;
  within a VIF direction and within disk, the strings libvirt refuses come first.
* An empty ``vif_types`` means "not known": the lint then assumes Nova's common tap attachment
  (OVS hybrid plug) for the VIF findings and reports nothing VIF-type specific beyond that.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from vmqos.errors import ValidationError
from vmqos.intent.findings import Finding, Severity
from vmqos.intent.nova.flavor import FlavorQuota, VifQuota
from vmqos.intent.nova.volume_qos import iotune_problems
from vmqos.libvirt_numbers import (
    CONFIG_UNSUPPORTED,
    ULLONG_MAX,
    XML_ERROR,
    bandwidth_number_error,
    iotune_number_error,
    parse_ullp,
)
from vmqos.libvirt_types import BandwidthSide, Verbatim
from vmqos.model import Direction, VifType
from vmqos.plan.kernel.cgroup import (
    CPU_QUOTA_MAX,
    PERIOD_DEFAULT,
    PERIOD_MAX,
    PERIOD_MIN,
    QUOTA_MIN,
    SHARES_DEFAULT,
    SHARES_MAX,
    SHARES_MIN,
    WEIGHT_DEFAULT,
    WEIGHT_MAX,
)
from vmqos.plan.kernel.ethernet import FRAME_BYTES
from vmqos.plan.render.bandwidth_sides import POLICE_MTU, police_burst, shaped_direction
from vmqos.plan.render.xml_chars import LXML_INCOMPATIBLE, lxml_refuses
from vmqos.profile import CgroupVersion
from vmqos.units import (
    KBytesPerSec,
    format_bits_per_sec,
    format_bytes,
    kbytes_per_sec_to_bits,
    kbytes_per_sec_to_bytes,
    kib_to_bytes,
)

__all__ = ["FINDING_CODES", "lint_flavor_quota"]

FINDING_CODES: tuple[str, ...] = (
    "cpu-shares-zero", "cpu-shares-below-min", "cpu-shares-over-max",
    "cpu-shares-over-cgroup-v2-max", "cpu-shares-verbatim-weight",
    "cpu-period-out-of-range", "cpu-quota-out-of-range", "cpu-quota-per-vcpu",
    "cpu-quota-without-period", "cpu-period-without-quota", "cpu-quota-unlimited",
    "vif-bandwidth-not-applied", "vif-bandwidth-refused", "vif-peak-burst-without-average",
    "vif-average-zero-drops-all", "vif-average-zero-not-applied", "vif-peak-ignored-by-policer",
    "vif-peak-below-average", "vif-police-burst-below-frame", "vif-police-burst-below-gso",
    "vif-htb-burst-below-frame", "vif-burst-over-one-second", "vif-police-default-burst",
    "disk-quota-not-on-boot-volume", "disk-quota-not-on-volumes", "disk-quota-zero",
    "disk-iotune-over-qemu-max", "disk-iotune-total-and-read-write", "vmware-only-key",
    # A quota:vif_*/quota:disk_* string Nova writes as it is and libvirt's parser (or lxml)
    # refuses.
    "verbatim-number-refused",
)

# The ranges and defaults are libvirt's and the kernel's, kept where vmqos renders them:
# cgroup values in plan/render/cgroup.py (vircgroup.h, cgroup-v2.rst), tc sizes in
# plan/render/tc.py (virnetdevbandwidth.c; the GSO packet libvirt's police "mtu 64kb" admits).
_SHARES_RANGE_MSG = f"Value of cputune 'shares' must be in range [{SHARES_MIN}, {SHARES_MAX}]"
_ASSUMED_VIF_TYPES = (VifType.OVS_HYBRID,)


def _maker(severity: Severity) -> Callable[[str, str, object, str, str], Finding]:
    def make(code: str, key: str, value: object, reason: str, advice: str) -> Finding:
        return Finding(code, severity, key, str(value), reason, advice)
    return make


_error, _warning, _info = _maker(Severity.ERROR), _maker(Severity.WARNING), _maker(Severity.INFO)


def _times(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") + "×"


def lint_flavor_quota(
    quota: FlavorQuota,
    *,
    vcpus: int,
    cgroup: CgroupVersion | str = CgroupVersion.V1,
    libvirt_generic_shares_check: bool = True,
    vif_types: Collection[VifType] = (),
    boot_from_volume: bool = False,
    has_volumes: bool = False,
) -> list[Finding]:
    """Everything about ``quota`` that a host running libvirt/QEMU will reject, ignore or
    apply differently from what the operator most likely meant.

    ``cgroup`` is a :class:`CgroupVersion` (or its string); ``libvirt_generic_shares_check``
    is true for libvirt < 9.1 (shares range-checked against [2, 262144] at define time).
    """
    try:
        version = CgroupVersion(cgroup)
    except ValueError:
        raise ValidationError(
            f"unknown cgroup version {cgroup!r}; choose v1 or v2",
            key="cgroup", value=cgroup, allowed="v1, v2",
        ) from None
    out: list[Finding] = []
    _lint_shares(quota.cpu_shares, version, libvirt_generic_shares_check, out)
    _lint_period_quota(quota.cpu_period, quota.cpu_quota, vcpus, out)
    _lint_vif(quota, tuple(vif_types) or _ASSUMED_VIF_TYPES, out)
    _lint_disk(quota, boot_from_volume, has_volumes, out)
    for key in quota.ignored_by_libvirt:
        out.append(_info(
            "vmware-only-key", key, "",
            f"{key} is read only by the VMware driver; the libvirt driver ignores it.",
            "Remove it from flavors used on libvirt/KVM hosts, or keep it only for VMware."))
    return out


# --- CPU ------------------------------------------------------------------------------------


def _lint_shares(shares: int | None, cgroup: CgroupVersion, generic: bool,
                 out: list[Finding]) -> None:
    if shares is None:
        return
    key = "quota:cpu_shares"
    v2 = cgroup is CgroupVersion.V2
    if shares == 0:
        # 9.0 accepts <shares>0</shares> at define; the cgroup write at start fails.
        why = ("on cgroup v2 writing cpu.weight=0 fails (\"shares '0' must be in range [1, "
               "10000]\" on libvirt >= 9.1, \"Numerical result out of range\" before)" if v2 else
               "start fails with \"invalid argument: shares '0' must be in range [2, 262144]\"")
        out.append(_error(
            "cpu-shares-zero", key, shares,
            f"Nova and libvirt's define accept cpu_shares=0, but {why}, so the instance never "
            f"starts.", "Remove quota:cpu_shares or set it to at least 2 (1024 = default)."))
    elif shares < SHARES_MIN and (generic or not v2):
        where = ("libvirt < 9.1 refuses the domain at define: " + repr(_SHARES_RANGE_MSG)
                 if generic else "start fails: \"shares '1' must be in range [2, 262144]\"")
        out.append(_error(
            "cpu-shares-below-min", key, shares,
            f"cpu_shares=1 passes Nova but {where}.", "Set quota:cpu_shares to 2 or more."))
    elif shares > SHARES_MAX and (generic or not v2):
        where = (f"libvirt < 9.1 refuses the domain at define: {_SHARES_RANGE_MSG!r}" if generic
                 else f"start fails: \"shares '{shares}' must be in range [2, 262144]\"")
        out.append(_error(
            "cpu-shares-over-max", key, shares,
            f"cpu_shares={shares} passes Nova (no max) but {where}.",
            "Set quota:cpu_shares to 262144 or less (10000 or less on cgroup v2 hosts)."))
    elif v2 and shares > WEIGHT_MAX:
        out.append(_error(
            "cpu-shares-over-cgroup-v2-max", key, shares,
            f"libvirt writes shares verbatim into cgroup v2 cpu.weight, whose range is [1, "
            f"10000]: starting the instance fails (\"Unable to write to '.../cpu.weight': "
            f"Numerical result out of range\", or \"shares '{shares}' must be in range [1, "
            f"10000]\" on libvirt >= 9.1; Nova bug #1978489).",
            "Set quota:cpu_shares to 10000 or less on cgroup v2 hosts."))
    elif v2:
        out.append(_info(
            "cpu-shares-verbatim-weight", key, shares,
            f"On cgroup v2 libvirt writes cpu.weight={shares} unchanged, against the default "
            f"weight {WEIGHT_DEFAULT} of every unconfigured cgroup: that is "
            f"{_times(shares / WEIGHT_DEFAULT)} the CPU share, not the "
            f"{_times(shares / SHARES_DEFAULT)} Nova's description (relative to 1024) "
            f"promises.",
            f"For {_times(shares / SHARES_DEFAULT)} of a default guest on cgroup v2 set "
            f"quota:cpu_shares={max(1, round(shares * WEIGHT_DEFAULT / SHARES_DEFAULT))}."))


def _lint_period_quota(
    period: int | None, quota: int | None, vcpus: int, out: list[Finding]
) -> None:
    bad = False
    if period is not None and (0 < period < PERIOD_MIN or period > PERIOD_MAX):
        bad = True
        out.append(_error(
            "cpu-period-out-of-range", "quota:cpu_period", period,
            f"cpu_period={period} passes Nova (min 0) but libvirt refuses the domain: "
            f"\"Value of cputune 'period' must be in range [{PERIOD_MIN}, {PERIOD_MAX}]\".",
            f"Set quota:cpu_period between {PERIOD_MIN} and {PERIOD_MAX} µs ({PERIOD_DEFAULT} is "
            "the kernel default)."))
    if quota is not None and (0 < quota < QUOTA_MIN or quota > CPU_QUOTA_MAX):
        bad = True
        out.append(_error(
            "cpu-quota-out-of-range", "quota:cpu_quota", quota,
            f"cpu_quota={quota} passes Nova (whose description says up to 2^64) but libvirt "
            f"refuses the domain: \"Value of cputune 'quota' must be in range [{QUOTA_MIN}, "
            f"{CPU_QUOTA_MAX}]\".",
            f"Set quota:cpu_quota between {QUOTA_MIN} and {CPU_QUOTA_MAX} µs, or negative for no "
            "limit."))
    if bad:
        return
    if quota is not None and quota < 0:
        out.append(_info(
            "cpu-quota-unlimited", "quota:cpu_quota", quota,
            f"A negative cpu_quota means no limit: libvirt keeps {quota} in the XML and the "
            f"kernel reads back -1 (cgroup v1) or 'max' (v2).",
            "Remove quota:cpu_quota if no CPU cap is wanted."))
    elif quota:
        eff_period = period or PERIOD_DEFAULT
        share = quota / eff_period
        if not period:
            out.append(_info(
                "cpu-quota-without-period", "quota:cpu_quota", quota,
                f"No quota:cpu_period is set, so the kernel default period "
                f"{PERIOD_DEFAULT} µs applies: each vCPU gets {quota}/"
                f"{PERIOD_DEFAULT} = {share:.0%} of a physical CPU.",
                "Set quota:cpu_period explicitly so the cap does not depend on the host."))
        if vcpus > 1:
            out.append(_info(
                "cpu-quota-per-vcpu", "quota:cpu_quota", quota,
                f"libvirt writes quota {quota} µs per period {eff_period} µs into each of the "
                f"{vcpus} vCPU cgroups (vcpu0..vcpu{vcpus - 1}), not the domain: each vCPU gets "
                f"{share:.0%} of a CPU and the guest up to {vcpus * share:g} CPUs.",
                f"To cap the whole guest at N CPUs set quota:cpu_quota = N × {eff_period} / "
                f"{vcpus}."))
    elif period:
        out.append(_info(
            "cpu-period-without-quota", "quota:cpu_period", period,
            f"cpu_period={period} without a positive quota:cpu_quota caps nothing: the "
            f"vCPU quota stays unlimited.",
            "Add quota:cpu_quota, or remove quota:cpu_period."))


# --- VIF ------------------------------------------------------------------------------------


def _policed(vif: VifType, direction: Direction) -> bool:
    """True if libvirt enforces ``direction`` with a policer (no peak) on this VIF type:
    outbound on taps and OVS ports (swapped), inbound on macvtap (libvirt
    virNetDevBandwidthSet)."""
    return direction is not shaped_direction(swapped=vif.swapped)


_LABELS = {
    VifType.OVS_HYBRID: "OVS hybrid (tap)", VifType.ETHERNET: "ethernet (tap)",
    VifType.OVS_BRIDGE: "OVS", VifType.MACVTAP: "macvtap",
    VifType.VHOSTUSER: "vhost-user", VifType.HOSTDEV: "OVS-offloaded VF (hostdev)",
    VifType.HW_VEB: "SR-IOV agent VF (hw_veb)",
}
# What limits each kind of port that libvirt cannot shape, for the finding's fix.
_INSTEAD = {
    VifType.VHOSTUSER: "the socket has no kernel device for tc; limit these ports with a "
                       "Neutron QoS policy enforced by OVS-DPDK instead",
    VifType.HOSTDEV: "its representor in br-int is what the OVS agent (or ovn-controller) "
                     "limits: use a Neutron QoS policy, which the NIC enforces when OVS "
                     "offloads the port's tc police",
}


def _names(types: Collection[VifType]) -> str:
    return ", ".join(sorted(_LABELS[t] for t in types))


def _lint_vif(quota: FlavorQuota, types: tuple[VifType, ...], out: list[Finding]) -> None:
    set_keys = [
        (f"quota:vif_{d.value}_{m}", getattr(quota.vif(d), m))
        for d in Direction for m in ("average", "peak", "burst")
        if getattr(quota.vif(d), m) is not None
    ]
    if not set_keys:
        return
    written = quota.vif_inbound.average is not None or quota.vif_outbound.average is not None
    for vif in types:
        if vif in _INSTEAD:
            out.append(_error(
                "vif-bandwidth-not-applied", set_keys[0][0], set_keys[0][1],
                f"Nova writes no <bandwidth> for {_LABELS[vif]} ports (os-vif, Nova bug "
                f"#1814882), so none of the {len(set_keys)} quota:vif_* keys is applied; "
                f"{_INSTEAD[vif]}.",
                "Limit these ports with a Neutron QoS policy enforced by their backend instead."))
        elif vif.libvirt_refuses_bandwidth and written:
            out.append(_error(
                "vif-bandwidth-refused", set_keys[0][0], set_keys[0][1],
                f"Nova writes this flavor's <bandwidth> into the VF's <interface "
                f"type='hostdev'> ({_LABELS[vif]}: vif.py get_config_hw_veb), and libvirt "
                f"cannot shape a VF: it refuses the domain when it starts (\"unsupported "
                f"configuration: interface <MAC> - bandwidth settings are not supported for "
                f"hostdev interfaces\", domain_validate.c virDomainActualNetDefValidate), so "
                f"every server of this flavor with such a port goes to ERROR. A VF's only "
                f"limits are the SR-IOV agent's: max_tx_rate / min_tx_rate from a Neutron "
                f"bandwidth_limit / minimum_bandwidth egress rule, in whole Mbit/s, and "
                f"nothing towards the VM.",
                "Remove the quota:vif_* keys from flavors used with SR-IOV ports; limit the VF "
                "with a Neutron QoS policy (bandwidth_limit egress)."))
    shaped = [t for t in types if t.nova_sets_bandwidth and not t.libvirt_refuses_bandwidth]
    written_by_nova = [t for t in types if t.nova_sets_bandwidth]
    for d in Direction:
        q = quota.vif(d)
        # LibvirtConfigGuestInterface.format_dom writes a side's strings only with its average;
        # libvirt parses them at define time, before it looks at the interface's type.
        if written_by_nova and q.average is not None:
            for metric in ("average", "peak", "burst"):
                _lint_verbatim(f"quota:vif_{d.value}_{metric}", q.verbatim, metric,
                               getattr(q, metric), d, out)
        _lint_vif_direction(q, d, shaped, out)


def _lint_vif_direction(
    q: VifQuota, d: Direction, types: list[VifType], out: list[Finding]
) -> None:
    prefix = f"quota:vif_{d.value}_"
    if q.average is None:
        if q.peak is not None or q.burst is not None:
            key, value = (("peak", q.peak) if q.peak is not None else ("burst", q.burst))
            out.append(_warning(
                "vif-peak-burst-without-average", prefix + key, value,
                f"Nova writes <{d.value}> only with an average, so {prefix}{key}={value} is "
                f"silently dropped and no {d.value} limit is applied.",
                f"Add {prefix}average, or remove {prefix}{key}."))
        return
    if not types:
        return
    avg = q.average
    police = [t for t in types if _policed(t, d)]
    htb = [t for t in types if not _policed(t, d)]
    # libvirt's OVS-port path writes ovsdb, not tc; the avg-0 tc behaviours do not apply there.
    tc_police = [t for t in police if not t.libvirt_uses_ovsdb]
    tc_htb = [t for t in htb if not t.libvirt_uses_ovsdb]
    if avg == 0:
        if tc_police:
            burst = q.burst or 0
            out.append(_error(
                "vif-average-zero-drops-all", prefix + "average", 0,
                f"On {_names(tc_police)} ports libvirt installs 'police rate 0kbps burst "
                f"{burst}kb mtu 64kb drop' (it does not test average != 0 for the policed "
                f"side): every packet {d.arrow} is dropped.",
                f"Remove {prefix}average (absent = no limit) or set a real rate."))
        if tc_htb:
            out.append(_warning(
                "vif-average-zero-not-applied", prefix + "average", 0,
                f"On {_names(tc_htb)} ports libvirt skips the HTB setup when average is 0, so "
                f"no {d.value} limit is applied, and the device loses its noqueue root qdisc "
                f"to the kernel default (pfifo_fast).",
                f"Remove {prefix}average, or set the rate you want in kB/s."))
        return
    rate = kbytes_per_sec_to_bits(avg)
    if police and q.peak:
        out.append(_warning(
            "vif-peak-ignored-by-policer", prefix + "peak", q.peak,
            f"On {_names(police)} ports VM {d.value} traffic is policed (tc ingress police / OVS "
            f"ingress_policing), which has no peak: peak={q.peak} kB/s "
            f"({format_bits_per_sec(kbytes_per_sec_to_bits(q.peak))}) is ignored and the "
            f"limit is average={avg} kB/s ({format_bits_per_sec(rate)}).",
            f"Remove {prefix}peak; size {prefix}burst for the bursts you want to allow."))
    # [derived] from sch_htb.c: htb_change_class() rejects only zero rates, and a class never
    # dequeues past its ceil bucket; libvirt passes "ceil <peak>kbps" as given.
    if tc_htb and q.peak and q.peak < avg:
        out.append(_warning(
            "vif-peak-below-average", prefix + "peak", q.peak,
            f"peak={q.peak} kB/s is below average={avg} kB/s: HTB gets ceil < rate, which the "
            f"kernel accepts (sch_htb only rejects zero rates) and never lets the class exceed "
            f"ceil, so the effective limit is the peak "
            f"{format_bits_per_sec(kbytes_per_sec_to_bits(q.peak))}, not the average.",
            f"Set {prefix}peak at or above {prefix}average, or drop it."))
    _lint_vif_burst(q, avg, d, (police, htb), out)


def _lint_vif_burst(
    q: VifQuota, avg: KBytesPerSec, d: Direction, types: tuple[list[VifType], list[VifType]],
    out: list[Finding],
) -> None:
    police, htb = types
    prefix = f"quota:vif_{d.value}_"
    per_second = kbytes_per_sec_to_bytes(avg)
    tc_police = [t for t in police if not t.libvirt_uses_ovsdb]
    if not q.burst:
        # burst 0 or absent: libvirt omits it (HTB keeps tc's ~1 frame minimum); the tc
        # policer instead gets min(average, 4194303) KiB (virnetdevbandwidth.c).
        if tc_police:
            default = police_burst(BandwidthSide(average=avg))
            size = kib_to_bytes(default)
            out.append(_info(
                "vif-police-default-burst", prefix + "average", avg,
                f"Without {prefix}burst libvirt gives the {d.value} policer on "
                f"{_names(tc_police)} ports burst = min(average, 4194303) = {default} KiB "
                f"({format_bytes(size)}), {size / per_second:.3g} s at the average rate: "
                f"bursts that size pass at line rate.",
                f"Set {prefix}burst explicitly (KiB) to the burst you intend to allow."))
        return
    size = kib_to_bytes(q.burst)
    if police and size < FRAME_BYTES:
        out.append(_error(
            "vif-police-burst-below-frame", prefix + "burst", q.burst,
            f"burst={q.burst} KiB ({size} B) is smaller than one {FRAME_BYTES}-byte frame: the "
            f"{d.value} policer on {_names(police)} ports drops every larger packet however "
            f"idle the link, so TCP collapses into retransmissions.",
            f"Set {prefix}burst to at least 64 KiB (it is in KiB, not bytes)."))
    # [derived] from act_police.c tcf_police_act(): a packet needing more tokens than the
    # burst holds is "exceed" (dropped) even on an idle link; GSO packets reach 64 KiB.
    elif police and size < POLICE_MTU:
        out.append(_warning(
            "vif-police-burst-below-gso", prefix + "burst", q.burst,
            f"burst={q.burst} KiB is below 64 KiB: a guest with TSO/GSO hands the tap packets up "
            f"to 64 KiB (libvirt's police admits them with 'mtu 64kb') and a policer drops any "
            f"packet larger than its burst, so bulk TCP throughput collapses.",
            f"Set {prefix}burst to at least 64 KiB."))
    if htb and size < FRAME_BYTES:
        out.append(_warning(
            "vif-htb-burst-below-frame", prefix + "burst", q.burst,
            f"burst={q.burst} KiB ({size} B) is smaller than one {FRAME_BYTES}-byte frame: "
            f"the {d.value} HTB class on {_names(htb)} ports goes into deficit on every "
            f"full-size frame and can never burst; this is most often a bytes/KiB mix-up.",
            f"Set {prefix}burst in KiB (e.g. 64 or more), or remove it."))
    if size <= per_second:
        return
    # A policer passes the burst at line rate. [derived] from sch_htb.c htb_class_mode() /
    # htb_activate_prios(): libvirt's class 1:1 is a root class that cannot borrow, and its
    # ceil (= rate unless peak is set) keeps cburst ~1 frame (iproute2 tc/q_htb.c), so a big
    # burst only lets it run at the peak until used up; without a peak above average it
    # changes nothing.
    if police:
        top = "line rate"
    elif q.peak and q.peak > avg:
        top = f"the peak {format_bits_per_sec(kbytes_per_sec_to_bits(q.peak))}"
    else:
        return
    out.append(_warning(
        "vif-burst-over-one-second", prefix + "burst", q.burst,
        f"burst={q.burst} KiB ({format_bytes(size)}) is {size / per_second:.3g} s of traffic "
        f"at average={avg} kB/s ({format_bits_per_sec(kbytes_per_sec_to_bits(avg))}): "
        f"transfers of up to about {format_bytes(size)} {d.arrow} run at {top}, so short "
        f"transfers are effectively unlimited.",
        f"Lower {prefix}burst to a fraction of a second at the average rate "
        f"(e.g. {max(1, avg // 10)} KiB ≈ 100 ms)."))


# --- the strings Nova writes verbatim --------------------------------------------------------


def _lint_verbatim(key: str, verbatim: Verbatim, name: str, number: int | None,
                   side: Direction | None, out: list[Finding], *, only_if: str = "") -> None:
    """``key``'s string, if Nova's XML cannot carry it to libvirt: lxml refuses to serialise
    it, or libvirt's number parser refuses it at define (in ``<bandwidth><side>`` or, for
    ``side=None``, in ``<iotune>``). A plain decimal is judged too: past 2^64-1 it is
    refused as well."""
    if number is None:
        return
    text = verbatim.text(name, number)
    if lxml_refuses(text):
        error = f"ValueError: {LXML_INCOMPATIBLE}"
        how = ("its libvirt driver hands the string unconverted to lxml, which refuses the "
               "vertical tab or form feed while building the domain XML")
    elif parse_ullp(text) is None:
        if side is not None:
            error = CONFIG_UNSUPPORTED + bandwidth_number_error(name, text)
            written = f'{name}="{text}" in <bandwidth><{side.value}>'
        else:
            error = XML_ERROR + iotune_number_error(name)
            written = f"<{name}>{text}</{name}> in <iotune>"
        how = (f"its libvirt driver writes the string unconverted ({written}) and libvirt's "
               f"virStrToLong_ullp takes nothing but ASCII digits after optional leading "
               f"whitespace and '+', up to {ULLONG_MAX}")
    else:
        return
    plain = (f"the plain decimal {number}" if 0 <= number <= ULLONG_MAX
             else f"a plain decimal of at most {ULLONG_MAX}")
    out.append(_error(
        "verbatim-number-refused", key, text,
        f"Nova stores this; the instance will fail to spawn{only_if} with \"{error}\": "
        f"Nova's API reads {text!r} as {number} (Python int()), but {how}.",
        f"Set {key} to {plain} (digits only: no spaces, sign, '_' or non-ASCII digits)."))


# --- disk -----------------------------------------------------------------------------------


def _lint_disk(
    quota: FlavorQuota, boot_from_volume: bool, has_volumes: bool, out: list[Finding]
) -> None:
    items = quota.disk.items()
    if not items:
        return
    # Image.disk_qos copies the strings onto every image-backed local disk; a volume-booted
    # instance has one only with ephemeral, swap or a config drive.
    only_if = (" (if it has an ephemeral, swap or config-drive disk)" if boot_from_volume
               else "")
    for name, value in items:
        _lint_verbatim(f"quota:disk_{name}", quota.disk.verbatim, name, value, None, out,
                       only_if=only_if)
    key0, value0 = f"quota:disk_{items[0][0]}", items[0][1]
    if boot_from_volume:
        out.append(_warning(
            "disk-quota-not-on-boot-volume", key0, value0,
            "The root disk is a Cinder volume: flavor quota:disk_* reach only image-backed "
            "local disks (ephemeral, swap, config drive), never a volume (Nova Image.disk_qos).",
            "Throttle the volume with a Cinder front-end QoS spec on its volume type."))
    if has_volumes:
        out.append(_info(
            "disk-quota-not-on-volumes", key0, value0,
            "The attached Cinder volumes are not throttled by flavor quota:disk_*; only their "
            "volume type's front-end QoS (total_bytes_sec, ...) applies to them.",
            "Give the volume types a front-end QoS spec if the volumes must be throttled too."))
    for name, value in items:
        if value == 0:
            out.append(_info(
                "disk-quota-zero", f"quota:disk_{name}", 0,
                "0 means 'no limit' to libvirt and QEMU, so this key throttles nothing.",
                f"Remove quota:disk_{name} or give it a real limit."))
    # A value past 2^64-1 never reaches QEMU's checks: libvirt's parse refuses it first.
    values = {name: value for name, value in items if value <= ULLONG_MAX}
    for problem in iotune_problems(values):
        key = f"quota:disk_{problem.key}"
        if problem.code == "iotune-total-and-read-write":
            family = problem.key.removeprefix("total_")
            others = ", ".join(f"{s}_{family}={values[f'{s}_{family}']}"
                               for s in ("read", "write") if values.get(f"{s}_{family}"))
            reason = (f"{key}={problem.value} together with {others}: libvirt refuses the "
                      f"domain at define: \"{problem.libvirt_text}\".")
            advice = f"Use either quota:disk_total_{family} or the read/write pair, not both."
        else:
            reason = (f"{key}={problem.value} exceeds QEMU's limit: libvirt refuses the domain: "
                      f"\"{problem.libvirt_text}\".")
            advice = f"Set {key} to 1000000000000000 or less."
        out.append(_error("disk-" + problem.code, key, problem.value, reason, advice))
