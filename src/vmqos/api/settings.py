"""The service's configuration, from ``VMQOS_*`` environment variables.

Environment variables rather than arguments because the application is built by a factory
that any ASGI server can call (``uvicorn --factory vmqos.api.app:create_app``); ``vmqos serve``
sets them from its options.

=========================  ===================================================  ==============
variable                   meaning                                              default
=========================  ===================================================  ==============
``VMQOS_DATA_DIR``         directory of the SQLite database and of image data   ``./vmqos-data``
``VMQOS_DATABASE_URL``     SQLAlchemy URL (``postgresql+psycopg://...``)         SQLite in data dir
``VMQOS_TOKEN_TTL``        token lifetime, seconds                              ``3600``
``VMQOS_PROFILE``          compute-node profile for server plans                ``modern``
``VMQOS_NEUTRON_BACKEND``  QoS backend (``ovs``, ``ovn``, ...)                  ``ovs``
``VMQOS_VIF_TYPE``         how Nova plugs ports (vmqos VifType value)           ``ovs``
``VMQOS_REGION``           the catalog's region                                 ``RegionOne``
=========================  ===================================================  ==============
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from vmqos.errors import ValidationError
from vmqos.model import NeutronBackend, VifType
from vmqos.profile import get_profile
from vmqos.store.db import sqlite_url

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    token_ttl: timedelta = timedelta(hours=1)
    profile: str = "modern"
    neutron_backend: NeutronBackend = NeutronBackend.OVS
    vif_type: VifType = VifType.OVS_BRIDGE
    region: str = "RegionOne"
    # The compute host every server lands on (Nova's OS-EXT-SRV-ATTR:host).
    host: str = "vmqos-compute"

    def __post_init__(self) -> None:
        # from_env parses the name; code that builds Settings by hand may pass it as a string.
        object.__setattr__(self, "neutron_backend", NeutronBackend(self.neutron_backend))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("VMQOS_DATA_DIR", "vmqos-data"))
        url = env.get("VMQOS_DATABASE_URL") or sqlite_url(data_dir.resolve())
        ttl_text = env.get("VMQOS_TOKEN_TTL", "3600")
        try:
            ttl = int(ttl_text)
        except ValueError:
            ttl = 0
        if ttl <= 0:
            raise ValidationError(f"VMQOS_TOKEN_TTL must be a positive number of seconds, "
                                  f"not {ttl_text!r}", key="VMQOS_TOKEN_TTL", value=ttl_text,
                                  allowed="an integer > 0")
        profile = env.get("VMQOS_PROFILE", "modern")
        get_profile(profile)  # an unknown profile fails at start, not at the first server
        backend_text = env.get("VMQOS_NEUTRON_BACKEND", "ovs")
        try:
            backend = NeutronBackend(backend_text)
        except ValueError:
            raise ValidationError(f"VMQOS_NEUTRON_BACKEND: unknown backend {backend_text!r}",
                                  key="VMQOS_NEUTRON_BACKEND", value=backend_text,
                                  allowed=", ".join(NeutronBackend)) from None
        vif_text = env.get("VMQOS_VIF_TYPE", VifType.OVS_BRIDGE.value)
        try:
            vif = VifType(vif_text)
        except ValueError:
            raise ValidationError(f"VMQOS_VIF_TYPE: unknown VIF type {vif_text!r}",
                                  key="VMQOS_VIF_TYPE", value=vif_text,
                                  allowed=", ".join(v.value for v in VifType)) from None
        return cls(database_url=url, data_dir=data_dir, token_ttl=timedelta(seconds=ttl),
                   profile=profile, neutron_backend=backend, vif_type=vif,
                   region=env.get("VMQOS_REGION", "RegionOne"))
