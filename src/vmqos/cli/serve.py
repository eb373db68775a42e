"""``vmqos serve`` (the OpenStack-compatible API) and ``vmqos bootstrap`` (its admin account).

``serve`` runs the ASGI application ``vmqos.api.app:create_app`` under uvicorn, configured
through the ``VMQOS_*`` environment variables it sets from its options (the CLI and the API are
sibling layers and do not import each other; any ASGI server can run the same factory).
``bootstrap`` migrates the database, creates or resets the admin user and project (Keystone's
``keystone-manage bootstrap``) and prints an openrc and a clouds.yaml entry for the unmodified
``openstack`` client.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from vmqos.model import NeutronBackend, VifType
from vmqos.profile import PRESETS

__all__ = ["bootstrap", "render_clouds_yaml", "render_openrc", "serve"]

DEFAULT_PORT = 8080
_APP = "vmqos.api.app:create_app"


def _database_url(db: str | None, data_dir: Path) -> str:
    # The same default as vmqos.store.db.sqlite_url, spelled here so that `vmqos` starts
    # without importing SQLAlchemy (serve and bootstrap import the store when they run).
    return (db or os.environ.get("VMQOS_DATABASE_URL")
            or f"sqlite:///{data_dir.resolve() / 'vmqos.sqlite3'}")


_db_option = click.option("--db", "db", metavar="URL",
                          help="SQLAlchemy database URL, e.g. postgresql+psycopg://u:p@host/db "
                               "(default: SQLite in --data-dir)")
_data_dir_option = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                                default=Path("vmqos-data"), show_default=True,
                                help="directory of the default SQLite database and of image data")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (loopback unless you mean it)")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@_db_option
@_data_dir_option
@click.option("--profile", type=click.Choice(sorted(PRESETS)), default="modern",
              show_default=True, help="compute-node profile of the server plans")
@click.option("--neutron-backend", type=click.Choice(sorted(b.value for b in NeutronBackend)),
              default="ovs",
              show_default=True, help="the QoS driver Neutron loads")
@click.option("--vif-type", type=click.Choice([v.value for v in VifType]),
              default=VifType.OVS_BRIDGE.value, show_default=True,
              help="how ports are plugged (ovs: into br-int; bridge: hybrid qbr)")
@click.option("--token-ttl", type=click.IntRange(1), default=3600, show_default=True,
              help="token lifetime in seconds")
def serve(host: str, port: int, db: str | None, data_dir: Path, profile: str,
          neutron_backend: str, vif_type: str, token_ttl: int) -> None:
    """Serve the OpenStack-compatible API (Keystone, Nova, Neutron, Glance subsets) for the
    unmodified `openstack` client; each server's plan is
    GET /compute/v2.1/servers/{id}/vmqos-plan.

    \b
    Example:
      vmqos bootstrap --output openrc > openrc
      vmqos serve &
      . ./openrc && openstack flavor create --ram 1024 --disk 20 --vcpus 1 m1.normal
    """
    import uvicorn  # noqa: PLC0415 - only `serve` pays for the ASGI server's import

    os.environ.update({
        "VMQOS_DATA_DIR": str(data_dir), "VMQOS_DATABASE_URL": _database_url(db, data_dir),
        "VMQOS_PROFILE": profile, "VMQOS_NEUTRON_BACKEND": neutron_backend,
        "VMQOS_VIF_TYPE": vif_type, "VMQOS_TOKEN_TTL": str(token_ttl)})
    click.echo(f"vmqos serve: http://{host}:{port} (identity /identity/v3, compute "
               f"/compute/v2.1, network /network, image /image; API document /openapi.json)",
               err=True)
    uvicorn.run(_APP, factory=True, host=host, port=port, log_level="warning",
                access_log=False)


def render_openrc(url: str, username: str, password: str, project: str) -> str:
    return "\n".join((
        f"export OS_AUTH_URL={url}/identity/v3",
        f"export OS_USERNAME={username}",
        f"export OS_PASSWORD={password}",
        f"export OS_PROJECT_NAME={project}",
        "export OS_USER_DOMAIN_NAME=Default",
        "export OS_PROJECT_DOMAIN_NAME=Default",
        "export OS_REGION_NAME=RegionOne",
        "export OS_IDENTITY_API_VERSION=3",
        "export OS_INTERFACE=public",
    )) + "\n"


def render_clouds_yaml(cloud: str, url: str, username: str, password: str,
                       project: str) -> str:
    return "\n".join((
        "clouds:",
        f"  {cloud}:",
        "    auth:",
        f"      auth_url: {url}/identity/v3",
        f"      username: {username}",
        f"      password: {password}",
        f"      project_name: {project}",
        "      user_domain_name: Default",
        "      project_domain_name: Default",
        "    region_name: RegionOne",
        "    identity_api_version: 3",
        "    interface: public",
    )) + "\n"


@click.command()
@_db_option
@_data_dir_option
@click.option("--username", default="admin", show_default=True)
@click.option("--password", envvar="VMQOS_ADMIN_PASSWORD",
              help="the admin's password (default: a new random one; env VMQOS_ADMIN_PASSWORD)")
@click.option("--project", default="admin", show_default=True)
@click.option("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True,
              help="where `vmqos serve` listens, as clients reach it")
@click.option("--cloud", "cloud", default="vmqos", show_default=True,
              help="the clouds.yaml entry's name")
@click.option("--output", type=click.Choice(["both", "openrc", "clouds.yaml"]), default="both",
              show_default=True)
def bootstrap(db: str | None, data_dir: Path, username: str, password: str | None,
              project: str, url: str, cloud: str, output: str) -> None:
    """Create the admin user and project (or reset the admin's password) and print an openrc
    and a clouds.yaml entry for the `openstack` client.

    \b
    Examples:
      vmqos bootstrap --output openrc > openrc && . ./openrc
      vmqos bootstrap --output clouds.yaml > ~/.config/openstack/clouds.yaml
      openstack --os-cloud vmqos flavor list
    """
    # Imported here: SQLAlchemy and alembic cost ~1 s that the other commands must not pay.
    from vmqos.store.db import Database  # noqa: PLC0415
    from vmqos.store.identity import ensure_admin  # noqa: PLC0415

    url = url.rstrip("/")
    password = password or secrets.token_urlsafe(18)
    if db is None and not os.environ.get("VMQOS_DATABASE_URL"):
        data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(_database_url(db, data_dir))
    try:
        database.migrate()
        with database.write() as session:
            ensure_admin(session, user=username, password=password, project=project)
    finally:
        database.dispose()
    parts = []
    if output in ("both", "openrc"):
        parts.append(("# openrc: `. ./openrc`, then run openstack commands\n" if output == "both"
                      else "") + render_openrc(url, username, password, project))
    if output in ("both", "clouds.yaml"):
        parts.append(("# clouds.yaml entry (~/.config/openstack/clouds.yaml)\n"
                      if output == "both" else "")
                     + render_clouds_yaml(cloud, url, username, password, project))
    click.echo("\n".join(parts), nl=False)
