"""Instances without a hypervisor: a sandbox per server that stands in for the guest.

An :class:`Instance` is

* a network namespace ``<prefix>-<server>``: the guest side;
* per port, a veth pair: the host end carries Nova's tap name (``tap`` + the port id's first
  11 characters, in the host namespace — this process's, or ``$VMQOS_HOST_NETNS``), the guest
  end is ``ethN`` in the instance's namespace; each pair gets a /30 from 198.18.0.0/15 (RFC
  2544's benchmarking range), host ``.1``, guest ``.2``, on these veths only;
* a cgroup ``<prefix>/<server>`` for the guest's processes (v1: in the cpu and blkio
  hierarchies; v2: one directory with cpu and io enabled);
* a loop device over a sparse file ``<state dir>/disks/<prefix>-<server>.img``: its local disk.

Invariants: every object is recorded in the state file (:mod:`vmqos.host.state`) before it is
created; :func:`ensure_instance` refuses to adopt a device, namespace or cgroup it did not
record (a real Nova tap with the same name is never touched); cleanup removes
exactly the recorded objects, tolerating those already gone, so cleanup is idempotent and
finishes one that was interrupted. Cleanup ends the sandbox's own processes (those in its
cgroups and namespace) before removing its cgroups; it detaches a loop device only while it is
bound to vmqos's backing file, deletes IFBs only of kind ``ifb`` and taps only of kind
``veth`` (their qdiscs go with them).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import signal
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from vmqos.errors import HostError, PermanentHostError
from vmqos.host import cgroupfs
from vmqos.host.errors_map import from_oserror, translate
from vmqos.host.netlink import NETNS_RUN_DIR, NetlinkReader
from vmqos.host.runner import run, run_batch
from vmqos.host.state import SandboxConfig, StateFile, locked_state
from vmqos.intent.neutron.network import tap_name
from vmqos.profile import CgroupVersion
from vmqos.reconcile.facts import HostFacts
from vmqos.reconcile.host_plan import SandboxLayout
from vmqos.reconcile.strategy import ifb_name

__all__ = ["Instance", "SandboxPort", "ensure_host_netns", "ensure_instance", "find_instance",
           "host_links", "list_instances", "netns_exists", "remove_all", "remove_instance"]

_NET = ipaddress.IPv4Network("198.18.0.0/15")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class SandboxPort:
    port_id: str
    tap: str                 # host end, Nova's name, in the host namespace
    guest_if: str            # guest end, in the instance's namespace
    host_ip: str
    guest_ip: str
    prefixlen: int
    subnet: int              # index of its /30 in 198.18.0.0/15


@dataclass(frozen=True, slots=True)
class Instance:
    name: str
    netns: str               # the guest side
    host_netns: str | None   # where the taps are (None: vmqos's own namespace)
    ports: tuple[SandboxPort, ...]
    cgroup: str              # relative: "<prefix>/<server>"
    cgroup_dirs: tuple[str, ...]  # absolute, one per hierarchy (v1 cpu, blkio; v2 one)
    disk_file: str
    loop_device: str
    disk: str                # "MAJ:MIN" of the loop device

    def layout(self) -> SandboxLayout:
        return SandboxLayout(self.name, tuple(p.tap for p in self.ports), self.cgroup,
                             self.disk or None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Instance:
        ports = tuple(SandboxPort(**p) for p in data["ports"])
        return cls(**{**data, "ports": ports, "cgroup_dirs": tuple(data["cgroup_dirs"])})


def _safe(name: str) -> str:
    return _SAFE.sub("-", name)[:40]


def netns_exists(name: str) -> bool:
    return Path(NETNS_RUN_DIR, name).exists()


def _netns_pids(name: str) -> list[int]:
    """The processes inside a named namespace (none if it is gone)."""
    if not netns_exists(name):
        return []
    return [int(p) for p in run(["ip", "netns", "pids", name], check=False).stdout.split()]


def ensure_host_netns(config: SandboxConfig, state: StateFile) -> None:
    """Create ``$VMQOS_HOST_NETNS`` if it is set and missing, and record it as vmqos's."""
    name = config.host_netns
    if name is None or netns_exists(name):
        return
    state.owned_host_netns = name
    state.save()
    run(["ip", "netns", "add", name])
    run(["ip", "-n", name, "link", "set", "lo", "up"])


def host_links(netns: str | None) -> dict[str, str]:
    with NetlinkReader(netns) as reader:
        return {link.name: link.kind for link in reader.links()}


def _free_subnets(state: StateFile, count: int) -> list[int]:
    used = {port["subnet"] for inst in state.instances.values() for port in inst["ports"]}
    out: list[int] = []
    index = 0
    while len(out) < count:
        if index not in used:
            out.append(index)
        index += 1
    return out


def _address(subnet: int, host: int) -> str:
    return str(_NET.network_address + subnet * 4 + host)


def _plan_instance(config: SandboxConfig, facts: HostFacts, state: StateFile, name: str,
                   port_ids: tuple[str, ...]) -> Instance:
    relative = f"{config.prefix}/{_safe(name)}"
    if facts.cgroup_version is CgroupVersion.V2:
        dirs: tuple[str, ...] = (facts.cgroup_dir("cpu", relative),)
    else:
        dirs = tuple(dict.fromkeys((facts.cgroup_dir("cpu", relative),
                                    facts.cgroup_dir("blkio", relative))))
    ports = tuple(
        SandboxPort(port_id=pid, tap=tap_name(pid), guest_if=f"eth{i}",
                    host_ip=_address(subnet, 1), guest_ip=_address(subnet, 2), prefixlen=30,
                    subnet=subnet)
        for i, (pid, subnet) in enumerate(zip(port_ids, _free_subnets(state, len(port_ids)),
                                              strict=True)))
    disk_file = config.disk_dir / f"{config.prefix}-{_safe(name)}.img"
    return Instance(name=name, netns=f"{config.prefix}-{_safe(name)}",
                    host_netns=config.host_netns, ports=ports, cgroup=relative,
                    cgroup_dirs=dirs, disk_file=str(disk_file), loop_device="", disk="")


def _check_free(instance: Instance) -> None:
    """Refuse to create over objects vmqos did not record (never adopt a stranger)."""
    if netns_exists(instance.netns):
        raise PermanentHostError(f"namespace {instance.netns} exists but vmqos did not create "
                                 "it; refusing to touch it")
    links = host_links(instance.host_netns)
    for port in instance.ports:
        for dev in (port.tap, ifb_name(port.tap)):
            if dev in links:
                raise PermanentHostError(f"device {dev} exists but vmqos did not create it; "
                                         "refusing to touch it")
    for directory in instance.cgroup_dirs:
        if Path(directory).exists():
            raise PermanentHostError(f"cgroup {directory} exists but vmqos did not create "
                                     "it; refusing to touch it")


def _backing_takes_direct_io(path: str) -> bool:
    """Whether the disk file's file system accepts O_DIRECT, which the loop device's own
    ``--direct-io=on`` needs (else LOOP_CONFIGURE fails with EINVAL). tmpfs, and an overlay on
    it, refuse it before Linux 6.6 — the reference node's root (vmqos.node) is such an overlay.
    Without it the loop device reads its backing file through the page cache; the limits vmqos
    measures are on the loop device itself (O_DIRECT on /dev/loopN, throttled per cgroup), so
    they are unaffected."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return False
        raise from_oserror(exc, f"opening {path}") from exc
    os.close(fd)
    return True


def _create(config: SandboxConfig, facts: HostFacts, state: StateFile,
            instance: Instance) -> Instance:
    run(["ip", "netns", "add", instance.netns])
    host_cmds: list[list[str]] = []
    guest_cmds: list[list[str]] = [["link", "set", "lo", "up"]]
    for port in instance.ports:
        host_cmds += [
            ["link", "add", port.tap, "type", "veth", "peer", "name", port.guest_if,
             "netns", instance.netns],
            ["addr", "add", f"{port.host_ip}/{port.prefixlen}", "dev", port.tap],
            ["link", "set", port.tap, "up"],
        ]
        guest_cmds += [
            ["addr", "add", f"{port.guest_ip}/{port.prefixlen}", "dev", port.guest_if],
            ["link", "set", port.guest_if, "up"],
        ]
    run_batch("ip", host_cmds, netns=instance.host_netns)
    run_batch("ip", guest_cmds, netns=instance.netns)
    prefix_dirs: list[str] = []
    for directory in instance.cgroup_dirs:
        created = cgroupfs.make_cgroup(directory)
        prefix_dirs += [d for d in created if d != directory]
    if facts.cgroup_version is CgroupVersion.V2 and facts.cgroup2_mount is not None:
        cgroupfs.enable_v2_controllers(facts.cgroup2_mount, instance.cgroup, ("cpu", "io"))
    for directory in prefix_dirs:
        if directory not in state.shared_cgroups:
            state.shared_cgroups.append(directory)
    with translate(f"creating {instance.disk_file}"):
        Path(instance.disk_file).parent.mkdir(parents=True, exist_ok=True)
        with open(instance.disk_file, "wb") as disk:
            disk.truncate(config.disk_bytes)
    direct = ["--direct-io=on"] if _backing_takes_direct_io(instance.disk_file) else []
    loop = run(["losetup", "--find", "--show", *direct, instance.disk_file]).stdout.strip()
    with translate(f"reading {loop}"):
        rdev = os.stat(loop).st_rdev
    done = replace(instance, loop_device=loop, disk=f"{os.major(rdev)}:{os.minor(rdev)}")
    state.instances[instance.name] = done.to_json()
    state.save()
    return done


def _check_present(instance: Instance) -> list[str]:
    missing: list[str] = []
    if not netns_exists(instance.netns):
        missing.append(f"namespace {instance.netns}")
    links = host_links(instance.host_netns)
    missing += [f"tap {p.tap}" for p in instance.ports if p.tap not in links]
    missing += [f"cgroup {d}" for d in instance.cgroup_dirs if not Path(d).is_dir()]
    if not instance.loop_device or not Path(instance.loop_device).exists():
        missing.append(f"loop device {instance.loop_device or '(none)'}")
    return missing


def ensure_instance(config: SandboxConfig, facts: HostFacts, name: str,
                    port_ids: tuple[str, ...]) -> tuple[Instance, bool]:
    """The sandbox of server ``name`` with these ports, created if vmqos has none; returns it
    and whether it was created now."""
    with locked_state(config) as state:
        ensure_host_netns(config, state)
        record = state.instances.get(name)
        if record is not None:
            instance = Instance.from_json(record)
            if tuple(p.port_id for p in instance.ports) != port_ids:
                raise PermanentHostError(
                    f"sandbox {name} exists with other ports; run `vmqos cleanup` first")
            missing = _check_present(instance)
            if missing:
                raise PermanentHostError(
                    f"sandbox {name} is incomplete ({', '.join(missing)} gone); run "
                    "`vmqos cleanup` and apply again")
            return instance, False
        instance = _plan_instance(config, facts, state, name, port_ids)
        _check_free(instance)
        # Record first: if anything below fails, cleanup still knows every name.
        state.instances[name] = instance.to_json()
        state.save()
        return _create(config, facts, state, instance), True


def list_instances(config: SandboxConfig) -> list[Instance]:
    return [Instance.from_json(r) for r in StateFile.load(config).instances.values()]


def find_instance(config: SandboxConfig, name: str) -> Instance | None:
    return next((i for i in list_instances(config) if i.name == name), None)


# --- cleanup: remove exactly what the record names -----------------------------------------


def _end_processes(pids: list[int]) -> None:
    """SIGKILL the sandbox's own processes (a guest's workload) and wait, at most 5 s."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        except OSError as exc:
            raise PermanentHostError(f"cannot end sandbox process {pid}: {exc.strerror}"
                                     ) from exc
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _alive(p)]
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Still running (a zombie has left its cgroup and namespace already)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat.rsplit(") ", 1)[-1].startswith("Z")


def _loop_is_ours(device: str, backing: str) -> bool:
    done = run(["losetup", "--list", "--noheadings", "--output", "BACK-FILE", device],
               check=False)
    return done.returncode == 0 and done.stdout.strip().removesuffix(" (deleted)") == backing


def remove_instance(config: SandboxConfig, instance: Instance, state: StateFile) -> list[str]:
    """Remove every object of ``instance`` that still exists; returns what was removed."""
    removed: list[str] = []
    pids = [pid for d in instance.cgroup_dirs for pid in cgroupfs.cgroup_pids(d)]
    _end_processes(sorted({*pids, *_netns_pids(instance.netns)}))
    for directory in instance.cgroup_dirs:
        if cgroupfs.remove_cgroup(directory):
            removed.append(f"cgroup {directory}")
    if instance.loop_device and _loop_is_ours(instance.loop_device, instance.disk_file):
        try:
            run(["losetup", "--detach", instance.loop_device])
        except HostError:
            # Detached meanwhile (by hand, or an autoclear finishing): fine if it is no
            # longer ours; a device still bound to our file is a real failure.
            if _loop_is_ours(instance.loop_device, instance.disk_file):
                raise
        removed.append(f"loop device {instance.loop_device}")
    if Path(instance.disk_file).exists():
        with translate(f"removing {instance.disk_file}"):
            Path(instance.disk_file).unlink()
        removed.append(f"disk file {instance.disk_file}")
    links = host_links(instance.host_netns) if (
        instance.host_netns is None or netns_exists(instance.host_netns)) else {}
    deletes: list[list[str]] = []
    for port in instance.ports:
        ifb = ifb_name(port.tap)
        if links.get(ifb) == "ifb":
            deletes.append(["link", "del", ifb])
            removed.append(f"IFB {ifb}")
        if links.get(port.tap) == "veth":
            deletes.append(["link", "del", port.tap])
            removed.append(f"veth {port.tap}")
    if run_batch("ip", deletes, netns=instance.host_netns, force=True):
        # A veth also goes when its peer's namespace is deleted (asynchronously): a device
        # gone meanwhile is fine, one still there is a failure.
        left = set(host_links(instance.host_netns)) & {words[2] for words in deletes}
        if left:
            raise PermanentHostError(f"cannot delete {', '.join(sorted(left))}")
    if netns_exists(instance.netns):
        run(["ip", "netns", "del", instance.netns])
        removed.append(f"namespace {instance.netns}")
    state.instances.pop(instance.name, None)
    state.save()
    return removed


def remove_all(config: SandboxConfig) -> list[str]:
    """``vmqos cleanup``: every recorded instance, then the prefix-level objects."""
    removed: list[str] = []
    errors: list[str] = []
    with locked_state(config) as state:
        for record in list(state.instances.values()):
            instance = Instance.from_json(record)
            try:
                removed += remove_instance(config, instance, state)
            except HostError as exc:
                errors.append(f"{instance.name}: {exc}")
        if not errors:
            for directory in sorted(state.shared_cgroups, key=len, reverse=True):
                path = Path(directory)
                if path.is_dir() and not any(p.is_dir() for p in path.iterdir()):
                    cgroupfs.remove_cgroup(directory)
                    removed.append(f"cgroup {directory}")
            state.shared_cgroups = []
            if state.owned_host_netns and netns_exists(state.owned_host_netns):
                # Measurement peers (iperf3) run there; a lab killed outright leaves them.
                _end_processes(_netns_pids(state.owned_host_netns))
                run(["ip", "netns", "del", state.owned_host_netns])
                removed.append(f"namespace {state.owned_host_netns}")
            state.owned_host_netns = None
            disk_dir = config.disk_dir
            if disk_dir.is_dir() and not any(disk_dir.iterdir()):
                disk_dir.rmdir()
    if errors:
        raise PermanentHostError("cleanup incomplete: " + "; ".join(errors))
    return removed
