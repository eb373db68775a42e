"""A scenario: the flavors, QoS policies, networks, ports and servers of a cloud, as values.

This is what ``vmqos explain SCENARIO.yaml`` reads and what the API stores. The types here are
plain data; :mod:`vmqos.intent.scenario_parse` turns a loaded YAML/JSON mapping into them with
the same validation Nova and Neutron apply. A scenario read while keeping going
(:class:`vmqos.intent.set_aside.Triage`) holds only elements that can be explained, and in
``set_aside`` each element it left out, with its finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vmqos.intent.neutron.model import QosPolicy
from vmqos.intent.neutron.network import Network, Port
from vmqos.intent.nova.flavor import Flavor
from vmqos.intent.set_aside import SetAside
from vmqos.model import NeutronBackend

__all__ = ["Scenario", "Server", "Volume"]


@dataclass(frozen=True, slots=True)
class Volume:
    """An attached Cinder volume and its volume type's front-end QoS specs (Cinder keys)."""

    id: str
    target_dev: str = "vdb"
    qos_specs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    flavor: str                          # flavor name or id
    ports: tuple[str, ...] = ()          # port ids, in NIC order
    id: str = ""
    image_id: str | None = None          # None: boot from volume
    instance_name: str = ""              # libvirt domain name, instance-%08x
    domain_id: int | None = None         # libvirt's running domain id (cgroup paths)
    volumes: tuple[Volume, ...] = ()
    created: str = "2018-04-16 12:48:40"
    user_id: str = ""
    user_name: str = "admin"
    project_id: str = ""
    project_name: str = "admin"
    availability_zone: str = "nova"


@dataclass(frozen=True, slots=True)
class Scenario:
    flavors: tuple[Flavor, ...] = ()
    policies: tuple[QosPolicy, ...] = ()
    networks: tuple[Network, ...] = ()
    ports: tuple[Port, ...] = ()
    servers: tuple[Server, ...] = ()
    neutron_backend: NeutronBackend = NeutronBackend.OVS
    profile: str = "modern"              # a vmqos.profile preset name
    set_aside: tuple[SetAside, ...] = ()  # elements left out, in the order they were read

    def __post_init__(self) -> None:
        # A caller that built the scenario by hand may name the backend ("ovs"); parsed
        # documents already hold the member, for which this is the identity.
        object.__setattr__(self, "neutron_backend", NeutronBackend(self.neutron_backend))

    def flavor(self, ref: str) -> Flavor:
        for flavor in self.flavors:
            if ref in (flavor.name, flavor.id):
                return flavor
        raise KeyError(ref)

    def policy(self, ref: str) -> QosPolicy:
        for policy in self.policies:
            if ref in (policy.name, policy.id):
                return policy
        raise KeyError(ref)

    def network(self, ref: str) -> Network:
        for network in self.networks:
            if ref in (network.name, network.id):
                return network
        raise KeyError(ref)

    def port(self, ref: str) -> Port:
        for port in self.ports:
            if ref in (port.name, port.id):
                return port
        raise KeyError(ref)
