"""Fixtures of the host integration tests: real kernel objects under a unique prefix, always
removed, and independent oracles to check them.

Every test gets its own name prefix ``vmqos-t<6 hex>``, state directory (under pytest's
tmp_path) and host namespace ``<prefix>-host`` (created by vmqos, as ``$VMQOS_HOST_NETNS``
asks), so parallel runs never meet and the root namespace is never touched. Teardown runs
vmqos's own cleanup, then sweeps — with plain ``ip``/``losetup``/``rmdir``, independent of
vmqos — anything left under the prefix, and fails the test if vmqos had left something.

The oracles read the kernel with the standard tools, not with vmqos's netlink reader:
``tc -j qdisc|filter show``, ``tc class show`` (iproute2 6.1 prints HTB classes as text even
with -j), ``ip -j -d link``, ``losetup -J``, and the files under /sys/fs/cgroup.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from host_oracle import loops_under, prefixed_cgroups

from support.proc import netns_names, sh
from support.seed import seed_scenario
from vmqos.host.facts import observe_host_facts
from vmqos.host.sandbox import remove_all
from vmqos.host.state import SandboxConfig
from vmqos.intent.scenario import Scenario
from vmqos.reconcile.facts import HostFacts


@pytest.fixture(scope="session")
def facts() -> HostFacts:
    return observe_host_facts()


@pytest.fixture(scope="session")
def seed() -> Scenario:
    return seed_scenario()


def _sweep(config: SandboxConfig) -> list[str]:
    """Remove, without vmqos, whatever is left under the prefix; return what that was."""
    left: list[str] = []
    for name in sorted(netns_names()):
        if name.startswith(config.prefix):
            left.append(f"namespace {name}")
            sh("ip", "netns", "del", name, check=False)
    for device in loops_under(config.state_dir):
        left.append(f"loop device {device}")
        sh("losetup", "-d", device, check=False)
    for group in sorted(prefixed_cgroups(config.prefix), key=lambda p: -len(p.parts)):
        left.append(f"cgroup {group}")
        for child in sorted((p for p in group.rglob("*") if p.is_dir()),
                            key=lambda p: -len(p.parts)):
            child.rmdir()
        group.rmdir()
    return left


@pytest.fixture
def config(tmp_path: Path) -> Iterator[SandboxConfig]:
    prefix = f"vmqos-t{secrets.token_hex(3)}"
    cfg = SandboxConfig(prefix=prefix, state_dir=tmp_path / "state",
                        host_netns=f"{prefix}-host", disk_bytes=64 << 20)
    try:
        yield cfg
    finally:
        error: Exception | None = None
        try:
            remove_all(cfg)
        except Exception as exc:  # report after sweeping, so nothing stays behind
            error = exc
        left = _sweep(cfg)
        if error is not None:
            raise error
        assert not left, f"vmqos cleanup left: {left}"
