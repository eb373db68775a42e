"""Response models of version discovery, for all four services (the bodies of
:mod:`vmqos.api.discovery` and of Keystone's version documents in :mod:`vmqos.api.identity`).

Each service has its own shape (keystoneauth1 reads them all): Keystone nests its list under
``versions.values``, Nova adds ``version``/``min_version`` (the microversion range), Neutron
and Glance give an id, a status and a link.
"""

from __future__ import annotations

from pydantic import Field

from vmqos.api.responses import ResponseModel

__all__ = [
    "ComputeVersion",
    "ComputeVersionList",
    "ComputeVersionResponse",
    "IdentityVersion",
    "IdentityVersionList",
    "IdentityVersionResponse",
    "IdentityVersionValues",
    "MediaType",
    "NetworkResource",
    "NetworkResourceList",
    "SimpleVersion",
    "SimpleVersionList",
    "VersionLink",
]


class VersionLink(ResponseModel):
    rel: str
    href: str


class MediaType(ResponseModel):
    base: str
    type: str


class IdentityVersion(ResponseModel):
    id: str
    status: str
    updated: str
    links: list[VersionLink]
    media_types: list[MediaType] = Field(serialization_alias="media-types")


class IdentityVersionValues(ResponseModel):
    values: list[IdentityVersion]


class IdentityVersionList(ResponseModel):
    versions: IdentityVersionValues


class IdentityVersionResponse(ResponseModel):
    version: IdentityVersion


class ComputeVersion(ResponseModel):
    id: str
    status: str
    version: str = Field(description='the maximum microversion ("" for v2.0)')
    min_version: str = Field(description='the minimum microversion ("" for v2.0)')
    updated: str
    links: list[VersionLink]
    media_types: list[MediaType] = Field(serialization_alias="media-types")


class ComputeVersionList(ResponseModel):
    versions: list[ComputeVersion]


class ComputeVersionResponse(ResponseModel):
    version: ComputeVersion


class SimpleVersion(ResponseModel):
    """A Neutron or Glance version."""

    id: str
    status: str
    links: list[VersionLink]


class SimpleVersionList(ResponseModel):
    versions: list[SimpleVersion]


class NetworkResource(ResponseModel):
    name: str
    collection: str
    links: list[VersionLink]


class NetworkResourceList(ResponseModel):
    resources: list[NetworkResource]
