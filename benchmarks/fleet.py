"""Benchmark: the control plane of a fleet — scheduling servers with minimum-bandwidth ports onto
many hosts, and many agents polling their hosts' intent — against its anchors, in one run.

Run from the repository root, as root (it runs a throwaway PostgreSQL cluster)::

    .venv/bin/python benchmarks/fleet.py [--hosts 100] [--servers 1000] [--agents 200]
                                          [--db postgresql|sqlite] [--clients 8] [--json]

What is measured (issue 12, section 5), through ``vmqos serve`` (the real entry point, one
uvicorn process) on ``--db``, driven by ``--clients`` threads in this process:

* **Scheduling**: ``--hosts`` compute hosts registered (64 vCPUs, 256 GiB, an Open vSwitch
  agent with 10 Gbit/s per direction on physnet1), then ``--servers`` ports with a 100 Mbit/s
  egress ``minimum_bandwidth`` policy created, then one server booted on each — every boot
  asks Placement-style admission for the port's ``NET_BW_EGR_KILOBIT_PER_SEC`` on a bridge
  with the physnet's trait and weighs the candidates. The figure is servers/s of the boots;
  the spread over hosts and that every server is ACTIVE are checked and printed.
  Anchor, same run: boots whose port has no guarantee (nothing to admit beyond the flavor).
* **Agents polling intent**: ``--agents`` agents, each reading its host's intent exactly as
  ``vmqos agent`` does every round (:func:`vmqos.store.cloud_reader.read_cloud` with
  ``host=``: a token, the host's servers, their interfaces, ports and networks, every QoS
  policy), ``--polls`` rounds each, ``--clients`` at a time (agent *i* polls host
  *i mod hosts*). Printed: p50/p99 of one agent's fetch, fetches/s, the control plane's
  requests/s (counted at the client's ``requests`` session, which openstacksdk sends through),
  and the shortest interval at which that many agents could poll. Anchor, same run: the bare
  version document's requests/s through the same server.

The client shares the machine's CPUs with the server (2 here), and openstacksdk's client work
is in these figures: they are end-to-end for one machine, not the server's capacity. Always
exits 0: a benchmark reports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import requests

_ROOT = Path(__file__).resolve().parent.parent
_SRC = _ROOT / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

import postgres_process  # noqa: E402  (beside this script)
import serve_process  # noqa: E402

from vmqos.store.cloud_reader import read_cloud  # noqa: E402

NOVA, NET = "/compute/v2.1", "/network/v2.0"
MV = {"OpenStack-API-Version": "compute 2.96"}
HOST_BANDWIDTH_KBPS = 10_000_000
GUARANTEE_KBPS = 100_000


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _world(api: httpx.Client) -> dict[str, str]:
    flavor = api.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "m1.bench", "ram": 1024, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    image = api.post("/image/v2/images", json={
        "name": "img", "disk_format": "raw", "container_format": "bare"}).json()["id"]
    api.put(f"/image/v2/images/{image}/file", content=b"x",
            headers={"Content-Type": "application/octet-stream"})
    network = api.post(f"{NET}/networks", json={"network": {
        "name": "provider", "provider:network_type": "vlan",
        "provider:physical_network": "physnet1"}}).json()["network"]["id"]
    policy = api.post(f"{NET}/qos/policies", json={"policy": {"name": "gold"}}).json()[
        "policy"]["id"]
    api.post(f"{NET}/qos/policies/{policy}/minimum_bandwidth_rules", json={
        "minimum_bandwidth_rule": {"min_kbps": GUARANTEE_KBPS, "direction": "egress"}})
    # The default quotas (10 instances) are a project's, not a benchmark's.
    project = api.get("/identity/v3/auth/tokens", headers={
        "X-Subject-Token": api.headers["X-Auth-Token"]}).json()["token"]["project"]["id"]
    api.put(f"{NOVA}/os-quota-sets/{project}", json={"quota_set": {
        "instances": -1, "cores": -1, "ram": -1}})
    api.put(f"{NET}/quotas/{project}", json={"quota": {"port": -1}})
    return {"flavor": flavor, "image": image, "network": network, "policy": policy}


def _register(api: httpx.Client, name: str) -> None:
    response = api.put(f"{NOVA}/vmqos-hosts/{name}", json={"host": {
        "vcpus": 64, "memory_mb": 262144, "disk_gb": 2000, "host_ip": "192.0.2.10",
        "agents": [{"agent_type": "Open vSwitch agent",
                    "bridge_mappings": {"physnet1": "br-phys"},
                    "resource_provider_bandwidths": {"br-phys": {
                        "egress": HOST_BANDWIDTH_KBPS, "ingress": HOST_BANDWIDTH_KBPS}}}]}})
    response.raise_for_status()


def _parallel(url: str, headers: dict[str, str], clients: int, count: int,
              request: Callable[[httpx.Client, int], httpx.Response]) -> dict[str, Any]:
    """``count`` requests over ``clients`` keep-alive clients; per-request latency and rate."""
    latencies: list[float] = []
    failures: Counter[int] = Counter()
    results: list[httpx.Response] = []
    lock = threading.Lock()
    cursor = iter(range(count))

    def worker() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as api:
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                started = time.perf_counter()
                response = request(api, i)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    results.append(response)
                    if response.status_code >= 300:
                        failures[response.status_code] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"count": count, "per_s": count / wall, "seconds": wall,
            "p50_ms": 1000 * _pct(latencies, 0.5), "p99_ms": 1000 * _pct(latencies, 0.99),
            "failures": dict(failures), "responses": results}


def _boot(world: dict[str, str], ports: list[str] | None) -> Callable[[httpx.Client, int],
                                                                       httpx.Response]:
    def request(api: httpx.Client, i: int) -> httpx.Response:
        nic = {"port": ports[i]} if ports is not None else {"uuid": world["network"]}
        return api.post(f"{NOVA}/servers", json={"server": {
            "name": f"vm{i}", "flavorRef": world["flavor"], "imageRef": world["image"],
            "networks": [nic]}})
    return request


@contextmanager
def _counted_requests() -> Iterator[list[int]]:
    """Count the HTTP requests openstacksdk sends (keystoneauth goes through
    ``requests.Session.request``): the control plane's requests/s, measured at the client."""
    original = requests.Session.request
    count = [0]
    lock = threading.Lock()

    def counting(self: requests.Session, *args: Any, **kwargs: Any) -> requests.Response:
        with lock:
            count[0] += 1
        return original(self, *args, **kwargs)

    requests.Session.request = counting  # type: ignore[method-assign]
    try:
        yield count
    finally:
        requests.Session.request = original  # type: ignore[method-assign]


def _agents(hosts: list[str], agents: int, polls: int, clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    servers_seen: list[int] = []
    lock = threading.Lock()

    def poll(i: int) -> None:
        host = hosts[i % agents % len(hosts)]
        started = time.perf_counter()
        scenario = read_cloud("vmqos", host=host, timeout=120)
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            servers_seen.append(len(scenario.servers))

    with _counted_requests() as count, ThreadPoolExecutor(clients) as pool:
        started = time.perf_counter()
        list(pool.map(poll, range(agents * polls)))
        wall = time.perf_counter() - started
    fetches = len(latencies)
    return {"agents": agents, "fetches": fetches, "fetches_per_s": fetches / wall,
            "requests_per_s": count[0] / wall, "requests_per_fetch": count[0] / fetches,
            "p50_ms": 1000 * _pct(latencies, 0.5), "p99_ms": 1000 * _pct(latencies, 0.99),
            "servers_per_fetch": statistics.mean(servers_seen),
            "poll_interval_s": agents / (fetches / wall)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--anchor-servers", type=int, default=200)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--polls", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vmqos-fleet-")))
        database_url = (stack.enter_context(postgres_process.cluster())
                        if args.db == "postgresql" else None)
        process, url = serve_process.start(data_dir, database_url)
        stack.callback(serve_process.stop, process)
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(data_dir / "clouds.yaml")
        headers = {"X-Auth-Token": serve_process.token(url), **MV}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as api:
            world = _world(api)
            hosts = [f"cmp-{i:03d}" for i in range(args.hosts)]
            started = time.perf_counter()
            for host in hosts:
                _register(api, host)
            register_s = time.perf_counter() - started
        ports = _parallel(url, headers, args.clients, args.servers, lambda api, i: api.post(
            f"{NET}/ports", json={"port": {"network_id": world["network"],
                                          "qos_policy_id": world["policy"]}}))
        port_ids = [r.json()["port"]["id"] for r in ports.pop("responses")
                    if r.status_code == 201]
        boots = _parallel(url, headers, args.clients, len(port_ids), _boot(world, port_ids))
        boots.pop("responses")
        with httpx.Client(base_url=url, headers=headers, timeout=120) as api:
            listed = api.get(f"{NOVA}/servers/detail", params={"all_tenants": "1"}).json()[
                "servers"]
        placed = Counter(s["OS-EXT-SRV-ATTR:host"] for s in listed if s["status"] == "ACTIVE")
        anchor = _parallel(url, headers, args.clients, args.anchor_servers,
                           _boot(world, None))
        anchor.pop("responses")
        version = _parallel(url, {}, args.clients, 2000,
                            lambda api, _: api.get(f"{NOVA}"))
        version.pop("responses")
        agents = _agents(hosts, args.agents, args.polls, args.clients)
    report = {
        "db": args.db, "hosts": args.hosts, "register_hosts_per_s": args.hosts / register_s,
        "ports": ports, "boots_guaranteed": boots, "boots_unguaranteed_anchor": anchor,
        "active": sum(placed.values()), "hosts_used": len(placed),
        "servers_per_host": [min(placed.values(), default=0), max(placed.values(), default=0)],
        "agents": agents, "version_document_anchor": version,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"control plane on {args.db}, {args.clients} clients, {os.cpu_count()} CPUs shared "
          f"with the server")
    print(f"{args.hosts} hosts registered at {report['register_hosts_per_s']:.0f}/s")
    print(f"ports with a {GUARANTEE_KBPS // 1000} Mbit/s guarantee: {ports['per_s']:6.1f}/s")
    print(f"scheduling {boots['count']} servers with guaranteed ports onto {args.hosts} hosts: "
          f"{boots['per_s']:6.1f} servers/s  p50 {boots['p50_ms']:.0f} ms  "
          f"p99 {boots['p99_ms']:.0f} ms  failures {boots['failures'] or 'none'}")
    print(f"  anchor, same run: {anchor['count']} servers without a guarantee "
          f"{anchor['per_s']:6.1f} servers/s  p50 {anchor['p50_ms']:.0f} ms  "
          f"p99 {anchor['p99_ms']:.0f} ms")
    print(f"  {report['active']} ACTIVE on {report['hosts_used']} hosts, "
          f"{report['servers_per_host'][0]}-{report['servers_per_host'][1]} per host")
    print(f"{agents['agents']} agents polling intent ({agents['fetches']} fetches, "
          f"{agents['servers_per_fetch']:.1f} servers each): p50 {agents['p50_ms']:.0f} ms  "
          f"p99 {agents['p99_ms']:.0f} ms  {agents['fetches_per_s']:.1f} fetches/s  "
          f"{agents['requests_per_s']:.0f} requests/s ({agents['requests_per_fetch']:.1f} "
          f"per fetch)")
    print(f"  {agents['agents']} agents can poll every {agents['poll_interval_s']:.1f} s "
          f"at this rate")
    print(f"  anchor, same run: version document {version['per_s']:.0f} requests/s  "
          f"p50 {version['p50_ms']:.1f} ms  p99 {version['p99_ms']:.1f} ms")


if __name__ == "__main__":
    main()
