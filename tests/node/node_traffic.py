"""A tap stand-in inside the session's reference node, libvirt's tc program on it, and iperf3
through it — for the exact-program tests (test_exact_program.py).

The "tap" is the host end of a veth pair in a namespace of its own (``vmqos-xp-host``); the
guest end is in ``vmqos-xp-guest``. Direction is the VM's: inbound = host end -> guest end
(the tap's egress, libvirt's HTB); outbound = guest -> host (the tap's ingress, libvirt's
police). Both namespaces live only in the node and are removed after each test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from vmqos.libvirt_types import Bandwidth
from vmqos.model import Direction
from vmqos.node.lifecycle import CommandResult, Node
from vmqos.plan.kernel.psched import Psched
from vmqos.plan.render.tc import compile_libvirt_tc
from vmqos.verify.judge import Sample

HOST_NS, GUEST_NS = "vmqos-xp-host", "vmqos-xp-guest"
TAP, GUEST_IF = "vmqos-xptap0", "vmqos-xpeth0"
HOST_IP, GUEST_IP = "198.19.254.1", "198.19.254.2"


def run_ok(node: Node, argv: Sequence[str], timeout_s: float = 60) -> CommandResult:
    result = node.run(list(argv), timeout_s=timeout_s)
    assert result.exit_status == 0, f"{' '.join(argv)}: {result.stderr_text}"
    return result


@contextmanager
def tap_pair(node: Node) -> Iterator[None]:
    script = f"""set -e
ip netns add {HOST_NS}; ip netns add {GUEST_NS}
ip -n {HOST_NS} link add {TAP} type veth peer name {GUEST_IF} netns {GUEST_NS}
ip -n {HOST_NS} addr add {HOST_IP}/30 dev {TAP}
ip -n {GUEST_NS} addr add {GUEST_IP}/30 dev {GUEST_IF}
for ns in {HOST_NS} {GUEST_NS}; do ip -n $ns link set lo up; done
ip -n {HOST_NS} link set {TAP} up; ip -n {GUEST_NS} link set {GUEST_IF} up
"""
    try:
        run_ok(node, ["sh", "-c", script])
        yield
    finally:
        node.run(["sh", "-c", f"ip netns del {HOST_NS}; ip netns del {GUEST_NS}; true"])


def apply_libvirt_program(node: Node, bandwidth: Bandwidth) -> list[str]:
    """libvirt's commands for the tap, run as libvirt runs them (the two clearing deletes may
    fail on a fresh device; libvirt ignores their status too). Returns the lines run."""
    lines = []
    for command in compile_libvirt_tc(TAP, bandwidth, swapped=True):
        argv = ["tc", "-n", HOST_NS, *command.argv()]
        result = node.run(argv)
        if command.argv()[1] != "del":
            assert result.exit_status == 0, f"{command.render()}: {result.stderr_text}"
        lines.append(command.render())
    return lines


def tc(node: Node, *words: str) -> str:
    return run_ok(node, ["tc", "-n", HOST_NS, *words]).stdout_text


def tc_json(node: Node, *words: str) -> list[dict[str, object]]:
    data = json.loads(run_ok(node, ["tc", "-n", HOST_NS, "-s", "-j", *words]).stdout)
    assert isinstance(data, list)
    return data


def psched(node: Node) -> Psched:
    return Psched.from_text(run_ok(node, ["cat", "/proc/net/psched"]).stdout_text)


_IPERF = """
import json, sys
from vmqos.verify.iperf import measure_tcp
m = measure_tcp({client!r}, {server!r}, {addr!r}, seconds={seconds}, reverse={reverse})
print(json.dumps({{"samples": [[s.start, s.end, s.value] for s in m.samples],
                  "mean": m.bits_per_second, "retransmits": m.retransmits}}))
"""


def iperf(node: Node, direction: Direction, seconds: int) -> tuple[list[Sample], float]:
    """The receiver's goodput series (bit/s per 0.2 s) and mean for one VM direction, measured
    by vmqos's own iperf3 wrapper in the node."""
    code = _IPERF.format(client=HOST_NS, server=GUEST_NS, addr=GUEST_IP, seconds=seconds,
                         reverse=direction is Direction.OUTBOUND)
    result = node.run([node.config.python, "-c", code], timeout_s=seconds + 60,
                      env={"PYTHONPATH": node.config.pythonpath})
    assert result.exit_status == 0, result.stderr_text
    doc = json.loads(result.stdout)
    return [Sample(a, b, v) for a, b, v in doc["samples"]], float(doc["mean"])
