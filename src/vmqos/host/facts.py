"""Observe this host's facts: what its kernel and userland offer for enforcement.

Role: builds a :class:`vmqos.reconcile.facts.HostFacts`. Kernel support is *probed*, not
guessed from module lists: in a throwaway network namespace (``vmqos-probe-<pid>-<hex>``,
always removed) vmqos adds each qdisc, classifier and action kind the way it would use it,
with one ``tc -force -batch``, and records which the kernel accepted (a missing kind fails
with "Specified qdisc kind is unknown", "TC classifier not found" or "Failed to load TC
action module"). The rest is read from ``/proc`` and ``tc -V``.

Without root the probe cannot run: the facts say ``probed=False`` and leave the kind sets
empty ("unknown").
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

from vmqos.errors import HostError
from vmqos.host.runner import run, run_batch
from vmqos.profile import CgroupVersion
from vmqos.reconcile.facts import (
    PROBED_ACTIONS,
    PROBED_CLASSIFIERS,
    PROBED_LINK_KINDS,
    PROBED_QDISCS,
    HostFacts,
)

__all__ = ["observe_host_facts", "probe_kernel"]

_V1_CONTROLLERS = frozenset({"cpu", "cpuacct", "blkio", "memory", "pids", "cpuset", "devices",
                             "freezer", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma",
                             "misc"})
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
_IFB = "vmqosprobe0"
_LINK_TRIES = {
    "veth": ["link", "add", "p0", "type", "veth", "peer", "name", "p1"],
    "ifb": ["link", "add", _IFB, "type", "ifb"],
    "dummy": ["link", "add", "vmqosprobe1", "type", "dummy"],
}
# How each kind is tried: the words after `tc`. Qdiscs on p0's root (deleted again), ingress
# kept on p0 for the filters, clsact on p1 (it cannot share a device with ingress).
_QDISC_TRIES = {
    "htb": [["qdisc", "add", "dev", "p0", "root", "handle", "1:", "htb", "default", "1"],
            ["qdisc", "del", "dev", "p0", "root"]],
    "tbf": [["qdisc", "add", "dev", "p0", "root", "tbf", "rate", "1mbit", "burst", "10kb",
             "latency", "50ms"], ["qdisc", "del", "dev", "p0", "root"]],
    "pfifo": [["qdisc", "add", "dev", "p0", "root", "pfifo", "limit", "10"],
              ["qdisc", "del", "dev", "p0", "root"]],
    "sfq": [["qdisc", "add", "dev", "p0", "root", "sfq", "perturb", "10"],
            ["qdisc", "del", "dev", "p0", "root"]],
    "fq_codel": [["qdisc", "add", "dev", "p0", "root", "fq_codel"],
                 ["qdisc", "del", "dev", "p0", "root"]],
    "prio": [["qdisc", "add", "dev", "p0", "root", "prio"],
             ["qdisc", "del", "dev", "p0", "root"]],
    "clsact": [["qdisc", "add", "dev", "p1", "clsact"], ["qdisc", "del", "dev", "p1", "clsact"]],
    "ingress": [["qdisc", "add", "dev", "p0", "ingress"]],
}
_FILTER = ["filter", "add", "dev", "p0", "parent", "ffff:", "protocol", "all", "prio"]
# fw, matchall and basic with neither a class nor an action are refused by a kernel that has
# them ("Invalid argument", seen on Debian's 6.1 in the reference node, vmqos.node): each
# names a class, so that a refusal means the classifier is missing.
_CLASSIFIER_TRIES = {
    "u32": ["10", "u32", "match", "u32", "0", "0"],
    "fw": ["11", "handle", "1", "fw", "classid", "1:1"],
    "matchall": ["12", "matchall", "classid", "1:1"],
    "basic": ["13", "basic", "classid", "1:1"],
    "flower": ["14", "flower"],
}
_ACTION_TRIES = {
    # libvirt's own police filter (old-style u32 police), then new-style actions.
    "police": ["20", "u32", "match", "u32", "0", "0", "police", "rate", "1mbit", "burst",
               "100kb", "mtu", "64kb", "drop", "flowid", ":1"],
    "mirred": ["21", "u32", "match", "u32", "0", "0", "action", "mirred", "egress",
               "redirect", "dev", _IFB],
    "gact": ["22", "u32", "match", "u32", "0", "0", "action", "gact", "drop"],
}


def probe_kernel() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """(qdiscs, classifiers, actions, link kinds) the kernel accepts, tried for real."""
    netns = f"vmqos-probe-{os.getpid()}-{secrets.token_hex(3)}"
    run(["ip", "netns", "add", netns])
    try:
        links: set[str] = set()
        for kind in PROBED_LINK_KINDS:
            if not run_batch("ip", [_LINK_TRIES[kind]], netns=netns, force=True):
                links.add(kind)
        if "veth" not in links:
            return frozenset(), frozenset(), frozenset(), frozenset(links)
        run_batch("ip", [["link", "set", "p0", "up"], ["link", "set", "p1", "up"]],
                  netns=netns)
        lines: list[list[str]] = []
        owner: dict[int, tuple[str, str]] = {}
        for kind in PROBED_QDISCS:
            owner[len(lines)] = ("qdisc", kind)
            lines += _QDISC_TRIES[kind]
        for kinds, table, what in ((PROBED_CLASSIFIERS, _CLASSIFIER_TRIES, "classifier"),
                                   (PROBED_ACTIONS, _ACTION_TRIES, "action")):
            for kind in kinds:
                owner[len(lines)] = (what, kind)
                lines.append([*_FILTER, *table[kind]])
        failed = {f.index for f in run_batch("tc", lines, netns=netns, force=True)}
        found: dict[str, set[str]] = {"qdisc": set(), "classifier": set(), "action": set()}
        for index, (what, kind) in owner.items():
            if index not in failed:
                found[what].add(kind)
        return (frozenset(found["qdisc"]), frozenset(found["classifier"]),
                frozenset(found["action"]), frozenset(links))
    finally:
        run(["ip", "netns", "del", netns], check=False)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _cgroups() -> tuple[CgroupVersion, frozenset[str], tuple[tuple[str, str], ...], str | None]:
    v1: dict[str, str] = {}
    v2_mount: str | None = None
    for line in _read("/proc/self/mounts").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        mount, fstype, options = fields[1], fields[2], fields[3].split(",")
        if fstype == "cgroup":
            for option in options:
                if option in _V1_CONTROLLERS:
                    v1.setdefault(option, mount)
        elif fstype == "cgroup2" and v2_mount is None:
            v2_mount = mount
    v2_controllers = frozenset(_read(f"{v2_mount}/cgroup.controllers").split()) \
        if v2_mount else frozenset()
    if "cpu" in v1:
        version, controllers = CgroupVersion.V1, frozenset(v1)
    elif v2_mount is not None:
        version, controllers = CgroupVersion.V2, v2_controllers
    else:
        version, controllers = CgroupVersion.V1, frozenset()
    return version, controllers, tuple(sorted(v1.items())), v2_mount


def _iproute2() -> str:
    try:
        text = run(["tc", "-V"], check=False).stdout
    except HostError:
        return ""
    match = re.search(r"iproute2-(?:ss)?([0-9][\w.]*)", text)
    return match.group(1) if match else text.strip()


def _which(name: str) -> bool:
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:{_SBIN}") is not None


def observe_host_facts(*, probe: bool | None = None) -> HostFacts:
    """This host's facts. ``probe``: try the kernel (default: when running as root)."""
    if probe is None:
        probe = os.geteuid() == 0
    qdiscs = classifiers = actions = links = frozenset[str]()
    if probe:
        qdiscs, classifiers, actions, links = probe_kernel()
    version, controllers, v1, v2_mount = _cgroups()
    pid1 = _read("/proc/1/comm").strip()
    return HostFacts(
        qdiscs=qdiscs, classifiers=classifiers, actions=actions, link_kinds=links,
        probed=probe, cgroup_version=version, cgroup_controllers=controllers,
        cgroup_v1_mounts=v1, cgroup2_mount=v2_mount, systemd=pid1 == "systemd", pid1=pid1,
        iproute2=_iproute2(), psched_text=_read("/proc/net/psched").strip(),
        kernel=os.uname().release, libvirtd=_which("libvirtd"), ovs_vsctl=_which("ovs-vsctl"),
        iperf3=_which("iperf3"))
