"""What one Linux host offers for enforcement: the input that makes a host plan capability-aware.

Role: plain data observed by :func:`vmqos.host.facts.observe_host_facts` (which kinds of qdisc,
classifier, action and link the kernel accepts — probed by really adding them in a throwaway
namespace —, the cgroup hierarchy, PID 1, iproute2, ``/proc/net/psched``, and which daemons
and tools are installed), consumed by the pure strategy (:mod:`vmqos.reconcile.strategy`).

Invariants:

* Frozen and hashable; sets are ``frozenset``, mappings are sorted tuples of pairs.
* :meth:`HostFacts.to_json` / :meth:`HostFacts.from_json` round-trip exactly.
* ``probed`` is false when the kernel could not be probed (no root): the kind sets are then
  empty and mean "unknown", not "absent".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from vmqos.errors import PermanentHostError, ValidationError
from vmqos.plan.kernel.psched import DEFAULT_PSCHED, Psched
from vmqos.profile import CgroupVersion

__all__ = ["FULL_FACTS", "LIBVIRT_TC_KINDS", "PROBED_ACTIONS", "PROBED_CLASSIFIERS",
           "PROBED_LINK_KINDS", "PROBED_QDISCS", "HostFacts"]

# What the probe tries. libvirt's program needs htb, sfq, ingress, fw, u32 and police; the
# fallbacks need pfifo, tbf, mirred and the ifb link kind; the rest is reported for people.
PROBED_QDISCS = ("htb", "tbf", "pfifo", "sfq", "fq_codel", "prio", "ingress", "clsact")
PROBED_CLASSIFIERS = ("u32", "fw", "matchall", "basic", "flower")
PROBED_ACTIONS = ("police", "mirred", "gact")
PROBED_LINK_KINDS = ("veth", "ifb", "dummy")
# What libvirt's tc program uses (virNetDevBandwidthSet), by HostFacts field.
LIBVIRT_TC_KINDS = (("qdiscs", ("htb", "sfq", "ingress")), ("classifiers", ("fw", "u32")),
                    ("actions", ("police",)))


@dataclass(frozen=True, slots=True)
class HostFacts:
    qdiscs: frozenset[str] = frozenset()
    classifiers: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()
    link_kinds: frozenset[str] = frozenset()
    probed: bool = False
    cgroup_version: CgroupVersion = CgroupVersion.V1  # where the cpu controller lives
    cgroup_controllers: frozenset[str] = frozenset()  # usable controllers (cpu, blkio, io ...)
    cgroup_v1_mounts: tuple[tuple[str, str], ...] = ()  # (controller, mount point), sorted
    cgroup2_mount: str | None = None
    systemd: bool = False
    pid1: str = ""
    iproute2: str = ""                              # "6.1.0"
    psched_text: str = ""                           # /proc/net/psched, verbatim
    kernel: str = ""                                # uname -r
    libvirtd: bool = False
    ovs_vsctl: bool = False
    iperf3: bool = False

    @property
    def psched(self) -> Psched:
        """The host's tick parameters (tc's time <-> size conversion); defaults if unread."""
        return Psched.from_text(self.psched_text) if self.psched_text else DEFAULT_PSCHED

    @property
    def runs_libvirt_tc(self) -> bool:
        """Whether the kernel has every kind libvirt's tc program uses: then vmqos runs that
        program word for word (vmqos.reconcile.strategy)."""
        return all(set(kinds) <= getattr(self, field) for field, kinds in LIBVIRT_TC_KINDS)

    def v1_mount(self, controller: str) -> str | None:
        """Where a v1 controller is mounted (``/sys/fs/cgroup/cpu``), if it is."""
        for name, path in self.cgroup_v1_mounts:
            if name == controller:
                return path
        return None

    def cgroup_dir(self, controller: str, relative: str) -> str:
        """The directory of cgroup ``relative`` (``vmqos/vm1``) for one controller.

        On v2 every controller shares the unified hierarchy; v2's ``io`` is v1's ``blkio``.
        A controller the host does not offer is a host error, not the user's.
        """
        if self.cgroup_version is CgroupVersion.V2:
            if self.cgroup2_mount is None:
                raise PermanentHostError("host facts say cgroup v2 but name no cgroup2 mount",
                                         key="cgroup2_mount", value=None,
                                         allowed="the cgroup2 mount point")
            return f"{self.cgroup2_mount}/{relative}"
        mount = self.v1_mount(controller)
        if mount is None:
            raise PermanentHostError(
                f"the cgroup v1 {controller!r} controller is not mounted on this host",
                key="cgroup_v1_mounts", value=controller,
                allowed=", ".join(name for name, _ in self.cgroup_v1_mounts) or "none mounted")
        return f"{mount}/{relative}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif f.name == "cgroup_v1_mounts":
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HostFacts:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"unknown host facts field(s): {', '.join(unknown)}",
                                  key=unknown[0], value=data[unknown[0]],
                                  allowed=", ".join(sorted(known)))
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in ("qdiscs", "classifiers", "actions", "link_kinds",
                          "cgroup_controllers"):
                value = frozenset(value)
            elif f.name == "cgroup_v1_mounts":
                value = tuple(sorted(dict(value).items()))
            kwargs[f.name] = value
        return cls(**kwargs)


# A host with everything libvirt's program needs (a stock RHEL/Ubuntu/Debian kernel with its
# modules): what `vmqos plan` assumes when no host was probed, and what tests use to check
# that the libvirt-exact program is chosen when it can be.
FULL_FACTS = HostFacts(
    qdiscs=frozenset(PROBED_QDISCS),
    classifiers=frozenset(PROBED_CLASSIFIERS),
    actions=frozenset(PROBED_ACTIONS),
    link_kinds=frozenset(PROBED_LINK_KINDS),
    probed=False,
    cgroup_version=CgroupVersion.V1,
    cgroup_controllers=frozenset({"cpu", "cpuacct", "blkio"}),
    cgroup_v1_mounts=(("blkio", "/sys/fs/cgroup/blkio"), ("cpu", "/sys/fs/cgroup/cpu")),
    psched_text="000003e8 00000040 000f4240 3b9aca00",
)
