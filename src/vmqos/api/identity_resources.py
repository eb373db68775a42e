"""Keystone v3 projects, users and roles (``/identity/v3``): list, create, show, update, delete.

Behaviour is Keystone's (``keystone/api/projects.py``, ``users.py``, ``keystone/resource/core.py``
``_update_project`` / ``_delete_project``, ``keystone/identity/core.py`` ``update_user`` /
``delete_user``):

* Policies: listing, creating, updating and deleting projects and users, listing roles and
  granting them are admins' (``identity:update_project`` ...); a user may show their own
  user and the project they are scoped to.
* A name, at create and update, is Keystone's schema's (``[\\S]+``: not whitespace alone),
  judged before the policy. An update's body is checked as Keystone's request schemas check
  it (the typed attributes; ``{"project": {}}`` changes nothing), then as its managers do:
  ``id`` and ``domain_id`` may not change, nor a project's ``parent_id`` (403) or
  ``is_domain``; names are stripped and stay unique. Attributes Keystone has no column for
  (``email``, a user's ``description``, a project's ``--property``) are kept in ``extra``
  and shown with the rest.
* Disabling a user, setting their password or deleting them ends their tokens; a disabled
  project's tokens stop working until it is enabled again; a deleted project's are gone
  (:mod:`vmqos.store.identity`). The token cache forgets them at once.
* Deleting a project deletes its role assignments and nothing else: its servers, networks and
  quotas stay, as Keystone tells no other service.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from vmqos.api import identity_schemas as schemas
from vmqos.api.context import app_state, caller, keystone_forbidden
from vmqos.api.errors import ApiError
from vmqos.api.identity import ROLE_IDS
from vmqos.intent.nova.json_schema import Schema, validate_field
from vmqos.store import identity as ident
from vmqos.store.identity import DEFAULT_DOMAIN_ID, ROLES, TokenInfo
from vmqos.store.models import Project, User

__all__ = ["router"]

router = APIRouter(tags=["identity"])
Caller = Annotated[TokenInfo, Depends(caller)]

# The attributes Keystone keeps in columns (or refuses to change), so not in ``extra``.
_PROJECT_FIELDS = frozenset(("id", "name", "description", "enabled", "domain_id", "is_domain",
                             "parent_id", "tags", "options", "links"))
_USER_FIELDS = frozenset(("id", "name", "password", "enabled", "domain_id",
                          "default_project_id", "options", "federated", "links",
                          "password_expires_at"))
# keystone/api/validation/parameter_types.py boolean, in its order; the strings mean what
# strutils.bool_from_string reads in them.
_BOOLEANS: tuple[object, ...] = (True, "True", "TRUE", "true", False, "False", "FALSE", "false",
                                 "", "1", "0", "y", "Y", "n", "N", "on", "ON", "off", "OFF",
                                 "yes", "no")
_TRUE = ("True", "TRUE", "true", "1", "y", "Y", "on", "ON", "yes")


def _project_view(project: Project) -> schemas.Project:
    return schemas.Project(id=project.id, name=project.name, description=project.description,
                           enabled=project.enabled, domain_id=DEFAULT_DOMAIN_ID,
                           is_domain=False, parent_id=DEFAULT_DOMAIN_ID,
                           tags=list(project.tags), options={}, **project.extra)


def _user_view(user: User) -> schemas.User:
    return schemas.User(id=user.id, name=user.name, enabled=user.enabled,
                        domain_id=DEFAULT_DOMAIN_ID,
                        default_project_id=user.default_project_id,
                        password_expires_at=None, options={}, **user.extra)


def _admin(who: TokenInfo, action: str) -> None:
    if not who.is_admin:
        raise keystone_forbidden(action)


def _project(session: Session, project_id: str) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise ApiError(404, f"Could not find project: {project_id}.")
    return project


def _user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ApiError(404, f"Could not find user: {user_id}.")
    return user


# --- the request schemas' checks (keystone/api/validation: jsonschema's words) ---------------


def _invalid(name: str, value: object, message: str) -> ApiError:
    return ApiError(400, f"Invalid input for field/attribute {name}. Value: {value}. {message}")


def _unexpected(names: list[str]) -> ApiError:
    verb = "was" if len(names) == 1 else "were"
    return ApiError(400, f"Additional properties are not allowed "
                         f"({', '.join(map(repr, names))} {verb} unexpected)")


# keystone/resource/schema.py _name_properties and keystone/identity/schema.py _identity_name:
# 1 to 64 (a project's) or 255 (a user's) characters, one of them not whitespace (a search).
_PROJECT_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 64,
                         "pattern": r"[\S]+"}
_USER_NAME: Schema = {**_PROJECT_NAME, "maxLength": 255}


def _name(value: object, schema: Schema) -> str:
    """A name as Keystone's request schema judges it (its validator,
    ``keystone/api/validation/validators.py`` ``_SchemaValidator.validate``, words a failure as
    Nova's does), then as its manager stores it: stripped (``create_project``,
    ``update_user``, ...)."""
    validate_field(schema, value, "name")
    assert isinstance(value, str)
    return value.strip()


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _BOOLEANS:
        return value in _TRUE
    raise _invalid(name, value, f"{value!r} is not one of {list(_BOOLEANS)!r}")


def _nullable_string(name: str, value: object, max_len: int | None = None) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _invalid(name, value, f"{value!r} is not of type 'string', 'null'")
    if value is not None and max_len is not None and len(value) > max_len:
        raise _invalid(name, value, f"{value!r} is too long")
    return value


def _tags(value: object) -> list[str]:
    """``_project_tags_list_properties``: at most 80 unique tags of 1-255 characters without
    ``,`` or ``/``."""
    if not isinstance(value, list):
        raise _invalid("tags", value, f"{value!r} is not of type 'array'")
    if len(value) > 80:
        raise _invalid("tags", value, f"{value!r} is too long")
    for tag in value:
        if not isinstance(tag, str):
            raise _invalid("tags", tag, f"{tag!r} is not of type 'string'")
        if not 1 <= len(tag) <= 255 or "," in tag or "/" in tag:
            raise _invalid("tags", tag, f"{tag!r} does not match '^[^,/]*$'" if tag
                           else f"{tag!r} is too short")
    if len(set(value)) != len(value):
        raise _invalid("tags", value, f"{value!r} has non-unique elements")
    return list(value)


def _extras(given: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The attributes kept in ``extra``: any JSON value, but JSON has no NaN or infinity
    (Python's parser reads them, no JSON answer can carry them back)."""
    def finite(name: str, value: object) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise _invalid(name, value, f"{value!r} is not a JSON number")
        for item in (value.values() if isinstance(value, dict)
                     else value if isinstance(value, list) else ()):
            finite(name, item)

    out = {k: v for k, v in given.items() if k not in known}
    for name, value in out.items():
        finite(name, value)
    return out


def _member(body: Mapping[str, Any], key: str, *, required: bool) -> dict[str, Any]:
    unexpected = sorted(set(body) - {key})
    if unexpected:
        raise _unexpected(unexpected)
    if key not in body:
        if required:
            raise ApiError(400, f"'{key}' is a required property")
        return {}
    given = body[key]
    if not isinstance(given, dict):
        raise _invalid(key, given, f"{given!r} is not of type 'object'")
    return dict(given)


def _unchanged_identity(given: Mapping[str, Any], row_id: str) -> None:
    """``_require_matching_id`` and ``_require_matching_domain_id``."""
    if given.get("id") is not None and given["id"] != row_id:
        raise ApiError(400, "Cannot change ID")
    if "domain_id" in given and given["domain_id"] != DEFAULT_DOMAIN_ID:
        raise ApiError(400, "Cannot change Domain ID")
    for refused in ("options", "federated"):
        if given.get(refused):
            raise ApiError(400, f"vmqos keeps no {refused} for Keystone's resources: leave "
                                f"'{refused}' out.")


# --- projects ---------------------------------------------------------------------------------


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(description="1 to 64 characters, not all whitespace (_PROJECT_NAME)")
    description: str = ""
    domain_id: str = DEFAULT_DOMAIN_ID
    enabled: bool = True
    tags: list[str] = Field(default_factory=list, max_length=80)


class ProjectBody(BaseModel):
    project: ProjectCreate


def _extra(data: BaseModel, known: frozenset[str]) -> dict[str, Any]:
    return _extras(data.model_extra or {}, known)


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
    data = body.project
    name = _name(data.name, _PROJECT_NAME)  # the schema, before the policy
    _admin(who, "identity:create_project")
    if data.domain_id != DEFAULT_DOMAIN_ID:
        raise ApiError(400, f"Could not find domain: {data.domain_id}.")
    with app_state(request).db.write() as session:
        project = ident.create_project(session, name, data.description,
                                       enabled=data.enabled, tags=_tags(data.tags),
                                       extra=_extra(data, _PROJECT_FIELDS))
        return schemas.ProjectResponse(project=_project_view(project))


@router.get("/identity/v3/projects/{project_id}", summary="Show a project")
def show_project(project_id: str, request: Request,
                 who: Caller) -> schemas.ProjectResponse:
    if not who.is_admin and project_id != who.project_id:
        raise keystone_forbidden("identity:get_project")
    with app_state(request).db.read() as session:
        return schemas.ProjectResponse(project=_project_view(_project(session, project_id)))


def _project_changes(given: Mapping[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = _name(given["name"], _PROJECT_NAME)
    if "description" in given:
        changes["description"] = _nullable_string("description", given["description"]) or ""
    if "enabled" in given:
        changes["enabled"] = _boolean("enabled", given["enabled"])
    if "tags" in given:
        changes["tags"] = _tags(given["tags"])
    changes["extra"] = _extras(given, _PROJECT_FIELDS)
    return changes


@router.patch("/identity/v3/projects/{project_id}", summary="Update a project")
def update_project(project_id: str, request: Request, who: Caller,
                   body: Annotated[dict[str, Any], Body()]) -> schemas.ProjectResponse:
    given = _member(body, "project", required=False)
    changes = _project_changes(given)
    _admin(who, "identity:update_project")
    state = app_state(request)
    with state.db.write() as session:
        project = _project(session, project_id)
        _unchanged_identity(given, project.id)
        if "parent_id" in given and given["parent_id"] != DEFAULT_DOMAIN_ID:
            raise ApiError(403, "Update of `parent_id` is not allowed.")
        if "is_domain" in given and given["is_domain"] is not False:
            raise ApiError(400, "Update of `is_domain` is not allowed.")
        ident.update_project(session, project, changes)
        view = _project_view(project)
    if not view.enabled:
        state.tokens.drop_where(lambda info: info.project_id == project_id)
    return schemas.ProjectResponse(project=view)


@router.delete("/identity/v3/projects/{project_id}", status_code=204, response_class=Response,
               summary="Delete a project")
def delete_project(project_id: str, request: Request, who: Caller) -> Response:
    _admin(who, "identity:delete_project")
    state = app_state(request)
    with state.db.write() as session:
        ident.delete_project(session, _project(session, project_id))
    state.tokens.drop_where(lambda info: info.project_id == project_id)
    return Response(status_code=204)


# --- users ------------------------------------------------------------------------------------


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(description="1 to 255 characters, not all whitespace (_USER_NAME)")
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
    data = body.user
    name = _name(data.name, _USER_NAME)  # the schema, before the policy
    _admin(who, "identity:create_user")
    with app_state(request).db.write() as session:
        if data.default_project_id and session.get(Project, data.default_project_id) is None:
            raise ApiError(400, f"Could not find project: {data.default_project_id}.")
        user = ident.create_user(session, name, data.password, data.default_project_id,
                                 enabled=data.enabled, extra=_extra(data, _USER_FIELDS))
        return schemas.UserResponse(user=_user_view(user))


@router.get("/identity/v3/users/{user_id}", summary="Show a user")
def show_user(user_id: str, request: Request,
              who: Caller) -> schemas.UserResponse:
    if not who.is_admin and user_id != who.user_id:
        raise keystone_forbidden("identity:get_user")
    with app_state(request).db.read() as session:
        return schemas.UserResponse(user=_user_view(_user(session, user_id)))


def _user_changes(given: Mapping[str, Any]) -> dict[str, Any]:
    if not given:  # user_update_request: "minProperties": 1
        raise _invalid("user", given, f"{given!r} should be non-empty")
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = _name(given["name"], _USER_NAME)
    if "password" in given:
        changes["password"] = _nullable_string("password", given["password"])
    if "enabled" in given:
        changes["enabled"] = _boolean("enabled", given["enabled"])
    if "default_project_id" in given:
        changes["default_project_id"] = _nullable_string("default_project_id",
                                                         given["default_project_id"])
    if "description" in given:
        _nullable_string("description", given["description"])
    changes["extra"] = _extras(given, _USER_FIELDS)
    return changes


@router.patch("/identity/v3/users/{user_id}", summary="Update a user")
def update_user(user_id: str, request: Request, who: Caller,
                body: Annotated[dict[str, Any], Body()]) -> schemas.UserResponse:
    given = _member(body, "user", required=True)
    changes = _user_changes(given)
    _admin(who, "identity:update_user")
    state = app_state(request)
    with state.db.write() as session:
        user = _user(session, user_id)
        _unchanged_identity(given, user.id)
        ident.update_user(session, user, changes, domain_given="domain_id" in given)
        view = _user_view(user)
    if "password" in changes or not view.enabled:
        state.tokens.drop_where(lambda info: info.user_id == user_id)
    return schemas.UserResponse(user=view)


@router.delete("/identity/v3/users/{user_id}", status_code=204, response_class=Response,
               summary="Delete a user")
def delete_user(user_id: str, request: Request, who: Caller) -> Response:
    _admin(who, "identity:delete_user")
    state = app_state(request)
    with state.db.write() as session:
        ident.delete_user(session, _user(session, user_id))
    state.tokens.drop_where(lambda info: info.user_id == user_id)
    return Response(status_code=204)


# --- roles ------------------------------------------------------------------------------------


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
        _project(session, project_id)
        _user(session, user_id)
        if role not in ROLES:
            raise ApiError(404, f"Could not find role: {role_id}.")
        ident.assign_role(session, user_id, project_id, role)
    return Response(status_code=204)
