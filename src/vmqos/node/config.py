"""What a reference node is made of and where its files live: typed, validated once, pure.

Invariants: a node's every file is under its run directory ``<state>/node/<name>/`` (so that
its processes are recognised by that path in their command lines, and removing it leaves
nothing behind); the kernel and initramfs live in a content-addressed cache shared by all
nodes; unix socket paths fit ``sun_path`` (108 bytes with the NUL, Linux ``unix(7)``).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from vmqos.errors import ValidationError

__all__ = ["DEFAULT_CACHE_DIR", "KERNEL_PACKAGE", "KernelTree", "NodeConfig", "NodeImage",
           "NodePaths", "check_word"]

# Debian's exact package (ENVIRONMENT: a glob makes `apt-get download` fetch every version).
KERNEL_PACKAGE = "linux-image-6.1.0-57-cloud-amd64"
DEFAULT_CACHE_DIR = "/var/cache/vmqos/node"
DEFAULT_STATE_DIR = "/var/lib/vmqos"

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# A kernel command-line word: no blanks or quotes (the kernel splits on blanks, and the init
# script reads /proc/cmdline word by word).
_WORD = re.compile(r"^[A-Za-z0-9_./+:@-]+$")
_SUN_PATH_MAX = 107


def _check_range(key: str, value: float, low: float, high: float, unit: str) -> None:
    if not low <= value <= high:
        raise ValidationError(f"{key} = {value!r}: must be between {low} and {high} {unit}",
                              key=key, value=value, allowed=f"{low}..{high} {unit}")


def check_word(key: str, value: str) -> str:
    """``value`` unchanged if it can travel as one kernel command-line word."""
    if not _WORD.match(value):
        raise ValidationError(
            f"{key} = {value!r}: the guest reads it from the kernel command line, so it may "
            "hold only letters, digits and _ . / + : @ -", key=key, value=value,
            allowed="[A-Za-z0-9_./+:@-]+")
    return value


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """One reference node: its name, size, bounds, and the host paths it uses.

    ``python``/``pythonpath``: the interpreter and import path the guest agent runs with —
    this process's own, reached through the shared root, so the guest runs this very vmqos.
    """

    name: str = "default"
    memory_mib: int = 1024
    cpus: int = 1
    boot_timeout_s: float = 300.0
    command_timeout_s: float = 120.0
    shutdown_timeout_s: float = 30.0
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    cache_dir: Path = Path(DEFAULT_CACHE_DIR)
    kernel_package: str = KERNEL_PACKAGE
    qemu: str = "qemu-system-x86_64"
    virtiofsd: str = "/usr/lib/qemu/virtiofsd"
    python: str = sys.executable
    pythonpath: str = str(Path(__file__).resolve().parents[2])

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValidationError(
                f"node name {self.name!r}: use 1-32 lowercase letters, digits and '-', "
                "starting with a letter or digit", key="name", value=self.name,
                allowed="[a-z0-9][a-z0-9-]{0,31}")
        _check_range("memory_mib", self.memory_mib, 256, 16384, "MiB")
        _check_range("cpus", self.cpus, 1, 8, "vCPUs")
        _check_range("boot_timeout_s", self.boot_timeout_s, 1, 3600, "s")
        _check_range("command_timeout_s", self.command_timeout_s, 0.1, 86400, "s")
        _check_range("shutdown_timeout_s", self.shutdown_timeout_s, 1, 600, "s")
        check_word("python", self.python)
        check_word("pythonpath", self.pythonpath)
        paths = self.paths
        for sock in (paths.vfs_socket, paths.control_socket):
            if len(os.fsencode(sock)) > _SUN_PATH_MAX:
                raise ValidationError(
                    f"socket path {str(sock)!r} is longer than a unix socket allows "
                    f"({_SUN_PATH_MAX} bytes): choose a shorter VMQOS_STATE_DIR",
                    key="VMQOS_STATE_DIR", value=str(self.state_dir),
                    allowed=f"a directory whose node sockets fit {_SUN_PATH_MAX} bytes")

    @classmethod
    def from_env(cls, name: str = "default") -> NodeConfig:
        """The defaults, with ``$VMQOS_STATE_DIR`` and ``$VMQOS_NODE_CACHE`` honoured."""
        return cls(name=name,
                   state_dir=Path(os.environ.get("VMQOS_STATE_DIR", DEFAULT_STATE_DIR)),
                   cache_dir=Path(os.environ.get("VMQOS_NODE_CACHE", DEFAULT_CACHE_DIR)))

    @property
    def paths(self) -> NodePaths:
        return NodePaths(self.state_dir / "node" / self.name)


@dataclass(frozen=True, slots=True)
class NodePaths:
    """The files of one node, all inside ``run_dir``."""

    run_dir: Path

    @property
    def vfs_socket(self) -> Path:
        return self.run_dir / "vfs.sock"

    @property
    def control_socket(self) -> Path:
        return self.run_dir / "ctl.sock"

    @property
    def console_log(self) -> Path:
        return self.run_dir / "console.log"

    @property
    def qemu_log(self) -> Path:
        return self.run_dir / "qemu.log"

    @property
    def virtiofsd_log(self) -> Path:
        return self.run_dir / "virtiofsd.log"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "node.json"

    @property
    def runtime_files(self) -> tuple[Path, ...]:
        """What a stopped node must not leave: its sockets and its record (the logs stay,
        for the next reader of a failure, and are replaced on the next start)."""
        return (self.vfs_socket, self.control_socket, self.state_file)


@dataclass(frozen=True, slots=True)
class KernelTree:
    """Debian's kernel package unpacked (never installed): ``root`` holds ``boot/`` and
    ``lib/modules/<release>/`` with depmod's indexes; ``sha256`` is the .deb's."""

    package: str
    version: str
    release: str
    sha256: str
    root: Path

    @property
    def vmlinuz(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.release}"

    @property
    def modules_dir(self) -> Path:
        return self.root / "lib" / "modules" / self.release


@dataclass(frozen=True, slots=True)
class NodeImage:
    """What QEMU boots: the kernel and the initramfs built for it."""

    kernel: KernelTree
    initramfs: Path
