"""Response models of the Glance subset (the bodies of :mod:`vmqos.api.image`).

Glance answers an image as one flat record: its core properties and, beside them, any extra
property the owner set (``hw_disk_bus``, ``owner_specified.openstack.md5`` ...), always
strings. So the model allows extra keys, typed as strings. Its fields are read by their wire
names only (``self``, ``file``, ``schema`` are not usable Python names): an extra property
can never be taken for a core one, and a core one wins over an extra one of the same name,
as in Glance. The extra properties follow the core ones in the body (Glance's
``ResponseSerializer._format_image`` starts from them; a JSON object has no order a client may
rely on, and keeping Glance's would hide the fields from the OpenAPI schema).
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from vmqos.api.responses import ResponseModel

__all__ = [
    "Image",
    "ImageList",
]

_BY_WIRE_NAME = ConfigDict(validate_by_name=False, validate_by_alias=True)


class Image(ResponseModel):
    model_config = ConfigDict(extra="allow", **_BY_WIRE_NAME)
    __pydantic_extra__: dict[str, str] = Field(init=False)

    id: str
    name: str | None
    status: str
    visibility: str
    protected: bool
    os_hidden: bool
    checksum: str | None = Field(description="MD5 of the data, once uploaded")
    os_hash_algo: str | None
    os_hash_value: str | None
    size: int | None
    virtual_size: int | None
    min_disk: int
    min_ram: int
    disk_format: str | None
    container_format: str | None
    owner: str
    tags: list[str]
    created_at: str
    updated_at: str
    self_link: str = Field(alias="self")
    file_link: str = Field(alias="file")
    schema_link: str = Field(alias="schema")


class ImageList(ResponseModel):
    model_config = _BY_WIRE_NAME

    images: list[Image]
    schema_link: str = Field(alias="schema")
    first: str
