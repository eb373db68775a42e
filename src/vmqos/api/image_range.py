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

Without a ``Range``, Glance still reads a ``Content-Range`` request header, "for backward
compatibility" with pre-Pike clients (webob's ``ContentRange.parse``: ``bytes <first>-<last>/
<size or *>``, refused unless first <= last < size): 416 "Invalid Content-Range header." when
it does not parse, 416 naming the allowed positions when its last byte (with a ``*`` size) or
its first lies past the image's end, else 206 for those bytes.

Departures, where Glance fails: ``bytes=-`` makes webob's parser raise (``int('')``) and
``Content-Range: bytes */N`` makes Glance compare None with a number, both 500 there; here
both are the 416 of a header that does not parse. A ``Content-Range`` whose size is larger
than the image's and whose last byte lies past its end makes Glance promise more bytes than it
sends (``Content-Length`` from the header); here the part stops at the image's end.

Invariant: pure; :func:`requested_span` returns None exactly when there is neither header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vmqos.api.errors import ApiError

__all__ = ["ByteSpan", "requested_span"]

_RANGE = re.compile(r"bytes *= *(\d*) *- *(\d*)", flags=re.IGNORECASE)
_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|[*])/(?:(\d+)|[*])")
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


def _content_range_span(header: str, size: int) -> ByteSpan:
    """``get_range_from_request``'s ``Content-Range`` branch, then the serializer's."""
    found = _CONTENT_RANGE.match(header)
    if found is None or found[1] is None:
        raise _unsatisfiable("Invalid Content-Range header.")
    start, stop = int(found[1]), int(found[2]) + 1
    length = int(found[3]) if found[3] else None
    # webob's _is_content_range_valid(..., response=True)
    if start >= stop or (length is not None and not (stop <= length and start < length)):
        raise _unsatisfiable("Invalid Content-Range header.")
    if length is None and stop > size:
        raise _unsatisfiable("Invalid stop position in Content-Range header. The stop "
                             f"position MUST be in the inclusive range [0, {size - 1}].")
    if start >= size:
        raise _unsatisfiable("Invalid start position in Content-Range header. Start position "
                             f"MUST be in the inclusive range [0, {size - 1}].")
    return ByteSpan(offset=start, length=min(stop, size) - start, size=size)


def requested_span(header: str | None, size: int,
                   content_range: str | None = None) -> ByteSpan | None:
    """The span a ``Range`` header (or, without one, a ``Content-Range`` request header) asks
    of an image of ``size`` bytes, or None without either;
    :class:`~vmqos.api.errors.ApiError` 400 or 416 as Glance answers."""
    if header is None:
        return None if content_range is None else _content_range_span(content_range, size)
    if "," in header:
        raise ApiError(400, _MULTIPLE)
    start, end = _parse(header)
    if start >= size:
        raise _unsatisfiable("Invalid start position in Range header. Start position MUST be "
                             f"in the inclusive range [0, {size - 1}].")
    offset = start if start >= 0 else (size + start if -start < size else 0)
    stop = end if end is not None and end < size else size
    return ByteSpan(offset=offset, length=stop - offset, size=size)
