"""Throwaway kernel objects for the measurement tests: namespaces, cgroups, loop devices.

Every object carries a per-run prefix (``vmqos-t<pid><random>``, interface names cut to the
kernel's 15 characters) so parallel runs do not collide, and every fixture removes what it
created in ``finally`` — deleting a namespace deletes its veth ends and IFBs with it. Traffic
only ever goes to addresses inside the namespaces a fixture created.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from verify_sandbox import CGROUP_ROOT, LoopDevice, NetPair, V1Groups

from support.proc import netns_names, sh


@pytest.fixture
def run_id() -> str:
    return f"{os.getpid():x}{secrets.token_hex(3)}"


@pytest.fixture
def netpair(run_id: str) -> Iterator[NetPair]:
    pair = NetPair(guest=f"vmqos-t{run_id}-g", peer=f"vmqos-t{run_id}-p",
                   tap=f"tap{run_id}"[:14])
    created: list[str] = []
    try:
        for ns in (pair.guest, pair.peer):
            sh("ip", "netns", "add", ns)
            created.append(ns)
        sh("ip", "link", "add", "eth0", "netns", pair.guest, "type", "veth",
           "peer", "name", pair.tap, "netns", pair.peer)
        for ns, dev, addr in ((pair.guest, "eth0", pair.guest_addr),
                              (pair.peer, pair.tap, pair.peer_addr)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        yield pair
    finally:
        for ns in created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
    assert not netns_names() & {pair.guest, pair.peer}


@pytest.fixture
def v1_groups(run_id: str) -> Iterator[V1Groups]:
    groups = V1Groups(f"t{run_id}")
    controllers = ("cpu", "cpuacct", "blkio")
    for controller in controllers:
        assert (CGROUP_ROOT / controller / "cgroup.procs").exists(), \
            f"cgroup v1 {controller} is not mounted at {CGROUP_ROOT / controller}"
    try:
        for controller in controllers:
            for name in ("a", "b"):
                groups.path(controller, name).mkdir(parents=True)
        yield groups
    finally:
        for controller in controllers:
            groups.remove(controller)
    for controller in controllers:
        assert not (CGROUP_ROOT / controller / "vmqos" / groups.run).exists()


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[LoopDevice]:
    backing = tmp_path / "vmqos-disk.img"
    with backing.open("wb") as f:
        f.truncate(64 << 20)
    dev = sh("losetup", "--find", "--show", "--direct-io=on", str(backing)).strip()
    try:
        st = os.stat(dev)
        yield LoopDevice(dev, f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
    finally:
        sh("losetup", "-d", dev)
    assert str(backing) not in sh("losetup", "-a")
