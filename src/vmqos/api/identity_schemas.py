"""Response models of the Keystone subset: tokens and their catalog, projects, users, roles
(the bodies of :mod:`vmqos.api.identity`; the version documents are in
:mod:`vmqos.api.discovery_schemas`)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, JsonValue

from vmqos.api.responses import ResponseModel

__all__ = [
    "Catalog",
    "CatalogService",
    "DomainRef",
    "Endpoint",
    "Project",
    "ProjectList",
    "ProjectResponse",
    "Role",
    "RoleList",
    "RoleRef",
    "Token",
    "TokenProject",
    "TokenResponse",
    "TokenUser",
    "User",
    "UserList",
    "UserResponse",
]


class Endpoint(ResponseModel):
    id: str
    interface: Literal["public", "internal", "admin"]
    url: str
    region: str
    region_id: str


class CatalogService(ResponseModel):
    type: str
    name: str
    id: str
    endpoints: list[Endpoint]


class Catalog(ResponseModel):
    catalog: list[CatalogService]


class DomainRef(ResponseModel):
    id: str
    name: str


class TokenUser(ResponseModel):
    id: str
    name: str
    domain: DomainRef
    password_expires_at: str | None


class TokenProject(ResponseModel):
    id: str
    name: str
    domain: DomainRef


class RoleRef(ResponseModel):
    id: str
    name: str


class Token(ResponseModel):
    methods: list[str]
    user: TokenUser
    project: TokenProject
    roles: list[RoleRef]
    catalog: list[CatalogService]
    is_domain: bool
    issued_at: str
    expires_at: str
    audit_ids: list[str]


class TokenResponse(ResponseModel):
    token: Token


class Project(ResponseModel):
    """Keystone's project; the attributes it keeps in ``extra`` are further properties."""

    model_config = ConfigDict(strict=True, validate_assignment=True, extra="allow")
    id: str
    name: str
    description: str
    enabled: bool
    domain_id: str
    is_domain: bool
    parent_id: str
    tags: list[str]
    options: dict[str, JsonValue]


class ProjectResponse(ResponseModel):
    project: Project


class ProjectList(ResponseModel):
    projects: list[Project]


class User(ResponseModel):
    """Keystone's user; ``email``, ``description`` and any other attribute it keeps in
    ``extra`` are further properties."""

    model_config = ConfigDict(strict=True, validate_assignment=True, extra="allow")
    id: str
    name: str
    enabled: bool
    domain_id: str
    default_project_id: str | None
    password_expires_at: str | None
    options: dict[str, JsonValue]


class UserResponse(ResponseModel):
    user: User


class UserList(ResponseModel):
    users: list[User]


class Role(ResponseModel):
    id: str
    name: str
    domain_id: str | None
    description: str | None
    options: dict[str, JsonValue]


class RoleList(ResponseModel):
    roles: list[Role]
