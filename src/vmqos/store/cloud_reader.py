"""Read any OpenStack cloud (named in clouds.yaml) through openstacksdk into a :class:`Scenario`.

What is read, with the rights of the configured user (an admin sees every project):

* servers (``all_projects`` when allowed) with the flavor **embedded at boot** (microversion
  >= 2.47; an older cloud's flavor is fetched with its extra specs), NIC order from
  ``os-interface``, owner names from Keystone when it answers;
* their ports (``binding:vif_type``/``vif_details``/``vnic_type`` become a VifType through
  :func:`vmqos.store.scenario.vif_type_of`; non-admins do not see the binding and get
  Neutron's default, hybrid OVS), their networks, and every visible QoS policy, whose rules
  are re-validated by :func:`vmqos.intent.neutron.rules.parse_rule`;
* the QoS backend from the rule-type details (admin only) unless given.

openstacksdk's and keystoneauth's exceptions are translated here, once: an unknown cloud or a
rejected credential is a :class:`ValidationError` (fix the configuration), an unreachable or
failing cloud a :class:`TemporaryHostError`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from vmqos.errors import NotFoundError, TemporaryHostError, ValidationError
from vmqos.intent.neutron.capabilities import BACKENDS
from vmqos.intent.neutron.model import QosPolicy, RuleType
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.neutron.rules import API_ATTRIBUTES, parse_rule
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Scenario, Server
from vmqos.model import NeutronBackend
from vmqos.store.scenario import vif_type_of

__all__ = ["read_cloud"]

_DRIVER_BACKEND = {drv.name: backend for backend, drv in BACKENDS.items()}


def _as_dict(resource: Any) -> dict[str, Any]:
    data: dict[str, Any] = resource.to_dict() if hasattr(resource, "to_dict") else dict(resource)
    return data


def _rule_body(rule: Mapping[str, Any]) -> dict[str, object]:
    kind = RuleType(rule["type"])
    names = {a.name for a in API_ATTRIBUTES[kind]}
    return {k: v for k, v in rule.items() if k in names}


def _policies(conn: Any) -> list[QosPolicy]:
    out = []
    for raw in conn.network.qos_policies():
        data = _as_dict(raw)
        rules = tuple(parse_rule(r["type"], _rule_body(r), rule_id=r.get("id", ""))
                      for r in data.get("rules") or ())
        out.append(QosPolicy(name=data.get("name") or "", id=data["id"],
                             description=data.get("description") or "",
                             shared=bool(data.get("is_shared")),
                             is_default=bool(data.get("is_default")),
                             project_id=data.get("project_id") or "", rules=rules))
    return out


def _libvirt_time(iso: str | None) -> str:
    """``2018-04-16T12:48:32Z`` -> ``2018-04-16 12:48:32`` (``<nova:creationTime>``)."""
    match = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)", iso or "")
    return f"{match.group(1)} {match.group(2)}" if match else ""


def _name_of(lookup: Any, ident: str) -> str:
    try:
        found = lookup(ident)
    except Exception:
        return ident
    return str(getattr(found, "name", None) or ident)


class _Reader:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.networks: dict[str, Network] = {}
        self.ports: dict[str, Port] = {}
        self.flavors: dict[str, Flavor] = {}
        self.names: dict[str, str] = {}

    def network(self, network_id: str) -> None:
        if network_id in self.networks:
            return
        data = _as_dict(self.conn.network.get_network(network_id))
        self.networks[network_id] = Network(
            name=data.get("name") or network_id, id=network_id,
            qos_policy_id=data.get("qos_policy_id"),
            network_type=data.get("provider_network_type") or "vxlan",
            physical_network=data.get("provider_physical_network"),
            mtu=int(data.get("mtu") or 1500))

    def port(self, port_id: str) -> str:
        data = _as_dict(self.conn.network.get_port(port_id))
        fixed = data.get("fixed_ips") or []
        self.ports[port_id] = Port(
            id=port_id, network_id=data["network_id"], mac=data.get("mac_address") or "",
            name=data.get("name") or "", device_owner=data.get("device_owner") or "",
            vnic_type=data.get("binding_vnic_type") or "normal",
            vif_type=vif_type_of(data.get("binding_vif_type"), data.get("binding_vnic_type"),
                                 data.get("binding_vif_details")),
            qos_policy_id=data.get("qos_policy_id"),
            fixed_ip=fixed[0].get("ip_address", "") if fixed else "")
        self.network(data["network_id"])
        return port_id

    def flavor(self, server: Mapping[str, Any]) -> str:
        embedded = server.get("flavor") or {}
        if embedded.get("original_name"):
            data, name, flavor_id = embedded, embedded["original_name"], ""
        else:  # before microversion 2.47 the server only links its flavor
            found = self.conn.compute.get_flavor(embedded["id"], get_extra_specs=True)
            data = _as_dict(found)
            name, flavor_id = data["name"], data["id"]
        specs = dict(data.get("extra_specs") or {})
        # One flavor value per distinct embedded flavor: the same name may have changed since.
        key = f"{name}@{sorted(specs.items())}"
        if key not in self.flavors:
            ident = flavor_id or (name if not any(
                f.name == name for f in self.flavors.values())
                else f"{name}#{len(self.flavors)}")
            # Building the Flavor validates and parses its quota:* specs (Nova's messages).
            self.flavors[key] = Flavor(name=name, vcpus=int(data["vcpus"]), ram=int(data["ram"]),
                                       disk=int(data["disk"]),
                                       ephemeral=int(data.get("ephemeral") or 0),
                                       swap=int(data.get("swap") or 0), id=ident,
                                       extra_specs=specs)
        return self.flavors[key].id

    def owner(self, kind: str, ident: str) -> str:
        if ident not in self.names:
            lookup = (self.conn.identity.get_user if kind == "user"
                      else self.conn.identity.get_project)
            self.names[ident] = _name_of(lookup, ident) if ident else ""
        return self.names[ident]

    def server(self, raw: Any) -> Server:
        data = _as_dict(raw)
        try:
            port_ids = [i.port_id for i in self.conn.compute.server_interfaces(data["id"])]
        except Exception:
            port_ids = [p.id for p in self.conn.network.ports(device_id=data["id"])]
        ports = tuple(self.port(p) for p in port_ids)
        image = data.get("image") or {}
        return Server(
            name=data["name"], flavor=self.flavor(data), ports=ports, id=data["id"],
            image_id=image.get("id") or None, instance_name=data.get("instance_name") or "",
            created=_libvirt_time(data.get("created_at")), user_id=data.get("user_id") or "",
            user_name=self.owner("user", data.get("user_id") or ""),
            project_id=data.get("project_id") or "",
            project_name=self.owner("project", data.get("project_id") or ""),
            availability_zone=data.get("availability_zone") or "nova")


def _backend(conn: Any) -> NeutronBackend:
    try:
        details = conn.network.get("/qos/rule-types/bandwidth_limit").json()
        drivers = details["rule_type"]["drivers"]
    except Exception:
        return NeutronBackend.OVS
    names = [_DRIVER_BACKEND.get(d.get("name", "")) for d in drivers]
    known = [n for n in names if n]
    return known[0] if known else NeutronBackend.OVS


def _servers(conn: Any) -> Iterable[Any]:
    from openstack import exceptions as sdk_exc  # noqa: PLC0415 - see read_cloud

    try:
        return list(conn.compute.servers(details=True, all_projects=True))
    except sdk_exc.ForbiddenException:
        return list(conn.compute.servers(details=True))


@contextmanager
def _sdk_logs_quiet() -> Iterator[None]:
    """keystoneauth and openstacksdk log their own warnings ("Failed to discover available
    identity versions ...") to stderr through Python's last-resort handler; the error raised
    here says the same in one line, so silence them while reading."""
    loggers = [logging.getLogger(name) for name in ("keystoneauth", "openstack")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _read(cloud: str, *, backend: NeutronBackend | None, profile: str,
          server: str | None) -> Scenario:
    import openstack  # noqa: PLC0415 - see read_cloud

    conn = openstack.connect(cloud=cloud)
    reader = _Reader(conn)
    servers = [s for s in _servers(conn) if server in (None, s.name, s.id)]
    if server is not None and not servers:
        raise NotFoundError(f"--server: no server named {server!r} in cloud {cloud!r}",
                            kind="InstanceNotFound", key="--server", value=server)
    values = tuple(reader.server(s) for s in servers)
    return Scenario(flavors=tuple(reader.flavors.values()), policies=tuple(_policies(conn)),
                    networks=tuple(reader.networks.values()),
                    ports=tuple(reader.ports.values()), servers=values,
                    neutron_backend=backend or _backend(conn), profile=profile)


def read_cloud(cloud: str, *, backend: NeutronBackend | None = None, profile: str = "modern",
               server: str | None = None) -> Scenario:
    """The cloud ``cloud`` as a scenario; ``server`` (a name or id) reads only that one."""
    # openstacksdk takes ~1 s to import; only `explain --cloud` pays for it.
    import keystoneauth1.exceptions as ks_exc  # noqa: PLC0415
    from openstack import exceptions as sdk_exc  # noqa: PLC0415

    try:
        with _sdk_logs_quiet():
            return _read(cloud, backend=backend, profile=profile, server=server)
    except sdk_exc.ConfigException as exc:
        raise ValidationError(f"--cloud {cloud!r}: {exc}", key="--cloud", value=cloud,
                              allowed="a cloud named in clouds.yaml") from exc
    except (ks_exc.Unauthorized, sdk_exc.HttpException) as exc:
        status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
        if status in (401, 403):
            raise ValidationError(f"cloud {cloud!r} refused the credentials: {exc}",
                                  key="--cloud", value=cloud) from exc
        raise TemporaryHostError(f"cloud {cloud!r} failed: {exc}") from exc
    except ks_exc.ClientException as exc:
        raise TemporaryHostError(f"cannot reach cloud {cloud!r}: {exc}") from exc
