"""Everything one compute node produces for one server, as one value.

:func:`compile_server_plan` strings the renderers together: the libvirt domain (Nova's XML),
QEMU block throttling (legacy ``-drive`` options or QMP, per profile), the cgroup writes, and
per interface libvirt's tc or ovs-vsctl program, the ``tc show`` text it leaves, and what the
Neutron agent writes for the port's effective policy. The API returns this value as a
server's plan; the CLI prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.intent.neutron.binding import effective_policy_id
from vmqos.intent.neutron.network import Network
from vmqos.intent.nova.volume_qos import parse_volume_qos
from vmqos.intent.scenario import Scenario, Server
from vmqos.libvirt_types import DomainSpec, InterfaceDevice, IoTune
from vmqos.model import NeutronBackend
from vmqos.plan.enforcement import LibvirtPort, libvirt_port, neutron_device
from vmqos.plan.neutron.registry import PortContext, compile_neutron
from vmqos.plan.nova.compile import compile_domain
from vmqos.plan.render.cgroup import compile_cgroup_writes, render_cgroup_script
from vmqos.plan.render.domain_xml import render_domain_xml
from vmqos.plan.render.ovs_libvirt import compile_libvirt_ovs
from vmqos.plan.render.qemu import render_drive_option, render_qmp_text
from vmqos.plan.render.tc import render_tc_program
from vmqos.plan.render.tc_show import TcShow, render_tc_show
from vmqos.profile import Profile, QemuThrottle

__all__ = ["InterfacePlan", "ServerPlan", "compile_server_plan", "render_server_plan_text",
           "server_tc_shows"]


@dataclass(frozen=True, slots=True)
class InterfacePlan:
    port_id: str
    dev: str
    vif_type: str
    libvirt_tc: tuple[str, ...]          # libvirt's tc commands (taps, macvtap)
    libvirt_ovs: tuple[str, ...]         # libvirt's ovs-vsctl commands (OVS virtualports)
    tc_show: tuple[str, ...]             # `tc qdisc/class/filter show dev` afterwards
    neutron_backend: NeutronBackend
    neutron_policy: str | None
    neutron_commands: tuple[str, ...]
    neutron_notes: tuple[str, ...] = ()  # what the agent skips, warns about or rounds


@dataclass(frozen=True, slots=True)
class ServerPlan:
    server: str
    profile: str
    domain: DomainSpec
    domain_xml: str
    qemu_throttle: QemuThrottle
    qemu: tuple[str, ...]                # -drive options or QMP commands, one per disk
    cgroup: tuple[str, ...]              # the cgroup writes as shell lines
    interfaces: tuple[InterfacePlan, ...]


def _volume_iotunes(server: Server) -> dict[str, IoTune]:
    out: dict[str, IoTune] = {}
    for volume in server.volumes:
        qos = parse_volume_qos(volume.qos_specs).as_forwarded_by_nova()
        out[volume.id] = IoTune(**{k: getattr(qos, k) for k in IoTune.__dataclass_fields__})
    return out


def _tc_show(iface: InterfaceDevice, network: Network, libvirt: LibvirtPort,
             profile: Profile) -> TcShow:
    """What `tc … show dev` prints for ``iface`` once libvirt has started the domain."""
    return render_tc_show(iface.dev, libvirt.tc_bandwidth, swapped=iface.vif_type.swapped,
                          iproute2=profile.iproute2, mtu=network.mtu, noqueue=libvirt.noqueue,
                          ingress_removed_by_ovs=libvirt.ingress_removed_by_ovs)


def server_tc_shows(scenario: Scenario, server: Server, profile: Profile) -> dict[str, TcShow]:
    """Per interface device of ``server``, all four `tc … show` listings the plan leaves
    (:data:`~vmqos.plan.render.tc_show.SHOW_KINDS`, the ingress filters included, which
    :class:`InterfacePlan` leaves out as the seed note does): what an audit compares with."""
    flavor = scenario.flavor(server.flavor)
    ports = [scenario.port(p) for p in server.ports]
    networks = [scenario.network(p.network_id) for p in ports]
    domain = compile_domain(server, flavor, flavor.quota, ports, profile,
                            volume_iotunes=_volume_iotunes(server), networks=networks)
    return {iface.dev: _tc_show(iface, network, libvirt_port(
                iface.vif_type, iface.bandwidth, profile, scenario.neutron_backend), profile)
            for network, iface in zip(networks, domain.interfaces, strict=True)}


def compile_server_plan(scenario: Scenario, server: Server, profile: Profile) -> ServerPlan:
    flavor = scenario.flavor(server.flavor)
    quota = flavor.quota
    ports = [scenario.port(p) for p in server.ports]
    networks = [scenario.network(p.network_id) for p in ports]
    domain = compile_domain(server, flavor, quota, ports, profile,
                            volume_iotunes=_volume_iotunes(server), networks=networks)

    if profile.qemu_throttle is QemuThrottle.DRIVE:
        qemu = tuple(f"-drive {render_drive_option(d)}" for d in domain.disks)
    else:
        qemu = tuple(text for d in domain.disks if (text := render_qmp_text(d)))

    writes = compile_cgroup_writes(server.domain_id or 1, domain.name, domain.vcpus,
                                   domain.cputune, profile)
    cgroup = tuple(line for line in render_cgroup_script(writes).splitlines() if line)

    policies = {p.id: p for p in scenario.policies}
    interfaces = []
    for port, network, iface in zip(ports, networks, domain.interfaces, strict=True):
        libvirt = libvirt_port(iface.vif_type, iface.bandwidth, profile,
                               scenario.neutron_backend)
        tc = tuple(render_tc_program(iface.dev, libvirt.tc_bandwidth,
                                     swapped=iface.vif_type.swapped))
        ovs = tuple(compile_libvirt_ovs(iface.dev, server.id, libvirt.applied)) if (
            libvirt.uses_ovsdb and libvirt.applied is not None) else ()
        show = _tc_show(iface, network, libvirt, profile)
        policy_id = effective_policy_id(port, network, backend=scenario.neutron_backend)
        policy = policies.get(policy_id) if policy_id else None
        commands: tuple[str, ...] = ()
        notes: tuple[str, ...] = ()
        if policy is not None:
            # The device the agent programs: the qvo end for OVS hybrid plug, as explain says.
            ctx = PortContext(port_id=port.id,
                              port_name=neutron_device(port, scenario.neutron_backend),
                              network_id=network.id,
                              network_type=network.network_type,
                              physical_network=network.physical_network, mac=port.mac,
                              mtu=network.mtu, device_owner=port.device_owner)
            agent = compile_neutron(scenario.neutron_backend, ctx, policy.rules)
            commands, notes = tuple(agent.commands()), agent.notes
        interfaces.append(InterfacePlan(
            port_id=port.id,
            dev=iface.dev,
            vif_type=iface.vif_type.value,
            libvirt_tc=tc,
            libvirt_ovs=ovs,
            tc_show=tuple(show.lines("qdisc") + show.lines("class") + show.lines("filter")),
            neutron_backend=scenario.neutron_backend,
            neutron_policy=policy.name if policy else None,
            neutron_commands=commands,
            neutron_notes=notes,
        ))

    return ServerPlan(
        server=server.name,
        profile=profile.name,
        domain=domain,
        domain_xml=render_domain_xml(domain),
        qemu_throttle=profile.qemu_throttle,
        qemu=qemu,
        cgroup=cgroup,
        interfaces=tuple(interfaces),
    )


def render_server_plan_text(plan: ServerPlan) -> str:
    """The plan as a readable report: sections with the artifacts verbatim."""
    out = [f"### {plan.server} (profile {plan.profile})", "", "# libvirt domain XML (Nova)",
           plan.domain_xml.rstrip("\n"), ""]
    out.append("# QEMU block throttling ("
               + ("-drive options" if plan.qemu_throttle is QemuThrottle.DRIVE
                  else "QMP, sent by libvirt after start") + ")")
    out.extend(plan.qemu or ("(no disk throttling)",))
    out += ["", "# cgroup writes"]
    out.extend(plan.cgroup or ("(nothing: kernel defaults)",))
    for iface in plan.interfaces:
        out += ["", f"# interface {iface.dev} (port {iface.port_id}, vif {iface.vif_type})"]
        if iface.libvirt_ovs:
            out.append("## libvirt: ovs-vsctl")
            out.extend(iface.libvirt_ovs)
        else:
            out.append("## libvirt: tc")
            out.extend(iface.libvirt_tc or ("(no <bandwidth>: nothing)",))
        out.append(f"## tc show dev {iface.dev}")
        out.extend(iface.tc_show)
        out.append(f"## Neutron {iface.neutron_backend}: "
                   + (f"policy {iface.neutron_policy}" if iface.neutron_policy else "no policy"))
        out.extend(iface.neutron_commands)
        out.extend(f"# note: {note}" for note in iface.neutron_notes)
    return "\n".join(out) + "\n"
