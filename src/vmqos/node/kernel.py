"""Debian's kernel package for the reference node: downloaded, unpacked, indexed — never
installed on the host.

Cache layout (content-addressed by the .deb's SHA-256)::

    <cache>/<sha256>/tree/{boot,lib/modules/<release>}   dpkg-deb -x, then depmod -b
    <cache>/<sha256>/kernel.json                          written last: the entry is complete
    <cache>/by-package/<package> -> ../<sha256>           found again without the network

Built once: a second call finds the entry by package name and touches nothing. Builders are
serialised by an exclusive ``flock`` on the cache directory; an entry appears by rename, so a
reader never sees half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vmqos.errors import PermanentHostError
from vmqos.host.errors_map import translate
from vmqos.host.runner import run
from vmqos.node.config import KernelTree

__all__ = ["cache_lock", "ensure_kernel", "find_kernel"]

_DOWNLOAD_TIMEOUT = 600


@contextmanager
def cache_lock(cache_dir: Path) -> Iterator[None]:
    with translate(f"the node cache {cache_dir}"):
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(cache_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_entry(entry: Path) -> KernelTree | None:
    try:
        meta = json.loads((entry / "kernel.json").read_text())
    except (OSError, ValueError):
        return None
    tree = KernelTree(package=meta["package"], version=meta["version"],
                      release=meta["release"], sha256=meta["sha256"], root=entry / "tree")
    return tree if tree.vmlinuz.is_file() and tree.modules_dir.is_dir() else None


def find_kernel(cache_dir: Path, package: str) -> KernelTree | None:
    """The cached tree of ``package``, if a complete one is there."""
    link = cache_dir / "by-package" / package
    return _read_entry(link.resolve()) if link.is_symlink() else None


def _download(package: str, into: Path) -> Path:
    """``apt-get download PACKAGE`` into ``into``; if apt's lists do not know the package (a
    machine where ``apt-get update`` never ran), update them once and try again."""
    argv = ["apt-get", "download", "-q", package]
    for attempt in (1, 2):
        done = run(argv, check=False, timeout=_DOWNLOAD_TIMEOUT, cwd=into)
        debs = sorted(into.glob("*.deb"))
        if done.returncode == 0 and len(debs) == 1:
            return debs[0]
        if attempt == 1:
            run(["apt-get", "update", "-qq"], timeout=_DOWNLOAD_TIMEOUT)
    detail = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
    raise PermanentHostError(f"`apt-get download {package}` failed: {detail} (the reference "
                             "node needs Debian's kernel package; is the Debian mirror "
                             "reachable?)")


def ensure_kernel(cache_dir: Path, package: str) -> KernelTree:
    """The unpacked kernel of ``package``, downloading and unpacking it the first time."""
    found = find_kernel(cache_dir, package)
    if found is not None:
        return found
    with cache_lock(cache_dir), translate(f"unpacking {package} into {cache_dir}"):
        found = find_kernel(cache_dir, package)
        if found is not None:
            return found
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
        try:
            deb = _download(package, work)
            sha = _sha256(deb)
            entry = cache_dir / sha
            tree = _read_entry(entry)
            if tree is None:
                staged = work / "entry"
                (staged / "tree").mkdir(parents=True)
                run(["dpkg-deb", "-x", str(deb), str(staged / "tree")],
                    timeout=_DOWNLOAD_TIMEOUT)
                version = run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip()
                releases = sorted(p.name for p in (staged / "tree/lib/modules").iterdir())
                if len(releases) != 1:
                    raise PermanentHostError(f"{package}: expected one lib/modules/<release>, "
                                             f"found {releases}")
                run(["depmod", "-b", str(staged / "tree"), releases[0]])
                meta = {"package": package, "version": version, "release": releases[0],
                        "sha256": sha}
                (staged / "kernel.json").write_text(json.dumps(meta, indent=1) + "\n")
                shutil.rmtree(entry, ignore_errors=True)
                staged.rename(entry)
            links = cache_dir / "by-package"
            links.mkdir(exist_ok=True)
            tmp_link = links / f".{package}.tmp"
            tmp_link.unlink(missing_ok=True)
            tmp_link.symlink_to(Path("..") / sha)
            tmp_link.rename(links / package)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    tree = find_kernel(cache_dir, package)
    if tree is None:
        raise PermanentHostError(f"{package}: unpacked into {cache_dir} but not readable there")
    return tree
