"""Glance's image update body: a JSON patch, read as Glance's ``RequestDeserializer.update``
reads it (``glance/api/v2/images.py``), with Glance's messages.

``openstack image set`` sends ``PATCH /v2/images/{id}`` with ``Content-Type:
application/openstack-images-v2.1-json-patch`` (openstacksdk ``Image._prepare_request``) and
a list of operations such as ``{"op": "replace", "path": "/name", "value": "x"}``; the older
``v2.0`` media type names the operation by its key (``{"replace": "/name", "value": "x"}``).

In order, as Glance checks them: the media type (415, with ``Accept-Patch``), the JSON, each
operation's ``op`` and ``path``, the JSON pointer's form, its depth (one level: image
locations, the only deeper paths Glance knows, are not served), the ``value``, then read-only
and reserved attributes (403). What the values must be (the image schema) and what the
caller may change are the route's (:mod:`vmqos.api.image`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from vmqos.api.errors import ApiError

__all__ = ["PATCH_MEDIA_TYPES", "Change", "parse_patch"]

Op = Literal["add", "remove", "replace"]
_OPS: tuple[Op, ...] = ("add", "remove", "replace")
# media type -> JSON Schema draft of its operations
PATCH_MEDIA_TYPES = {"application/openstack-images-v2.0-json-patch": 4,
                     "application/openstack-images-v2.1-json-patch": 10}
_READONLY = ("created_at", "updated_at", "status", "checksum", "size", "virtual_size",
             "direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value")
_RESERVED = ("location", "deleted", "deleted_at")
_RESERVED_NAMESPACE = "os_glance"  # glance/api/common.py GLANCE_RESERVED_NS


@dataclass(frozen=True, slots=True)
class Change:
    """One operation on one top-level attribute of the image."""

    op: Op
    attribute: str
    value: Any = None
    draft: int = 10


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


def _op_and_path(raw: dict[str, Any], draft: int) -> tuple[Op, Any]:
    available = ", ".join(_OPS)
    if draft == 10:
        op = raw.get("op")
        if op is None:
            raise _bad("Unable to find `op` in JSON Schema change. It must be one of the "
                       f"following: {available}.")
        if op not in _OPS:
            raise _bad(f"Invalid operation: `{op}`. It must be one of the following: "
                       f"{available}.")
        if "path" not in raw:
            raise _bad("Unable to find 'path' in JSON Schema change")
        return op, raw["path"]
    present = [key for key in _OPS if key in raw]
    if len(present) > 1:
        raise _bad('Operation objects must contain only one member named "add", "remove", '
                   'or "replace".')
    if not present:
        raise _bad('Operation objects must contain exactly one member named "add", '
                   '"remove", or "replace".')
    return present[0], raw[present[0]]


def _decode_pointer(pointer: Any) -> list[str]:
    """``_validate_json_pointer`` and ``_decode_json_pointer``."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise _bad(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise _bad(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise _bad(f'Pointer `{pointer}` end with "/".')
    if pointer[1:].strip() == "/":
        raise _bad(f"Pointer `{pointer}` does not contains valid token.")
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise _bad(f'Pointer `{pointer}` contains "~" not part of a recognized escape '
                   "sequence.")
    return [part.replace("~1", "/").replace("~0", "~").strip()
            for part in pointer.lstrip("/").split("/")]


def _change(raw: dict[str, Any], draft: int) -> Change:
    op, pointer = _op_and_path(raw, draft)
    path = _decode_pointer(pointer)
    if len(path) != 1:
        raise _bad(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
    attribute = path[0]
    if op != "remove" and "value" not in raw:
        raise _bad(f'Operation "{op}" requires a member named "value".')
    if attribute in _READONLY:
        raise ApiError(403, f"Attribute '{attribute}' is read-only.")
    if attribute in _RESERVED or attribute.startswith(_RESERVED_NAMESPACE):
        raise ApiError(403, f"Attribute '{attribute}' is reserved.")
    return Change(op, attribute, raw.get("value"), draft)


def parse_patch(content_type: str | None, body: bytes) -> list[Change]:
    """The operations of an image PATCH request, or Glance's 4xx for it."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    draft = PATCH_MEDIA_TYPES.get(media_type)
    if draft is None:
        allowed = ", ".join(sorted(PATCH_MEDIA_TYPES))
        raise ApiError(415, f"Image PATCH expects Content-Type one of: {allowed}",
                       headers={"Accept-Patch": allowed})
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        raise _bad("Malformed JSON in request body.") from None
    if not isinstance(decoded, dict | list):
        raise _bad("Unexpected body type. Expected list/dict.")
    if not isinstance(decoded, list):
        raise _bad("Request body must be a JSON array of operation objects.")
    changes = []
    for raw in decoded:
        if not isinstance(raw, dict):
            raise _bad("Operations must be JSON objects.")
        changes.append(_change(raw, draft))
    return changes
