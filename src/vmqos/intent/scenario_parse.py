"""Turn a loaded scenario document (YAML or JSON, already parsed) into a :class:`Scenario`.

Every value goes through the same validation as Nova (flavor extra specs, microversion
>= 2.86) and Neutron (rules, rule conflicts); every reference (a port's network, a server's
flavor and ports, a policy name) must resolve. Errors name the path into the document
(``servers[1].flavor``) so a user can find the line to fix. Missing ids are derived
deterministically from names, so the same file always yields the same plan.

Every flavor, policy, rule, network, port and server is built through one
:class:`~vmqos.intent.set_aside.Triage`: by default the first error propagates; with
``keep_going`` the element is set aside with a finding, elements referring to it are set aside
in turn, and the rest is parsed as usual. The document's own shape (a mapping, its top-level
keys, the backend) is never set aside: without it there is nothing to explain.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TypeVar

from vmqos.errors import IntentError, ValidationError
from vmqos.intent.neutron.model import QosPolicy
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.neutron.policy import add_rule
from vmqos.intent.neutron.rules import parse_rule
from vmqos.intent.nova.extra_specs import QUOTA_SPECS
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.scenario import Scenario, Server, Volume
from vmqos.intent.set_aside import Element, Triage
from vmqos.model import NeutronBackend, VifType

__all__ = ["parse_scenario"]

_NAMESPACE = uuid.UUID("6f0c8a52-6d1f-4b1e-9a57-2a7f1bb1a9d4")
_T = TypeVar("_T")


def _derived_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


class _Doc:
    """A view of one mapping in the document that knows its path, for error messages."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ValidationError(
                f"{path or 'scenario'}: expected a mapping, got {type(data).__name__}",
                key=path, value=data, allowed="a mapping of keys to values",
            )
        self.data: Mapping[str, object] = data
        self.path = path

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def check_keys(self, allowed: Sequence[str]) -> None:
        unknown = sorted(set(map(str, self.data)) - set(allowed))
        if unknown:
            raise ValidationError(
                f"{self._key(unknown[0])}: unknown key; allowed keys: {', '.join(allowed)}",
                key=self._key(unknown[0]), value=unknown[0], allowed=", ".join(allowed),
            )

    def get_str(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise ValidationError(f"{self._key(key)}: required", key=self._key(key),
                                  value=None, allowed="a string")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(f"{self._key(key)}: expected a string, got {value!r}",
                                  key=self._key(key), value=value, allowed="a string")
        return str(value)

    def get_opt_str(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.get_str(key)

    def get_int(self, key: str, default: int | None = None, *, minimum: int = 0,
                maximum: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(str(value))
            except ValueError:
                raise ValidationError(
                    f"{self._key(key)}: {value!r} is not an integer",
                    key=self._key(key), value=value, allowed=f"an integer >= {minimum}",
                ) from None
        allowed = (f"an integer >= {minimum}" if maximum is None else
                   f"an integer from {minimum} to {maximum}")
        if value < minimum:
            raise ValidationError(f"{self._key(key)}: {value} is less than {minimum}",
                                  key=self._key(key), value=value, allowed=allowed)
        if maximum is not None and value > maximum:
            raise ValidationError(f"{self._key(key)}: {value} is more than {maximum}",
                                  key=self._key(key), value=value, allowed=allowed)
        return value

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ValidationError(f"{self._key(key)}: expected true or false, got {value!r}",
                                  key=self._key(key), value=value, allowed="true, false")
        return value

    def get_list(self, key: str) -> list[tuple[str, object]]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise ValidationError(f"{self._key(key)}: expected a list", key=self._key(key),
                                  value=value, allowed="a list")
        return [(f"{self._key(key)}[{i}]", item) for i, item in enumerate(value)]

    def get_mapping(self, key: str) -> dict[str, str]:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise ValidationError(f"{self._key(key)}: expected a mapping", key=self._key(key),
                                  value=value, allowed="a mapping of keys to values")
        # Nova stores extra spec values as strings; YAML may have produced ints.
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in value.items()}


def _label(raw: object, key: str, default: str) -> str:
    """An element's ``key`` (its name or id) for a set-aside entry, before it is validated;
    ``default`` (its path) when it has none."""
    value = raw.get(key) if isinstance(raw, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return default
    return str(value)


def _lookup(items: Mapping[str, _T], ref: str, path: str, kind: str,
            refers_to: tuple[Triage, Element] | None = None) -> _T:
    if refers_to is not None:
        triage, element = refers_to
        triage.require(element, ref, key=path)
    try:
        return items[ref]
    except KeyError:
        known = ", ".join(sorted(items)) or "none defined"
        raise ValidationError(f"{path}: no {kind} named {ref!r}; known: {known}",
                              key=path, value=ref, allowed=known) from None


def _prefixed(path: str, parse: Callable[[], _T]) -> _T:
    """Run a Nova/Neutron validator and prefix its message with the document path."""
    try:
        return parse()
    except IntentError as exc:
        exc.message = f"{path}: {exc.message}"
        exc.args = (exc.message,)
        raise


def _parse_flavor(path: str, raw: object, triage: Triage) -> Flavor | None:
    doc = _Doc(raw, path)
    doc.check_keys(("name", "id", "vcpus", "ram", "disk", "ephemeral", "swap", "is_public",
                    "properties"))
    name = doc.get_str("name")
    specs = doc.get_mapping("properties")
    flavor_id = doc.get_str("id", _derived_id("flavor", name))
    vcpus = doc.get_int("vcpus", 1, minimum=1)
    ram = doc.get_int("ram", 512, minimum=1)
    disk = doc.get_int("disk", 1)
    ephemeral = doc.get_int("ephemeral", 0)
    swap = doc.get_int("swap", 0)
    is_public = doc.get_bool("is_public", True)

    def build(kept: Mapping[str, str]) -> Flavor:
        # Building the Flavor validates and parses its quota:* specs, once.
        return Flavor(name=name, id=flavor_id, vcpus=vcpus, ram=ram, disk=disk,
                      ephemeral=ephemeral, swap=swap, is_public=is_public, extra_specs=kept)

    try:
        return triage.flavor(name, flavor_id, specs, build)
    except IntentError as exc:
        # Name the offending key (a flavor may carry a dozen quota:* specs) and, for a key
        # Nova knows, what it takes (Nova's own message does not always say).
        allowed = f" Allowed: {exc.allowed}." if exc.key in QUOTA_SPECS and exc.allowed else ""
        exc.message = f"{path}.properties[{exc.key!r}]: {exc.message}{allowed}"
        exc.args = (exc.message,)
        raise


def _add_rule(policy: QosPolicy, rule_path: str, raw_rule: object) -> QosPolicy:
    rule_doc = _Doc(raw_rule, rule_path)
    rule_type = rule_doc.get_str("type").replace("-", "_")
    body = {k: v for k, v in rule_doc.data.items() if k != "type"}
    rule_id = str(body.pop("id", _derived_id("rule", f"{policy.name}:{rule_path}")))
    rule = _prefixed(rule_path, partial(parse_rule, rule_type, body, rule_id=rule_id))
    return _prefixed(rule_path, partial(add_rule, policy, rule))


def _parse_policy(path: str, raw: object, triage: Triage) -> QosPolicy:
    doc = _Doc(raw, path)
    doc.check_keys(("name", "id", "description", "shared", "is_default", "project_id", "rules"))
    name = doc.get_str("name")
    policy = QosPolicy(
        name=name,
        id=doc.get_str("id", _derived_id("policy", name)),
        description=doc.get_str("description", ""),
        shared=doc.get_bool("shared", False),
        is_default=doc.get_bool("is_default", False),
        project_id=doc.get_str("project_id", ""),
    )
    for rule_path, raw_rule in doc.get_list("rules"):
        added = triage.attempt(Element.RULE, name, partial(_add_rule, policy, rule_path,
                                                           raw_rule), id=policy.id)
        if added is not None:  # a rule set aside leaves the policy explained without it
            policy = added
    return policy


def _parse_network(path: str, raw: object, triage: Triage,
                   policy_ids: Mapping[str, str]) -> Network:
    net = _Doc(raw, path)
    net.check_keys(("name", "id", "qos_policy", "network_type", "physical_network", "mtu",
                    "segmentation_id"))
    name = net.get_str("name")
    qos = net.get_opt_str("qos_policy")
    return Network(
        name=name,
        id=net.get_str("id", _derived_id("network", name)),
        qos_policy_id=None if qos is None else _lookup(
            policy_ids, qos, f"{path}.qos_policy", "QoS policy", (triage, Element.POLICY)),
        network_type=net.get_str("network_type", "vlan"),
        physical_network=net.get_opt_str("physical_network"),
        mtu=net.get_int("mtu", 1500, minimum=68),
        # Neutron's VLAN range (plugins/ml2/drivers/type_vlan.py, 1 through 4094).
        segmentation_id=None if net.data.get("segmentation_id") is None else net.get_int(
            "segmentation_id", minimum=1, maximum=4094),
    )


_VIF_TYPES = {v.value: v for v in VifType}


def _parse_port(path: str, raw: object, triage: Triage, policy_ids: Mapping[str, str],
                network_ids: Mapping[str, str]) -> Port:
    port = _Doc(raw, path)
    port.check_keys(("id", "name", "network", "mac", "device_owner", "vnic_type",
                     "vif_type", "qos_policy", "fixed_ip"))
    qos = port.get_opt_str("qos_policy")
    return Port(
        id=port.get_str("id"),
        name=port.get_str("name", ""),
        network_id=_lookup(network_ids, port.get_str("network"), f"{path}.network", "network",
                           (triage, Element.NETWORK)),
        mac=port.get_str("mac", ""),
        device_owner=port.get_str("device_owner", "compute:nova"),
        vnic_type=port.get_str("vnic_type", "normal"),
        vif_type=_lookup(_VIF_TYPES, port.get_str("vif_type", VifType.OVS_HYBRID.value),
                         f"{path}.vif_type", "VIF type"),
        qos_policy_id=None if qos is None else _lookup(
            policy_ids, qos, f"{path}.qos_policy", "QoS policy", (triage, Element.POLICY)),
        fixed_ip=port.get_str("fixed_ip", ""),
    )


def _parse_server(index: int, path: str, raw: object, triage: Triage,
                  port_ids: Mapping[str, str], flavor_refs: Mapping[str, str],
                  used_ports: dict[str, str]) -> Server:
    srv = _Doc(raw, path)
    srv.check_keys(("name", "id", "flavor", "image", "ports", "instance_name", "domain_id",
                    "volumes", "created", "user_id", "user_name", "project_id",
                    "project_name", "availability_zone"))
    name = srv.get_str("name")
    server_ports: list[str] = []
    for port_path, ref in srv.get_list("ports"):
        port_id = _lookup(port_ids, str(ref), port_path, "port", (triage, Element.PORT))
        owner = used_ports.get(port_id, name if port_id in server_ports else None)
        if owner is not None:
            raise ValidationError(
                f"{port_path}: port {ref!r} is already bound to server {owner!r}",
                key=port_path, value=ref, allowed="a port not used by another server")
        server_ports.append(port_id)
    volumes = []
    for vol_path, raw_vol in srv.get_list("volumes"):
        vol = _Doc(raw_vol, vol_path)
        vol.check_keys(("id", "target_dev", "qos_specs"))
        volumes.append(Volume(id=vol.get_str("id"), target_dev=vol.get_str("target_dev", "vdb"),
                              qos_specs=vol.get_mapping("qos_specs")))
    domain_id = srv.data.get("domain_id")
    server = Server(
        name=name,
        id=srv.get_str("id", _derived_id("server", name)),
        flavor=_lookup(flavor_refs, srv.get_str("flavor"), f"{path}.flavor", "flavor",
                       (triage, Element.FLAVOR)),
        ports=tuple(server_ports),
        image_id=srv.get_opt_str("image"),
        instance_name=srv.get_str("instance_name", f"instance-{index + 1:08x}"),
        domain_id=None if domain_id is None else srv.get_int("domain_id", minimum=1),
        volumes=tuple(volumes),
        created=srv.get_str("created", "2018-04-16 12:48:40"),
        user_id=srv.get_str("user_id", _derived_id("user", srv.get_str("user_name", "admin"))
                            .replace("-", "")),
        user_name=srv.get_str("user_name", "admin"),
        project_id=srv.get_str("project_id", _derived_id("project", srv.get_str(
            "project_name", "admin")).replace("-", "")),
        project_name=srv.get_str("project_name", "admin"),
        availability_zone=srv.get_str("availability_zone", "nova"),
    )
    # Bound only once the whole server is valid: a server set aside binds no port.
    used_ports.update(dict.fromkeys(server_ports, name))
    return server


def _kept(items: list[_T | None]) -> list[_T]:
    return [item for item in items if item is not None]


def parse_scenario(data: object, *, keep_going: bool = False) -> Scenario:
    """Validate a whole scenario document and resolve every reference in it; ``keep_going``
    sets aside each element that fails (:class:`~vmqos.intent.set_aside.Triage`) instead of
    raising the first error."""
    triage = Triage(keep_going=keep_going)
    doc = _Doc(data, "")
    doc.check_keys(("profile", "neutron_backend", "flavors", "policies", "networks", "ports",
                    "servers"))
    name = doc.get_str("neutron_backend", "ovs")
    try:
        backend = NeutronBackend(name)
    except ValueError:
        allowed = ", ".join(NeutronBackend)
        raise ValidationError(
            f"neutron_backend: {name!r} is not a supported backend; choose one of: {allowed}",
            key="neutron_backend", value=name, allowed=allowed) from None

    def attempt(element: Element, key: str, path: str, raw: object,
                build: Callable[[], _T | None]) -> _T | None:
        return triage.attempt(element, _label(raw, key, path), build,
                              id=_label(raw, "id", ""), refs=(_label(raw, "name", ""),))

    flavors = _kept([attempt(Element.FLAVOR, "name", p, raw,
                             partial(_parse_flavor, p, raw, triage))
                     for p, raw in doc.get_list("flavors")])
    policies = _kept([attempt(Element.POLICY, "name", p, raw,
                              partial(_parse_policy, p, raw, triage))
                      for p, raw in doc.get_list("policies")])
    policy_ids = {ref: pol.id for pol in policies for ref in (pol.name, pol.id)}
    networks = _kept([attempt(Element.NETWORK, "name", p, raw,
                              partial(_parse_network, p, raw, triage, policy_ids))
                      for p, raw in doc.get_list("networks")])
    network_ids = {ref: n.id for n in networks for ref in (n.name, n.id)}
    ports = _kept([attempt(Element.PORT, "id", p, raw,
                           partial(_parse_port, p, raw, triage, policy_ids, network_ids))
                   for p, raw in doc.get_list("ports")])
    port_ids = {ref: p.id for p in ports for ref in (p.id, p.name) if ref}
    flavor_refs = {ref: f.name for f in flavors for ref in (f.name, f.id)}
    used_ports: dict[str, str] = {}
    servers = _kept([attempt(Element.SERVER, "name", p, raw,
                             partial(_parse_server, i, p, raw, triage, port_ids, flavor_refs,
                                     used_ports))
                     for i, (p, raw) in enumerate(doc.get_list("servers"))])

    return Scenario(
        flavors=tuple(flavors),
        policies=tuple(policies),
        networks=tuple(networks),
        ports=tuple(ports),
        servers=tuple(servers),
        neutron_backend=backend,
        profile=doc.get_str("profile", "modern"),
        set_aside=triage.set_aside,
    )
