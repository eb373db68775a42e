"""The printable-name rule (vmqos.intent.printable) and Nova's name parameters
(vmqos.intent.nova.names), against the regular expression the rule stands for and Nova's
literal messages (nova/tests/unit/test_api_validation.py NameTestCase and friends).

The oracle builds ``^(?![E])[P]*(?<![E])$`` from the two character classes as the module
docstring defines them — code points below U+FFFF, by Unicode category — and ``re.search``
answers; the predicate must agree on every single character and on the edge cases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.nova.json_schema import validate_field
from vmqos.intent.nova.names import (
    INVALID_NAME,
    KEYPAIR_NAME,
    KEYPAIR_NAME_V292,
    NAME_FORMATS,
    validate_az_name_or_none,
    validate_name,
)
from vmqos.intent.printable import is_valid_name, is_valid_spaced_name


def _char_class(keep: Callable[[str], bool]) -> str:
    """A regex character class body holding exactly the BMP code points below U+FFFF that
    ``keep`` selects, as ranges."""
    parts: list[str] = []
    start: int | None = None
    for code in range(0x10000):
        inside = code < 0xFFFF and keep(chr(code))
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            end = code - 1
            parts.append(re.escape(chr(start)) if start == end
                         else f"{re.escape(chr(start))}-{re.escape(chr(end))}")
            start = None
    return "".join(parts)


def _printable(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] != "C" and (category[0] != "Z" or category == "Zs")


@cache
def _oracle(exclude: str = "") -> re.Pattern[str]:
    middle = _char_class(lambda c: _printable(c) and c not in exclude)
    edge = _char_class(lambda c: not _printable(c) or unicodedata.category(c) == "Zs")
    return re.compile(f"^(?![{edge}])[{middle}]*(?<![{edge}])$")


def _agrees(text: str, exclude: str = "") -> bool:
    return is_valid_name(text, exclude=exclude) == bool(_oracle(exclude).search(text))


def test_every_character_alone_and_inside_a_name_is_judged_as_the_expression_judges_it() -> None:
    wrong = [code for code in range(0x10000)
             if not (_agrees(chr(code)) and _agrees(f"a{chr(code)}b"))]
    assert wrong == []


@pytest.mark.parametrize("text", [
    "", "a", "m1.small", "my server", "\u0434\u2006\ufffd", " ", " a", "a ", "a\xa0",
    "\uffff", "\U00010000", "a\U0001f600b", "\ud800", "a\x00b", "a\tb", "abc\n", "\n",
    "abc \n", "abc\n\n", "a\nb", "a\u2028b", "a:b", ":a", "a:",
])
@pytest.mark.parametrize("exclude", ["", ":"])
def test_edge_cases_agree_with_the_expression(text: str, exclude: str) -> None:
    assert _agrees(text, exclude)


@cache
def _spaced_oracle() -> re.Pattern[str]:
    """parameter_types.valid_name_leading_trailing_spaces_regex, built as Nova builds it."""
    ws = _char_class(_printable)
    no_ws = _char_class(lambda c: _printable(c) and unicodedata.category(c) != "Zs")
    return re.compile(f"^[{ws}]*[{no_ws}]+[{ws}]*$|"
                      f"^[{ws}]*[{no_ws}][{no_ws}{ws}]+[{no_ws}][{ws}]*$")


@pytest.mark.parametrize("text", [
    "", "a", " a ", "  ", "\xa0x\xa0", "a\n", " \n", "\n", "a\tb", "\U0001f600", "a\x00",
    "\u2028a", "x \n\n", "\u3000\u3000", "\u3000b",
])
def test_a_name_with_spaces_agrees_with_novas_expression(text: str) -> None:
    assert is_valid_spaced_name(text) == bool(_spaced_oracle().search(text))


def test_every_character_is_judged_in_a_spaced_name_as_the_expression_judges_it() -> None:
    wrong = [code for code in range(0x10000)
             if is_valid_spaced_name(f" {chr(code)} ") != bool(
                 _spaced_oracle().search(f" {chr(code)} "))]
    assert wrong == []


@pytest.mark.parametrize(("text", "valid"), [
    ("m1.small", True), ("my server", True), ("\u0434\u2006\ufffd", True),
    ("abc\n", True),       # Python's $ matches before a final newline
    (" ", False), (" server", False), ("server ", False), ("a\xa0", False),
    ("\uffff", False), ("\U00010000", False), ("a\x00b", False), ("a\x01b", False),
    ("\ud800", False), ("\n", False), ("a\u2028b", False),
])
def test_names_nova_accepts_and_refuses(text: str, valid: bool) -> None:
    assert is_valid_name(text) is valid


def validate_keypair_name(value: object, field: str, *, at_2_92: bool) -> object:
    """The key pair create schema's ``name`` (keypair_name_special_chars, _v292 from 2.92)."""
    validate_field(KEYPAIR_NAME_V292 if at_2_92 else KEYPAIR_NAME, value, field, NAME_FORMATS)
    return value


def _message(check: Callable[[], object]) -> str:
    with pytest.raises(ValidationError) as caught:
        check()
    return caught.value.message


@pytest.mark.parametrize(("value", "message"), [
    (" lead", INVALID_NAME),
    ("a\x00b", INVALID_NAME),
    ("\ud800", INVALID_NAME),
    ("", "Invalid input for field/attribute name. Value: . '' should be non-empty"),
    ("k" * 256, f"Invalid input for field/attribute name. Value: {'k' * 256}. "
                f"'{'k' * 256}' is too long"),
    (5, "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'"),
    (True, "Invalid input for field/attribute name. Value: True. True is not of type "
           "'string'"),
    (None, "Invalid input for field/attribute name. Value: None. None is not of type "
           "'string'"),
])
def test_a_bad_name_gets_novas_message(value: object, message: str) -> None:
    assert _message(lambda: validate_name(value, "name")) == message


def test_the_invalid_name_message_is_novas() -> None:
    assert INVALID_NAME == ("An invalid 'name' value was provided. The name must be: "
                            "printable characters. Can not start or end with whitespace.")


def test_a_good_name_is_returned() -> None:
    assert validate_name("k" * 255, "name") == "k" * 255


@pytest.mark.parametrize("value", [None, "az1", "a b"])
def test_an_aggregate_zone_may_be_null_or_a_name_without_a_colon(value: str | None) -> None:
    assert validate_az_name_or_none(value, "availability_zone") == value


@pytest.mark.parametrize("value", ["a:b", "", " az", "k" * 256, 5])
def test_a_bad_aggregate_zone_matches_no_alternative(value: object) -> None:
    assert _message(lambda: validate_az_name_or_none(value, "availability_zone")) == (
        f"Invalid input for field/attribute availability_zone. Value: {value}. {value!r} is "
        "not valid under any of the given schemas")


@pytest.mark.parametrize("name", ["key-1", "my_key", "a b", "abc\n"])
def test_key_pair_names_nova_accepts_at_every_version(name: str) -> None:
    for at_2_92 in (False, True):
        assert validate_keypair_name(name, "name", at_2_92=at_2_92) == name


def test_at_and_dot_are_allowed_from_2_92() -> None:
    assert validate_keypair_name("me@host.x", "name", at_2_92=True) == "me@host.x"
    assert _message(lambda: validate_keypair_name("me@host.x", "name", at_2_92=False)) == (
        "Invalid input for field/attribute name. Value: me@host.x. 'me@host.x' does not "
        "match '^[_\\\\- a-zA-Z0-9]+$'")


def test_other_punctuation_is_refused_with_the_versions_pattern() -> None:
    assert _message(lambda: validate_keypair_name("a!b", "name", at_2_92=True)) == (
        "Invalid input for field/attribute name. Value: a!b. 'a!b' does not match "
        "'^[_\\\\-\\\\@\\\\. a-zA-Z0-9]+$'")


def test_a_key_pair_name_is_first_a_nova_name() -> None:
    assert _message(lambda: validate_keypair_name(" k", "name", at_2_92=True)) == INVALID_NAME
