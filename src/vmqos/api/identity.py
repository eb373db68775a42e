"""Keystone v3 subset: version discovery, password/token authentication, projects, users, roles.

What the client needs (keystone api-ref v3 authenticate-v3.inc): ``GET /identity/v3`` without a
token, and
``POST /identity/v3/auth/tokens`` answering 201 with ``X-Subject-Token`` and a body carrying
``expires_at`` and a catalog that lists ``identity``, ``compute``, ``network`` and ``image`` —
all four pointing back at this server's own prefixes. A request without a scope is scoped to
the user's default project (Keystone does the same); the one domain is ``default``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vmqos.api import discovery_schemas
from vmqos.api import identity_schemas as schemas
from vmqos.api.context import (
    app_state,
    caller,
    keystone_forbidden,
    unauthenticated,
)
from vmqos.api.errors import ApiError
from vmqos.errors import ValidationError
from vmqos.store import identity as ident
from vmqos.store.identity import DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, ROLES, TokenInfo
from vmqos.store.models import Project, User

__all__ = ["catalog", "router"]

router = APIRouter(tags=["identity"])
Caller = Annotated[TokenInfo, Depends(caller)]

_NS = uuid.UUID("1b3c0f55-4f0e-4d0e-9a1d-6e0f7f3b9c21")
ROLE_IDS = {name: uuid.uuid5(_NS, name).hex for name in ROLES}
_DOMAIN = schemas.DomainRef(id=DEFAULT_DOMAIN_ID, name=DEFAULT_DOMAIN_NAME)


def root_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _v3(request: Request) -> discovery_schemas.IdentityVersion:
    return discovery_schemas.IdentityVersion(
        id="v3.14", status="stable", updated="2020-04-07T00:00:00Z",
        links=[discovery_schemas.VersionLink(rel="self",
                                             href=f"{root_url(request)}/identity/v3/")],
        media_types=[discovery_schemas.MediaType(
            base="application/json", type="application/vnd.openstack.identity-v3+json")])


@router.get("/", status_code=300, summary="Versions (Keystone's, so that a root auth URL works)")
@router.get("/identity", status_code=300, summary="Identity API versions")
def versions(request: Request) -> discovery_schemas.IdentityVersionList:
    return discovery_schemas.IdentityVersionList(
        versions=discovery_schemas.IdentityVersionValues(values=[_v3(request)]))


@router.get("/identity/v3", summary="Identity v3 version document")
def version_v3(request: Request) -> discovery_schemas.IdentityVersionResponse:
    return discovery_schemas.IdentityVersionResponse(version=_v3(request))


def catalog(request: Request, region: str) -> list[schemas.CatalogService]:
    root = root_url(request)
    services = (("identity", "keystone", f"{root}/identity/v3"),
                ("compute", "nova", f"{root}/compute/v2.1"),
                ("network", "neutron", f"{root}/network"),
                ("image", "glance", f"{root}/image"))
    interfaces: tuple[Literal["public", "internal", "admin"], ...] = (
        "public", "internal", "admin")
    return [schemas.CatalogService(
        type=kind, name=name, id=uuid.uuid5(_NS, kind).hex,
        endpoints=[schemas.Endpoint(id=uuid.uuid5(_NS, f"{kind}-{iface}").hex,
                                    interface=iface, url=url, region=region, region_id=region)
                   for iface in interfaces])
        for kind, name, url in services]


class _Domain(BaseModel):
    id: str | None = None
    name: str | None = None


class _UserRef(BaseModel):
    id: str | None = None
    name: str | None = None
    domain: _Domain | None = None
    password: str


class _Password(BaseModel):
    user: _UserRef


class _TokenRef(BaseModel):
    id: str


class _Identity(BaseModel):
    methods: list[str]
    password: _Password | None = None
    token: _TokenRef | None = None


class _ProjectRef(BaseModel):
    id: str | None = None
    name: str | None = None
    domain: _Domain | None = None


class _Scope(BaseModel):
    project: _ProjectRef | None = None


class _Auth(BaseModel):
    identity: _Identity
    scope: _Scope | None = None


class AuthRequest(BaseModel):
    auth: _Auth


def _check_domain(domain: _Domain | None) -> None:
    if domain is None:
        return
    if domain.id not in (None, DEFAULT_DOMAIN_ID) or domain.name not in (
            None, DEFAULT_DOMAIN_NAME):
        raise ApiError(401, "The request you have made requires authentication.")


def _token_body(request: Request, info: TokenInfo, methods: list[str],
                region: str) -> schemas.TokenResponse:
    iso = "%Y-%m-%dT%H:%M:%S.%fZ"
    return schemas.TokenResponse(token=schemas.Token(
        methods=methods,
        user=schemas.TokenUser(id=info.user_id, name=info.user_name, domain=_DOMAIN,
                               password_expires_at=None),
        project=schemas.TokenProject(id=info.project_id, name=info.project_name,
                                     domain=_DOMAIN),
        roles=[schemas.RoleRef(id=ROLE_IDS[r], name=r) for r in info.roles],
        catalog=catalog(request, region),
        is_domain=False,
        issued_at=info.issued_at.strftime(iso),
        expires_at=info.expires_at.strftime(iso),
        audit_ids=[info.audit_id],
    ))


@router.post("/identity/v3/auth/tokens", status_code=201, summary="Authenticate")
def issue_token(body: AuthRequest, request: Request,
                response: Response) -> schemas.TokenResponse:
    state = app_state(request)
    identity = body.auth.identity
    with state.db.write() as session:
        if "password" in identity.methods and identity.password is not None:
            ref = identity.password.user
            _check_domain(ref.domain)
            query = sa.select(User).where(
                User.id == ref.id if ref.id else User.name == (ref.name or ""))
            user = session.scalar(query)
            if user is None or not user.enabled or not ident.verify_password(
                    ref.password, user.password_hash):
                raise unauthenticated(request)
        elif "token" in identity.methods and identity.token is not None:
            old = ident.validate_token(session, identity.token.id)
            if old is None:
                raise unauthenticated(request)
            user = session.get(User, old.user_id)
            assert user is not None
        else:
            raise ApiError(400, "Expecting to find password or token in identity. The server "
                                "could not comply with the request since it is either "
                                "malformed or otherwise incorrect. The client is assumed to "
                                "be in error.")
        project_ref = body.auth.scope.project if body.auth.scope else None
        if project_ref is not None:
            _check_domain(project_ref.domain)
            project = session.scalar(sa.select(Project).where(
                Project.id == project_ref.id if project_ref.id
                else Project.name == (project_ref.name or "")))
        else:
            project = (session.get(Project, user.default_project_id)
                       if user.default_project_id else None)
        if project is None or not project.enabled:
            raise unauthenticated(request)
        try:
            issued = ident.authenticate(session, user, project, state.settings.token_ttl)
        except ValidationError:
            raise unauthenticated(request) from None
    methods = [m for m in identity.methods if m in ("password", "token")]
    response.headers["X-Subject-Token"] = issued.token
    return _token_body(request, issued.info, methods, state.settings.region)


@router.get("/identity/v3/auth/tokens", summary="Validate a token")
def check_token(request: Request, response: Response,
                x_subject_token: Annotated[str, Header()],
                who: Caller) -> schemas.TokenResponse:
    state = app_state(request)
    with state.db.read() as session:
        info = ident.validate_token(session, x_subject_token)
    if info is None or (info.user_id != who.user_id and not who.is_admin):
        raise ApiError(404, f"Could not find token: {x_subject_token}.")
    response.headers["X-Subject-Token"] = x_subject_token
    return _token_body(request, info, ["password"], state.settings.region)


@router.delete("/identity/v3/auth/tokens", status_code=204, summary="Revoke a token")
def revoke_token(request: Request, x_subject_token: Annotated[str, Header()],
                 who: Caller) -> Response:
    state = app_state(request)
    with state.db.write() as session:
        info = ident.validate_token(session, x_subject_token)
        if info is None or (info.user_id != who.user_id and not who.is_admin):
            raise ApiError(404, f"Could not find token: {x_subject_token}.")
        ident.revoke_token(session, x_subject_token)
    state.tokens.drop(x_subject_token)
    return Response(status_code=204)


@router.get("/identity/v3/auth/catalog", summary="The service catalog")
def get_catalog(request: Request, _who: Caller) -> schemas.Catalog:
    return schemas.Catalog(catalog=catalog(request, app_state(request).settings.region))


# --- projects, users, roles -----------------------------------------------------------------


def _project_view(project: Project) -> schemas.Project:
    return schemas.Project(id=project.id, name=project.name, description=project.description,
                           enabled=project.enabled, domain_id=DEFAULT_DOMAIN_ID,
                           is_domain=False, parent_id=DEFAULT_DOMAIN_ID, tags=[], options={})


def _user_view(user: User) -> schemas.User:
    return schemas.User(id=user.id, name=user.name, enabled=user.enabled,
                        domain_id=DEFAULT_DOMAIN_ID,
                        default_project_id=user.default_project_id,
                        password_expires_at=None, options={})


def _admin(who: TokenInfo, action: str) -> None:
    if not who.is_admin:
        raise keystone_forbidden(action)


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    domain_id: str = DEFAULT_DOMAIN_ID
    enabled: bool = True


class ProjectBody(BaseModel):
    project: ProjectCreate


@router.get("/identity/v3/projects", summary="List projects")
def list_projects(request: Request, who: Caller,
                  name: str | None = None) -> schemas.ProjectList:
    _admin(who, "identity:list_projects")
    with app_state(request).db.read() as session:
        query = sa.select(Project).order_by(Project.name)
        if name is not None:
            query = query.where(Project.name == name)
        return schemas.ProjectList(projects=[_project_view(p) for p in session.scalars(query)])


@router.post("/identity/v3/projects", status_code=201, summary="Create a project")
def create_project(body: ProjectBody, request: Request,
                   who: Caller) -> schemas.ProjectResponse:
    _admin(who, "identity:create_project")
    if body.project.domain_id != DEFAULT_DOMAIN_ID:
        raise ApiError(400, f"Could not find domain: {body.project.domain_id}.")
    with app_state(request).db.write() as session:
        project = ident.create_project(session, body.project.name, body.project.description)
        return schemas.ProjectResponse(project=_project_view(project))


@router.get("/identity/v3/projects/{project_id}", summary="Show a project")
def show_project(project_id: str, request: Request,
                 who: Caller) -> schemas.ProjectResponse:
    if not who.is_admin and project_id != who.project_id:
        raise keystone_forbidden("identity:get_project")
    with app_state(request).db.read() as session:
        project = session.get(Project, project_id)
        if project is None:
            raise ApiError(404, f"Could not find project: {project_id}.")
        return schemas.ProjectResponse(project=_project_view(project))


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=4096)
    default_project_id: str | None = None
    domain_id: str = DEFAULT_DOMAIN_ID
    enabled: bool = True


class UserBody(BaseModel):
    user: UserCreate


@router.get("/identity/v3/users", summary="List users")
def list_users(request: Request, who: Caller,
               name: str | None = None) -> schemas.UserList:
    _admin(who, "identity:list_users")
    with app_state(request).db.read() as session:
        query = sa.select(User).order_by(User.name)
        if name is not None:
            query = query.where(User.name == name)
        return schemas.UserList(users=[_user_view(u) for u in session.scalars(query)])


@router.post("/identity/v3/users", status_code=201, summary="Create a user")
def create_user(body: UserBody, request: Request,
                who: Caller) -> schemas.UserResponse:
    _admin(who, "identity:create_user")
    data = body.user
    with app_state(request).db.write() as session:
        if data.default_project_id and session.get(Project, data.default_project_id) is None:
            raise ApiError(400, f"Could not find project: {data.default_project_id}.")
        user = ident.create_user(session, data.name, data.password, data.default_project_id)
        return schemas.UserResponse(user=_user_view(user))


@router.get("/identity/v3/users/{user_id}", summary="Show a user")
def show_user(user_id: str, request: Request,
              who: Caller) -> schemas.UserResponse:
    if not who.is_admin and user_id != who.user_id:
        raise keystone_forbidden("identity:get_user")
    with app_state(request).db.read() as session:
        user = session.get(User, user_id)
        if user is None:
            raise ApiError(404, f"Could not find user: {user_id}.")
        return schemas.UserResponse(user=_user_view(user))


@router.get("/identity/v3/roles", summary="List roles")
def list_roles(who: Caller, name: str | None = None) -> schemas.RoleList:
    _admin(who, "identity:list_roles")
    return schemas.RoleList(roles=[
        schemas.Role(id=ROLE_IDS[r], name=r, domain_id=None, description=None, options={})
        for r in ROLES if name in (None, r)])


@router.put("/identity/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
            status_code=204, summary="Grant a role on a project")
def grant_role(project_id: str, user_id: str, role_id: str, request: Request,
               who: Caller) -> Response:
    _admin(who, "identity:create_grant")
    names = {v: k for k, v in ROLE_IDS.items()}
    role = names.get(role_id, role_id)
    with app_state(request).db.write() as session:
        if session.get(Project, project_id) is None:
            raise ApiError(404, f"Could not find project: {project_id}.")
        if session.get(User, user_id) is None:
            raise ApiError(404, f"Could not find user: {user_id}.")
        if role not in ROLES:
            raise ApiError(404, f"Could not find role: {role_id}.")
        ident.assign_role(session, user_id, project_id, role)
    return Response(status_code=204)
