"""Glance image data: the real ``openstack`` client saves what it uploaded; direct HTTP checks
the status codes, headers and messages Glance gives (``glance/api/v2/image_data.py``).

``openstack image save`` used to report a checksum mismatch: ``GET .../file`` was not served,
and openstacksdk hashed the 405 error body it got instead of image data.
"""

from __future__ import annotations

import hashlib
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
