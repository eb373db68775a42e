"""The ASGI application: the four services' routers, the error shapes, the OpenAPI document.

``create_app()`` reads :class:`vmqos.api.settings.Settings` from the environment (or takes
them), opens the database and migrates its schema to the newest version before the first
request. The OpenAPI document is ``GET /openapi.json`` (interactive: ``/docs``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vmqos import __version__
from vmqos.api import (
    compute_flavors,
    compute_hosts,
    compute_misc,
    compute_quotas,
    compute_servers,
    discovery,
    flavor_access,
    identity,
    identity_resources,
    image,
    network_agents,
    network_core,
    network_group_rules,
    network_groups,
    network_qos,
    network_quotas,
    network_subnets,
    server_actions,
    server_metadata,
)
from vmqos.api.context import AppState
from vmqos.api.errors import install_error_handlers
from vmqos.api.guard import RequestGuard
from vmqos.api.nova_names import name_fields
from vmqos.api.settings import Settings
from vmqos.store.db import Database
from vmqos.store.image_data import ImageDataStore

__all__ = ["ROUTERS", "create_app"]

# Every route the service has: create_app mounts these, and the access-matrix test checks
# that each of their routes has a row.
ROUTERS = tuple(module.router for module in (
    identity, identity_resources, discovery, compute_flavors, flavor_access, compute_servers,
    server_actions, server_metadata, compute_misc, compute_quotas, compute_hosts, network_core,
    network_agents, network_groups,
    network_group_rules, network_subnets, network_qos, network_quotas, image))

_DESCRIPTION = """\
OpenStack-compatible subsets of Keystone (`/identity/v3`), Nova (`/compute/v2.1`), Neutron
(`/network/v2.0`) and Glance (`/image/v2`), enough for the unmodified `openstack` client to
create flavors with `quota:*` extra specs, QoS policies and rules, networks, ports and
servers. Each server's compute-node plan is `GET /compute/v2.1/servers/{id}/vmqos-plan`.
Authenticate with `POST /identity/v3/auth/tokens` and send the `X-Subject-Token` you get as
`X-Auth-Token`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        db.migrate()
        yield
        db.dispose()

    app = FastAPI(title="vmqos", version=__version__, description=_DESCRIPTION,
                  lifespan=lifespan)
    app.state.vmqos = AppState(settings=settings, db=db,
                               image_data=ImageDataStore(settings.data_dir / "images"))
    install_error_handlers(app)
    # The guard leaves Nova's name fields to the routes that check them (vmqos.api.nova_names).
    app.add_middleware(RequestGuard, deferred=name_fields(
        route for router in ROUTERS for route in router.routes))
    for router in ROUTERS:
        app.include_router(router)
    return app
