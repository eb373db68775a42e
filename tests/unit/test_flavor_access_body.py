"""Nova's ``addTenantAccess`` / ``removeTenantAccess`` bodies, judged as
``nova/api/openstack/compute/schemas/flavor_access.py`` and ``nova/api/validation/validators.py``
``_SchemaValidator.validate`` judge them. The expected texts were checked against jsonschema
4.26.0 itself (``Draft202012Validator``, the first error, in Nova's sentence)."""

from __future__ import annotations

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.nova.flavor_access_body import ACTIONS, Action, validate_tenant_access_body

LONG = "p" * 256

# (the action's object, Nova's message with {a} for the action's name)
REFUSED = [
    ({}, "Invalid input for field/attribute {a}. Value: {{}}. 'tenant' is a required property"),
    ({"tenant": ""}, "Invalid input for field/attribute tenant. Value: . '' should be non-empty"),
    ({"tenant": LONG}, f"Invalid input for field/attribute tenant. Value: {LONG}. '{LONG}' is "
                       "too long"),
    ({"tenant": 1}, "Invalid input for field/attribute tenant. Value: 1. 1 is not of type "
                    "'string'"),
    ({"tenant": True}, "Invalid input for field/attribute tenant. Value: True. True is not of "
                       "type 'string'"),
    ({"tenant": None}, "Invalid input for field/attribute tenant. Value: None. None is not of "
                       "type 'string'"),
    ({"tenant": ["p"]}, "Invalid input for field/attribute tenant. Value: ['p']. ['p'] is not "
                        "of type 'string'"),
    # properties before additionalProperties: a bad tenant is named before an unknown key
    ({"x": 1, "tenant": 2}, "Invalid input for field/attribute tenant. Value: 2. 2 is not of "
                            "type 'string'"),
    ({"tenant": "p", "x": 1}, "Invalid input for field/attribute {a}. Value: {{'tenant': 'p', "
                              "'x': 1}}. Additional properties are not allowed ('x' was "
                              "unexpected)"),
    ("x", "Invalid input for field/attribute {a}. Value: x. 'x' is not of type 'object'"),
    ([], "Invalid input for field/attribute {a}. Value: []. [] is not of type 'object'"),
    (None, "Invalid input for field/attribute {a}. Value: None. None is not of type 'object'"),
]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(("inner", "message"), REFUSED)
def test_a_bad_body_is_refused_in_novas_words(action: Action, inner: object,
                                              message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_tenant_access_body(action, {action: inner})
    assert exc.value.message == message.format(a=action)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_tenant_is_what_passes(action: Action) -> None:
    assert validate_tenant_access_body(action, {action: {"tenant": "p" * 255}}) == "p" * 255
    assert validate_tenant_access_body(action, {action: {"tenant": " "}}) == " "


def test_the_body_names_one_action_and_nothing_else() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_tenant_access_body("addTenantAccess", {"removeTenantAccess": {"tenant": "p"}})
    assert exc.value.message == "'addTenantAccess' is a required property"
