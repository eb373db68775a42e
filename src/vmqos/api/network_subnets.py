"""Neutron subnets (``/network/v2.0/subnets``): what gives ports, and so servers, addresses.

``openstack subnet create --network mplane_vlan11 --subnet-range 10.11.0.0/24 NAME`` makes
every later port on the network take an address (:mod:`vmqos.store.subnets`), which Nova then
shows as the server's ``addresses`` (``mplane_vlan11=10.11.0.3``, as in the seed's tables).
Checks and messages are Neutron's: the CIDR must be a network address of ``ip_version``
(``'10.0.0.1/24' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended``), the
gateway and pools inside it, subnets of one network may not overlap, and a subnet with
allocated addresses is ``SubnetInUse``. Members create subnets on their own networks.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from vmqos.api import network_schemas as schemas
from vmqos.api.context import app_state, caller, neutron_forbidden, require_member
from vmqos.api.network_core import filters_of, owned
from vmqos.api.network_quotas import enforce
from vmqos.api.network_views import subnet_view
from vmqos.api.neutron_attrs import Attr, Kind, parse_body
from vmqos.errors import ConflictError, ValidationError
from vmqos.store import network, subnets
from vmqos.store.identity import TokenInfo
from vmqos.store.models import IpAllocation

__all__ = ["router"]

router = APIRouter(prefix="/network/v2.0", tags=["network"])
Caller = Annotated[TokenInfo, Depends(caller)]

SUBNET = {a.name: a for a in (
    Attr("id", Kind.STRING, post=False, put=False), Attr("name", Kind.NAME),
    Attr("description", Kind.STRING), Attr("tenant_id", Kind.STRING, put=False),
    Attr("project_id", Kind.STRING, put=False),
    Attr("network_id", Kind.UUID_OR_NONE, required=True, put=False),
    Attr("ip_version", Kind.INT, put=False, low=4, high=6),
    Attr("cidr", Kind.STRING, required=True, put=False, max_len=64),
    Attr("gateway_ip", Kind.STRING, max_len=64), Attr("allocation_pools", Kind.LIST),
    Attr("enable_dhcp", Kind.BOOL), Attr("dns_nameservers", Kind.LIST),
    Attr("host_routes", Kind.LIST),
)}


class SubnetBody(BaseModel):
    subnet: dict[str, Any]


def _invalid(attr: str, reason: str, value: object) -> ValidationError:
    return ValidationError(f"Invalid input for {attr}. Reason: {reason}.", key=attr,
                           value=value)


def _network_of(cidr: str, version: int | None) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise _invalid("cidr", f"'{cidr}' is not a valid IP subnet", cidr) from None
    if str(net) != cidr:
        raise _invalid("cidr", f"'{cidr}' isn't a recognized IP subnet cidr, '{net}' is "
                               "recommended", cidr)
    if version is not None and version != net.version:
        raise ValidationError("Invalid input for operation: ip_version and cidr do not "
                              "match.", key="ip_version", value=version)
    return net


def _address_in(net: Any, attr: str, text: object) -> str:
    try:
        address = ipaddress.ip_address(str(text))
    except ValueError:
        raise _invalid(attr, f"'{text}' is not a valid IP address", text) from None
    if address not in net:
        raise _invalid(attr, f"'{text}' is not in subnet {net}", text)
    return str(address)


def _pools(net: Any, pools: list[Any]) -> list[dict[str, str]]:
    out = []
    for pool in pools:
        if not isinstance(pool, dict) or set(pool) != {"start", "end"}:
            raise _invalid("allocation_pools", f"'{pool}' is not a start/end pair", pool)
        start = _address_in(net, "allocation_pools", pool["start"])
        end = _address_in(net, "allocation_pools", pool["end"])
        if int(ipaddress.ip_address(start)) > int(ipaddress.ip_address(end)):
            raise _invalid("allocation_pools", f"{start} is after {end}", pool)
        out.append({"start": start, "end": end})
    return out


@router.get("/subnets", summary="List subnets")
def list_subnets(request: Request, who: Caller) -> schemas.SubnetList:
    filters = filters_of(request, ("id", "name", "network_id", "project_id", "cidr"))
    with app_state(request).db.read() as session:
        return schemas.SubnetList(subnets=[subnet_view(s)
                                           for s in subnets.list_subnets(session, who, filters)])


@router.post("/subnets", status_code=201, summary="Create a subnet")
def create_subnet(body: SubnetBody, request: Request, who: Caller) -> schemas.SubnetResponse:
    require_member(who, neutron_forbidden("create_subnet"))
    values = parse_body("subnet", body.subnet, SUBNET, post=True, who=who)
    net = _network_of(values["cidr"], values.get("ip_version"))
    gateway = (_address_in(net, "gateway_ip", values["gateway_ip"])
               if values.get("gateway_ip") else None)
    if "gateway_ip" not in values:
        gateway = str(next(net.hosts(), net.network_address))
    pools = (_pools(net, values["allocation_pools"]) if values.get("allocation_pools")
             else subnets.default_pools(str(net), gateway))
    with app_state(request).db.write() as session:
        parent = network.get_network(session, values["network_id"], who)
        owned(parent, who, "create_subnet")
        project_id = values.get("project_id") or parent.project_id
        enforce(session, project_id, subnet=1)
        row = subnets.create_subnet(
            session, network=parent, project_id=project_id,
            cidr=str(net), ip_version=net.version, values={
                "name": values.get("name", ""), "description": values.get("description", ""),
                "gateway_ip": gateway, "allocation_pools": pools,
                "enable_dhcp": values.get("enable_dhcp", True)})
        return schemas.SubnetResponse(subnet=subnet_view(row))


@router.get("/subnets/{subnet_id}", summary="Show a subnet")
def show_subnet(subnet_id: str, request: Request, who: Caller) -> schemas.SubnetResponse:
    with app_state(request).db.read() as session:
        return schemas.SubnetResponse(subnet=subnet_view(subnets.get_subnet(session, subnet_id,
                                                                            who)))


@router.delete("/subnets/{subnet_id}", status_code=204, summary="Delete a subnet")
def delete_subnet(subnet_id: str, request: Request, who: Caller) -> Response:
    with app_state(request).db.write() as session:
        row = subnets.get_subnet(session, subnet_id, who)
        if not who.is_admin and (row.project_id != who.project_id or "member" not in who.roles):
            raise neutron_forbidden("delete_subnet")
        if session.scalar(sa.select(IpAllocation.port_id).where(
                IpAllocation.subnet_id == row.id).limit(1)):
            raise ConflictError(f"Unable to complete operation on subnet {row.id}: One or more "
                                "ports have an IP allocation from this subnet.",
                                kind="SubnetInUse", key="subnet_id", value=row.id)
        session.delete(row)
    return Response(status_code=204)
