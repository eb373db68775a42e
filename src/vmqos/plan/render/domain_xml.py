"""libvirt domain XML for a :class:`DomainSpec`, rendered in Nova's form or libvirt's.

Two forms of one domain:

* ``"nova"`` — what Nova's config objects (nova/virt/libvirt/config.py) serialise with lxml and
  pass to ``virDomainDefineXML``: double-quoted attributes, Nova's element order (``<interface>``:
  mac, model, source, mtu, target, virtualport, ``<bandwidth>`` last; ``<cputune>``: shares,
  quota, period; ``<iotune>``: the 13 keys of ``LibvirtConfigGuestDisk._format_iotune``), and
  every value that is set is written, ``0`` included.
* ``"libvirt"`` — what ``virsh dumpxml`` prints for the domain: single quotes, two-space indent,
  libvirt's order (``<interface>``: mac, source, virtualport, bandwidth, target, model, mtu,
  alias, address; ``<cputune>``: shares, period, quota; ``<iotune>``: total/read/write bytes,
  then iops, then ``_max``, size, group, ``_max_length``) and libvirt's omissions: a zero
  period, quota, iotune value or bandwidth ``average``/``peak``/``burst`` is not printed
  (``virNetDevBandwidthRateFormat``), so ``average='0'`` leaves an empty ``<bandwidth>``.
  A spec with ``domain_id`` is a running domain: ``id=``, aliases, the backing chain, pty
  paths and dynamic security labels appear. PCI addresses follow libvirt's i440fx
  auto-assignment (slot 1 PIIX3/USB, 2 video, then NICs, virtio disks, balloon).

Invariants: rendering is string building (lists of lines, one join; no ElementTree) with every
text and attribute value escaped; the non-QoS scaffolding (sysinfo, cpu, clock, console,
graphics ...) follows the seed's Nova Pike / RHEL 7 domain, with host facts from
:class:`HostDetails`. Parsing is in :mod:`vmqos.plan.render.domain_xml_parse`.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.errors import ValidationError
from vmqos.libvirt_types import (
    IOTUNE_BASE_KEYS,
    IOTUNE_LENGTH_KEYS,
    Bandwidth,
    CpuTune,
    DiskDevice,
    DomainSpec,
    InterfaceDevice,
    IoTune,
    NovaMetadata,
)
from vmqos.model import VifType

__all__ = [
    "FORMS",
    "NOVA_NS",
    "HostDetails",
    "render_bandwidth",
    "render_cputune",
    "render_disk",
    "render_domain_xml",
    "render_interface",
    "render_iotune",
]

FORMS = ("nova", "libvirt")
NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.0"

# virDomainDiskDefFormatIotune order (then group_name, then IOTUNE_LENGTH_KEYS).
_LIBVIRT_IOTUNE_KEYS = (
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
    "total_iops_sec", "read_iops_sec", "write_iops_sec",
    "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
    "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec",
)
# lxml/libxml2 escaping (Nova's form and the <metadata> libvirt re-serialises) and libvirt's
# virBufferEscapeString (escapes both quote characters, in text and attributes alike).
_LXML_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                            "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
_LXML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_LIBVIRT_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                              "'": "&apos;"})
_LIBVIRT_TABLES = (_LIBVIRT_ESC, _LIBVIRT_ESC)
_LXML_TABLES = (_LXML_ATTR, _LXML_TEXT)
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


class _W:
    """Line buffer with one form's quoting, escaping and indent step."""

    __slots__ = ("libvirt", "lines", "q", "step", "table", "text_table")

    def __init__(self, form: str, pretty: bool) -> None:
        if form == "libvirt":
            self.libvirt, self.q, self.table, self.text_table = True, "'", *_LIBVIRT_TABLES
        elif form == "nova":
            self.libvirt, self.q, self.table, self.text_table = False, '"', *_LXML_TABLES
        else:
            raise ValidationError(f"unknown XML form {form!r}; choose one of: nova, libvirt",
                                  key="form", value=form, allowed="nova, libvirt")
        self.lines: list[str] = []
        self.step = "  " if pretty else ""

    def a(self, name: str, value: object) -> str:
        return f" {name}={self.q}{str(value).translate(self.table)}{self.q}"

    def t(self, value: str) -> str:
        return value.translate(self.text_table)


def _fragment(w: _W, level: int | None) -> str:
    return "\n".join(w.lines) if level is not None else "".join(w.lines)


def _pad(level: int | None) -> str:
    return "  " * (level or 0)


# --- QoS fragments -----------------------------------------------------------------------------


def _cputune(w: _W, pad: str, tune: CpuTune) -> None:
    if w.libvirt:
        # virDomainCputuneDefFormat: shares when specified; period/quota only when non-zero.
        items = [("shares", tune.shares)] if tune.shares is not None else []
        if tune.period:
            items.append(("period", tune.period))
        if tune.quota:
            items.append(("quota", tune.quota))
        if not items:
            return
    else:
        items = [(k, v) for k, v in (("shares", tune.shares), ("quota", tune.quota),
                                     ("period", tune.period)) if v is not None]
        if not items:
            w.lines.append(f"{pad}<cputune/>")
            return
    inner = pad + w.step
    w.lines.append(f"{pad}<cputune>")
    w.lines.extend(f"{inner}<{k}>{v}</{k}>" for k, v in items)
    w.lines.append(f"{pad}</cputune>")


def _iotune(w: _W, pad: str, tune: IoTune) -> None:
    inner = pad + w.step
    if w.libvirt:
        lines = [f"{inner}<{k}>{v}</{k}>" for k in _LIBVIRT_IOTUNE_KEYS if (v := getattr(tune, k))]
        if tune.group_name:
            lines.append(f"{inner}<group_name>{w.t(tune.group_name)}</group_name>")
        lines.extend(f"{inner}<{k}>{v}</{k}>" for k in IOTUNE_LENGTH_KEYS
                     if (v := getattr(tune, k)))
    else:
        # Nova's config object has only the 13 base keys; group and lengths cannot be written.
        lines = [f"{inner}<{k}>{v}</{k}>" for k in IOTUNE_BASE_KEYS
                 if (v := getattr(tune, k)) is not None]
    if lines:
        w.lines.append(f"{pad}<iotune>")
        w.lines.extend(lines)
        w.lines.append(f"{pad}</iotune>")


def _bandwidth(w: _W, pad: str, bw: Bandwidth) -> None:
    inner, q = pad + w.step, w.q
    sides = (("inbound", bw.inbound), ("outbound", bw.outbound))
    if w.libvirt:
        lines = []
        for name, side in sides:
            if side is not None and side.average:
                text = f"{inner}<{name} average={q}{side.average}{q}"
                if side.peak:
                    text += f" peak={q}{side.peak}{q}"
                if side.burst:
                    text += f" burst={q}{side.burst}{q}"
                lines.append(text + "/>")
    else:
        if bw.inbound is None and bw.outbound is None:
            return
        lines = []
        for name, side in sides:
            if side is not None:
                text = f"{inner}<{name} average={q}{side.average}{q}"
                if side.peak is not None:
                    text += f" peak={q}{side.peak}{q}"
                if side.burst is not None:
                    text += f" burst={q}{side.burst}{q}"
                lines.append(text + "/>")
    w.lines.append(f"{pad}<bandwidth>")
    w.lines.extend(lines)
    w.lines.append(f"{pad}</bandwidth>")


def render_cputune(tune: CpuTune, *, form: str = "nova", level: int | None = None) -> str:
    """``<cputune>``; ``level=None`` gives one line, an int that many two-space indents."""
    w = _W(form, level is not None)
    _cputune(w, _pad(level), tune)
    return _fragment(w, level)


def render_iotune(tune: IoTune, *, form: str = "nova", level: int | None = None) -> str:
    w = _W(form, level is not None)
    _iotune(w, _pad(level), tune)
    return _fragment(w, level)


def render_bandwidth(bw: Bandwidth, *, form: str = "nova", level: int | None = None) -> str:
    w = _W(form, level is not None)
    _bandwidth(w, _pad(level), bw)
    return _fragment(w, level)


# --- devices -----------------------------------------------------------------------------------


def _pci(w: _W, pad: str, slot: int, function: int = 0) -> None:
    q = w.q
    w.lines.append(f"{pad}<address type={q}pci{q} domain={q}0x0000{q} bus={q}0x00{q} "
                   f"slot={q}0x{slot:02x}{q} function={q}0x{function:x}{q}/>")


def _vf_address(w: _W, pad: str, address: str) -> None:
    try:
        domain, bus, rest = address.split(":")
        slot, function = rest.split(".")
    except ValueError:
        raise ValidationError(f"VF PCI address {address!r} is not DDDD:BB:SS.F", key="source",
                              value=address, allowed="a PCI address like 0000:0a:00.1") from None
    w.lines.append(f"{pad}<address{w.a('type', 'pci')}{w.a('domain', '0x' + domain)}"
                   f"{w.a('bus', '0x' + bus)}{w.a('slot', '0x' + slot)}"
                   f"{w.a('function', '0x' + function)}/>")


def _source(w: _W, pad: str, iface: InterfaceDevice, kind: str) -> None:
    a, lines = w.a, w.lines
    if kind == "bridge":
        lines.append(f"{pad}<source{a('bridge', iface.source)}/>")
    elif kind == "direct":
        # Mode is not in the spec; networking-macvtap binds with vif_details macvtap_mode=bridge.
        lines.append(f"{pad}<source{a('dev', iface.source)}{a('mode', 'bridge')}/>")
    elif kind == "vhostuser":
        attrs = (("type", "unix"), ("path", iface.source), ("mode", "client")) if w.libvirt \
            else (("type", "unix"), ("mode", "client"), ("path", iface.source))
        lines.append(f"{pad}<source{''.join(a(k, v) for k, v in attrs)}/>")
    elif kind == "hostdev":
        lines.append(f"{pad}<source>")
        _vf_address(w, pad + w.step, iface.source)
        lines.append(f"{pad}</source>")


def _interface(w: _W, pad: str, iface: InterfaceDevice, *, slot: int | None, running: bool,
               mtu: bool) -> None:
    a, lines, inner = w.a, w.lines, pad + w.step
    kind = iface.vif_type.libvirt_type
    managed = a("managed", "yes") if kind == "hostdev" else ""
    lines.append(f"{pad}<interface{a('type', kind)}{managed}>")
    lines.append(f"{inner}<mac{a('address', iface.mac)}/>")
    model = f"{inner}<model{a('type', iface.model)}/>" if kind != "hostdev" else ""
    target = f"{inner}<target{a('dev', iface.dev)}/>" if kind in _HAS_TARGET or (
        w.libvirt and kind == "direct" and iface.dev) else ""
    mtu_line = f"{inner}<mtu{a('size', iface.mtu)}/>" if mtu and kind in _HAS_MTU else ""
    ovs = iface.vif_type is VifType.OVS_BRIDGE
    if w.libvirt:
        _source(w, inner, iface, kind)
        if ovs:
            lines += [f"{inner}<virtualport{a('type', 'openvswitch')}>",
                      f"{inner}{w.step}<parameters{a('interfaceid', iface.port_id)}/>",
                      f"{inner}</virtualport>"]
        if iface.bandwidth is not None:
            _bandwidth(w, inner, iface.bandwidth)
        lines.extend(x for x in (target, model, mtu_line) if x)
        if running:
            lines.append(f"{inner}<alias{a('name', iface.alias)}/>")
        if slot is not None:
            _pci(w, inner, slot)
    else:
        if model:
            lines.append(model)
        _source(w, inner, iface, kind)
        lines.extend(x for x in (mtu_line, target) if x)
        if ovs:
            lines += [f"{inner}<virtualport{a('type', 'openvswitch')}>",
                      f"{inner}{w.step}<parameters{a('interfaceid', iface.port_id)}/>",
                      f"{inner}</virtualport>"]
        if iface.bandwidth is not None:
            _bandwidth(w, inner, iface.bandwidth)
    lines.append(f"{pad}</interface>")


def _disk(w: _W, pad: str, disk: DiskDevice, slot: int | None, running: bool) -> None:
    a, lines, inner = w.a, w.lines, pad + w.step
    block = disk.source_kind == "volume"
    lines.append(f"{pad}<disk{a('type', 'block' if block else 'file')}{a('device', 'disk')}>")
    lines.append(f"{inner}<driver{a('name', 'qemu')}{a('type', disk.driver_type)}"
                 f"{a('cache', disk.cache)}/>")
    lines.append(f"{inner}<source{a('dev' if block else 'file', disk.source_file)}/>")
    if w.libvirt and running:
        if disk.backing_file is None:
            lines.append(f"{inner}<backingStore/>")
        else:
            # Nova's image cache holds raw files ([DEFAULT]force_raw_images=True).
            deeper = inner + w.step
            lines += [f"{inner}<backingStore{a('type', 'file')}{a('index', 1)}>",
                      f"{deeper}<format{a('type', 'raw')}/>",
                      f"{deeper}<source{a('file', disk.backing_file)}/>",
                      f"{deeper}<backingStore/>",
                      f"{inner}</backingStore>"]
    lines.append(f"{inner}<target{a('dev', disk.target_dev)}{a('bus', disk.bus)}/>")
    if disk.iotune is not None:
        _iotune(w, inner, disk.iotune)
    if w.libvirt:
        if running:
            lines.append(f"{inner}<alias{a('name', disk.alias)}/>")
        if slot is not None:
            _pci(w, inner, slot)
    lines.append(f"{pad}</disk>")


def render_interface(iface: InterfaceDevice, *, form: str = "nova", level: int | None = None,
                     pci_slot: int | None = None, running: bool = True, mtu: bool = True) -> str:
    """One ``<interface>``; ``pci_slot``/``running`` matter to the libvirt form only."""
    w = _W(form, level is not None)
    _interface(w, _pad(level), iface, slot=pci_slot, running=running, mtu=mtu)
    return _fragment(w, level)


def render_disk(disk: DiskDevice, *, form: str = "nova", level: int | None = None,
                pci_slot: int | None = None, running: bool = True) -> str:
    """One ``<disk>``; the libvirt form of a running domain includes the backing chain."""
    w = _W(form, level is not None)
    _disk(w, _pad(level), disk, pci_slot, running)
    return _fragment(w, level)


# --- whole document ----------------------------------------------------------------------------


def _metadata(lines: list[str], pad: str, m: NovaMetadata) -> None:
    # libvirt stores <metadata> as a foreign XML tree and re-serialises it with libxml2, so it
    # keeps lxml's double quotes in both forms.
    def t(x: str) -> str:
        return x.translate(_LXML_TEXT)

    def at(x: str) -> str:
        return x.translate(_LXML_ATTR)

    p1, p2, p3, p4 = pad + "  ", pad + "    ", pad + "      ", pad + "        "
    lines += [
        f"{p1}<metadata>",
        f'{p2}<nova:instance xmlns:nova="{NOVA_NS}">',
        f'{p3}<nova:package version="{at(m.package_version)}"/>',
        f"{p3}<nova:name>{t(m.display_name)}</nova:name>",
        f"{p3}<nova:creationTime>{t(m.creation_time)}</nova:creationTime>",
        f'{p3}<nova:flavor name="{at(m.flavor_name)}">',
        f"{p4}<nova:memory>{m.memory_mib}</nova:memory>",
        f"{p4}<nova:disk>{m.disk_gib}</nova:disk>",
        f"{p4}<nova:swap>{m.swap_mib}</nova:swap>",
        f"{p4}<nova:ephemeral>{m.ephemeral_gib}</nova:ephemeral>",
        f"{p4}<nova:vcpus>{m.vcpus}</nova:vcpus>",
        f"{p3}</nova:flavor>",
        f"{p3}<nova:owner>",
        f'{p4}<nova:user uuid="{at(m.user_id)}">{t(m.user_name)}</nova:user>',
        f'{p4}<nova:project uuid="{at(m.project_id)}">{t(m.project_name)}</nova:project>',
        f"{p3}</nova:owner>",
    ]
    if m.root_image_id is not None:
        lines.append(f'{p3}<nova:root type="image" uuid="{at(m.root_image_id)}"/>')
    lines += [f"{p2}</nova:instance>", f"{p1}</metadata>"]


def render_domain_xml(spec: DomainSpec, *, form: str = "nova",
                      host: HostDetails | None = None) -> str:
    """The whole domain document, newline-terminated (as lxml and ``virsh dumpxml`` end it)."""
    w = _W(form, True)
    h = host if host is not None else HostDetails()
    if w.libvirt:
        _libvirt_document(w, spec, h)
    else:
        _nova_document(w, spec, h)
    w.lines.append("")
    return "\n".join(w.lines)


def _sysinfo(w: _W, spec: DomainSpec, h: HostDetails) -> None:
    a, t = w.a, w.t
    entries = (("manufacturer", h.vendor), ("product", h.product),
               ("version", spec.metadata.package_version),
               ("serial", h.sysinfo_serial or spec.uuid), ("uuid", spec.uuid),
               ("family", "Virtual Machine"))
    w.lines += [f"  <sysinfo{a('type', 'smbios')}>", "    <system>"]
    w.lines += [f"      <entry{a('name', k)}>{t(v)}</entry>" for k, v in entries]
    w.lines += ["    </system>", "  </sysinfo>"]


_CLOCK = (("pit", "tickpolicy", "delay"), ("rtc", "tickpolicy", "catchup"),
          ("hpet", "present", "no"))


def _clock(w: _W) -> None:
    w.lines.append(f"  <clock{w.a('offset', 'utc')}>")
    w.lines += [f"    <timer{w.a('name', n)}{w.a(k, v)}/>" for n, k, v in _CLOCK]
    w.lines.append("  </clock>")


def _nova_document(w: _W, spec: DomainSpec, h: HostDetails) -> None:
    a, t, lines = w.a, w.t, w.lines
    lines += [f"<domain{a('type', spec.domain_type)}>", f"  <uuid>{t(spec.uuid)}</uuid>",
              f"  <name>{t(spec.name)}</name>", f"  <memory>{spec.memory_kib}</memory>",
              f"  <vcpu>{spec.vcpus}</vcpu>"]
    _metadata(lines, "", spec.metadata)
    _sysinfo(w, spec, h)
    lines += ["  <os>", f"    <type{a('machine', spec.machine)}>hvm</type>",
              f"    <boot{a('dev', 'hd')}/>", f"    <smbios{a('mode', 'sysinfo')}/>", "  </os>",
              "  <features>", "    <acpi/>", "    <apic/>", "  </features>"]
    if spec.cputune is not None:
        _cputune(w, "  ", spec.cputune)
    _clock(w)
    topology = f"    <topology{a('sockets', spec.vcpus)}{a('cores', 1)}{a('threads', 1)}/>"
    if h.cpu_model is None:
        lines += [f"  <cpu{a('mode', 'host-model')}{a('match', 'exact')}>", topology, "  </cpu>"]
    else:
        lines += [f"  <cpu{a('mode', 'custom')}{a('match', 'exact')}>",
                  f"    <model>{t(h.cpu_model)}</model>", topology, "  </cpu>"]
    lines.append("  <devices>")
    for disk in spec.disks:
        _disk(w, "    ", disk, None, False)
    for iface in spec.interfaces:
        _interface(w, "    ", iface, slot=None, running=False, mtu=h.interface_mtu)
    log = f"{h.instances_path}/{spec.uuid}/console.log"
    keymap = a("keymap", h.keymap) if h.keymap else ""
    lines += [f"    <serial{a('type', 'pty')}>",
              f"      <log{a('file', log)}{a('append', 'off')}/>", "    </serial>",
              f"    <input{a('type', 'tablet')}{a('bus', 'usb')}/>",
              f"    <graphics{a('type', 'vnc')}{a('autoport', 'yes')}{keymap}"
              f"{a('listen', h.vnc_listen)}/>",
              "    <video>", f"      <model{a('type', h.video_model)}/>", "    </video>",
              f"    <memballoon{a('model', 'virtio')}>", f"      <stats{a('period', 10)}/>",
              "    </memballoon>", "  </devices>", "</domain>"]


def _libvirt_document(w: _W, spec: DomainSpec, h: HostDetails) -> None:
    a, t, lines = w.a, w.t, w.lines
    running = spec.domain_id is not None
    run_id = a("id", spec.domain_id) if running else ""
    lines += [f"<domain{a('type', spec.domain_type)}{run_id}>", f"  <name>{t(spec.name)}</name>",
              f"  <uuid>{t(spec.uuid)}</uuid>"]
    _metadata(lines, "", spec.metadata)
    lines += [f"  <memory{a('unit', 'KiB')}>{spec.memory_kib}</memory>",
              f"  <currentMemory{a('unit', 'KiB')}>{spec.memory_kib}</currentMemory>",
              f"  <vcpu{a('placement', 'static')}>{spec.vcpus}</vcpu>"]
    if spec.cputune is not None:
        _cputune(w, "  ", spec.cputune)
    lines += ["  <resource>", f"    <partition>{t(spec.partition)}</partition>", "  </resource>"]
    _sysinfo(w, spec, h)
    lines += ["  <os>", f"    <type{a('arch', 'x86_64')}{a('machine', spec.machine)}>hvm</type>",
              f"    <boot{a('dev', 'hd')}/>", f"    <smbios{a('mode', 'sysinfo')}/>", "  </os>",
              "  <features>", "    <acpi/>", "    <apic/>", "  </features>"]
    topology = f"    <topology{a('sockets', spec.vcpus)}{a('cores', 1)}{a('threads', 1)}/>"
    if h.cpu_model is None:
        lines += [f"  <cpu{a('mode', 'host-model')}{a('check', 'partial')}>",
                  f"    <model{a('fallback', 'allow')}/>", topology, "  </cpu>"]
    else:
        check = "full" if running else "partial"
        lines += [f"  <cpu{a('mode', 'custom')}{a('match', 'exact')}{a('check', check)}>",
                  f"    <model{a('fallback', 'forbid')}>{t(h.cpu_model)}</model>"]
        if h.cpu_vendor:
            lines.append(f"    <vendor>{t(h.cpu_vendor)}</vendor>")
        lines.append(topology)
        lines += [f"    <feature{a('policy', 'require')}{a('name', f)}/>" for f in h.cpu_features]
        lines.append("  </cpu>")
    _clock(w)
    lines += ["  <on_poweroff>destroy</on_poweroff>", "  <on_reboot>restart</on_reboot>",
              "  <on_crash>destroy</on_crash>", "  <devices>",
              f"    <emulator>{t(spec.emulator)}</emulator>"]
    # libvirt's i440fx PCI auto-assignment; q35 uses pcie-root-ports (not modelled: no address).
    i440fx = spec.machine == "pc" or spec.machine.startswith("pc-i440fx")
    slot = 3
    net_slots: list[int | None] = []
    for _ in spec.interfaces:
        net_slots.append(slot if i440fx else None)
        slot += 1
    for disk in spec.disks:
        virtio = i440fx and disk.bus == "virtio"
        _disk(w, "    ", disk, slot if virtio else None, running)
        slot += virtio
    def alias(name: str) -> list[str]:
        return [f"      <alias{a('name', name)}/>"] if running else []

    if i440fx:
        lines.append(f"    <controller{a('type', 'usb')}{a('index', 0)}{a('model', 'piix3-uhci')}>")
        lines += alias("usb")
        _pci(w, "      ", 1, 2)
        lines.append("    </controller>")
    else:
        lines.append(f"    <controller{a('type', 'usb')}{a('index', 0)}{a('model', 'qemu-xhci')}>")
        lines += alias("usb")
        lines.append("    </controller>")
    root = "pci-root" if i440fx else "pcie-root"
    head = f"    <controller{a('type', 'pci')}{a('index', 0)}{a('model', root)}"
    lines += [head + ">", *alias("pci.0"), "    </controller>"] if running else [head + "/>"]
    for iface, nslot in zip(spec.interfaces, net_slots, strict=True):
        _interface(w, "    ", iface, slot=nslot, running=running, mtu=h.interface_mtu)
    log_file = f"{h.instances_path}/{spec.uuid}/console.log"
    log = f"      <log{a('file', log_file)}{a('append', 'off')}/>"
    pty = [f"      <source{a('path', h.pty)}/>"] if running and h.pty else []
    tty = a("tty", h.pty) if running and h.pty else ""
    lines += [f"    <serial{a('type', 'pty')}>", *pty, log, f"      <target{a('port', 0)}/>",
              *alias("serial0"), "    </serial>",
              f"    <console{a('type', 'pty')}{tty}>", *pty, log,
              f"      <target{a('type', 'serial')}{a('port', 0)}/>", *alias("serial0"),
              "    </console>"]
    for index, (kind, bus) in enumerate((("tablet", "usb"), ("mouse", "ps2"), ("keyboard", "ps2"))):
        usb = [f"      <address{a('type', 'usb')}{a('bus', 0)}{a('port', 1)}/>"] \
            if bus == "usb" else []
        body = [*alias(f"input{index}"), *usb]
        head = f"    <input{a('type', kind)}{a('bus', bus)}"
        lines += [head + ">", *body, "    </input>"] if body else [head + "/>"]
    port = h.vnc_port if running and h.vnc_port is not None else -1
    keymap = a("keymap", h.keymap) if h.keymap else ""
    lines += [f"    <graphics{a('type', 'vnc')}{a('port', port)}{a('autoport', 'yes')}"
              f"{a('listen', h.vnc_listen)}{keymap}>",
              f"      <listen{a('type', 'address')}{a('address', h.vnc_listen)}/>",
              "    </graphics>", "    <video>"]
    vram = a("vram", 16384) if h.video_model in ("cirrus", "vga") else ""
    lines.append(f"      <model{a('type', h.video_model)}{vram}{a('heads', 1)}"
                 f"{a('primary', 'yes')}/>")
    lines += alias("video0")
    if i440fx:
        _pci(w, "      ", 2)
    lines += ["    </video>", f"    <memballoon{a('model', 'virtio')}>",
              f"      <stats{a('period', 10)}/>", *alias("balloon0")]
    if i440fx:
        _pci(w, "      ", slot)
    lines += ["    </memballoon>", "  </devices>"]
    labels = []
    if h.selinux_mcs:
        labels.append(("selinux", f"system_u:system_r:svirt_t:s0:{h.selinux_mcs}",
                       f"system_u:object_r:svirt_image_t:s0:{h.selinux_mcs}"))
    if h.dac_label:
        labels.append(("dac", h.dac_label, h.dac_label))
    for model, label, image in labels:
        head = f"  <seclabel{a('type', 'dynamic')}{a('model', model)}{a('relabel', 'yes')}"
        lines += [head + ">", f"    <label>{t(label)}</label>",
                  f"    <imagelabel>{t(image)}</imagelabel>", "  </seclabel>"] if running \
            else [head + "/>"]
    lines.append("</domain>")
