"""Image data, kept as Glance's filesystem store keeps it: one file per image, named by its id,
in one directory (``glance_store/_drivers/filesystem.py``, ``filesystem_store_datadir``).

Invariants:

* A file under its image's id is complete: an upload is written to a staging file of its own
  (``.<id>.<random>.part``) and renamed into place only once the upload has been counted and
  hashed and the image is being made ``active``; a failed or abandoned upload leaves no file.
* No id can name a path outside the directory, and two ids never name one file: an id in
  canonical UUID form (as Glance generates them) names its file, any other by its SHA-256.
* A download holds an open file: replacing or deleting the image's file meanwhile does not
  cut the data it is reading.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["CHUNK", "ImageDataStore", "Staged", "read_chunks"]

CHUNK = 64 * 1024  # bytes a download reads at a time


def _file_name(image_id: str) -> str:
    try:
        canonical = str(uuid.UUID(image_id))
    except ValueError:
        canonical = ""
    if canonical == image_id:
        return canonical
    # Distinct ids must name distinct files: "A..." and "a..." are two images to Glance.
    return "sha256-" + hashlib.sha256(image_id.encode("utf-8", "surrogatepass")).hexdigest()


class Staged:
    """An upload being written: append with :meth:`write`, then hand it to
    :meth:`ImageDataStore.commit` or :meth:`ImageDataStore.discard`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = path.open("xb")

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


class ImageDataStore:
    """The directory of image files (created when the first upload arrives)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, image_id: str) -> Path:
        return self.root / _file_name(image_id)

    def stage(self, image_id: str) -> Staged:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f".{_file_name(image_id)}.{secrets.token_hex(8)}.part"
        return Staged(self.root / name)

    def commit(self, staged: Staged, image_id: str) -> None:
        staged.close()
        staged.path.replace(self._path(image_id))

    def discard(self, staged: Staged) -> None:
        staged.close()
        staged.path.unlink(missing_ok=True)

    def open(self, image_id: str) -> BinaryIO | None:
        """The image's data, or None when it has none."""
        try:
            return self._path(image_id).open("rb")
        except FileNotFoundError:
            return None

    def delete(self, image_id: str) -> None:
        self._path(image_id).unlink(missing_ok=True)


def read_chunks(data: BinaryIO, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The file's bytes from ``offset`` (``length`` of them, or to the end), :data:`CHUNK` at a
    time; closes it at the end (or when the consumer stops)."""
    with data:
        data.seek(offset)
        left = length
        while left is None or left > 0:
            chunk = data.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                break
            if left is not None:
                left -= len(chunk)
            yield chunk
