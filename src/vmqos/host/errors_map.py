"""The one place where OS, subprocess and netlink failures become vmqos errors.

Every host module calls :func:`translate` (a context manager) or one of the ``from_*``
functions at its boundary; nothing else catches library exceptions. Errors are chained
(``raise ... from exc``) so the original stays visible in a traceback.

Classification: a busy or interrupted resource (``EBUSY``, ``EAGAIN``, ``EINTR``, a timeout)
is a :class:`TemporaryHostError`; everything else — a missing binary or kernel module, no
permission, an invalid argument the kernel refuses — is a :class:`PermanentHostError`.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from vmqos.errors import HostError, PermanentHostError, TemporaryHostError

__all__ = ["CommandError", "from_called_process", "from_oserror", "translate"]

_TEMPORARY = frozenset({errno.EBUSY, errno.EAGAIN, errno.EINTR, errno.ETIMEDOUT})


class CommandError(PermanentHostError):
    """A command the kernel (or a tool) refused: ``command`` is the exact command line,
    ``detail`` the kernel's or tool's own message."""

    def __init__(self, command: str, detail: str, *, context: str = "") -> None:
        prefix = f"{context}: " if context else ""
        super().__init__(f"{prefix}`{command}` failed: {detail}")
        self.command = command
        self.detail = detail


def from_oserror(exc: OSError, what: str) -> HostError:
    """An ``OSError`` while doing ``what`` (a sentence fragment naming the object)."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EPERM, errno.EACCES):
        return PermanentHostError(f"{what}: {reason} (vmqos needs root for this)")
    if exc.errno in _TEMPORARY:
        return TemporaryHostError(f"{what}: {reason}")
    return PermanentHostError(f"{what}: {reason}")


def from_called_process(exc: subprocess.CalledProcessError | subprocess.TimeoutExpired,
                        command: str) -> HostError:
    if isinstance(exc, subprocess.TimeoutExpired):
        return TemporaryHostError(f"`{command}` did not finish within {exc.timeout} s")
    stderr = exc.stderr if isinstance(exc.stderr, str) else (exc.stderr or b"").decode()
    detail = " ".join(stderr.split()) or f"exit status {exc.returncode}"
    return CommandError(command, detail)


@contextmanager
def translate(what: str) -> Iterator[None]:
    """Turn OS errors raised inside the block (netlink's included: the kernel's errno comes
    back as an ``OSError``) into vmqos host errors about ``what``."""
    try:
        yield
    except HostError:
        raise
    except OSError as exc:
        raise from_oserror(exc, what) from exc
