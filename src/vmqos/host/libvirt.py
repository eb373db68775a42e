"""Reading libvirt domains for the audit: ``virsh dumpxml`` and, for a running domain, what its
cgroup and QEMU enforce (``virsh schedinfo --live``, ``virsh blkdeviotune --live``).

Read-only: vmqos never defines, changes or destroys a libvirt domain. ``virsh`` is used rather
than libvirt-python so that no C extension has to build; its errors are translated once here.
The connection is ``$LIBVIRT_DEFAULT_URI`` when set (as for virsh itself), else
``qemu:///system``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from vmqos.errors import HostError, TemporaryHostError
from vmqos.host.runner import run
from vmqos.observe.virsh import LiveDomain, parse_blkdeviotune, parse_schedinfo

__all__ = ["libvirt_uri", "libvirtd_reachable", "live_domain", "running_domain_xml"]

_TIMEOUT = 10
_ACTIVE = ("running", "paused", "blocked", "in shutdown", "pmsuspended")


def libvirt_uri() -> str:
    """The libvirt connection vmqos reads."""
    return os.environ.get("LIBVIRT_DEFAULT_URI") or "qemu:///system"


def _virsh(*args: str) -> subprocess.CompletedProcess[str]:
    # The runner turns a timeout into a TemporaryHostError, a missing virsh into a
    # PermanentHostError; the exit status is judged by each caller.
    return run(["virsh", "-c", libvirt_uri(), *args], check=False, timeout=_TIMEOUT)


def _missing(done: subprocess.CompletedProcess[str]) -> bool:
    return "failed to get domain" in done.stderr or "Domain not found" in done.stderr


def libvirtd_reachable() -> bool:
    """True when virsh exists and libvirtd answers at :func:`libvirt_uri`."""
    if shutil.which("virsh") is None:
        return False
    try:
        return _virsh("uri").returncode == 0
    except HostError:
        return False


def running_domain_xml(name: str) -> str | None:
    """The XML of domain ``name`` (live when it runs), or None when libvirt has no such
    domain."""
    done = _virsh("dumpxml", name)
    if done.returncode == 0:
        return done.stdout
    if _missing(done):
        return None
    raise TemporaryHostError(f"virsh dumpxml {name}: {done.stderr.strip()}")


def live_domain(name: str, disks: Sequence[str]) -> LiveDomain | None:
    """What domain ``name`` enforces now: its cgroup's CPU controls and QEMU's throttling of
    each of ``disks`` (target devs). None when the domain does not exist or is not active."""
    state = _virsh("domstate", name)
    if state.returncode != 0:
        if _missing(state):
            return None
        raise TemporaryHostError(f"virsh domstate {name}: {state.stderr.strip()}")
    status = state.stdout.strip()
    if status not in _ACTIVE:
        return None
    sched = _virsh("schedinfo", "--live", name)
    if sched.returncode != 0:
        raise TemporaryHostError(f"virsh schedinfo {name}: {sched.stderr.strip()}")
    iotune = {}
    for dev in disks:
        done = _virsh("blkdeviotune", "--live", name, dev)
        if done.returncode != 0:
            raise TemporaryHostError(f"virsh blkdeviotune {name} {dev}: {done.stderr.strip()}")
        iotune[dev] = parse_blkdeviotune(done.stdout)
    return LiveDomain(name=name, state=status, sched=parse_schedinfo(sched.stdout),
                      iotune=iotune)
