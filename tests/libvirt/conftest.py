"""A real libvirtd with real QEMU domains for the audit tests.

The system libvirtd (``qemu:///system``) is started here when it is not already running —
without systemd, as ENVIRONMENT.md describes — and stopped afterwards when this fixture started
it. Domains are ``type='qemu'`` (TCG: KVM guests abort on this machine), started ``--paused``
with an empty qcow2 disk: libvirt still creates their cgroups and hands QEMU the block
throttling, which is what the audit reads. Every domain a test makes is destroyed and
undefined afterwards.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from libvirt_tool import URI, Define, runnable_here, virsh

KVM = Path("/dev/kvm")


def _reachable() -> bool:
    return subprocess.run(["virsh", "-c", URI, "uri"], capture_output=True,
                          timeout=30, check=False).returncode == 0


def _pid(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pidfile: str) -> bool:
    pid = _pid(pidfile)
    return pid is not None and Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="session")
def libvirtd() -> Iterator[None]:
    missing = [tool for tool in ("virsh", "libvirtd", "virtlogd", "qemu-img",
                                 "qemu-system-x86_64") if shutil.which(tool) is None]
    if missing:  # a missing install step must fail, not skip
        pytest.fail(f"not installed: {', '.join(missing)} (scripts/setup.sh --with-libvirt)")
    # What Debian's libvirt-daemon-system would have made: QEMU's user and groups, libvirt's
    # folders (setup.sh installs libvirt without it, as ENVIRONMENT.md says).
    for group in ("kvm", "libvirt-qemu"):
        try:
            grp.getgrnam(group)
        except KeyError:
            subprocess.run(["groupadd", "-f", group], check=True, timeout=30)
    try:
        pwd.getpwnam("libvirt-qemu")
    except KeyError:
        subprocess.run(["useradd", "-r", "-g", "kvm", "libvirt-qemu"], check=True, timeout=30)
    for folder in ("/var/log/libvirt", "/var/run/libvirt"):
        Path(folder).mkdir(parents=True, exist_ok=True)
    kvm = _kvm_as_udev_leaves_it()
    started: list[str] = []
    if not _reachable():
        for daemon, pidfile in (("virtlogd", "/var/run/virtlogd.pid"),
                                ("libvirtd", "/var/run/libvirtd.pid")):
            if _alive(pidfile):
                continue
            subprocess.run([daemon, "-d"], check=True, timeout=30)
            started.append(pidfile)
        deadline = time.monotonic() + 30
        while not _reachable():
            if time.monotonic() > deadline:
                pytest.fail("libvirtd started but did not answer at qemu:///system in 30 s")
            time.sleep(0.2)
    yield
    for pidfile in reversed(started):
        pid = _pid(pidfile)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
    if kvm is not None:
        os.chown(KVM, kvm[1], kvm[2])
        KVM.chmod(kvm[0])


def _kvm_as_udev_leaves_it() -> tuple[int, int, int] | None:
    """Give /dev/kvm the owner and mode udev gives it on a Debian host (root:kvm 0660), when
    it lacks them; return what it was, to restore afterwards.

    Why: this machine has no udev, so /dev/kvm is root:root 0600. libvirt probes QEMU's
    capabilities as root (KVM usable) but checks them as libvirt-qemu (KVM not usable), finds
    its cache outdated on every lookup and re-probes: 47 s for each `virsh define`."""
    if not KVM.exists():
        return None
    before = KVM.stat()
    group = grp.getgrnam("kvm").gr_gid
    if before.st_gid == group and before.st_mode & 0o060 == 0o060:
        return None
    os.chown(KVM, 0, group)
    KVM.chmod(0o660)
    return stat.S_IMODE(before.st_mode), before.st_uid, before.st_gid


@pytest.fixture
def domains(libvirtd: None) -> Iterator[Callable[[str, bool], str]]:
    """``make(nova_xml, start)``: define (and start paused) a domain from Nova's XML; returns
    its name. All of them are destroyed and undefined afterwards."""
    made: list[str] = []
    # QEMU runs as libvirt-qemu and cannot enter pytest's private (0700) tmp_path.
    folder = Path(tempfile.mkdtemp(prefix="vmqos-libvirt-"))
    folder.chmod(0o755)

    def make(nova_xml: str, start: bool) -> str:
        name = ET.fromstring(nova_xml).findtext("name")
        assert name
        disk = folder / f"{name}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "64M"],
                       check=True, timeout=60)
        xml = folder / f"{name}.xml"
        xml.write_text(runnable_here(nova_xml, disk, start=start))
        virsh("define", str(xml))
        made.append(name)
        if start:
            virsh("start", "--paused", name)
        return name

    yield make
    for name in made:
        virsh("destroy", name, check=False)
        virsh("undefine", name, check=False)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def define(libvirtd: None, tmp_path: Path) -> Iterator[Define]:
    """``define(nova_xml)``: ``virsh define`` of Nova's XML as this machine can hold it (see
    ``runnable_here``), its result returned as it is; every domain it made is undefined."""
    made: list[str] = []

    def run(nova_xml: str) -> subprocess.CompletedProcess[str]:
        name = ET.fromstring(nova_xml).findtext("name")
        assert name
        path = tmp_path / f"{name}.xml"
        path.write_text(runnable_here(nova_xml, tmp_path / f"{name}.qcow2", start=False),
                        encoding="utf-8")
        done = subprocess.run(["virsh", "-c", URI, "define", str(path)], capture_output=True,
                              text=True, timeout=120, check=False)
        if done.returncode == 0:
            made.append(name)
        return done

    yield run
    for name in made:
        virsh("undefine", name, check=False)
