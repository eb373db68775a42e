"""Per-request context: the application state, the caller behind the token, the policies.

* :func:`caller` is the dependency every protected route takes. It reads ``X-Auth-Token``
  (documented in the OpenAPI document as an API-key header), checks it against the store and
  caches the answer until the token expires; a missing, unknown or expired token is 401 in
  keystonemiddleware's body, with its ``WWW-Authenticate`` header.
* The policies are the upstream defaults for the routes served (roles ``admin`` ⊃ ``member`` ⊃
  ``reader``): admins manage flavors, extra specs, QoS policies, provider attributes; members
  create networks, ports and servers in their own project; readers read; nobody sees another
  project's private resources (answered as "not found", as Nova and Neutron do).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from vmqos.api.errors import UNAUTHENTICATED, ApiError
from vmqos.api.settings import Settings
from vmqos.store.db import Database
from vmqos.store.identity import TokenInfo, validate_token
from vmqos.store.image_data import ImageDataStore

__all__ = [
    "AppState",
    "TokenCache",
    "app_state",
    "caller",
    "keystone_forbidden",
    "neutron_forbidden",
    "nova_forbidden",
    "require_member",
]

_TOKEN_HEADER = APIKeyHeader(name="X-Auth-Token", auto_error=False,
                             description="A token from POST /identity/v3/auth/tokens")


class TokenCache:
    """Valid tokens seen recently, so that a request costs no token query (bounded LRU)."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._items: OrderedDict[str, TokenInfo] = OrderedDict()
        self._lock = threading.Lock()
        self._maxsize = maxsize

    def get(self, token: str) -> TokenInfo | None:
        with self._lock:
            info = self._items.get(token)
            if info is None:
                return None
            if info.expires_at <= datetime.now(UTC).replace(tzinfo=None):
                del self._items[token]
                return None
            self._items.move_to_end(token)
            return info

    def put(self, token: str, info: TokenInfo) -> None:
        with self._lock:
            self._items[token] = info
            self._items.move_to_end(token)
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)

    def drop(self, token: str) -> None:
        with self._lock:
            self._items.pop(token, None)

    def drop_where(self, stale: Callable[[TokenInfo], bool]) -> None:
        """Forget every cached token ``stale`` says no longer holds (a user disabled or
        deleted, a project disabled or deleted): the next request reads the store."""
        with self._lock:
            for token in [t for t, info in self._items.items() if stale(info)]:
                del self._items[token]


@dataclass
class AppState:
    settings: Settings
    db: Database
    image_data: ImageDataStore
    tokens: TokenCache = field(default_factory=TokenCache)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.vmqos
    return state


def unauthenticated(request: Request) -> ApiError:
    root = str(request.base_url).rstrip("/")
    return ApiError(401, UNAUTHENTICATED,
                    headers={"WWW-Authenticate": f"Keystone uri=\"{root}/identity\""})


def _lookup(state: AppState, token: str) -> TokenInfo | None:
    with state.db.read() as session:
        return validate_token(session, token)


async def caller(request: Request, token: str | None = Security(_TOKEN_HEADER)) -> TokenInfo:
    # async: a cached token costs no thread hop; only a cache miss reads the database, in
    # the thread pool (FastAPI runs every sync dependency there, ~0.2 ms each under load).
    if not token:
        raise unauthenticated(request)
    state = app_state(request)
    info = state.tokens.get(token)
    if info is None:
        info = await run_in_threadpool(_lookup, state, token)
        if info is None:
            raise unauthenticated(request)
        state.tokens.put(token, info)
    return info


def nova_forbidden(rule: str) -> ApiError:
    return ApiError(403, f"Policy doesn't allow {rule} to be performed.")


def neutron_forbidden(action: str) -> ApiError:
    return ApiError(403, f"(rule:{action}) is disallowed by policy", kind="PolicyNotAuthorized")


def keystone_forbidden(action: str) -> ApiError:
    return ApiError(403, "You are not authorized to perform the requested action: "
                         f"{action}.")


def require_member(who: TokenInfo, error: ApiError) -> None:
    """Writes in one's own project need ``member`` (``admin`` implies it)."""
    if "member" not in who.roles:
        raise error
