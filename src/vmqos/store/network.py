"""Neutron's data: networks (with their segment), ports, security groups (their rules are
:mod:`vmqos.store.security_group_rules`).

Repository functions over a caller's session. Visibility is Neutron's: an admin sees
everything, a project its own objects and shared networks; anything else is "not found"
(Neutron never says "forbidden" about an object the caller may not see). Segment allocation
follows the ML2 type drivers: VLAN ids 1-4094 per physical network, one flat network per
physical network, VXLAN/Geneve VNIs from 1; the lowest free id is taken, and the
``uq_networks_segment`` constraint makes a parallel allocation of the same id fail rather than
succeed twice. MACs are ``fa:16:3e:xx:xx:xx`` (Neutron's default ``base_mac``), unique per network;
a new port gets its addresses from the network's subnets (:mod:`vmqos.store.subnets`).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmqos.errors import ConflictError, NotFoundError, ValidationError
from vmqos.store.db import filtered
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Network, Port, SecurityGroup, utcnow
from vmqos.store.security_group_rules import add_template_rules
from vmqos.store.subnets import allocate_ips

__all__ = [
    "MTU_BY_TYPE",
    "allocate_mac",
    "create_network",
    "create_port",
    "create_security_group",
    "default_security_group",
    "get_network",
    "get_port",
    "get_security_group",
    "list_networks",
    "list_ports",
    "list_security_groups",
    "touch",
]

# ML2 computes a network's MTU from the 1500-byte physical MTU minus the encapsulation
# overhead (IPv4 outer header): VXLAN 50, Geneve 58 (max_header_size 38 + 20), GRE 42.
MTU_BY_TYPE = {"vlan": 1500, "flat": 1500, "vxlan": 1450, "geneve": 1442, "gre": 1458}
_SEGMENT_RANGE = {"vlan": (1, 4094), "vxlan": (1, 2**24 - 1), "geneve": (1, 2**24 - 1),
                  "gre": (1, 2**32 - 1)}


def touch(row: Network | Port | SecurityGroup) -> None:
    """Neutron bumps ``revision_number`` and ``updated_at`` on every change."""
    row.revision_number += 1
    row.updated_at = utcnow()


def _visible_network(who: TokenInfo) -> sa.ColumnElement[bool]:
    return sa.or_(Network.project_id == who.project_id, Network.shared.is_(True))


def get_network(session: Session, network_id: str, who: TokenInfo) -> Network:
    query = sa.select(Network).where(Network.id == network_id)
    if not who.is_admin:
        query = query.where(_visible_network(who))
    network = session.scalar(query)
    if network is None:
        raise NotFoundError(f"Network {network_id} could not be found.",
                            kind="NetworkNotFound", key="network_id", value=network_id)
    return network


def list_networks(session: Session, who: TokenInfo,
                  filters: Mapping[str, Any]) -> Sequence[Network]:
    query = sa.select(Network)
    if not who.is_admin:
        query = query.where(_visible_network(who))
    return session.scalars(filtered(query, Network, filters)
                           .order_by(Network.created_at, Network.id)).all()


def _segment_in_use(network_type: str, physnet: str, segment: int) -> ConflictError:
    if network_type == "flat":
        return ConflictError(f"Unable to create the flat network. Physical network {physnet} "
                             "is in use.", kind="FlatNetworkInUse", key="physical_network",
                             value=physnet)
    if network_type == "vlan":
        return ConflictError(f"Unable to create the network. The VLAN {segment} on physical "
                             f"network {physnet} is in use.", kind="VlanIdInUse",
                             key="segmentation_id", value=segment)
    return ConflictError(f"Unable to create the network. The tunnel ID {segment} is in use.",
                         kind="TunnelIdInUse", key="segmentation_id", value=segment)


def _allocate_segment(session: Session, network_type: str, physnet: str,
                      segment: int | None) -> int:
    if network_type == "flat":
        return 0
    low, high = _SEGMENT_RANGE[network_type]
    used = set(session.scalars(sa.select(Network.segmentation_id).where(
        Network.network_type == network_type, Network.physical_network == physnet)))
    if segment is not None:
        if segment in used:
            raise _segment_in_use(network_type, physnet, segment)
        return segment
    candidate = low
    while candidate in used:
        candidate += 1
    if candidate > high:
        raise ConflictError("Unable to create the network. No tenant network is available "
                            "for allocation.", kind="NoNetworkAvailable",
                            key="segmentation_id", value=None)
    return candidate


def create_network(session: Session, *, project_id: str, name: str, network_type: str,
                   physical_network: str = "", segmentation_id: int | None = None,
                   mtu: int | None = None, values: Mapping[str, Any]) -> Network:
    """``values``: the other validated columns (``shared``, ``qos_policy_id`` ...)."""
    if network_type not in MTU_BY_TYPE:
        raise ValidationError(f"Invalid input for operation: network_type value "
                              f"'{network_type}' not supported.", key="provider:network_type",
                              value=network_type, allowed=", ".join(MTU_BY_TYPE))
    segment = _allocate_segment(session, network_type, physical_network, segmentation_id)
    now = utcnow()
    network = Network(id=str(uuid.uuid4()), name=name, project_id=project_id,
                      network_type=network_type, physical_network=physical_network,
                      segmentation_id=segment, mtu=mtu or MTU_BY_TYPE[network_type],
                      created_at=now, updated_at=now, revision_number=1, **values)
    try:
        with session.begin_nested():  # the savepoint must precede the INSERT
            session.add(network)
            session.flush()
    except IntegrityError as exc:  # a parallel create took the same segment
        raise _segment_in_use(network_type, physical_network, segment) from exc
    return network


# --- ports ------------------------------------------------------------------------------------


def _visible_port(who: TokenInfo) -> sa.ColumnElement[bool]:
    return Port.project_id == who.project_id


def get_port(session: Session, port_id: str, who: TokenInfo) -> Port:
    query = sa.select(Port).where(Port.id == port_id)
    if not who.is_admin:
        query = query.where(_visible_port(who))
    port = session.scalar(query)
    if port is None:
        raise NotFoundError(f"Port {port_id} could not be found.", kind="PortNotFound",
                            key="port_id", value=port_id)
    return port


def list_ports(session: Session, who: TokenInfo, filters: Mapping[str, Any]) -> Sequence[Port]:
    query = sa.select(Port)
    if not who.is_admin:
        query = query.where(_visible_port(who))
    return session.scalars(filtered(query, Port, filters).order_by(Port.seq)).all()


def allocate_mac() -> str:
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))


def _mac_in_use(network_id: str, mac: str) -> ConflictError:
    return ConflictError(f"Unable to complete operation for network {network_id}. The mac "
                         f"address {mac} is in use.", kind="MacAddressInUse",
                         key="mac_address", value=mac)


def create_port(session: Session, *, network: Network, project_id: str,
                mac_address: str | None, values: Mapping[str, Any]) -> Port:
    """``values``: the other validated columns (``name``, ``device_owner``, ``vnic_type`` ...)."""
    now = utcnow()
    given = mac_address is not None
    for _attempt in range(8):  # a random MAC collides with odds 1 in 2**24 per port
        mac = mac_address if given else allocate_mac()
        assert mac is not None
        taken = session.scalar(sa.select(Port.id).where(Port.network_id == network.id,
                                                        Port.mac_address == mac))
        if taken is not None:
            if given:
                raise _mac_in_use(network.id, mac)
            continue
        port = Port(id=str(uuid.uuid4()), seq=time.time_ns(), network_id=network.id,
                    project_id=project_id, mac_address=mac, created_at=now, updated_at=now,
                    revision_number=1, **values)
        try:
            with session.begin_nested():  # the savepoint must precede the INSERT
                session.add(port)
                session.flush()
        except IntegrityError as exc:
            if given:
                raise _mac_in_use(network.id, mac) from exc
            continue
        port.fixed_ips = allocate_ips(session, network.id, port.id)
        return port
    raise ConflictError(f"Unable to generate a unique mac on network {network.id}.",
                        kind="MacAddressGenerationFailure", key="mac_address", value=None)


# --- security groups --------------------------------------------------------------------------

_SG_NAMESPACE = uuid.UUID("0d8b36a4-0a53-4f4e-8f1c-9a3c2f0e5b11")


def create_security_group(session: Session, *, project_id: str, name: str,
                          description: str = "", sg_id: str | None = None) -> SecurityGroup:
    """A group with Neutron's default rules (:func:`vmqos.store.security_group_rules.
    add_template_rules`); the ``default`` group's when ``name`` is ``default``."""
    now = utcnow()
    group = SecurityGroup(id=sg_id or str(uuid.uuid4()), name=name, description=description,
                          project_id=project_id, revision_number=1, created_at=now,
                          updated_at=now)
    session.add(group)
    session.flush()
    add_template_rules(session, group, default=name == "default")
    return group


def default_security_group(session: Session, project_id: str) -> SecurityGroup:
    """The project's ``default`` group, created on first use as Neutron does.

    Its id is derived from the project, so two requests creating it at once collide on the
    primary key instead of making two "default" groups.
    """
    sg_id = str(uuid.uuid5(_SG_NAMESPACE, project_id))
    group = session.get(SecurityGroup, sg_id)
    if group is not None:
        return group
    try:
        with session.begin_nested():
            return create_security_group(session, project_id=project_id, name="default",
                                         description="Default security group", sg_id=sg_id)
    except IntegrityError:
        group = session.get(SecurityGroup, sg_id)
        assert group is not None
        return group


def get_security_group(session: Session, sg_id: str, who: TokenInfo) -> SecurityGroup:
    query = sa.select(SecurityGroup).where(SecurityGroup.id == sg_id)
    if not who.is_admin:
        query = query.where(SecurityGroup.project_id == who.project_id)
    group = session.scalar(query)
    if group is None:
        raise NotFoundError(f"Security group {sg_id} does not exist",
                            kind="SecurityGroupNotFound", key="security_group_id", value=sg_id)
    return group


def list_security_groups(session: Session, who: TokenInfo,
                         filters: Mapping[str, Any]) -> Sequence[SecurityGroup]:
    default_security_group(session, who.project_id)
    query = sa.select(SecurityGroup)
    if not who.is_admin:
        query = query.where(SecurityGroup.project_id == who.project_id)
    return session.scalars(filtered(query, SecurityGroup, filters)
                           .order_by(SecurityGroup.created_at, SecurityGroup.id)).all()
