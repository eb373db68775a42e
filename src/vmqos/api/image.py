"""A minimal Glance v2 (``/image/v2``): register, update, list, show and delete images;
upload and download their data.

``server create`` needs an active image it can find by name (openstacksdk Resource.find: ``GET
/v2/images/rhel7``
404, then ``GET /v2/images?name=rhel7``) and shows its name from ``GET /v2/images/{id}``, which
returns the bare image record. Only admins may create ``public`` images (Glance's
``publicize_image``); only the owner's members (and admins) change or delete one.

Data is Glance's (``glance/api/v2/image_data.py``): an upload (``PUT .../file``) moves the
image from ``queued`` to ``saving`` (a second upload meanwhile is 409), is counted, hashed
(MD5 ``checksum``, SHA-512 ``os_hash_value``) and kept (:mod:`vmqos.store.image_data`), and
makes the image ``active``; a failed one returns it to ``queued``. A download (``GET
.../file``, ``openstack image save``) is 204 with no body while the image has no data, else
200 with the bytes, ``Content-MD5`` and ``Content-Length`` (``ResponseSerializer.download``);
the client checks the bytes against the record's hash. A ``Range`` header gets Glance's 206
with ``Content-Range``, or its 400/416 (:mod:`vmqos.api.image_range`). ``PATCH``
(``openstack image set``) applies a JSON patch (:mod:`vmqos.api.image_patch`) as
``ImagesController.update`` does; ``PUT`` and ``DELETE .../tags/{tag}`` (``openstack image
unset --tag``) add and remove one tag.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from vmqos.api import image_schemas as schemas
from vmqos.api.context import AppState, app_state, caller, require_member
from vmqos.api.errors import ApiError
from vmqos.api.image_patch import PATCH_MEDIA_TYPES, Change, parse_patch
from vmqos.api.image_range import requested_span
from vmqos.api.network_views import timestamp
from vmqos.errors import NotFoundError
from vmqos.store import images
from vmqos.store.identity import TokenInfo
from vmqos.store.image_data import Staged, read_chunks
from vmqos.store.models import Image, utcnow

__all__ = ["router"]

router = APIRouter(prefix="/image/v2", tags=["image"])
Caller = Annotated[TokenInfo, Depends(caller)]

_DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                 "ploop")
_CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
_VISIBILITY = ("public", "private", "shared", "community")
_CORE = ("id", "name", "disk_format", "container_format", "visibility", "min_disk", "min_ram",
         "protected", "tags")
# Glance's image schema: ``id`` (glance/api/v2/images.py get_base_properties). Matched whole:
# an id also names the image's file.
_ID = re.compile(r"([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                 r"-([0-9a-fA-F]){12}")
# What an update may change of the image itself (the domain Image's writable attributes);
# any other attribute is an extra property. The formats only while the image is queued.
_WRITABLE = ("name", "disk_format", "container_format", "visibility", "min_disk", "min_ram",
             "protected", "tags", "owner")
_FORMATS = ("disk_format", "container_format")


def _forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def image_view(row: Image) -> schemas.Image:
    return schemas.Image.model_validate({
        **row.properties,
        "id": row.id, "name": row.name, "status": row.status, "visibility": row.visibility,
        "protected": row.protected, "os_hidden": False, "checksum": row.checksum,
        "os_hash_algo": "sha512" if row.os_hash_value else None,
        "os_hash_value": row.os_hash_value, "size": row.size, "virtual_size": None,
        "min_disk": row.min_disk, "min_ram": row.min_ram, "disk_format": row.disk_format,
        "container_format": row.container_format, "owner": row.owner,
        "tags": list(row.tags), "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at), "self": f"/v2/images/{row.id}",
        "file": f"/v2/images/{row.id}/file", "schema": "/v2/schemas/image"})


def _check(values: dict[str, Any]) -> dict[str, Any]:
    """Glance's schema checks for the core properties; other keys are extra properties."""
    core: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in values.items():
        (core if key in _CORE else extra)[key] = value
    for key, allowed in (("disk_format", _DISK_FORMATS),
                         ("container_format", _CONTAINER_FORMATS),
                         ("visibility", _VISIBILITY)):
        if core.get(key) is not None and core[key] not in allowed:
            raise ApiError(400, f"Invalid value '{core[key]}' for {key}: must be one of "
                                f"{', '.join(allowed)}")
    if core.get("name") is not None and (not isinstance(core["name"], str)
                                         or len(core["name"]) > 255):
        raise ApiError(400, "Invalid value for name: a string of at most 255 characters")
    for key in ("min_disk", "min_ram"):
        if key in core and (not isinstance(core[key], int) or isinstance(core[key], bool)
                            or core[key] < 0):
            raise ApiError(400, f"Invalid value for {key}: an integer >= 0")
    if "protected" in core and not isinstance(core["protected"], bool):
        raise ApiError(400, "Invalid value for protected: true or false")
    if "tags" in core and not (isinstance(core["tags"], list) and all(
            isinstance(t, str) and len(t) <= 255 for t in core["tags"])):
        raise ApiError(400, "Invalid value for tags: a list of strings of at most 255 "
                            "characters")
    if "id" in core and not (isinstance(core["id"], str) and _ID.fullmatch(core["id"])):
        raise ApiError(400, "Invalid value for id: a UUID string")
    for key, value in extra.items():
        if not isinstance(value, str) or len(key) > 255:
            raise ApiError(400, f"Invalid value for extra property {key!r}: a string")
    core["properties"] = extra
    return core


@router.get("/images", summary="List images")
def list_images(request: Request, who: Caller, name: str | None = None,
                id: str | None = None, visibility: str | None = None,
                status: str | None = None) -> schemas.ImageList:
    ids = None
    if id is not None:
        ids = id.removeprefix("in:").split(",") if id.startswith("in:") else [id]
    filters = {"name": name, "visibility": visibility, "status": status}
    with app_state(request).db.read() as session:
        rows = images.list_images(session, who, ids=ids, filters=filters)
        return schemas.ImageList.model_validate({
            "images": [image_view(r) for r in rows], "schema": "/v2/schemas/images",
            "first": "/v2/images"})


@router.post("/images", status_code=201, summary="Register an image")
def create_image(request: Request, who: Caller,
                 body: Annotated[dict[str, Any], Body()]) -> schemas.Image:
    require_member(who, _forbidden("You are not authorized to complete add_image action."))
    values = _check(body)
    if values.get("visibility") == "public" and not who.is_admin:
        raise _forbidden("You are not authorized to complete publicize_image action.")
    with app_state(request).db.write() as session:
        if values.get("id") and session.get(Image, values["id"]) is not None:
            raise ApiError(409, f"Image with identifier {values['id']} already exists!")
        return image_view(images.create_image(session, owner=who.project_id, values=values))


@router.get("/images/{image_id}", summary="Show an image (the bare record)")
def show_image(image_id: str, request: Request, who: Caller) -> schemas.Image:
    with app_state(request).db.read() as session:
        return image_view(images.get_image(session, image_id, who))


def _owned(row: Image, who: TokenInfo, action: str) -> None:
    if not who.is_admin and (row.owner != who.project_id or "member" not in who.roles):
        raise _forbidden(f"You are not authorized to complete {action} action.")


@router.delete("/images/{image_id}", status_code=204, summary="Delete an image")
def delete_image(image_id: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        row = images.get_image(session, image_id, who)
        _owned(row, who, "delete_image")
        if row.protected:
            raise _forbidden(f"Image {image_id} is protected and cannot be deleted.")
        session.delete(row)
    app_state(request).image_data.delete(image_id)
    return Response(status_code=204)


@router.put("/images/{image_id}/file", status_code=204, summary="Upload image data",
            openapi_extra={"requestBody": {"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}}})
async def upload_image(image_id: str, request: Request, who: Caller) -> Response:
    # async to stream the body; the short transactions and the writes run in the thread pool.
    state = app_state(request)
    await run_in_threadpool(_begin_upload, state, image_id, who)
    md5 = hashlib.md5(usedforsecurity=False)
    sha512 = hashlib.sha512()
    size = 0
    staged: Staged | None = None
    try:
        staged = await run_in_threadpool(state.image_data.stage, image_id)
        async for chunk in request.stream():
            md5.update(chunk)
            sha512.update(chunk)
            size += len(chunk)
            await run_in_threadpool(staged.write, chunk)
        await run_in_threadpool(_finish_upload, state, image_id, who, staged, size,
                                md5.hexdigest(), sha512.hexdigest())
    except BaseException:
        # A broken upload (the client went away) leaves the image queued, as Glance's
        # ImageDataController._restore does, and no data behind; shielded, so that a
        # cancelled request still cleans up.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_abandon_upload, state, image_id, who, staged)
        raise
    return Response(status_code=204)


def _begin_upload(state: AppState, image_id: str, who: TokenInfo) -> None:
    with state.db.write() as session:
        row = images.get_image(session, image_id, who)
        _owned(row, who, "upload_image")
        if row.status != "queued":
            raise ApiError(409, f"Image status transition from {row.status} to saving is not "
                                "allowed")
        row.status, row.updated_at = "saving", utcnow()


def _finish_upload(state: AppState, image_id: str, who: TokenInfo, staged: Staged, size: int,
                   md5: str, sha512: str) -> None:
    with state.db.write() as session:
        try:
            row = images.get_image(session, image_id, who)
        except NotFoundError:
            row = None
        if row is None or row.status != "saving":
            raise ApiError(410, f"Image {image_id} could not be found after upload. The image "
                                "may have been deleted during the upload, cleaning up the "
                                "chunks uploaded.")
        row.size, row.checksum, row.os_hash_value = size, md5, sha512
        row.status, row.updated_at = "active", utcnow()
        state.image_data.commit(staged, image_id)


def _abandon_upload(state: AppState, image_id: str, who: TokenInfo,
                    staged: Staged | None) -> None:
    if staged is not None:
        state.image_data.discard(staged)
    with state.db.write() as session:
        try:
            row = images.get_image(session, image_id, who)
        except NotFoundError:
            return
        if row.status == "saving":
            row.status, row.updated_at = "queued", utcnow()


@router.get("/images/{image_id}/file", summary="Download image data",
            response_class=Response, responses={
                200: {"content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}},
                      "description": "the image's data"},
                204: {"description": "the image has no data"},
                206: {"content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}},
                      "description": "the part a Range header asked for (Content-Range)"},
                416: {"description": "a Range header Glance cannot satisfy"}})
def download_image(image_id: str, request: Request, who: Caller) -> Response:
    state = app_state(request)
    with state.db.read() as session:
        row = images.get_image(session, image_id, who)
        # Opened while the record says active: a file renamed or removed after this still
        # reads whole (vmqos.store.image_data).
        data = state.image_data.open(image_id) if row.status == "active" else None
        checksum, size = row.checksum, row.size
    if data is None:
        # Glance: no location to read from is glance_store.NotFound, answered 204.
        return Response(status_code=204)
    try:
        span = requested_span(request.headers.get("Range"), size or 0,
                              request.headers.get("Content-Range"))
    except ApiError:
        data.close()
        raise
    headers = {"Content-Length": str(size if span is None else span.length)}
    if span is not None:
        headers["Content-Range"] = span.content_range
    if checksum:  # the whole image's, on a part too
        headers["Content-MD5"] = checksum
    chunks = read_chunks(data) if span is None else read_chunks(data, span.offset, span.length)
    return StreamingResponse(chunks, status_code=200 if span is None else 206,
                             media_type="application/octet-stream", headers=headers)


@router.patch("/images/{image_id}", summary="Update an image (JSON patch)",
              openapi_extra={"requestBody": {"content": {media: {"schema": {
                  "type": "array", "items": {"type": "object"}}}
                  for media in PATCH_MEDIA_TYPES}}})
async def update_image(image_id: str, request: Request, who: Caller) -> schemas.Image:
    # async only to read the raw body (its media type is Glance's, not JSON's).
    changes = parse_patch(request.headers.get("content-type"), await request.body())
    for change in changes:
        if change.op != "remove":  # Glance validates {attribute: value} against its schema
            _check({change.attribute: change.value})
    return await run_in_threadpool(_update, app_state(request), image_id, who, changes)


def _update(state: AppState, image_id: str, who: TokenInfo,
            changes: list[Change]) -> schemas.Image:
    with state.db.write() as session:
        row = images.get_image(session, image_id, who)
        _owned(row, who, "modify_image")
        properties = dict(row.properties)
        for change in changes:
            _apply(row, properties, change, who)
        row.properties = properties
        if changes:
            row.updated_at = utcnow()
        return image_view(row)


def _apply(row: Image, properties: dict[str, Any], change: Change, who: TokenInfo) -> None:
    """``ImagesController._do_replace`` / ``_do_add`` / ``_do_remove`` on one attribute."""
    name, value = change.attribute, change.value
    core = name in _WRITABLE
    if change.op == "remove":
        if core or name in _CORE:
            raise _forbidden(f"Property {name} may not be removed.")
        if name not in properties:
            raise ApiError(409, f"Property {name} does not exist.")
        del properties[name]
        return
    if change.op == "replace" and not core and name not in properties:
        raise ApiError(409, f"Property {name} does not exist.")
    if change.op == "add" and change.draft == 4 and (core or name in properties):
        raise ApiError(409, f"Property {name} already present.")
    # Glance checks this in _do_replace only; openstacksdk sends every change of `image set`
    # (--project included) as "add", so here it holds for both.
    if name == "owner" and not who.is_admin:
        raise _forbidden("Owner can't be updated by non admin.")
    if name == "visibility" and value == "public" and not who.is_admin:
        raise _forbidden("You are not authorized to complete publicize_image action.")
    if name in _FORMATS and row.status != "queued":
        raise _forbidden(f"Attribute {name} can be only replaced for a queued image.")
    if core:
        setattr(row, name, list(value) if name == "tags" else value)
    else:
        properties[name] = value


def _tagged(state: AppState, image_id: str, who: TokenInfo, tag: str, *, add: bool) -> None:
    """``glance/api/v2/image_tags.py`` ``Controller.update`` / ``delete``: tags are a set."""
    with state.db.write() as session:
        try:
            row = images.get_image(session, image_id, who)
        except NotFoundError:
            raise ApiError(404, f"Image {image_id} not found.") from None
        _owned(row, who, "modify_image")
        tags = list(row.tags)
        if add and tag not in tags:
            tags.append(tag)
        elif not add:
            if tag not in tags:
                raise ApiError(404, "The resource could not be found.")
            tags.remove(tag)
        row.tags, row.updated_at = tags, utcnow()


@router.put("/images/{image_id}/tags/{tag}", status_code=204, response_class=Response,
            summary="Add a tag to an image")
def add_tag(image_id: str, tag: str, request: Request, who: Caller) -> Response:
    _check({"tags": [tag]})
    _tagged(app_state(request), image_id, who, tag, add=True)
    return Response(status_code=204)


@router.delete("/images/{image_id}/tags/{tag}", status_code=204, response_class=Response,
               summary="Remove a tag from an image")
def delete_tag(image_id: str, tag: str, request: Request, who: Caller) -> Response:
    _tagged(app_state(request), image_id, who, tag, add=False)
    return Response(status_code=204)
