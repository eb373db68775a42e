"""Measure TCP goodput between two network namespaces with iperf3 (JSON output).

Role: the traffic half of ``vmqos verify``. One iperf3 server runs in ``server_netns``
(``ip netns exec NS iperf3 -s -1``), one client in ``client_netns``; data flows client →
server, or server → client with ``reverse``. The series returned is the **receiver's**
per-interval goodput — what actually got through the shaper — taken from the server's JSON
(``--get-server-output``) in normal mode and from the client's in reverse mode; the sender's
series is kept too (it shows the socket buffer filling, not the shaper).

Invariants:

* Bounded: the client runs ``seconds`` (+ ``omit``) with a connect timeout, and is killed
  after a margin; the server is one-off with an idle timeout and is always killed in
  ``finally``.
* Only addresses in namespaces the caller names are contacted (``ip netns exec``).
* iperf3 reports errors inside its JSON (``"error"``, exit code 0 on 3.12); they become
  :class:`~vmqos.errors.HostError` with iperf3's own message. A missing namespace or binary,
  or no route, is permanent; a refused, reset or timed-out connection is temporary.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from vmqos.errors import HostError, IntentError, PermanentHostError, TemporaryHostError
from vmqos.verify.judge import Sample

__all__ = ["TcpMeasurement", "measure_tcp"]

_READY_TIMEOUT = 5.0     # seconds for the server to listen
_MARGIN = 15.0           # seconds beyond the test before the client is killed
# Random server ports, so parallel measurements do not collide. They stay below Linux's
# ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default): a client that
# dials an address of its own on a port in that range can connect to itself (TCP
# simultaneous open) and then reads its own greeting as "an unknown control message".
_PORTS = (20000, 32767)


@dataclass(frozen=True, slots=True)
class TcpMeasurement:
    """One iperf3 TCP run. ``samples`` are the receiver's per-interval goodput in bit/s."""

    client_netns: str
    server_netns: str
    server_addr: str
    port: int
    reverse: bool
    samples: tuple[Sample, ...]
    sender_samples: tuple[Sample, ...]
    bits_per_second: float         # end.sum_received.bits_per_second
    bytes_received: int            # end.sum_received.bytes
    seconds: float                 # end.sum_received.seconds
    retransmits: int | None        # end.sum_sent.retransmits (the sender's)

    @property
    def direction(self) -> str:
        """Where the data went, in namespace names."""
        src, dst = ((self.server_netns, self.client_netns) if self.reverse
                    else (self.client_netns, self.server_netns))
        return f"{src} -> {dst}"


def _netns(netns: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv]


def _listening(netns: str, port: int) -> bool:
    try:
        out = subprocess.run(_netns(netns, "ss", "-Hltn", f"sport = :{port}"),
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TemporaryHostError(f"cannot list listening sockets in {netns}: {exc}") from exc
    return bool(out.stdout.strip())


def _error_text(raw: str, stderr: str) -> str:
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("error"):
        return str(doc["error"])
    return (stderr.strip() or raw.strip() or "no output").splitlines()[-1]


def _start_server(netns: str, port: int, *, interval: float,
                  idle: int) -> subprocess.Popen[str]:
    argv = _netns(netns, "iperf3", "-s", "-1", "-J", "-p", str(port), "-i", str(interval),
                  "--idle-timeout", str(idle))
    try:
        server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
    except OSError as exc:
        raise PermanentHostError(f"cannot run {' '.join(argv)}: {exc}") from exc
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            out, err = server.communicate()
            message = _error_text(out, err)
            kind = TemporaryHostError if "in use" in message else PermanentHostError
            raise kind(f"iperf3 server in {netns}: {message}")
        if _listening(netns, port):
            return server
        time.sleep(0.02)
    server.kill()
    server.communicate()
    raise TemporaryHostError(f"iperf3 server in {netns} did not listen on port {port} "
                             f"within {_READY_TIMEOUT:.0f} s")


def _samples(doc: dict[str, Any]) -> tuple[Sample, ...]:
    out = []
    for interval in doc.get("intervals", []):
        s = interval.get("sum", {})
        if s.get("omitted") or s.get("seconds", 0) <= 0:
            continue
        out.append(Sample(float(s["start"]), float(s["end"]), float(s["bits_per_second"])))
    return tuple(out)


def _run_client(argv: list[str], *, limit: float,
                progress: Callable[[float], None] | None, planned: float) -> str:
    try:
        client = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
    except OSError as exc:
        raise PermanentHostError(f"cannot run {' '.join(argv)}: {exc}") from exc
    start = time.monotonic()
    try:
        while True:
            try:
                # communicate() with a timeout keeps reading, so a large JSON cannot block.
                out, err = client.communicate(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - start
                if elapsed > limit:
                    raise TemporaryHostError(
                        f"iperf3 client did not finish within {limit:.0f} s") from None
                if progress is not None:
                    progress(min(1.0, elapsed / planned))
    finally:
        if client.poll() is None:
            client.kill()
            client.communicate()
    if progress is not None:
        progress(1.0)
    if client.returncode == 255 and not out.strip():
        # "ip netns exec" itself failed (no such namespace, ...)
        raise PermanentHostError(f"{' '.join(argv[:4])}: {_error_text(out, err)}")
    return out if out.strip() else err


def measure_tcp(
    client_netns: str, server_netns: str, server_addr: str, *, seconds: int = 3,
    reverse: bool = False, port: int | None = None, omit: int = 0, interval: float = 0.2,
    progress: Callable[[float], None] | None = None,
) -> TcpMeasurement:
    """Run iperf3 for ``seconds`` between the namespaces and return the receiver's series.

    ``reverse``: the server sends (iperf3 ``-R``), so data flows server → client. ``omit``:
    seconds iperf3 runs before it starts counting (``-O``); 0 keeps the burst in the series.
    ``progress`` is called with the fraction done, about ten times a second.
    """
    if seconds < 1 or omit < 0 or interval < 0.1:
        raise IntentError(f"iperf3 needs seconds >= 1, omit >= 0 and interval >= 0.1; got "
                          f"{seconds}, {omit}, {interval}", key="seconds", value=seconds,
                          allowed="whole seconds >= 1 (iperf3 -t), interval >= 0.1 s")
    idle = seconds + omit + int(_MARGIN)
    attempts = 1 if port is not None else 3
    server: subprocess.Popen[str] | None = None
    for attempt in range(attempts):
        chosen = port if port is not None else random.randint(*_PORTS)
        try:
            server = _start_server(server_netns, chosen, interval=interval, idle=idle)
            break
        except TemporaryHostError:
            if attempt == attempts - 1:
                raise
    assert server is not None
    try:
        argv = _netns(client_netns, "iperf3", "-c", server_addr, "-p", str(chosen),
                      "-t", str(seconds), "-O", str(omit), "-i", str(interval), "-J",
                      "--get-server-output", "--connect-timeout", "3000")
        if reverse:
            argv.append("-R")
        raw = _run_client(argv, limit=seconds + omit + _MARGIN, progress=progress,
                          planned=float(seconds + omit))
    finally:
        if server.poll() is None:
            server.kill()
        with suppress(subprocess.TimeoutExpired):
            server.communicate(timeout=5)
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PermanentHostError(f"iperf3 client in {client_netns}: "
                                 f"{_error_text(raw, '')}") from exc
    if doc.get("error"):
        message = str(doc["error"])
        # A refused, reset or timed-out connection may pass on retry; no route will not.
        transient = any(word in message for word in ("refused", "timed out", "reset"))
        kind: type[HostError] = TemporaryHostError if transient else PermanentHostError
        raise kind(f"iperf3 client in {client_netns} -> {server_addr}:{chosen}: {message}")
    server_doc = doc.get("server_output_json") or {}
    receiver, sender = (doc, server_doc) if reverse else (server_doc, doc)
    received = doc.get("end", {}).get("sum_received", {})
    sent = doc.get("end", {}).get("sum_sent", {})
    return TcpMeasurement(
        client_netns=client_netns, server_netns=server_netns, server_addr=server_addr,
        port=chosen, reverse=reverse, samples=_samples(receiver), sender_samples=_samples(sender),
        bits_per_second=float(received.get("bits_per_second", 0.0)),
        bytes_received=int(received.get("bytes", 0)), seconds=float(received.get("seconds", 0)),
        retransmits=sent.get("retransmits"))
