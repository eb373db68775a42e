"""Which projects may use a private flavor: Nova's flavor access (``flavor_projects``).

The rule every flavor read asks is :func:`visible_to`, Nova's
``nova/objects/flavor.py`` ``Flavor._flavor_get_query_from_db`` (and the ``is_public`` filter
of ``_flavor_get_all_from_db``): a project sees the public flavors and the private ones it has
been given access to. Adding and removing access are ``_flavor_add_project`` and
``_flavor_del_project``: a second row for the same pair is ``FlavorAccessExists`` (the unique
constraint decides, so parallel adds cannot both win), removing a row that is not there is
``FlavorAccessNotFound``. Both name the flavor by its internal number (``flavors.seq``, Nova's
``flavors.id``), as Nova's messages do. A flavor's rows go with it (``ON DELETE CASCADE``, as
``_flavor_destroy`` deletes them).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError
from vmqos.store.models import Flavor, FlavorProject

__all__ = ["add_access", "flavor_projects", "remove_access", "visible_to"]


def visible_to(project_id: str) -> sa.ColumnElement[bool]:
    """The flavors ``project_id`` may see: public, or private with its access row."""
    has_access = sa.exists().where(FlavorProject.flavor_seq == Flavor.seq,
                                   FlavorProject.project_id == project_id)
    return sa.or_(Flavor.is_public.is_(True), has_access)


def flavor_projects(session: Session, flavor: Flavor) -> list[str]:
    """The projects with access to ``flavor``, in the order they were given it."""
    return list(session.scalars(sa.select(FlavorProject.project_id)
                                .where(FlavorProject.flavor_seq == flavor.seq)
                                .order_by(FlavorProject.id)))


def _exists(flavor: Flavor, project_id: str) -> ConflictError:
    return ConflictError(f"Flavor access already exists for flavor {flavor.seq} and project "
                         f"{project_id} combination.", kind="FlavorAccessExists",
                         key="tenant", value=project_id)


def add_access(session: Session, flavor: Flavor, project_id: str) -> None:
    if session.scalar(sa.select(FlavorProject.id).where(
            FlavorProject.flavor_seq == flavor.seq,
            FlavorProject.project_id == project_id)) is not None:
        raise _exists(flavor, project_id)
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(FlavorProject(flavor_seq=flavor.seq, project_id=project_id))
            session.flush()
    except IntegrityError as exc:  # a parallel add won the unique constraint
        raise _exists(flavor, project_id) from exc


def remove_access(session: Session, flavor: Flavor, project_id: str) -> None:
    removed = session.execute(sa.delete(FlavorProject).where(
        FlavorProject.flavor_seq == flavor.seq, FlavorProject.project_id == project_id))
    if not getattr(removed, "rowcount", 0):  # a DELETE's result counts its rows
        raise NotFoundError(f"Flavor access not found for {flavor.seq} / {project_id} "
                            "combination.", kind="FlavorAccessNotFound", key="tenant",
                            value=project_id)
