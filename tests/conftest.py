"""What every test needs to run, said as markers (registered in pyproject.toml).

* ``root``: uid 0 — real network namespaces, cgroups, loop devices, libvirtd, a PostgreSQL
  started as its OS user (tests/api, marked on the parameter). Every test under
  tests/host, tests/verify, tests/lab and tests/libvirt; ``pytest -m "not root"`` runs the
  rest as an ordinary user.
* ``libvirt``: a real libvirtd and QEMU (tests/libvirt; setup.sh --with-libvirt installs them).
* ``network``: real traffic (iperf3) through the namespaces a test built.
* ``node``: boots vmqos's reference compute node, a QEMU/TCG guest with Debian's stock
  kernel (tests/node: one node per session, a few more for the lifecycle tests).
* ``slow``: one test takes more than about 10 s; it gets ``SLOW_TIMEOUT`` instead of the
  default per-test timeout of pyproject.toml (pytest-timeout).

The directories' markers are set here, by directory, so that a new test there cannot forget
them. A ``root`` test run without root fails with what to do instead: a skip would hide that
the suite did not run (HOUSE_STYLE.md, Tests).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# The lab runs `vmqos lab` with subprocess timeouts of up to 240 s, and the first libvirt
# test starts libvirtd: 600 s is a hang, not a slow machine.
SLOW_TIMEOUT = 600

# tests/<directory> -> the markers each of its tests gets.
DIRECTORY_MARKERS: dict[str, tuple[str, ...]] = {
    "host": ("root",),
    "verify": ("root",),
    "lab": ("root", "network", "slow"),
    "libvirt": ("root", "libvirt", "slow"),
    "node": ("root", "node", "slow"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        if not path.is_relative_to(TESTS):
            continue
        for name in DIRECTORY_MARKERS.get(path.relative_to(TESTS).parts[0], ()):
            item.add_marker(name)
        if item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("root") is not None and os.geteuid() != 0:
        pytest.fail(f"{item.nodeid} needs root (it is marked `root`); run it as root, or "
                    f"deselect it with -m 'not root'", pytrace=False)
