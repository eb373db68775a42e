"""Nova's quotas: ``os-quota-sets``, ``/limits``, and the checks of a create against them.

Behaviour is Nova's ``nova/api/openstack/compute/quota_sets.py`` and ``limits.py``:

* Policies (``nova/policies/quota_sets.py``, ``limits.py``): a project's quota set and its
  detail are its readers' and admins' (``os_compute_api:os-quota-sets:show`` / ``detail``),
  defaults anybody's, update and delete admins'; ``/limits`` is anybody's, another project's
  (``?tenant_id=``) admins' only. The project must exist (``identity.verify_project_id``: 400
  "Project ID ... is not a valid project.").
* Microversions: 2.36 drops the nova-network resources, 2.57 the injected files, from bodies
  and from what an update accepts; 2.39 drops ``maxImageMeta``; from 2.75 an unknown query
  parameter is a 400.
* An update checks each limit against the usage (``_validate_quota_limit``) unless ``force``.
* :func:`enforce_keypair` and :func:`enforce_server_create` are the create-time checks
  (``nova/compute/api.py`` ``_check_key_pair_quotas``, ``_check_metadata_properties_quota``,
  ``nova/network/neutron.py`` ``validate_networks``' port quota, ``nova/compute/utils.py``
  ``check_num_instances_quota``), each answered 403 as the API maps ``OverQuota``. The
  decision itself is :func:`vmqos.intent.project_quotas.exceeded`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.orm import Session

from vmqos.api import quota_schemas as schemas
from vmqos.api.context import app_state, caller, nova_forbidden
from vmqos.api.errors import ApiError
from vmqos.api.microversion import Microversion, nova_microversion
from vmqos.intent.project_quotas import (
    NOVA_DEFAULTS,
    below_usage,
    exceeded,
    nova_limit_below_usage,
    nova_too_many_instances,
)
from vmqos.store import quotas
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Flavor, Network, Port, Project

__all__ = ["enforce_keypair", "enforce_metadata_items", "enforce_server_create", "router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])
Caller = Annotated[TokenInfo, Depends(caller)]
Version = Annotated[Microversion, Depends(nova_microversion)]

_POLICY = "os_compute_api:os-quota-sets:{}"
# quota_sets.py FILTERED_QUOTAS_v236 / _v257.
_NOVA_NETWORK = frozenset(("fixed_ips", "floating_ips", "security_group_rules",
                           "security_groups"))
_INJECTED = frozenset(("injected_files", "injected_file_content_bytes",
                       "injected_file_path_bytes"))
_MAX_LIMIT = 0x7FFFFFFF
# oslo_utils.strutils, whose strict bool_from_string the schema's "boolean" enumerates.
_BOOLEANS: tuple[object, ...] = (
    True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
    False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")


def _shown(mv: Microversion) -> tuple[str, ...]:
    hidden: frozenset[str] = frozenset()
    if mv.at_least("2.36"):
        hidden |= _NOVA_NETWORK
    if mv.at_least("2.57"):
        hidden |= _INJECTED
    return tuple(r for r in NOVA_DEFAULTS if r not in hidden)


def _query_checked(request: Request, mv: Microversion, allowed: tuple[str, ...]) -> None:
    """From 2.75 the query schemas forbid additional properties (jsonschema's message)."""
    extra = sorted(set(request.query_params) - set(allowed))
    if extra and mv.at_least("2.75"):
        raise ApiError(400, _unexpected(extra))


def _may_read(who: TokenInfo, project_id: str, action: str) -> None:
    if not who.is_admin and who.project_id != project_id:
        raise nova_forbidden(_POLICY.format(action))


def _admin(who: TokenInfo, action: str) -> None:
    if not who.is_admin:
        raise nova_forbidden(_POLICY.format(action))


def _verified(session: Session, project_id: str, who: TokenInfo) -> None:
    """``verify_project_id`` asks Keystone with the caller's token: only a 404 refuses, and
    Keystone answers another project's member 403 whether it exists or not."""
    if (who.is_admin or project_id == who.project_id) and session.get(
            Project, project_id) is None:
        raise ApiError(400, f"Project ID {project_id} is not a valid project.")


def _usage(session: Session, project_id: str) -> dict[str, int]:
    """``_get_usages``: counted resources; key pairs and group members are shown as 0."""
    return quotas.compute_usage(session, project_id)


# --- os-quota-sets ----------------------------------------------------------------------------


@router.get("/os-quota-sets/{tenant_id}", summary="Show a project's quotas",
            response_model_exclude_unset=True)
def show_quota_set(tenant_id: str, request: Request, who: Caller,
                   mv: Version) -> schemas.QuotaSetResponse:
    _query_checked(request, mv, ("user_id",))
    _may_read(who, tenant_id, "show")
    with app_state(request).db.read() as session:
        _verified(session, tenant_id, who)
        limits = quotas.limits(session, "compute", tenant_id)
    return schemas.QuotaSetResponse(quota_set=schemas.QuotaSet.model_validate(
        {"id": tenant_id, **{r: limits[r] for r in _shown(mv)}}))


@router.get("/os-quota-sets/{tenant_id}/defaults", summary="Nova's default quotas",
            response_model_exclude_unset=True)
def show_quota_defaults(tenant_id: str, request: Request, who: Caller,
                        mv: Version) -> schemas.QuotaSetResponse:
    with app_state(request).db.read() as session:
        _verified(session, tenant_id, who)
    return schemas.QuotaSetResponse(quota_set=schemas.QuotaSet.model_validate(
        {"id": tenant_id, **{r: NOVA_DEFAULTS[r] for r in _shown(mv)}}))


@router.get("/os-quota-sets/{tenant_id}/detail", summary="A project's quotas with usage",
            response_model_exclude_unset=True)
def show_quota_detail(tenant_id: str, request: Request, who: Caller,
                      mv: Version) -> schemas.QuotaSetDetailResponse:
    _query_checked(request, mv, ("user_id",))
    _may_read(who, tenant_id, "detail")
    with app_state(request).db.read() as session:
        _verified(session, tenant_id, who)
        limits = quotas.limits(session, "compute", tenant_id)
        used = _usage(session, tenant_id)
    return schemas.QuotaSetDetailResponse(quota_set=schemas.QuotaSetDetail.model_validate(
        {"id": tenant_id, **{r: schemas.QuotaUsage(in_use=used.get(r, 0), limit=limits[r],
                                                   reserved=0) for r in _shown(mv)}}))


def _field_error(name: str, value: object, message: str) -> ApiError:
    """Nova's validator: the value as ``%s`` prints it (cut short), then jsonschema's text."""
    text = str(value)
    text = text if len(text) <= 64 else text[:64] + "…"
    return ApiError(400, f"Invalid input for field/attribute {name}. Value: {text}. {message}")


def _unexpected(names: list[str]) -> str:
    """jsonschema's ``additionalProperties`` message (the names sorted)."""
    verb = "was" if len(names) == 1 else "were"
    return (f"Additional properties are not allowed ({', '.join(map(repr, names))} {verb} "
            "unexpected)")


def _requested_limits(body: Mapping[str, Any], mv: Microversion) -> tuple[dict[str, int], bool]:
    """The limits an update sets, and its ``force``, checked as the update schema of ``mv``
    checks them (jsonschema's messages, in Nova's "Invalid input for field/attribute" form)."""
    if set(body) - {"quota_set"}:
        raise ApiError(400, _unexpected(sorted(set(body) - {"quota_set"})))
    if "quota_set" not in body:
        raise ApiError(400, "'quota_set' is a required property")
    given = body["quota_set"]
    if not isinstance(given, dict):
        raise _field_error("quota_set", given, f"{given!r} is not of type 'object'")
    allowed = {*_shown(mv), "force"}
    unexpected = sorted(set(given) - allowed)
    if unexpected:
        raise _field_error("quota_set", given, _unexpected(unexpected))
    values: dict[str, int] = {}
    for name, value in given.items():
        if name == "force":
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number or value not in _BOOLEANS:
                raise _field_error(name, value,
                                   f"{value!r} is not one of {list(_BOOLEANS)!r}")
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _field_error(name, value, f"{value!r} is not of type 'integer', 'string'")
        if isinstance(value, str):
            if not _is_quota_text(value):
                raise _field_error(name, value, f"{value!r} does not match '^-?[0-9]+$'")
        elif value < -1:
            raise _field_error(name, value, f"{value} is less than the minimum of -1")
        elif value > _MAX_LIMIT:
            raise _field_error(name, value,
                               f"{value} is greater than the maximum of {_MAX_LIMIT}")
        values[name] = int(value)
    force = str(given.get("force", "False")).strip().lower() in ("1", "true", "on", "yes")
    return values, force


def _is_quota_text(value: str) -> bool:
    """``^-?[0-9]+$`` as Python's ``re.search`` reads it (``$`` also before a final newline),
    which jsonschema's ``pattern`` uses."""
    core = value[:-1] if value.endswith("\n") else value
    digits = core[1:] if core.startswith("-") else core
    return bool(digits) and digits.isascii() and digits.isdigit()


@router.put("/os-quota-sets/{tenant_id}", summary="Set a project's quotas (admin)",
            response_model_exclude_unset=True)
def update_quota_set(tenant_id: str, request: Request, who: Caller, mv: Version,
                     body: Annotated[dict[str, Any], Body()]) -> schemas.QuotaSetResponse:
    values, force = _requested_limits(body, mv)
    _query_checked(request, mv, ("user_id",))
    _admin(who, "update")
    if "user_id" in request.query_params:
        raise ApiError(400, "vmqos keeps no per-user quotas: set the project's.")
    with app_state(request).db.write() as session:
        _verified(session, tenant_id, who)
        refused = None if force else below_usage(values, _usage(session, tenant_id),
                                                  nova_limit_below_usage)
        if refused is not None:
            raise ApiError(400, refused)
        quotas.set_limits(session, "compute", tenant_id, values)
        limits = quotas.limits(session, "compute", tenant_id)
    return schemas.QuotaSetResponse(quota_set=schemas.QuotaSet.model_validate(
        {r: limits[r] for r in _shown(mv)}))


@router.delete("/os-quota-sets/{tenant_id}", status_code=202, response_class=Response,
               summary="Revert a project's quotas to the defaults (admin)")
def delete_quota_set(tenant_id: str, request: Request, who: Caller, mv: Version) -> Response:
    _query_checked(request, mv, ("user_id",))
    _admin(who, "delete")
    with app_state(request).db.write() as session:
        quotas.delete_limits(session, "compute", tenant_id)
    return Response(status_code=202)


# --- limits -----------------------------------------------------------------------------------

# nova/api/openstack/compute/views/limits.py ViewBuilder: resource -> absolute limit names,
# and the used counts it shows.
_ABSOLUTE = {"ram": ("maxTotalRAMSize",), "instances": ("maxTotalInstances",),
             "cores": ("maxTotalCores",), "key_pairs": ("maxTotalKeypairs",),
             "floating_ips": ("maxTotalFloatingIps",),
             "metadata_items": ("maxServerMeta", "maxImageMeta"),
             "injected_files": ("maxPersonality",),
             "injected_file_content_bytes": ("maxPersonalitySize",),
             "security_groups": ("maxSecurityGroups",),
             "security_group_rules": ("maxSecurityGroupRules",),
             "server_groups": ("maxServerGroups",),
             "server_group_members": ("maxServerGroupMembers",)}
_USED = {"totalRAMUsed": "ram", "totalCoresUsed": "cores", "totalInstancesUsed": "instances",
         "totalFloatingIpsUsed": "floating_ips", "totalSecurityGroupsUsed": "security_groups",
         "totalServerGroupsUsed": "server_groups"}


@router.get("/limits", summary="The project's absolute limits and usage",
            response_model_exclude_unset=True)
def show_limits(request: Request, who: Caller, mv: Version) -> schemas.LimitsResponse:
    _query_checked(request, mv, ("tenant_id",))
    project_id = who.project_id
    if "tenant_id" in request.query_params:
        if not who.is_admin:
            raise nova_forbidden("os_compute_api:limits:other_project")
        project_id = request.query_params["tenant_id"]
    with app_state(request).db.read() as session:
        limits = quotas.limits(session, "compute", project_id)
        used = _usage(session, project_id)
    # limits.py: 2.36 and 2.57 filter the same families as the quota sets (2.57 keeps
    # injected_file_path_bytes, which has no limit name anyway).
    shown = set(_shown(mv))
    values: dict[str, int] = {}
    for resource, names in _ABSOLUTE.items():
        if resource in shown:
            for name in names:
                if name != "maxImageMeta" or not mv.at_least("2.39"):
                    values[name] = limits[resource]
    for name, resource in _USED.items():
        if resource in shown:
            values[name] = used.get(resource, 0)
    return schemas.LimitsResponse(limits=schemas.Limits(
        rate=[], absolute=schemas.AbsoluteLimits(**values)))


# --- create-time checks -----------------------------------------------------------------------


def enforce_keypair(session: Session, who: TokenInfo, user_id: str) -> None:
    """One more key pair for ``user_id`` (counted per user, limited by the caller's
    project's ``key_pairs``)."""
    over = quotas.check(session, "compute", who.project_id, {"key_pairs": 1},
                        usage=lambda s: {"key_pairs": quotas.keypairs_of(s, user_id)})
    if over is not None:
        raise ApiError(403, "Quota exceeded, too many key pairs.")


def enforce_metadata_items(session: Session, who: TokenInfo, items: int) -> None:
    """A server's metadata of ``items`` items, against the caller's project's
    ``metadata_items`` (``nova/compute/api.py`` ``_check_metadata_properties_quota``, at create
    and at each metadata change): ``MetadataLimitExceeded``, 403."""
    limits = quotas.limits(session, "compute", who.project_id)
    if exceeded(limits, {}, {"metadata_items": items}) is not None:
        raise ApiError(403, "Maximum number of metadata items exceeds "
                            f"{limits['metadata_items']}")


def enforce_server_create(session: Session, who: TokenInfo, flavor: Flavor,
                          metadata: Mapping[str, str] | None,
                          networks: Sequence[tuple[Network | None, Port | None]]) -> None:
    """One more server of ``flavor`` with ``metadata``, and a new port for each requested
    network without a port, in the order Nova checks them: metadata items, the project's
    Neutron port quota, then instances, cores and RAM."""
    enforce_metadata_items(session, who, len(metadata or {}))
    needed = sum(1 for _network, port in networks if port is None)
    port_limit = quotas.limits(session, "network", who.project_id)["port"]
    if needed and port_limit >= 0:
        ports = quotas.network_usage(session, who.project_id)["port"]
        if ports > port_limit:
            raise ApiError(403, f"The number of defined ports: {ports} is over the limit: "
                                f"{port_limit}")
        if port_limit - ports < needed:
            raise ApiError(403, "Maximum number of ports exceeded")
    over = quotas.check(session, "compute", who.project_id,
                        {"instances": 1, "cores": flavor.vcpus, "ram": flavor.ram})
    if over is not None:
        raise ApiError(403, nova_too_many_instances(over))
