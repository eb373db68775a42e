"""vmqos's record of what it created on this host: one JSON file per name prefix, locked.

Role: the memory that lets ``vmqos cleanup`` remove exactly vmqos's own objects and nothing
else. Where: ``$VMQOS_STATE_DIR`` (default ``/var/lib/vmqos``, which also holds the sandbox
disks' backing files, so the record survives as long as the disks do), file
``<prefix>.json``. The name prefix is ``$VMQOS_PREFIX`` (default ``vmqos``); tests use a
unique one per run, plus ``$VMQOS_HOST_NETNS`` to keep the taps out of the root namespace.

Invariants: the record is written *before* an object is created (so a crash leaves a record,
never an orphan) and removed only after the object is gone; every change happens under an
exclusive ``flock`` on ``<prefix>.lock``; the file is replaced atomically (write + rename).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vmqos.errors import ValidationError
from vmqos.host.errors_map import translate

__all__ = ["DEFAULT_STATE_DIR", "SandboxConfig", "StateFile", "locked_state"]

DEFAULT_STATE_DIR = "/var/lib/vmqos"
_PREFIX = re.compile(r"^vmqos[a-z0-9-]{0,24}$")
_VERSION = 1


LAB_PREFIX = "vmqos-lab"
LAB_HOST_NETNS = "vmqos-lab-host"


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Where vmqos keeps its record and how it names what it creates."""

    prefix: str = "vmqos"
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    host_netns: str | None = None      # the taps' namespace; None: this process's
    disk_bytes: int = 256 << 20        # sparse: costs nothing until written

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise ValidationError(
                f"name prefix {self.prefix!r} must start with 'vmqos' (every object vmqos "
                "creates carries it) and use lowercase letters, digits and '-'",
                key="VMQOS_PREFIX", value=self.prefix,
                allowed="vmqos[a-z0-9-]{0,24}, e.g. vmqos-t1a2b3")
        if self.host_netns is not None and not self.host_netns.startswith("vmqos-"):
            raise ValidationError(
                f"host namespace {self.host_netns!r} must start with 'vmqos-': vmqos creates "
                "it if missing and removes it on cleanup", key="VMQOS_HOST_NETNS",
                value=self.host_netns, allowed="vmqos-…")

    @classmethod
    def from_env(cls) -> SandboxConfig:
        return cls(prefix=os.environ.get("VMQOS_PREFIX", "vmqos"),
                   state_dir=Path(os.environ.get("VMQOS_STATE_DIR", DEFAULT_STATE_DIR)),
                   host_netns=os.environ.get("VMQOS_HOST_NETNS") or None)

    def for_lab(self) -> SandboxConfig:
        """The names `vmqos lab` builds under (its own prefix and host namespace, so that a
        lab never touches what `vmqos apply` made); the same record folder."""
        return replace(self, prefix=LAB_PREFIX, host_netns=LAB_HOST_NETNS)

    @property
    def state_file(self) -> Path:
        return self.state_dir / f"{self.prefix}.json"

    @property
    def disk_dir(self) -> Path:
        return self.state_dir / "disks"


@dataclass
class StateFile:
    """The record, loaded: instances by name, and the prefix-level objects vmqos created
    (its host namespace, the cgroup directories above the instances)."""

    config: SandboxConfig
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    owned_host_netns: str | None = None
    shared_cgroups: list[str] = field(default_factory=list)

    def save(self) -> None:
        path = self.config.state_file
        if not self.instances and self.owned_host_netns is None and not self.shared_cgroups:
            with translate(f"removing {path}"):
                path.unlink(missing_ok=True)
            return
        data = {"version": _VERSION, "prefix": self.config.prefix,
                "instances": self.instances, "owned_host_netns": self.owned_host_netns,
                "shared_cgroups": self.shared_cgroups}
        tmp = path.with_suffix(".json.tmp")
        with translate(f"writing {path}"):
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            tmp.replace(path)

    @classmethod
    def load(cls, config: SandboxConfig) -> StateFile:
        path = config.state_file
        if not path.exists():
            return cls(config)
        with translate(f"reading {path}"):
            data = json.loads(path.read_text())
        return cls(config, dict(data.get("instances", {})), data.get("owned_host_netns"),
                   list(data.get("shared_cgroups", [])))


@contextmanager
def locked_state(config: SandboxConfig) -> Iterator[StateFile]:
    """The record, under an exclusive lock; saved on normal exit of the block (the block
    saves itself before creating each object)."""
    with translate(f"creating {config.state_dir}"):
        config.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(config.state_dir / f"{config.prefix}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        state = StateFile.load(config)
        yield state
        state.save()
    finally:
        os.close(fd)
        if not config.state_file.exists():
            (config.state_dir / f"{config.prefix}.lock").unlink(missing_ok=True)
