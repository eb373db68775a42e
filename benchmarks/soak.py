"""Soak: mixed API load at a bounded rate for minutes; the memory and file descriptors of
``vmqos serve`` must stay flat.

Run from the repository root::

    .venv/bin/python benchmarks/soak.py [--seconds 600] [--rate 40] [--clients 4] [--json]

What runs: ``vmqos serve`` (the real entry point, SQLite in a temporary directory) and
``--clients`` threads that together send about ``--rate`` requests per second, round and round
through what an operator's tooling does all day: issue a token; create a flavor, set its
``quota:*`` specs, show it, delete it; create a QoS policy, add a rule, list policies, delete
it; create a server on a network, read its plan, list servers, delete it; and one request a
service refuses (a 400, a 404) so that the error path is soaked too. Everything created is
deleted, so the database stays small and what grows is the process, not the data.

What is measured, every 2 s: the server's resident memory (``VmRSS`` in /proc/PID/status) and
its open file descriptors (/proc/PID/fd). The anchor is the process itself after warming up
(from a sixth of the run, at least 10 s, on: the connection pool fills, SQLAlchemy's statement
cache and Python's allocator settle), over a window of samples (:func:`_windows`). The target:
over the run's last window, RSS within 10 % of that baseline and no more descriptors than it
had; no 5xx answer at all. The verdict is printed;
the script always exits 0 (tests/api/test_soak.py runs 60 s of it in CI and asserts).
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import serve_process  # beside this script

RSS_GROWTH_MAX = 0.10      # allowed RSS growth over the warmed-up baseline
SAMPLE_SECONDS = 2.0
MV = {"OpenStack-API-Version": "compute 2.96"}


@dataclass
class Sample:
    at: float           # seconds since the load began
    rss_kib: int
    fds: int


def _sample(pid: int, began: float) -> Sample:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines()
               if line.startswith("VmRSS:"))
    return Sample(round(time.monotonic() - began, 1), rss, len(os.listdir(f"/proc/{pid}/fd")))


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0

    def add(self, response: httpx.Response) -> httpx.Response:
        with self.lock:
            self.statuses[response.status_code] += 1
        return response


def _world(url: str, token: str) -> dict[str, str]:
    """What the servers need and nobody deletes: an image with data, a flavor, a network."""
    with httpx.Client(base_url=url, headers={"X-Auth-Token": token, **MV}, timeout=30) as api:
        image = api.post("/image/v2/images", json={"name": "soak", "disk_format": "raw",
                                                    "container_format": "bare"}).json()["id"]
        api.put(f"/image/v2/images/{image}/file", content=b"x" * 1024,
                headers={"Content-Type": "application/octet-stream"})
        network = api.post("/network/v2.0/networks", json={"network": {"name": "soak"}}
                           ).json()["network"]["id"]
        api.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": network, "cidr": "10.9.0.0/16", "ip_version": 4}})
        flavor = api.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "soak", "ram": 512, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
        api.post(f"/compute/v2.1/flavors/{flavor}/os-extra_specs", json={"extra_specs": {
            "quota:vif_inbound_average": "32768", "quota:cpu_shares": "512"}})
    return {"image": image, "network": network, "flavor": flavor}


def _cycle(api: httpx.Client, url: str, world: dict[str, str], tag: str,
           tally: Tally) -> list[Callable[[], object]]:
    """One round of the mixed load, as steps (each one request) so that pacing is per
    request."""
    state: dict[str, Any] = {}

    def new_token() -> None:
        tally.add(httpx.post(f"{url}/identity/v3/auth/tokens", json={"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"name": "Default"},
                "password": serve_process.PASSWORD}}}}}))

    def flavor_create() -> None:
        r = tally.add(api.post("/compute/v2.1/flavors", json={"flavor": {
            "name": f"f-{tag}", "ram": 512, "vcpus": 1, "disk": 1}}))
        state["flavor"] = r.json()["flavor"]["id"] if r.status_code == 200 else None

    def flavor_specs() -> None:
        if state["flavor"]:
            tally.add(api.post(f"/compute/v2.1/flavors/{state['flavor']}/os-extra_specs",
                               json={"extra_specs": {"quota:disk_read_iops_sec": "500"}}))

    def flavor_show() -> None:
        if state["flavor"]:
            tally.add(api.get(f"/compute/v2.1/flavors/{state['flavor']}"))

    def flavor_delete() -> None:
        if state["flavor"]:
            tally.add(api.delete(f"/compute/v2.1/flavors/{state['flavor']}"))

    def policy_create() -> None:
        r = tally.add(api.post("/network/v2.0/qos/policies", json={"policy": {
            "name": f"p-{tag}"}}))
        state["policy"] = r.json()["policy"]["id"] if r.status_code == 201 else None

    def rule_create() -> None:
        if state["policy"]:
            tally.add(api.post(f"/network/v2.0/qos/policies/{state['policy']}/"
                               "bandwidth_limit_rules",
                               json={"bandwidth_limit_rule": {"max_kbps": 3000}}))

    def policy_list() -> None:
        tally.add(api.get("/network/v2.0/qos/policies"))

    def policy_delete() -> None:
        if state["policy"]:
            tally.add(api.delete(f"/network/v2.0/qos/policies/{state['policy']}"))

    def server_create() -> None:
        r = tally.add(api.post("/compute/v2.1/servers", json={"server": {
            "name": f"s-{tag}", "imageRef": world["image"], "flavorRef": world["flavor"],
            "networks": [{"uuid": world["network"]}]}}))
        state["server"] = r.json()["server"]["id"] if r.status_code == 202 else None

    def server_plan() -> None:
        if state["server"]:
            tally.add(api.get(f"/compute/v2.1/servers/{state['server']}/vmqos-plan"))

    def server_list() -> None:
        tally.add(api.get("/compute/v2.1/servers/detail"))

    def server_delete() -> None:
        if state["server"]:
            tally.add(api.delete(f"/compute/v2.1/servers/{state['server']}"))

    def refused() -> None:
        tally.add(api.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "bad", "ram": -1, "vcpus": 1, "disk": 1}}))
        tally.add(api.get("/network/v2.0/qos/policies/0000-not-there"))

    return [new_token, flavor_create, flavor_specs, flavor_show, flavor_delete,
            policy_create, rule_create, policy_list, policy_delete,
            server_create, server_plan, server_list, server_delete, refused]


def _client(url: str, token: str, world: dict[str, str], worker: int, interval: float,
            stop_at: float, tally: Tally) -> None:
    with httpx.Client(base_url=url, headers={"X-Auth-Token": token, **MV}, timeout=60) as api:
        next_at, n = time.monotonic(), 0
        while time.monotonic() < stop_at:
            n += 1
            for step in _cycle(api, url, world, f"{worker}-{n}", tally):
                next_at += interval
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    step()
                except httpx.TransportError:
                    with tally.lock:
                        tally.transport_errors += 1


def _windows(samples: list[Sample], seconds: float) -> tuple[Sample, Sample]:
    """The warmed-up process and the process at the end, each summarised over a window of
    samples (a sixth of the run, at least three samples): the median RSS, and the *fewest*
    descriptors — a connection being opened or closed holds one for a moment (20 ± 4 here), a
    leak raises the floor."""
    span = max(seconds / 6, 3 * SAMPLE_SECONDS)
    warm = max(10.0, seconds / 6)
    early = [x for x in samples if warm <= x.at <= warm + span] or samples[-1:]
    late = [x for x in samples if x.at >= seconds - span] or samples[-1:]

    def summary(window: list[Sample]) -> Sample:
        return Sample(window[0].at, int(statistics.median(x.rss_kib for x in window)),
                      min(x.fds for x in window))

    return summary(early), summary(late)


def soak(seconds: float, rate: float, clients: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vmqos-soak-") as tmp:
        process, url = serve_process.start(Path(tmp))
        try:
            token = serve_process.token(url)
            world = _world(url, token)
            tally = Tally()
            began = time.monotonic()
            stop_at = began + seconds
            threads = [threading.Thread(target=_client, args=(
                url, token, world, i, clients / rate, stop_at, tally), daemon=True)
                for i in range(clients)]
            for thread in threads:
                thread.start()
            samples = [_sample(process.pid, began)]
            while any(t.is_alive() for t in threads):
                time.sleep(SAMPLE_SECONDS)
                samples.append(_sample(process.pid, began))
            elapsed = time.monotonic() - began
        finally:
            serve_process.stop(process)
    baseline, end = _windows([x for x in samples if x.at <= seconds], seconds)
    growth = (end.rss_kib - baseline.rss_kib) / baseline.rss_kib
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    requests = sum(tally.statuses.values())
    return {
        "seconds": round(elapsed, 1), "requests": requests,
        "per_second": round(requests / elapsed, 1), "target_rate": rate, "clients": clients,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "server_errors": server_errors, "transport_errors": tally.transport_errors,
        "baseline": {"at_s": baseline.at, "rss_kib": baseline.rss_kib, "fds": baseline.fds},
        "end": {"at_s": end.at, "rss_kib": end.rss_kib, "fds": end.fds},
        "rss_growth": round(growth, 4), "rss_growth_max": RSS_GROWTH_MAX,
        "flat": growth <= RSS_GROWTH_MAX and end.fds <= baseline.fds and server_errors == 0
        and tally.transport_errors == 0,
        "samples": [vars(s) for s in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long the load runs")
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second, in all")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = soak(args.seconds, args.rate, args.clients)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    base, end = result["baseline"], result["end"]
    print(f"soak: {result['requests']} requests in {result['seconds']} s "
          f"({result['per_second']}/s, target {args.rate}/s, {args.clients} clients); "
          f"statuses {result['statuses']}")
    print(f"{'':24} {'RSS MiB':>9} {'fds':>5}")
    print(f"{'anchor: after warm-up':24} {base['rss_kib'] / 1024:>9.1f} {base['fds']:>5}"
          f"   (at {base['at_s']} s)")
    print(f"{'end of run':24} {end['rss_kib'] / 1024:>9.1f} {end['fds']:>5}")
    print(f"RSS {result['rss_growth']:+.1%} (allowed +{RSS_GROWTH_MAX:.0%}), descriptors "
          f"{end['fds'] - base['fds']:+d} (allowed +0), 5xx {result['server_errors']}: "
          f"{'FLAT' if result['flat'] else 'GROWING'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
