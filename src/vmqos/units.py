"""Units of measure, as types, and every conversion between them.

OpenStack, libvirt, tc and OVS each use different units for the same quantity, and the
confusion between them is the most common QoS mistake:

==========================  ===================  ==========================================
quantity                    type here            used by
==========================  ===================  ==========================================
kilobytes/s (1000 B/s)      ``KBytesPerSec``     libvirt ``average``/``peak``, tc ``kbps``,
                                                 Nova ``quota:vif_*_average``/``_peak``
kibibytes (1024 B)          ``KiB``              libvirt ``burst``, tc ``kb``,
                                                 Nova ``quota:vif_*_burst``
kilobits/s (1000 bit/s)     ``KbitPerSec``       Neutron ``max_kbps``/``min_kbps``, OVS
                                                 ``ingress_policing_rate``, OVN ``rate``
kilobits (1000 bit)         ``Kbit``             Neutron ``max_burst_kbps``, OVN ``burst``,
                                                 OVS ``ingress_policing_burst``
bits/s, bits                ``BitsPerSec``,      OVS Queue/QoS ``other_config``, OVN LSP
                            ``Bits``             ``qos_max_rate``/``qos_burst``
bytes/s, bytes              ``BytesPerSec``,     the kernel (``tc_ratespec.rate``, buffers)
                            ``Bytes``
megabits/s (10^6 bit/s)     ``MbitPerSec``       SR-IOV ``max_tx_rate``/``min_tx_rate``
kilopackets/s (1000 pkt/s)  ``Kpps``             Neutron ``max_kpps``/``min_kpps``
packets/s                   ``Pps``              OpenFlow meter ``pktps`` bands
I/O operations/s            ``Iops``             Nova ``quota:disk_*_iops_sec``, QEMU
==========================  ===================  ==========================================

Time has two units: ``Microseconds`` (the CFS period and quota in Nova's
``quota:cpu_period``/``quota:cpu_quota``, libvirt's ``<period>``/``<quota>``, cgroup v1
``cpu.cfs_period_us``/``cpu.cfs_quota_us`` and v2 ``cpu.max``) and ``Ticks`` of the packet
scheduler's clock (``/proc/net/psched``; tc stores HTB and police bursts as the ticks they
last at their rate, :mod:`vmqos.plan.kernel.psched`); ``Seconds`` are whole (a QEMU
``*_max_length``) and a ``Duration`` is fractional seconds (a predicted burst window or transfer
time, :mod:`vmqos.plan.predict`).

The types are ``NewType`` over ``int`` so that mypy keeps them apart at no run-time cost (the
explain path handles hundreds of thousands of ports per second). Every conversion between them
lives in this module and nowhere else.
"""

from __future__ import annotations

from typing import NewType

KBytesPerSec = NewType("KBytesPerSec", int)
KiB = NewType("KiB", int)
KbitPerSec = NewType("KbitPerSec", int)
Kbit = NewType("Kbit", int)
BitsPerSec = NewType("BitsPerSec", int)
Bits = NewType("Bits", int)
BytesPerSec = NewType("BytesPerSec", int)
Bytes = NewType("Bytes", int)
MbitPerSec = NewType("MbitPerSec", int)
Kpps = NewType("Kpps", int)
Pps = NewType("Pps", int)
Iops = NewType("Iops", int)

# --- time: CFS periods and quotas, packet-scheduler ticks ----------------------------------

Microseconds = NewType("Microseconds", int)
Ticks = NewType("Ticks", int)
Seconds = NewType("Seconds", int)      # how long a QEMU ``*_max`` burst may last
Duration = NewType("Duration", float)  # a predicted or measured length of time, in seconds

# --- to the common units used by explain: bits/s for rates, bytes for bursts -------------


def kbytes_per_sec_to_bits(rate: KBytesPerSec) -> BitsPerSec:
    """libvirt ``average`` 32768 (kB/s) -> 262 144 000 bit/s."""
    return BitsPerSec(rate * 8000)


def kbytes_per_sec_to_bytes(rate: KBytesPerSec) -> BytesPerSec:
    """tc ``32768kbps`` -> 32 768 000 B/s (tc's ``kbps`` is kilo*bytes*)."""
    return BytesPerSec(rate * 1000)


def kib_to_bytes(size: KiB) -> Bytes:
    """libvirt ``burst`` / tc ``kb``: 131072 KiB -> 134 217 728 B."""
    return Bytes(size * 1024)


def kbit_per_sec_to_bits(rate: KbitPerSec) -> BitsPerSec:
    """Neutron ``max_kbps`` 3000 -> 3 000 000 bit/s (SI kilo)."""
    return BitsPerSec(rate * 1000)


def kbit_to_bits(size: Kbit) -> Bits:
    """Neutron ``max_burst_kbps`` 300 -> 300 000 bits (SI kilo)."""
    return Bits(size * 1000)


def kbit_to_bytes(size: Kbit) -> Bytes:
    """Neutron ``max_burst_kbps`` 300 -> 37 500 B (SI kilo, truncated to whole bytes)."""
    return Bytes(size * 1000 // 8)


def ovs_policing_burst_to_bytes(size: Kbit) -> Bytes:
    """OVS ``ingress_policing_burst`` in the kernel policer: OVS's netdev-linux treats one
    kilobit of burst as 1024 bits, so 300 -> 38 400 B (observed ``burst 38400b``)."""
    return Bytes(size * 1024 // 8)


def bits_to_bytes(size: Bits) -> Bytes:
    return Bytes(size // 8)


def bits_per_sec_to_bytes(rate: BitsPerSec) -> BytesPerSec:
    return BytesPerSec(rate // 8)


def bytes_per_sec_to_bits(rate: BytesPerSec) -> BitsPerSec:
    """A kernel rate (``tc_ratespec.rate``) in bit/s: 375 000 B/s -> 3 000 000 bit/s."""
    return BitsPerSec(rate * 8)


def mbit_per_sec_to_bits(rate: MbitPerSec) -> BitsPerSec:
    return BitsPerSec(rate * 1_000_000)


def mib_to_kib(size: int) -> KiB:
    """A flavor's ``ram`` (MiB) -> libvirt ``<memory unit='KiB'>``."""
    return KiB(size * 1024)


def kpps_to_pps(rate: Kpps) -> Pps:
    return Pps(rate * 1000)


# --- between libvirt's and OVS's own units (libvirt's OVS-port path) ----------------------


def kbytes_per_sec_to_kbit(rate: KBytesPerSec) -> KbitPerSec:
    """libvirt ``average`` -> OVS ``ingress_policing_rate`` (``average*8``)."""
    return KbitPerSec(rate * 8)


def kib_to_ovs_policing_kbit(size: KiB) -> Kbit:
    """libvirt ``burst`` -> OVS ``ingress_policing_burst`` (``burst*8``, as libvirt writes it)."""
    return Kbit(size * 8)


def kib_to_bits(size: KiB) -> Bits:
    """libvirt ``burst`` -> OVS queue ``other_config:burst`` (``burst*8192``)."""
    return Bits(size * 8192)


# --- human formatting for explain output ---------------------------------------------------

_RATE_UNITS = ((1_000_000_000_000, "Tbit/s"), (1_000_000_000, "Gbit/s"), (1_000_000, "Mbit/s"),
               (1_000, "kbit/s"))
_SIZE_UNITS = ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"))


def _trim(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def format_bits_per_sec(rate: BitsPerSec | int) -> str:
    """262144000 -> ``262.144 Mbit/s``; 0 -> ``0 bit/s``."""
    for factor, name in _RATE_UNITS:
        if rate >= factor:
            return f"{_trim(rate / factor)} {name}"
    return f"{rate} bit/s"


def format_bytes(size: Bytes | int) -> str:
    """134217728 -> ``128 MiB``; 1564 -> ``1.527 KiB``; 800 -> ``800 B``."""
    for factor, name in _SIZE_UNITS:
        if size >= factor:
            return f"{_trim(size / factor)} {name}"
    return f"{size} B"


# --- the Neutron agents' own conversions (plan/neutron) -----------------------------------
# Each mirrors the upstream code named in its docstring, rounding included: the agents mix
# floats and integers, and the datapath enforces exactly what they computed.

# neutron-lib services/qos/constants.py DEFAULT_BURST_RATE: the egress burst, as a fraction
# of one second of the rate, when a rule gives none (bug 1572670).
NEUTRON_DEFAULT_BURST_RATE = 0.8


def neutron_egress_burst(max_kbps: KbitPerSec, max_burst_kbps: Kbit) -> Kbit | float:
    """The egress burst the OVS and Linux bridge agents police with: the rule's, or 80 % of
    the rate *as a float* (neutron/agent/linux/tc_lib.py
    TcCommand.get_ingress_qdisc_burst_value): 3000/300 -> 300, 3000/0 -> 2400.0."""
    if max_burst_kbps:
        return max_burst_kbps
    return float(max_kbps) * NEUTRON_DEFAULT_BURST_RATE


def ovs_egress_policing_burst(max_kbps: KbitPerSec, max_burst_kbps: Kbit) -> Kbit:
    """``ingress_policing_burst`` as the OVS agent writes it: :func:`neutron_egress_burst`
    truncated, since OVS takes only an integer (neutron/agent/linux/qos_linux.py
    QosLinuxAgentDriver._get_egress_burst_value, then ``int()`` in the OVS QoS driver):
    1001/0 -> 800."""
    return Kbit(int(neutron_egress_burst(max_kbps, max_burst_kbps)))


def neutron_kbit_to_bytes(size: Kbit | float) -> Bytes:
    """A burst in (possibly fractional) kilobits -> whole bytes, as the Linux bridge agent
    hands it to pyroute2 (neutron/agent/linux/tc_lib.py: ``int(kbit * 1000 / 8)``):
    2400.0 -> 300 000, 800.8 -> 100 100."""
    return Bytes(int(size * 1000 / 8))


def kbit_per_sec_to_bytes_per_sec(rate: KbitPerSec) -> BytesPerSec:
    """Neutron ``max_kbps`` 3000 -> 375 000 B/s, the kernel's rate: the Linux bridge agent's
    ``int(max_kbps * 1000 / 8)`` (neutron/agent/linux/tc_lib.py) and OVS's reading of a queue's
    bit/s ``max-rate`` (lib/netdev-linux.c htb_parse_class_details__, ``/ 8``) agree for
    every integer rate."""
    return bits_per_sec_to_bytes(kbit_per_sec_to_bits(rate))


def bytes_to_bits(size: Bytes) -> Bits:
    """An MTU of 1500 B -> 12 000 bits (OVN's meter-bucket check, bug 2153122)."""
    return Bits(size * 8)


def mbit_per_sec_to_kbit(rate: MbitPerSec) -> KbitPerSec:
    """SR-IOV ``max_tx_rate`` 3 -> 3000 kbit/s, to compare with the rule it came from."""
    return KbitPerSec(rate * 1000)


def kbit_per_sec_to_vf_rate(rate: KbitPerSec) -> MbitPerSec:
    """The SR-IOV agent's VF rate: 0 -> 0 (disable), 0 < k < 1000 -> 1, else k/1000 rounded
    half up (neutron/plugins/ml2/drivers/mech_sriov/agent/eswitch_manager.py
    EmbSwitch.set_device_rate with neutron-lib ``helpers.round_val``:
    ``Decimal.quantize(ROUND_HALF_UP)``): 2500 -> 3.

    For a non-negative integer k, ``ROUND_HALF_UP(k / 1000)`` is exactly ``(k + 500) // 1000``;
    integer arithmetic gives the same result without Decimal's cost on the explain hot path
    (the equivalence is property-tested against the Decimal form).
    """
    if 0 < rate < 1000:
        return MbitPerSec(1)
    return MbitPerSec((rate + 500) // 1000)


def kbit_per_sec_to_vf_rate_hwol(rate: KbitPerSec) -> MbitPerSec:
    """The OVN agent's hardware-offload VF rate: like :func:`kbit_per_sec_to_vf_rate` but
    truncating (neutron/agent/ovn/extensions/qos_hwol.py ``_kbps_2_mbps``:
    ``int(kbps / 1000.0)``): 2500 -> 2, where the SR-IOV agent gives 3."""
    if 0 < rate < 1000:
        return MbitPerSec(1)
    return MbitPerSec(rate // 1000)


def kbit_per_tick(rate: KbitPerSec, kernel_hz: int) -> float:
    """What ``rate`` sends in one kernel tick, the smallest TBF burst that can reach the rate
    (neutron/agent/linux/tc_lib.py _get_tbf_burst_value, ``float(max_kbps) /
    float(kernel_hz)``): 3000 kbit/s at HZ 250 -> 12.0 kbit."""
    return float(rate) / float(kernel_hz)


def ms_to_microseconds(duration: int) -> Microseconds:
    """The Linux bridge agent's TBF ``latency_ms`` 50 -> 50 000 µs, the ``latency`` pyroute2
    takes (neutron/agent/linux/tc_lib.py add_tc_qdisc, ``latency_ms * 1000``)."""
    return Microseconds(duration * 1000)


def microseconds_to_ms(duration: Microseconds) -> int:
    """50 000 µs -> 50 ms (whole milliseconds, truncated), for ``tbf latency 50ms``."""
    return duration // 1000
