"""Project quotas, as Nova and Neutron count them: the default limits and the one decision.

Both services keep, per project, a limit for each resource (a negative limit is unlimited;
the APIs accept -1 only) and refuse a create that would take the usage past it:

* :data:`NOVA_DEFAULTS` are ``nova/conf/quota.py``'s ``[quota]`` options, keyed by the
  resource names of ``nova/quota.py`` ``QUOTAS`` (``injected_file_path_bytes`` reads the
  ``injected_file_path_length`` option; the four nova-network leftovers have no option and
  default to -1), in the sorted order ``QuotaEngine.resources`` gives.
* :data:`NEUTRON_DEFAULTS` are ``neutron/conf/quota.py``'s ``[QUOTAS]`` options for the
  resources a stock ML2 deployment registers (the core ``network``, ``subnet``, ``subnetpool``
  and ``port`` — ``subnetpool`` has no option of its own, so ``default_quota`` -1 —, the L3
  plugin's ``router``, ``floatingip`` and extraroute's ``router_route``, ``rbac_policy``, and
  the security-group extension's two).

:func:`exceeded` is the decision both make (``nova/quota.py``
``DbQuotaDriver.limit_check_project_and_user``, ``neutron/db/quota/driver_nolock.py``
``make_reservation`` and ``driver.py`` ``quota_limit_check``): a resource is over when its
limit is not negative and usage plus the requested delta is above it; the resources over are
named in sorted order. The messages are the services' own, rendered from the same value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "NEUTRON_DEFAULTS",
    "NOVA_DEFAULTS",
    "UNLIMITED",
    "Exceeded",
    "below_usage",
    "exceeded",
    "neutron_limit_below_usage",
    "neutron_over_quota",
    "nova_limit_below_usage",
    "nova_too_many_instances",
]

UNLIMITED = -1

NOVA_DEFAULTS: Mapping[str, int] = MappingProxyType({
    "cores": 20,
    "fixed_ips": UNLIMITED,
    "floating_ips": UNLIMITED,
    "injected_file_content_bytes": 10 * 1024,
    "injected_file_path_bytes": 255,
    "injected_files": 5,
    "instances": 10,
    "key_pairs": 100,
    "metadata_items": 128,
    "ram": 50 * 1024,
    "security_group_rules": UNLIMITED,
    "security_groups": UNLIMITED,
    "server_group_members": 10,
    "server_groups": 10,
})

NEUTRON_DEFAULTS: Mapping[str, int] = MappingProxyType({
    "network": 100,
    "subnet": 100,
    "subnetpool": UNLIMITED,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "router_route": 30,
    "rbac_policy": 10,
    "security_group": 10,
    "security_group_rule": 100,
})


@dataclass(frozen=True, slots=True)
class Exceeded:
    """The resources a request would take over their limits, each with what was asked, what
    is used and what is allowed (sorted by resource name, as both services report them)."""

    resources: tuple[str, ...]
    requested: tuple[int, ...]
    used: tuple[int, ...]
    allowed: tuple[int, ...]


def exceeded(limits: Mapping[str, int], used: Mapping[str, int],
             deltas: Mapping[str, int]) -> Exceeded | None:
    """``None`` when ``deltas`` more of each resource fit under ``limits`` given ``used``."""
    over = sorted(name for name, delta in deltas.items()
                  if limits[name] >= 0 and used.get(name, 0) + delta > limits[name])
    if not over:
        return None
    return Exceeded(tuple(over), tuple(deltas[n] for n in over),
                    tuple(used.get(n, 0) for n in over), tuple(limits[n] for n in over))


def _joined(values: tuple[object, ...]) -> str:
    return ", ".join(str(v) for v in values)


def nova_too_many_instances(over: Exceeded) -> str:
    """``nova.exception.TooManyInstances`` as ``nova/compute/utils.py``
    ``check_num_instances_quota`` fills it (``get_over_quota_detail`` joins each list)."""
    names = _joined(over.resources)
    return (f"Quota exceeded for {names}: Requested {_joined(over.requested)}, but already "
            f"used {_joined(over.used)} of {_joined(over.allowed)} {names}")


def neutron_over_quota(over: Exceeded) -> str:
    """neutron-lib ``exceptions.OverQuota``, whose ``overs`` is the sorted list itself."""
    return f"Quota exceeded for resources: {list(over.resources)!r}."


def nova_limit_below_usage(resource: str, limit: int, in_use: int) -> str | None:
    """``nova/api/openstack/compute/quota_sets.py`` ``_validate_quota_limit``: a new limit
    below what is used is refused (-1 is infinity; the maximum is unlimited)."""
    if limit != UNLIMITED and limit < in_use:
        return (f"Quota limit {limit} for {resource} must be greater than or equal to already "
                f"used and reserved {in_use}.")
    return None


def neutron_limit_below_usage(resource: str, limit: int, used: int) -> str | None:
    """``neutron/extensions/quotasv2.py`` ``QuotaSetsController.update`` without ``force``."""
    if limit != UNLIMITED and used > limit:
        return (f"Quota limit {limit} for {resource} must be greater than or equal to already "
                f"used {used}")
    return None


def below_usage(values: Mapping[str, int], used: Mapping[str, int],
                rule: Callable[[str, int, int], str | None]) -> str | None:
    """The first of the new limits ``values`` that ``rule`` (:func:`nova_limit_below_usage` or
    :func:`neutron_limit_below_usage`) refuses against ``used``, in the body's order."""
    for name, limit in values.items():
        refused = rule(name, limit, used.get(name, 0))
        if refused is not None:
            return refused
    return None
