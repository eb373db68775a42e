"""Version discovery for compute, network and image: served without a token (observed with
openstackclient 10.5.0 / keystoneauth1 5.18.1).

* Compute: ``GET /compute`` lists v2.0 and v2.1; ``GET /compute/v2.1`` (with or without the
  trailing slash the client sometimes adds) is v2.1 with ``version`` = the maximum microversion
  and ``min_version`` 2.1.
* Network: ``GET /network`` lists v2.0 (needed only in endpoint-override mode);
  ``GET /network/v2.0`` lists the resources, as real Neutron does.
* Image: ``GET /image`` lists v2 (the client refuses to start the image service without it).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from vmqos.api import discovery_schemas as schemas
from vmqos.api.identity import root_url
from vmqos.api.microversion import MAX, MIN

__all__ = ["router"]

router = APIRouter(tags=["discovery"])


def _compute(request: Request, version_id: str) -> schemas.ComputeVersion:
    current = version_id == "v2.1"
    return schemas.ComputeVersion(
        id=version_id, status="CURRENT" if current else "SUPPORTED",
        version=str(MAX) if current else "", min_version=str(MIN) if current else "",
        updated="2013-07-23T11:33:21Z",
        links=[schemas.VersionLink(rel="self",
                                   href=f"{root_url(request)}/compute/{version_id}/")],
        media_types=[schemas.MediaType(
            base="application/json",
            type="application/vnd.openstack.compute+json;version=2.1")])


@router.get("/compute", summary="Compute API versions")
def compute_versions(request: Request) -> schemas.ComputeVersionList:
    return schemas.ComputeVersionList(versions=[_compute(request, "v2.0"),
                                                _compute(request, "v2.1")])


@router.get("/compute/v2.1", summary="Compute v2.1 version document")
@router.get("/compute/v2.1/", include_in_schema=False)
def compute_v21(request: Request) -> schemas.ComputeVersionResponse:
    return schemas.ComputeVersionResponse(version=_compute(request, "v2.1"))


@router.get("/network", summary="Network API versions")
@router.get("/network/", include_in_schema=False)
def network_versions(request: Request) -> schemas.SimpleVersionList:
    return schemas.SimpleVersionList(versions=[schemas.SimpleVersion(
        id="v2.0", status="CURRENT",
        links=[schemas.VersionLink(rel="self", href=f"{root_url(request)}/network/v2.0/")])])


_NETWORK_RESOURCES = ("networks", "ports", "security-groups", "qos/policies",
                      "qos/rule-types", "extensions")


@router.get("/network/v2.0", summary="Network v2.0 resources")
@router.get("/network/v2.0/", include_in_schema=False)
def network_v20(request: Request) -> schemas.NetworkResourceList:
    base = f"{root_url(request)}/network/v2.0"
    return schemas.NetworkResourceList(resources=[schemas.NetworkResource(
        name=name.rsplit("/", 1)[-1].rstrip("s"), collection=name.rsplit("/", 1)[-1],
        links=[schemas.VersionLink(rel="self", href=f"{base}/{name}")])
        for name in _NETWORK_RESOURCES])


@router.get("/image", summary="Image API versions")
@router.get("/image/", include_in_schema=False)
def image_versions(request: Request) -> schemas.SimpleVersionList:
    href = f"{root_url(request)}/image/v2/"
    return schemas.SimpleVersionList(versions=[schemas.SimpleVersion(
        id=version, status="CURRENT" if version == "v2.16" else "SUPPORTED",
        links=[schemas.VersionLink(rel="self", href=href)]) for version in ("v2.16", "v2.0")])
