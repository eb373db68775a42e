"""A reference node's life: start, run commands, stop, status — each bounded in time, and
nothing left behind.

The record ``<run dir>/node.json`` names the node's processes (pid and start time) and its
owner: the process whose end ends the node (the Python API: a test session), or none for a
node started by ``vmqos node start``, which lives until ``vmqos node stop``. Every change, and
every command, happens under an exclusive ``flock`` on the run directory; the kernel drops it
when its holder dies, so a SIGKILLed vmqos never leaves a lock behind.

Leftovers: ``start`` first reaps whatever an earlier, interrupted vmqos left — any process
that belongs to the run directory by its command line (vmqos.node.process), sockets, the
record — unless the recorded node still runs and its owner lives, which is an error (the node
is in use). ``stop`` powers the guest off through its agent, then SIGTERM, then SIGKILL, and
removes the sockets and the record; the console log stays for whoever reads a failure.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from vmqos.errors import NodeError, NodeTimeoutError, TemporaryHostError
from vmqos.host.errors_map import translate
from vmqos.node.channel import ChannelClosed, call, new_id
from vmqos.node.config import NodeConfig, NodeImage, NodePaths
from vmqos.node.image import ensure_image
from vmqos.node.process import (
    ProcessRecord,
    find_processes,
    spawn,
    start_time,
    stop_process,
    wait_gone,
)
from vmqos.node.protocol import Request, Response
from vmqos.node.qemu_argv import qemu_argv, virtiofsd_argv

__all__ = ["CommandResult", "Node", "NodeRecord", "NodeStatus", "console_tail", "node_status",
           "stop_node"]

_CONSOLE_LINES = 40
# What the agent's answer may take beyond the command's own timeout: a TCG guest is slow to
# kill a process group and send its output.
_ANSWER_MARGIN_S = 30.0
_POWEROFF_ANSWER_S = 10.0
_SOCKET_WAIT_S = 15.0


def console_tail(path: Path, lines: int = _CONSOLE_LINES) -> str:
    """The last ``lines`` lines of the guest console (at most its last 64 KiB)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - 65536, 0))
            data = handle.read()
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A command's outcome in the node: exit status (``-N``: killed by signal N), output."""

    argv: tuple[str, ...]
    exit_status: int
    stdout: bytes
    stderr: bytes
    seconds: float
    truncated: bool = False

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode(errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode(errors="replace")

    def to_json(self) -> dict[str, Any]:
        return {"argv": list(self.argv), "exit_status": self.exit_status,
                "stdout": self.stdout_text, "stderr": self.stderr_text,
                "seconds": round(self.seconds, 3), "truncated": self.truncated}


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """``node.json``: the node's processes, owner and boot facts."""

    name: str
    processes: tuple[ProcessRecord, ...]
    owner: ProcessRecord | None = None
    release: str | None = None
    boot_seconds: float | None = None
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "processes": [p.to_json() for p in self.processes],
                "owner": self.owner.to_json() if self.owner else None,
                "release": self.release, "boot_seconds": self.boot_seconds,
                "started_at": self.started_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeRecord:
        owner = data.get("owner")
        return cls(name=str(data["name"]),
                   processes=tuple(ProcessRecord.from_json(p) for p in data["processes"]),
                   owner=ProcessRecord.from_json(owner) if owner else None,
                   release=data.get("release"), boot_seconds=data.get("boot_seconds"),
                   started_at=float(data.get("started_at", 0.0)))

    def process(self, role: str) -> ProcessRecord | None:
        return next((p for p in self.processes if p.role == role), None)

    def running(self) -> bool:
        qemu = self.process("qemu")
        return qemu is not None and qemu.alive()

    def in_use(self) -> bool:
        """Running, and either detached or its owner still alive."""
        return self.running() and (self.owner is None or self.owner.alive())


@dataclass(frozen=True, slots=True)
class NodeStatus:
    name: str
    state: str                          # running | stopped | stale (owner gone)
    run_dir: Path
    record: NodeRecord | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "run_dir": str(self.run_dir),
                "console_log": str(NodePaths(self.run_dir).console_log),
                **({} if self.record is None else self.record.to_json())}


def _read_record(config: NodeConfig) -> NodeRecord | None:
    try:
        return NodeRecord.from_json(json.loads(config.paths.state_file.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(config: NodeConfig, record: NodeRecord) -> None:
    path = config.paths.state_file
    tmp = path.with_suffix(".tmp")
    with translate(f"writing {path}"):
        tmp.write_text(json.dumps(record.to_json(), indent=1) + "\n")
        tmp.replace(path)


@contextmanager
def _locked(config: NodeConfig, timeout: float, *, proceed: bool = False) -> Iterator[None]:
    """The node's lock; after ``timeout`` s raise (or, with ``proceed``, go on without it:
    ``stop`` must be able to end a node whose command hangs)."""
    run_dir = config.paths.run_dir
    with translate(f"the node's run directory {run_dir}"):
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                if proceed:
                    break
                raise TemporaryHostError(f"node {config.name!r} is busy (another vmqos holds "
                                         f"{run_dir}); try again when it is done")
            time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _programs(config: NodeConfig) -> tuple[str, str]:
    return (config.qemu, config.virtiofsd)


def _reap(config: NodeConfig, children: Mapping[int, subprocess.Popen[bytes]]) -> None:
    """End every process of the node's run directory and remove its runtime files."""
    paths = config.paths
    for pid in find_processes(_programs(config), paths.run_dir):
        stop_process(ProcessRecord("leftover", pid, start_time(pid)), children.get(pid))
    for path in paths.runtime_files:
        with suppress(FileNotFoundError):
            path.unlink()


def _error(config: NodeConfig, message: str, cls: type[NodeError] = NodeError) -> NodeError:
    log = config.paths.console_log
    return cls(message, console_tail=console_tail(log), console_path=str(log))


def node_status(config: NodeConfig) -> NodeStatus:
    record = _read_record(config)
    if record is None or not record.running():
        state = "stopped"
    else:
        state = "running" if record.in_use() else "stale"
    return NodeStatus(config.name, state, config.paths.run_dir, record)


class Node:
    """A running reference node. ``Node.start(config)`` boots one owned by this process
    (``with`` stops it; so does the next start after this process died);
    ``detach=True`` leaves it running for other processes (``Node.attach``)."""

    def __init__(self, config: NodeConfig, record: NodeRecord,
                 children: Mapping[int, subprocess.Popen[bytes]] | None = None) -> None:
        self.config = config
        self.record = record
        self._children = dict(children or {})

    # -- start ------------------------------------------------------------------------------

    @classmethod
    def start(cls, config: NodeConfig, *, detach: bool = False,
              image: NodeImage | None = None) -> Node:
        with _locked(config, config.shutdown_timeout_s):
            old = _read_record(config)
            if old is not None and old.in_use():
                owner = f"by pid {old.owner.pid}" if old.owner else "(detached)"
                raise NodeError(f"node {config.name!r} is already running {owner}: stop it "
                                f"with `vmqos node stop --name {config.name}`")
            _reap(config, {})
            image = image or ensure_image(config)
            node = cls(config, NodeRecord(config.name, (), None if detach else
                                          ProcessRecord("owner", os.getpid(),
                                                        start_time(os.getpid()))))
            try:
                node._boot(image)
            except BaseException:
                node._teardown()
                raise
            return node

    def _spawn(self, role: str, argv: list[str], log: Path) -> ProcessRecord:
        child, proc = spawn(role, argv, log)
        self._children[proc.pid] = child
        self.record = NodeRecord(self.record.name, (*self.record.processes, proc),
                                 self.record.owner)
        _write_record(self.config, self.record)
        return proc

    def _boot(self, image: NodeImage) -> None:
        config, paths = self.config, self.config.paths
        began = time.monotonic()
        with translate(f"creating {paths.console_log}"):
            paths.console_log.write_bytes(b"")
        vfs = self._spawn("virtiofsd", virtiofsd_argv(config), paths.virtiofsd_log)
        socket_deadline = began + _SOCKET_WAIT_S
        while not paths.vfs_socket.exists():
            if not vfs.alive() or time.monotonic() >= socket_deadline:
                log = console_tail(paths.virtiofsd_log)
                raise NodeError(f"virtiofsd did not create {paths.vfs_socket}: {log}")
            time.sleep(0.05)
        qemu = self._spawn("qemu", qemu_argv(config, image), paths.qemu_log)
        try:
            answer = call(paths.control_socket, Request(new_id(), "ping"),
                          deadline=began + config.boot_timeout_s, alive=qemu.alive)
        except NodeTimeoutError as exc:
            raise _error(config, f"node {config.name!r} did not boot within "
                         f"{config.boot_timeout_s:g} s", NodeTimeoutError) from exc
        except ChannelClosed as exc:
            qemu_log = console_tail(paths.qemu_log, 5)
            raise _error(config, f"node {config.name!r} ended while booting"
                         + (f"; QEMU said: {qemu_log}" if qemu_log else "")) from exc
        self.record = NodeRecord(self.record.name, self.record.processes, self.record.owner,
                                 release=answer.info.get("release"),
                                 boot_seconds=round(time.monotonic() - began, 2))
        _write_record(config, self.record)

    # -- attach / run -----------------------------------------------------------------------

    @classmethod
    def attach(cls, config: NodeConfig) -> Node:
        """The node ``config`` names, started by another process."""
        record = _read_record(config)
        if record is None or not record.running():
            raise NodeError(f"node {config.name!r} is not running: start it with `vmqos node "
                            f"start --name {config.name}`")
        return cls(config, record)

    def _alive(self) -> bool:
        return self.record.running()

    def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
            timeout_s: float | None = None) -> CommandResult:
        """Run ``argv`` in the node and return its result, whatever its exit status.

        Raises NodeTimeoutError (with the output so far in its message) if the command
        outlives ``timeout_s`` (default: the config's), NodeError if the node is gone."""
        if not argv:
            raise NodeError("no command to run in the node")
        timeout = self.config.command_timeout_s if timeout_s is None else timeout_s
        request = Request(new_id(), "run", tuple(argv), dict(env or {}), timeout)
        with _locked(self.config, timeout + _ANSWER_MARGIN_S):
            if not self._alive():
                raise _error(self.config, f"node {self.config.name!r} is not running")
            try:
                answer = call(self.config.paths.control_socket, request,
                              deadline=time.monotonic() + timeout + _ANSWER_MARGIN_S,
                              alive=self._alive)
            except NodeTimeoutError as exc:
                raise _error(self.config, f"the node's agent did not answer `{argv[0]}` "
                             f"within {timeout + _ANSWER_MARGIN_S:g} s",
                             NodeTimeoutError) from exc
            except ChannelClosed as exc:
                raise _error(self.config, f"node {self.config.name!r} ended while running "
                             f"`{argv[0]}`") from exc
        return self._result(request, answer)

    def _result(self, request: Request, answer: Response) -> CommandResult:
        if answer.timed_out:
            out = answer.stdout.decode(errors="replace")[-2000:]
            err = answer.stderr.decode(errors="replace")[-2000:]
            raise _error(self.config, f"`{' '.join(request.argv)}` did not finish within "
                         f"{request.timeout_s:g} s in node {self.config.name!r} and was "
                         f"killed; its stdout so far: {out!r}; its stderr: {err!r}",
                         NodeTimeoutError)
        if answer.exit_status is None:
            raise _error(self.config, f"the node's agent could not run "
                         f"`{' '.join(request.argv)}`: {answer.error}")
        return CommandResult(request.argv, answer.exit_status, answer.stdout, answer.stderr,
                             answer.seconds, answer.truncated)

    # -- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Power the guest off (bounded), then make sure nothing of the node is left."""
        with _locked(self.config, self.config.shutdown_timeout_s, proceed=True):
            self._teardown()

    def _teardown(self) -> None:
        config = self.config
        qemu = self.record.process("qemu")
        if qemu is not None and qemu.alive():
            child = self._children.get(qemu.pid)
            answered = False
            with suppress(NodeError):
                call(config.paths.control_socket, Request(new_id(), "poweroff"),
                     deadline=time.monotonic() + _POWEROFF_ANSWER_S, alive=qemu.alive)
                answered = True
            # An agent that did not answer will not power off: no point waiting for it.
            if not answered or not wait_gone(qemu, child, config.shutdown_timeout_s):
                stop_process(qemu, child)
        for proc in self.record.processes:
            # virtiofsd ends by itself when QEMU closes its socket; give it a moment.
            if not wait_gone(proc, self._children.get(proc.pid), 2.0):
                stop_process(proc, self._children.get(proc.pid))
        _reap(config, self._children)
        self._children.clear()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def stop_node(config: NodeConfig) -> bool:
    """Stop the node ``config`` names, whoever started it; whether anything was running.
    Also cleans up after a node whose vmqos died."""
    if not config.paths.run_dir.is_dir():
        return False            # never started here: nothing to clean, nothing to create
    record = _read_record(config)
    was_running = record is not None and record.running()
    node = Node(config, record or NodeRecord(config.name, ()))
    node.stop()
    return was_running
