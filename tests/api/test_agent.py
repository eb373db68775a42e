"""``vmqos agent`` against a real ``vmqos serve``: a host is registered and servers land on it
through the real API, the agent (a real process) reads them through openstacksdk, audits this
host and serves Prometheus metrics; a server deleted mid-loop is no error; with the cloud
stopped it keeps serving the last state and says the cloud is unreachable; SIGTERM stops it.

Runs without root: the agent audits an empty host (its own empty sandbox record, libvirtd at a
socket that does not exist), so the servers are reported missing — itself a metric."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from support.proc import vmqos_exe

from .conftest import ADMIN_PASSWORD, Serve, free_port

NOVA = "/compute/v2.1"
NET = "/network/v2.0"
MV = {"OpenStack-API-Version": "compute 2.96"}
HOST = "cmp-agent"
Metrics = dict[str, dict[tuple[tuple[str, str], ...], float]]


def _scrape(url: str) -> Metrics:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    out: Metrics = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def _until(url: str, agent: subprocess.Popen[str], ok: Callable[[Metrics], bool],
           what: str, timeout: float = 60) -> Metrics:
    deadline = time.monotonic() + timeout
    while True:
        assert agent.poll() is None, f"the agent exited: {agent.communicate()[1]}"
        try:
            metrics = _scrape(url)
            if ok(metrics):
                return metrics
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _world(admin: httpx.Client) -> dict[str, str]:
    registered = admin.put(f"{NOVA}/vmqos-hosts/{HOST}", json={"host": {
        "vcpus": 8, "memory_mb": 16384, "disk_gb": 100, "host_ip": "192.0.2.20",
        "agents": [{"agent_type": "Open vSwitch agent",
                    "bridge_mappings": {"physnet1": "br-phys"}}]}})
    assert registered.status_code == 200, registered.text
    flavor = admin.post(f"{NOVA}/flavors", json={"flavor": {
        "name": "m1.shaped", "ram": 512, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
    specs = admin.post(f"{NOVA}/flavors/{flavor}/os-extra_specs", json={"extra_specs": {
        "quota:vif_inbound_average": "1000", "quota:vif_outbound_average": "2000"}})
    assert specs.status_code == 200, specs.text
    image = admin.post("/image/v2/images", json={
        "name": "img", "disk_format": "raw", "container_format": "bare"}).json()["id"]
    admin.put(f"/image/v2/images/{image}/file", content=b"x",
              headers={"Content-Type": "application/octet-stream"})
    network = admin.post(f"{NET}/networks", json={"network": {"name": "n1"}}).json()[
        "network"]["id"]
    policy = admin.post(f"{NET}/qos/policies", json={"policy": {"name": "cap"}}).json()[
        "policy"]["id"]
    rule = admin.post(f"{NET}/qos/policies/{policy}/bandwidth_limit_rules", json={
        "bandwidth_limit_rule": {"max_kbps": 3000, "max_burst_kbps": 300,
                                 "direction": "egress"}})
    assert rule.status_code == 201, rule.text
    return {"flavor": flavor, "image": image, "network": network, "policy": policy}


def _boot(admin: httpx.Client, world: dict[str, str], name: str) -> tuple[str, str]:
    port = admin.post(f"{NET}/ports", json={"port": {
        "network_id": world["network"], "qos_policy_id": world["policy"]}}).json()["port"]["id"]
    created = admin.post(f"{NOVA}/servers", json={"server": {
        "name": name, "flavorRef": world["flavor"], "imageRef": world["image"],
        "networks": [{"port": port}]}})
    assert created.status_code == 202, created.text
    server = admin.get(f"{NOVA}/servers/{created.json()['server']['id']}").json()["server"]
    assert server["status"] == "ACTIVE" and server["OS-EXT-SRV-ATTR:host"] == HOST, server
    return server["id"], port


def test_agent_exports_a_hosts_limits_and_survives_the_cloud(
        serve: Serve, tmp_path: Path) -> None:
    with serve.cloud.client(**MV) as admin:
        world = _world(admin)
        servers = {name: _boot(admin, world, name) for name in ("web-1", "web-2", "gone")}
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(f"""clouds:
  c:
    auth: {{auth_url: "{serve.cloud.url}/identity/v3", username: admin,
            password: {ADMIN_PASSWORD}, project_name: admin, user_domain_name: Default,
            project_domain_name: Default}}
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VMQOS_"))}
    env.update(OS_CLIENT_CONFIG_FILE=str(clouds), VMQOS_STATE_DIR=str(tmp_path / "state"),
               LIBVIRT_DEFAULT_URI="qemu+unix:///system?socket=/nonexistent/libvirt-sock")
    listen = f"127.0.0.1:{free_port()}"
    url = f"http://{listen}"
    agent = subprocess.Popen(
        [vmqos_exe(), "agent", "--cloud", "c", "--host", HOST, "--listen", listen,
         "--interval", "600", "--backoff-max", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        metrics = _until(url, agent, lambda m: m.get("vmqos_audits_total", {}).get(()) == 1,
                         "a first round")
        # Each server's configured limits, per port, VM direction and layer, in bit/s. The
        # ports are OVS ports, so libvirt writes quota:vif_outbound_average 2000 kB/s = 16
        # Mbit/s as the Interface's ingress policing, which the OVS agent rewrites with the
        # policy's 3000 kbit/s egress (= VM outbound): configured, overridden, not effective.
        # Inbound libvirt makes the 1000 kB/s average the OVS queue's min-rate: 8 Mbit/s
        # guaranteed, no cap.
        limits = metrics["vmqos_port_limit_bits_per_second"]
        effective = metrics["vmqos_port_effective_limit_bits_per_second"]
        for name, (_id, port) in servers.items():
            device = f"tap{port[:11]}"
            where = {"server": name, "port": port, "device": device}
            assert limits[_labels(**where, direction="outbound", layer="ovs_libvirt")] == \
                16_000_000
            assert metrics["vmqos_port_overridden_limit_bits_per_second"][_labels(
                **where, direction="outbound", layer="ovs_libvirt")] == 16_000_000
            assert metrics["vmqos_port_rate_limited"][_labels(**where, direction="outbound")] \
                == 1
            assert metrics["vmqos_port_limit_min_bits_per_second"][_labels(
                **where, direction="inbound", layer="ovs_libvirt")] == 8_000_000
            assert metrics["vmqos_port_rate_limited"][_labels(**where, direction="inbound")] \
                == 0
            assert limits[_labels(**where, direction="outbound", layer="ovs_agent")] == 3_000_000
            assert effective[_labels(**where, direction="outbound", layer="ovs_agent")] == \
                3_000_000
            # Nothing of them exists on this host: missing, and drift is not claimed.
            assert metrics["vmqos_server_missing"][_labels(server=name)] == 1
            assert metrics["vmqos_audit_drift"][_labels(server=name, object="instance")] == 0
            assert metrics["vmqos_audit_status"][_labels(
                server=name, object="libvirt", status="not audited")] == 1
        assert metrics["vmqos_audit_servers"][()] == 3
        assert metrics.get("vmqos_port_qdisc_bytes_total", {}) == {}  # no tap here to count
        assert metrics["vmqos_cloud_reachable"][()] == 1
        assert metrics["vmqos_libvirt_reachable"][()] == 0
        assert metrics["vmqos_agent_info"] == {
            _labels(host=HOST, cloud="c", fix="false"): 1}
        assert metrics["vmqos_audit_duration_seconds"][()] > 0
        started = time.perf_counter()
        _scrape(url)
        print(f"scrape {1000 * (time.perf_counter() - started):.1f} ms, first round "
              f"{metrics['vmqos_audit_duration_seconds'][()]:.3f} s")

        # A server deleted between rounds is simply no longer there, and no error. With a
        # 600 s interval, only the request makes the next round.
        with serve.cloud.client(**MV) as admin:
            assert admin.delete(f"{NOVA}/servers/{servers['gone'][0]}").status_code == 204
        assert httpx.post(f"{url}/audit", timeout=10).status_code == 202
        metrics = _until(url, agent, lambda m: m["vmqos_audit_servers"][()] == 2,
                         "a round without the deleted server")
        assert _labels(server="gone") not in metrics["vmqos_server_missing"]
        assert metrics["vmqos_audit_errors_total"] == {
            _labels(reason="cloud"): 0, _labels(reason="host"): 0}
        last_success = metrics["vmqos_audit_last_success_timestamp_seconds"][()]
        rounds = metrics["vmqos_audits_total"][()]

        # The cloud goes away: the last state is still served, the cloud said unreachable.
        # SIGHUP asks for the round; the failures are retried after 1 s, then 2 s.
        serve.stop()
        agent.send_signal(signal.SIGHUP)
        metrics = _until(url, agent, lambda m: m["vmqos_cloud_reachable"][()] == 0,
                         "the cloud reported unreachable")
        metrics = _until(url, agent, lambda m: m["vmqos_audit_errors_total"][
            _labels(reason="cloud")] >= 2, "a retry")
        assert metrics["vmqos_audit_servers"][()] == 2
        assert metrics["vmqos_audits_total"][()] == rounds
        assert metrics["vmqos_audit_last_success_timestamp_seconds"][()] == last_success
        assert metrics["vmqos_port_limit_bits_per_second"][_labels(
            server="web-1", port=servers["web-1"][1], device=f"tap{servers['web-1'][1][:11]}",
            direction="outbound", layer="ovs_agent")] == 3_000_000

        stopping = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=20)
        assert agent.returncode == 0, err
        assert time.monotonic() - stopping < 15
        assert "cannot reach cloud 'c'" in err and "keeping the last state" in err
        assert "Traceback" not in err
        assert "stopped" in err.splitlines()[-1]
        print("\n".join(line for line in err.splitlines() if "audited" in line))
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=30)


def test_agent_with_an_unknown_cloud_exits_2(tmp_path: Path) -> None:
    """A configuration error on the first round stops the agent at once (exit 2), with the
    reader's message; retrying cannot fix it."""
    (tmp_path / "clouds.yaml").write_text("clouds: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VMQOS_"))}
    env["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "clouds.yaml")
    done = subprocess.run([vmqos_exe(), "agent", "--cloud", "nope", "--host", HOST],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "vmqos: error: --cloud 'nope'" in done.stderr
    bad = subprocess.run([vmqos_exe(), "agent", "--cloud", "c", "--host", HOST, "--listen",
                          "9675"], capture_output=True, text=True, env=env, timeout=60,
                         check=False)
    assert bad.returncode == 2
    assert bad.stderr.startswith("vmqos: error: --listen '9675' is not HOST:PORT")


def test_sigterm_stops_the_agent_within_its_bound_while_the_cloud_hangs(
        tmp_path: Path) -> None:
    """A cloud that takes connections and never answers holds a round for the request
    timeout (30 s); SIGTERM still ends the agent within --stop-timeout, and /metrics answers
    meanwhile (the round does not hold the listener)."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)  # never accepted: the kernel completes the handshake, nobody answers
        (tmp_path / "clouds.yaml").write_text(f"""clouds:
  c:
    auth: {{auth_url: "http://127.0.0.1:{hung.getsockname()[1]}/identity/v3", username: a,
            password: b, project_name: a, user_domain_name: Default,
            project_domain_name: Default}}
""")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "VMQOS_"))}
        env.update(OS_CLIENT_CONFIG_FILE=str(tmp_path / "clouds.yaml"),
                   VMQOS_STATE_DIR=str(tmp_path / "state"))
        listen = f"127.0.0.1:{free_port()}"
        agent = subprocess.Popen(
            [vmqos_exe(), "agent", "--cloud", "c", "--host", HOST, "--listen", listen,
             "--stop-timeout", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        try:
            metrics = _until(f"http://{listen}", agent, lambda m: "vmqos_agent_info" in m,
                             "the listener")
            assert metrics["vmqos_cloud_reachable"][()] == 0
            assert metrics["vmqos_audits_total"][()] == 0
            time.sleep(1)  # the first round is inside openstacksdk by now
            stopping = time.monotonic()
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=30)
            took = time.monotonic() - stopping
            assert agent.returncode == 0, err
            assert took < 5, f"SIGTERM took {took:.1f} s"
            assert "a round still runs after 2 s; exiting without it" in err
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait(timeout=30)
