"""Reading a pasted ``tc … show`` session, and judging it against the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmqos.errors import ValidationError
from vmqos.observe.tc_diff import diff_tc
from vmqos.observe.tc_observed import ObservedTc
from vmqos.observe.tc_text import parse_classes, parse_filters, parse_qdiscs
from vmqos.observe.tc_transcript import parse_transcript

SEED_NOTE = Path(__file__).parent.parent / "fixtures" / "seed" / "nova-neutron-qos-note.md"

RESQUOTA = """\
[root@comp-1 ~]# tc qdisc show dev tapbb8410ad-a0
qdisc htb 1: root refcnt 2 r2q 10 default 1 direct_packets_stat 1
qdisc sfq 2: parent 1:1 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec
[root@comp-1 ~]# tc class show dev tapbb8410ad-a0
class htb 1:1 root leaf 2: prio 0 rate 262144Kbit ceil 524288Kbit burst 128Mb cburst 1572b
[root@comp-1 ~]# tc filter show dev tapbb8410ad-a0
filter parent 1: protocol all pref 1 fw
filter parent 1: protocol all pref 1 fw handle 0x1 classid :1
"""


def _tc(text: str, dev: str = "tapbb8410ad-a0") -> ObservedTc:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("filter "))
    return ObservedTc(dev=dev, qdiscs=parse_qdiscs(text), classes=parse_classes(text),
                      filters=parse_filters("\n".join(lines[start:])))


PLANNED = _tc("\n".join(line for line in RESQUOTA.splitlines() if not line.startswith("[")))
KINDS = ("qdisc", "class", "filter")


def test_the_seed_note_is_read_as_two_devices_with_three_listings_each() -> None:
    listings = parse_transcript(SEED_NOTE.read_text())
    assert list(listings) == ["tapb614c1d3-75", "tapbb8410ad-a0"]
    normal, resquota = listings.values()
    assert normal.shown == resquota.shown == frozenset(KINDS)
    assert [q.kind for q in normal.observed.qdiscs] == ["pfifo_fast"]
    assert normal.observed.classes == () and normal.observed.filters == ()
    assert [(q.kind, q.parent) for q in resquota.observed.qdiscs] == [("htb", "root"),
                                                                      ("sfq", "1:1")]
    (cls,) = resquota.observed.classes
    assert (cls.rate, cls.ceil, cls.burst, cls.cburst) == (32_768_000, 65_536_000,
                                                           134_217_728, 1572)
    # The note's prose and headings ("#### tc outputs") are not commands.
    assert diff_tc(PLANNED, resquota.observed, KINDS, style="rhel7") == []


@pytest.mark.parametrize("prompt", ["# ", "$ ", "", "[root@comp-1 ~]# ", "root@comp-1:~# ",
                                    "user@host:/tmp$ "])
def test_prompts_options_and_abbreviations(prompt: str) -> None:
    text = (f"```\n{prompt}tc -s -d qd ls dev tap0\nqdisc noqueue 0: root refcnt 2\n"
            " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)\n```\nsome prose\n"
            f"{prompt}tc f show dev tap0 parent ffff:\n")
    (listing,) = parse_transcript(text).values()
    assert listing.shown == {"qdisc", "ingress_filter"}
    assert [q.kind for q in listing.observed.qdiscs] == ["noqueue"]


def test_the_last_listing_of_a_kind_wins() -> None:
    text = ("# tc qdisc show dev tap0\nqdisc noqueue 0: root refcnt 2\n"
            "# tc qdisc show dev tap0\nqdisc pfifo_fast 0: root refcnt 2 bands 3 priomap "
            " 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n")
    assert [q.kind for q in parse_transcript(text)["tap0"].observed.qdiscs] == ["pfifo_fast"]


@pytest.mark.parametrize(("text", "message"), [
    ("nothing here\n", "no tc listing found"),
    ("# tc qdisc add dev tap0 root htb\n", "line 1: `tc qdisc add dev tap0 root htb` is not"),
    ("x\n# tc class show\n", "line 2: `tc class show` is not a listing vmqos can audit; "
                             "expected a listing of one device"),
])
def test_what_cannot_be_audited_is_named(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")) as caught:
        parse_transcript(text)
    assert caught.value.exit_code == 2


def test_drift_is_reported_per_object_and_field_in_tc_units() -> None:
    found = RESQUOTA.replace("rate 262144Kbit", "rate 131072Kbit").replace(
        "perturb 10sec", "perturb 5sec").replace("classid :1", "classid :2")
    drift = parse_transcript(found)["tapbb8410ad-a0"].observed
    assert diff_tc(PLANNED, drift, KINDS, style="rhel7") == [
        "qdisc parent 1:1: perturb 10sec planned, 5sec found",
        "class 1:1: rate 262144Kbit planned, 131072Kbit found",
        "filter parent 1: pref 1 fw handle 0x1: flowid :1 planned, :2 found",
    ]


def test_counters_and_generation_spellings_are_not_drift() -> None:
    """iproute2 6.1 prints ``default 0x1`` and ``direct_qlen``; the counters differ."""
    modern = RESQUOTA.replace("default 1 direct_packets_stat 1",
                              "default 0x1 direct_packets_stat 7 direct_qlen 1000")
    observed = parse_transcript(modern)["tapbb8410ad-a0"].observed
    assert diff_tc(PLANNED, observed, KINDS, style="modern") == []


def test_missing_and_extra_objects_and_unlisted_kinds() -> None:
    text = ("# tc qdisc show dev tapbb8410ad-a0\n"
            "qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap  1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n"
            "qdisc ingress ffff: parent ffff:fff1 ----------------\n")
    listing = parse_transcript(text)["tapbb8410ad-a0"]
    assert diff_tc(PLANNED, listing.observed, listing.shown, style="rhel7") == [
        "qdisc root: kind htb planned, pfifo_fast found",
        "qdisc root: handle 1: planned, 0: found",
        "qdisc root: default_class 1 planned, none found",
        "qdisc root: r2q 10 planned, none found",
        "qdisc parent 1:1: planned, absent",
        "qdisc parent ffff:fff1: present, not planned",
    ]
