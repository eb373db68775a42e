"""Nova's server actions (``POST /compute/v2.1/servers/{id}/action``) that change a server's QoS
or its enforcement, with Nova's statuses and messages.

vmqos has no hypervisor, so each action finishes within its request: ``resize`` goes straight
to ``VERIFY_RESIZE`` with the new flavor embedded (Nova runs the instance on the new flavor
while it waits for confirmation, so the server's plan follows it); ``confirmResize`` drops the
old flavor; ``revertResize`` puts it back. ``os-stop`` / ``os-start`` / ``reboot`` move the
power state. Which vm_states allow an action is Nova's ``@check_instance_state`` on
``nova/compute/api.py`` (``stop``, ``start``, ``_soft_reboot``, ``_hard_reboot``, ``resize``,
``confirm_resize``, ``revert_resize``); a refusal is
``nova/api/openstack/common.py`` ``raise_http_conflict_for_instance_invalid_state``'s 409,
named by the action name the controller passes (``'start'`` for ``os-start``).

An action Nova does not have is 400 "There is no such action: X" (``nova/api/openstack/wsgi.py``
``Resource._process_stack``); one Nova has but vmqos does not model (pause, shelve, rebuild, ...)
is 409 ``conflictingRequest`` saying so — never 404, which would read as if the server were gone.
Another project's server is 404, as every Nova server route answers it. A body is judged by
Nova's schema for its action (:data:`vmqos.intent.nova.request_schemas.SERVER_ACTIONS`) before
the server is looked up and before the policy, as Nova's ``@validation.schema`` does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy.orm import Session

from vmqos.api import server_placement
from vmqos.api.compute_flavors import visible_flavor
from vmqos.api.context import app_state, caller, nova_forbidden, require_member
from vmqos.api.errors import ApiError
from vmqos.api.plan_view import server_plan
from vmqos.api.server_views import POWER_RUNNING, POWER_SHUTDOWN
from vmqos.errors import IntentError, NotFoundError
from vmqos.intent.nova.json_schema import validate_body
from vmqos.intent.nova.request_schemas import SERVER_ACTIONS
from vmqos.intent.scheduling import NO_VALID_HOST
from vmqos.store import compute
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Server, utcnow
from vmqos.store.scenario import flavor_snapshot

__all__ = ["KNOWN_UNSUPPORTED", "router"]

router = APIRouter(prefix="/compute/v2.1", tags=["compute"])
Caller = Annotated[TokenInfo, Depends(caller)]


# Server actions Nova's compute API declares (``@wsgi.action`` under
# nova/api/openstack/compute/) that have no meaning without a hypervisor here.
KNOWN_UNSUPPORTED = frozenset({
    "addFixedIp", "addFloatingIp", "addSecurityGroup", "changePassword", "createBackup",
    "createImage", "evacuate", "forceDelete", "injectNetworkInfo", "lock", "migrate",
    "os-getConsoleOutput", "os-getRDPConsole", "os-getSPICEConsole", "os-getSerialConsole",
    "os-getVNCConsole", "os-migrateLive", "os-resetState", "pause", "rebuild", "removeFixedIp",
    "removeFloatingIp", "removeSecurityGroup", "rescue", "resetNetwork", "restore", "resume",
    "shelve", "shelveOffload", "suspend", "trigger_crash_dump", "unlock", "unpause",
    "unrescue", "unshelve"})

# vm_states each action accepts (nova/compute/api.py @check_instance_state; reboot's sets are
# nova/compute/vm_states.py ALLOW_SOFT_REBOOT and ALLOW_HARD_REBOOT).
_ALLOWED = {
    "stop": ("active", "error"),
    "start": ("stopped",),
    "reboot-SOFT": ("active",),
    "reboot-HARD": ("active", "stopped", "paused", "suspended", "error"),
    "resize": ("active", "stopped"),
    "confirmResize": ("resized",),
    "revertResize": ("resized",),
}


def _check_state(server: Server, rule: str, action: str) -> None:
    if server.vm_state not in _ALLOWED[rule]:
        raise ApiError(409, f"Cannot '{action}' instance {server.id} while it is in vm_state "
                            f"{server.vm_state}")


def _settle(server: Server) -> None:
    """After a resize is confirmed or reverted, the server is as its power state says
    (nova/compute/manager.py: STOPPED if it was powered off, else ACTIVE)."""
    if server.power_state == POWER_SHUTDOWN:
        server.status, server.vm_state = "SHUTOFF", "stopped"
    else:
        server.status, server.vm_state = "ACTIVE", "active"


def _reboot(server: Server, body: dict[str, Any]) -> None:
    _check_state(server, f"reboot-{str(body['reboot']['type']).upper()}", "reboot")
    server.status, server.vm_state, server.power_state = "ACTIVE", "active", POWER_RUNNING


def _resize(request: Request, who: TokenInfo, session: Session, server: Server,
            body: dict[str, Any]) -> None:
    # nova/compute/api.py resize, once the body passed schemas/servers.py ``resize``
    ref = body["resize"]["flavorRef"]
    _check_state(server, "resize", "resize")
    flavor_id = str(ref).rstrip("/").rsplit("/", 1)[-1]
    state = app_state(request)
    try:  # as at boot: a flavor the caller cannot see is FlavorNotFound, 400
        flavor = visible_flavor(session, flavor_id, who)
    except NotFoundError as missing:
        raise ApiError(400, missing.message) from None
    if flavor.id == server.flavor["id"]:
        raise ApiError(400, "When resizing, instances must change flavor!")
    if flavor.disabled:
        raise ApiError(400, f"Flavor {flavor_id} could not be found.")
    if flavor.disk == 0 and server.flavor["disk"] != 0:
        raise ApiError(400, "Server disk was unable to be resized because: Resize to zero "
                            "disk flavor is not allowed.")
    old = server.flavor
    server.flavor = flavor_snapshot(flavor.id, flavor.name, flavor.vcpus, flavor.ram,
                                    flavor.disk, flavor.swap, flavor.ephemeral,
                                    flavor.extra_specs)
    try:  # the compute node must be able to run the new flavor, as it must at boot
        server_plan(session, server, backend=state.settings.neutron_backend,
                    profile=state.settings.profile)
    except IntentError as exc:
        server.flavor = old
        raise ApiError(400, exc.message) from exc
    moved = server_placement.reschedule_for_resize(session, server, flavor,
                                                   profile=state.settings.profile)
    if moved is False:
        # The conductor's NoValidHost for a resize (a cast: the API said 202): the server
        # keeps its flavor and state, the fault is recorded (conductor/manager.py).
        server.flavor = old
        server.fault = {"code": 500, "created": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "message": NO_VALID_HOST + "No valid host found for resize"}
        return
    server.old_flavor = old
    server.status, server.vm_state = "VERIFY_RESIZE", "resized"


def _confirm(server: Server) -> None:
    _check_state(server, "confirmResize", "confirmResize")
    if server.old_flavor is None:
        raise ApiError(400, "Instance has not been resized.")
    server.old_flavor = None
    server_placement.confirm_resize(server)
    _settle(server)


def _revert(session: Session, server: Server) -> None:
    _check_state(server, "revertResize", "revertResize")
    if server.old_flavor is None:
        raise ApiError(400, "Instance has not been resized.")
    server.flavor, server.old_flavor = server.old_flavor, None
    server_placement.revert_resize(session, server)
    _settle(server)


_POLICY = {"os-stop": "stop", "os-start": "start", "reboot": "reboot", "resize": "resize",
           "confirmResize": "confirm_resize", "revertResize": "revert_resize"}
_STATUS = {"confirmResize": 204}


@router.post("/servers/{server_id}/action", status_code=202, response_class=Response,
             summary="Act on a server")
def server_action(server_id: str, request: Request, who: Caller,
                  body: Annotated[dict[str, Any], Body()]) -> Response:
    """``resize`` / ``confirmResize`` / ``revertResize``, ``os-stop`` / ``os-start``,
    ``reboot``: 202 (``confirmResize`` 204) with no body, as Nova answers them."""
    if len(body) != 1:  # nova/api/openstack/wsgi.py action_peek: exactly one key
        raise ApiError(400, "Malformed request body")
    action = next(iter(body))
    if action not in _POLICY and action not in KNOWN_UNSUPPORTED:
        raise ApiError(400, f"There is no such action: {action}")
    if action in SERVER_ACTIONS:  # Nova's schema, before the server and the policy
        validate_body(SERVER_ACTIONS[action], body)
    with app_state(request).db.write() as session:
        server = compute.get_server(session, server_id,
                                    project_id=None if who.is_admin else who.project_id)
        if action in KNOWN_UNSUPPORTED:
            raise ApiError(409, f"Action '{action}' is not supported by vmqos: it models "
                                "no hypervisor that could carry it out.")
        require_member(who, nova_forbidden(f"os_compute_api:servers:{_POLICY[action]}"))
        if action == "os-stop":
            _check_state(server, "stop", "stop")
            server.status, server.vm_state, server.power_state = ("SHUTOFF", "stopped",
                                                                  POWER_SHUTDOWN)
        elif action == "os-start":
            _check_state(server, "start", "start")
            server.status, server.vm_state, server.power_state = ("ACTIVE", "active",
                                                                  POWER_RUNNING)
        elif action == "reboot":
            _reboot(server, body)
        elif action == "resize":
            _resize(request, who, session, server, body)
        elif action == "confirmResize":
            _confirm(server)
        else:
            _revert(session, server)
        server.updated_at = utcnow()
    return Response(status_code=_STATUS.get(action, 202))
