"""Netlink sockets inside named namespaces: right namespace, clear errors, and no fork.

The oracle is ``ip -j link`` in each namespace. A forked Python child that gets a signal
unwinds a copy of its parent's stack (it ran `vmqos lab`'s cleanup during an apply in CI),
so opening a socket in a namespace must not fork: ``os.fork`` is replaced by a function that
fails the test for the duration of the call — the reason for this one stand-in.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator

import pytest

from support.proc import link_names
from vmqos.errors import PermanentHostError
from vmqos.host.netlink import NetlinkReader


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"vmqos-n{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        # veth, not dummy: this kernel has no dummy module (ENVIRONMENT.md).
        subprocess.run(["ip", "-n", name, "link", "add", "vmqosa0", "type", "veth", "peer",
                        "name", "vmqosb0"], check=True, timeout=30)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)


def test_a_socket_in_a_namespace_sees_that_namespace_only(
        netns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("NetlinkReader forked a child process")

    monkeypatch.setattr(os, "fork", no_fork)
    with NetlinkReader(netns) as inside:
        names = {link.name for link in inside.links()}
    monkeypatch.undo()
    assert names == link_names(netns) == {"lo", "vmqosa0", "vmqosb0"}
    # The caller's own thread never left its namespace.
    with NetlinkReader() as here:
        assert {link.name for link in here.links()} == link_names()


def test_a_missing_namespace_is_named_and_not_created() -> None:
    name = f"vmqos-missing-{secrets.token_hex(3)}"
    with pytest.raises(PermanentHostError,
                       match=f"netlink socket in namespace {name}: No such file"):
        NetlinkReader(name)
    assert not os.path.exists(f"/run/netns/{name}")
