"""The control channel's wire format: pure, stdlib only (the guest agent imports it).

A frame is ``MAGIC`` (8 bytes), the body's length (4 bytes, big-endian) and the body, one
UTF-8 JSON object. Every request carries an ``id`` its response repeats. Output bytes travel
base64-encoded, so a command's stdout arrives byte for byte.

Why magic and ids on a stream: a virtio-serial port is one byte stream for the guest's whole
life, reused by one host client after another. A client that goes away mid-command (Ctrl-C)
leaves the agent with a response nobody reads; the agent drops it when it sees the host end
closed (``POLLHUP`` on the port), but bytes already in flight can reach the next client, and
QEMU discards what the guest writes while no client is connected — so a stale frame may
arrive cut short. The decoder therefore skips to the next ``MAGIC`` after anything it cannot
read, and a client ignores frames with another id.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["HEADER", "MAGIC", "MAX_BODY", "FrameDecoder", "Request", "Response",
           "encode_frame"]

MAGIC = b"VMQOSNC1"
HEADER = struct.Struct(">8sI")
MAX_BODY = 64 << 20
# What a command's output may grow to, per stream; beyond it the agent keeps the first bytes
# and says so (``truncated``): a runaway command must not exhaust either side's memory.
MAX_OUTPUT = 16 << 20

Op = Literal["ping", "run", "poweroff"]


def encode_frame(message: Mapping[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), sort_keys=True).encode()
    if len(body) > MAX_BODY:
        raise ValueError(f"frame body of {len(body)} bytes exceeds {MAX_BODY}")
    return HEADER.pack(MAGIC, len(body)) + body


class FrameDecoder:
    """Bytes in, whole messages out; resynchronises on the next ``MAGIC`` after garbage."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.skipped = 0        # bytes thrown away while resynchronising

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buffer += data
        messages: list[dict[str, Any]] = []
        while True:
            start = self._buffer.find(MAGIC)
            if start < 0:
                # Keep a tail that may be the start of a MAGIC split across reads.
                keep = len(MAGIC) - 1
                drop = max(len(self._buffer) - keep, 0)
                self.skipped += drop
                del self._buffer[:drop]
                return messages
            if start:
                self.skipped += start
                del self._buffer[:start]
            if len(self._buffer) < HEADER.size:
                return messages
            _, length = HEADER.unpack_from(self._buffer)
            if length > MAX_BODY:
                self._drop_magic()
                continue
            end = HEADER.size + length
            if len(self._buffer) < end:
                return messages
            try:
                message = json.loads(bytes(self._buffer[HEADER.size:end]))
            except (UnicodeDecodeError, ValueError):
                self._drop_magic()
                continue
            del self._buffer[:end]
            if isinstance(message, dict):
                messages.append(message)

    def _drop_magic(self) -> None:
        # Only the MAGIC: a whole frame may start inside what its length claimed.
        self.skipped += len(MAGIC)
        del self._buffer[: len(MAGIC)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    return base64.b64decode(text) if isinstance(text, str) else b""


@dataclass(frozen=True, slots=True)
class Request:
    """``run``: ``argv`` with ``env`` added to the agent's base environment, stopped after
    ``timeout_s``; ``ping``: is the agent there; ``poweroff``: answer, then end the guest."""

    id: str
    op: Op
    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "op": self.op, "argv": list(self.argv), "env": dict(self.env),
                "timeout_s": self.timeout_s}

    @classmethod
    def from_wire(cls, message: Mapping[str, Any]) -> Request:
        op = message.get("op")
        if op not in ("ping", "run", "poweroff"):
            raise ValueError(f"unknown op {op!r}")
        argv = message.get("argv", [])
        env = message.get("env", {})
        if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
            raise ValueError("argv must be a list of strings")
        if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in env.items())):
            raise ValueError("env must map strings to strings")
        if op == "run" and not argv:
            raise ValueError("run needs a non-empty argv")
        timeout = message.get("timeout_s", 60.0)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError("timeout_s must be a positive number")
        return cls(id=str(message.get("id", "")), op=op, argv=tuple(argv), env=env,
                   timeout_s=float(timeout))


@dataclass(frozen=True, slots=True)
class Response:
    """What became of a request. ``error`` is set when the agent could not run it at all
    (no such program, a malformed request); ``exit_status`` is then None. A command the
    kernel killed by signal N reports ``-N`` (subprocess's convention)."""

    id: str
    exit_status: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
    truncated: bool = False
    seconds: float = 0.0
    error: str | None = None
    info: Mapping[str, str] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "exit_status": self.exit_status, "stdout": _b64(self.stdout),
                "stderr": _b64(self.stderr), "timed_out": self.timed_out,
                "truncated": self.truncated, "seconds": round(self.seconds, 6),
                "error": self.error, "info": dict(self.info)}

    @classmethod
    def from_wire(cls, message: Mapping[str, Any]) -> Response:
        status = message.get("exit_status")
        info = message.get("info") or {}
        return cls(id=str(message.get("id", "")),
                   exit_status=status if isinstance(status, int) else None,
                   stdout=_unb64(message.get("stdout")), stderr=_unb64(message.get("stderr")),
                   timed_out=bool(message.get("timed_out")),
                   truncated=bool(message.get("truncated")),
                   seconds=float(message.get("seconds") or 0.0),
                   error=message.get("error") if isinstance(message.get("error"), str)
                   else None,
                   info={str(k): str(v) for k, v in info.items()})
