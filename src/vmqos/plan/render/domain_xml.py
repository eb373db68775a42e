"""libvirt domain XML for a :class:`DomainSpec`, rendered in Nova's form or libvirt's.

Two forms of one domain (:class:`~vmqos.libvirt_types.XmlForm`):

* ``nova`` — what Nova's config objects (nova/virt/libvirt/config.py) serialise with lxml and
  pass to ``virDomainDefineXML``: double-quoted attributes, Nova's element order (``<interface>``:
  mac, model, source, mtu, target, virtualport, ``<bandwidth>`` last; ``<cputune>``: shares,
  quota, period; ``<iotune>``: the 13 keys of ``LibvirtConfigGuestDisk._format_iotune``), and
  every value that is set is written, ``0`` included. ``<bandwidth>`` and ``<iotune>`` values
  are written as the flavor's strings (their :class:`~vmqos.libvirt_types.Verbatim`): Nova
  copies those extra specs unconverted, so ``quota:vif_inbound_average=007`` is
  ``average="007"``; ``<cputune>`` has ``int()``'s numbers. A string lxml cannot serialise
  (the ``\v`` and ``\f`` ``int()`` strips) is Nova failing to build the XML at all:
  :class:`~vmqos.errors.ValidationError` with lxml's message (:func:`lxml_refuses`).
* ``libvirt`` — what ``virsh dumpxml`` prints for the domain: single quotes, two-space indent,
  libvirt's order (``<interface>``: mac, source, virtualport, bandwidth, target, model, mtu,
  alias, address; ``<cputune>``: shares, period, quota; ``<iotune>``: total/read/write bytes,
  then iops, then ``_max``, size, group, ``_max_length``) and libvirt's omissions: a zero
  period, quota, iotune value or bandwidth ``average``/``peak``/``burst`` is not printed
  (``virNetDevBandwidthRateFormat``), so ``average='0'`` leaves an empty ``<bandwidth>``.
  A spec with ``domain_id`` is a running domain: ``id=``, aliases, the backing chain, pty
  paths and dynamic security labels appear. PCI addresses follow libvirt's i440fx
  auto-assignment (slot 1 PIIX3/USB, 2 video, then NICs, virtio disks, balloon). Values are
  the numbers libvirt parses from Nova's strings (``007`` is stored as ``7``); a string libvirt
  refuses (``12 ``, ``1_000``) has no libvirt form — the domain is never defined — and is
  reported by :func:`vmqos.plan.explain.lint.lint_flavor_quota`, not here.

Shape: each element has one function, shared by both forms; what differs between the forms
(quoting and escaping, which values are printed, the order of children, how an element without
children looks) is a :class:`_Form` strategy the function asks. The two strategies are
:data:`_FORMS`, at the end of the module; the documents themselves differ too much in their
scaffolding to share one function and are one function per form.

Invariants: rendering is string building (lists of lines, one join; no ElementTree) with every
text and attribute value escaped; the non-QoS scaffolding (sysinfo, cpu, clock, console,
graphics ...) follows the seed's Nova Pike / RHEL 7 domain, with host facts from
:class:`HostDetails`. Parsing is in :mod:`vmqos.plan.render.domain_xml_parse`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vmqos.errors import ValidationError
from vmqos.libvirt_types import (
    IOTUNE_BASE_KEYS,
    IOTUNE_LENGTH_KEYS,
    IOTUNE_LIMITS,
    Bandwidth,
    CpuTune,
    DiskDevice,
    DomainSpec,
    InterfaceDevice,
    IoTune,
    NovaMetadata,
    Verbatim,
    XmlForm,
)
from vmqos.model import VifType
from vmqos.plan.render.xml_chars import LXML_INCOMPATIBLE, lxml_refuses

__all__ = [
    "NOVA_NS",
    "HostDetails",
    "render_bandwidth",
    "render_cputune",
    "render_disk",
    "render_domain_xml",
    "render_interface",
    "render_iotune",
]

NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.0"

# lxml/libxml2 escaping (Nova's form and the <metadata> libvirt re-serialises) and libvirt's
# virBufferEscapeString (escapes both quote characters, in text and attributes alike).
_LXML_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                            "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
_LXML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_LIBVIRT_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                              "'": "&apos;"})
# lxml's ValueError for a string with a character XML 1.0 cannot hold (lxml apihelpers.pxi
# _utf8 / _is_valid_xml_utf8), raised while Nova's config objects build the domain XML.
_HAS_TARGET = frozenset({"bridge", "ethernet", "vhostuser"})  # Nova sets target_dev for these
_HAS_MTU = frozenset({"bridge", "ethernet"})                  # format_dom writes <mtu> for these


@dataclass(frozen=True, slots=True)
class HostDetails:
    """Host and run-time facts a DomainSpec cannot carry; defaults are an upstream Nova host."""

    vendor: str = "OpenStack Foundation"        # nova.version.vendor_string() ("Red Hat" on OSP)
    product: str = "OpenStack Nova"             # product_string() ("OpenStack Compute" on OSP)
    sysinfo_serial: str | None = None           # None: the instance uuid (sysinfo_serial=unique)
    cpu_model: str | None = None                # None: mode host-model
    cpu_vendor: str | None = None
    cpu_features: tuple[str, ...] = ()          # libvirt's expansion of a custom model
    instances_path: str = "/var/lib/nova/instances"
    pty: str | None = None                      # /dev/pts/N of the serial console, once running
    vnc_listen: str = "127.0.0.1"
    vnc_port: int | None = None
    keymap: str | None = None                   # Pike wrote keymap='en-us'
    video_model: str = "cirrus"
    selinux_mcs: str | None = None              # "c93,c547"; None: no SELinux seclabel
    dac_label: str | None = None                # "+107:+107"; None: no DAC seclabel
    interface_mtu: bool = True                  # Nova writes <mtu> (needs libvirt >= 3.3)


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a device sits in the domain: its PCI slot (libvirt form only), whether the domain
    runs (aliases, the backing chain), whether Nova writes ``<mtu>``."""

    slot: int | None = None
    running: bool = False
    mtu: bool = True


# A child element of a device: (output, indent, device, its type attribute, place) -> lines
# appended to output.
_DiskChild = Callable[["_Out", str, DiskDevice, str, _Place], None]
_InterfaceChild = Callable[["_Out", str, InterfaceDevice, str, _Place], None]


@dataclass(frozen=True, slots=True)
class _Form:
    """What one form decides; the element functions write what it decides."""

    name: XmlForm
    quote: str
    attr_table: dict[int, str]
    text_table: dict[int, str]
    # Which set values are printed: Nova's config objects write every value that is not None;
    # libvirt's formatters skip zeros (virDomainCputuneDefFormat, virDomainDiskDefFormatIotune,
    # virNetDevBandwidthRateFormat).
    prints: Callable[[object], bool]
    # The text of a <bandwidth>/<iotune> value: Nova's string, or libvirt's number.
    spell: Callable[[Verbatim, str, object], str]
    cputune_children: tuple[str, ...]
    # lxml writes a <cputune> without children as <cputune/>; virXMLFormatElement omits it.
    empty_cputune: bool
    iotune_children: tuple[str, ...]
    # virNetDevBandwidthFormat writes <bandwidth> even with no side left; Nova writes none.
    empty_bandwidth: bool
    interface_children: tuple[_InterfaceChild, ...]
    vhostuser_source: tuple[str, ...]          # attribute order of <source type='unix'>
    # libvirt reports the macvtap device it created as <target dev>; Nova never sets one.
    macvtap_target: bool
    disk_children: tuple[_DiskChild, ...]
    document: Callable[[_Out, DomainSpec, HostDetails], None]


def _nova_text(verbatim: Verbatim, name: str, value: object) -> str:
    # str() of the extra spec as Nova copied it (LibvirtConfigObject._text_node, and the
    # str(...) attribute values of LibvirtConfigGuestInterface.format_dom).
    text = verbatim.text(name, value)
    if lxml_refuses(text):
        raise ValidationError(
            f"Nova cannot write this domain: lxml refuses {name}={text!r}: {LXML_INCOMPATIBLE}",
            key=name, value=text, allowed="a value without vertical tabs or form feeds")
    return text


def _libvirt_text(verbatim: Verbatim, name: str, value: object) -> str:
    # libvirt formats the number it parsed (%llu), whatever Nova's string looked like.
    return str(value)


def _form(form: XmlForm | str) -> _Form:
    try:
        return _FORMS[XmlForm(form)]
    except ValueError:
        raise ValidationError(f"unknown XML form {form!r}; choose one of: nova, libvirt",
                              key="form", value=form, allowed="nova, libvirt") from None


class _Out:
    """The lines of one rendering, in one form, with its indent step."""

    __slots__ = ("_attr_table", "_quote", "_text_table", "form", "lines", "step")

    def __init__(self, form: XmlForm | str, pretty: bool) -> None:
        self.form = _form(form)
        self.lines: list[str] = []
        self.step = "  " if pretty else ""
        # Copied out of the form: attr() runs for nearly every line.
        self._quote, self._attr_table = self.form.quote, self.form.attr_table
        self._text_table = self.form.text_table

    def attr(self, name: str, value: object) -> str:
        """`` name='value'`` (or double quotes), escaped as the form escapes attributes."""
        q = self._quote
        return f" {name}={q}{str(value).translate(self._attr_table)}{q}"

    def text(self, value: str) -> str:
        return value.translate(self._text_table)

    def fragment(self, level: int | None) -> str:
        return "\n".join(self.lines) if level is not None else "".join(self.lines)


def _pad(level: int | None) -> str:
    return "  " * (level or 0)


# --- QoS fragments -----------------------------------------------------------------------------


def _cputune(out: _Out, pad: str, tune: CpuTune) -> None:
    form = out.form
    values = {"shares": tune.shares, "quota": tune.quota, "period": tune.period}
    # Both forms write shares whenever it is set, 0 included (libvirt: sharesSpecified).
    items = [(k, v) for k in form.cputune_children if (v := values[k]) is not None
             and (k == "shares" or form.prints(v))]
    if not items:
        if form.empty_cputune:
            out.lines.append(f"{pad}<cputune/>")
        return
    inner = pad + out.step
    out.lines.append(f"{pad}<cputune>")
    out.lines.extend(f"{inner}<{k}>{v}</{k}>" for k, v in items)
    out.lines.append(f"{pad}</cputune>")


def _iotune(out: _Out, pad: str, tune: IoTune) -> None:
    form, inner = out.form, pad + out.step
    lines = [f"{inner}<{k}>{out.text(form.spell(tune.verbatim, k, v))}</{k}>"
             for k in form.iotune_children if form.prints(v := getattr(tune, k))]
    if lines:
        out.lines.append(f"{pad}<iotune>")
        out.lines.extend(lines)
        out.lines.append(f"{pad}</iotune>")


def _bandwidth(out: _Out, pad: str, bw: Bandwidth) -> None:
    form, attr, inner = out.form, out.attr, pad + out.step
    lines = []
    for name, side in (("inbound", bw.inbound), ("outbound", bw.outbound)):
        if side is None or not form.prints(side.average):
            continue
        spell, verbatim = form.spell, side.verbatim
        text = f"{inner}<{name}{attr('average', spell(verbatim, 'average', side.average))}"
        if form.prints(side.peak):
            text += attr("peak", spell(verbatim, "peak", side.peak))
        if form.prints(side.burst):
            text += attr("burst", spell(verbatim, "burst", side.burst))
        lines.append(text + "/>")
    if not lines and not form.empty_bandwidth:
        return
    out.lines.append(f"{pad}<bandwidth>")
    out.lines.extend(lines)
    out.lines.append(f"{pad}</bandwidth>")


def render_cputune(tune: CpuTune, *, form: XmlForm | str = XmlForm.NOVA,
                   level: int | None = None) -> str:
    """``<cputune>``; ``level=None`` gives one line, an int that many two-space indents."""
    out = _Out(form, level is not None)
    _cputune(out, _pad(level), tune)
    return out.fragment(level)


def render_iotune(tune: IoTune, *, form: XmlForm | str = XmlForm.NOVA,
                  level: int | None = None) -> str:
    out = _Out(form, level is not None)
    _iotune(out, _pad(level), tune)
    return out.fragment(level)


def render_bandwidth(bw: Bandwidth, *, form: XmlForm | str = XmlForm.NOVA,
                     level: int | None = None) -> str:
    out = _Out(form, level is not None)
    _bandwidth(out, _pad(level), bw)
    return out.fragment(level)


# --- children shared by devices ----------------------------------------------------------------


def _pci(out: _Out, pad: str, slot: int, function: int = 0) -> None:
    attr = out.attr
    out.lines.append(f"{pad}<address{attr('type', 'pci')}{attr('domain', '0x0000')}"
                     f"{attr('bus', '0x00')}{attr('slot', f'0x{slot:02x}')}"
                     f"{attr('function', f'0x{function:x}')}/>")


def _address(out: _Out, pad: str, device: DiskDevice | InterfaceDevice, kind: str,
             place: _Place) -> None:
    if place.slot is not None:
        _pci(out, pad, place.slot)


def _alias(out: _Out, pad: str, device: DiskDevice | InterfaceDevice, kind: str,
           place: _Place) -> None:
    if place.running:
        out.lines.append(f"{pad}<alias{out.attr('name', device.alias)}/>")


# --- <interface> -------------------------------------------------------------------------------


def _vf_address(out: _Out, pad: str, address: str) -> None:
    try:
        domain, bus, rest = address.split(":")
        slot, function = rest.split(".")
    except ValueError:
        raise ValidationError(f"VF PCI address {address!r} is not DDDD:BB:SS.F", key="source",
                              value=address, allowed="a PCI address like 0000:0a:00.1") from None
    attr = out.attr
    out.lines.append(f"{pad}<address{attr('type', 'pci')}{attr('domain', '0x' + domain)}"
                     f"{attr('bus', '0x' + bus)}{attr('slot', '0x' + slot)}"
                     f"{attr('function', '0x' + function)}/>")


def _mac(out: _Out, pad: str, iface: InterfaceDevice, kind: str, place: _Place) -> None:
    out.lines.append(f"{pad}<mac{out.attr('address', iface.mac)}/>")


def _model(out: _Out, pad: str, iface: InterfaceDevice, kind: str, place: _Place) -> None:
    if kind != "hostdev":
        out.lines.append(f"{pad}<model{out.attr('type', iface.model)}/>")


def _source(out: _Out, pad: str, iface: InterfaceDevice, kind: str, place: _Place) -> None:
    attr, lines = out.attr, out.lines
    if kind == "bridge":
        lines.append(f"{pad}<source{attr('bridge', iface.source)}/>")
    elif kind == "direct":
        # Mode is not in the spec; networking-macvtap binds with vif_details macvtap_mode=bridge.
        lines.append(f"{pad}<source{attr('dev', iface.source)}{attr('mode', 'bridge')}/>")
    elif kind == "vhostuser":
        values = {"type": "unix", "path": iface.source, "mode": "client"}
        attrs = "".join(attr(k, values[k]) for k in out.form.vhostuser_source)
        lines.append(f"{pad}<source{attrs}/>")
    elif kind == "hostdev":
        lines.append(f"{pad}<source>")
        _vf_address(out, pad + out.step, iface.source)
        lines.append(f"{pad}</source>")


def _mtu(out: _Out, pad: str, iface: InterfaceDevice, kind: str, place: _Place) -> None:
    if place.mtu and kind in _HAS_MTU:
        out.lines.append(f"{pad}<mtu{out.attr('size', iface.mtu)}/>")


def _vlan(out: _Out, pad: str, iface: InterfaceDevice, kind: str, place: _Place) -> None:
    # Nova: LibvirtConfigGuestInterface.format_dom writes it for direct and hostdev types only.
    if iface.vlan is not None:
        out.lines += [f"{pad}<vlan>", f"{pad}{out.step}<tag{out.attr('id', iface.vlan)}/>",
                      f"{pad}</vlan>"]


def _target(out: _Out, pad: str, iface: InterfaceDevice, kind: str, place: _Place) -> None:
    if kind in _HAS_TARGET or (out.form.macvtap_target and kind == "direct" and iface.dev):
        out.lines.append(f"{pad}<target{out.attr('dev', iface.dev)}/>")


def _virtualport(out: _Out, pad: str, iface: InterfaceDevice, kind: str, place: _Place) -> None:
    if iface.vif_type is VifType.OVS_BRIDGE:
        attr = out.attr
        out.lines += [f"{pad}<virtualport{attr('type', 'openvswitch')}>",
                      f"{pad}{out.step}<parameters{attr('interfaceid', iface.port_id)}/>",
                      f"{pad}</virtualport>"]


def _interface_bandwidth(out: _Out, pad: str, iface: InterfaceDevice, kind: str,
                         place: _Place) -> None:
    if iface.bandwidth is not None:
        _bandwidth(out, pad, iface.bandwidth)


def _interface(out: _Out, pad: str, iface: InterfaceDevice, place: _Place) -> None:
    kind = iface.vif_type.libvirt_type
    managed = out.attr("managed", "yes") if kind == "hostdev" else ""
    out.lines.append(f"{pad}<interface{out.attr('type', kind)}{managed}>")
    inner = pad + out.step
    for child in out.form.interface_children:
        child(out, inner, iface, kind, place)
    out.lines.append(f"{pad}</interface>")


# --- <disk> ------------------------------------------------------------------------------------


def _disk_driver(out: _Out, pad: str, disk: DiskDevice, kind: str, place: _Place) -> None:
    attr = out.attr
    out.lines.append(f"{pad}<driver{attr('name', 'qemu')}{attr('type', disk.driver_type)}"
                     f"{attr('cache', disk.cache)}/>")


def _disk_source(out: _Out, pad: str, disk: DiskDevice, kind: str, place: _Place) -> None:
    name = "dev" if disk.source_kind == "volume" else "file"
    out.lines.append(f"{pad}<source{out.attr(name, disk.source_file)}/>")


def _backing_store(out: _Out, pad: str, disk: DiskDevice, kind: str, place: _Place) -> None:
    if not place.running:
        return
    if disk.backing_file is None:
        out.lines.append(f"{pad}<backingStore/>")
        return
    # Nova's image cache holds raw files ([DEFAULT]force_raw_images=True).
    attr, deeper = out.attr, pad + out.step
    out.lines += [f"{pad}<backingStore{attr('type', 'file')}{attr('index', 1)}>",
                  f"{deeper}<format{attr('type', 'raw')}/>",
                  f"{deeper}<source{attr('file', disk.backing_file)}/>",
                  f"{deeper}<backingStore/>",
                  f"{pad}</backingStore>"]


def _disk_target(out: _Out, pad: str, disk: DiskDevice, kind: str, place: _Place) -> None:
    out.lines.append(f"{pad}<target{out.attr('dev', disk.target_dev)}"
                     f"{out.attr('bus', disk.bus)}/>")


def _disk_iotune(out: _Out, pad: str, disk: DiskDevice, kind: str, place: _Place) -> None:
    if disk.iotune is not None:
        _iotune(out, pad, disk.iotune)


def _disk(out: _Out, pad: str, disk: DiskDevice, place: _Place) -> None:
    attr = out.attr
    kind = "block" if disk.source_kind == "volume" else "file"
    out.lines.append(f"{pad}<disk{attr('type', kind)}{attr('device', 'disk')}>")
    inner = pad + out.step
    for child in out.form.disk_children:
        child(out, inner, disk, kind, place)
    out.lines.append(f"{pad}</disk>")


def render_interface(iface: InterfaceDevice, *, form: XmlForm | str = XmlForm.NOVA,
                     level: int | None = None, pci_slot: int | None = None,
                     running: bool = True, mtu: bool = True) -> str:
    """One ``<interface>``; ``pci_slot``/``running`` matter to the libvirt form only."""
    out = _Out(form, level is not None)
    _interface(out, _pad(level), iface, _Place(pci_slot, running, mtu))
    return out.fragment(level)


def render_disk(disk: DiskDevice, *, form: XmlForm | str = XmlForm.NOVA,
                level: int | None = None, pci_slot: int | None = None,
                running: bool = True) -> str:
    """One ``<disk>``; the libvirt form of a running domain includes the backing chain."""
    out = _Out(form, level is not None)
    _disk(out, _pad(level), disk, _Place(pci_slot, running))
    return out.fragment(level)


# --- whole document ----------------------------------------------------------------------------


def _metadata(lines: list[str], pad: str, m: NovaMetadata) -> None:
    # libvirt stores <metadata> as a foreign XML tree and re-serialises it with libxml2, so it
    # keeps lxml's double quotes in both forms.
    def escape_text(x: str) -> str:
        return x.translate(_LXML_TEXT)

    def escape_attr(x: str) -> str:
        return x.translate(_LXML_ATTR)

    p1, p2, p3, p4 = pad + "  ", pad + "    ", pad + "      ", pad + "        "
    lines += [
        f"{p1}<metadata>",
        f'{p2}<nova:instance xmlns:nova="{NOVA_NS}">',
        f'{p3}<nova:package version="{escape_attr(m.package_version)}"/>',
        f"{p3}<nova:name>{escape_text(m.display_name)}</nova:name>",
        f"{p3}<nova:creationTime>{escape_text(m.creation_time)}</nova:creationTime>",
        f'{p3}<nova:flavor name="{escape_attr(m.flavor_name)}">',
        f"{p4}<nova:memory>{m.memory_mib}</nova:memory>",
        f"{p4}<nova:disk>{m.disk_gib}</nova:disk>",
        f"{p4}<nova:swap>{m.swap_mib}</nova:swap>",
        f"{p4}<nova:ephemeral>{m.ephemeral_gib}</nova:ephemeral>",
        f"{p4}<nova:vcpus>{m.vcpus}</nova:vcpus>",
        f"{p3}</nova:flavor>",
        f"{p3}<nova:owner>",
        f'{p4}<nova:user uuid="{escape_attr(m.user_id)}">{escape_text(m.user_name)}</nova:user>',
        f'{p4}<nova:project uuid="{escape_attr(m.project_id)}">'
        f"{escape_text(m.project_name)}</nova:project>",
        f"{p3}</nova:owner>",
    ]
    if m.root_image_id is not None:
        lines.append(f'{p3}<nova:root type="image" uuid="{escape_attr(m.root_image_id)}"/>')
    lines += [f"{p2}</nova:instance>", f"{p1}</metadata>"]


def render_domain_xml(spec: DomainSpec, *, form: XmlForm | str = XmlForm.NOVA,
                      host: HostDetails | None = None) -> str:
    """The whole domain document, newline-terminated (as lxml and ``virsh dumpxml`` end it)."""
    out = _Out(form, True)
    out.form.document(out, spec, host if host is not None else HostDetails())
    out.lines.append("")
    return "\n".join(out.lines)


def _sysinfo(out: _Out, spec: DomainSpec, h: HostDetails) -> None:
    attr, text = out.attr, out.text
    entries = (("manufacturer", h.vendor), ("product", h.product),
               ("version", spec.metadata.package_version),
               ("serial", h.sysinfo_serial or spec.uuid), ("uuid", spec.uuid),
               ("family", "Virtual Machine"))
    out.lines += [f"  <sysinfo{attr('type', 'smbios')}>", "    <system>"]
    out.lines += [f"      <entry{attr('name', k)}>{text(v)}</entry>" for k, v in entries]
    out.lines += ["    </system>", "  </sysinfo>"]


_CLOCK = (("pit", "tickpolicy", "delay"), ("rtc", "tickpolicy", "catchup"),
          ("hpet", "present", "no"))


def _topology(out: _Out, vcpus: int) -> str:
    attr = out.attr
    return f"    <topology{attr('sockets', vcpus)}{attr('cores', 1)}{attr('threads', 1)}/>"


def _clock(out: _Out) -> None:
    out.lines.append(f"  <clock{out.attr('offset', 'utc')}>")
    out.lines += [f"    <timer{out.attr('name', n)}{out.attr(k, v)}/>" for n, k, v in _CLOCK]
    out.lines.append("  </clock>")


def _nova_document(out: _Out, spec: DomainSpec, h: HostDetails) -> None:
    attr, text, lines = out.attr, out.text, out.lines
    lines += [f"<domain{attr('type', spec.domain_type)}>", f"  <uuid>{text(spec.uuid)}</uuid>",
              f"  <name>{text(spec.name)}</name>", f"  <memory>{spec.memory_kib}</memory>",
              f"  <vcpu>{spec.vcpus}</vcpu>"]
    _metadata(lines, "", spec.metadata)
    _sysinfo(out, spec, h)
    lines += ["  <os>", f"    <type{attr('machine', spec.machine)}>hvm</type>",
              f"    <boot{attr('dev', 'hd')}/>", f"    <smbios{attr('mode', 'sysinfo')}/>",
              "  </os>", "  <features>", "    <acpi/>", "    <apic/>", "  </features>"]
    if spec.cputune is not None:
        _cputune(out, "  ", spec.cputune)
    _clock(out)
    topology = _topology(out, spec.vcpus)
    if h.cpu_model is None:
        lines += [f"  <cpu{attr('mode', 'host-model')}{attr('match', 'exact')}>", topology,
                  "  </cpu>"]
    else:
        lines += [f"  <cpu{attr('mode', 'custom')}{attr('match', 'exact')}>",
                  f"    <model>{text(h.cpu_model)}</model>", topology, "  </cpu>"]
    lines.append("  <devices>")
    for disk in spec.disks:
        _disk(out, "    ", disk, _Place())
    for iface in spec.interfaces:
        _interface(out, "    ", iface, _Place(None, False, h.interface_mtu))
    log = f"{h.instances_path}/{spec.uuid}/console.log"
    keymap = attr("keymap", h.keymap) if h.keymap else ""
    lines += [f"    <serial{attr('type', 'pty')}>",
              f"      <log{attr('file', log)}{attr('append', 'off')}/>", "    </serial>",
              f"    <input{attr('type', 'tablet')}{attr('bus', 'usb')}/>",
              f"    <graphics{attr('type', 'vnc')}{attr('autoport', 'yes')}{keymap}"
              f"{attr('listen', h.vnc_listen)}/>",
              "    <video>", f"      <model{attr('type', h.video_model)}/>", "    </video>",
              f"    <memballoon{attr('model', 'virtio')}>", f"      <stats{attr('period', 10)}/>",
              "    </memballoon>", "  </devices>", "</domain>"]


def _libvirt_document(out: _Out, spec: DomainSpec, h: HostDetails) -> None:
    attr, text, lines = out.attr, out.text, out.lines
    running = spec.domain_id is not None
    run_id = attr("id", spec.domain_id) if running else ""
    lines += [f"<domain{attr('type', spec.domain_type)}{run_id}>",
              f"  <name>{text(spec.name)}</name>", f"  <uuid>{text(spec.uuid)}</uuid>"]
    _metadata(lines, "", spec.metadata)
    lines += [f"  <memory{attr('unit', 'KiB')}>{spec.memory_kib}</memory>",
              f"  <currentMemory{attr('unit', 'KiB')}>{spec.memory_kib}</currentMemory>",
              f"  <vcpu{attr('placement', 'static')}>{spec.vcpus}</vcpu>"]
    if spec.cputune is not None:
        _cputune(out, "  ", spec.cputune)
    lines += ["  <resource>", f"    <partition>{text(spec.partition)}</partition>", "  </resource>"]
    _sysinfo(out, spec, h)
    lines += ["  <os>",
              f"    <type{attr('arch', 'x86_64')}{attr('machine', spec.machine)}>hvm</type>",
              f"    <boot{attr('dev', 'hd')}/>", f"    <smbios{attr('mode', 'sysinfo')}/>",
              "  </os>", "  <features>", "    <acpi/>", "    <apic/>", "  </features>"]
    topology = _topology(out, spec.vcpus)
    if h.cpu_model is None:
        lines += [f"  <cpu{attr('mode', 'host-model')}{attr('check', 'partial')}>",
                  f"    <model{attr('fallback', 'allow')}/>", topology, "  </cpu>"]
    else:
        check = "full" if running else "partial"
        lines += [f"  <cpu{attr('mode', 'custom')}{attr('match', 'exact')}{attr('check', check)}>",
                  f"    <model{attr('fallback', 'forbid')}>{text(h.cpu_model)}</model>"]
        if h.cpu_vendor:
            lines.append(f"    <vendor>{text(h.cpu_vendor)}</vendor>")
        lines.append(topology)
        lines += [f"    <feature{attr('policy', 'require')}{attr('name', feature)}/>"
                  for feature in h.cpu_features]
        lines.append("  </cpu>")
    _clock(out)
    lines += ["  <on_poweroff>destroy</on_poweroff>", "  <on_reboot>restart</on_reboot>",
              "  <on_crash>destroy</on_crash>", "  <devices>",
              f"    <emulator>{text(spec.emulator)}</emulator>"]
    # libvirt's i440fx PCI auto-assignment; q35 uses pcie-root-ports (not modelled: no address).
    i440fx = spec.machine == "pc" or spec.machine.startswith("pc-i440fx")
    slot = 3
    net_slots: list[int | None] = []
    for _ in spec.interfaces:
        net_slots.append(slot if i440fx else None)
        slot += 1
    for disk in spec.disks:
        virtio = i440fx and disk.bus == "virtio"
        _disk(out, "    ", disk, _Place(slot if virtio else None, running))
        slot += virtio
    def alias(name: str) -> list[str]:
        return [f"      <alias{attr('name', name)}/>"] if running else []

    usb_model = "piix3-uhci" if i440fx else "qemu-xhci"
    lines.append(f"    <controller{attr('type', 'usb')}{attr('index', 0)}"
                 f"{attr('model', usb_model)}>")
    lines += alias("usb")
    if i440fx:
        _pci(out, "      ", 1, 2)
    lines.append("    </controller>")
    root = "pci-root" if i440fx else "pcie-root"
    head = f"    <controller{attr('type', 'pci')}{attr('index', 0)}{attr('model', root)}"
    lines += [head + ">", *alias("pci.0"), "    </controller>"] if running else [head + "/>"]
    for iface, nslot in zip(spec.interfaces, net_slots, strict=True):
        _interface(out, "    ", iface, _Place(nslot, running, h.interface_mtu))
    log_file = f"{h.instances_path}/{spec.uuid}/console.log"
    log = f"      <log{attr('file', log_file)}{attr('append', 'off')}/>"
    pty = [f"      <source{attr('path', h.pty)}/>"] if running and h.pty else []
    tty = attr("tty", h.pty) if running and h.pty else ""
    lines += [f"    <serial{attr('type', 'pty')}>", *pty, log, f"      <target{attr('port', 0)}/>",
              *alias("serial0"), "    </serial>",
              f"    <console{attr('type', 'pty')}{tty}>", *pty, log,
              f"      <target{attr('type', 'serial')}{attr('port', 0)}/>", *alias("serial0"),
              "    </console>"]
    for index, (kind, bus) in enumerate((("tablet", "usb"), ("mouse", "ps2"), ("keyboard", "ps2"))):
        usb = [f"      <address{attr('type', 'usb')}{attr('bus', 0)}{attr('port', 1)}/>"] \
            if bus == "usb" else []
        body = [*alias(f"input{index}"), *usb]
        head = f"    <input{attr('type', kind)}{attr('bus', bus)}"
        lines += [head + ">", *body, "    </input>"] if body else [head + "/>"]
    port = h.vnc_port if running and h.vnc_port is not None else -1
    keymap = attr("keymap", h.keymap) if h.keymap else ""
    lines += [f"    <graphics{attr('type', 'vnc')}{attr('port', port)}{attr('autoport', 'yes')}"
              f"{attr('listen', h.vnc_listen)}{keymap}>",
              f"      <listen{attr('type', 'address')}{attr('address', h.vnc_listen)}/>",
              "    </graphics>", "    <video>"]
    vram = attr("vram", 16384) if h.video_model in ("cirrus", "vga") else ""
    lines.append(f"      <model{attr('type', h.video_model)}{vram}{attr('heads', 1)}"
                 f"{attr('primary', 'yes')}/>")
    lines += alias("video0")
    if i440fx:
        _pci(out, "      ", 2)
    lines += ["    </video>", f"    <memballoon{attr('model', 'virtio')}>",
              f"      <stats{attr('period', 10)}/>", *alias("balloon0")]
    if i440fx:
        _pci(out, "      ", slot)
    lines += ["    </memballoon>", "  </devices>"]
    labels = []
    if h.selinux_mcs:
        labels.append(("selinux", f"system_u:system_r:svirt_t:s0:{h.selinux_mcs}",
                       f"system_u:object_r:svirt_image_t:s0:{h.selinux_mcs}"))
    if h.dac_label:
        labels.append(("dac", h.dac_label, h.dac_label))
    for model, label, image in labels:
        head = f"  <seclabel{attr('type', 'dynamic')}{attr('model', model)}{attr('relabel', 'yes')}"
        lines += [head + ">", f"    <label>{text(label)}</label>",
                  f"    <imagelabel>{text(image)}</imagelabel>", "  </seclabel>"] if running \
            else [head + "/>"]
    lines.append("</domain>")


# --- the two forms -----------------------------------------------------------------------------


def _is_set(value: object) -> bool:
    return value is not None


def _is_nonzero(value: object) -> bool:
    return bool(value)


_FORMS: dict[XmlForm, _Form] = {
    XmlForm.NOVA: _Form(
        name=XmlForm.NOVA,
        quote='"',
        attr_table=_LXML_ATTR,
        text_table=_LXML_TEXT,
        prints=_is_set,
        spell=_nova_text,
        cputune_children=("shares", "quota", "period"),
        empty_cputune=True,
        # Nova's config object has only the 13 base keys; group and lengths cannot be written.
        iotune_children=IOTUNE_BASE_KEYS,
        empty_bandwidth=False,
        interface_children=(_mac, _model, _source, _mtu, _vlan, _target, _virtualport,
                            _interface_bandwidth),
        vhostuser_source=("type", "mode", "path"),
        macvtap_target=False,
        disk_children=(_disk_driver, _disk_source, _disk_target, _disk_iotune),
        document=_nova_document,
    ),
    XmlForm.LIBVIRT: _Form(
        name=XmlForm.LIBVIRT,
        quote="'",
        attr_table=_LIBVIRT_ESC,
        text_table=_LIBVIRT_ESC,
        prints=_is_nonzero,
        spell=_libvirt_text,
        cputune_children=("shares", "period", "quota"),
        empty_cputune=False,
        iotune_children=(*(f.name for f in IOTUNE_LIMITS), "group_name", *IOTUNE_LENGTH_KEYS),
        empty_bandwidth=True,
        # <vlan> between <source> and <bandwidth>: virsh dumpxml of a hostdev interface,
        # libvirt 9.0 here.
        interface_children=(_mac, _source, _vlan, _virtualport, _interface_bandwidth, _target,
                            _model, _mtu, _alias, _address),
        vhostuser_source=("type", "path", "mode"),
        macvtap_target=True,
        disk_children=(_disk_driver, _disk_source, _backing_store, _disk_target, _disk_iotune,
                       _alias, _address),
        document=_libvirt_document,
    ),
}
