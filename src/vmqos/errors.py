"""The one error tree of vmqos.

Every failure vmqos reports on purpose is one of these. Anything else that escapes is a bug and
is shown as a traceback (CLI exit 70), never swallowed::

    VmqosError
    ├── IntentError                 the user's input is wrong: fix the input (CLI exit 2, HTTP 400)
    │   ├── ValidationError         a value Nova/Neutron itself would reject, with its message
    │   ├── ConflictError           input that clashes with other input (HTTP 409)
    │   └── NotFoundError           a reference to something that does not exist (HTTP 404)
    ├── UnsupportedError            valid, but this backend/host cannot enforce it (HTTP 409)
    ├── HostError                   the host misbehaved (HTTP 503)
    │   ├── TemporaryHostError      retry may succeed
    │   ├── PermanentHostError      it will not
    │   └── NodeError               the reference node (the VM vmqos boots) failed to boot, run
    │       │                       or stop; carries the tail of the guest's console
    │       └── NodeTimeoutError    ... within its bound (boot, command, shutdown): exit 124
    ├── VerificationError           applied, but the measurement is outside tolerance
    └── FindingsError               valid, but --strict was asked for and findings of
                                    severity error exist (CLI exit 1)

User errors carry the offending ``key``, the ``value`` and what is ``allowed`` so that the CLI,
the API and the explain output can all say what to change without re-parsing a message.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "FindingsError",
    "HostError",
    "IntentError",
    "NodeError",
    "NodeTimeoutError",
    "NotFoundError",
    "PermanentHostError",
    "TemporaryHostError",
    "UnsupportedError",
    "ValidationError",
    "VerificationError",
    "VmqosError",
]


class VmqosError(Exception):
    """Root of every deliberate vmqos failure.

    ``key``/``value``/``allowed`` name what to change, when the failure is about an input.
    """

    exit_code = 1
    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        value: object = None,
        allowed: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.value = value
        self.allowed = allowed

    def __str__(self) -> str:
        return self.message


class IntentError(VmqosError):
    """Bad user input: a key, value, unit or combination that must be changed.

    ``kind``, when known, is the upstream exception class name (Neutron's
    ``SecurityGroupInvalidPortRange``, ``QoSRulesConflict`` ...) for the API's error body.
    """

    exit_code = 2
    http_status = 400

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        value: object = None,
        allowed: str | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message, key=key, value=value, allowed=allowed)
        self.kind = kind


class ValidationError(IntentError):
    """A value rejected with the exact message Nova or Neutron would give."""


class ConflictError(IntentError):
    """Input that is valid alone but clashes with existing input (Neutron's 409 family).

    ``kind`` is the upstream exception class name (``QoSRulesConflict``, ...), which the API
    layer puts into the ``NeutronError.type`` field.
    """

    http_status = 409

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        key: str | None = None,
        value: object = None,
        allowed: str | None = None,
    ) -> None:
        super().__init__(message, key=key, value=value, allowed=allowed, kind=kind)


class NotFoundError(IntentError):
    """A reference to an object that does not exist (Neutron's ``QosRuleNotFound`` ...).

    ``kind`` is the upstream exception class name, for the API's error body.
    """

    http_status = 404

    def __init__(self, message: str, *, kind: str, key: str | None = None,
                 value: object = None) -> None:
        super().__init__(message, key=key, value=value, kind=kind)


class UnsupportedError(VmqosError):
    """Valid intent that the chosen backend or this host cannot enforce."""

    exit_code = 2
    http_status = 409


class HostError(VmqosError):
    """The host failed while being observed or changed."""

    exit_code = 1
    http_status = 503


class TemporaryHostError(HostError):
    """A host failure that may pass if retried (a busy device, a daemon starting)."""


class PermanentHostError(HostError):
    """A host failure that retrying will not fix (missing kernel module, no permission)."""


class NodeError(HostError):
    """The reference node (vmqos.node: a QEMU guest vmqos boots itself) failed.

    ``console_tail`` is the end of the guest's serial console, the only witness of what the
    guest did; it is part of the message, so that the CLI and a failing test both show it.
    """

    def __init__(self, message: str, *, console_tail: str = "", console_path: str = "") -> None:
        text = message
        if console_tail:
            where = f" ({console_path})" if console_path else ""
            text += f"\n--- guest console, last lines{where} ---\n{console_tail.rstrip()}"
        super().__init__(text)
        self.reason = message
        self.console_tail = console_tail
        self.console_path = console_path


class NodeTimeoutError(NodeError):
    """Boot, a command or shutdown of the reference node did not finish within its bound.

    Exit status 124, as coreutils ``timeout`` reports a command it had to stop.
    """

    exit_code = 124


class VerificationError(VmqosError):
    """The plan was applied but a measurement fell outside the stated tolerance."""

    exit_code = 1


class FindingsError(VmqosError):
    """``--strict``: the input could be read, and the output was printed, but it holds
    findings of severity error (a flavor set aside, a limit that is not applied ...)."""

    exit_code = 1
