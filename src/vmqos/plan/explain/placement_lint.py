"""What Placement admits but does not protect: findings across the ports of a scenario.

Placement counts only what ports ask for (their ``resource_request``, from ``minimum_*``
rules: :mod:`vmqos.intent.neutron.resource_request`); the data plane carries every port's
traffic. So, per physnet of the scenario's ports:

* ``placement-unguaranteed-neighbours`` (warning): ports with a minimum bandwidth share the
  physnet with ports without one. Their traffic is in no allocation, so it can take the
  bandwidth the guarantees were admitted against, and the guaranteed ports fall below their
  minimum whenever the link is full — Neutron's admin guide advises a physnet per class.
* ``placement-guarantee-not-admitted`` (info): the profile's release predates Placement
  guarantees (Stein); the rules are at most enforced on the host, never admitted.
* ``placement-guarantee-tunnelled`` (warning): a guarantee on a tunnelled network asks for
  ``CUSTOM_NETWORK_TUNNEL_PROVIDER``, which only an agent with ``tunnelled_network_rp_name``
  reports, and its minimum is not enforced in the data plane (qos_driver: physnet ports
  only), so it is a reservation at best.

Pure: a scenario and a profile in, findings out.
"""

from __future__ import annotations

from vmqos.intent.findings import Finding, Severity
from vmqos.intent.neutron.binding import effective_policy_id
from vmqos.intent.neutron.model import MinimumBandwidthRule
from vmqos.intent.scenario import Scenario
from vmqos.profile import Profile

__all__ = ["PLACEMENT_CODES", "placement_findings"]

PLACEMENT_CODES = ("placement-unguaranteed-neighbours", "placement-guarantee-not-admitted",
                   "placement-guarantee-tunnelled")


def placement_findings(scenario: Scenario, profile: Profile) -> list[Finding]:
    policies = {p.id: p for p in scenario.policies}
    by_physnet: dict[str, tuple[list[str], list[str]]] = {}
    tunnelled: list[str] = []
    for port in scenario.ports:
        network = scenario.network(port.network_id)
        policy_id = effective_policy_id(port, network, backend=scenario.neutron_backend)
        policy = policies.get(policy_id) if policy_id else None
        guaranteed = policy is not None and any(
            isinstance(r, MinimumBandwidthRule) for r in policy.rules)
        if network.network_type in ("vlan", "flat") and network.physical_network:
            guaranteed_ports, others = by_physnet.setdefault(network.physical_network, ([], []))
            (guaranteed_ports if guaranteed else others).append(port.id)
        elif guaranteed:
            tunnelled.append(port.id)
    out: list[Finding] = []
    any_guarantee = bool(tunnelled) or any(g for g, _ in by_physnet.values())
    if any_guarantee and not profile.placement_guarantees:
        out.append(Finding(
            "placement-guarantee-not-admitted", Severity.INFO, "profile", profile.name,
            f"Profile {profile.name} predates Placement guarantees (Neutron and Nova Stein): "
            f"minimum_bandwidth rules reserve nothing and no host is refused for them.",
            "Treat the guarantees as best effort on this release."))
    for physnet, (guaranteed_ports, others) in sorted(by_physnet.items()):
        if guaranteed_ports and others:
            out.append(Finding(
                "placement-unguaranteed-neighbours", Severity.WARNING, "physical_network",
                physnet,
                f"{len(guaranteed_ports)} port(s) with a minimum bandwidth share physnet "
                f"{physnet} with {len(others)} without one (e.g. {others[0]}): Placement "
                f"counts only the guarantees, so the others' traffic can take the bandwidth "
                f"they were admitted against.",
                "Give every port on the physnet a guarantee, or put the unguaranteed ports on "
                "another physnet."))
    if tunnelled:
        out.append(Finding(
            "placement-guarantee-tunnelled", Severity.WARNING, "port", tunnelled[0],
            f"{len(tunnelled)} port(s) with a minimum bandwidth are on a tunnelled network: "
            f"Placement needs an agent reporting CUSTOM_NETWORK_TUNNEL_PROVIDER "
            f"(tunnelled_network_rp_name) and the host enforces no minimum for them.",
            "Use a VLAN or flat network for guaranteed ports."))
    return out
