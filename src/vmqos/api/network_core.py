"""Neutron networks, ports, security groups and extensions (``/network/v2.0``).

* Networks: members create tenant networks (``VMQOS_NEUTRON_BACKEND`` ovn: Geneve, else
  VXLAN); provider attributes (VLAN/flat on a physical network, as the seed's
  ``mplane_vlan11``) are admin-only. A network created without ``qos_policy_id`` gets the
  project's default QoS policy (``qos-default``).
* Both count against the project's Neutron quota (409 ``OverQuota``,
  :func:`vmqos.api.network_quotas.enforce`), after the body and the policy are checked.
* Ports: ``qos_policy_id`` must name a policy the caller can see (else 404
  ``QosPolicyNotFound``) whose rules the backend's driver accepts (else 409
  ``QosRuleNotSupported``, :func:`vmqos.intent.neutron.capabilities.check_rule_supported`);
  ``qos_network_policy_id`` shows the network's policy on every port.

Security groups and extensions are in :mod:`vmqos.api.network_groups`.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from vmqos.api import network_schemas as schemas
from vmqos.api import server_placement
from vmqos.api.context import app_state, caller, neutron_forbidden, require_member
from vmqos.api.errors import ApiError
from vmqos.api.network_quotas import enforce
from vmqos.api.network_views import network_view, port_view
from vmqos.api.neutron_attrs import NETWORK, PORT, parse_body
from vmqos.errors import ConflictError, NotFoundError, ValidationError
from vmqos.intent.neutron.capabilities import check_rule_supported
from vmqos.model import NeutronBackend
from vmqos.profile import get_profile
from vmqos.store import network, qos
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Network, Port, QosPolicy, SecurityGroup, Server, Subnet

__all__ = ["filters_of", "owned", "router"]

router = APIRouter(prefix="/network/v2.0", tags=["network"])
Caller = Annotated[TokenInfo, Depends(caller)]

class NetworkBody(BaseModel):
    network: dict[str, Any]


class PortBody(BaseModel):
    port: dict[str, Any]


def filters_of(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in request.query_params.items():
        column = "project_id" if key == "tenant_id" else key
        if column not in allowed:
            continue
        if value.lower() in ("true", "false") and column in ("shared", "admin_state_up"):
            out[column] = value.lower() == "true"
        else:
            out[column] = value
    return out


def _check_policy_for(session: Session, who: TokenInfo, policy_id: str, backend: NeutronBackend, *,
                      port_id: str | None = None, network_id: str | None = None) -> None:
    row = qos.get_policy(session, policy_id, who)
    for rule in qos.policy_value(session, row).rules:
        check_rule_supported(backend, rule, port_id=port_id, network_id=network_id)


def _check_policy_removal(session: Session, who: TokenInfo, current: str | None,
                          values: dict[str, Any]) -> None:
    """Replacing or clearing a policy the caller cannot see (an admin attached another
    project's non-shared policy) is ``PolicyRemoveAuthorizationError`` (403)."""
    if "qos_policy_id" not in values or not current or values["qos_policy_id"] == current:
        return
    try:
        qos.get_policy(session, current, who)
    except NotFoundError:
        raise ApiError(403, f"Failed to remove provided policy {current} because you are not "
                            "authorized.", kind="PolicyRemoveAuthorizationError") from None


def _subnet_ids(session: Session, networks: list[Network]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.id: [] for n in networks}
    rows = session.execute(sa.select(Subnet.network_id, Subnet.id).where(
        Subnet.network_id.in_(list(out))).order_by(Subnet.created_at, Subnet.id))
    for network_id, subnet_id in rows:
        out[network_id].append(subnet_id)
    return out


def _network_views(session: Session, rows: list[Network],
                   who: TokenInfo) -> list[schemas.Network]:
    subnets = _subnet_ids(session, rows)
    return [network_view(n, who, subnets[n.id]) for n in rows]


# --- networks ---------------------------------------------------------------------------------

_PROVIDER_ERRORS = {
    ("vlan", "physnet"): "physical_network required for VLAN provider network",
    ("flat", "physnet"): "physical_network required for flat provider network",
    ("flat", "segment"): "segmentation_id specified for flat network",
}


def _segment(values: dict[str, Any], backend: NeutronBackend) -> tuple[str, str, int | None]:
    tenant_type = backend.tenant_network_type
    network_type = values.pop("provider:network_type", None) or tenant_type
    physnet = values.pop("provider:physical_network", None) or ""
    segment = values.pop("provider:segmentation_id", None)

    def bad(reason: str) -> ValidationError:
        return ValidationError(f"Invalid input for operation: {reason}.",
                               key="provider:network_type", value=network_type)

    if network_type in ("vlan", "flat") and not physnet:
        raise bad(_PROVIDER_ERRORS[(network_type, "physnet")])
    if network_type == "flat" and segment is not None:
        raise bad(_PROVIDER_ERRORS[("flat", "segment")])
    if network_type not in ("vlan", "flat") and physnet:
        raise bad(f"provider:physical_network specified for {network_type.upper()} network")
    if network_type == "vlan" and segment is not None and not 1 <= segment <= 4094:
        raise bad("segmentation_id out of range (1 through 4094)")
    return network_type, physnet, segment


def _network_columns(values: dict[str, Any]) -> dict[str, Any]:
    renames = {"router:external": "router_external"}
    keep = ("description", "admin_state_up", "shared", "router:external",
            "port_security_enabled", "qos_policy_id")
    return {renames.get(k, k): v for k, v in values.items() if k in keep}


def _default_policy(session: Session, project_id: str) -> str | None:
    return session.scalar(sa.select(QosPolicy.id).where(
        QosPolicy.project_id == project_id, QosPolicy.is_default.is_(True)))


@router.get("/networks", summary="List networks", response_model_exclude_unset=True)
def list_networks(request: Request, who: Caller) -> schemas.NetworkList:
    filters = filters_of(request, ("id", "name", "project_id", "shared", "admin_state_up"))
    with app_state(request).db.read() as session:
        return schemas.NetworkList(networks=_network_views(
            session, list(network.list_networks(session, who, filters)), who))


@router.post("/networks", status_code=201, summary="Create a network",
             response_model_exclude_unset=True)
def create_network(body: NetworkBody, request: Request, who: Caller) -> schemas.NetworkResponse:
    require_member(who, neutron_forbidden("create_network"))
    values = parse_body("network", body.network, NETWORK, post=True, who=who)
    state = app_state(request)
    backend = state.settings.neutron_backend
    network_type, physnet, segment = _segment(values, backend)
    project_id = values.pop("project_id", None) or values.pop("tenant_id", None) \
        or who.project_id
    with state.db.write() as session:
        enforce(session, project_id, network=1)
        if values.get("qos_policy_id"):
            qos.get_policy(session, values["qos_policy_id"], who)  # 404 before any write
        else:
            values["qos_policy_id"] = _default_policy(session, project_id)
        row = network.create_network(
            session, project_id=project_id, name=values.get("name", ""),
            network_type=network_type, physical_network=physnet, segmentation_id=segment,
            mtu=values.get("mtu"), values=_network_columns(values))
        if row.qos_policy_id:  # a refusal rolls the creation back
            _check_policy_for(session, who, row.qos_policy_id, backend, network_id=row.id)
        return schemas.NetworkResponse(network=network_view(row, who))


@router.get("/networks/{network_id}", summary="Show a network",
            response_model_exclude_unset=True)
def show_network(network_id: str, request: Request, who: Caller) -> schemas.NetworkResponse:
    with app_state(request).db.read() as session:
        row = network.get_network(session, network_id, who)
        return schemas.NetworkResponse(network=_network_views(session, [row], who)[0])


def owned(row: Network | Port | SecurityGroup, who: TokenInfo, action: str) -> None:
    if not who.is_admin and (row.project_id != who.project_id or "member" not in who.roles):
        raise neutron_forbidden(action)


@router.put("/networks/{network_id}", summary="Update a network",
            response_model_exclude_unset=True)
def update_network(network_id: str, body: NetworkBody, request: Request,
                   who: Caller) -> schemas.NetworkResponse:
    values = parse_body("network", body.network, NETWORK, post=False, who=who)
    state = app_state(request)
    with state.db.write() as session:
        row = network.get_network(session, network_id, who)
        owned(row, who, "update_network")
        _check_policy_removal(session, who, row.qos_policy_id, values)
        if values.get("qos_policy_id"):
            _check_policy_for(session, who, values["qos_policy_id"],
                              state.settings.neutron_backend, network_id=row.id)
        if values.get("shared") is False and row.shared and session.scalar(
                sa.select(Port.id).where(Port.network_id == row.id,
                                         Port.project_id != row.project_id).limit(1)):
            raise ConflictError(f"Unable to reconfigure sharing settings for network "
                                f"{row.id}. Multiple tenants are using it.",
                                kind="InvalidSharedSetting", key="shared", value=False)
        for key, value in _network_columns(values).items():
            setattr(row, key, value)
        if "name" in values:
            row.name = values["name"]
        if "mtu" in values:
            row.mtu = values["mtu"]
        network.touch(row)
        return schemas.NetworkResponse(network=_network_views(session, [row], who)[0])


@router.delete("/networks/{network_id}", status_code=204, summary="Delete a network")
def delete_network(network_id: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        row = network.get_network(session, network_id, who)
        owned(row, who, "delete_network")
        if session.scalar(sa.select(Port.id).where(Port.network_id == row.id).limit(1)):
            raise ConflictError(f"Unable to complete operation on network {row.id}. There "
                                "are one or more ports still in use on the network.",
                                kind="NetworkInUse", key="network_id", value=row.id)
        session.execute(sa.delete(Subnet).where(Subnet.network_id == row.id))
        session.delete(row)
    return Response(status_code=204)


# --- ports ------------------------------------------------------------------------------------


def _port_view(session: Session, row: Port, who: TokenInfo) -> schemas.Port:
    net = session.get(Network, row.network_id)
    view = port_view(row, who, net.qos_policy_id if net else None)
    if who.is_admin:  # extension port-resource-request-groups; admin-only by Neutron's policy
        request = server_placement.port_request(session, row)
        view.resource_request = request.as_json() if request else None  # type: ignore[assignment]
    return view


def _port_groups(session: Session, who: TokenInfo, project_id: str,
                 ids: list[str] | None) -> list[str]:
    if ids is None:
        return [network.default_security_group(session, project_id).id]
    for sg_id in ids:
        network.get_security_group(session, sg_id, who)
    return ids


@router.get("/ports", summary="List ports", response_model_exclude_unset=True)
def list_ports(request: Request, who: Caller) -> schemas.PortList:
    filters = filters_of(request, ("id", "name", "network_id", "device_id", "device_owner",
                                 "project_id", "mac_address", "status"))
    with app_state(request).db.read() as session:
        return schemas.PortList(ports=[_port_view(session, p, who)
                                       for p in network.list_ports(session, who, filters)])


@router.post("/ports", status_code=201, summary="Create a port",
             response_model_exclude_unset=True)
def create_port(body: PortBody, request: Request, who: Caller) -> schemas.PortResponse:
    require_member(who, neutron_forbidden("create_port"))
    values = parse_body("port", body.port, PORT, post=True, who=who)
    state = app_state(request)
    with state.db.write() as session:
        net = network.get_network(session, values.pop("network_id"), who)
        network_owner = who.is_admin or net.project_id == who.project_id
        for attr in ("mac_address", "fixed_ips"):
            if values.get(attr) and not network_owner:
                raise neutron_forbidden(f"create_port:{attr}")
        if values.pop("fixed_ips", None):
            raise ValidationError(f"Invalid input for operation: network {net.id} has no "
                                  "subnet to allocate fixed IPs from.", key="fixed_ips",
                                  value=None)
        project_id = values.pop("project_id", None) or values.pop("tenant_id", None) \
            or who.project_id
        enforce(session, project_id, port=1)
        security = values.get("port_security_enabled", net.port_security_enabled)
        groups = _port_groups(session, who, project_id, values.pop("security_groups", None)) \
            if security else []
        if values.get("qos_policy_id"):
            qos.get_policy(session, values["qos_policy_id"], who)  # 404 before any write
        columns = {"name": values.get("name", ""), "description": values.get("description", ""),
                   "admin_state_up": values.get("admin_state_up", True),
                   "device_id": values.get("device_id", ""),
                   "device_owner": values.get("device_owner", ""),
                   "vnic_type": values.get("binding:vnic_type", "normal"),
                   "host_id": values.get("binding:host_id", ""),
                   "profile": values.get("binding:profile", {}),
                   "qos_policy_id": values.get("qos_policy_id"),
                   "security_group_ids": groups, "port_security_enabled": security}
        row = network.create_port(session, network=net, project_id=project_id,
                                  mac_address=values.get("mac_address"), values=columns)
        if row.qos_policy_id:
            _check_policy_for(session, who, row.qos_policy_id, state.settings.neutron_backend,
                              port_id=row.id)
        return schemas.PortResponse(port=_port_view(session, row, who))


@router.get("/ports/{port_id}", summary="Show a port", response_model_exclude_unset=True)
def show_port(port_id: str, request: Request, who: Caller) -> schemas.PortResponse:
    with app_state(request).db.read() as session:
        return schemas.PortResponse(
            port=_port_view(session, network.get_port(session, port_id, who), who))


@router.put("/ports/{port_id}", summary="Update a port", response_model_exclude_unset=True)
def update_port(port_id: str, body: PortBody, request: Request,
                who: Caller) -> schemas.PortResponse:
    values = parse_body("port", body.port, PORT, post=False, who=who)
    state = app_state(request)
    with state.db.write() as session:
        row = network.get_port(session, port_id, who)
        owned(row, who, "update_port")
        _check_policy_removal(session, who, row.qos_policy_id, values)
        if values.get("qos_policy_id"):
            _check_policy_for(session, who, values["qos_policy_id"],
                              state.settings.neutron_backend, port_id=row.id)
        if "qos_policy_id" in values and get_profile(
                state.settings.profile).placement_guarantees:
            server_placement.move_allocation(session, row, values["qos_policy_id"])
        if values.pop("fixed_ips", None):
            raise ValidationError(f"Invalid input for operation: network {row.network_id} has "
                                  "no subnet to allocate fixed IPs from.", key="fixed_ips",
                                  value=None)
        if "security_groups" in values:
            row.security_group_ids = _port_groups(session, who, row.project_id,
                                                  values.pop("security_groups"))
        renames = {"binding:vnic_type": "vnic_type", "binding:host_id": "host_id",
                   "binding:profile": "profile"}
        for key, value in values.items():
            column = renames.get(key, key)
            if hasattr(Port, column) and column not in ("id", "project_id", "network_id"):
                setattr(row, column, value)
        network.touch(row)
        return schemas.PortResponse(port=_port_view(session, row, who))


@router.delete("/ports/{port_id}", status_code=204, summary="Delete a port")
def delete_port(port_id: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        row = network.get_port(session, port_id, who)
        owned(row, who, "delete_port")
        if row.device_id:
            # Nova hears "network-vif-deleted" and detaches the interface from the server.
            server = session.scalar(sa.select(Server).where(Server.id == row.device_id))
            if server is not None:
                server.port_ids = [p for p in server.port_ids if p != row.id]
        session.delete(row)
    return Response(status_code=204)
