"""What a node boots — the kernel (vmqos.node.kernel) and an initramfs — built once, cached.

The initramfs is the file list of vmqos.node.initramfs, staged in a scratch directory and
archived with ``cpio -o -H newc`` (the kernel's initramfs format,
Documentation/driver-api/early-userspace/buffer-format.rst), uncompressed: a TCG guest
unpacks a 3 MB archive faster than it inflates a 1 MB one. It is content-addressed by
everything that goes into it (the init script, busybox's bytes, the modules' paths and the
kernel's SHA-256), at ``<cache>/<kernel sha256>/initramfs-<digest>.cpio``.

busybox must be the static build (Debian's ``busybox-static``): the archive holds no libc, and
a dynamic /bin/busybox as init panics the guest with no word on the console.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import tempfile
from pathlib import Path

from vmqos.errors import PermanentHostError
from vmqos.host.errors_map import translate
from vmqos.host.runner import run
from vmqos.node.config import KernelTree, NodeConfig, NodeImage
from vmqos.node.initramfs import (
    BOOT_MODULES,
    Entry,
    EntryKind,
    initramfs_entries,
    load_order,
    missing_modules,
    parse_modules_dep,
)
from vmqos.node.kernel import cache_lock, ensure_kernel

__all__ = ["BUSYBOX", "ensure_image", "has_interpreter"]

BUSYBOX = Path("/bin/busybox")
_PT_INTERP = 3


def has_interpreter(elf: bytes) -> bool:
    """Whether a 64-bit little-endian ELF file asks for a dynamic loader (a ``PT_INTERP``
    program header: elf(5)); raises ValueError for anything else."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for index in range(phnum):
        kind, = struct.unpack_from("<I", elf, phoff + index * phentsize)
        if kind == _PT_INTERP:
            return True
    return False


def _check_busybox(path: Path) -> None:
    try:
        head = path.read_bytes()[:65536]
        dynamic = has_interpreter(head)
    except (OSError, ValueError) as exc:
        raise PermanentHostError(f"{path}: {exc} — the reference node needs a static "
                                 "busybox: apt-get install busybox-static") from exc
    if dynamic:
        raise PermanentHostError(f"{path} is dynamically linked; the reference node's "
                                 "initramfs needs the static build: apt-get install "
                                 "busybox-static")


def _digest(kernel: KernelTree, entries: tuple[Entry, ...]) -> str:
    digest = hashlib.sha256(kernel.sha256.encode())
    for entry in entries:
        digest.update(f"\0{entry.path}\0{entry.kind}\0{entry.mode:o}\0{entry.major}:"
                      f"{entry.minor}\0".encode())
        if entry.kind is EntryKind.TEXT:
            digest.update(entry.text.encode())
        elif entry.kind is EntryKind.FILE and entry.source is not None:
            digest.update(entry.source.read_bytes())
    return digest.hexdigest()[:20]


def _stage(entries: tuple[Entry, ...], root: Path) -> None:
    for entry in entries:
        target = root / entry.path
        if entry.kind is EntryKind.DIR:
            target.mkdir(parents=True, exist_ok=True)
        elif entry.kind is EntryKind.CHAR:
            os.mknod(target, 0o020000 | entry.mode, os.makedev(entry.major, entry.minor))
        elif entry.kind is EntryKind.TEXT:
            target.write_text(entry.text)
        else:
            assert entry.source is not None
            shutil.copyfile(entry.source, target)
        os.chmod(target, entry.mode)


def _entries(kernel: KernelTree) -> tuple[Entry, ...]:
    modules = kernel.modules_dir
    deps = parse_modules_dep((modules / "modules.dep").read_text())
    missing = missing_modules(deps, (modules / "modules.builtin").read_text(), BOOT_MODULES)
    if missing:
        raise PermanentHostError(f"{kernel.package} has no module {', '.join(missing)}, "
                                 "which the reference node needs to mount its root")
    return initramfs_entries(BUSYBOX, modules, load_order(deps, BOOT_MODULES))


def ensure_initramfs(cache_dir: Path, kernel: KernelTree) -> Path:
    _check_busybox(BUSYBOX)
    with translate(f"building the node's initramfs in {cache_dir}"):
        entries = _entries(kernel)
        target = cache_dir / kernel.sha256 / f"initramfs-{_digest(kernel, entries)}.cpio"
        if target.is_file():
            return target
        with cache_lock(cache_dir):
            if target.is_file():
                return target
            work = Path(tempfile.mkdtemp(prefix=".initramfs-", dir=cache_dir))
            try:
                root = work / "root"
                root.mkdir()
                _stage(entries, root)
                listing = "".join(f"{entry.path}\n" for entry in entries)
                archive = work / "initramfs.cpio"
                run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet", "-O", str(archive)],
                    input_text=listing, cwd=root)
                archive.rename(target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return target


def ensure_image(config: NodeConfig) -> NodeImage:
    """The kernel and initramfs for ``config``, building what the cache lacks."""
    kernel = ensure_kernel(config.cache_dir, config.kernel_package)
    return NodeImage(kernel=kernel, initramfs=ensure_initramfs(config.cache_dir, kernel))
