"""Independent oracles of the host tests (tests/host): the kernel as the standard tools show it.

Kept out of conftest.py so that test modules can import it by a name no other test directory
uses; what other directories need too (``sh``, ``netns_names``) is in tests/support/proc.py.
Nothing here imports vmqos.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.proc import sh

CGROUP = Path("/sys/fs/cgroup")


def tc_json(netns: str, what: str, dev: str, *extra: str) -> list[dict[str, Any]]:
    out = sh("tc", "-n", netns, "-j", what, "show", "dev", dev, *extra)
    return json.loads(out) if out.strip() else []


def class_text(netns: str, dev: str) -> list[str]:
    return [line.strip() for line in sh("tc", "-n", netns, "class", "show", "dev", dev)
            .splitlines() if line.strip()]


def links(netns: str) -> dict[str, dict[str, Any]]:
    return {link["ifname"]: link for link in json.loads(sh("ip", "-n", netns, "-j", "-d",
                                                           "link", "show"))}


def loop_backing(device: str) -> str | None:
    out = sh("losetup", "-J", "-l", device, check=False)
    if not out.strip():
        return None
    return str(json.loads(out)["loopdevices"][0]["back-file"])


def loops_under(directory: Path) -> list[str]:
    out = sh("losetup", "-J", "-l")
    if not out.strip():
        return []
    return [d["name"] for d in json.loads(out)["loopdevices"]
            if str(d.get("back-file") or "").startswith(str(directory))]


def prefixed_cgroups(prefix: str) -> list[Path]:
    return [p for p in CGROUP.glob(f"*/{prefix}*") if p.is_dir()]
