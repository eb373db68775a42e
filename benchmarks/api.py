"""Benchmark: requests/s of the OpenAPI-compatible API on SQLite, next to the anchors they
compare with.

Run from the repository root::

    .venv/bin/python benchmarks/api.py [--seconds 5] [--clients 8] [--creates 300] [--json]

What is measured: ``vmqos serve`` (the real entry point, one uvicorn process, SQLite in a
temporary data directory) on 127.0.0.1, driven by ``--clients`` threads of httpx with
keep-alive connections in this process, each request authenticated with a token:

* ``GET /compute/v2.1/flavors/{id}`` for ``--seconds`` seconds (token check from the cache,
  one read transaction, Nova's view at microversion 2.61);
* ``POST /compute/v2.1/servers`` ``--creates`` times (flavor, image, key pair, zone,
  security group and network checks, one port created and bound, the server's plan compiled
  by the core, all in one write transaction — SQLite serialises these).

The anchors, measured in the same run on the same machine:

* the stack's ceiling: ``GET /compute/v2.1`` — the version document, no token, no database —
  through the same server and client; the flavor read can at best approach it;
* the core alone: ``compile_server_plan`` of the seed's vm_resquota per second in this process
  (what every server create also does), so that the create figure shows what the HTTP, the
  validation and the transaction add.

The client shares the machine's CPUs with the server (2 here), so these are end-to-end
figures for one host, not the server's capacity. Always exits 0: a benchmark reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

_ROOT = Path(__file__).resolve().parent.parent
_SRC = _ROOT / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

import serve_process  # noqa: E402  (beside this script)

from vmqos.intent.scenario_parse import parse_scenario  # noqa: E402
from vmqos.plan.server_plan import compile_server_plan  # noqa: E402
from vmqos.profile import get_profile  # noqa: E402

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgbVTA/TUMS8s8gRLu4cmRBZfzUhg4N7WFjfhReru9U b@h"


def _world(url: str, headers: dict[str, str]) -> dict[str, str]:
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        flavor = api.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "bench", "ram": 1024, "vcpus": 1, "disk": 20}}).json()["flavor"]["id"]
        api.post(f"/compute/v2.1/flavors/{flavor}/os-extra_specs", json={"extra_specs": {
            "quota:cpu_shares": "512", "quota:vif_inbound_average": "32768",
            "quota:vif_outbound_average": "32768", "quota:disk_read_bytes_sec": "1000000"}})
        image = api.post("/image/v2/images", json={"name": "img", "disk_format": "qcow2",
                                                    "container_format": "bare"}).json()["id"]
        api.put(f"/image/v2/images/{image}/file", content=b"x" * 1024,
                headers={"Content-Type": "application/octet-stream"})
        network = api.post("/network/v2.0/networks", json={"network": {"name": "n"}}).json()
        api.post("/compute/v2.1/os-keypairs", json={"keypair": {"name": "k",
                                                                 "public_key": KEY}})
        return {"flavor": flavor, "image": image, "network": network["network"]["id"]}


def _run(url: str, headers: dict[str, str], clients: int, *, seconds: float | None,
         count: int | None, request: Callable[[httpx.Client, int], httpx.Response]
         ) -> dict[str, Any]:
    """``clients`` threads send ``request`` until ``seconds`` pass or ``count`` are sent."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    counter = iter(range(10**9))
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds if seconds else None

    def worker(index: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            while True:
                with lock:
                    n = next(counter)
                if count is not None and n >= count:
                    return
                if stop_at is not None and time.perf_counter() >= stop_at:
                    return
                start = time.perf_counter()
                response = request(client, n)
                latencies[index].append(time.perf_counter() - start)
                if response.status_code >= 300:
                    failures[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = sorted(x for chunk in latencies for x in chunk)
    return {"requests": len(flat), "failed": sum(failures), "seconds": round(elapsed, 2),
            "per_second": round(len(flat) / elapsed, 1),
            "p50_ms": round(statistics.median(flat) * 1000, 2),
            "p95_ms": round(flat[int(len(flat) * 0.95) - 1] * 1000, 2)}


def _compile_rate(seconds: float) -> dict[str, Any]:
    scenario = parse_scenario(yaml.safe_load((_ROOT / "examples" / "seed.yaml").read_text()))
    server = next(s for s in scenario.servers if s.name == "vm_resquota")
    profile = get_profile("modern")
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        compile_server_plan(scenario, server, profile)
        done += 1
    elapsed = time.perf_counter() - began
    return {"requests": done, "seconds": round(elapsed, 2),
            "per_second": round(done / elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vmqos-bench-") as tmp:
        process, url = serve_process.start(Path(tmp))
        try:
            headers = {"X-Auth-Token": serve_process.token(url),
                       "OpenStack-API-Version": "compute 2.61"}
            world = _world(url, headers)
            flavor_url = f"/compute/v2.1/flavors/{world['flavor']}"
            _run(url, headers, args.clients, seconds=1.0, count=None,
                 request=lambda c, n: c.get(flavor_url))  # warm-up: pools, caches
            results = {
                "anchor: GET /compute/v2.1 (no token, no database)": _run(
                    url, {}, args.clients, seconds=args.seconds, count=None,
                    request=lambda c, n: c.get("/compute/v2.1")),
                "GET /compute/v2.1/flavors/{id}": _run(
                    url, headers, args.clients, seconds=args.seconds, count=None,
                    request=lambda c, n: c.get(flavor_url)),
                "POST /compute/v2.1/servers": _run(
                    url, {**headers, "OpenStack-API-Version": "compute 2.96"}, args.clients,
                    seconds=None, count=args.creates, request=lambda c, n: c.post(
                        "/compute/v2.1/servers", json={"server": {
                            "name": f"b{n}", "imageRef": world["image"],
                            "flavorRef": world["flavor"], "key_name": "k",
                            "networks": [{"uuid": world["network"]}]}})),
                "anchor: compile_server_plan in-process (seed vm_resquota)": _compile_rate(
                    args.seconds),
            }
        finally:
            serve_process.stop(process)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "load_avg": [round(x, 2) for x in os.getloadavg()], "clients": args.clients,
               "database": "SQLite (WAL)"}
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
        return 0
    print(f"vmqos API on 127.0.0.1, {machine['database']}, {args.clients} client threads, "
          f"{machine['cpus']} CPUs shared by client and server, load {machine['load_avg']}")
    print(f"{'measurement':58} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'n':>7} {'fail':>5}")
    for name, row in results.items():
        print(f"{name:58} {row['per_second']:>9} {row.get('p50_ms', ''):>8} "
              f"{row.get('p95_ms', ''):>8} {row['requests']:>7} {row.get('failed', ''):>5}")
    ceiling = results["anchor: GET /compute/v2.1 (no token, no database)"]["per_second"]
    flavor = results["GET /compute/v2.1/flavors/{id}"]["per_second"]
    create = results["POST /compute/v2.1/servers"]["per_second"]
    core = results["anchor: compile_server_plan in-process (seed vm_resquota)"]["per_second"]
    print(f"flavor show: {flavor / ceiling:.0%} of the stack's ceiling; server create: "
          f"{create / core:.0%} of the core's plan compilation rate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
