"""Keystone v3 subset: version discovery, password/token authentication, the catalog.

What the client needs (keystone api-ref v3 authenticate-v3.inc): ``GET /identity/v3`` without a
token, and
``POST /identity/v3/auth/tokens`` answering 201 with ``X-Subject-Token`` and a body carrying
``expires_at`` and a catalog that lists ``identity``, ``compute``, ``network`` and ``image`` —
all four pointing back at this server's own prefixes. A request without a scope is scoped to
the user's default project (Keystone does the same); the one domain is ``default``. A disabled
user, or a disabled project, gets no token (401, as ``keystone/auth/plugins/core.py`` turns
``assert_user_enabled``'s refusal into ``Unauthorized``). Projects, users and roles are
:mod:`vmqos.api.identity_resources`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel

from vmqos.api import discovery_schemas
from vmqos.api import identity_schemas as schemas
from vmqos.api.context import (
    app_state,
    caller,
    unauthenticated,
)
from vmqos.api.errors import ApiError
from vmqos.errors import ValidationError
from vmqos.store import identity as ident
from vmqos.store.identity import DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, ROLES, TokenInfo
from vmqos.store.models import Project, User

__all__ = ["ROLE_IDS", "catalog", "root_url", "router"]

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
