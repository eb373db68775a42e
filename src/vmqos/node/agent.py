"""The guest agent: runs inside the reference node, serves requests on the control port.

Started by the initramfs' init (``python -m vmqos.node.agent --port /dev/vportNpM``) with this
host's own interpreter through the shared root; imports only the standard library and
vmqos.node.protocol. One request at a time, in order. The host end of a virtio-serial port
comes and goes (one client per ``vmqos node run``): while nobody is connected the port polls
``POLLHUP`` and reads return EOF at once (Linux drivers/char/virtio_console.c
``port_fops_poll``/``port_fops_read``), so the agent waits in short sleeps. A client that
leaves while its command runs gets the command killed and no answer (see protocol.py).

When the agent exits — on ``poweroff``, or because it failed — init reboots the guest, which
ends QEMU (``-no-reboot``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import select
import signal
import subprocess
import sys
import time
from typing import Any

from vmqos.node.protocol import MAX_OUTPUT, FrameDecoder, Request, Response, encode_frame

__all__ = ["main"]

BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "LANG": "C.UTF-8"}
_IDLE_S = 0.05
_HUP = select.POLLHUP | select.POLLERR


def _log(text: str) -> None:
    print(f"vmqos-agent: {text}", file=sys.stderr, flush=True)


def _host_gone(port: int) -> bool:
    poller = select.poll()
    poller.register(port, 0)
    return any(events & _HUP for _, events in poller.poll(0))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_command(request: Request, port: int | None) -> Response | None:
    """Run ``request.argv``; ``None`` if the host end closed meanwhile (the command is then
    killed: nobody is waiting for it)."""
    started = time.monotonic()
    env = {**BASE_ENV, **request.env}
    try:
        proc = subprocess.Popen(list(request.argv), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                cwd="/", start_new_session=True)
    except OSError as exc:
        # env(1)'s statuses: 127 when the program is not found, 126 when it cannot be run.
        message = f"vmqos-agent: cannot run {request.argv[0]!r}: {exc.strerror}\n"
        return Response(request.id, exit_status=127 if isinstance(exc, FileNotFoundError)
                        else 126, stderr=message.encode(), error=message.strip(),
                        seconds=time.monotonic() - started)
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    chunks: dict[int, bytearray] = {out_fd: bytearray(), err_fd: bytearray()}
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    if port is not None:
        poller.register(port, 0)
    deadline = started + request.timeout_s
    open_fds = set(chunks)
    timed_out = truncated = False
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for fd, events in poller.poll(min(left, 1.0) * 1000):
            if fd == port:
                if events & _HUP:
                    _kill_group(proc)
                    proc.wait()
                    return None
                continue
            data = os.read(fd, 65536) if events & (select.POLLIN | _HUP) else b""
            if not data:
                poller.unregister(fd)
                open_fds.discard(fd)
                continue
            room = MAX_OUTPUT - len(chunks[fd])
            truncated |= len(data) > room
            chunks[fd] += data[:max(room, 0)]
    if timed_out:
        _kill_group(proc)
    try:
        status = proc.wait(timeout=max(deadline - time.monotonic(), 0.0) + 1.0)
    except subprocess.TimeoutExpired:
        # The pipes closed but the process lives on (it closed its output): it is still
        # bounded by the request's timeout.
        timed_out = True
        _kill_group(proc)
        status = proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    return Response(request.id, exit_status=status, stdout=bytes(chunks[out_fd]),
                    stderr=bytes(chunks[err_fd]), timed_out=timed_out, truncated=truncated,
                    seconds=time.monotonic() - started)


def handle(message: dict[str, Any], port: int | None) -> tuple[Response | None, bool]:
    """The response to one message (None: nobody to answer), and whether to exit after."""
    try:
        request = Request.from_wire(message)
    except ValueError as exc:
        return Response(str(message.get("id", "")), error=f"bad request: {exc}"), False
    if request.op == "ping":
        return Response(request.id, exit_status=0,
                        info={"release": platform.release(), "pid": str(os.getpid())}), False
    if request.op == "poweroff":
        return Response(request.id, exit_status=0), True
    return run_command(request, port), False


def serve(port_path: str) -> int:
    port = os.open(port_path, os.O_RDWR | os.O_CLOEXEC)
    decoder = FrameDecoder()
    _log(f"ready on {port_path} ({platform.release()})")
    while True:
        data = os.read(port, 65536)
        if not data:
            # Nobody at the host end: EOF until a client connects.
            time.sleep(_IDLE_S)
            continue
        for message in decoder.feed(data):
            response, leave = handle(message, port)
            if response is not None and not _host_gone(port):
                _write_all(port, encode_frame(response.to_wire()))
            if leave:
                _log("poweroff requested")
                return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vmqos.node.agent")
    parser.add_argument("--port", required=True, help="the virtio-serial port device")
    args = parser.parse_args(argv)
    return serve(args.port)


if __name__ == "__main__":
    sys.exit(main())
