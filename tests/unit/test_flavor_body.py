"""Nova's flavor create and update bodies (``nova/api/openstack/compute/schemas/flavors.py``)
and ``nova/compute/flavors.py`` ``create``'s reading of what they let through; the printable
class Nova writes into ``valid_description_regex``."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.nova.flavor_body import (
    NewFlavor,
    flavor_create_schema,
    new_flavor,
    validate_flavor_create_body,
    validate_flavor_update_body,
)
from vmqos.intent.printable import CLASS_END, printable_ranges

INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable "
                "characters. Can not start or end with whitespace.")
BASE = {"name": "f", "ram": 1, "vcpus": 1, "disk": 0}


def _refused(body: object, *, with_description: bool = True) -> str:
    with pytest.raises(ValidationError) as exc:
        validate_flavor_create_body(body, with_description=with_description)
    return exc.value.message


def test_the_description_is_a_field_from_255_only() -> None:
    flavor = flavor_create_schema(with_description=True)["properties"]["flavor"]
    assert list(flavor["properties"]) == [
        "name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap",
        "rxtx_factor", "os-flavor-access:is_public", "description"]
    validate_flavor_create_body({"flavor": {**BASE, "description": "d"}}, with_description=True)
    assert _refused({"flavor": {**BASE, "description": "d"}}, with_description=False) == (
        "Invalid input for field/attribute flavor. Value: {'name': 'f', 'ram': 1, 'vcpus': 1, "
        "'disk': 0, 'description': 'd'}. Additional properties are not allowed ('description' "
        "was unexpected)")


@pytest.mark.parametrize("name", [" lead", "tail ", "a\tb", "a\x00b", "\ud800", "😀", "\n"])
def test_a_name_nova_refuses_is_invalid_name(name: str) -> None:
    assert _refused({"flavor": {**BASE, "name": name, "ram": "x"}}) == INVALID_NAME


def test_a_name_is_checked_for_type_before_format() -> None:
    assert _refused({"flavor": {**BASE, "name": None}}) == (
        "Invalid input for field/attribute name. Value: None. None is not of type 'string'")


@pytest.mark.parametrize(("description", "accepted"), [
    ("any printable text, ünïcode, and  spaces", True), ("", True), (None, True),
    ("ends in one newline\n", True),      # re.search: $ before a final newline
    ("a\nb", False), ("a\tb", False), ("a\x00", False), ("😀", False), ("\u2028", False),
])
def test_a_description_is_printable(description: str | None, accepted: bool) -> None:
    body = {"flavor": {"description": description}}
    if accepted:
        assert validate_flavor_update_body(body) == description
    else:
        with pytest.raises(ValidationError) as exc:
            validate_flavor_update_body(body)
        assert exc.value.message.startswith(
            f"Invalid input for field/attribute description. Value: {description}. "
            f"{description!r} does not match '^[")


def test_printable_ranges_are_the_printable_class_in_minimal_runs() -> None:
    """Nova's ``_build_regex_range()``: the class matches exactly the printable code points
    below U+FFFF (Unicode category not C*, nor Z* other than Zs), written as maximal runs."""
    ranges = printable_ranges()
    klass = re.compile(f"[{ranges}]")
    for code in range(CLASS_END):
        char = chr(code)
        category = unicodedata.category(char)
        printable = category[0] != "C" and (category[0] != "Z" or category == "Zs")
        assert bool(klass.fullmatch(char)) is printable, hex(code)
    assert ranges.startswith("\\ -\\~\xa0-¬®-")  # Latin-1 without the soft hyphen
    # Maximal runs: no run's end is followed by the next run's start.
    runs = re.findall(r"(\\?.)(?:-(\\?.))?", ranges, flags=re.DOTALL)
    ends = [ord((last or first)[-1]) for first, last in runs]
    starts = [ord(first[-1]) for first, _ in runs]
    assert all(start > end + 1 for end, start in zip(ends, starts[1:], strict=False))


# --- flavors.create ---------------------------------------------------------------------------

def test_defaults_are_the_controllers() -> None:
    assert new_flavor(BASE, with_description=True) == NewFlavor(
        name="f", flavorid=None, memory_mb=1, vcpus=1, root_gb=0, ephemeral_gb=0, swap=0,
        rxtx_factor=1.0, is_public=True, description=None)


def test_strings_and_numbers_are_read_as_flavors_create_reads_them() -> None:
    flavor = new_flavor({"name": "m1.x\n", "id": 42, "ram": "512", "vcpus": "2", "disk": "10",
                         "OS-FLV-EXT-DATA:ephemeral": "3", "swap": "0", "rxtx_factor": "1.5",
                         "os-flavor-access:is_public": "Off", "description": "d"},
                        with_description=True)
    assert flavor == NewFlavor(name="m1.x", flavorid="42", memory_mb=512, vcpus=2, root_gb=10,
                               ephemeral_gb=3, swap=0, rxtx_factor=1.5, is_public=False,
                               description="d")


@pytest.mark.parametrize(("flavorid", "stored"), [
    (None, None), (0, None), (0.0, None), ("0", "0"), (7, "7"), (1.5, "1.5"), ("m1.x", "m1.x"),
])
def test_a_falsy_id_is_generated_and_any_other_stringified(flavorid: object,
                                                           stored: str | None) -> None:
    assert new_flavor({**BASE, "id": flavorid}, with_description=True).flavorid == stored


@pytest.mark.parametrize(("text", "public"), [
    (True, True), (False, False), ("True", True), ("TRUE", True), ("1", True), ("ON", True),
    ("yes", True), ("false", False), ("0", False), ("Off", False), ("NO", False),
])
def test_is_public_is_bool_from_string(text: object, public: bool) -> None:
    assert new_flavor({**BASE, "os-flavor-access:is_public": text},
                      with_description=True).is_public is public


def test_a_description_below_255_is_not_read() -> None:
    assert new_flavor({**BASE, "description": "d"}, with_description=False).description is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"ram": 512.0}, "Invalid input received: ram must be an integer"),
    ({"vcpus": 1.0, "ram": 2.0}, "Invalid input received: ram must be an integer"),
    ({"OS-FLV-EXT-DATA:ephemeral": 1.0}, "Invalid input received: ephemeral must be an "
                                         "integer"),
    ({"rxtx_factor": "0"}, "Invalid input received: 'rxtx_factor' argument must be a float "
                           "between 0 and 3.40282e+38"),
    ({"rxtx_factor": math.nan}, "Invalid input received: 'rxtx_factor' argument must be a "
                                "float between 0 and 3.40282e+38"),
])
def test_what_flavors_create_refuses(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        new_flavor({**BASE, **fields}, with_description=True)
    assert exc.value.message == message
