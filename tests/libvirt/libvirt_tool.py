"""``virsh`` against the system libvirtd, for the libvirt tests' fixtures and oracles.

Kept out of conftest.py so that test modules import it by a name no other test directory uses
(``from conftest import ...`` would get whichever conftest pytest imported last).
"""

from __future__ import annotations

from support.proc import sh

URI = "qemu:///system"


def virsh(*args: str, check: bool = True) -> str:
    return sh("virsh", "-c", URI, *args, check=check, timeout=60)
