"""Plan (and intent) values as JSON-ready data: the one encoding the CLI prints and the API
serves, so that ``vmqos plan --format json`` and ``GET …/vmqos-plan`` stay the same document.

Dataclasses become objects of their fields, enums their values, a limit's mechanism its text,
mappings objects with string keys, sequences and sets lists; everything else is returned as it
is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import Any

from vmqos.mechanism import Mechanism

__all__ = ["to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, tuples and mappings to JSON-ready values (enum -> its value)."""
    if isinstance(value, Mechanism):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value
