"""The audit: read what a host actually enforces for each server and compare it with the plan.

Two objects are audited per server, each read by its own mechanism:

* the vmqos instance built by ``vmqos apply`` — tc through netlink, cgroup files and the disk's
  throttle, reconciled against the host plan; ``fix`` applies the minimal changes;
* the libvirt domain named as Nova names it — its XML (``virsh dumpxml``) against Nova's domain
  and, while it runs, what is enforced below libvirt (``virsh schedinfo``/``blkdeviotune``).
  Read-only: vmqos never changes a domain libvirt owns.

The command line prints :class:`ServerAudit` values; this module decides what they say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from vmqos.errors import ValidationError
from vmqos.host.apply import apply_host_plan, observe_host_state
from vmqos.host.facts import observe_host_facts
from vmqos.host.libvirt import libvirt_uri, libvirtd_reachable, live_domain, running_domain_xml
from vmqos.host.sandbox import Instance, list_instances
from vmqos.host.state import SandboxConfig
from vmqos.intent.scenario import Scenario, Server
from vmqos.observe.domain_diff import diff_domain_qos, diff_enforced
from vmqos.observe.tc_diff import diff_tc
from vmqos.observe.tc_text import parse_tc_show
from vmqos.observe.tc_transcript import parse_transcript
from vmqos.ops.plans import host_plans
from vmqos.plan.render.domain_xml_parse import parse_domain_xml
from vmqos.plan.render.tc_show import SHOW_KINDS
from vmqos.plan.server_plan import compile_server_plan, server_tc_shows
from vmqos.profile import Profile
from vmqos.reconcile.diff import reconcile, render_actions
from vmqos.reconcile.facts import HostFacts

__all__ = ["AuditStatus", "PortAudit", "Section", "ServerAudit", "TranscriptAudit",
           "audit_problems", "audit_servers", "audit_transcript"]


class AuditStatus(StrEnum):
    """What the audit found for one object of a server."""

    IN_SYNC = "in sync"
    DRIFTED = "drifted"
    FIXED = "fixed"  # it had drifted and ``fix`` reconciled it
    ABSENT = "absent"
    NOT_AUDITED = "not audited"  # its reader was unavailable (libvirtd not reachable)


@dataclass(frozen=True, slots=True)
class Section:
    """One audited object of a server: its status and the differences found."""

    status: AuditStatus
    differences: tuple[str, ...] = ()
    detail: str = ""

    @property
    def drifted(self) -> bool:
        return self.status is AuditStatus.DRIFTED

    @classmethod
    def judged(cls, differences: Sequence[str], *, detail: str = "") -> Section:
        """Drifted when anything differs from the plan, else in sync."""
        return cls(AuditStatus.DRIFTED if differences else AuditStatus.IN_SYNC,
                   tuple(differences), detail)


@dataclass(frozen=True, slots=True)
class ServerAudit:
    """Both objects of one server."""

    server: str
    instance: Section
    libvirt: Section

    @property
    def drifted(self) -> bool:
        return self.instance.drifted or self.libvirt.drifted

    @property
    def missing(self) -> bool:
        """Neither object exists: the server is enforced nowhere on this host."""
        return (self.instance.status is AuditStatus.ABSENT
                and self.libvirt.status in (AuditStatus.ABSENT, AuditStatus.NOT_AUDITED))


def audit_servers(scenario: Scenario, servers: Sequence[Server], profile: Profile,
                  config: SandboxConfig, *, fix: bool, facts: HostFacts | None = None,
                  libvirt: bool | None = None) -> list[ServerAudit]:
    """Audit each server's vmqos instance and libvirt domain on this host. ``facts`` and
    ``libvirt`` (whether libvirtd answers) are observed here unless the caller has them (the
    agent observes the kernel's facts once, and reports libvirtd's reachability itself)."""
    facts = observe_host_facts() if facts is None else facts
    reachable = libvirtd_reachable() if libvirt is None else libvirt
    # The record is read once: a lookup per server re-read and re-parsed it for each one.
    instances = {i.name: i for i in list_instances(config)}
    audits = []
    for server in servers:
        instance = _audit_instance(scenario, server, profile, facts, config,
                                   instances.get(server.name), fix=fix)
        domain = _audit_libvirt(scenario, server, profile) if reachable else Section(
            AuditStatus.NOT_AUDITED, detail=f"libvirtd not reachable at {libvirt_uri()}")
        audits.append(ServerAudit(server.name, instance, domain))
    return audits


def audit_problems(audits: Sequence[ServerAudit], *, fixed: bool) -> list[str]:
    """What makes the audit fail (exit 1), one sentence per kind; empty when all is well."""
    drifted = [a.server for a in audits if a.drifted]
    missing = [a.server for a in audits if a.missing]
    problems = []
    if drifted:
        fixable = not fixed and any(a.instance.drifted for a in audits)
        problems.append(f"{len(drifted)} server(s) drifted from the plan ({', '.join(drifted)}"
                        f"{'; --fix reconciles vmqos instances' if fixable else ''})")
    if missing:
        problems.append(f"{len(missing)} server(s) with neither a vmqos instance nor a libvirt "
                        f"domain ({', '.join(missing)})")
    return problems


def _audit_instance(scenario: Scenario, server: Server, profile: Profile, facts: HostFacts,
                    config: SandboxConfig, instance: Instance | None, *, fix: bool) -> Section:
    """The vmqos instance's tc, cgroup and disk state against its plan; ``fix`` reconciles."""
    if instance is None:
        return Section(AuditStatus.ABSENT, detail="no vmqos instance")
    plan = host_plans(scenario, [server], profile, facts, [instance])[0]
    actions = reconcile(plan.desired(), observe_host_state(plan, config.host_netns))
    if not actions:
        return Section(AuditStatus.IN_SYNC)
    differences = tuple(render_actions(actions))
    if fix:
        result = apply_host_plan(plan, netns=config.host_netns)
        return Section(AuditStatus.FIXED, differences,
                       detail=f"{len(result.lines())} change(s)")
    return Section(AuditStatus.DRIFTED, differences)


def _audit_libvirt(scenario: Scenario, server: Server, profile: Profile) -> Section:
    """The libvirt domain Nova would name for ``server``: its XML against Nova's domain and,
    while it runs, the enforcement below it. Read-only."""
    plan = compile_server_plan(scenario, server, profile)
    name = plan.domain.name
    xml = running_domain_xml(name)
    if xml is None:
        return Section(AuditStatus.ABSENT, detail=f"libvirt has no domain {name}")
    differences = diff_domain_qos(plan.domain, parse_domain_xml(xml))
    live = live_domain(name, [disk.target_dev for disk in plan.domain.disks])
    if live is not None:
        differences += diff_enforced(plan.domain, live)
    state = live.state if live is not None else "shut off: XML only"
    return Section.judged(differences, detail=f"domain {name}, {state}")


# --- a pasted transcript --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortAudit:
    """One port's tc state in a transcript against its plan."""

    device: str
    section: Section


@dataclass(frozen=True, slots=True)
class TranscriptAudit:
    """A server's ports as a transcript shows them."""

    server: str
    ports: tuple[PortAudit, ...]

    @property
    def drifted(self) -> bool:
        return any(p.section.drifted for p in self.ports)


def audit_transcript(scenario: Scenario, servers: Sequence[Server], profile: Profile,
                     text: str, *, source: str) -> tuple[list[TranscriptAudit], list[str]]:
    """Each server port's tc objects in a pasted ``tc … show`` transcript (``text``, read from
    ``source``) against the plan, and the transcript's devices that are no port of ``servers``.

    Pure: nothing on this host is read. A transcript that lists none of the servers' ports is
    a ValidationError (the wrong file, or the wrong scenario)."""
    listings = parse_transcript(text)
    audits = []
    for server in servers:
        ports = []
        for dev, show in server_tc_shows(scenario, server, profile).items():
            listing = listings.get(dev)
            if listing is None:
                ports.append(PortAudit(dev, Section(AuditStatus.NOT_AUDITED,
                                                    detail=f"not in {source}")))
                continue
            differences = diff_tc(parse_tc_show(show), listing.observed, listing.shown,
                                  style=profile.iproute2)
            ports.append(PortAudit(dev, Section.judged(
                differences, detail=", ".join(k for k in SHOW_KINDS if k in listing.shown))))
        audits.append(TranscriptAudit(server.name, tuple(ports)))
    known = {p.device for a in audits for p in a.ports}
    if not known & set(listings):
        raise ValidationError(
            f"--from-text {source}: the transcript lists tc state of {', '.join(listings)}, "
            f"none of which is a port of "
            f"{', '.join(s.name for s in servers)} (ports: {', '.join(sorted(known))})",
            key="--from-text", value=source,
            allowed="a transcript of `tc … show dev TAP` for the scenario's ports")
    return audits, [dev for dev in listings if dev not in known]
