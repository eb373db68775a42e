"""The command line around the API: ``vmqos bootstrap``, ``vmqos explain --cloud/--server``
(which keeps going past what Nova stored unchecked below microversion 2.86), and the reader
role (reads, never writes) seen through the real ``openstack`` client."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from support.proc import vmqos_exe

from .conftest import ADMIN_PASSWORD, OPENSTACK, Cloud, free_port

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([vmqos_exe(), *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=REPO, check=False)


def _clouds_env(tmp_path: Path, text: str) -> dict[str, str]:
    (tmp_path / "clouds.yaml").write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "clouds.yaml")
    return env


def test_bootstrap_is_idempotent_and_prints_what_the_client_accepts(
        new_server: Callable[..., Cloud], tmp_path: Path) -> None:
    cloud = new_server()  # its own: bootstrap without --password resets the admin's
    db = cloud.settings.database_url
    first = _run("bootstrap", "--db", db, "--url", cloud.url, "--output", "clouds.yaml",
                 "--cloud", "mine")
    assert first.returncode == 0, first.stderr
    password = next(line.split(": ", 1)[1] for line in first.stdout.splitlines()
                    if "password:" in line)
    again = _run("bootstrap", "--db", db, "--url", cloud.url, "--password", password)
    assert again.returncode == 0 and "export OS_PASSWORD=" + password in again.stdout
    env = _clouds_env(tmp_path, first.stdout)
    listed = subprocess.run([str(OPENSTACK), "--os-cloud", "mine", "flavor",
                             "list", "-f", "json"], capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_explain_server_of_a_scenario_prints_its_plan() -> None:
    done = _run("explain", "examples/seed.yaml", "--server", "vm_resquota", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [s["name"] for s in data["servers"]] == ["vm_resquota"]
    assert [p["server"] for p in data["plans"]] == ["vm_resquota"]
    table = _run("explain", "examples/seed.yaml", "--server", "vm_normal")
    assert table.returncode == 0 and "### vm_normal (profile pike-rhel7)" in table.stdout
    missing = _run("explain", "examples/seed.yaml", "--server", "nope")
    assert missing.returncode == 2
    assert missing.stderr.startswith("vmqos: error: --server: no server named 'nope'")


def test_explain_cloud_errors_are_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = _clouds_env(tmp_path, f"""clouds:
  down:
    auth: {{auth_url: "http://127.0.0.1:{port}/identity/v3", username: a, password: b,
            project_name: a, user_domain_name: Default, project_domain_name: Default}}
""")
    unknown = _run("explain", "--cloud", "nope", env=env)
    assert unknown.returncode == 2 and unknown.stderr.startswith("vmqos: error: --cloud 'nope'")
    down = _run("explain", "--cloud", "down", env=env)
    assert down.returncode == 1, down.stderr
    assert down.stderr.startswith("vmqos: error: cannot reach cloud 'down'")
    assert "Traceback" not in down.stderr


_REFUSED = (
    (("network", "create", "nope"), "(rule:create_network) is disallowed by policy"),
    (("network", "qos", "policy", "create", "nope"), "(rule:create_policy) is disallowed"),
    (("flavor", "create", "--ram", "1", "--vcpus", "1", "--disk", "1", "nope"),
     "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed."),
)


def test_readers_read_but_never_write(cloud: Cloud) -> None:
    cloud.make_user("rita", "project-r", role="reader")
    env = cloud.os_env("rita", "pw", "project-r")
    commands = [args for args, _ in _REFUSED] + [("network", "list")]
    with ThreadPoolExecutor(4) as pool:  # each client run costs ~2 s of CPU
        done = list(pool.map(lambda a: cloud.openstack(*a, env=env, check=False), commands))
    for (_args, message), refused in zip(_REFUSED, done, strict=False):
        assert refused.returncode == 1
        assert "403" in refused.stderr and message in refused.stderr
    assert done[-1].returncode == 0, done[-1].stderr


def test_explain_cloud_as_a_member(cloud: Cloud, tmp_path: Path) -> None:
    """A member sees neither the port binding nor the driver details: the reader falls back
    to Neutron's defaults (hybrid OVS plugging, the OVS driver)."""
    cloud.make_user("mona", "project-m")
    with cloud.client() as admin:
        flavor = admin.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "mf", "ram": 1, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
        image = admin.post("/image/v2/images", json={"name": "mi", "visibility": "public"}
                           ).json()["id"]
        admin.put(f"/image/v2/images/{image}/file", content=b"x",
                  headers={"Content-Type": "application/octet-stream"})
    with cloud.client("mona", "pw", "project-m") as mona:
        network = mona.post("/network/v2.0/networks", json={"network": {"name": "mn"}}).json()
        assert mona.post("/compute/v2.1/servers", json={"server": {
            "name": "ms", "imageRef": image, "flavorRef": flavor,
            "networks": [{"uuid": network["network"]["id"]}]}}).status_code == 202
    env = _clouds_env(tmp_path, f"""clouds:
  m:
    auth: {{auth_url: "{cloud.url}/identity/v3", username: mona, password: pw,
            project_name: project-m, user_domain_name: Default,
            project_domain_name: Default}}
""")
    done = _run("explain", "--cloud", "m", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [s["name"] for s in data["servers"]] == ["ms"]
    assert data["neutron_backend"] == "ovs"
    assert [p["vif_type"] for p in data["servers"][0]["ports"]] == ["bridge"]


def _admin_clouds_env(tmp_path: Path, cloud: Cloud) -> dict[str, str]:
    return _clouds_env(tmp_path, f"""clouds:
  c:
    auth: {{auth_url: "{cloud.url}/identity/v3", username: admin, password: {ADMIN_PASSWORD},
            project_name: admin, user_domain_name: Default, project_domain_name: Default}}
""")


def test_explain_cloud_sets_aside_a_flavor_nova_stored_unchecked(
        new_server: Callable[..., Cloud], tmp_path: Path) -> None:
    """The real client creates flavors at microversion 2.61 (openstacksdk's flavor maximum),
    below 2.86 where Nova starts checking extra specs, so quota:cpu_shares=abc is stored; the
    server booted with it is ERROR. `explain --cloud` explains the good server, sets the bad
    flavor and its server aside with findings, and exits 0; --strict exits 1."""
    cloud = new_server()  # its own: the servers listed must be this test's alone
    cloud.openstack("flavor", "create", "--ram", "1", "--vcpus", "1", "--disk", "1",
                    "--property", "quota:cpu_shares=abc", "kg-bad")
    with cloud.client() as admin:
        good = admin.post("/compute/v2.1/flavors", json={"flavor": {
            "name": "kg-good", "ram": 1, "vcpus": 2, "disk": 1}}).json()["flavor"]["id"]
        flavors = {f["name"]: f["id"] for f in admin.get("/compute/v2.1/flavors").json()[
            "flavors"]}
        image = admin.post("/image/v2/images", json={"name": "ki", "visibility": "public"}
                           ).json()["id"]
        admin.put(f"/image/v2/images/{image}/file", content=b"x",
                  headers={"Content-Type": "application/octet-stream"})
        network = admin.post("/network/v2.0/networks", json={"network": {"name": "kn"}}
                             ).json()["network"]["id"]
        for name, flavor in (("vm-bad", flavors["kg-bad"]), ("vm-good", good)):
            created = admin.post("/compute/v2.1/servers", json={"server": {
                "name": name, "imageRef": image, "flavorRef": flavor,
                "networks": [{"uuid": network}]}})
            assert created.status_code == 202, created.text
        statuses = {s["name"]: s["status"] for s in admin.get(
            "/compute/v2.1/servers/detail").json()["servers"]}
    assert statuses == {"vm-bad": "ERROR", "vm-good": "ACTIVE"}
    env = _admin_clouds_env(tmp_path, cloud)

    done = _run("explain", "--cloud", "c", "--format", "json", env=env)
    assert (done.returncode, done.stderr) == (0, "")
    data = json.loads(done.stdout)
    assert [s["name"] for s in data["servers"]] == ["vm-good"]
    assert data["servers"][0]["cpu"]["shares"] is None  # modern: no default shares
    entries = [(e["element"], e["name"], e["finding"]["code"], e["finding"]["severity"],
                e["finding"]["key"], e["finding"]["value"]) for e in data["set_aside"]]
    assert entries == [
        ("flavor", "kg-bad", "flavor-fails-boot", "error", "quota:cpu_shares", "abc"),
        ("server", "vm-bad", "server-in-error-state", "error", "status", "ERROR"),
    ]
    flavor_reason = data["set_aside"][0]["finding"]["reason"]
    assert "Validation failed; 'abc' is not a valid integer value." in flavor_reason
    assert "_update_guest_cputune" in flavor_reason
    # The server's fault is the one the API recorded when the boot failed.
    assert "Validation failed; 'abc' is not a valid integer value." in data["set_aside"][1][
        "finding"]["reason"]

    table = _run("explain", "--cloud", "c", env={**env, "COLUMNS": "200"})
    assert (table.returncode, table.stderr) == (0, "")
    assert "vm-good" in table.stdout and "set aside, not explained (2)" in table.stdout
    assert "quota:cpu_shares" in table.stdout and "= abc" in table.stdout

    strict = _run("explain", "--cloud", "c", "--strict", "--format", "json", env=env)
    assert strict.returncode == 1
    assert strict.stderr == ("vmqos: error: --strict: 2 error-severity finding(s), "
                             "2 element(s) set aside\n")
    assert json.loads(strict.stdout) == data

    one = _run("explain", "--cloud", "c", "--server", "vm-bad", "--format", "json", env=env)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["servers"] == []
    assert [e["name"] for e in json.loads(one.stdout)["set_aside"]] == ["kg-bad", "vm-bad"]
