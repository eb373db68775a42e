"""``vmqos explain --predict``: the predicted curve of every limited port direction and disk.

Role: pure. Walks an explanation and asks :mod:`vmqos.plan.predict` for each port direction
that a layer caps (every layer left after the last-writer rule acts in series), each disk
with ``<iotune>`` values (reads and writes, bytes and operations) and the CPU share each
server gets when all of the scenario's servers (two or more) are busy on one CPU. Devices
are the port's (layers name them by role, :meth:`PortExplanation.device_of`).
"""

from __future__ import annotations

from dataclasses import dataclass

from vmqos.intent.scenario import Scenario
from vmqos.model import Direction
from vmqos.plan.explain.explain import (
    DirectionExplanation,
    PortExplanation,
    ScenarioExplanation,
    ServerExplanation,
)
from vmqos.plan.kernel.cgroup import SHARES_DEFAULT, WEIGHT_DEFAULT
from vmqos.plan.predict import (
    Curve,
    DiskOp,
    DiskUnit,
    describe_transfer,
    limit_buckets,
    predict_cpu_shares,
    predict_disk,
    predict_tcp,
)
from vmqos.plan.render.cgroup import shares_to_weight
from vmqos.profile import CgroupVersion, Profile
from vmqos.units import BitsPerSec, Bytes, Duration, format_bytes

__all__ = ["CpuPrediction", "DiskPrediction", "PortPrediction", "ScenarioPrediction",
           "predict_explanation"]

# The request size a direct-I/O guest issues when the prediction counts operations.
IO_REQUEST = Bytes(4096)


@dataclass(frozen=True, slots=True)
class PortPrediction:
    server: str
    port_id: str
    device: str
    direction: Direction
    seconds: Duration | None           # for the whole transfer; None: it never completes
    curve: Curve                       # payload bytes/s
    text: str


@dataclass(frozen=True, slots=True)
class DiskPrediction:
    server: str
    target_dev: str
    op: DiskOp
    unit: DiskUnit
    seconds: Duration | None
    curve: Curve                       # B/s or IO/s
    text: str


@dataclass(frozen=True, slots=True)
class CpuPrediction:
    server: str
    weight: int                        # cpu.shares (v1) or cpu.weight (v2)
    share: float                       # of one CPU, with every server of the scenario busy on it


@dataclass(frozen=True, slots=True)
class ScenarioPrediction:
    size: Bytes
    line_rate: BitsPerSec | None
    ports: tuple[PortPrediction, ...]
    disks: tuple[DiskPrediction, ...]
    cpu: tuple[CpuPrediction, ...]


def _seconds(curve: Curve, amount: float) -> Duration | None:
    t = curve.time_for(amount)
    return None if t == float("inf") else t


def _port(server: ServerExplanation, port: PortExplanation, d: DirectionExplanation,
          size: Bytes, mtu: int, line_rate: BitsPerSec | None) -> PortPrediction | None:
    if d.effective is None:
        return None
    acting = [x for x in d.layers if x.rate and all(x is not o for o in d.overridden)]
    buckets = [b for layer in acting for b in limit_buckets(layer)]
    curve = predict_tcp(buckets, mtu=mtu, line_rate=line_rate)
    way = "to" if d.direction is Direction.INBOUND else "from"
    text = describe_transfer(curve, size, f"{format_bytes(size)} {way} {server.name}")
    return PortPrediction(server.name, port.port_id, port.device, d.direction,
                          _seconds(curve, size), curve, text)


def _disks(server: ServerExplanation, size: Bytes) -> list[DiskPrediction]:
    out = []
    for disk in server.disks:
        limits = dict(disk.limits)
        for op in DiskOp:
            for unit in DiskUnit:
                curve = predict_disk(limits, op, unit)
                if curve is None:
                    continue
                if unit is DiskUnit.BYTES:
                    amount: float = size
                    subject = f"{op.value} {format_bytes(size)} on {disk.target_dev}"
                    text = describe_transfer(curve, amount, subject, what="throughput",
                                             unit="B/s", per_unit=1.0)
                else:
                    amount = size / IO_REQUEST
                    subject = (f"{op.value} {format_bytes(size)} on {disk.target_dev} in "
                               f"{format_bytes(IO_REQUEST)} requests")
                    text = describe_transfer(curve, amount, subject, what="operations",
                                             unit="IO/s", per_unit=1.0)
                out.append(DiskPrediction(server.name, disk.target_dev, op, unit,
                                          _seconds(curve, amount), curve, text))
    return out


def _weight(server: ServerExplanation, profile: Profile) -> int:
    shares = server.cpu.shares
    if profile.cgroup is CgroupVersion.V2:
        return WEIGHT_DEFAULT if shares is None else shares_to_weight(
            shares, profile.shares_policy)
    return SHARES_DEFAULT if shares is None else shares


def predict_explanation(scenario: Scenario, explanation: ScenarioExplanation, profile: Profile,
                        size: Bytes, *, line_rate: BitsPerSec | None = None
                        ) -> ScenarioPrediction:
    """Predictions for ``explanation`` (of ``scenario`` under ``profile``): a bulk TCP
    transfer of ``size`` per limited port direction (at the port network's MTU; ``line_rate``
    the link's, ``None``: unbounded), direct I/O of ``size`` per disk bucket family, CPU
    shares."""
    networks = {n.name: n.mtu for n in scenario.networks}
    ports: list[PortPrediction] = []
    disks: list[DiskPrediction] = []
    for server in explanation.servers:
        for port in server.ports:
            for direction in Direction:
                found = _port(server, port, port.direction(direction), size,
                              networks.get(port.network, 1500), line_rate)
                if found is not None:
                    ports.append(found)
        disks += _disks(server, size)
    # A share needs company: one server alone on a CPU gets all of it, whatever its weight.
    weights = [_weight(s, profile) for s in explanation.servers]
    cpu = () if len(weights) < 2 else tuple(
        CpuPrediction(s.name, w, share) for s, w, share in zip(
            explanation.servers, weights, predict_cpu_shares(weights), strict=True))
    return ScenarioPrediction(size, line_rate, tuple(ports), tuple(disks), cpu)
