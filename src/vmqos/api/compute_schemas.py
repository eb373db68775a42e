"""Response models of the Nova subset: flavors and extra specs, servers, key pairs, zones,
aggregates (the bodies of :mod:`vmqos.api.compute_flavors`, :mod:`~vmqos.api.compute_servers`
and :mod:`~vmqos.api.compute_misc`).

Field order is the order in which Nova's views build the body
(``nova/api/openstack/compute/views/flavors.py`` ViewBuilder._build_detail, ``views/servers.py``
ViewBuilder.show); microversion-gated fields have a default and are unset below their
version (:mod:`vmqos.api.responses`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vmqos.api.responses import ResponseModel

__all__ = [
    "ExtraSpecs",
    "Flavor",
    "FlavorAccessList",
    "FlavorBody",
    "FlavorList",
    "FlavorSummary",
    "FlavorSummaryList",
    "Link",
]


class Link(ResponseModel):
    rel: Literal["self", "bookmark"]
    href: str


# --- flavors ----------------------------------------------------------------------------------


class Flavor(ResponseModel):
    id: str
    name: str
    ram: int
    disk: int
    vcpus: int
    swap: int | Literal[""] = Field(description='MiB; before 2.75 a zero swap is ""')
    ephemeral: int = Field(serialization_alias="OS-FLV-EXT-DATA:ephemeral")
    disabled: bool = Field(serialization_alias="OS-FLV-DISABLED:disabled")
    is_public: bool = Field(serialization_alias="os-flavor-access:is_public")
    rxtx_factor: float
    links: list[Link]
    description: str | None = Field(default=None, description="from microversion 2.55")
    extra_specs: dict[str, str] = Field(default_factory=dict,
                                        description="from microversion 2.61")


class FlavorSummary(ResponseModel):
    id: str
    name: str
    links: list[Link]
    description: str | None = Field(default=None, description="from microversion 2.55")


class FlavorBody(ResponseModel):
    flavor: Flavor


class FlavorList(ResponseModel):
    flavors: list[Flavor]


class FlavorSummaryList(ResponseModel):
    flavors: list[FlavorSummary]


class FlavorAccess(ResponseModel):
    flavor_id: str
    tenant_id: str


class FlavorAccessList(ResponseModel):
    flavor_access: list[FlavorAccess]


class ExtraSpecs(ResponseModel):
    extra_specs: dict[str, str]
