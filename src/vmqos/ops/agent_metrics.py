"""What ``vmqos agent`` exports: its state as Prometheus metric families, decided purely.

Data in (the last explanation and audit of this host's servers, and the agent's own
counters), data out (families of samples with literal names, labels and values); the agent's
shell hands them to prometheus_client at each scrape and does no arithmetic of its own.

Names follow Prometheus's conventions (prometheus.io "Metric and label naming"): the ``vmqos_``
prefix, base units in the name (``bits_per_second``, ``bytes``, ``seconds``), ``_total`` on
counters, one quantity per family with the dimensions as labels. Rates are explain's bits/s
and bursts its bytes — what the datapath enforces after tc's and OVS's rounding — never
libvirt's kB/s or Neutron's kbit/s. Direction is the VM's (``inbound`` = to the guest); the
``layer`` label is the enforcer's key (:attr:`vmqos.model.Enforcer.key`).

Invariants: every sample's labels are exactly its family's, in its order; a port direction
without a rate cap has no limit sample and ``vmqos_port_rate_limited`` 0; while the cloud is
unreachable the last successful round's samples are kept (stale, but said so by
``vmqos_cloud_reachable`` 0 and an old ``vmqos_audit_last_success_timestamp_seconds``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from vmqos.model import Direction
from vmqos.observe.tc_stats import TcCounters
from vmqos.ops.audit import AuditStatus, ServerAudit
from vmqos.plan.explain.explain import ScenarioExplanation

__all__ = ["FAMILIES", "AgentStatus", "AuditRound", "ErrorReason", "Family", "Sample",
           "agent_samples"]

Kind = Literal["gauge", "counter"]


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its full name (counters end in ``_total``), kind, help, labels."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sample:
    family: Family
    labels: tuple[str, ...]          # values, in ``family.labels``' order
    value: float


class ErrorReason(StrEnum):
    """Why a round failed (the ``reason`` label of ``vmqos_audit_errors_total``)."""

    CLOUD = "cloud"                  # the cloud did not answer or failed
    HOST = "host"                    # this host's tc, cgroups or libvirt failed the audit


@dataclass(frozen=True, slots=True)
class AuditRound:
    """One successful round: what the cloud asks of this host and what the host does."""

    explanation: ScenarioExplanation
    audits: tuple[ServerAudit, ...]
    duration_seconds: float
    finished_at: float               # Unix time, seconds
    libvirt_reachable: bool
    # device -> qdisc side ("root", "ingress") -> its counters, for the taps that exist
    counters: Mapping[str, Mapping[str, TcCounters]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """Everything the agent exports; the shell replaces it after each round."""

    host: str
    cloud: str
    fix: bool
    last: AuditRound | None = None   # the last successful round, kept through failures
    cloud_reachable: bool = False
    rounds: int = 0                  # successful rounds since start
    errors: Mapping[ErrorReason, int] = field(default_factory=dict)
    fixes: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (server, object)


_PORT = ("server", "port", "device", "direction")
_LAYER = (*_PORT, "layer")

INFO = Family("vmqos_agent_info", "gauge", "The agent's host and cloud (value 1).",
              ("host", "cloud", "fix"))
LIMIT = Family("vmqos_port_limit_bits_per_second", "gauge",
               "A layer's configured rate limit on a port, per VM direction (every layer asked "
               "for, enforced or overridden).", _LAYER)
BURST = Family("vmqos_port_limit_burst_bytes", "gauge",
               "A layer's configured burst on a port, per VM direction.", _LAYER)
PEAK = Family("vmqos_port_limit_peak_bits_per_second", "gauge",
              "A layer's configured peak (HTB ceil) on a port, per VM direction.", _LAYER)
MIN_RATE = Family("vmqos_port_limit_min_bits_per_second", "gauge",
                  "A layer's configured guarantee (HTB min-rate, VF min_tx_rate) on a port, per "
                  "VM direction.", _LAYER)
EFFECTIVE = Family("vmqos_port_effective_limit_bits_per_second", "gauge",
                   "The rate that applies on a port, per VM direction; layer: which decides.",
                   _LAYER)
OVERRIDDEN = Family("vmqos_port_overridden_limit_bits_per_second", "gauge",
                    "A rate limit asked for but removed by a later writer of the same host "
                    "object (configured, not enforced), per VM direction.", _LAYER)
LIMITED = Family("vmqos_port_rate_limited", "gauge",
                 "1 when some layer caps the port's rate in that VM direction, else 0.", _PORT)
_QDISC = ("server", "port", "device", "qdisc", "kind")
_QDISC_HELP = ("; qdisc: the tap's root (to the VM on a tap, from it on a macvtap) or "
               "ingress (the other way); rate() of it is the observed rate.")
QDISC_BYTES = Family("vmqos_port_qdisc_bytes_total", "counter",
                     "Bytes through a port device's qdisc" + _QDISC_HELP, _QDISC)
QDISC_PACKETS = Family("vmqos_port_qdisc_packets_total", "counter",
                       "Packets through a port device's qdisc" + _QDISC_HELP, _QDISC)
QDISC_DROPS = Family("vmqos_port_qdisc_drops_total", "counter",
                     "Packets a port device's qdisc dropped (policed or queue full)"
                     + _QDISC_HELP, _QDISC)
QDISC_OVERLIMITS = Family("vmqos_port_qdisc_overlimits_total", "counter",
                          "Times a port device's qdisc was over its limit (throttled)"
                          + _QDISC_HELP, _QDISC)
DRIFT = Family("vmqos_audit_drift", "gauge",
               "1 when the audited object differs from the plan (and was not fixed), else 0.",
               ("server", "object"))
STATUS = Family("vmqos_audit_status", "gauge",
                "The audited object's status: 1 for the current one, 0 for the others.",
                ("server", "object", "status"))
MISSING = Family("vmqos_server_missing", "gauge",
                 "1 when the server has neither a vmqos instance nor a libvirt domain here.",
                 ("server",))
SERVERS = Family("vmqos_audit_servers", "gauge",
                 "Servers scheduled to this host in the last successful audit.")
DURATION = Family("vmqos_audit_duration_seconds", "gauge",
                  "How long the last successful round took: cloud read, explain and audit.")
LAST_SUCCESS = Family("vmqos_audit_last_success_timestamp_seconds", "gauge",
                      "When the last successful round ended (Unix time).")
ROUNDS = Family("vmqos_audits_total", "counter", "Successful rounds since the agent started.")
ERRORS = Family("vmqos_audit_errors_total", "counter",
                "Failed rounds since the agent started, by reason.", ("reason",))
FIXES = Family("vmqos_audit_fixes_total", "counter",
               "Objects --fix reconciled since the agent started.", ("server", "object"))
CLOUD_UP = Family("vmqos_cloud_reachable", "gauge",
                  "1 when the last read of the cloud succeeded, else 0.")
LIBVIRT_UP = Family("vmqos_libvirt_reachable", "gauge",
                    "1 when libvirtd answered in the last successful round, else 0.")
SET_ASIDE = Family("vmqos_cloud_set_aside", "gauge",
                   "Elements the cloud holds that cannot be explained (a finding says why).",
                   ("element",))

FAMILIES: tuple[Family, ...] = (
    INFO, LIMIT, BURST, PEAK, MIN_RATE, EFFECTIVE, OVERRIDDEN, LIMITED, QDISC_BYTES,
    QDISC_PACKETS, QDISC_DROPS, QDISC_OVERLIMITS, DRIFT, STATUS, MISSING,
    SERVERS, DURATION, LAST_SUCCESS, ROUNDS, ERRORS, FIXES, CLOUD_UP, LIBVIRT_UP, SET_ASIDE)

_OBJECTS = ("instance", "libvirt")


def _limit_samples(explanation: ScenarioExplanation) -> Iterator[Sample]:
    for server in explanation.servers:
        for port in server.ports:
            for direction in Direction:
                enforcement = port.direction(direction)
                where = (server.name, port.port_id, port.device, direction.value)
                for limit in enforcement.layers:
                    labels = (*where, limit.enforcer.key)
                    for family, value in ((LIMIT, limit.rate), (BURST, limit.burst),
                                          (PEAK, limit.peak), (MIN_RATE, limit.min_rate)):
                        if value is not None:
                            yield Sample(family, labels, float(value))
                for limit in enforcement.overridden:
                    if limit.rate is not None:
                        yield Sample(OVERRIDDEN, (*where, limit.enforcer.key), float(limit.rate))
                effective = enforcement.effective
                if effective is not None and effective.rate is not None:
                    yield Sample(EFFECTIVE, (*where, effective.enforcer.key),
                                 float(effective.rate))
                yield Sample(LIMITED, where, float(effective is not None
                                                   and effective.rate is not None))


def _counter_samples(explanation: ScenarioExplanation,
                     counters: Mapping[str, Mapping[str, TcCounters]]) -> Iterator[Sample]:
    for server in explanation.servers:
        for port in server.ports:
            for side, found in sorted(counters.get(port.device, {}).items()):
                labels = (server.name, port.port_id, port.device, side, found.kind)
                for family, value in ((QDISC_BYTES, found.bytes),
                                      (QDISC_PACKETS, found.packets),
                                      (QDISC_DROPS, found.drops),
                                      (QDISC_OVERLIMITS, found.overlimits)):
                    yield Sample(family, labels, float(value))


def _audit_samples(audits: tuple[ServerAudit, ...]) -> Iterator[Sample]:
    for audit in audits:
        for kind, section in zip(_OBJECTS, (audit.instance, audit.libvirt), strict=True):
            yield Sample(DRIFT, (audit.server, kind), float(section.drifted))
            for status in AuditStatus:
                yield Sample(STATUS, (audit.server, kind, status.value),
                             float(section.status is status))
        yield Sample(MISSING, (audit.server,), float(audit.missing))


def _round_samples(last: AuditRound) -> Iterator[Sample]:
    yield from _limit_samples(last.explanation)
    yield from _counter_samples(last.explanation, last.counters)
    yield from _audit_samples(last.audits)
    yield Sample(SERVERS, (), float(len(last.audits)))
    yield Sample(DURATION, (), last.duration_seconds)
    yield Sample(LAST_SUCCESS, (), last.finished_at)
    yield Sample(LIBVIRT_UP, (), float(last.libvirt_reachable))
    counts: dict[str, int] = {}
    for entry in last.explanation.set_aside:
        counts[entry.element.value] = counts.get(entry.element.value, 0) + 1
    for element, count in sorted(counts.items()):
        yield Sample(SET_ASIDE, (element,), float(count))


def agent_samples(status: AgentStatus) -> list[tuple[Family, list[Sample]]]:
    """Every family of :data:`FAMILIES` with its samples (a family may have none yet)."""
    samples: list[Sample] = [
        Sample(INFO, (status.host, status.cloud, str(status.fix).lower()), 1.0),
        Sample(ROUNDS, (), float(status.rounds)),
        Sample(CLOUD_UP, (), float(status.cloud_reachable)),
    ]
    samples += [Sample(ERRORS, (reason.value,), float(status.errors.get(reason, 0)))
                for reason in ErrorReason]
    samples += [Sample(FIXES, key, float(n)) for key, n in sorted(status.fixes.items())]
    if status.last is not None:
        samples += _round_samples(status.last)
    by_family: dict[Family, list[Sample]] = {f: [] for f in FAMILIES}
    for sample in samples:
        by_family[sample.family].append(sample)
    return list(by_family.items())
