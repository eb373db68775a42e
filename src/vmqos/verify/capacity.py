"""How fast this host carries one TCP flow through a veth pair between two namespaces, with no
limit on it: the lab's own path (vmqos.host.sandbox), measured bare.

Why: the reference node (vmqos.node) is a QEMU/TCG guest whose veth pairs carry a few hundred
Mbit/s (663-669 Mbit/s measured on 2026-12-03, 2 busy cores), less than some scenarios
configure. ``vmqos lab --node`` runs this in the node first and divides the scenario's rates
(vmqos.intent.rate_scale) until they fit; ``python -m vmqos.verify.capacity`` prints the
result as JSON, which is how the host asks the node.

Bounded: one iperf3 run of ``seconds`` (vmqos.verify.iperf); the two namespaces
(``vmqos-cap-<pid>-a``/``-b``) and their veth pair are always removed. Traffic stays inside
them (198.19.255.0/30, RFC 2544's benchmarking range, which the sandbox allocates from the
bottom and never reaches here).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from vmqos.host.runner import run, run_batch
from vmqos.verify.iperf import measure_tcp

__all__ = ["main", "measure_veth_capacity"]

_CLIENT_IP, _SERVER_IP, _PREFIX = "198.19.255.1", "198.19.255.2", 30
_CLIENT_IF, _SERVER_IF = "vmqoscap0", "vmqoscap1"


def measure_veth_capacity(seconds: int = 3) -> float:
    """The mean TCP goodput (bit/s) of one iperf3 flow across a bare veth pair."""
    client, server = (f"vmqos-cap-{os.getpid()}-{side}" for side in "ab")
    run(["ip", "netns", "add", client])
    try:
        run(["ip", "netns", "add", server])
        run_batch("ip", [
            ["link", "add", _CLIENT_IF, "type", "veth", "peer", "name", _SERVER_IF, "netns",
             server],
            ["addr", "add", f"{_CLIENT_IP}/{_PREFIX}", "dev", _CLIENT_IF],
            ["link", "set", _CLIENT_IF, "up"], ["link", "set", "lo", "up"]], netns=client)
        run_batch("ip", [
            ["addr", "add", f"{_SERVER_IP}/{_PREFIX}", "dev", _SERVER_IF],
            ["link", "set", _SERVER_IF, "up"], ["link", "set", "lo", "up"]], netns=server)
        return measure_tcp(client, server, _SERVER_IP, seconds=seconds).bits_per_second
    finally:
        for netns in (client, server):
            run(["ip", "netns", "del", netns], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vmqos.verify.capacity")
    parser.add_argument("--seconds", type=int, default=3, choices=range(1, 31),
                        metavar="1..30")
    args = parser.parse_args(argv)
    print(json.dumps({"bits_per_second": measure_veth_capacity(args.seconds),
                      "seconds": args.seconds, "kernel": os.uname().release}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
