"""Keep going past a bad element: set it aside with a finding, explain everything else.

A scenario file (``vmqos explain --keep-going``) or a cloud (``vmqos explain --cloud``) may
hold elements vmqos cannot explain: a flavor with a ``quota:*`` value Nova's API stored
unchecked below microversion 2.86, a QoS rule Neutron refuses today, a server in ERROR or one
whose flavor or port is gone. :class:`Triage` is the one place that decides what happens to
such an element; the readers (:mod:`vmqos.intent.scenario_parse`,
:mod:`vmqos.store.cloud_reader`) build every element through it and never catch an
:class:`~vmqos.errors.IntentError` themselves.

* With ``keep_going=False`` a triage is transparent: the first error propagates unchanged
  (CLI exit 2, the message naming the key, the value and what is allowed).
* With ``keep_going=True`` the element is left out and recorded as a :class:`SetAside`: what
  was left out (:class:`Element`), its name and id, and a :class:`~vmqos.intent.findings.Finding`
  of severity error with a stable code (:data:`SET_ASIDE_CODES`), the key and value, and
  what Nova, libvirt or vmqos does with it. An element that refers to one set aside is set
  aside in turn (:meth:`Triage.require`), so nothing is explained from a guess.
* A flavor's specs are judged one by one (:func:`vmqos.intent.nova.unchecked.unchecked_specs`):
  a spec the libvirt driver ignores is set aside alone (the flavor is explained without it,
  as the driver builds the guest); one that makes the boot fail sets the flavor aside.

Findings are built here only: :func:`_finding` from an error, :func:`_spec_finding` from an
unchecked spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from vmqos.errors import ConflictError, IntentError, NotFoundError
from vmqos.intent.findings import Finding, Severity
from vmqos.intent.nova.unchecked import Fate, UncheckedSpec, libvirt_reads, unchecked_specs

__all__ = ["SET_ASIDE_CODES", "Element", "InErrorState", "SetAside", "SetAsideReference",
           "Triage"]

_T = TypeVar("_T")


class Element(Enum):
    """What was left out of the explanation."""

    EXTRA_SPEC = "extra_spec"   # one spec; its flavor is explained without it
    FLAVOR = "flavor"           # the flavor and every server using it
    RULE = "rule"               # one QoS rule; its policy is explained without it
    POLICY = "policy"
    NETWORK = "network"
    PORT = "port"
    SERVER = "server"


# What leaving each element out does to the rest, said after the cause.
_CONSEQUENCE = {
    Element.FLAVOR: "the flavor is set aside and the servers using it are not explained",
    Element.RULE: "the rule is set aside: its policy is explained without it",
    Element.POLICY: "the policy is set aside, and with it the networks and ports using it",
    Element.NETWORK: "the network is set aside, and with it its ports and their servers",
    Element.PORT: "the port is set aside, and with it its server",
    Element.SERVER: "the server is not explained",
}


class _Cause(Enum):
    INVALID = "invalid"
    CONFLICT = "conflict"
    REFERS_TO_MISSING = "refers-to-missing"
    DEPENDS_ON_SET_ASIDE = "depends-on-set-aside"
    IN_ERROR_STATE = "in-error-state"


_SPEC_CODES = {Fate.IGNORED: "extra-spec-ignored-by-libvirt", Fate.BOOT_FAILS: "flavor-fails-boot"}

SET_ASIDE_CODES: tuple[str, ...] = (
    *_SPEC_CODES.values(),
    *(f"{e.value}-{c.value}" for e in _CONSEQUENCE for c in _Cause),
)


@dataclass(frozen=True, slots=True)
class SetAside:
    """An element left out of the explanation, and why. ``name`` and ``id`` are the element's
    own; for an extra spec or a rule, those of the flavor or policy holding it (the finding's
    key names the spec or the rule's attribute). In a scenario file an element without a
    name is named by its path (``flavors[2]``)."""

    element: Element
    name: str
    id: str
    finding: Finding


class Unexplainable(IntentError):
    """Raised by a reader inside :meth:`Triage.attempt` for an element that is well formed
    but cannot be explained; never escapes a triage that keeps going."""

    cause = _Cause.INVALID


class SetAsideReference(Unexplainable):
    """The element refers to another that was set aside."""

    cause = _Cause.DEPENDS_ON_SET_ASIDE


class InErrorState(Unexplainable):
    """Nova reports the server in ERROR; the message is its fault."""

    cause = _Cause.IN_ERROR_STATE

    def __init__(self, fault: str) -> None:
        super().__init__(fault or "no fault recorded", key="status", value="ERROR")


def _cause(exc: IntentError) -> _Cause:
    if isinstance(exc, Unexplainable):
        return exc.cause
    if isinstance(exc, ConflictError):
        return _Cause.CONFLICT
    if isinstance(exc, NotFoundError):
        return _Cause.REFERS_TO_MISSING
    return _Cause.INVALID


def _finding(element: Element, exc: IntentError) -> Finding:
    """The finding for an element that raised ``exc`` while it was read."""
    cause = _cause(exc)
    value = "" if exc.value is None else str(exc.value)
    if cause is _Cause.IN_ERROR_STATE:
        reason = (f"Nova reports the server in ERROR (fault: {exc.message}): its instance "
                  "failed to build or broke, so what a compute node enforces for it is not "
                  "known; the server is not explained.")
        advice = ("Read the fault (openstack server show SERVER -c fault), fix its cause, then "
                  "rebuild or re-create the server.")
    elif cause is _Cause.DEPENDS_ON_SET_ASIDE:
        reason = f"{exc.message}; {_CONSEQUENCE[element]}."
        advice = "Fix the element it refers to (its own entry says how)."
    else:
        reason = f"{exc.message} — {_CONSEQUENCE[element]}."
        advice = (f"Allowed for {exc.key}: {exc.allowed}." if exc.key and exc.allowed
                  else "Correct it and explain again.")
    return Finding(code=f"{element.value}-{cause.value}", severity=Severity.ERROR,
                   key=exc.key or "", value=value, reason=reason, advice=advice)


def _spec_finding(spec: UncheckedSpec) -> Finding:
    """The finding for one stored spec Nova's API at >= 2.86 refuses."""
    reason = (f"Nova's API refuses this value from microversion 2.86 on ({spec.refusal}); "
              f"below 2.86 it was stored as given, and {spec.reason}.")
    if spec.fate is Fate.BOOT_FAILS:
        reason += " The flavor is set aside and the servers using it are not explained."
        advice = (f"Set {spec.key} to {spec.allowed}, or unset it, then create its servers "
                  "again (an instance keeps the copy of the flavor it was created with).")
    else:
        reason += " The flavor is explained without it."
        advice = (f"Unset {spec.key} (openstack flavor unset --property {spec.key} FLAVOR): "
                  "it limits nothing on a libvirt host.")
    return Finding(code=_SPEC_CODES[spec.fate], severity=Severity.ERROR, key=spec.key,
                   value=spec.value, reason=reason, advice=advice)


class Triage:
    """Builds elements, setting aside those that cannot be explained when ``keep_going``."""

    def __init__(self, *, keep_going: bool) -> None:
        self.keep_going = keep_going
        self._set_aside: list[SetAside] = []
        self._refs: dict[Element, set[str]] = {}

    @property
    def set_aside(self) -> tuple[SetAside, ...]:
        return tuple(self._set_aside)

    def is_set_aside(self, element: Element, ref: str) -> bool:
        return ref in self._refs.get(element, ())

    def _add(self, entry: SetAside, refs: Iterable[str]) -> None:
        self._set_aside.append(entry)
        self._refs.setdefault(entry.element, set()).update(r for r in refs if r)

    def attempt(self, element: Element, name: str, build: Callable[[], _T], *,
                id: str = "", refs: Iterable[str] = ()) -> _T | None:
        """``build()``, or ``None`` with the element set aside when it raises an
        :class:`~vmqos.errors.IntentError` and the triage keeps going. ``refs`` are further
        names the element is referred to by (its name and id always are)."""
        try:
            return build()
        except IntentError as exc:
            if not self.keep_going:
                raise
            self._add(SetAside(element, name, id, _finding(element, exc)), (name, id, *refs))
            return None

    def flavor(self, name: str, id: str, specs: Mapping[str, str],
               build: Callable[[Mapping[str, str]], _T]) -> _T | None:
        """``build(specs)``; keeping going, each spec 2.86 refuses is set aside with what the
        libvirt driver does with it, and the flavor is built from the specs the driver acts
        on — or set aside when one of them makes the boot fail."""
        if not self.keep_going:
            return build(specs)
        unchecked = unchecked_specs(specs)
        for spec in unchecked:
            element = Element.FLAVOR if spec.fate is Fate.BOOT_FAILS else Element.EXTRA_SPEC
            self._add(SetAside(element, name, id, _spec_finding(spec)),
                      (name, id) if element is Element.FLAVOR else ())
        kept = libvirt_reads(specs, unchecked)
        if kept is None:
            return None
        return self.attempt(Element.FLAVOR, name, lambda: build(kept), id=id)

    def require(self, element: Element, ref: str, *, key: str) -> None:
        """Raise :class:`SetAsideReference` when ``ref`` names an ``element`` set aside."""
        if self.is_set_aside(element, ref):
            raise SetAsideReference(f"{key}: {element.value} {ref!r} is set aside", key=key,
                                    value=ref)
