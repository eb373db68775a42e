"""Reading running libvirt domains (``virsh -c qemu:///system dumpxml``) for the audit.

Read-only: vmqos never defines, changes or destroys a libvirt domain. ``virsh`` is used rather
than libvirt-python so that no C extension has to build; its errors are translated once here.
"""

from __future__ import annotations

import shutil
import subprocess

from vmqos.errors import TemporaryHostError

__all__ = ["libvirtd_reachable", "running_domain_xml"]

_URI = "qemu:///system"
_TIMEOUT = 10


def libvirtd_reachable() -> bool:
    """True when virsh exists and the system libvirtd answers."""
    if shutil.which("virsh") is None:
        return False
    try:
        done = subprocess.run(["virsh", "-c", _URI, "version"], capture_output=True, text=True,
                              timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def running_domain_xml(name: str) -> str | None:
    """The live XML of domain ``name``, or None when libvirt has no such domain."""
    try:
        done = subprocess.run(["virsh", "-c", _URI, "dumpxml", name], capture_output=True,
                              text=True, timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise TemporaryHostError(f"virsh dumpxml {name} did not answer in {_TIMEOUT} s") \
            from exc
    if done.returncode == 0:
        return done.stdout
    if "failed to get domain" in done.stderr or "Domain not found" in done.stderr:
        return None
    raise TemporaryHostError(f"virsh dumpxml {name}: {done.stderr.strip()}")
