"""Nova servers (``/compute/v2.1/servers``), and each server's plan (``.../vmqos-plan``).

Creating a server does in one transaction what Nova, Neutron and the compute node would do:
check the names (Nova's rule, :mod:`vmqos.api.nova_names`), the flavor, image, key pair,
availability zone and security groups (Nova's 400/409 messages); create a port per requested
network (``device_owner`` ``compute:<zone>``) or bind the requested ports; bind them as the ML2
mechanism driver would (``binding:vif_type`` from ``VMQOS_VIF_TYPE``, or ``hw_veb`` for SR-IOV
vnic types); then compile the server's plan with the core. A plan that compiles makes the
server ``ACTIVE`` at once (``--wait`` returns on its first poll); a flavor Nova accepted below
microversion 2.86 that the compute node cannot use makes it ``ERROR`` with the validation
message as its fault, as a failed spawn does.

Policies: ``member`` creates and deletes in its own project; readers read; another project's
servers are "not found"; admins see all (``all_tenants`` lists them).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from vmqos.api import compute_quotas, server_list_scope, server_placement
from vmqos.api import compute_schemas as schemas
from vmqos.api.compute_flavors import visible_flavor
from vmqos.api.context import app_state, caller, nova_forbidden, require_member
from vmqos.api.errors import ApiError, shown_value
from vmqos.api.identity import root_url
from vmqos.api.microversion import Microversion, nova_microversion
from vmqos.api.nova_names import NovaDescription, NovaMetadata, NovaName, OptionalNovaName
from vmqos.api.plan_view import plan_json, server_plan
from vmqos.api.server_views import POWER_RUNNING, links, server_view
from vmqos.api.settings import Settings
from vmqos.errors import IntentError, NotFoundError
from vmqos.intent.scheduling import NO_VALID_HOST
from vmqos.plan.server_plan import render_server_plan_text
from vmqos.store import compute, hosts, images, network
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Network, Port, SecurityGroup, Server, utcnow
from vmqos.store.scenario import binding_of, flavor_snapshot

__all__ = ["router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])
Caller = Annotated[TokenInfo, Depends(caller)]
Version = Annotated[Microversion, Depends(nova_microversion)]


class SecurityGroupRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: OptionalNovaName = None   # a group's name or id (Nova passes either to Neutron)


class ServerCreate(BaseModel):
    # Fields in the order of Nova's schema (schemas/servers.py create and its microversion
    # additions): the first failing one is the one reported.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, regex_engine="python-re")
    name: NovaName
    imageRef: str = ""
    flavorRef: str | int
    adminPass: str | None = None
    metadata: NovaMetadata = None
    networks: list[dict[str, Any]] | str | None = None
    disk_config: str | None = Field(default=None, alias="OS-DCF:diskConfig")
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    availability_zone: OptionalNovaName = None
    block_device_mapping_v2: list[dict[str, Any]] | None = None
    config_drive: bool | str | None = None
    key_name: OptionalNovaName = None
    min_count: int = Field(default=1, ge=1, le=1)
    max_count: int = Field(default=1, ge=1, le=1)
    return_reservation_id: bool | None = None
    security_groups: list[SecurityGroupRef] | None = None
    user_data: str | None = None
    description: NovaDescription = None   # from 2.19 (_check_since)
    tags: list[str] | None = None
    hostname: str | None = None


class ServerCreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, regex_engine="python-re")
    server: ServerCreate
    scheduler_hints: dict[str, Any] | None = Field(default=None, alias="os:scheduler_hints")


# Fields of the server create and update schemas that later microversions add
# (schemas/servers.py create_v219 / update_v219, create_v290 / update_v290).
_SINCE = (("description", "2.19"), ("hostname", "2.90"))


def _check_since(data: BaseModel, mv: Microversion) -> None:
    """Before the microversion that adds it, a field is an additional property of
    ``server``."""
    for field, since in _SINCE:
        if field in data.model_fields_set and not mv.at_least(since):
            given = data.model_dump(exclude_unset=True, by_alias=True)
            raise ApiError(400, f"Invalid input for field/attribute server. Value: "
                                f"{shown_value(given)}. "
                                f"Additional properties are not allowed ('{field}' was "
                                "unexpected)")


def _last_segment(ref: str | int) -> str:
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


def _security_groups(session: Session, who: TokenInfo,
                     refs: list[SecurityGroupRef] | None) -> list[SecurityGroup]:
    if not refs:
        return [network.default_security_group(session, who.project_id)]
    groups = []
    for ref in refs:
        name = ref.name or ""
        group = session.scalar(sa.select(SecurityGroup).where(
            SecurityGroup.project_id == who.project_id,
            sa.or_(SecurityGroup.id == name, SecurityGroup.name == name)))
        if group is None and name == "default":
            group = network.default_security_group(session, who.project_id)
        if group is None:
            raise ApiError(400, f"Security group {name} not found for project "
                                f"{who.project_id}.")
        groups.append(group)
    return groups


def _requested_networks(session: Session, who: TokenInfo, requested: Any,
                        mv: Microversion) -> list[tuple[Network | None, Port | None]]:
    """``(network, None)`` for a port to create, ``(None, port)`` for a port to bind."""
    if requested == "none":
        return []
    if requested is None or requested == "auto":
        visible = network.list_networks(session, who, {})
        if requested is None and mv.at_least("2.37"):
            raise ApiError(400, "Invalid input for field/attribute server. 'networks' is a "
                                "required property")
        if len(visible) > 1:
            raise ApiError(409, "Multiple possible networks found, use a Network ID to be "
                                "more specific.")
        if requested == "auto" and not visible:
            raise ApiError(400, f"Unable to automatically allocate a network for project "
                                f"{who.project_id}")
        return [(n, None) for n in visible]
    if not isinstance(requested, list):
        raise ApiError(400, "Invalid input for field/attribute networks. Value: "
                            f"{requested}. '{requested}' is not one of ['none', 'auto']")
    out: list[tuple[Network | None, Port | None]] = []
    for item in requested:
        if item.get("port"):
            try:
                port = network.get_port(session, str(item["port"]), who)
            except NotFoundError:
                raise ApiError(400, f"Port id {item['port']} not found.") from None
            if port.device_id:
                raise ApiError(409, f"Port {port.id} is still in use.")
            out.append((None, port))
        elif item.get("uuid"):
            try:
                out.append((network.get_network(session, str(item["uuid"]), who), None))
            except NotFoundError:
                raise ApiError(400, f"Network {item['uuid']} could not be found.") from None
        else:
            raise ApiError(400, f"Bad networks format: network uuid is not in proper format "
                                f"({item})")
    return out


def _attach(session: Session, settings: Settings, who: TokenInfo, server: Server,
            wanted: list[tuple[Network | None, Port | None]],
            groups: list[SecurityGroup]) -> list[Port]:
    owner = f"compute:{server.availability_zone}"
    ports = []
    for net, given in wanted:
        port = given
        if port is None:
            assert net is not None
            port = network.create_port(session, network=net, project_id=who.project_id,
                                       mac_address=None, values={
                                           "security_group_ids": [g.id for g in groups]})
            server.created_ports = [*server.created_ports, port.id]
        vif_type, details = binding_of(settings.vif_type, port.vnic_type, port.id,
                                      port.profile)
        port.device_id, port.device_owner = server.id, owner
        port.host_id, port.vif_type, port.vif_details = (server.host or settings.host,
                                                         vif_type, details)
        port.status = "ACTIVE"
        network.touch(port)
        ports.append(port)
    return ports


def _extras(session: Session, rows: Sequence[Server]) -> tuple[dict[str, list[Port]],
                                                               dict[str, Network],
                                                               dict[str, str]]:
    wanted = {p for row in rows for p in row.port_ids}
    ports = {p.id: p for p in session.scalars(sa.select(Port).where(Port.id.in_(wanted)))}
    by_server = {row.id: [ports[p] for p in row.port_ids if p in ports] for row in rows}
    networks = {n.id: n for n in session.scalars(sa.select(Network).where(
        Network.id.in_({p.network_id for p in ports.values()})))}
    sgs = {g.id: g.name for g in session.scalars(sa.select(SecurityGroup).where(
        SecurityGroup.id.in_({s for p in ports.values() for s in p.security_group_ids})))}
    return by_server, networks, sgs


def _views(session: Session, rows: Sequence[Server], mv: Microversion, who: TokenInfo,
           request: Request) -> list[schemas.Server]:
    by_server, networks, sgs = _extras(session, rows)
    host = app_state(request).settings.host
    return [server_view(row, mv, who, request, ports=by_server[row.id], networks=networks,
                        sg_names=sgs, host=host) for row in rows]


@router.post("/servers", status_code=202, summary="Create a server")
def create_server(body: ServerCreateBody, request: Request, response: Response, who: Caller,
                  mv: Version) -> schemas.ServerCreatedResponse:
    data = body.server
    _check_since(data, mv)
    require_member(who, nova_forbidden("os_compute_api:servers:create"))
    state = app_state(request)
    with state.db.write() as session:
        try:  # servers.py create: a flavor the caller cannot see is FlavorNotFound, 400
            flavor = visible_flavor(session, _last_segment(data.flavorRef), who)
        except NotFoundError as missing:
            raise ApiError(400, missing.message) from None
        image_id = _last_segment(data.imageRef) if data.imageRef else ""
        if not image_id:
            raise ApiError(400, "Block Device Mapping is Invalid: Boot sequence for the "
                                "instance and image/block device mapping combination is not "
                                "valid.")
        try:
            image = images.get_image(session, image_id, who)
        except NotFoundError:
            raise ApiError(400, f"Image {image_id} could not be found.") from None
        if image.status != "active":
            raise ApiError(400, f"Image {image_id} is not active.")
        if data.key_name is not None:
            try:
                compute.get_keypair(session, who.user_id, data.key_name)
            except NotFoundError:
                raise ApiError(400, "Invalid key_name provided.") from None
        zone = data.availability_zone or compute.DEFAULT_ZONE
        zones = hosts.zones(session, state.settings.host)
        if data.availability_zone is not None and zone not in zones:
            raise ApiError(400, "The requested availability zone is not available")
        groups = _security_groups(session, who, data.security_groups)
        wanted = _requested_networks(session, who, data.networks, mv)
        compute_quotas.enforce_server_create(session, who, flavor, data.metadata, wanted)
        now = utcnow()
        server = Server(id=str(uuid.uuid4()), name=data.name, project_id=who.project_id,
                        user_id=who.user_id, image_id=image.id, key_name=data.key_name,
                        availability_zone=zone, status="BUILD", vm_state="building",
                        power_state=0, port_ids=[], created_ports=[],
                        metadata_=dict(data.metadata or {}), description=data.description,
                        created_at=now, updated_at=now,
                        flavor=flavor_snapshot(flavor.id, flavor.name, flavor.vcpus,
                                               flavor.ram, flavor.disk, flavor.swap,
                                               flavor.ephemeral, flavor.extra_specs))
        session.add(server)
        session.flush()
        scheduled, allocation = server_placement.schedule(
            session, flavor, [port for _, port in wanted if port is not None],
            profile=state.settings.profile,
            only=zones[zone] if data.availability_zone is not None else None)
        if scheduled and allocation is None:
            # The conductor's NoValidHost: the server is in ERROR, no port was bound.
            server.status, server.vm_state, server.host = "ERROR", "error", ""
            server.fault = {"code": 500, "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "message": NO_VALID_HOST}
            return _created(request, response, server, groups, data.adminPass)
        if allocation is not None:
            server.host = allocation.host
            server.allocations = [list(item) for item in allocation.resources]
            # Without a requested zone the server takes its host's (conductor
            # _schedule_instances: instance.availability_zone from the selected host).
            server.availability_zone = next(z for z, members in zones.items()
                                            if allocation.host in members)
        server.port_ids = [p.id for p in _attach(session, state.settings, who, server, wanted,
                                                 groups)]
        if allocation is not None:
            server_placement.record_port_allocations(session, allocation)
        try:
            server_plan(session, server, backend=state.settings.neutron_backend,
                        profile=state.settings.profile)
        except IntentError as exc:
            server.status, server.vm_state = "ERROR", "error"
            server.fault = {"code": 500, "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "message": exc.message}
        else:
            server.status, server.vm_state, server.power_state = ("ACTIVE", "active",
                                                                  POWER_RUNNING)
            server.launched_at = utcnow()
        return _created(request, response, server, groups, data.adminPass)


def _created(request: Request, response: Response, server: Server,
             groups: list[SecurityGroup], admin_pass: str | None,
             ) -> schemas.ServerCreatedResponse:
    names = sorted({g.name or g.id for g in groups})
    response.headers["Location"] = f"{root_url(request)}/compute/v2.1/servers/{server.id}"
    return schemas.ServerCreatedResponse(server=schemas.ServerCreated(
        id=server.id, disk_config="MANUAL", links=links(request, "servers", server.id),
        security_groups=[schemas.SecurityGroupName(name=n) for n in names],
        adminPass=admin_pass or secrets.token_urlsafe(9)))


def _listed(session: Session, who: TokenInfo, params: dict[str, Any], *,
            detail: bool, builtin: str) -> list[Server]:
    """The servers ``GET /servers`` shows for the query's filters, in Nova's order."""
    all_tenants = server_list_scope.all_tenants(who, params, detail=detail)
    project_filter = params.get("project_id") or params.get("tenant_id")
    project: str | None = None if all_tenants else who.project_id
    if all_tenants and project_filter:
        project = str(project_filter)
    filters = {"status": params.get("status"), "image_id": params.get("image"),
               "availability_zone": params.get("availability_zone"),
               "key_name": params.get("key_name")}
    if filters["status"]:
        filters["status"] = str(filters["status"]).upper()
    rows = list(compute.list_servers(session, project_id=project, filters=filters))
    name = params.get("name")
    if name:
        # Nova matches ``name`` as a regular expression (a literal if it is not one).
        try:
            pattern = re.compile(str(name))
            rows = [r for r in rows if pattern.search(r.name)]
        except re.error:
            rows = [r for r in rows if str(name) in r.name]
    if params.get("flavor"):
        try:  # compute/api.py get_all _remap_flavor_filter: a flavor not seen matches nothing
            visible_flavor(session, str(params["flavor"]), who)
        except NotFoundError:
            return []
        rows = [r for r in rows if r.flavor["id"] == params["flavor"]]
    # ``host`` and ``node`` are admin-only filters; Nova drops them for others
    # (servers.py _get_servers: remove_invalid_options).
    for key in ("host", "node") if who.is_admin else ():
        if params.get(key):
            rows = [r for r in rows if (builtin if r.host is None else r.host) == params[key]]
    return rows


@router.get("/servers", summary="List servers")
def list_servers(request: Request, who: Caller, mv: Version) -> schemas.ServerSummaryList:
    with app_state(request).db.read() as session:
        rows = _listed(session, who, dict(request.query_params), detail=False,
                       builtin=app_state(request).settings.host)
        return schemas.ServerSummaryList(servers=[schemas.ServerSummary(
            id=r.id, name=r.name, links=links(request, "servers", r.id)) for r in rows])


@router.get("/servers/detail", summary="List servers with details",
            response_model_exclude_unset=True)
def list_servers_detail(request: Request, who: Caller, mv: Version) -> schemas.ServerList:
    with app_state(request).db.read() as session:
        rows = _listed(session, who, dict(request.query_params), detail=True,
                       builtin=app_state(request).settings.host)
        return schemas.ServerList(servers=_views(session, rows, mv, who, request))


def _owner_scope(who: TokenInfo) -> str | None:
    return None if who.is_admin else who.project_id


@router.get("/servers/{server_id}", summary="Show a server", response_model_exclude_unset=True)
def show_server(server_id: str, request: Request, who: Caller,
                mv: Version) -> schemas.ServerResponse:
    with app_state(request).db.read() as session:
        row = compute.get_server(session, server_id, project_id=_owner_scope(who))
        return schemas.ServerResponse(server=_views(session, [row], mv, who, request)[0])


class ServerUpdate(BaseModel):
    # nova/api/openstack/compute/schemas/servers.py ``update`` (``description`` from 2.19,
    # ``hostname`` from 2.90); vmqos keeps the name and the description.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, regex_engine="python-re")
    name: OptionalNovaName = None
    disk_config: Literal["AUTO", "MANUAL"] | None = Field(default=None,
                                                          alias="OS-DCF:diskConfig")
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    description: NovaDescription = None
    hostname: str | None = None


class ServerUpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    server: ServerUpdate


@router.put("/servers/{server_id}", summary="Update a server (name, description)",
            response_model_exclude_unset=True)
def update_server(server_id: str, body: ServerUpdateBody, request: Request, who: Caller,
                  mv: Version) -> schemas.ServerResponse:
    """``openstack server set --name/--description``: Nova's ``ServersController.update``."""
    data = body.server
    _check_since(data, mv)
    with app_state(request).db.write() as session:
        row = compute.get_server(session, server_id, project_id=_owner_scope(who))
        require_member(who, nova_forbidden("os_compute_api:servers:update"))
        if data.name is not None:
            row.name = data.name
        if "description" in data.model_fields_set:
            row.description = data.description  # null removes it
        row.updated_at = utcnow()
        session.flush()
        return schemas.ServerResponse(server=_views(session, [row], mv, who, request)[0])


@router.delete("/servers/{server_id}", status_code=204, summary="Delete a server")
def delete_server(server_id: str, request: Request, who: Caller, mv: Version) -> Response:
    with app_state(request).db.write() as session:
        row = compute.get_server(session, server_id, project_id=_owner_scope(who))
        require_member(who, nova_forbidden("os_compute_api:servers:delete"))
        created = set(row.created_ports)
        for port in session.scalars(sa.select(Port).where(Port.id.in_(list(row.port_ids)))):
            if port.id in created:
                session.delete(port)
            else:  # a port the user made survives its server, unbound
                port.device_id, port.device_owner, port.host_id = "", "", ""
                port.vif_type, port.vif_details, port.status = "unbound", {}, "DOWN"
                # Nova releases the port's allocation with the server's.
                port.profile = {k: v for k, v in port.profile.items() if k != "allocation"}
                network.touch(port)
        session.delete(row)
    return Response(status_code=204)


@router.get("/servers/{server_id}/os-interface", summary="A server's port interfaces",
            response_model_exclude_unset=True)
def list_interfaces(server_id: str, request: Request, who: Caller,
                    mv: Version) -> schemas.InterfaceAttachmentList:
    with app_state(request).db.read() as session:
        row = compute.get_server(session, server_id, project_id=_owner_scope(who))
        by_server, _networks, _sgs = _extras(session, [row])
        return schemas.InterfaceAttachmentList(interfaceAttachments=[
            _interface(p, mv) for p in by_server[row.id]])


def _interface(port: Port, mv: Microversion) -> schemas.InterfaceAttachment:
    view = schemas.InterfaceAttachment(
        port_state=port.status, port_id=port.id, net_id=port.network_id,
        mac_addr=port.mac_address,
        fixed_ips=[schemas.InterfaceFixedIp(subnet_id=f.get("subnet_id"),
                                            ip_address=f["ip_address"])
                   for f in port.fixed_ips])
    if mv.at_least("2.70"):
        view.tag = None
    return view


@router.get("/servers/{server_id}/vmqos-plan", response_model=schemas.PlanResponse,
            summary="The server's compute-node plan (vmqos)")
def get_plan(server_id: str, request: Request, who: Caller, mv: Version,
             format: str = "json") -> schemas.PlanResponse | PlainTextResponse:
    """Every artifact the compute node produces for the server: libvirt domain XML, QEMU
    throttling, cgroup writes, libvirt's tc or ovs-vsctl program, ``tc show`` and the Neutron
    agent's commands per port. ``?format=text`` gives ``vmqos plan``'s text."""
    if format not in ("json", "text"):
        raise ApiError(400, f"Invalid format {format!r}: use json or text")
    state = app_state(request)
    with state.db.read() as session:
        row = compute.get_server(session, server_id, project_id=_owner_scope(who))
        try:
            plan = server_plan(session, row, backend=state.settings.neutron_backend,
                               profile=state.settings.profile)
        except IntentError as exc:
            raise ApiError(409, f"Server {server_id} has no plan: {exc.message}") from exc
    if format == "text":
        return PlainTextResponse(render_server_plan_text(plan))
    return schemas.PlanResponse(plan=plan_json(plan))
