"""`vmqos audit --from-text`: the seed note's own tc session, judged against the seed plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from support.seed import NOTE as SEED_NOTE

from .conftest import Outcome, assert_user_error


def test_the_seed_note_is_in_sync_with_the_seed_plan(vmqos: Callable[..., Outcome]) -> None:
    out = vmqos("audit", "examples/seed.yaml", "--from-text", SEED_NOTE, "--format", "json")
    assert out.code == 0, out.stderr
    ports = {p["device"]: p for s in json.loads(out.stdout)["servers"] for p in s["ports"]}
    assert ports["tapb614c1d3-75"]["status"] == ports["tapbb8410ad-a0"]["status"] == "in sync"
    assert ports["tapbb8410ad-a0"]["detail"] == "qdisc, class, filter"
    # The note lists one tap per server; the other taps are not judged, not called absent.
    assert ports["tapa1e966cd-47"] == {"device": "tapa1e966cd-47", "status": "not audited",
                                       "differences": [], "detail": f"not in {SEED_NOTE}"}


def test_a_changed_class_is_drift_with_both_values(vmqos: Callable[..., Outcome],
                                                   tmp_path: Path) -> None:
    pasted = tmp_path / "comp-1.txt"
    pasted.write_text(SEED_NOTE.read_text().replace("rate 262144Kbit ceil", "rate 131072Kbit ceil"))
    out = vmqos("audit", "--from-text", pasted, "--server", "vm_resquota")
    assert out.code == 1
    assert "vm_resquota tapbb8410ad-a0: drifted: 1 difference(s)" in out.stdout
    assert "  class 1:1: rate 262144Kbit planned, 131072Kbit found" in out.lines
    assert out.stderr == "vmqos: error: 1 server(s) drifted from the plan (vm_resquota)\n"


def test_a_transcript_of_other_devices_is_a_user_error(vmqos: Callable[..., Outcome],
                                                       tmp_path: Path) -> None:
    pasted = tmp_path / "other.txt"
    pasted.write_text("# tc qdisc show dev eth0\nqdisc noqueue 0: root refcnt 2\n")
    out = vmqos("audit", "--from-text", pasted)
    assert_user_error(out.code, out.stderr, "--from-text", "eth0", "tapbb8410ad-a0")


def test_fix_and_from_text_exclude_each_other(vmqos: Callable[..., Outcome]) -> None:
    out = vmqos("audit", "--from-text", SEED_NOTE, "--fix")
    assert_user_error(out.code, out.stderr, "--fix", "--from-text")


def test_an_ingress_filter_listing_is_judged(vmqos: Callable[..., Outcome],
                                             tmp_path: Path) -> None:
    """On the seed's OVS taps ovs-vswitchd removed libvirt's ingress qdisc: a policer found
    there (libvirt's, re-added by hand) is not what the plan leaves."""
    pasted = tmp_path / "ingress.txt"
    pasted.write_text(
        "# tc filter show dev tapbb8410ad-a0 parent ffff:\n"
        "filter protocol all pref 49152 u32 chain 0 \n"
        "filter protocol all pref 49152 u32 chain 0 fh 800: ht divisor 1 \n"
        "filter protocol all pref 49152 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 "
        "flowid :1 not_in_hw \n"
        "  match 00000000/00000000 at 0\n"
        " police 0x1 rate 262144Kbit burst 128Mb mtu 64Kb action drop overhead 0b \n")
    out = vmqos("audit", "--from-text", pasted, "--server", "vm_resquota", "--profile",
                "modern", "--format", "json")
    assert out.code == 1
    (port,) = [p for s in json.loads(out.stdout)["servers"] for p in s["ports"]
               if p["status"] != "not audited"]
    assert port["detail"] == "ingress_filter"
    assert port["differences"] == [
        "filter parent ffff: pref 49152 u32: present, not planned",
        "filter parent ffff: pref 49152 u32 handle 800:: present, not planned",
        "filter parent ffff: pref 49152 u32 handle 800::800: present, not planned",
    ]
