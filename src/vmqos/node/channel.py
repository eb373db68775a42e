"""The host end of the control channel: one request, its response, within a deadline.

QEMU listens on the node's ``ctl.sock`` (``server=on,wait=off``) and hands the bytes to the
guest's virtio-serial port; it serves one client at a time, and vmqos.node.lifecycle
serialises clients with the node's lock. While the guest has not opened its end yet, QEMU
reads nothing from the socket (virtio-console ``chr_can_read`` is 0), so a request sent during
boot waits in the socket and is answered when the agent starts: that is how boot is detected.
"""

from __future__ import annotations

import secrets
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path

from vmqos.errors import NodeError, NodeTimeoutError
from vmqos.node.protocol import FrameDecoder, Request, Response, encode_frame

__all__ = ["ChannelClosed", "call", "new_id"]

_POLL_S = 0.25


class ChannelClosed(NodeError):
    """QEMU closed the channel (the guest went away) before the response came."""


def new_id() -> str:
    return secrets.token_hex(8)


def _connect(path: Path, deadline: float, alive: Callable[[], bool]) -> socket.socket:
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.connect(str(path))
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
        if not alive():
            raise ChannelClosed(f"the node's QEMU is gone; {path} never answered")
        if time.monotonic() >= deadline:
            raise NodeTimeoutError(f"could not connect to {path} in time")
        time.sleep(_POLL_S)


def call(path: Path, request: Request, *, deadline: float,
         alive: Callable[[], bool]) -> Response:
    """Send ``request`` on the channel at ``path`` and return its response.

    ``deadline`` is a ``time.monotonic()`` value; ``alive`` is asked between reads, so that a
    guest that dies is reported as such at once rather than at the deadline."""
    sock = _connect(path, deadline, alive)
    decoder = FrameDecoder()
    try:
        sock.sendall(encode_frame(request.to_wire()))
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NodeTimeoutError(f"no answer to {request.op!r} from the node's agent in "
                                       "time")
            ready, _, _ = select.select([sock], [], [], min(left, _POLL_S))
            if not ready:
                if not alive():
                    raise ChannelClosed(f"the node's QEMU ended during {request.op!r}")
                continue
            data = sock.recv(1 << 20)
            if not data:
                raise ChannelClosed(f"the node's QEMU closed the channel during "
                                    f"{request.op!r}")
            for message in decoder.feed(data):
                if message.get("id") == request.id:
                    return Response.from_wire(message)
    except (ConnectionResetError, BrokenPipeError) as exc:
        # QEMU went away with our request unread: the kernel answers with a reset.
        raise ChannelClosed(f"the node's QEMU closed the channel during {request.op!r}: "
                            f"{exc.strerror}") from exc
    finally:
        sock.close()
