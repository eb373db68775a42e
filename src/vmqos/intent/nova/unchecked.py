"""What Nova's libvirt driver does with a ``quota:*`` extra spec its API stored unchecked.

Nova validates flavor extra specs only from microversion 2.86 on
(:mod:`vmqos.intent.nova.extra_specs`); below it any string is stored, and the clients most
clouds are driven with ask for less (openstacksdk's flavor resource for one). So real clouds
hold flavors with values 2.86 would refuse, and instances embedding them. This module says,
per such spec, what the libvirt driver does with it when it builds the guest (Nova master
00a030403f67, read in source):

* a key it never reads is **ignored**: ``_update_guest_cputune`` (nova/virt/libvirt/driver.py)
  reads ``quota:cpu_{shares,period,quota}``, ``Image.disk_qos``
  (nova/virt/libvirt/imagebackend.py) the six ``quota:disk_*_sec`` keys, and
  ``set_vif_bandwidth_config`` (nova/virt/libvirt/designer.py) the six ``quota:vif_*`` keys;
  every other ``quota:`` key, the VMware-only ones among them, is never looked at;
* a CPU value is ``int()``-ed by ``_update_guest_cputune``: a value that is not an integer
  raises while the guest config is built, so **the boot fails**; a negative ``shares`` or
  ``period`` passes ``int()`` and libvirt refuses the ``<cputune>`` value, which it reads as
  an unsigned integer (virXPathULongLong);
* disk and VIF values are copied as strings into ``<iotune>`` and ``<bandwidth>``
  (``LibvirtConfigGuestDisk._format_iotune``, ``LibvirtConfigGuestInterface.format_dom``
  in nova/virt/libvirt/config.py), and libvirt refuses a value that is not an unsigned
  integer when the domain is defined (virXPathULongLong; virNetDevBandwidthParseRate):
  **the boot fails** — unless the value never reaches the XML: ``format_dom`` writes
  ``<bandwidth>`` only when either direction's ``average`` is a non-empty string, and a
  ``peak`` or ``burst`` only inside a direction that has an ``average``.

Invariants: :func:`unchecked_specs` takes the specs exactly as stored, returns one
:class:`UncheckedSpec` per spec :func:`~vmqos.intent.nova.extra_specs.validate_extra_spec`
refuses (in sorted key order, as Nova validates), and nothing for specs 2.86 accepts. The
specs a driver acts on after it has set the ignored ones aside are :func:`libvirt_reads`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from vmqos.errors import ValidationError
from vmqos.intent.nova.extra_specs import QUOTA_SPECS, validate_extra_spec

__all__ = ["Fate", "UncheckedSpec", "libvirt_reads", "unchecked_specs"]


class Fate(Enum):
    """What becomes of an instance booted with the spec."""

    IGNORED = "ignored"          # the driver never writes it: the instance boots without it
    BOOT_FAILS = "boot-fails"    # the driver or libvirt raises: the instance goes to ERROR


@dataclass(frozen=True, slots=True)
class UncheckedSpec:
    """One stored spec that Nova's API at microversion >= 2.86 refuses."""

    key: str
    value: str
    refusal: str     # Nova's 2.86 message, verbatim
    allowed: str     # what 2.86 accepts for the key
    fate: Fate
    reason: str      # what the libvirt driver does with it, citing where


_CPUTUNE = "nova/virt/libvirt/driver.py _update_guest_cputune"
_IOTUNE = ("nova/virt/libvirt/imagebackend.py Image.disk_qos copies the string into the "
           "image disk's <iotune>")
_BANDWIDTH = ("nova/virt/libvirt/designer.py set_vif_bandwidth_config copies the string into "
              "the interface's <bandwidth> (every VIF but vhost-user and SR-IOV hostdev, "
              "nova/virt/libvirt/vif.py _get_config_os_vif)")
_REFUSED = (" and libvirt refuses to define a domain whose value is not an unsigned integer, "
            "so the instance fails to boot and goes to ERROR")


def _fate(key: str, value: str, specs: Mapping[str, str]) -> tuple[Fate, str]:
    spec = QUOTA_SPECS.get(key)
    if spec is None:
        return Fate.IGNORED, ("Nova's libvirt driver reads only the quota:* keys it knows "
                              f"({_CPUTUNE}, imagebackend.py Image.disk_qos, designer.py "
                              "set_vif_bandwidth_config), so it ignores this one: the "
                              "instance boots without it")
    if not spec.libvirt:
        return Fate.IGNORED, ("only the VMware driver reads this key; Nova's libvirt driver "
                              "ignores it, so the instance boots without it")
    family = key.removeprefix("quota:").split("_")[0]
    if family == "cpu":
        try:
            int(value)
        except ValueError:
            return Fate.BOOT_FAILS, (f"{_CPUTUNE} int()s the value while it builds the "
                                     "guest's <cputune> and raises ValueError, so the "
                                     "instance fails to boot and goes to ERROR")
        return Fate.BOOT_FAILS, (f"{_CPUTUNE} writes it into <cputune>, and libvirt reads "
                                 "<shares> and <period> as unsigned integers: it refuses to "
                                 "define the domain, so the instance fails to boot and goes "
                                 "to ERROR")
    if family == "disk":
        return Fate.BOOT_FAILS, (_IOTUNE + _REFUSED
                                 + " (an instance booted from a volume never gets the flavor's "
                                   "disk quotas)")
    _, direction, metric = key.removeprefix("quota:").split("_")
    averages = (specs.get("quota:vif_inbound_average"), specs.get("quota:vif_outbound_average"))
    if not any(averages):
        return Fate.IGNORED, ("nova/virt/libvirt/config.py LibvirtConfigGuestInterface writes "
                              "<bandwidth> only when an inbound or outbound average is set, "
                              "so the value never reaches libvirt: the instance boots "
                              "without it")
    if metric != "average" and f"quota:vif_{direction}_average" not in specs:
        return Fate.IGNORED, (f"nova/virt/libvirt/config.py LibvirtConfigGuestInterface writes "
                              f"{metric} only inside an <{direction}> that has an average, so "
                              "the value never reaches libvirt: the instance boots without it")
    return Fate.BOOT_FAILS, _BANDWIDTH + _REFUSED


def unchecked_specs(specs: Mapping[str, str]) -> tuple[UncheckedSpec, ...]:
    """Every ``quota:*`` spec of ``specs`` Nova's API at >= 2.86 refuses, with what the libvirt
    driver does with it, in Nova's validation order (sorted keys). Other namespaces (``hw:``,
    ``trait:`` ...) are not vmqos's to explain: what Nova does with a bad ``hw:cpu_policy``
    (its API refuses the server create, nova/compute/api.py
    ``_validate_flavor_image_numa_pci``) does not change a QoS limit."""
    found: list[UncheckedSpec] = []
    for key in sorted(k for k in specs if k.startswith("quota:")):
        value = specs[key]
        try:
            validate_extra_spec(key, value)
        except ValidationError as exc:
            fate, reason = _fate(key, value, specs)
            found.append(UncheckedSpec(key=key, value=value, refusal=exc.message,
                                       allowed=exc.allowed or "", fate=fate, reason=reason))
    return tuple(found)


def libvirt_reads(specs: Mapping[str, str],
                  unchecked: tuple[UncheckedSpec, ...]) -> dict[str, str] | None:
    """The specs the libvirt driver acts on: ``specs`` without the ignored ones, or ``None``
    when one of ``unchecked`` makes the boot fail (there is no instance to explain)."""
    if any(u.fate is Fate.BOOT_FAILS for u in unchecked):
        return None
    ignored = {u.key for u in unchecked}
    return {k: v for k, v in specs.items() if k not in ignored}
