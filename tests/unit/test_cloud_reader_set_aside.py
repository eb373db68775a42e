"""The cloud reader sets aside what `vmqos serve` cannot produce: a port deleted between
Nova's interface list and the port read, and QoS rules Neutron refuses today (a rule type
added after vmqos, a value an older Neutron stored).

The connection here is a stand-in (types.SimpleNamespace over dicts), for the reason in the
first sentence: `vmqos serve` detaches a deleted port from its server in the same
transaction and validates every rule, as Neutron does, so neither state can be reached
through it (tests/api/test_cli_cloud.py drives the reader against it for everything it can
produce). The stand-in answers exactly the calls the reader makes, with openstacksdk's own
exception for the 404.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from openstack import exceptions as sdk_exc

from vmqos.intent.set_aside import Element, Triage
from vmqos.store.cloud_reader import _policies, _Reader

NETWORK = {"id": "net-1", "name": "n1", "mtu": 1500}
PORT = {"id": "port-1", "network_id": "net-1", "mac_address": "fa:16:3e:00:00:01"}


def _conn(ports: dict[str, dict[str, Any]], rules: list[dict[str, Any]] | None = None) -> Any:
    def get_port(port_id: str) -> dict[str, Any]:
        if port_id not in ports:
            raise sdk_exc.NotFoundException(f"No Port found for {port_id}")
        return ports[port_id]

    return SimpleNamespace(
        compute=SimpleNamespace(server_interfaces=lambda server_id: [
            SimpleNamespace(port_id=p) for p in ("port-1", "port-gone")
            if server_id == "s-2" or p == "port-1"]),
        network=SimpleNamespace(get_port=get_port, get_network=lambda _id: NETWORK,
                                qos_policies=lambda: [{"id": "pol-1", "name": "gold",
                                                       "rules": rules or []}]),
        identity=SimpleNamespace(get_user=lambda i: SimpleNamespace(name="u"),
                                 get_project=lambda i: SimpleNamespace(name="p")))


def _server(ident: str) -> dict[str, Any]:
    return {"id": ident, "name": f"vm-{ident}", "status": "ACTIVE",
            "flavor": {"original_name": "f", "vcpus": 1, "ram": 1, "disk": 1,
                       "extra_specs": {}}}


def test_a_server_whose_port_is_gone_is_set_aside_and_the_others_explained() -> None:
    triage = Triage(keep_going=True)
    reader = _Reader(_conn({"port-1": PORT}), triage)
    assert reader.server(_server("s-2")) is None
    kept = reader.server(_server("s-1"))
    assert kept is not None and kept.ports == ("port-1",)
    (entry,) = triage.set_aside
    assert (entry.element, entry.name, entry.id) == (Element.SERVER, "vm-s-2", "s-2")
    finding = entry.finding
    assert (finding.code, finding.key, finding.value) == ("server-refers-to-missing", "port",
                                                          "port-gone")
    assert finding.reason.startswith("port port-gone could not be found: No Port found")


def test_rules_neutron_refuses_are_set_aside_and_the_policy_keeps_the_rest() -> None:
    triage = Triage(keep_going=True)
    rules = [
        {"id": "r-1", "type": "bandwidth_limit", "max_kbps": 3000, "max_burst_kbps": 300,
         "direction": "egress"},
        {"id": "r-2", "type": "bandwidth_limit", "max_kbps": -1, "direction": "ingress"},
        {"id": "r-3", "type": "packet_loss", "percent": 5},
    ]
    (policy,) = _policies(_conn({}, rules), triage)
    assert [r.id for r in policy.rules] == ["r-1"]
    assert [(e.element, e.name, e.id, e.finding.code, e.finding.key, e.finding.value)
            for e in triage.set_aside] == [
        (Element.RULE, "gold", "pol-1", "rule-invalid", "max_kbps", "-1"),
        (Element.RULE, "gold", "pol-1", "rule-invalid", "type", "packet_loss"),
    ]
    assert triage.set_aside[1].finding.reason.startswith(
        "Invalid QoS rule type 'packet_loss'; valid rule types: ")
