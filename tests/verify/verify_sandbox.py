"""Helpers of the measurement tests (tests/verify): the throwaway objects' types.

Kept out of conftest.py so that test modules can import them by a name no other test directory
uses.
"""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from support.proc import sh

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class NetPair:
    """A sandbox instance's network: ``guest`` namespace (eth0) wired by a veth pair to the
    ``peer`` namespace, whose end carries a Nova-style tap name."""

    guest: str
    peer: str
    tap: str
    guest_addr: str = "10.211.0.1"
    peer_addr: str = "10.211.0.2"

    def tc(self, *args: str) -> str:
        """``tc`` inside the peer namespace (where the tap is)."""
        return sh("ip", "netns", "exec", self.peer, "tc", *args)


@dataclass(frozen=True)
class V1Groups:
    """Sibling cgroup v1 groups ``a`` and ``b`` under ``vmqos/<run>`` in each controller."""

    run: str

    def path(self, controller: str, name: str) -> Path:
        return CGROUP_ROOT / controller / "vmqos" / self.run / name


    def remove(self, controller: str) -> None:
        """rmdir the groups (they must be empty), then ``vmqos/`` too if nothing else uses it."""
        base = CGROUP_ROOT / controller / "vmqos"
        for group in (base / self.run / "a", base / self.run / "b", base / self.run):
            for _ in range(50):  # a SIGKILLed load may take a moment to leave its group
                try:
                    if group.exists():
                        group.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)
        with suppress(OSError):  # another run or the host layer may use vmqos/
            base.rmdir()


@dataclass(frozen=True)
class LoopDevice:
    path: str
    rdev: str   # "MAJ:MIN", as blkio.throttle.* files want it
