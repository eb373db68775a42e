"""Keystone's data: projects, users, role assignments, password hashes and tokens.

* Passwords are stored as ``scrypt$n$r$p$salt$hash`` (stdlib :func:`hashlib.scrypt`, 16 B
  salt, n=2**14, r=8, p=1 — the interactive-login parameters of RFC 7914 §2) and compared in
  constant time.
* Tokens are 32 random bytes (URL-safe base64); only their SHA-256 is stored, with the user,
  project, roles and an expiry. An expired or unknown token is simply not found.
* Roles are Keystone's default three, implied downwards: ``admin`` ⊃ ``member`` ⊃ ``reader``
  (keystone's bootstrap creates exactly these implied roles).
* One domain, ``default`` (name ``Default``), as in a fresh Keystone.
* A token is valid while it has not expired, its user and project exist and both are enabled
  (``keystone/models/token_model.py`` ``_validate_token_user`` / ``_validate_token_resources``).
  Disabling a user, changing their password or deleting them revokes their tokens
  (``keystone/identity/core.py`` ``update_user`` persists a revocation event for the user);
  a disabled project's tokens fail while it is disabled, a deleted project's are gone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError, ValidationError
from vmqos.store.models import Project, RoleAssignment, Token, User

__all__ = [
    "DEFAULT_DOMAIN_ID",
    "DEFAULT_DOMAIN_NAME",
    "ROLES",
    "IssuedToken",
    "TokenInfo",
    "assign_role",
    "authenticate",
    "create_project",
    "create_user",
    "delete_project",
    "delete_user",
    "ensure_admin",
    "hash_password",
    "issue_token",
    "project_by_name",
    "revoke_token",
    "revoke_user_tokens",
    "roles_of",
    "update_project",
    "update_user",
    "validate_token",
    "verify_password",
]

DEFAULT_DOMAIN_ID = "default"
DEFAULT_DOMAIN_NAME = "Default"
# Keystone bootstrap's roles, strongest first; each implies the ones after it.
ROLES = ("admin", "member", "reader")

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                            p=_SCRYPT_P)
    return "$".join(("scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _new_id() -> str:
    return uuid.uuid4().hex


def _duplicate(kind: str, name: str) -> ConflictError:
    return ConflictError(f"Conflict occurred attempting to store {kind} - Duplicate entry "
                         f"found with name {name} at domain ID {DEFAULT_DOMAIN_ID}.",
                         kind="Conflict", key="name", value=name)


def create_project(session: Session, name: str, description: str = "", *, enabled: bool = True,
                   tags: Sequence[str] = (), extra: Mapping[str, Any] | None = None) -> Project:
    if session.scalar(sa.select(Project).where(Project.name == name)) is not None:
        raise _duplicate("project", name)
    project = Project(id=_new_id(), name=name, description=description, enabled=enabled,
                      tags=list(tags), extra=dict(extra or {}))
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(project)
            session.flush()
    except IntegrityError as exc:  # a parallel create won the unique name
        raise _duplicate("project", name) from exc
    return project


def create_user(session: Session, name: str, password: str,
                default_project_id: str | None = None, *, enabled: bool = True,
                extra: Mapping[str, Any] | None = None) -> User:
    if session.scalar(sa.select(User).where(User.name == name)) is not None:
        raise _duplicate("user", name)
    user = User(id=_new_id(), name=name, password_hash=hash_password(password),
                enabled=enabled, default_project_id=default_project_id,
                extra=dict(extra or {}))
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise _duplicate("user", name) from exc
    return user


def _renamed(session: Session, row: Project | User, name: str,
             conflict: ConflictError) -> None:
    model = type(row)
    if session.scalar(sa.select(model.id).where(model.name == name, model.id != row.id)):
        raise conflict
    row.name = name
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a parallel create or rename took the name
        raise conflict from exc


def update_project(session: Session, project: Project, changes: Mapping[str, Any]) -> None:
    """``changes``: new ``name``, ``description``, ``enabled``, ``tags``, ``extra`` (merged).

    A name another project has is Keystone's ``Conflict`` as
    ``keystone/resource/core.py`` ``_generate_project_name_conflict_msg`` words it.
    """
    if "name" in changes and changes["name"] != project.name:
        _renamed(session, project, changes["name"], ConflictError(
            "Conflict occurred attempting to store project - it is not permitted to have two "
            "projects with either the same name or same id in the same domain: name is "
            f"{changes['name']}, project id {project.id}.", kind="Conflict", key="name",
            value=changes["name"]))
    for column in ("description", "enabled", "tags"):
        if column in changes:
            setattr(project, column, changes[column])
    if changes.get("extra"):
        project.extra = {**project.extra, **changes["extra"]}
    session.flush()


def update_user(session: Session, user: User, changes: Mapping[str, Any], *,
                domain_given: bool = False) -> None:
    """``changes``: new ``name``, ``password`` (None: none any more), ``enabled``,
    ``default_project_id``, ``extra`` (merged). Disabling the user or setting a password
    revokes their tokens. A taken name is ``handle_conflicts``' message, which names the
    domain only when the body did."""
    if "name" in changes and changes["name"] != user.name:
        where = f" at domain ID {DEFAULT_DOMAIN_ID}" if domain_given else ""
        _renamed(session, user, changes["name"], ConflictError(
            "Conflict occurred attempting to store user - Duplicate entry found with name "
            f"{changes['name']}{where}.", kind="Conflict", key="name", value=changes["name"]))
    revoke = False
    if "password" in changes:
        # No password: a hash no password verifies (Keystone then refuses password auth).
        user.password_hash = ("!" if changes["password"] is None
                              else hash_password(changes["password"]))
        revoke = changes["password"] is not None
    if "enabled" in changes:
        revoke = revoke or (user.enabled and not changes["enabled"])
        user.enabled = changes["enabled"]
    if "default_project_id" in changes:
        user.default_project_id = changes["default_project_id"]
    if changes.get("extra"):
        user.extra = {**user.extra, **changes["extra"]}
    if revoke:
        revoke_user_tokens(session, user.id)
    session.flush()


def delete_project(session: Session, project: Project) -> None:
    """The project, its role assignments and its tokens; what it owns in the other services
    stays (Keystone tells nobody)."""
    session.delete(project)
    session.flush()


def delete_user(session: Session, user: User) -> None:
    """The user, their role assignments and tokens (their key pairs and servers stay)."""
    session.delete(user)
    session.flush()


def assign_role(session: Session, user_id: str, project_id: str, role: str) -> None:
    if role not in ROLES:
        raise NotFoundError(f"Could not find role: {role}.", kind="RoleNotFound",
                            key="role", value=role)
    exists = session.get(RoleAssignment, (user_id, project_id, role))
    if exists is None:
        session.add(RoleAssignment(user_id=user_id, project_id=project_id, role=role))
        session.flush()


def roles_of(session: Session, user_id: str, project_id: str) -> tuple[str, ...]:
    """The effective roles (with implied ones), strongest first."""
    granted = set(session.scalars(sa.select(RoleAssignment.role).where(
        RoleAssignment.user_id == user_id, RoleAssignment.project_id == project_id)))
    for index, role in enumerate(ROLES):
        if role in granted:
            return ROLES[index:]
    return ()


def project_by_name(session: Session, name: str) -> Project | None:
    return session.scalar(sa.select(Project).where(Project.name == name))


def ensure_admin(session: Session, *, user: str, password: str, project: str) -> User:
    """Keystone's ``bootstrap``: the admin project and user with the admin role; idempotent
    (an existing user keeps its password unless ``password`` differs, then it is reset)."""
    proj = project_by_name(session, project) or create_project(session, project,
                                                               "Bootstrap project")
    found = session.scalar(sa.select(User).where(User.name == user))
    if found is None:
        found = create_user(session, user, password, default_project_id=proj.id)
    elif not verify_password(password, found.password_hash):
        found.password_hash = hash_password(password)
    assign_role(session, found.id, proj.id, "admin")
    return found


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Who a valid token speaks for."""

    user_id: str
    user_name: str
    project_id: str
    project_name: str
    roles: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    audit_id: str

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    info: TokenInfo


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, user: User, project: Project, ttl: timedelta) -> IssuedToken:
    """Issue a project-scoped token for an already verified ``user``.

    Keystone answers 401 when the user has no role on the project; so does this (as
    :class:`ValidationError` with ``key='scope'``, which the API turns into 401).
    """
    roles = roles_of(session, user.id, project.id)
    if not roles:
        raise ValidationError(f"User {user.id} has no access to project {project.id}",
                              key="scope", value=project.id)
    return issue_token(session, user, project, roles, ttl)


def issue_token(session: Session, user: User, project: Project, roles: tuple[str, ...],
                ttl: timedelta) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    # Full precision: utcnow() drops the microseconds, which would shorten a token's life.
    now = datetime.now(UTC).replace(tzinfo=None)
    audit_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
    row = Token(digest=_digest(token), user_id=user.id, project_id=project.id,
                roles=",".join(roles), issued_at=now, expires_at=now + ttl, audit_id=audit_id)
    session.add(row)
    # Expired tokens are useless; drop them here rather than run a janitor.
    session.execute(sa.delete(Token).where(Token.expires_at < now))
    session.flush()
    return IssuedToken(token, TokenInfo(user.id, user.name, project.id, project.name, roles,
                                        now, now + ttl, audit_id))


def validate_token(session: Session, token: str) -> TokenInfo | None:
    row = session.execute(
        sa.select(Token, User.name, Project.name, User.enabled, Project.enabled)
        .join(User, User.id == Token.user_id).join(Project, Project.id == Token.project_id)
        .where(Token.digest == _digest(token))).first()
    if row is None:
        return None
    tok, user_name, project_name, user_enabled, project_enabled = row
    if tok.expires_at <= datetime.now(UTC).replace(tzinfo=None):
        return None
    if not (user_enabled and project_enabled):
        return None
    return TokenInfo(tok.user_id, user_name, tok.project_id, project_name,
                     tuple(tok.roles.split(",")), tok.issued_at, tok.expires_at, tok.audit_id)


def revoke_token(session: Session, token: str) -> bool:
    result = session.execute(sa.delete(Token).where(Token.digest == _digest(token)))
    return bool(getattr(result, "rowcount", 0))


def revoke_user_tokens(session: Session, user_id: str) -> None:
    """Every token of the user stops working (Keystone's revocation event for a user)."""
    session.execute(sa.delete(Token).where(Token.user_id == user_id))
