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

A cloud is read to the end, always: every flavor, rule and server goes through one
:class:`~vmqos.intent.set_aside.Triage` that keeps going, so a flavor Nova stored unchecked
below microversion 2.86, a rule Neutron refuses today, a server in ERROR or one whose flavor or
port is gone is set aside with a finding (``Scenario.set_aside``) and the rest is explained.
A resource that answers 404 while it is read is a :class:`NotFoundError` for that element.

openstacksdk's and keystoneauth's exceptions are translated here, once: an unknown cloud or a
rejected credential is a :class:`ValidationError` (fix the configuration), an unreachable or
failing cloud a :class:`TemporaryHostError`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

from vmqos.errors import NotFoundError, TemporaryHostError, ValidationError
from vmqos.intent.neutron.capabilities import BACKENDS
from vmqos.intent.neutron.model import QosPolicy, Rule, RuleType
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.neutron.rules import API_ATTRIBUTES, parse_rule
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Scenario, Server
from vmqos.intent.set_aside import Element, InErrorState, Triage
from vmqos.model import NeutronBackend
from vmqos.store.scenario import vif_type_of

__all__ = ["read_cloud"]

_DRIVER_BACKEND = {drv.name: backend for backend, drv in BACKENDS.items()}


def _as_dict(resource: Any) -> dict[str, Any]:
    data: dict[str, Any] = resource.to_dict() if hasattr(resource, "to_dict") else dict(resource)
    return data


def _rule_body(rule: Mapping[str, Any]) -> dict[str, object]:
    try:
        kind = RuleType(rule.get("type"))
    except ValueError:  # parse_rule refuses the type itself, with Neutron's message
        return {}
    names = {a.name for a in API_ATTRIBUTES[kind]}
    return {k: v for k, v in rule.items() if k in names}


def _policies(conn: Any, triage: Triage) -> list[QosPolicy]:
    out = []
    for raw in conn.network.qos_policies():
        data = _as_dict(raw)
        name = data.get("name") or ""
        parsed: list[Rule | None] = [
            triage.attempt(Element.RULE, name, partial(parse_rule, str(r.get("type")),
                                                       _rule_body(r), rule_id=r.get("id", "")),
                           id=data["id"])
            for r in data.get("rules") or ()]
        out.append(QosPolicy(name=name, id=data["id"],
                             description=data.get("description") or "",
                             shared=bool(data.get("is_shared")),
                             is_default=bool(data.get("is_default")),
                             project_id=data.get("project_id") or "",
                             rules=tuple(r for r in parsed if r is not None)))
    return out


def _found(kind: str, ident: str, get: Callable[[], Any]) -> dict[str, Any]:
    """``get()`` as a dict; a 404 is the element's own :class:`NotFoundError` (the server
    that refers to it is set aside), any other failure stays the whole read's."""
    from openstack import exceptions as sdk_exc  # noqa: PLC0415 - see read_cloud

    try:
        return _as_dict(get())
    except sdk_exc.NotFoundException as exc:
        raise NotFoundError(f"{kind} {ident} could not be found: {exc}", kind="NotFound",
                            key=kind, value=ident) from exc


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
    def __init__(self, conn: Any, triage: Triage) -> None:
        self.conn = conn
        self.triage = triage
        self.networks: dict[str, Network] = {}
        self.ports: dict[str, Port] = {}
        self.flavors: dict[str, Flavor] = {}        # by the id a server refers to it with
        self.flavor_refs: dict[str, str] = {}       # distinct embedded flavor -> that id
        self.flavor_names: set[str] = set()         # of every one, set aside or not
        self.names: dict[str, str] = {}

    def network(self, network_id: str) -> Network:
        if network_id in self.networks:
            return self.networks[network_id]
        data = _found("network", network_id, lambda: self.conn.network.get_network(network_id))
        self.networks[network_id] = Network(
            name=data.get("name") or network_id, id=network_id,
            qos_policy_id=data.get("qos_policy_id"),
            network_type=data.get("provider_network_type") or "vxlan",
            physical_network=data.get("provider_physical_network"),
            mtu=int(data.get("mtu") or 1500),
            segmentation_id=data.get("provider_segmentation_id"))
        return self.networks[network_id]

    def port(self, port_id: str) -> Port:
        data = _found("port", port_id, lambda: self.conn.network.get_port(port_id))
        fixed = data.get("fixed_ips") or []
        self.network(data["network_id"])
        return Port(
            id=port_id, network_id=data["network_id"], mac=data.get("mac_address") or "",
            name=data.get("name") or "", device_owner=data.get("device_owner") or "",
            vnic_type=data.get("binding_vnic_type") or "normal",
            vif_type=vif_type_of(data.get("binding_vif_type"), data.get("binding_vnic_type"),
                                 data.get("binding_vif_details")),
            qos_policy_id=data.get("qos_policy_id"),
            fixed_ip=fixed[0].get("ip_address", "") if fixed else "")

    def flavor(self, server: Mapping[str, Any]) -> str:
        """The id the server's flavor has in the scenario; its problems are set aside once
        per distinct flavor."""
        embedded = server.get("flavor") or {}
        if embedded.get("original_name"):
            data, name, flavor_id = embedded, embedded["original_name"], ""
        else:  # before microversion 2.47 the server only links its flavor
            data = _found("flavor", embedded.get("id", ""), lambda: self.conn.compute.get_flavor(
                embedded["id"], get_extra_specs=True))
            name, flavor_id = data["name"], data["id"]
        specs = dict(data.get("extra_specs") or {})
        # One flavor value per distinct embedded flavor: the same name may have changed since.
        key = f"{name}@{sorted(specs.items())}"
        if key not in self.flavor_refs:
            taken = name in self.flavor_names
            ident = flavor_id or (f"{name}#{len(self.flavor_refs)}" if taken else name)
            self.flavor_refs[key] = ident
            self.flavor_names.add(name)
            # Building the Flavor validates and parses its quota:* specs (Nova's messages).
            flavor = self.triage.flavor(name, ident, specs, lambda kept: Flavor(
                name=name, vcpus=int(data["vcpus"]), ram=int(data["ram"]),
                disk=int(data["disk"]), ephemeral=int(data.get("ephemeral") or 0),
                swap=int(data.get("swap") or 0), id=ident, extra_specs=kept))
            if flavor is not None:
                self.flavors[ident] = flavor
        return self.flavor_refs[key]

    def owner(self, kind: str, ident: str) -> str:
        if ident not in self.names:
            lookup = (self.conn.identity.get_user if kind == "user"
                      else self.conn.identity.get_project)
            self.names[ident] = _name_of(lookup, ident) if ident else ""
        return self.names[ident]

    def server(self, raw: Any) -> Server | None:
        """The server, or ``None`` when it is set aside (with its finding)."""
        data = _as_dict(raw)
        return self.triage.attempt(Element.SERVER, data.get("name") or data["id"],
                                   partial(self._server, data), id=data["id"])

    def _server(self, data: Mapping[str, Any]) -> Server:
        # The flavor is read first, so that its own problems are reported even for a server
        # in ERROR (a flavor whose spec fails the boot is why many are).
        flavor = self.flavor(data)
        if data.get("status") == "ERROR":
            raise InErrorState((data.get("fault") or {}).get("message") or "")
        self.triage.require(Element.FLAVOR, flavor, key="flavor")
        try:
            port_ids = [i.port_id for i in self.conn.compute.server_interfaces(data["id"])]
        except Exception:
            port_ids = [p.id for p in self.conn.network.ports(device_id=data["id"])]
        ports = [self.port(p) for p in port_ids]
        self.ports.update((p.id, p) for p in ports)  # only a server explained keeps its ports
        image = data.get("image") or {}
        return Server(
            name=data["name"], flavor=flavor, ports=tuple(p.id for p in ports), id=data["id"],
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


def _servers(conn: Any, host: str | None) -> Iterable[Any]:
    """Every server the user sees; with ``host`` only those scheduled to it. Nova's ``host``
    filter is admin-only and silently dropped for others (servers.py ``_get_servers``
    ``remove_invalid_options``), and only an admin sees ``OS-EXT-SRV-ATTR:host``: the server's
    own attribute decides, so a non-admin's read of a host holds no server rather than all."""
    from openstack import exceptions as sdk_exc  # noqa: PLC0415 - see read_cloud

    query = {} if host is None else {"compute_host": host}
    try:
        found = list(conn.compute.servers(details=True, all_projects=True, **query))
    except sdk_exc.ForbiddenException:
        found = list(conn.compute.servers(details=True, **query))
    return found if host is None else [s for s in found if s.compute_host == host]


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
          server: str | None, host: str | None, timeout: float | None) -> Scenario:
    import openstack  # noqa: PLC0415 - see read_cloud

    extra: dict[str, Any] = {} if timeout is None else {"api_timeout": timeout}
    conn = openstack.connect(cloud=cloud, **extra)
    triage = Triage(keep_going=True)
    reader = _Reader(conn, triage)
    servers = [s for s in _servers(conn, host) if server in (None, s.name, s.id)]
    if server is not None and not servers:
        raise NotFoundError(f"--server: no server named {server!r} in cloud {cloud!r}",
                            kind="InstanceNotFound", key="--server", value=server)
    values = tuple(v for v in map(reader.server, servers) if v is not None)
    policies = tuple(_policies(conn, triage))
    return Scenario(flavors=tuple(reader.flavors.values()), policies=policies,
                    networks=tuple(reader.networks.values()),
                    ports=tuple(reader.ports.values()), servers=values,
                    neutron_backend=backend or _backend(conn), profile=profile,
                    set_aside=triage.set_aside)


def read_cloud(cloud: str, *, backend: NeutronBackend | None = None, profile: str = "modern",
               server: str | None = None, host: str | None = None,
               timeout: float | None = None) -> Scenario:
    """The cloud ``cloud`` as a scenario; ``server`` (a name or id) reads only that one,
    ``host`` only the servers scheduled to that compute host (``OS-EXT-SRV-ATTR:host``);
    ``timeout`` bounds each request (seconds; openstacksdk's ``api_timeout``)."""
    # openstacksdk takes ~1 s to import; only `explain --cloud` pays for it.
    import keystoneauth1.exceptions as ks_exc  # noqa: PLC0415
    from openstack import exceptions as sdk_exc  # noqa: PLC0415

    try:
        with _sdk_logs_quiet():
            return _read(cloud, backend=backend, profile=profile, server=server, host=host,
                         timeout=timeout)
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
