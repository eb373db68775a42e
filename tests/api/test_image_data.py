"""Glance image data and image updates: the real ``openstack`` client saves what it uploaded
and changes names, properties and tags; direct HTTP checks the status codes, headers and
messages Glance gives (``glance/api/v2/image_data.py``, ``images.py``, ``image_tags.py``).

``openstack image save`` used to report a checksum mismatch: ``GET .../file`` was not served,
and openstacksdk hashed the 405 error body it got instead of image data.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import Cloud

GLANCE = "/image/v2/images"
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Iterator[httpx.Client]:
    with cloud.client() as client:
        yield client


@pytest.fixture(scope="module")
def member(cloud: Cloud) -> Iterator[httpx.Client]:
    cloud.make_user("img-member", "img-project")
    with cloud.client("img-member", "pw", "img-project") as client:
        yield client


def _image(client: httpx.Client, **values: Any) -> str:
    created = client.post(GLANCE, json={"disk_format": "raw", "container_format": "bare",
                                        **values})
    assert created.status_code == 201, created.text
    image_id: str = created.json()["id"]
    return image_id


def _glance_text(status: str, message: str) -> str:
    return f"{status}\n\n{message}\n\n   "


# --- the real client --------------------------------------------------------------------------


def test_image_save_writes_the_uploaded_bytes(cloud: Cloud, tmp_path: Path) -> None:
    data = os.urandom(300_000)  # several download chunks, and past the JSON body limit
    source, saved = tmp_path / "disk.img", tmp_path / "saved.img"
    source.write_bytes(data)
    cloud.openstack("image", "create", "--file", str(source), "--disk-format", "qcow2",
                    "--container-format", "bare", "cli-saved")
    done = cloud.openstack("image", "save", "--file", str(saved), "cli-saved")
    assert done.returncode == 0 and "mismatch" not in done.stderr
    assert saved.read_bytes() == data


def test_image_save_of_an_image_without_data_writes_an_empty_file(
        cloud: Cloud, admin: httpx.Client, tmp_path: Path) -> None:
    _image(admin, name="cli-empty")
    saved = tmp_path / "empty.img"
    cloud.openstack("image", "save", "--file", str(saved), "cli-empty")
    assert saved.read_bytes() == b""


def test_image_set_and_unset_change_name_properties_and_tags(cloud: Cloud,
                                                             admin: httpx.Client) -> None:
    image = _image(admin, name="cli-before")
    cloud.openstack("image", "set", "--name", "cli-after", "--property", "hw_disk_bus=scsi",
                    "--property", "os_distro=rhel", "--tag", "gold", "--tag", "qos", "cli-before")
    shown = json.loads(cloud.openstack("image", "show", "cli-after", "-f", "json").stdout)
    assert shown["id"] == image
    assert (shown["properties"]["hw_disk_bus"], shown["properties"]["os_distro"]) == (
        "scsi", "rhel")
    assert sorted(shown["tags"]) == ["gold", "qos"]
    cloud.openstack("image", "unset", "--property", "hw_disk_bus", "--tag", "gold", "cli-after")
    record = admin.get(f"{GLANCE}/{image}").json()
    assert "hw_disk_bus" not in record and record["os_distro"] == "rhel"
    assert record["tags"] == ["qos"]


# --- download ---------------------------------------------------------------------------------


def test_an_image_without_data_downloads_as_204_with_no_body(admin: httpx.Client) -> None:
    image = _image(admin, name="no-data")
    response = admin.get(f"{GLANCE}/{image}/file")
    assert (response.status_code, response.content) == (204, b"")
    assert "content-md5" not in response.headers


def test_an_image_with_data_downloads_with_its_md5_and_length(admin: httpx.Client) -> None:
    data = os.urandom(200_000)
    image = _image(admin, name="with-data")
    assert admin.put(f"{GLANCE}/{image}/file", content=data, headers=OCTETS).status_code == 204
    response = admin.get(f"{GLANCE}/{image}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-md5"] == hashlib.md5(data).hexdigest()
    assert response.headers["content-length"] == str(len(data))
    assert response.content == data
    record = admin.get(f"{GLANCE}/{image}").json()
    assert record["os_hash_value"] == hashlib.sha512(data).hexdigest()


def test_another_projects_image_data_is_not_found(admin: httpx.Client,
                                                 member: httpx.Client) -> None:
    image = _image(admin, name="private-data")
    admin.put(f"{GLANCE}/{image}/file", content=b"secret", headers=OCTETS)
    response = member.get(f"{GLANCE}/{image}/file")
    assert (response.status_code, response.text) == (
        404, _glance_text("404 Not Found", f"No image found with ID {image}"))


def test_a_second_upload_is_a_conflict(admin: httpx.Client) -> None:
    image = _image(admin, name="twice")
    assert admin.put(f"{GLANCE}/{image}/file", content=b"one", headers=OCTETS
                     ).status_code == 204
    again = admin.put(f"{GLANCE}/{image}/file", content=b"two", headers=OCTETS)
    assert (again.status_code, again.text) == (409, _glance_text(
        "409 Conflict", "Image status transition from active to saving is not allowed"))
    assert admin.get(f"{GLANCE}/{image}/file").content == b"one"


def test_deleting_an_image_removes_its_data(cloud: Cloud, admin: httpx.Client) -> None:
    image = _image(admin, name="deleted")
    admin.put(f"{GLANCE}/{image}/file", content=b"bytes", headers=OCTETS)
    stored = cloud.settings.data_dir / "images" / image
    assert stored.read_bytes() == b"bytes"
    assert admin.delete(f"{GLANCE}/{image}").status_code == 204
    assert not stored.exists()


def test_an_upload_cut_short_leaves_the_image_queued_and_no_data(cloud: Cloud,
                                                                 admin: httpx.Client) -> None:
    image = _image(admin, name="cut")
    url = urlsplit(cloud.url)
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=10) as raw:
        raw.sendall(f"PUT {GLANCE}/{image}/file HTTP/1.1\r\nHost: x\r\n"
                    f"X-Auth-Token: {cloud.token()}\r\n"
                    "Content-Type: application/octet-stream\r\n"
                    "Content-Length: 100000\r\n\r\n".encode() + b"x" * 1000)
        time.sleep(0.3)  # the server has begun the upload
    deadline = time.monotonic() + 10
    while admin.get(f"{GLANCE}/{image}").json()["status"] != "queued":
        assert time.monotonic() < deadline, "the image stayed in 'saving'"
        time.sleep(0.05)
    images = cloud.settings.data_dir / "images"
    assert not [p for p in images.iterdir() if image in p.name]  # no file, no staging left
    assert admin.put(f"{GLANCE}/{image}/file", content=b"whole", headers=OCTETS
                     ).status_code == 204
    assert admin.get(f"{GLANCE}/{image}/file").content == b"whole"


# --- update -----------------------------------------------------------------------------------


def test_a_patch_answers_the_updated_image(admin: httpx.Client) -> None:
    image = _image(admin, name="p1", tags=["a"])
    response = admin.patch(f"{GLANCE}/{image}", headers=PATCH, content=json.dumps([
        {"op": "replace", "path": "/name", "value": "p2"},
        {"op": "add", "path": "/hw_vif_model", "value": "virtio"},
        {"op": "replace", "path": "/tags", "value": ["b", "c"]},
        {"op": "replace", "path": "/min_ram", "value": 512}]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["hw_vif_model"], body["tags"], body["min_ram"]) == (
        "p2", "virtio", ["b", "c"], 512)
    assert admin.get(f"{GLANCE}/{image}").json() == body


def test_the_v2_0_media_type_names_the_operation_by_its_key(admin: httpx.Client) -> None:
    image = _image(admin, name="d4", custom="x")
    headers = {"Content-Type": "application/openstack-images-v2.0-json-patch"}
    replaced = admin.patch(f"{GLANCE}/{image}", headers=headers,
                           content=json.dumps([{"replace": "/name", "value": "d4-new"}]))
    assert replaced.status_code == 200 and replaced.json()["name"] == "d4-new"
    added = admin.patch(f"{GLANCE}/{image}", headers=headers,
                        content=json.dumps([{"add": "/custom", "value": "y"}]))
    assert (added.status_code, added.text) == (409, _glance_text(
        "409 Conflict", "Property custom already present."))


def test_a_patch_of_another_media_type_is_415_with_accept_patch(admin: httpx.Client) -> None:
    image = _image(admin, name="media")
    response = admin.patch(f"{GLANCE}/{image}", json=[])
    allowed = ("application/openstack-images-v2.0-json-patch, "
               "application/openstack-images-v2.1-json-patch")
    assert (response.status_code, response.text) == (415, _glance_text(
        "415 Unsupported Media Type", f"Image PATCH expects Content-Type one of: {allowed}"))
    assert response.headers["accept-patch"] == allowed


@pytest.mark.parametrize(("body", "status", "message"), [
    ("{", "400 Bad Request", "Malformed JSON in request body."),
    ('{"op": "add"}', "400 Bad Request",
     "Request body must be a JSON array of operation objects."),
    ('["x"]', "400 Bad Request", "Operations must be JSON objects."),
    ('[{"path": "/name", "value": "x"}]', "400 Bad Request",
     "Unable to find `op` in JSON Schema change. It must be one of the following: add, "
     "remove, replace."),
    ('[{"op": "move", "path": "/name"}]', "400 Bad Request",
     "Invalid operation: `move`. It must be one of the following: add, remove, replace."),
    ('[{"op": "add", "path": "name", "value": "x"}]', "400 Bad Request",
     'Pointer `name` does not start with "/".'),
    ('[{"op": "add", "path": "/tags/-", "value": "x"}]', "400 Bad Request",
     "Invalid JSON pointer for this resource: '/tags/-'"),
    ('[{"op": "replace", "path": "/name"}]', "400 Bad Request",
     'Operation "replace" requires a member named "value".'),
    ('[{"op": "replace", "path": "/status", "value": "active"}]', "403 Forbidden",
     "Attribute 'status' is read-only."),
    ('[{"op": "add", "path": "/os_glance_import_task", "value": "x"}]', "403 Forbidden",
     "Attribute 'os_glance_import_task' is reserved."),
    ('[{"op": "remove", "path": "/name"}]', "403 Forbidden", "Property name may not be removed."),
    ('[{"op": "remove", "path": "/nope"}]', "409 Conflict", "Property nope does not exist."),
    ('[{"op": "replace", "path": "/nope", "value": "x"}]', "409 Conflict",
     "Property nope does not exist."),
    ('[{"op": "add", "path": "/owner", "value": "someone"}]', "403 Forbidden",
     "Owner can't be updated by non admin."),
    ('[{"op": "replace", "path": "/visibility", "value": "public"}]', "403 Forbidden",
     "You are not authorized to complete publicize_image action."),
])
def test_a_bad_patch_gets_glances_answer_and_changes_nothing(
        member: httpx.Client, body: str, status: str, message: str) -> None:
    image = _image(member, name="unchanged")
    before = member.get(f"{GLANCE}/{image}").json()
    response = member.patch(f"{GLANCE}/{image}", headers=PATCH, content=body)
    assert (response.status_code, response.text) == (int(status[:3]),
                                                     _glance_text(status, message))
    assert member.get(f"{GLANCE}/{image}").json() == before


def test_the_formats_of_an_image_with_data_are_fixed(admin: httpx.Client) -> None:
    image = _image(admin, name="fixed")
    admin.put(f"{GLANCE}/{image}/file", content=b"x", headers=OCTETS)
    response = admin.patch(f"{GLANCE}/{image}", headers=PATCH, content=json.dumps([
        {"op": "replace", "path": "/disk_format", "value": "qcow2"}]))
    assert (response.status_code, response.text) == (403, _glance_text(
        "403 Forbidden", "Attribute disk_format can be only replaced for a queued image."))


def test_only_the_owners_members_change_an_image(admin: httpx.Client,
                                                member: httpx.Client) -> None:
    public = _image(admin, name="public", visibility="public")
    response = member.patch(f"{GLANCE}/{public}", headers=PATCH, content=json.dumps([
        {"op": "replace", "path": "/name", "value": "mine"}]))
    assert (response.status_code, response.text) == (403, _glance_text(
        "403 Forbidden", "You are not authorized to complete modify_image action."))
    private = _image(admin, name="private")
    hidden = member.patch(f"{GLANCE}/{private}", headers=PATCH, content="[]")
    assert hidden.status_code == 404


def test_tags_are_added_and_removed_one_at_a_time(admin: httpx.Client) -> None:
    image = _image(admin, name="tags")
    for _ in range(2):  # a set: adding twice keeps one
        assert admin.put(f"{GLANCE}/{image}/tags/gold").status_code == 204
    assert admin.get(f"{GLANCE}/{image}").json()["tags"] == ["gold"]
    assert admin.delete(f"{GLANCE}/{image}/tags/gold").status_code == 204
    assert admin.get(f"{GLANCE}/{image}").json()["tags"] == []
    gone = admin.delete(f"{GLANCE}/{image}/tags/gold")
    assert (gone.status_code, gone.text) == (404, _glance_text(
        "404 Not Found", "The resource could not be found."))
    missing = admin.put(f"{GLANCE}/00000000-0000-0000-0000-000000000000/tags/x")
    assert (missing.status_code, missing.text) == (404, _glance_text(
        "404 Not Found", "Image 00000000-0000-0000-0000-000000000000 not found."))


# --- Range (glance/common/wsgi.py get_range_from_request, image_data.py ResponseSerializer) --

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"   # Glance's functional test's image


@pytest.fixture(scope="module")
def lettered(admin: httpx.Client) -> str:
    image = _image(admin, name="lettered")
    assert admin.put(f"{GLANCE}/{image}/file", content=ALPHABET,
                     headers=OCTETS).status_code == 204
    return image


@pytest.mark.parametrize(("header", "body", "content_range"), [
    ("bytes=3-10", b"DEFGHIJK", "bytes 3-10/26"),         # Glance's own functional test
    ("bytes=0-0", b"A", "bytes 0-0/26"),
    ("bytes=20-", b"UVWXYZ", "bytes 20-25/26"),
    ("bytes=24-99", b"YZ", "bytes 24-25/26"),              # a last byte past the end: the end
    ("bytes=-3", b"XYZ", "bytes 23-25/26"),                # the last three
    ("bytes=-26", ALPHABET, "bytes 0-25/26"),              # not below the size: all of it
    ("BYTES = 1 - 2", b"BC", "bytes 1-2/26"),              # webob's pattern: any case, spaces
    ("bytes=1-2junk", b"BC", "bytes 1-2/26"),              # ... matched from the start only
])
def test_a_satisfiable_range_is_206_with_content_range(admin: httpx.Client, lettered: str,
                                                       header: str, body: bytes,
                                                       content_range: str) -> None:
    response = admin.get(f"{GLANCE}/{lettered}/file", headers={"Range": header})
    assert response.status_code == 206, response.text
    assert response.content == body
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["content-md5"] == hashlib.md5(ALPHABET).hexdigest()  # the image's


@pytest.mark.parametrize(("header", "detail"), [
    ("bytes=10-5", "Invalid Range header."),               # Glance's own functional test
    ("items=0-3", "Invalid Range header."),
    ("bytes=-", "Invalid Range header."),                  # Glance: 500 (webob's int(''))
    ("bytes=26-", "Invalid start position in Range header. Start position MUST be in the "
                  "inclusive range [0, 25]."),
    ("bytes=26-30", "Invalid start position in Range header. Start position MUST be in the "
                    "inclusive range [0, 25]."),
])
def test_an_unsatisfiable_range_is_416_in_webobs_words(admin: httpx.Client, lettered: str,
                                                       header: str, detail: str) -> None:
    response = admin.get(f"{GLANCE}/{lettered}/file", headers={"Range": header})
    assert response.status_code == 416
    # webob's HTTPRequestRangeNotSatisfiable(detail): its explanation, then Glance's detail.
    assert response.text == ("416 Request Range Not Satisfiable\n\nThe Range requested is not "
                             f"available.\n\n {detail}  ")


def test_several_ranges_are_400(admin: httpx.Client, lettered: str) -> None:
    response = admin.get(f"{GLANCE}/{lettered}/file", headers={"Range": "bytes=0-1,4-5"})
    assert response.status_code == 400
    assert response.text == _glance_text(
        "400 Bad Request", "Requests with multiple ranges are not supported in Glance. You may "
        "make multiple single-range requests instead.")


def test_a_range_across_download_chunks(admin: httpx.Client) -> None:
    data = os.urandom(200_000)   # several of the store's 64 KiB reads
    image = _image(admin, name="ranged-big")
    assert admin.put(f"{GLANCE}/{image}/file", content=data, headers=OCTETS).status_code == 204
    response = admin.get(f"{GLANCE}/{image}/file", headers={"Range": "bytes=65000-140000"})
    assert response.status_code == 206
    assert response.content == data[65000:140001]
    assert response.headers["content-range"] == "bytes 65000-140000/200000"


def test_a_content_range_request_header_is_read_for_old_clients(admin: httpx.Client) -> None:
    """Glance's test_download_random_access_w_content_range: byte by byte, then refused."""
    image = _image(admin, name="content-ranged")
    data = b"Z" * 10 + b"abcde"
    assert admin.put(f"{GLANCE}/{image}/file", content=data, headers=OCTETS).status_code == 204
    url = f"{GLANCE}/{image}/file"
    pieces = []
    for x in range(15):
        response = admin.get(url, headers={"Content-Range": f"bytes {x}-{x}/15"})
        assert response.status_code == 206, response.text
        assert response.headers["content-range"] == f"bytes {x}-{x}/15"
        pieces.append(response.content)
    assert b"".join(pieces) == data
    explanation = "416 Request Range Not Satisfiable\n\nThe Range requested is not available."
    for header, detail in (
            ("bytes 3-16/15", "Invalid Content-Range header."),
            ("bytes */15", "Invalid Content-Range header."),        # Glance: 500
            ("bytes 3-16/*", "Invalid stop position in Content-Range header. The stop "
                             "position MUST be in the inclusive range [0, 14]."),
            ("bytes 20-22/30", "Invalid start position in Content-Range header. Start "
                               "position MUST be in the inclusive range [0, 14].")):
        response = admin.get(url, headers={"Content-Range": header})
        assert response.status_code == 416, header
        assert response.text == f"{explanation}\n\n {detail}  "
    clamped = admin.get(url, headers={"Content-Range": "bytes 10-20/30"})
    assert (clamped.status_code, clamped.content) == (206, b"abcde")
    assert clamped.headers["content-range"] == "bytes 10-14/15"
    both = admin.get(url, headers={"Range": "bytes=0-1", "Content-Range": "bytes 5-6/15"})
    assert (both.status_code, both.content) == (206, b"ZZ")   # Range wins
