"""Nova's data: flavors and their extra specs, keypairs, aggregates (availability zones), servers.

Repository functions over a :class:`sqlalchemy.orm.Session` opened by the caller. Input is
already validated; what is checked here is what needs the database: uniqueness (Nova's
``FlavorExists`` / ``FlavorIdExists`` / ``KeyPairExists``, backed by unique constraints so that
parallel creates cannot both win) and existence (``FlavorNotFound`` ...). Messages are Nova's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError
from vmqos.intent.availability_zones import DEFAULT_ZONE
from vmqos.intent.nova.flavor import MAX_INT
from vmqos.store.flavor_access import visible_to
from vmqos.store.models import Aggregate, Flavor, Keypair, Server, utcnow

__all__ = [
    "DEFAULT_ZONE",
    "create_aggregate",
    "create_flavor",
    "create_keypair",
    "delete_extra_spec",
    "delete_flavor",
    "delete_keypair",
    "get_aggregate",
    "get_flavor",
    "get_keypair",
    "get_server",
    "list_flavors",
    "list_keypairs",
    "list_servers",
    "rename_aggregate",
    "set_aggregate_metadata",
    "set_extra_specs",
]

# Nova's [DEFAULT]default_availability_zone: hosts outside any zoned aggregate are here.


def _flavor_exists(name: str, flavor_id: str, session: Session) -> ConflictError:
    if session.scalar(sa.select(Flavor.seq).where(Flavor.id == flavor_id)) is not None:
        return ConflictError(f"Flavor with ID {flavor_id} already exists.",
                             kind="FlavorIdExists", key="id", value=flavor_id)
    return ConflictError(f"Flavor with name {name} already exists.", kind="FlavorExists",
                         key="name", value=name)


def create_flavor(session: Session, *, name: str, vcpus: int, ram: int, disk: int,
                  flavor_id: str | None = None, swap: int = 0, ephemeral: int = 0,
                  rxtx_factor: float = 1.0, is_public: bool = True,
                  description: str | None = None) -> Flavor:
    flavor_id = flavor_id or str(uuid.uuid4())
    if session.scalar(sa.select(Flavor.seq).where(
            sa.or_(Flavor.name == name, Flavor.id == flavor_id))) is not None:
        raise _flavor_exists(name, flavor_id, session)
    flavor = Flavor(id=flavor_id, name=name, vcpus=vcpus, ram=ram, disk=disk, swap=swap,
                    ephemeral=ephemeral, rxtx_factor=rxtx_factor, is_public=is_public,
                    disabled=False, description=description, extra_specs={},
                    created_at=utcnow())
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(flavor)
            session.flush()
    except IntegrityError as exc:  # a parallel create won the unique constraint
        raise _flavor_exists(name, flavor_id, session) from exc
    return flavor


def get_flavor(session: Session, flavor_id: str, *, project_id: str | None = None,
               lock: bool = False) -> Flavor:
    """A flavor by its flavorid; ``project_id`` None (an admin) sees every flavor, a project
    the ones :func:`~vmqos.store.flavor_access.visible_to` it (another is not found)."""
    query = sa.select(Flavor).where(Flavor.id == flavor_id)
    if project_id is not None:
        query = query.where(visible_to(project_id))
    if lock:
        query = query.with_for_update()
    flavor = session.scalar(query)
    if flavor is None:
        raise NotFoundError(f"Flavor {flavor_id} could not be found.", kind="FlavorNotFound",
                            key="flavor_id", value=flavor_id)
    return flavor


def list_flavors(session: Session, *, project_id: str, is_public: bool | None = True,
                 min_ram: int = 0, min_disk: int = 0) -> Sequence[Flavor]:
    """``_flavor_get_all_from_db``'s ``is_public`` filter: True is the public flavors and the
    private ones ``project_id`` (the caller's) has access to, False the private ones, None
    all. A non-admin always asks True (``flavors.py`` ``_get_flavors``), which is also all
    the base query lets it see."""
    # No flavor holds more than Nova's MAX_INT: a larger minimum matches none, and is clamped
    # because the database cannot bind an integer past 64 bits (minRam=2**70 answered 500).
    query = sa.select(Flavor).where(Flavor.ram >= min(min_ram, MAX_INT + 1),
                                    Flavor.disk >= min(min_disk, MAX_INT + 1))
    if is_public is True:
        query = query.where(visible_to(project_id))
    elif is_public is False:
        query = query.where(Flavor.is_public.is_(False))
    # Nova's default sort: flavorid ascending.
    return session.scalars(query.order_by(Flavor.id)).all()


def delete_flavor(session: Session, flavor_id: str) -> None:
    """The flavor and, by ``ON DELETE CASCADE``, its access rows (``_flavor_destroy``)."""
    session.delete(get_flavor(session, flavor_id))


def set_extra_specs(session: Session, flavor_id: str, specs: Mapping[str, str]) -> Flavor:
    flavor = get_flavor(session, flavor_id, lock=True)
    # A new dict: SQLAlchemy's JSON column notices replacement, not in-place mutation.
    flavor.extra_specs = {**flavor.extra_specs, **specs}
    return flavor


def delete_extra_spec(session: Session, flavor_id: str, key: str) -> None:
    flavor = get_flavor(session, flavor_id, lock=True)
    if key not in flavor.extra_specs:
        raise NotFoundError(f"Flavor {flavor_id} has no extra specs with key {key}.",
                            kind="FlavorExtraSpecsNotFound", key="key", value=key)
    flavor.extra_specs = {k: v for k, v in flavor.extra_specs.items() if k != key}


# --- keypairs ----------------------------------------------------------------------------------


def create_keypair(session: Session, *, user_id: str, name: str, public_key: str,
                   fingerprint: str, key_type: str) -> Keypair:
    if session.get(Keypair, (user_id, name)) is not None:
        raise ConflictError(f"Key pair '{name}' already exists.", kind="KeyPairExists",
                            key="name", value=name)
    keypair = Keypair(user_id=user_id, name=name, public_key=public_key,
                      fingerprint=fingerprint, type=key_type, created_at=utcnow())
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(keypair)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"Key pair '{name}' already exists.", kind="KeyPairExists",
                            key="name", value=name) from exc
    return keypair


def get_keypair(session: Session, user_id: str, name: str) -> Keypair:
    keypair = session.get(Keypair, (user_id, name))
    if keypair is None:
        raise NotFoundError(f"Keypair {name} not found for user {user_id}",
                            kind="KeypairNotFound", key="name", value=name)
    return keypair


def list_keypairs(session: Session, user_id: str) -> Sequence[Keypair]:
    return session.scalars(sa.select(Keypair).where(Keypair.user_id == user_id)
                           .order_by(Keypair.name)).all()


def delete_keypair(session: Session, user_id: str, name: str) -> None:
    session.delete(get_keypair(session, user_id, name))


# --- aggregates and availability zones --------------------------------------------------------


def create_aggregate(session: Session, name: str, zone: str | None) -> Aggregate:
    if session.scalar(sa.select(Aggregate.id).where(Aggregate.name == name)) is not None:
        raise ConflictError(f"Aggregate {name} already exists.", kind="AggregateNameExists",
                            key="name", value=name)
    aggregate = Aggregate(uuid=str(uuid.uuid4()), name=name, availability_zone=zone,
                          created_at=utcnow())
    session.add(aggregate)
    session.flush()
    return aggregate


def rename_aggregate(session: Session, aggregate: Aggregate, name: str) -> Aggregate:
    """Nova's ``update_aggregate`` of the name: unique among aggregates."""
    if session.scalar(sa.select(Aggregate.id).where(Aggregate.name == name,
                                                     Aggregate.id != aggregate.id)) is not None:
        raise ConflictError(f"Aggregate {name} already exists.", kind="AggregateNameExists",
                            key="name", value=name)
    aggregate.name = name
    session.flush()
    return aggregate


def get_aggregate(session: Session, aggregate_id: int, *, lock: bool = False) -> Aggregate:
    aggregate = session.get(Aggregate, aggregate_id, with_for_update=lock or None)
    if aggregate is None:
        raise NotFoundError(f"Aggregate {aggregate_id} could not be found.",
                            kind="AggregateNotFound", key="id", value=str(aggregate_id))
    return aggregate


def set_aggregate_metadata(session: Session, aggregate: Aggregate,
                           metadata: Mapping[str, str | None]) -> Aggregate:
    """Nova's ``update_aggregate_metadata``: a null value removes its key, the others are
    set; ``availability_zone`` is the aggregate's zone (its own column here)."""
    values = dict(aggregate.metadata_)
    for key, value in metadata.items():
        if key == "availability_zone":
            aggregate.availability_zone = value
        elif value is None:
            values.pop(key, None)
        else:
            values[key] = value
    aggregate.metadata_ = values   # a new dict: the JSON column sees replacement only
    session.flush()
    return aggregate


# --- servers ----------------------------------------------------------------------------------


def get_server(session: Session, server_id: str, *, project_id: str | None) -> Server:
    """A server by id; ``project_id`` None (an admin) sees every project's servers."""
    query = sa.select(Server).where(Server.id == server_id)
    if project_id is not None:
        query = query.where(Server.project_id == project_id)
    server = session.scalar(query)
    if server is None:
        raise NotFoundError(f"Instance {server_id} could not be found.",
                            kind="InstanceNotFound", key="server_id", value=server_id)
    return server


def list_servers(session: Session, *, project_id: str | None,
                 filters: Mapping[str, Any]) -> Sequence[Server]:
    query = sa.select(Server)
    if project_id is not None:
        query = query.where(Server.project_id == project_id)
    for column in ("status", "image_id", "availability_zone", "key_name", "user_id"):
        if filters.get(column) is not None:
            query = query.where(getattr(Server, column) == filters[column])
    # Nova lists newest first (created_at desc, id desc).
    return session.scalars(query.order_by(Server.created_at.desc(), Server.seq.desc())).all()
