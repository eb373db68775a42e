"""Commands in the session's reference node: Debian's kernel runs, with what this host's
kernel lacks (sfq, fw, police; cgroup v2 with the cpu and io controllers), and a command's
status, output and timeout come back as vmqos promises (vmqos.node.lifecycle.Node.run)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vmqos.errors import NodeTimeoutError
from vmqos.node.config import KERNEL_PACKAGE
from vmqos.node.lifecycle import Node

DEV = "vmqos-dummy0"   # not `a`: `ip link add a type ...` reads `a` as `address`


def test_the_kernel_is_debians(node: Node) -> None:
    result = node.run(["uname", "-r"])
    assert result.exit_status == 0
    assert result.stdout_text.strip() == KERNEL_PACKAGE.removeprefix("linux-image-")
    assert node.record.release == result.stdout_text.strip()


def test_the_root_is_this_hosts_userspace_with_a_writable_overlay(node: Node) -> None:
    with open("/etc/os-release") as handle:
        host_release = handle.read()
    assert node.run(["cat", "/etc/os-release"]).stdout_text == host_release
    wrote = node.run(["sh", "-c", "echo node > /etc/vmqos-node-test && cat /etc/vmqos-node-test"])
    assert wrote.stdout_text == "node\n"
    # ... and the host's file system is untouched by it.
    with pytest.raises(FileNotFoundError):
        open("/etc/vmqos-node-test").close()


def test_sfq_on_lo(node: Node) -> None:
    added = node.run(["tc", "qdisc", "add", "dev", "lo", "root", "sfq"])
    assert added.exit_status == 0, added.stderr_text
    try:
        shown = json.loads(node.run(["tc", "-j", "qdisc", "show", "dev", "lo"]).stdout)
        assert [q["kind"] for q in shown] == ["sfq"]
    finally:
        node.run(["tc", "qdisc", "del", "dev", "lo", "root"])


def test_libvirts_exact_tc_program_on_a_dummy_link(node: Node) -> None:
    """HTB + sfq leaf + fw filter on the root, ingress + u32 police: the program libvirt's
    virNetDevBandwidthSet runs (its modules load on demand through the kernel's modprobe)."""
    program = [
        f"ip link add {DEV} type dummy",
        f"tc qdisc add dev {DEV} root handle 1: htb default 1",
        f"tc class add dev {DEV} parent 1: classid 1:1 htb rate 8mbit ceil 16mbit burst 4mb",
        f"tc qdisc add dev {DEV} parent 1:1 handle 2: sfq perturb 10",
        f"tc filter add dev {DEV} parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
        f"tc qdisc add dev {DEV} ingress",
        f"tc filter add dev {DEV} parent ffff: protocol all u32 match u32 0 0 police rate "
        "8mbit burst 1mb mtu 64kb drop flowid :1",
    ]
    try:
        for line in program:
            done = node.run(line.split())
            assert done.exit_status == 0, f"{line}: {done.stderr_text}"
        qdiscs = json.loads(node.run(["tc", "-j", "qdisc", "show", "dev", DEV]).stdout)
        assert sorted(q["kind"] for q in qdiscs) == ["htb", "ingress", "sfq"]
        filters = node.run(["tc", "filter", "show", "dev", DEV]).stdout_text
        assert "fw" in filters and "handle 0x1 classid :1" in filters
        police = node.run(["tc", "filter", "show", "dev", DEV, "parent", "ffff:"]).stdout_text
        assert "police" in police and "rate 8Mbit burst 1Mb" in police
    finally:
        node.run(["ip", "link", "del", DEV])


def test_cgroup_v2_has_the_cpu_and_io_controllers(node: Node) -> None:
    result = node.run(["cat", "/sys/fs/cgroup/cgroup.controllers"])
    assert result.exit_status == 0
    assert {"cpu", "io"} <= set(result.stdout_text.split())
    mounts = node.run(["findmnt", "-n", "-o", "FSTYPE", "/sys/fs/cgroup"]).stdout_text
    assert mounts.split() == ["cgroup2"]


def test_exit_status_and_stderr_come_back_apart(node: Node) -> None:
    result = node.run(["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
    assert (result.exit_status, result.stdout_text, result.stderr_text) == \
        (3, "to-out\n", "to-err\n")
    killed = node.run(["sh", "-c", "kill -9 $$"])
    assert killed.exit_status == -9
    missing = node.run(["no-such-program-here"])
    assert missing.exit_status == 127 and "No such file" in missing.stderr_text


def test_env_reaches_the_command(node: Node) -> None:
    result = node.run(["sh", "-c", 'echo "$VMQOS_T"'], env={"VMQOS_T": "a b"})
    assert result.stdout_text == "a b\n"


def test_a_timeout_is_reported_and_the_node_carries_on(node: Node) -> None:
    started = time.monotonic()
    with pytest.raises(NodeTimeoutError) as caught:
        node.run(["sh", "-c", "echo partial; sleep 60"], timeout_s=2)
    assert time.monotonic() - started < 30
    assert "did not finish within 2 s" in str(caught.value)
    assert "partial" in str(caught.value)
    assert caught.value.exit_code == 124
    assert "guest console" in str(caught.value) and caught.value.console_tail
    assert node.run(["true"]).exit_status == 0


def test_binary_output_arrives_byte_for_byte(node: Node) -> None:
    result = node.run(["sh", "-c", "head -c 300000 /dev/urandom | tee /tmp/r | sha256sum; "
                       "cat /tmp/r"])
    assert result.stdout[:64].decode() == hashlib.sha256(result.stdout[-300000:]).hexdigest()


def test_host_facts_in_the_node_show_the_full_kernel(node: Node) -> None:
    """This very vmqos, run in the node through the shared root, probes Debian's kernel: what
    this host lacks is there (issue 8: `vmqos host facts` inside the node)."""
    result = node.run([sys.executable, "-m", "vmqos.cli.main", "host", "facts", "--format",
                       "json"], timeout_s=300)
    assert result.exit_status == 0, result.stderr_text
    facts = json.loads(result.stdout)
    assert facts["kernel"] == KERNEL_PACKAGE.removeprefix("linux-image-")
    assert {"htb", "sfq", "tbf", "ingress", "fq_codel"} <= set(facts["qdiscs"])
    assert {"u32", "fw", "matchall", "basic", "flower"} <= set(facts["classifiers"])
    assert {"police", "mirred", "gact"} <= set(facts["actions"])
    assert facts["cgroup_version"] == "v2"


def _held_by_another(run_dir: Path) -> bool:
    fd = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_client_that_leaves_gets_its_command_killed(node: Node) -> None:
    """Ctrl-C of `vmqos node run`: the agent sees the host end close (POLLHUP on the port),
    kills the command's process group and answers nobody; the next client is served at once
    and gets its own answer, not the stale one."""
    env = {**os.environ, "VMQOS_STATE_DIR": str(node.config.state_dir)}
    client = subprocess.Popen([sys.executable, "-m", "vmqos.cli.main", "node", "run", "--name",
                               node.config.name, "--", "sh", "-c",
                               "echo stale; touch /tmp/begun-61; sleep 61"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The client holds the node's lock from before it sends until it leaves.
        deadline = time.monotonic() + 30
        while not _held_by_another(node.config.paths.run_dir):
            assert client.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(3)
    finally:
        client.send_signal(signal.SIGINT)
        client.wait(timeout=30)
    assert client.returncode == 130
    started = time.monotonic()
    result = node.run(["echo", "fresh"])
    assert result.stdout_text == "fresh\n"
    assert time.monotonic() - started < 20
    assert node.run(["test", "-e", "/tmp/begun-61"]).exit_status == 0
    assert node.run(["pgrep", "-f", "sleep 61"]).exit_status == 1
