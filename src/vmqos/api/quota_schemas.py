"""Response models of the quota APIs: Nova's quota sets and limits, Neutron's quotas (the
bodies of :mod:`vmqos.api.compute_quotas` and :mod:`vmqos.api.network_quotas`).

Nova's quota sets lose resources with the microversion (2.36: the nova-network ones; 2.57:
the injected files), and ``/limits`` its matching absolute limits (2.39 also drops
``maxImageMeta``): those fields have a default and stay unset when they do not apply
(:mod:`vmqos.api.responses`). Neutron's quotas have every resource a stock ML2 deployment
registers (:data:`vmqos.intent.project_quotas.NEUTRON_DEFAULTS`).
"""

from __future__ import annotations

from pydantic import Field, JsonValue

from vmqos.api.responses import ResponseModel

__all__ = [
    "AbsoluteLimits",
    "Limits",
    "LimitsResponse",
    "NetworkQuota",
    "NetworkQuotaDetail",
    "NetworkQuotaDetails",
    "NetworkQuotaDetailsResponse",
    "NetworkQuotaList",
    "NetworkQuotaResponse",
    "ProjectNetworkQuota",
    "QuotaSet",
    "QuotaSetDetail",
    "QuotaSetDetailResponse",
    "QuotaSetResponse",
    "QuotaUsage",
]

_BEFORE_236 = "below microversion 2.36"
_BEFORE_257 = "below microversion 2.57"


# --- Nova -------------------------------------------------------------------------------------


class QuotaSet(ResponseModel):
    id: str = Field(default="", description="absent from an update's answer")
    cores: int = 0
    fixed_ips: int = Field(default=0, description=_BEFORE_236)
    floating_ips: int = Field(default=0, description=_BEFORE_236)
    injected_file_content_bytes: int = Field(default=0, description=_BEFORE_257)
    injected_file_path_bytes: int = Field(default=0, description=_BEFORE_257)
    injected_files: int = Field(default=0, description=_BEFORE_257)
    instances: int = 0
    key_pairs: int = 0
    metadata_items: int = 0
    ram: int = Field(default=0, description="MiB")
    security_group_rules: int = Field(default=0, description=_BEFORE_236)
    security_groups: int = Field(default=0, description=_BEFORE_236)
    server_group_members: int = 0
    server_groups: int = 0


class QuotaSetResponse(ResponseModel):
    quota_set: QuotaSet


class QuotaUsage(ResponseModel):
    in_use: int
    limit: int
    reserved: int


class QuotaSetDetail(ResponseModel):
    id: str
    cores: QuotaUsage | None = None
    fixed_ips: QuotaUsage | None = Field(default=None, description=_BEFORE_236)
    floating_ips: QuotaUsage | None = Field(default=None, description=_BEFORE_236)
    injected_file_content_bytes: QuotaUsage | None = Field(default=None,
                                                           description=_BEFORE_257)
    injected_file_path_bytes: QuotaUsage | None = Field(default=None, description=_BEFORE_257)
    injected_files: QuotaUsage | None = Field(default=None, description=_BEFORE_257)
    instances: QuotaUsage | None = None
    key_pairs: QuotaUsage | None = None
    metadata_items: QuotaUsage | None = None
    ram: QuotaUsage | None = None
    security_group_rules: QuotaUsage | None = Field(default=None, description=_BEFORE_236)
    security_groups: QuotaUsage | None = Field(default=None, description=_BEFORE_236)
    server_group_members: QuotaUsage | None = None
    server_groups: QuotaUsage | None = None


class QuotaSetDetailResponse(ResponseModel):
    quota_set: QuotaSetDetail


class AbsoluteLimits(ResponseModel):
    maxImageMeta: int = Field(default=0, description="below microversion 2.39")
    maxPersonality: int = Field(default=0, description=_BEFORE_257)
    maxPersonalitySize: int = Field(default=0, description=_BEFORE_257)
    maxSecurityGroupRules: int = Field(default=0, description=_BEFORE_236)
    maxSecurityGroups: int = Field(default=0, description=_BEFORE_236)
    maxServerGroupMembers: int = 0
    maxServerGroups: int = 0
    maxServerMeta: int = 0
    maxTotalCores: int = 0
    maxTotalFloatingIps: int = Field(default=0, description=_BEFORE_236)
    maxTotalInstances: int = 0
    maxTotalKeypairs: int = 0
    maxTotalRAMSize: int = Field(default=0, description="MiB")
    totalCoresUsed: int = 0
    totalFloatingIpsUsed: int = Field(default=0, description=_BEFORE_236)
    totalInstancesUsed: int = 0
    totalRAMUsed: int = Field(default=0, description="MiB")
    totalSecurityGroupsUsed: int = Field(default=0, description=_BEFORE_236)
    totalServerGroupsUsed: int = 0


class Limits(ResponseModel):
    rate: list[dict[str, JsonValue]] = Field(description="always empty, as in Nova")
    absolute: AbsoluteLimits


class LimitsResponse(ResponseModel):
    limits: Limits


# --- Neutron ----------------------------------------------------------------------------------


class NetworkQuota(ResponseModel):
    network: int
    subnet: int
    subnetpool: int
    port: int
    router: int
    floatingip: int
    router_route: int
    rbac_policy: int
    security_group: int
    security_group_rule: int


class NetworkQuotaResponse(ResponseModel):
    quota: NetworkQuota


class ProjectNetworkQuota(NetworkQuota):
    project_id: str
    tenant_id: str


class NetworkQuotaList(ResponseModel):
    quotas: list[ProjectNetworkQuota]


class NetworkQuotaDetail(ResponseModel):
    limit: int
    used: int
    reserved: int


class NetworkQuotaDetails(ResponseModel):
    network: NetworkQuotaDetail
    subnet: NetworkQuotaDetail
    subnetpool: NetworkQuotaDetail
    port: NetworkQuotaDetail
    router: NetworkQuotaDetail
    floatingip: NetworkQuotaDetail
    router_route: NetworkQuotaDetail
    rbac_policy: NetworkQuotaDetail
    security_group: NetworkQuotaDetail
    security_group_rule: NetworkQuotaDetail


class NetworkQuotaDetailsResponse(ResponseModel):
    quota: NetworkQuotaDetails
