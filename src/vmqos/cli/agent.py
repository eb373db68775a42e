"""``vmqos agent``: the long-running per-node process. Thin: :mod:`vmqos.ops.agent` runs the
rounds and the listener, :mod:`vmqos.ops.agent_metrics` decides the metrics."""

from __future__ import annotations

import logging
import os

import click

from vmqos.cli.options import profile_option
from vmqos.errors import PermanentHostError, ValidationError
from vmqos.host.state import SandboxConfig
from vmqos.ops.agent import AgentConfig, parse_listen, run_agent

__all__ = ["agent"]


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValidationError(f"{name} {value:g}: must be more than 0 seconds", key=name,
                              value=value, allowed="a number of seconds > 0")
    return value


@click.command()
@click.option("--cloud", required=True, help="the clouds.yaml cloud to read (openstacksdk); "
              "an admin's, to see which servers are on HOST")
@click.option("--host", "host", required=True, metavar="HOST",
              help="this compute node's name, as the servers' OS-EXT-SRV-ATTR:host says")
@click.option("--fix", is_flag=True, help="reconcile drifted vmqos instances each round, as "
              "`vmqos audit --fix` (needs root; libvirt domains are only read)")
@click.option("--listen", metavar="ADDR", default=None,
              help="serve GET /metrics and POST /audit on HOST:PORT (e.g. 127.0.0.1:9675, "
                   ":9675 for every address); default: no listener, log lines only")
@click.option("--interval", type=float, default=60.0, show_default=True,
              help="seconds between rounds")
@click.option("--backoff-max", type=float, default=300.0, show_default=True,
              help="the longest wait, in seconds, between retries after failed rounds")
@click.option("--stop-timeout", type=float, default=10.0, show_default=True,
              help="seconds SIGTERM waits for a round in progress")
@profile_option
@click.option("-v", "--verbose", is_flag=True, help="log each scrape too")
def agent(cloud: str, host: str, fix: bool, listen: str | None, interval: float,
          backoff_max: float, stop_timeout: float, profile: str | None, verbose: bool) -> None:
    """Audit this compute node against the cloud, round after round, and export Prometheus
    metrics.

    \b
    Each round (every --interval seconds, and at once on SIGHUP or POST /audit):
      1. read from --cloud the servers scheduled to --host (OS-EXT-SRV-ATTR:host), with
         their flavors, ports and effective QoS policies;
      2. explain them: per port and VM direction, each layer's limit and the one that
         applies;
      3. audit this node as `vmqos audit` does (vmqos instances: tc over netlink, cgroups;
         libvirt domains through virsh), and with --fix reconcile the instances;
      4. read the counters of each port tap's qdiscs (netlink; $VMQOS_HOST_NETNS if set).
    A round that fails (cloud unreachable, a host error) keeps the last state served,
    logs one line, and is retried after 1, 2, 4 ... s, at most --backoff-max. libvirtd not
    answering is reported, not a failure. SIGTERM stops within --stop-timeout.

    \b
    Metrics (GET /metrics; rates in bits/s, bursts in bytes, directions the VM's):
      vmqos_port_limit_bits_per_second{server,port,device,direction,layer}
      vmqos_port_limit_burst_bytes / vmqos_port_limit_peak_bits_per_second /
      vmqos_port_limit_min_bits_per_second  (same labels; min = a guarantee)
      vmqos_port_overridden_limit_bits_per_second  (configured, replaced on the same object)
      vmqos_port_effective_limit_bits_per_second{...,layer=the one that decides}
      vmqos_port_qdisc_{bytes,packets,drops,overlimits}_total{server,port,device,qdisc,kind}
        the tap's root and ingress qdisc counters: rate(..._bytes_total[1m]) * 8 is the
        observed bit/s (root = to the VM on a tap)
      vmqos_port_rate_limited  vmqos_audit_drift{server,object}  vmqos_audit_status
      vmqos_server_missing{server}  vmqos_audit_servers  vmqos_audit_duration_seconds
      vmqos_audit_last_success_timestamp_seconds  vmqos_audits_total
      vmqos_audit_errors_total{reason}  vmqos_audit_fixes_total  vmqos_cloud_reachable
      vmqos_libvirt_reachable  vmqos_cloud_set_aside{element}  vmqos_agent_info

    \b
    Examples:
      vmqos agent --cloud vmqos --host cmp-1 --listen :9675
      vmqos agent --cloud vmqos --host cmp-1 --fix --interval 30 --listen 127.0.0.1:9675
      curl -s localhost:9675/metrics | grep vmqos_audit_drift
      curl -s -X POST localhost:9675/audit        (or: kill -HUP PID)
    """
    # Not cli.lab's require_root: that loads the lab and matplotlib (1.3 s) for one check.
    if fix and os.geteuid() != 0:
        raise PermanentHostError("vmqos agent --fix needs root: it writes tc over netlink and "
                                 "cgroup files; without --fix the agent only reads")
    config = AgentConfig(
        cloud=cloud, host=host, fix=fix, interval=_positive("--interval", interval),
        backoff_max=_positive("--backoff-max", backoff_max),
        stop_timeout=_positive("--stop-timeout", stop_timeout),
        listen=parse_listen(listen) if listen is not None else None, profile=profile)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s vmqos agent: %(message)s")
    logging.getLogger("vmqos.agent").setLevel(logging.DEBUG if verbose else logging.INFO)
    run_agent(config, SandboxConfig.from_env())
