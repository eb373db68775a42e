"""``vmqos render``: one compute-node artifact for a flavor's properties or a QoS rule set.

Each subcommand builds a one-server, one-port scenario from its options (exactly the
``--property KEY=VALUE`` pairs ``openstack flavor set`` takes) and prints one artifact,
verbatim, or as JSON with ``--format json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from vmqos.cli.console import dump_json
from vmqos.cli.options import format_option, parse_properties, profile_option, vif_type_option
from vmqos.intent.neutron.model import QosPolicy
from vmqos.intent.neutron.network import Port
from vmqos.intent.neutron.policy import add_rule
from vmqos.intent.neutron.rules import parse_rule_spec
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Server
from vmqos.libvirt_types import Bandwidth, DomainSpec, XmlForm
from vmqos.model import NeutronBackend, VifType
from vmqos.plan.enforcement import LibvirtPort, libvirt_port
from vmqos.plan.neutron.registry import PortContext, compile_neutron
from vmqos.plan.nova.compile import compile_bandwidth, compile_domain
from vmqos.plan.render.cgroup import compile_cgroup_writes, render_cgroup_script
from vmqos.plan.render.domain_xml import render_domain_xml
from vmqos.plan.render.ovs_libvirt import compile_libvirt_ovs
from vmqos.plan.render.qemu import render_drive_option, render_qmp_block_set_io_throttle
from vmqos.plan.render.tc import render_tc_program
from vmqos.plan.render.tc_show import render_tc_show
from vmqos.profile import (
    CgroupVersion,
    Iproute2Style,
    Profile,
    QemuThrottle,
    SharesPolicy,
    get_profile,
)

__all__ = ["render"]

_F = TypeVar("_F", bound=Callable[..., Any])
_PORT_ID = "3a1b5c7d-9e2f-4a6b-8c0d-1e2f3a4b5c6d"
_SERVER_ID = "c1018351-a229-4209-9faf-42446e0b53e5"


def _flavor_options(func: _F) -> _F:
    """The options every flavor-based artifact shares."""
    decorators = [
        click.option("--property", "properties", multiple=True, metavar="KEY=VALUE",
                     help="flavor extra spec, as for `openstack flavor set --property` "
                          "(repeatable), e.g. quota:vif_inbound_average=32768"),
        click.option("--vcpus", type=click.IntRange(min=1), default=1, show_default=True),
        click.option("--dev", default=None, metavar="NAME",
                     help="host device name (default: tap + the first 11 chars of a port id)"),
        vif_type_option,
        profile_option,
        format_option(),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


class _Request:
    """The one-server scenario a render subcommand works on."""

    def __init__(self, properties: tuple[str, ...], vcpus: int, dev: str | None,
                 vif_type: str, profile: str | None, **overrides: Any) -> None:
        specs = parse_properties(properties)
        self.flavor = Flavor(name="vmqos-render", vcpus=vcpus, ram=1024, disk=20,
                             extra_specs=specs)
        self.quota = self.flavor.quota
        self.vif_type = VifType(vif_type)
        self.port = Port(id=_PORT_ID, network_id="net", mac="fa:16:3e:00:00:01",
                         vif_type=self.vif_type)
        self.dev = dev or self.port.tap
        self.profile: Profile = get_profile(profile or "modern", **overrides)

    def bandwidth(self) -> Bandwidth | None:
        return compile_bandwidth(self.quota, self.vif_type)

    @property
    def libvirt(self) -> LibvirtPort:
        """How libvirt applies the port's <bandwidth> (no Neutron backend is known here)."""
        return libvirt_port(self.vif_type, self.bandwidth(), self.profile, backend=None)

    def domain(self, name: str = "instance-00000001", domain_id: int = 1) -> DomainSpec:
        server = Server(name="vmqos-render", flavor=self.flavor.name, ports=(self.port.id,),
                        id=_SERVER_ID, image_id="c11a1c31-f703-4ae6-a689-5a6b9a624625",
                        instance_name=name, domain_id=domain_id)
        spec = compile_domain(server, self.flavor, self.quota, [self.port], self.profile)
        return replace(spec, interfaces=tuple(replace(i, dev=self.dev)
                                              for i in spec.interfaces))


def _emit(fmt: str, lines: list[str], data: object) -> None:
    if fmt == "json":
        click.echo(dump_json(data))
    elif lines:
        click.echo("\n".join(lines))


@click.group()
def render() -> None:
    """Print one compute-node artifact for flavor properties (or Neutron rules).

    \b
    Examples (the seed's m1.resquota network limits on one tap):
      vmqos render tc --property quota:vif_inbound_average=32768 \\
          --property quota:vif_inbound_peak=65536 --property quota:vif_inbound_burst=131072
      vmqos render tc-show --iproute2 rhel7 --property quota:vif_inbound_average=32768
      vmqos render domain-xml --property quota:cpu_shares=512 --profile pike-rhel7
      vmqos render neutron --backend ovs --rule bandwidth_limit:max_kbps=3000,max_burst_kbps=300
    """


@render.command("domain-xml")
@_flavor_options
@click.option("--form", type=click.Choice([f.value for f in XmlForm]), default=XmlForm.NOVA.value,
              show_default=True,
              help="nova = what Nova passes to libvirt; libvirt = what `virsh dumpxml` shows")
def domain_xml(properties: tuple[str, ...], vcpus: int, dev: str | None, vif_type: str,
               profile: str | None, fmt: str, form: str) -> None:
    """The libvirt domain XML Nova writes for a server of this flavor (one NIC, one disk).

    \b
    Examples:
      vmqos render domain-xml --profile pike-rhel7 --property quota:cpu_shares=512
      vmqos render domain-xml --form libvirt --vif-type ovs --property quota:vif_inbound_average=1
    """
    request = _Request(properties, vcpus, dev, vif_type, profile)
    xml = render_domain_xml(request.domain(), form=XmlForm(form))
    _emit(fmt, [xml.rstrip("\n")], {"xml": xml})


@render.command("qemu-argv")
@_flavor_options
@click.option("--legacy/--no-legacy", default=None,
              help="the pre-blockdev `-drive ...,throttling.*=` form (default: per profile)")
def qemu_argv(properties: tuple[str, ...], vcpus: int, dev: str | None, vif_type: str,
              profile: str | None, fmt: str, legacy: bool | None) -> None:
    """QEMU's disk throttling on the command line: the legacy `-drive` option.

    Since -blockdev (libvirt >= 5.x) throttling is not in argv at all; libvirt sends QMP
    `block_set_io_throttle` after start — see `vmqos render qmp`.

    \b
    Example (the seed's m1.resquota disk):
      vmqos render qemu-argv --legacy --property quota:disk_read_bytes_sec=1000000 \\
          --property quota:disk_write_bytes_sec=1024000
    """
    request = _Request(properties, vcpus, dev, vif_type, profile)
    use_drive = (legacy if legacy is not None
                 else request.profile.qemu_throttle is QemuThrottle.DRIVE)
    disks = request.domain().disks
    if use_drive:
        options = [render_drive_option(d) for d in disks]
        _emit(fmt, [f"-drive {o}" for o in options], {"drive": options})
    else:
        lines = ["# -blockdev era: no throttling in argv; libvirt sends QMP after start:"]
        commands = [c for d in disks if (c := render_qmp_block_set_io_throttle(d))]
        lines += [json.dumps(c, separators=(",", ":")) for c in commands]
        _emit(fmt, lines, {"drive": [], "qmp": commands})


@render.command("qmp")
@_flavor_options
def qmp(properties: tuple[str, ...], vcpus: int, dev: str | None, vif_type: str,
        profile: str | None, fmt: str) -> None:
    """The QMP `block_set_io_throttle` command libvirt sends for each throttled disk.

    \b
    Example:
      vmqos render qmp --property quota:disk_total_iops_sec=500
    """
    request = _Request(properties, vcpus, dev, vif_type, profile)
    commands = [c for d in request.domain().disks
                if (c := render_qmp_block_set_io_throttle(d))]
    _emit(fmt, [json.dumps(c, separators=(",", ":")) for c in commands], commands)


@render.command("cgroup")
@_flavor_options
@click.option("--cgroup", "cgroup_version", type=click.Choice([v.value for v in CgroupVersion]),
              default=None,
              help="cgroup hierarchy (default: per profile)")
@click.option("--systemd/--no-systemd", default=None,
              help="libvirt's machine scope under systemd (default: per profile)")
@click.option("--domain-id", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--name", default="instance-00000001", show_default=True,
              help="libvirt domain name")
@click.option("--shares-policy", type=click.Choice([p.value for p in SharesPolicy]),
              default=None, help="cgroup v2 shares->weight mapping (default: libvirt verbatim)")
def cgroup(properties: tuple[str, ...], vcpus: int, dev: str | None, vif_type: str,
           profile: str | None, fmt: str, cgroup_version: str | None, systemd: bool | None,
           domain_id: int, name: str, shares_policy: str | None) -> None:
    """The cgroup writes libvirt makes for the flavor's quota:cpu_* keys.

    \b
    Examples:
      vmqos render cgroup --profile pike-rhel7 --domain-id 10 --name instance-00000041 \\
          --property quota:cpu_shares=512
      vmqos render cgroup --cgroup v2 --shares-policy systemd --property quota:cpu_shares=2048
    """
    overrides: dict[str, Any] = {}
    if cgroup_version is not None:
        overrides["cgroup"] = CgroupVersion(cgroup_version)
    if systemd is not None:
        overrides["systemd"] = systemd
    if shares_policy is not None:
        overrides["shares_policy"] = SharesPolicy(shares_policy)
    request = _Request(properties, vcpus, dev, vif_type, profile, **overrides)
    domain = request.domain(name=name, domain_id=domain_id)
    writes = compile_cgroup_writes(domain_id, name, vcpus, domain.cputune, request.profile)
    script = render_cgroup_script(writes)
    _emit(fmt, [line for line in script.splitlines() if line], writes)


@render.command("tc")
@_flavor_options
def tc(properties: tuple[str, ...], vcpus: int, dev: str | None, vif_type: str,
       profile: str | None, fmt: str) -> None:
    """The tc commands libvirt runs for the flavor's quota:vif_* keys, one per line, in
    order, exactly as libvirt executes them (taps: inbound = htb on the tap's egress).

    \b
    Examples:
      vmqos render tc --property quota:vif_outbound_average=1024 --dev tap0
      vmqos render tc --vif-type direct --property quota:vif_inbound_average=100
    """
    request = _Request(properties, vcpus, dev, vif_type, profile)
    if request.libvirt.uses_ovsdb:
        # stdout stays "one tc command per line" (here: none); the reason goes to stderr.
        click.echo(f"vmqos: libvirt shapes OVS port {request.dev} with ovs-vsctl, not tc, "
                   f"under profile {request.profile.name}: see `vmqos render ovs-libvirt`",
                   err=True)
        _emit(fmt, [], {"dev": request.dev, "commands": []})
        return
    if request.libvirt.refused:
        click.echo("vmqos: libvirt runs no tc for a VF: it refuses a <bandwidth> on an "
                   "<interface type='hostdev'> when the domain starts (see `vmqos explain`)",
                   err=True)
    lines = render_tc_program(request.dev, request.libvirt.tc_bandwidth,
                              swapped=request.vif_type.swapped)
    _emit(fmt, lines, {"dev": request.dev, "commands": lines})


@render.command("tc-show")
@_flavor_options
@click.option("--iproute2", default=None,
              type=click.Choice([Iproute2Style.RHEL7.value, Iproute2Style.MODERN.value]),
              help="output format: rhel7 = iproute 3.10 as in the seed note; modern = 6.x "
                   "(default: per profile)")
@click.option("--mtu", type=click.IntRange(min=68), default=1500, show_default=True)
def tc_show(properties: tuple[str, ...], vcpus: int, dev: str | None, vif_type: str,
            profile: str | None, fmt: str, iproute2: str | None, mtu: int) -> None:
    """What `tc qdisc show`, `tc class show` and `tc filter show` print on the device after
    libvirt's program ran, and `tc filter show ... parent ffff:` (the policer on VM
    outbound traffic) when it left an ingress qdisc.

    \b
    Examples:
      vmqos render tc-show --iproute2 rhel7 --vif-type ovs --profile pike-rhel7 \\
          --property quota:vif_inbound_average=32768 --property quota:vif_inbound_peak=65536
      vmqos render tc-show --mtu 9000 --property quota:vif_inbound_average=1000
    """
    request = _Request(properties, vcpus, dev, vif_type, profile)
    libvirt = request.libvirt
    style = Iproute2Style(iproute2) if iproute2 else request.profile.iproute2
    show = render_tc_show(request.dev, libvirt.tc_bandwidth,
                          swapped=request.vif_type.swapped, iproute2=style, mtu=mtu,
                          noqueue=libvirt.noqueue,
                          ingress_removed_by_ovs=libvirt.ingress_removed_by_ovs)
    lines: list[str] = []
    data: dict[str, list[str]] = {}
    for kind in ("qdisc", "class", "filter", "ingress_filter"):
        if kind == "ingress_filter" and not show.lines(kind):
            continue                     # no ingress qdisc: nothing to show under ffff:
        lines.append(f"$ {show.command(kind)}")
        lines.extend(show.lines(kind))
        data[kind] = list(show.lines(kind))
    _emit(fmt, lines, data)


@render.command("ovs-libvirt")
@_flavor_options
@click.option("--vm-uuid", default=_SERVER_ID, show_default=True)
def ovs_libvirt(properties: tuple[str, ...], vcpus: int, dev: str | None, vif_type: str,
                profile: str | None, fmt: str, vm_uuid: str) -> None:
    """The ovs-vsctl commands libvirt (>= 8.0) runs instead of tc for an OVS virtualport.

    \b
    Example:
      vmqos render ovs-libvirt --dev eth0 --property quota:vif_inbound_average=1024
    """
    request = _Request(properties, vcpus, dev, VifType.OVS_BRIDGE.value, profile)
    lines = compile_libvirt_ovs(request.dev, vm_uuid, request.bandwidth())
    _emit(fmt, lines, {"dev": request.dev, "commands": lines})


# `--backend` spells the SR-IOV agent `sriov` (its help says so); the others are the enum's values.
_BACKEND_OPTION = {("sriov" if b is NeutronBackend.SRIOV else b.value): b for b in NeutronBackend}


@render.command("neutron")
@click.option("--backend", type=click.Choice(list(_BACKEND_OPTION)),
              required=True, help="the Neutron QoS backend (sriov = sriovnicswitch agent)")
@click.option("--rule", "rules", multiple=True, required=True, metavar="TYPE:KEY=VALUE,...",
              help="a QoS rule, e.g. bandwidth_limit:max_kbps=3000,max_burst_kbps=300 "
                   "(repeatable; rules form one policy)")
@click.option("--dev", default=None, help="the port's device (tap/qvo/OVS port name)")
@click.option("--mac", default="fa:16:3e:00:00:01", show_default=True,
              help="the port's MAC (packet-rate flows match on it)")
@click.option("--network-type", default="vlan", show_default=True)
@click.option("--physical-network", default=None)
@format_option()
def neutron(backend: str, rules: tuple[str, ...], dev: str | None, mac: str,
            network_type: str, physical_network: str | None, fmt: str) -> None:
    """What the Neutron agent writes on the host for a port with these rules.

    \b
    Examples (the seed's bw-limiter):
      vmqos render neutron --backend ovs --rule bandwidth_limit:max_kbps=3000,max_burst_kbps=300
      vmqos render neutron --backend ovn --rule dscp_marking:dscp_mark=26
    """
    name = _BACKEND_OPTION[backend]
    policy = QosPolicy(name="cli")
    for text in rules:
        policy = add_rule(policy, parse_rule_spec(text))
    ctx = PortContext(port_id=_PORT_ID, port_name=dev or "", network_id="net",
                      network_type=network_type, physical_network=physical_network,
                      mac=mac, pf="eth1")
    plan = compile_neutron(name, ctx, policy.rules)
    lines = plan.commands()
    # What the agent skips, warns about or rounds: shell comments, so the text still runs.
    notes = list(plan.notes)
    _emit(fmt, [*lines, *(f"# note: {n}" for n in notes)],
          {"backend": name, "commands": lines, "notes": notes})
