"""Whose servers ``GET /servers`` lists: the one decision about ``all_tenants``.

``nova/api/openstack/common.py`` ``is_all_tenants`` reads the parameter (present and empty
means yes; otherwise ``strutils.bool_from_string`` strict, whose refusal is a 400), and
``nova/api/openstack/compute/servers.py`` ``_get_servers`` asks the policy
``os_compute_api:servers:index:get_all_tenants`` (``detail:get_all_tenants`` for
``/servers/detail``), admin-only by default: a member asking is refused with 403, not quietly
shown their own project. Neutron's listings have no such parameter (a member's filters only
ever match what the policy lets them see), so there is no Neutron counterpart.
"""

from __future__ import annotations

from collections.abc import Mapping

from vmqos.api.context import nova_forbidden
from vmqos.api.errors import ApiError
from vmqos.store.identity import TokenInfo

__all__ = ["all_tenants"]

# oslo_utils.strutils TRUE_STRINGS / FALSE_STRINGS.
_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def all_tenants(who: TokenInfo, params: Mapping[str, str], *, detail: bool) -> bool:
    """Whether the listing spans every project; 400 for a value that is no boolean, 403 for a
    caller the policy refuses."""
    if "all_tenants" not in params:
        return False
    value = params["all_tenants"]
    wanted = True
    if value:
        text = value.strip().lower()
        if text not in _TRUE + _FALSE:
            accepted = ", ".join(f"'{s}'" for s in sorted(_TRUE + _FALSE))
            raise ApiError(400, f"Invalid input received: Unrecognized value '{value}', "
                                f"acceptable values are: {accepted}")
        wanted = text in _TRUE
    if wanted and not who.is_admin:
        view = "detail" if detail else "index"
        raise nova_forbidden(f"os_compute_api:servers:{view}:get_all_tenants")
    return wanted
