"""Glance's data: image records and what their upload measured (size, checksums).

The bytes themselves are files (:mod:`vmqos.store.image_data`), as in Glance's filesystem
store; vmqos never boots an image, but ``openstack image save`` gets back what was uploaded.
Visibility is Glance's: ``public`` and ``community`` images are seen by everyone, ``shared``
and ``private`` ones by their owner (and admins).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vmqos.errors import NotFoundError
from vmqos.store.db import filtered
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Image, utcnow

__all__ = ["create_image", "get_image", "list_images"]


def _visible(who: TokenInfo) -> sa.ColumnElement[bool]:
    return sa.or_(Image.owner == who.project_id, Image.visibility.in_(("public", "community")))


def get_image(session: Session, image_id: str, who: TokenInfo) -> Image:
    query = sa.select(Image).where(Image.id == image_id)
    if not who.is_admin:
        query = query.where(_visible(who))
    image = session.scalar(query)
    if image is None:
        raise NotFoundError(f"No image found with ID {image_id}", kind="ImageNotFound",
                            key="image_id", value=image_id)
    return image


def list_images(session: Session, who: TokenInfo, *, ids: Sequence[str] | None,
                filters: Mapping[str, Any]) -> Sequence[Image]:
    query = sa.select(Image)
    if not who.is_admin:
        query = query.where(_visible(who))
    if ids is not None:
        query = query.where(Image.id.in_(list(ids)))
    query = filtered(query, Image, filters)
    return session.scalars(query.order_by(Image.created_at.desc(), Image.id)).all()


def create_image(session: Session, *, owner: str, values: Mapping[str, Any]) -> Image:
    now = utcnow()
    image_id = values.get("id") or str(uuid.uuid4())
    image = Image(owner=owner, status="queued", created_at=now, updated_at=now,
                  **{**values, "id": image_id})
    session.add(image)
    session.flush()
    return image
