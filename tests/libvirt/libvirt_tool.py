"""``virsh`` against the system libvirtd, for the libvirt tests' fixtures and oracles.

Kept out of conftest.py so that test modules import it by a name no other test directory uses
(``from conftest import ...`` would get whichever conftest pytest imported last).
"""

from __future__ import annotations

import subprocess

URI = "qemu:///system"


def virsh(*args: str, check: bool = True) -> str:
    done = subprocess.run(["virsh", "-c", URI, *args], capture_output=True, text=True,
                          timeout=60, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"virsh {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout
