"""Glance's answer to a ``Range`` header on an image download (``GET /v2/images/{id}/file``).

Glance reads the header in ``glance/common/wsgi.py`` ``Request.get_range_from_request`` with
webob's ``Range.parse`` (``webob/byterange.py``: ``bytes *= *(\\d*) *- *(\\d*)``, matched from
the start, case-insensitive, the end inclusive in the header and exclusive after parsing), and
serves it in ``glance/api/v2/image_data.py`` ``ResponseSerializer.download``:

* a ``,`` anywhere (several ranges): 400;
* a header webob cannot parse, or whose first byte comes after its last: 416 "Invalid Range
  header."; a first byte at or past the image's end: 416 naming the allowed start positions;
* otherwise 206 with ``Content-Range: bytes <first>-<last>/<size>``: a last byte past the end
  means the end, ``bytes=N-`` the rest, ``bytes=-N`` the last N bytes (the whole image when N
  is not below its size, as Glance's ``abs(start) < image.size`` test makes it).

One departure: ``bytes=-`` makes webob's parser raise (``int('')``), which Glance answers 500;
here it is the 416 of a header that does not parse.

Invariant: pure; :func:`requested_span` returns None exactly when there is no header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vmqos.api.errors import ApiError

__all__ = ["ByteSpan", "requested_span"]

_RANGE = re.compile(r"bytes *= *(\d*) *- *(\d*)", flags=re.IGNORECASE)
_MULTIPLE = ("Requests with multiple ranges are not supported in Glance. You may make "
             "multiple single-range requests instead.")


@dataclass(frozen=True, slots=True)
class ByteSpan:
    """The bytes a 206 carries: ``length`` of them from ``offset``, of an image of ``size``."""

    offset: int
    length: int
    size: int

    @property
    def content_range(self) -> str:
        return f"bytes {self.offset}-{self.offset + self.length - 1}/{self.size}"


def _unsatisfiable(detail: str) -> ApiError:
    # webob's HTTPRequestRangeNotSatisfiable(detail): Glance's text is the detail, below
    # webob's own explanation.
    return ApiError(416, "The Range requested is not available.", detail=detail)


def _parse(header: str) -> tuple[int, int | None]:
    """webob ``Range.parse``: ``(start, end)``, ``end`` exclusive or None; a negative start
    counts from the end."""
    found = _RANGE.match(header)
    if found is None or not (found[1] or found[2]):
        raise _unsatisfiable("Invalid Range header.")
    if not found[1]:
        return -int(found[2]), None
    start = int(found[1])
    if not found[2]:
        return start, None
    end = int(found[2]) + 1
    if start >= end:
        raise _unsatisfiable("Invalid Range header.")
    return start, end


def requested_span(header: str | None, size: int) -> ByteSpan | None:
    """The span a ``Range`` header asks of an image of ``size`` bytes, or None without one;
    :class:`~vmqos.api.errors.ApiError` 400 or 416 as Glance answers."""
    if header is None:
        return None
    if "," in header:
        raise ApiError(400, _MULTIPLE)
    start, end = _parse(header)
    if start >= size:
        raise _unsatisfiable("Invalid start position in Range header. Start position MUST be "
                             f"in the inclusive range [0, {size - 1}].")
    offset = start if start >= 0 else (size + start if -start < size else 0)
    stop = end if end is not None and end < size else size
    return ByteSpan(offset=offset, length=stop - offset, size=size)
