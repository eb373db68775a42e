"""Nova microversions: negotiation, and the version-dependent parts of the compute API.

The client sends ``OpenStack-API-Version: compute X.Y`` and ``X-OpenStack-Nova-API-Version:
X.Y`` (the lower of its per-resource limit and our advertised maximum, openstacksdk
maximum_supported_microversion); no header
means 2.1. ``latest`` means the maximum. Outside [MIN, MAX] is 406, a malformed value 400,
with Nova's messages (``nova/api/openstack/wsgi.py``). The response repeats the version in
both headers with ``Vary``, as Nova does.

The version gates used here (Nova's api-ref "REST API Version History"):

====  ==========================================================================
2.47  a server's ``flavor`` is embedded (name, sizes, extra specs), not a link
2.55  flavor ``description``
2.61  flavor ``extra_specs`` in flavor records
2.75  flavor ``swap`` is an integer (``""`` for none before)
2.86  flavor extra specs are validated (``vmqos.intent.nova.extra_specs``)
====  ==========================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from fastapi import Request, Response

from vmqos.api.errors import ApiError

__all__ = ["MAX", "MIN", "Microversion", "nova_microversion"]


@total_ordering
@dataclass(frozen=True, slots=True)
class Microversion:
    major: int
    minor: int

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Microversion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def at_least(self, text: str) -> bool:
        major, minor = text.split(".")
        return (self.major, self.minor) >= (int(major), int(minor))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


MIN = Microversion(2, 1)
MAX = Microversion(2, 96)
_VERSION = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


def _requested(request: Request) -> str | None:
    header = request.headers.get("openstack-api-version")
    if header:
        # "compute 2.61" (possibly among other services, comma-separated).
        for part in header.split(","):
            service, _, value = part.strip().partition(" ")
            if service.lower() == "compute":
                return value.strip()
    return request.headers.get("x-openstack-nova-api-version")


async def nova_microversion(request: Request, response: Response) -> Microversion:
    """FastAPI dependency: the negotiated microversion, echoed in the response headers
    (async: pure header work, no reason to hop to the thread pool)."""
    text = _requested(request)
    if text is None:
        version = MIN
    elif text.strip().lower() == "latest":
        version = MAX
    else:
        match = _VERSION.match(text.strip())
        if match is None:
            raise ApiError(400, f"API Version String {text} is of invalid format. Must be of "
                                "format MajorNum.MinorNum.")
        version = Microversion(int(match.group(1)), int(match.group(2)))
        if not MIN <= version <= MAX:
            raise ApiError(406, f"Version {version} is not supported by the API. Minimum is "
                                f"{MIN} and maximum is {MAX}.")
    response.headers["OpenStack-API-Version"] = f"compute {version}"
    response.headers["X-OpenStack-Nova-API-Version"] = str(version)
    response.headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
    return version
