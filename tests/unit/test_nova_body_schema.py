"""Nova's request-body schema before its validators: ``os-extra_specs`` bodies judged as
``nova/api/openstack/compute/schemas/flavors_extraspecs.py`` (``create``, ``update``) and
``nova/api/validation/validators.py`` ``_SchemaValidator.validate`` judge them, then the values
as ``flavors_extraspecs.py`` ``_check_extra_specs_value`` walks them, in the body's order.

The expected texts are Nova's: jsonschema 4.26.0's messages (``jsonschema/_keywords.py``) inside
Nova's ``Invalid input for field/attribute <field>. Value: <value>. <message>``. They were
checked against jsonschema 4.26.0 itself, run with Nova's ``_SchemaValidator`` extensions.
"""

from __future__ import annotations

from typing import Any

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.nova.extra_specs_body import (
    extra_spec_values,
    validate_extra_specs_create_body,
    validate_extra_specs_update_body,
)
from vmqos.intent.nova.json_schema import first_schema_error, nova_schema_message, validate_body

REGEXES = "'^[a-zA-Z0-9-_:. ]{1,255}$'"
LONG = "1" * 256


def _refused(check: Any, body: object) -> str:
    with pytest.raises(ValidationError) as exc:
        check(body)
    return exc.value.message


# --- POST os-extra_specs: the create schema ---------------------------------------------------

CREATE_REFUSED = [
    ({"extra_specs": {"quota:cpu_shares": LONG}},
     f"Invalid input for field/attribute quota:cpu_shares. Value: {LONG}. '{LONG}' is too long"),
    ({"extra_specs": {"quota/cpu_shares": "1"}},
     "Invalid input for field/attribute extra_specs. Value: {'quota/cpu_shares': '1'}. "
     f"'quota/cpu_shares' does not match any of the regexes: {REGEXES}"),
    # Every bad key at once, sorted, with the plural verb.
    ({"extra_specs": {"b/x": "1", "ok": "2", "a;y": "3"}},
     "Invalid input for field/attribute extra_specs. Value: {'b/x': '1', 'ok': '2', 'a;y': "
     f"'3'}}. 'a;y', 'b/x' do not match any of the regexes: {REGEXES}"),
    ({"extra_specs": {"": "1"}},
     "Invalid input for field/attribute extra_specs. Value: {'': '1'}. '' does not match any "
     f"of the regexes: {REGEXES}"),
    ({"extra_specs": {"k" * 256: "1"}},
     f"Invalid input for field/attribute extra_specs. Value: {{'{'k' * 256}': '1'}}. "
     f"'{'k' * 256}' does not match any of the regexes: {REGEXES}"),
    # A value's error comes first (patternProperties before additionalProperties), even after
    # a bad key in the body.
    ({"extra_specs": {"quota/x": "1", "hw:a": "v" * 300}},
     f"Invalid input for field/attribute hw:a. Value: {'v' * 300}. '{'v' * 300}' is too long"),
    # JSON booleans, null, lists and objects are no extra spec values.
    ({"extra_specs": {"hw:boot_menu": True}},
     "Invalid input for field/attribute hw:boot_menu. Value: True. True is not of type "
     "'string', 'number'"),
    ({"extra_specs": {"hw:numa_nodes": None}},
     "Invalid input for field/attribute hw:numa_nodes. Value: None. None is not of type "
     "'string', 'number'"),
    ({"extra_specs": {"a": "1", "b": ["x"]}},
     "Invalid input for field/attribute b. Value: ['x']. ['x'] is not of type 'string', "
     "'number'"),
    ({"extra_specs": {"a": {"b": 1}}},
     "Invalid input for field/attribute a. Value: {'b': 1}. {'b': 1} is not of type "
     "'string', 'number'"),
    ({"extra_specs": "non_dict"},
     "Invalid input for field/attribute extra_specs. Value: non_dict. 'non_dict' is not of "
     "type 'object'"),
    ({}, "'extra_specs' is a required property"),
    ({"extra_specs": {}, "more": 1}, "Additional properties are not allowed ('more' was "
                                     "unexpected)"),
    ("", "'' is not of type 'object'"),
    ([], "[] is not of type 'object'"),
]


@pytest.mark.parametrize(("body", "message"), CREATE_REFUSED)
def test_create_body_refused_in_novas_words(body: object, message: str) -> None:
    assert _refused(validate_extra_specs_create_body, body) == message


@pytest.mark.parametrize("specs", [
    {},
    {"quota:cpu_shares": "1" * 255, "a b": "", "x.y-z_w:v": "v"},
    {"k" * 255: "1"},
    {"hw:numa_nodes": 2, "quota:cpu_shares": 1.5, "x": -1},   # JSON numbers are values
    {"quota:cpu_shares\n": "1"},                              # re.search: $ before one "\n"
])
def test_create_body_accepted_in_order(specs: dict[str, Any]) -> None:
    assert list(validate_extra_specs_create_body({"extra_specs": specs}).items()) == \
        list(specs.items())


def test_a_refusal_names_the_field_and_its_value() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_extra_specs_create_body({"extra_specs": {"hw:boot_menu": False}})
    assert (exc.value.key, exc.value.value) == ("hw:boot_menu", False)
    with pytest.raises(ValidationError) as root:
        validate_extra_specs_create_body({})
    assert (root.value.key, root.value.value) == (None, {})


# --- PUT os-extra_specs/{key}: the update schema ----------------------------------------------

UPDATE_REFUSED = [
    ({}, "{} should be non-empty"),
    ({"a": "1", "b": "2"}, "{'a': '1', 'b': '2'} has too many properties"),
    ({"a/b": "1"}, f"'a/b' does not match any of the regexes: {REGEXES}"),
    # additionalProperties comes before maxProperties in the schema.
    ({"a/b": "1", "c": "2"}, f"'a/b' does not match any of the regexes: {REGEXES}"),
    ({"hw:x": True}, "Invalid input for field/attribute hw:x. Value: True. True is not of "
                     "type 'string', 'number'"),
    ({"hw:x": LONG}, f"Invalid input for field/attribute hw:x. Value: {LONG}. '{LONG}' is "
                     "too long"),
    ("x", "'x' is not of type 'object'"),
]


@pytest.mark.parametrize(("body", "message"), UPDATE_REFUSED)
def test_update_body_refused_in_novas_words(body: object, message: str) -> None:
    assert _refused(validate_extra_specs_update_body, body) == message


def test_update_body_accepted() -> None:
    assert validate_extra_specs_update_body({"quota:cpu_shares": 7}) == {"quota:cpu_shares": 7}


# --- the values, in the body's order ----------------------------------------------------------

@pytest.mark.parametrize(("specs", "message"), [
    ({"quota:vif_outbound_peak": "max", "quota:cpu_shares": "-1"},
     "Validation failed; 'max' is not a valid integer value."),
    ({"quota:cpu_shares": "-1", "quota:vif_outbound_peak": "max"},
     "Validation failed; '-1' is less than the min value of '0'."),
    ({"foo": "bar", "hw:cpu_policy": "bogus", "hw:cpu_polcy": "x"},
     "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."),
    # A number is read as str() of it before the validators see it.
    ({"quota:cpu_shares": -1}, "Validation failed; '-1' is less than the min value of '0'."),
    ({"hw:numa_nodes": 1.5}, "Validation failed; '1.5' is not a valid integer value."),
    # oslo_utils.strutils.check_string_length through nova.utils, for a number's text only.
    ({"key1": 10 ** 1000}, "extra_specs value has 1001 characters, more than 255."),
])
def test_values_first_failure_in_body_order(specs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        extra_spec_values(specs, validators=True)
    assert exc.value.message == message


def test_below_286_only_a_numbers_length_is_checked() -> None:
    assert extra_spec_values({"quota:cpu_shares": "-1", "hw:numa_nodes": 2, "r": 0.5},
                             validators=False) == {
        "quota:cpu_shares": "-1", "hw:numa_nodes": "2", "r": "0.5"}
    with pytest.raises(ValidationError) as exc:
        extra_spec_values({"quota:cpu_shares": "-1", "n": -(10 ** 255)}, validators=False)
    assert exc.value.message == "extra_specs value has 257 characters, more than 255."


def test_stored_values_keep_the_body_order() -> None:
    specs = {"z": "1", "a": 2, "m": "3"}
    assert list(extra_spec_values(specs, validators=True)) == ["z", "a", "m"]


# --- the evaluator's other keywords, on Nova's parameter types --------------------------------

# parameter_types.flavor_param_positive, boolean, and a name-formatted field, in a flavor-like
# object (nova/api/openstack/compute/schemas/flavors.py create).
_FLAVORISH = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "format": "name", "minLength": 1, "maxLength": 255},
        "ram": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1,
                "maximum": 0x7FFFFFFF},
        "rxtx_factor": {"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                        "exclusiveMinimum": 0, "maximum": 3.40282e38},
        "is_public": {"type": ["boolean", "string"], "enum": [True, "True", "1", False, "0"]},
    },
    "required": ["name", "ram"],
    "additionalProperties": False,
}


def _no_spaces(instance: object) -> str | None:
    return "An invalid 'name' value was provided." if " " in str(instance) else None


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "n", "ram": "0"}, "Invalid input for field/attribute ram. Value: 0. 0 is less "
                                "than the minimum of 1"),
    # Nova's maximum reads the string as a number; the message quotes the number.
    ({"name": "n", "ram": " 2147483648"}, "Invalid input for field/attribute ram. Value:  "
     "2147483648. ' 2147483648' does not match '^[0-9]+$'"),
    ({"name": "n", "ram": "2147483648"}, "Invalid input for field/attribute ram. Value: "
     "2147483648. 2147483648 is greater than the maximum of 2147483647"),
    ({"name": "n", "ram": True}, "Invalid input for field/attribute ram. Value: True. True is "
                                 "not of type 'integer', 'string'"),
    ({"name": "n", "ram": 1.5}, "Invalid input for field/attribute ram. Value: 1.5. 1.5 is not "
                                "of type 'integer', 'string'"),
    ({"name": "n", "ram": 1, "rxtx_factor": 0}, "Invalid input for field/attribute rxtx_factor."
     " Value: 0. 0 is less than or equal to the minimum of 0"),
    ({"name": "n", "ram": 1, "rxtx_factor": 3.5e38}, "Invalid input for field/attribute "
     "rxtx_factor. Value: 3.5e+38. 350000000000000001565567347835409530880 is greater than the "
     "maximum of 3.40282e+38"),
    ({"name": "n", "ram": 1, "is_public": 1}, "Invalid input for field/attribute is_public. "
     "Value: 1. 1 is not of type 'boolean', 'string'"),
    ({"name": "n", "ram": 1, "is_public": "yes"}, "Invalid input for field/attribute "
     "is_public. Value: yes. 'yes' is not one of [True, 'True', '1', False, '0']"),
    # A format checker's exception is reported alone.
    ({"name": "a b", "ram": 1}, "An invalid 'name' value was provided."),
    ({"name": "", "ram": 1}, "Invalid input for field/attribute name. Value: . '' should be "
                             "non-empty"),
    # properties are checked in the schema's order, before required and additionalProperties.
    ({"ram": "x", "name": 5, "color": 1}, "Invalid input for field/attribute name. Value: 5. 5 "
     "is not of type 'string'"),
    ({"ram": 1, "color": 1}, "'name' is a required property"),
    ({"name": "n", "ram": 1, "b": 1, "a": 2}, "Additional properties are not allowed ('a', 'b' "
                                             "were unexpected)"),
])
def test_keywords_in_schema_order_with_jsonschemas_words(body: dict[str, Any],
                                                          message: str) -> None:
    error = first_schema_error(_FLAVORISH, body, {"name": _no_spaces})
    assert error is not None and nova_schema_message(error) == message


@pytest.mark.parametrize("body", [
    {"name": "n", "ram": 512}, {"name": "n", "ram": "512"}, {"name": "n", "ram": 512.0},
    {"name": "n", "ram": 1, "rxtx_factor": "1.5", "is_public": False},
])
def test_keywords_accept_what_nova_accepts(body: dict[str, Any]) -> None:
    validate_body(_FLAVORISH, body, {"name": _no_spaces})


def test_an_unknown_keyword_is_a_bug_not_a_pass() -> None:
    with pytest.raises(ValueError, match="'not'"):
        validate_body({"not": {"type": "string"}}, "x")


def _first(schema: dict[str, object], instance: object) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_body(schema, instance)
    return caught.value.message


def test_all_of_reports_the_first_subschemas_error_at_the_instances_path() -> None:
    schema = {"type": "object", "properties": {"k": {"allOf": [
        {"type": "string", "minLength": 2}, {"type": "string", "pattern": "^a"}]}}}
    assert _first(schema, {"k": "b"}) == (
        "Invalid input for field/attribute k. Value: b. 'b' is too short")
    assert _first(schema, {"k": "bc"}) == (
        "Invalid input for field/attribute k. Value: bc. 'bc' does not match '^a'")
    validate_body(schema, {"k": "ab"})


def test_one_of_needs_exactly_one_match_in_jsonschemas_words() -> None:
    assert _first({"oneOf": [{"type": "string"}, {"type": "null"}]}, 5) == (
        "5 is not valid under any of the given schemas")
    assert _first({"oneOf": [{"type": "integer"}, {"minimum": 0}, {"maximum": 9}]}, 5) == (
        "5 is valid under each of {'minimum': 0}, {'maximum': 9}, {'type': 'integer'}")
    validate_body({"oneOf": [{"type": "string"}, {"type": "null"}]}, None)



def test_any_of_needs_one_match() -> None:
    schema = {"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}
    assert _first(schema, {}) == "{} is not valid under any of the given schemas"
    validate_body(schema, {"a": 1, "b": 2})
