"""``vmqos agent``: one per compute node — read the cloud's servers for this host, explain and
audit them here, keep the last result, export it to Prometheus.

The shell around :mod:`vmqos.ops.agent_metrics` (which decides every metric): a round reads
the servers scheduled to the host (:func:`vmqos.store.cloud_reader.read_cloud` with ``host``),
explains them and audits them (:func:`vmqos.ops.audit.audit_servers`, ``fix`` reconciling as
``vmqos audit --fix`` does). Rounds run in one worker thread, on the interval and on demand
(SIGHUP, ``POST /audit``); the HTTP listener answers ``GET /metrics`` from the last status
without waiting for a round.

Failures are reported and survived: a cloud that does not answer or fails (a
:class:`TemporaryHostError` from the reader, or a :class:`ValidationError` once a round has
succeeded — rotated credentials) and a host error in the audit count in
``vmqos_audit_errors_total``, log one line, keep the last successful round's state, and are
retried after 1, 2, 4 ... seconds up to ``backoff_max``. libvirtd not answering is no failure:
the vmqos instances are still audited and ``vmqos_libvirt_reachable`` says 0. A wrong cloud name
or credentials on the *first* round stop the agent (exit 2): that is configuration to fix.

SIGTERM and SIGINT stop it: the listener closes at once and a round in progress gets
``stop_timeout`` seconds to finish (an apply under ``--fix`` is one batch per transaction,
:mod:`vmqos.host.apply`), after which the process exits without it.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

from vmqos.errors import HostError, PermanentHostError, TemporaryHostError, ValidationError
from vmqos.host.facts import observe_host_facts
from vmqos.host.libvirt import libvirt_uri, libvirtd_reachable
from vmqos.host.state import SandboxConfig
from vmqos.host.tc_stats import observe_qdisc_counters
from vmqos.ops.agent_metrics import AgentStatus, AuditRound, ErrorReason, agent_samples
from vmqos.ops.audit import AuditStatus, audit_servers
from vmqos.plan.explain.explain import explain_scenario
from vmqos.profile import get_profile
from vmqos.reconcile.facts import HostFacts
from vmqos.store.cloud_reader import read_cloud

__all__ = ["AgentConfig", "parse_listen", "retry_delay", "run_agent"]

log = logging.getLogger("vmqos.agent")


@dataclass(frozen=True, slots=True)
class AgentConfig:
    cloud: str
    host: str
    fix: bool = False
    interval: float = 60.0           # seconds between rounds while all is well
    backoff_max: float = 300.0       # the longest wait between retries after failures
    stop_timeout: float = 10.0       # how long SIGTERM waits for a round in progress
    cloud_timeout: float = 30.0      # each request to the cloud
    listen: tuple[str, int] | None = None
    profile: str | None = None       # a compute-node profile; None: the reader's default


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6, ``:PORT`` for every address)."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValidationError(f"--listen {value!r} is not HOST:PORT", key="--listen",
                              value=value, allowed="HOST:PORT, e.g. 127.0.0.1:9675 or :9675")
    return host or "0.0.0.0", int(port)


def retry_delay(failures: int, interval: float, backoff_max: float) -> float:
    """Seconds until the next round: the interval while all is well, else 1 s doubled per
    failure in a row, at most ``backoff_max``."""
    if failures == 0:
        return interval
    return float(min(backoff_max, 2.0 ** min(failures - 1, 30)))


class _Collector:
    """Turns one status into prometheus_client families."""

    def __init__(self, status: AgentStatus) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        for family, samples in agent_samples(self._status):
            metric: GaugeMetricFamily | CounterMetricFamily
            if family.kind == "counter":
                metric = CounterMetricFamily(family.name, family.help, labels=family.labels)
            else:
                metric = GaugeMetricFamily(family.name, family.help, labels=family.labels)
            for sample in samples:
                metric.add_metric(list(sample.labels), sample.value)
            yield metric


class Agent:
    """The rounds and the last status; thread-safe for the listener."""

    def __init__(self, config: AgentConfig, sandbox: SandboxConfig) -> None:
        self.config = config
        self.sandbox = sandbox
        self._status = AgentStatus(host=config.host, cloud=config.cloud, fix=config.fix)
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._facts: HostFacts | None = None
        self._failures = 0
        self._process = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self._process)
        self._rendered: tuple[AgentStatus, bytes] | None = None

    @property
    def status(self) -> AgentStatus:
        with self._lock:
            return self._status

    def exposition(self) -> bytes:
        """The text a scrape gets. The status's families are rendered once per status (a
        status is replaced, never changed: 1,000 ports are ~17,000 samples, 0.12 s to
        render), the process's own metrics at every scrape."""
        status = self.status
        rendered = self._rendered
        if rendered is None or rendered[0] is not status:
            registry = CollectorRegistry(auto_describe=False)
            registry.register(_Collector(status))
            rendered = (status, generate_latest(registry))
            self._rendered = rendered
        return rendered[1] + generate_latest(self._process)

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _failed(self, reason: ErrorReason, message: str, *, cloud_reachable: bool) -> None:
        self._failures += 1
        errors = dict(self.status.errors)
        errors[reason] = errors.get(reason, 0) + 1
        self._update(errors=errors, cloud_reachable=cloud_reachable)
        delay = retry_delay(self._failures, self.config.interval, self.config.backoff_max)
        log.warning("%s; keeping the last state, retrying in %g s", message, delay)

    def audit_once(self) -> None:
        """One round; a failure is recorded, never raised (but see the module's docstring for
        the first round's configuration errors)."""
        config = self.config
        started = time.monotonic()
        try:
            scenario = read_cloud(config.cloud, host=config.host,
                                  profile=config.profile or "modern",
                                  timeout=config.cloud_timeout)
        except TemporaryHostError as exc:
            self._failed(ErrorReason.CLOUD, str(exc), cloud_reachable=False)
            return
        except ValidationError as exc:
            if self.status.rounds == 0 and self.status.last is None:
                raise
            self._failed(ErrorReason.CLOUD, str(exc), cloud_reachable=False)
            return
        if not self.status.cloud_reachable and self._failures:
            log.info("cloud %r answers again", config.cloud)
        self._update(cloud_reachable=True)
        profile = get_profile(config.profile or scenario.profile)
        try:
            explanation = explain_scenario(scenario, profile)
            libvirt = libvirtd_reachable()
            if self._facts is None:  # the kernel's facts do not change under a running agent
                self._facts = observe_host_facts()
            audits = tuple(audit_servers(scenario, scenario.servers, profile, self.sandbox,
                                         fix=config.fix, facts=self._facts, libvirt=libvirt))
            devices = {p.device for s in explanation.servers for p in s.ports}
            counters = observe_qdisc_counters(devices, self.sandbox.host_netns)
        except HostError as exc:
            self._failed(ErrorReason.HOST, f"audit of host {config.host!r} failed: {exc}",
                         cloud_reachable=True)
            return
        previous = self.status.last
        if not libvirt and (previous is None or previous.libvirt_reachable):
            log.warning("libvirtd not reachable at %s: libvirt domains are not audited",
                        libvirt_uri())
        self._record(AuditRound(explanation, audits, time.monotonic() - started, time.time(),
                                libvirt, counters))

    def _record(self, done: AuditRound) -> None:
        self._failures = 0
        status = self.status
        fixes = dict(status.fixes)
        for audit in done.audits:
            for kind, section in (("instance", audit.instance), ("libvirt", audit.libvirt)):
                if section.status is AuditStatus.FIXED:
                    fixes[audit.server, kind] = fixes.get((audit.server, kind), 0) + 1
        self._update(last=done, rounds=status.rounds + 1, fixes=fixes)
        drifted = [a.server for a in done.audits if a.drifted]
        missing = [a.server for a in done.audits if a.missing]
        log.info("audited %d server(s) of host %r in %.3f s: %d drifted, %d missing",
                 len(done.audits), self.config.host, done.duration_seconds, len(drifted),
                 len(missing))

    def run(self) -> None:
        """Rounds until :attr:`stopping` is set."""
        while not self.stopping.is_set():
            self.wake.clear()
            self.audit_once()
            self.exposition()  # rendered here, so that no scrape waits for it
            delay = retry_delay(self._failures, self.config.interval, self.config.backoff_max)
            self.wake.wait(delay)


class _Handler(BaseHTTPRequestHandler):
    server: _Listener

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/metrics":
            self._answer(200, self.server.agent.exposition(), CONTENT_TYPE_LATEST)
        elif self.path == "/":
            self._answer(200, b"vmqos agent: GET /metrics (Prometheus), POST /audit "
                              b"(audit now)\n")
        else:
            self._answer(404, b"not found: GET /metrics or POST /audit\n")

    def do_POST(self) -> None:
        if self.path == "/audit":
            self.server.agent.wake.set()
            self._answer(202, b"audit requested\n")
        else:
            self._answer(404, b"not found: GET /metrics or POST /audit\n")

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class _Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], agent: Agent) -> None:
        self.agent = agent
        super().__init__(address, _Handler)


def _listen(agent: Agent, address: tuple[str, int]) -> _Listener:
    try:
        return _Listener(address, agent)
    except OSError as exc:
        raise PermanentHostError(f"--listen {address[0]}:{address[1]}: cannot listen: "
                                 f"{exc.strerror}") from exc


def _handle(signals: Iterable[signal.Signals], event: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        event.set()

    for signum in signals:
        signal.signal(signum, handler)


def run_agent(config: AgentConfig, sandbox: SandboxConfig) -> None:
    """Run until SIGTERM or SIGINT (from the main thread: it owns the signals). What ended
    the rounds otherwise (see ``rounds`` below) is raised here once the agent has stopped."""
    agent = Agent(config, sandbox)
    listener = _listen(agent, config.listen) if config.listen is not None else None
    _handle((signal.SIGTERM, signal.SIGINT), agent.stopping)
    _handle((signal.SIGHUP,), agent.wake)
    fatal: list[Exception] = []

    def rounds() -> None:
        # A configuration error of the first round (exit 2), or a bug (a traceback, exit 70),
        # ends the agent: it is raised in the main thread, never left in a dead worker while
        # the listener serves an old state.
        try:
            agent.run()
        except Exception as exc:
            fatal.append(exc)
            agent.stopping.set()

    worker = threading.Thread(target=rounds, name="vmqos-agent-rounds", daemon=True)
    worker.start()
    if listener is not None:
        threading.Thread(target=listener.serve_forever, name="vmqos-agent-http",
                         daemon=True).start()
        log.info("serving metrics on http://%s:%d/metrics", *listener.server_address[:2])
    while not agent.stopping.wait(1.0):
        pass
    agent.wake.set()
    if listener is not None:
        listener.shutdown()
        listener.server_close()
    worker.join(config.stop_timeout)
    if fatal:
        raise fatal[0]
    if worker.is_alive():
        log.warning("a round still runs after %g s; exiting without it", config.stop_timeout)
    log.info("stopped")
