"""The tables: one SQLAlchemy declarative class per Keystone/Nova/Neutron/Glance object.

Column names follow the upstream field names where they are plain (``vcpus``, ``max_kbps`` is
kept inside a rule's ``values`` JSON exactly as Neutron returns it). Invariants the database
itself guarantees, so that parallel writers cannot break them:

* unique flavor ``name`` and ``flavorid`` (Nova's ``FlavorExists`` / ``FlavorIdExists``);
* one access row per (flavor, project) (Nova's ``FlavorAccessExists``), gone with its flavor;
* one rule per (policy, type, direction) — ``direction`` is ``''`` for DSCP, so one DSCP rule
  per policy — as Neutron's ``qos_*_rules0qos_policy_id0direction`` unique constraints;
* unique MAC per network (``MacAddressInUse``), unique (physnet, VLAN) segment, an IP
  address of a subnet allocated to one port only;
* a server's ``seq`` is the autoincrement Nova turns into ``instance-%08x``;
* one rule per (security group, matching attributes): a rule's ``rule_key`` is Neutron's
  ``_rule_to_key`` (:meth:`vmqos.intent.neutron.security_group_rules.RuleSpec.key`), unique in
  its group (``SecurityGroupRuleExists``); a group's rules, and the rules naming it as their
  remote group, go with it;
* one limit per (service, project, resource) in ``quota_limits``, where only the limits an
  admin set are stored (the others are the services' defaults).

Timestamps are naive UTC. The migration in ``migrations/versions`` creates exactly these
tables; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Aggregate",
    "Base",
    "Flavor",
    "FlavorProject",
    "Image",
    "IpAllocation",
    "Keypair",
    "Network",
    "Port",
    "Project",
    "QosPolicy",
    "QosRule",
    "QuotaLimit",
    "RoleAssignment",
    "SecurityGroup",
    "SecurityGroupRule",
    "Server",
    "Subnet",
    "Token",
    "User",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, naive UTC, to the second (what the APIs print)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


# --- identity (Keystone) ------------------------------------------------------------------------


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    # Attributes Keystone keeps without a column of their own (``--property k=v``).
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    default_project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Keystone's ``extra``: ``email``, ``description`` and any other attribute given.
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class Token(Base):
    """An issued token; only its SHA-256 is stored, so a database dump yields no tokens."""

    __tablename__ = "tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    roles: Mapped[str] = mapped_column(String(255))          # comma-separated role names
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    audit_id: Mapped[str] = mapped_column(String(32))


# --- compute (Nova) -----------------------------------------------------------------------------


class Flavor(Base):
    __tablename__ = "flavors"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)       # Nova's flavorid
    name: Mapped[str] = mapped_column(String(255), unique=True)
    vcpus: Mapped[int] = mapped_column(Integer)
    ram: Mapped[int] = mapped_column(Integer)
    disk: Mapped[int] = mapped_column(Integer)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra_specs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FlavorProject(Base):
    """A project's access to a private flavor (Nova's ``flavor_projects``). ``project_id`` is
    no foreign key: Nova keeps a deleted Keystone project's rows, and so does this."""

    __tablename__ = "flavor_projects"
    __table_args__ = (UniqueConstraint("flavor_seq", "project_id",
                                       name="uq_flavor_projects_flavor_project"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flavor_seq: Mapped[int] = mapped_column(ForeignKey("flavors.seq", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(String(255))


class Keypair(Base):
    __tablename__ = "keypairs"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    public_key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16), default="ssh")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Aggregate(Base):
    """A host aggregate; its ``availability_zone`` is what ``server create`` may name."""

    __tablename__ = "aggregates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    availability_zone: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Nova's aggregate metadata other than availability_zone (which is the column above).
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict,
                                                      server_default="{}")
    # Compute host names, in the order they were added (Nova's aggregate_hosts).
    hosts: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Server(Base):
    __tablename__ = "servers"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    # Nova embeds the flavor in the instance at boot: later flavor edits do not reach it.
    flavor: Mapped[dict[str, Any]] = mapped_column()
    # The flavor before a resize, kept while the server waits in VERIFY_RESIZE so that
    # revertResize can restore it; None otherwise.
    old_flavor: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    description: Mapped[str | None] = mapped_column(String(255), nullable=True)
    image_id: Mapped[str] = mapped_column(String(36), default="")
    key_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    availability_zone: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    vm_state: Mapped[str] = mapped_column(String(16))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    fault: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    port_ids: Mapped[list[Any]] = mapped_column(default=list)   # NIC order
    created_ports: Mapped[list[Any]] = mapped_column(default=list)  # ports Nova made for it
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The compute host it was scheduled to (None: placed before hosts were registered, on
    # the service's built-in host) and what Placement allocated to it there: a list of
    # [provider, resource class, amount].
    host: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    allocations: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    # While a resize waits for confirmation, the source host keeps what it had (Nova moves
    # it to the migration record): {"host": ..., "allocations": [...], "ports": {port:
    # {group: provider uuid}}}; None otherwise.
    old_placement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ComputeHost(Base):
    """A registered compute host: Nova's compute node and service, with the Neutron agents'
    ``configurations`` that become its Placement providers (:mod:`vmqos.intent.compute_host`)."""

    __tablename__ = "compute_hosts"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)          # the compute node
    service_uuid: Mapped[str] = mapped_column(String(36), unique=True)  # nova-compute
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_gb: Mapped[int] = mapped_column(Integer)
    agents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    host_ip: Mapped[str] = mapped_column(String(64), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- network (Neutron) --------------------------------------------------------------------------


class QosPolicy(Base):
    __tablename__ = "qos_policies"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    revision_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QosRule(Base):
    __tablename__ = "qos_rules"
    __table_args__ = (UniqueConstraint("policy_id", "type", "direction",
                                       name="uq_qos_rules_policy_type_direction"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)     # insertion order
    policy_id: Mapped[str] = mapped_column(ForeignKey("qos_policies.id", ondelete="CASCADE"),
                                           index=True)
    type: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))      # '' for dscp_marking
    values: Mapped[dict[str, Any]] = mapped_column()        # Neutron's field -> value


class Network(Base):
    __tablename__ = "networks"
    __table_args__ = (UniqueConstraint("network_type", "physical_network", "segmentation_id",
                                       name="uq_networks_segment"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    router_external: Mapped[bool] = mapped_column(Boolean, default=False)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    mtu: Mapped[int] = mapped_column(Integer)
    network_type: Mapped[str] = mapped_column(String(32))
    # '' rather than NULL for "none", so that the segment unique constraint also holds for
    # tunnelled networks (NULLs are never equal in a UNIQUE index).
    physical_network: Mapped[str] = mapped_column(String(64), default="")
    segmentation_id: Mapped[int] = mapped_column(Integer, default=0)
    qos_policy_id: Mapped[str | None] = mapped_column(
        ForeignKey("qos_policies.id"), nullable=True)
    revision_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Subnet(Base):
    __tablename__ = "subnets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    allocation_pools: Mapped[list[Any]] = mapped_column(default=list)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    revision_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IpAllocation(Base):
    """One address of a subnet given to one port: the primary key makes it given once."""

    __tablename__ = "ip_allocations"
    subnet_id: Mapped[str] = mapped_column(ForeignKey("subnets.id", ondelete="CASCADE"),
                                           primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"),
                                         index=True)


class SecurityGroup(Base):
    __tablename__ = "security_groups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    revision_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SecurityGroupRule(Base):
    __tablename__ = "security_group_rules"
    __table_args__ = (UniqueConstraint("security_group_id", "rule_key",
                                       name="uq_security_group_rules_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)     # insertion order
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(40))
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(255), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), nullable=True, index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    rule_key: Mapped[str] = mapped_column(String(512))
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Port(Base):
    __tablename__ = "ports"
    __table_args__ = (UniqueConstraint("network_id", "mac_address",
                                       name="uq_ports_network_mac"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)     # insertion order
    name: Mapped[str] = mapped_column(String(255), default="", index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    mac_address: Mapped[str] = mapped_column(String(17))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    vif_type: Mapped[str] = mapped_column(String(64), default="unbound")
    vif_details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    host_id: Mapped[str] = mapped_column(String(255), default="")
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fixed_ips: Mapped[list[Any]] = mapped_column(default=list)
    security_group_ids: Mapped[list[Any]] = mapped_column(default=list)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    qos_policy_id: Mapped[str | None] = mapped_column(
        ForeignKey("qos_policies.id"), nullable=True)
    revision_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- quotas (Nova's and Neutron's) ------------------------------------------------------------


class QuotaLimit(Base):
    """A limit an admin set (``quota set``); ``service`` is ``compute`` or ``network``."""

    __tablename__ = "quota_limits"
    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


# --- image (Glance) -----------------------------------------------------------------------------


class Image(Base):
    __tablename__ = "images"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    owner: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    visibility: Mapped[str] = mapped_column(String(16), default="shared")
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    disk_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    container_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    checksum: Mapped[str | None] = mapped_column(String(32), nullable=True)
    os_hash_value: Mapped[str | None] = mapped_column(String(128), nullable=True)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
