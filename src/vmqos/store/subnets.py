"""Neutron subnets and IP address allocation (IPAM).

A port created on a network with subnets gets one address per IP version, from the first
subnet of that version with a free address in its allocation pools (Neutron allocates one
IPv4 address from one subnet when no ``fixed_ips`` are asked for). As Neutron's IPAM does,
a random one of the first free addresses is taken; the ``ip_allocations`` primary key
(subnet, address) makes a parallel allocation of the same address fail, and the allocator
then tries another. Deleting a port releases
its addresses (foreign key cascade).
"""

from __future__ import annotations

import ipaddress
import itertools
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError, ValidationError
from vmqos.store.db import filtered
from vmqos.store.identity import TokenInfo
from vmqos.store.models import IpAllocation, Network, Subnet, utcnow

__all__ = ["allocate_ips", "create_subnet", "default_pools", "get_subnet", "list_subnets"]

_WINDOW = 64


def _address_class(text: str) -> type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]:
    return ipaddress.IPv6Address if ":" in text else ipaddress.IPv4Address


def default_pools(cidr: str, gateway: str | None) -> list[dict[str, str]]:
    """Every host address but the gateway (Neutron's default ``allocation_pools``)."""
    net = ipaddress.ip_network(cidr)
    make = _address_class(cidr)
    first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
    if net.version == 6 or net.prefixlen >= 31:  # IPv6 and /31 have no broadcast to skip
        last += 1
    if net.prefixlen >= (31 if net.version == 4 else 127):
        first = int(net.network_address)
    skip = int(ipaddress.ip_address(gateway)) if gateway else None
    ranges = [(first, last)]
    if skip is not None and first <= skip <= last:
        ranges = [(a, b) for a, b in ((first, skip - 1), (skip + 1, last)) if a <= b]
    return [{"start": str(make(a)), "end": str(make(b))} for a, b in ranges]


def get_subnet(session: Session, subnet_id: str, who: TokenInfo) -> Subnet:
    query = sa.select(Subnet).where(Subnet.id == subnet_id)
    if not who.is_admin:
        query = query.join(Network, Network.id == Subnet.network_id).where(sa.or_(
            Subnet.project_id == who.project_id, Network.shared.is_(True)))
    subnet = session.scalar(query)
    if subnet is None:
        raise NotFoundError(f"Subnet {subnet_id} could not be found.", kind="SubnetNotFound",
                            key="subnet_id", value=subnet_id)
    return subnet


def list_subnets(session: Session, who: TokenInfo,
                 filters: Mapping[str, Any]) -> Sequence[Subnet]:
    query = sa.select(Subnet)
    if not who.is_admin:
        query = query.join(Network, Network.id == Subnet.network_id).where(sa.or_(
            Subnet.project_id == who.project_id, Network.shared.is_(True)))
    query = filtered(query, Subnet, filters)
    return session.scalars(query.order_by(Subnet.created_at, Subnet.id)).all()


def create_subnet(session: Session, *, network: Network, project_id: str, cidr: str,
                  ip_version: int, values: Mapping[str, Any]) -> Subnet:
    """``values``: ``name``, ``description``, ``gateway_ip``, ``allocation_pools``,
    ``enable_dhcp``, already validated against ``cidr``."""
    new = ipaddress.ip_network(cidr)
    for other in session.scalars(sa.select(Subnet).where(Subnet.network_id == network.id)):
        if ipaddress.ip_network(other.cidr).overlaps(new):
            raise ValidationError(f"Invalid input for operation: Requested subnet with cidr: "
                                  f"{cidr} for network: {network.id} overlaps with another "
                                  "subnet.", key="cidr", value=cidr)
    now = utcnow()
    subnet = Subnet(id=str(uuid.uuid4()), network_id=network.id, project_id=project_id,
                    cidr=str(new), ip_version=ip_version, created_at=now, updated_at=now,
                    revision_number=1, **values)
    session.add(subnet)
    session.flush()
    return subnet


def _candidates(subnet: Subnet, used: set[str]) -> Iterator[str]:
    make = _address_class(subnet.cidr)
    for pool in subnet.allocation_pools:
        for number in range(int(make(pool["start"])), int(make(pool["end"])) + 1):
            address = str(make(number))
            if address not in used:
                yield address


def allocate_ips(session: Session, network_id: str, port_id: str) -> list[dict[str, str]]:
    """The port's ``fixed_ips``: one free address per IP version, recorded as allocated."""
    out: list[dict[str, str]] = []
    versions: set[int] = set()
    subnets = session.scalars(sa.select(Subnet).where(Subnet.network_id == network_id)
                              .order_by(Subnet.created_at, Subnet.id))
    for subnet in subnets:
        if subnet.ip_version in versions:
            continue
        used = set(session.scalars(sa.select(IpAllocation.ip_address).where(
            IpAllocation.subnet_id == subnet.id)))
        if subnet.gateway_ip:
            used.add(subnet.gateway_ip)
        window = list(itertools.islice(_candidates(subnet, used), _WINDOW))
        # Neutron's IPAM picks at random among the first free addresses, so that parallel
        # allocations rarely want the same one (each collision waits for the other commit).
        for address in random.sample(window, len(window)):
            try:
                with session.begin_nested():  # the savepoint must precede the INSERT
                    session.add(IpAllocation(subnet_id=subnet.id, ip_address=address,
                                             port_id=port_id))
                    session.flush()
            except IntegrityError:  # a parallel port took it: try the next address
                continue
            out.append({"subnet_id": subnet.id, "ip_address": address})
            versions.add(subnet.ip_version)
            break
    if not out and session.scalar(sa.select(Subnet.id).where(
            Subnet.network_id == network_id).limit(1)):
        raise ConflictError(f"No more IP addresses available on network {network_id}.",
                            kind="IpAddressGenerationFailure", key="network_id",
                            value=network_id)
    return out
