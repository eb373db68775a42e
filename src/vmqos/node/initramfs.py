"""The reference node's initramfs, as data: which modules load in which order, the init script,
and the archive's file list. Pure; vmqos.node.image stages and archives it.

Boot, as the init script does it: busybox (static: the archive has no libc) mounts proc, sys
and dev; loads the modules the root needs — in Debian's cloud kernel ``virtio_pci``,
``virtio_console``, ``virtiofs`` (with ``fuse``) and ``overlay`` are modules
(``CONFIG_VIRTIO_PCI=m`` ...), so they must come from here; mounts the host's ``/`` read-only
through virtiofs (tag ``hostroot``), lays a tmpfs overlay on it (and one on the host's
``/tmp``, so that a checkout there is seen), mounts proc, sys, dev, run and the cgroup v2
hierarchy inside, binds the unpacked kernel's modules at
``/lib/modules/<release>`` and chroots into it to run the agent (vmqos.node.agent) with this
host's Python. When the agent exits, ``reboot -f``; QEMU runs with ``-no-reboot`` and the
kernel with ``panic=-1``, so any end of the guest ends QEMU.

The kernel loads modules on demand (``tc qdisc add ... sfq`` asks for ``sch_sfq``) by running
``/proc/sys/kernel/modprobe`` from the *initramfs* root (kthreadd's root, not PID 1's chroot:
kernel/umh.c ``call_usermodehelper_exec_async``); that helper chroots into the node's root to
run the host's ``modprobe``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

__all__ = ["BOOT_MODULES", "CONTROL_PORT", "FS_TAG", "Entry", "EntryKind", "init_script",
           "initramfs_entries", "load_order", "module_name", "parse_modules_dep"]

# What mounting the root needs, by module name; their dependencies come from modules.dep.
# virtio_rng feeds the guest's entropy pool from the host, so the agent's first os.urandom
# does not wait on a TCG guest's slow jitter entropy.
BOOT_MODULES = ("virtio_pci", "virtio_console", "virtio_rng", "virtiofs", "overlay")
FS_TAG = "hostroot"
CONTROL_PORT = "vmqos.ctl"
_NEWROOT = "/newroot"
_MODPROBE_HELPER = "/sbin/vmqos-modprobe"


def module_name(path: str) -> str:
    """``kernel/drivers/char/hw_random/virtio-rng.ko`` -> ``virtio_rng``: kmod treats ``-`` and
    ``_`` alike in module names (libkmod ``modname_normalize``)."""
    name = PurePosixPath(path).name
    for suffix in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("-", "_")


def parse_modules_dep(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """depmod's ``modules.dep``: ``path: dep dep ...`` per line -> name -> (path, deps).

    depmod lists every dependency, transitively, the last to be loaded first (kmod loads
    them from the end of the list: libkmod ``kmod_module_get_dependencies``)."""
    table: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in text.splitlines():
        path, sep, deps = line.partition(":")
        if not sep or not path.strip():
            continue
        table[module_name(path.strip())] = (path.strip(), tuple(deps.split()))
    return table


def load_order(deps: Mapping[str, tuple[str, tuple[str, ...]]],
               wanted: Iterable[str]) -> tuple[str, ...]:
    """The module paths to ``insmod``, each after everything it needs, each once.

    A wanted module absent from ``deps`` is taken as built into the kernel (it then has no
    line in modules.dep) and skipped: :func:`missing_modules` tells the two apart."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in deps:
            return
        seen.add(name)
        path, needs = deps[name]
        for need in reversed(needs):
            visit(module_name(need))
        order.append(path)

    for name in wanted:
        visit(module_name(name))
    return tuple(order)


def missing_modules(deps: Mapping[str, object], builtin_text: str,
                    wanted: Iterable[str]) -> tuple[str, ...]:
    """The wanted modules neither in modules.dep nor in ``modules.builtin``."""
    builtin = {module_name(line.strip()) for line in builtin_text.splitlines() if line.strip()}
    return tuple(name for name in wanted if name not in deps and name not in builtin)


class EntryKind(StrEnum):
    DIR = "dir"
    FILE = "file"        # copied from ``source``
    TEXT = "text"        # ``text`` written out
    CHAR = "char"        # a character device node (``major``, ``minor``)


@dataclass(frozen=True, slots=True)
class Entry:
    """One member of the archive, at ``path`` (relative, no leading ``/``)."""

    path: str
    kind: EntryKind
    mode: int
    source: Path | None = None
    text: str = ""
    major: int = 0
    minor: int = 0


_DIRS = ("bin", "sbin", "dev", "proc", "sys", "host", "newroot", "rw", "modules", "tmp")


def init_script() -> str:
    """PID 1 of the guest. Per-boot values come from the kernel command line
    (``vmqos.python``, ``vmqos.pythonpath``, ``vmqos.modules``), so that one archive serves
    every node and every checkout."""
    return f"""#!/bin/busybox sh
# PID 1 of a vmqos reference node (written by vmqos.node.initramfs, which explains it).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() {{ echo "vmqos-node: $*"; }}
fail() {{ say "FAILED: $*"; reboot -f; }}
arg() {{ for a in $(cat /proc/cmdline); do case "$a" in "$1="*) echo "${{a#*=}}";; esac; done; }}
say "init: loading modules"
for m in /modules/*.ko; do insmod "$m" || fail "insmod $m"; done
PY=$(arg vmqos.python); PP=$(arg vmqos.pythonpath); MODS=$(arg vmqos.modules)
R={_NEWROOT}
mount -t virtiofs -o ro {FS_TAG} /host || fail "mount -t virtiofs {FS_TAG} /host"
mount -t tmpfs -o mode=0755 tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay $R \\
  || fail "mount the overlay"
mount -t proc proc $R/proc && mount -t sysfs sysfs $R/sys && mount -t devtmpfs devtmpfs $R/dev \\
  || fail "mount proc, sys, dev"
mkdir -p $R/dev/pts $R/dev/shm
# /tmp is the host's, written to an overlay like /: a checkout under /tmp (a CI clone) must
# be visible in the node, whose agent runs its Python and its sources.
mkdir -p /rw/tmpu /rw/tmpw && chmod 1777 /rw/tmpu
mount -t devpts devpts $R/dev/pts && mount -t tmpfs tmpfs $R/dev/shm \\
  && mount -t tmpfs -o mode=0755 tmpfs $R/run \\
  && mount -t overlay -o lowerdir=/host/tmp,upperdir=/rw/tmpu,workdir=/rw/tmpw overlay $R/tmp \\
  || fail "mount devpts, shm, run, tmp"
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup || fail "mount cgroup2"
V=$(uname -r)
chroot $R mkdir -p /lib/modules/$V && chroot $R mount --bind "$MODS" /lib/modules/$V \\
  || fail "bind $MODS at /lib/modules/$V"
echo {_MODPROBE_HELPER} > /proc/sys/kernel/modprobe
PORT=
for p in /sys/class/virtio-ports/*; do
  [ "$(cat $p/name 2>/dev/null)" = {CONTROL_PORT} ] && PORT=/dev/${{p##*/}}
done
[ -n "$PORT" ] || fail "no virtio-serial port named {CONTROL_PORT}"
hostname vmqos-node
chroot $R ip link set lo up || say "warning: lo stays down"
# loop: no device node asks for it on demand (/dev/loop-control exists only once it is
# loaded), and the lab's instances each need one for their disk (vmqos.host.sandbox).
chroot $R modprobe loop || say "warning: no loop devices"
say "agent starting on $PORT"
chroot $R /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
  HOME=/root LANG=C.UTF-8 PYTHONPATH="$PP" "$PY" -m vmqos.node.agent --port "$PORT"
say "agent exited with status $?"
reboot -f
"""


def modprobe_helper() -> str:
    """The kernel's modprobe (see the module docstring): the host's, in the node's root."""
    return f"#!/bin/busybox sh\nexec /bin/busybox chroot {_NEWROOT} /sbin/modprobe \"$@\"\n"


def initramfs_entries(busybox: Path, modules_dir: Path,
                      module_paths: Sequence[str]) -> tuple[Entry, ...]:
    """Every member of the archive, in archive order (directories before their contents).

    Modules are numbered in load order (``/modules/00-virtio_ring.ko`` ...), so the init
    script's glob loads them in that order."""
    entries = [Entry(d, EntryKind.DIR, 0o755) for d in _DIRS]
    entries.append(Entry("dev/console", EntryKind.CHAR, 0o600, major=5, minor=1))
    entries.append(Entry("bin/busybox", EntryKind.FILE, 0o755, source=busybox))
    entries.append(Entry("init", EntryKind.TEXT, 0o755, text=init_script()))
    entries.append(Entry(_MODPROBE_HELPER.lstrip("/"), EntryKind.TEXT, 0o755,
                         text=modprobe_helper()))
    width = len(str(max(len(module_paths) - 1, 0)))
    for index, rel in enumerate(module_paths):
        name = PurePosixPath(rel).name
        entries.append(Entry(f"modules/{index:0{max(width, 2)}d}-{name}", EntryKind.FILE,
                             0o644, source=modules_dir / rel))
    return tuple(entries)
