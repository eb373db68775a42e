"""The printable-name rule that Nova and Neutron both apply to names.

Nova (``nova/api/validation/parameter_types.py`` ``valid_name_regex``, which the ``name``
format checker of ``nova/api/validation/validators.py`` searches) and neutron-lib
(``neutron_lib/api/validators/__init__.py`` ``valid_name_regex``, behind
``type:name_string``) build the same regular expression, ``^(?![E])[P]*(?<![E])$``, from two
character classes drawn over ``U+0000..U+FFFE`` (both build them from ``range(0xFFFF)``):

* ``P``, the printable characters: Unicode category neither ``C*`` (control, format,
  surrogate, private use, unassigned) nor ``Z*`` other than ``Zs`` (so line and paragraph
  separators are out, spaces are in), minus any excluded characters;
* ``E``, what may not stand at either end: the non-printable characters and the ``Zs``
  spaces.

This module is that rule as a predicate, with the consequences the regular expression has:

* a character above ``U+FFFE`` (an emoji, any astral code point) is in neither class, so it
  is refused anywhere in a name, as are ``U+FFFF`` and the lone surrogates;
* the empty string matches (the schemas' ``minLength`` refuses it, in its own words);
* Python's ``$`` also matches before one final ``"\\n"``, so ``"abc\\n"`` is a valid name
  while ``"\\n"`` and ``"abc \\n"`` are not.

Invariant: :func:`is_valid_name` answers what ``re.search`` of the upstream expression
answers, for every string (``tests/unit/test_printable_names.py`` checks it against the
expression built from the classes).

Nova also writes ``P`` out as a regular-expression class, ``_build_regex_range()``, for
``valid_description_regex`` (``^[P]*$``), whose text jsonschema quotes when a description fails
it; :func:`printable_ranges` is that text.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["CLASS_END", "is_edge_forbidden", "is_printable", "is_valid_name",
           "is_valid_spaced_name", "printable_ranges"]

CLASS_END = 0xFFFF  # the classes span code points below this one (range(0xFFFF))


def is_printable(char: str) -> bool:
    """In the printable class ``P`` (before exclusions): Nova's and neutron-lib's
    ``_is_printable``, for the code points the classes span."""
    if ord(char) >= CLASS_END:
        return False
    category = unicodedata.category(char)
    return category[0] != "C" and (category[0] != "Z" or category == "Zs")


def is_edge_forbidden(char: str) -> bool:
    """In the class ``E`` of characters a name may not start or end with."""
    if ord(char) >= CLASS_END:
        return False
    return not is_printable(char) or unicodedata.category(char) == "Zs"


def is_valid_name(text: str, *, exclude: str = "") -> bool:
    """Whether ``valid_name_regex`` (built without the characters in ``exclude``, as
    Nova's ``_build_regex_range(exclude=...)`` does for availability zones) matches
    ``text``."""
    if not text:
        return True
    core = text[:-1] if text.endswith("\n") else text
    if not core:
        return False
    return (not is_edge_forbidden(core[0]) and not is_edge_forbidden(core[-1])
            and all(is_printable(c) and c not in exclude for c in core))


def is_valid_spaced_name(text: str) -> bool:
    """Whether Nova's ``valid_name_leading_trailing_spaces_regex`` matches ``text``: printable
    characters (spaces anywhere, at either end too) with at least one that is not a ``Zs``
    space; as with the other rule, ``$`` also matches before one final ``"\\n"``."""
    core = text[:-1] if text.endswith("\n") else text
    return all(is_printable(c) for c in core) and any(
        unicodedata.category(c) != "Zs" for c in core)


@functools.cache
def printable_ranges() -> str:
    """The class ``P`` as Nova's ``_build_regex_range()`` (``ws=True``, nothing excluded) writes
    it: each run of printable code points below ``U+FFFF`` as its first character, then ``-``
    and its last unless the run is one character long, each ``re.escape``'d."""
    parts: list[str] = []
    start: int | None = None
    for code in range(CLASS_END + 1):
        inside = code < CLASS_END and is_printable(chr(code))
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            parts.append(re.escape(chr(start)))
            if code - 1 != start:
                parts.append("-" + re.escape(chr(code - 1)))
            start = None
    return "".join(parts)
