"""Nova's parameter types other than names, as schemas for :mod:`vmqos.intent.nova.json_schema`.

Written as ``nova/api/validation/parameter_types.py`` writes them (the name types are
:mod:`vmqos.intent.nova.names`):

=========================  =============================================================
parameter type             where (``nova/api/openstack/compute/schemas/``)
=========================  =============================================================
``description``            ``servers.py`` create and update, from 2.19
``metadata``               ``servers.py`` create; ``server_metadata.py`` create, update
                           (one item), update_all
``metadata_with_null``     ``aggregates.py`` set_metadata
``fqdn``                   ``aggregates.py`` add_host, remove_host
=========================  =============================================================

``valid_description_regex`` is ``^[P]*$`` with ``P`` the printable class written out as Nova's
``_build_regex_range()`` writes it (:func:`vmqos.intent.printable.printable_ranges`), so a
description may hold spaces anywhere but no control character, and jsonschema's message for
one that fails quotes that whole expression, as Nova's does. A metadata key is found by
``patternProperties`` (``re.search``: one final ``"\\n"`` passes); a key it does not find is
an additional property. How many items a server's metadata may hold is a quota, not a schema
(:mod:`vmqos.api.compute_quotas`).

:func:`validate_description` and :func:`validate_metadata` check one field's value (a request
model's field, :mod:`vmqos.api.nova_names`). Invariant: pure; the schemas are built once (the
printable class takes a pass over the Basic Multilingual Plane).
"""

from __future__ import annotations

import functools
from typing import cast

from vmqos.intent.nova.json_schema import Schema, validate_field
from vmqos.intent.printable import printable_ranges

__all__ = ["FQDN", "METADATA", "METADATA_KEY", "METADATA_VALUE_MAX", "METADATA_WITH_NULL",
           "description", "description_pattern", "validate_description", "validate_metadata"]

METADATA_KEY = "^[a-zA-Z0-9-_:. ]{1,255}$"
METADATA_VALUE_MAX = 255
METADATA: Schema = {
    "type": "object",
    "patternProperties": {METADATA_KEY: {"type": "string", "maxLength": METADATA_VALUE_MAX}},
    "additionalProperties": False,
}
METADATA_WITH_NULL: Schema = {
    "type": "object",
    "patternProperties": {METADATA_KEY: {"type": ["string", "null"],
                                         "maxLength": METADATA_VALUE_MAX}},
    "additionalProperties": False,
}
FQDN: Schema = {"type": "string", "pattern": "^[a-zA-Z0-9-._]*$", "minLength": 1,
                "maxLength": 255}
_DESCRIPTION_MAX = 255


@functools.cache
def description_pattern() -> str:
    """``valid_description_regex``."""
    return f"^[{printable_ranges()}]*$"


@functools.cache
def description() -> Schema:
    """``parameter_types.description``: a string or null, printable, at most 255
    characters."""
    return {"type": ["string", "null"], "pattern": description_pattern(), "minLength": 0,
            "maxLength": _DESCRIPTION_MAX}


def validate_description(value: object, field: str) -> str | None:
    """``parameter_types.description`` of ``field``; Nova's message for the first failure."""
    validate_field(description(), value, field)
    return cast(str | None, value)


def validate_metadata(value: object, field: str) -> dict[str, str]:
    """``parameter_types.metadata`` of ``field`` (an explicit null is refused: only an absent
    field is None, a request model's default)."""
    validate_field(METADATA, value, field)
    return cast(dict[str, str], value)
