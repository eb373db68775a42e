"""The vocabulary of Nova's extra-spec registry: one registered key (or key pattern) and what
its value must be.

:class:`ExtraSpec` carries the facts of one ``base.ExtraSpecValidator`` of Nova master
(nova/api/validation/extra_specs/base.py): the name, with ``{param}`` placeholders for patterned
keys such as ``hw:numa_cpus.{num}``; the value type (``int``, ``bool`` or ``str``); and for
``int`` an optional ``min``/``max``, for ``str`` an optional ``enum`` or ``pattern``.
:class:`QuotaSpec` adds what vmqos itself needs of a ``quota:*`` key (whether libvirt honours it,
its unit).

Invariants:

* Pure data: frozen, no regex is compiled here. Matching and the messages live in one place,
  :mod:`vmqos.intent.nova.extra_specs`.
* ``enum`` and ``pattern`` are for ``str`` keys only and never both (Nova checks ``pattern``
  first); ``min``/``max`` are for ``int`` keys only.
* ``matcher``, when set, is a regular expression that accepts exactly the strings ``pattern``
  accepts but in linear time; Nova's own pattern then appears only in the error message.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BOOL_STRINGS", "ExtraSpec", "QuotaSpec", "SpecParam", "ValueType"]

ValueType = type[int] | type[str] | type[bool]

# oslo_utils.strutils TRUE_STRINGS + FALSE_STRINGS: what bool_from_string(strict=True) accepts
# after strip() and lower(), the values Nova's ExtraSpecValidator._validate_bool allows.
BOOL_STRINGS: tuple[str, ...] = ("1", "t", "true", "on", "y", "yes",
                                 "0", "f", "false", "off", "n", "no")


@dataclass(frozen=True, slots=True)
class SpecParam:
    """A ``{name}`` placeholder of a patterned key and the regex Nova substitutes for it."""

    name: str
    pattern: str


@dataclass(frozen=True, slots=True)
class ExtraSpec:
    """One key (or key pattern) Nova's API validates, and the values it accepts."""

    name: str
    value_type: ValueType
    min: int | None = None            # None: Nova sets no minimum
    max: int | None = None            # None: Nova sets no maximum
    enum: tuple[str, ...] = ()        # allowed values of a str key; () when any value goes
    pattern: str | None = None        # Nova's regex for a str value (re.fullmatch), verbatim
    matcher: str | None = None        # a linear-time regex with pattern's language, if needed
    params: tuple[SpecParam, ...] = ()
    description: str = ""             # Nova's description, where vmqos carries it
    deprecated: bool = False

    @property
    def allowed(self) -> str:
        """What values Nova accepts, in words (for error ``allowed=`` and docs)."""
        if self.value_type is bool:
            return "a boolean-like value: " + ", ".join(BOOL_STRINGS)
        if self.value_type is int:
            if self.min is not None and self.max is not None:
                return f"an integer from {self.min} to {self.max}"
            if self.min is not None:
                return f"an integer >= {self.min}"
            if self.max is not None:
                return f"an integer <= {self.max}"
            return "an integer"
        if self.pattern is not None:
            return f"a value of the format '{self.pattern}'"
        if self.enum:
            return "one of: " + ", ".join(self.enum)
        return "any string"


@dataclass(frozen=True, slots=True)
class QuotaSpec(ExtraSpec):
    """A ``quota:*`` key: an :class:`ExtraSpec` plus what the libvirt driver makes of it."""

    libvirt: bool = False             # True if the libvirt driver honours the key
    unit: str = ""                    # short unit of the value ("" when it has none)
