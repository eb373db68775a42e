"""A node's record (vmqos.node.lifecycle): when a recorded node counts as running, in use or
stale, and the console tail a failure carries. Processes here are real ones — this test's own
and a pid that cannot exist — read from /proc as vmqos reads them."""

from __future__ import annotations

import os
from pathlib import Path

from vmqos.node.lifecycle import NodeRecord, console_tail
from vmqos.node.process import ProcessRecord, start_time

ME = ProcessRecord("qemu", os.getpid(), start_time(os.getpid()))
GONE = ProcessRecord("owner", 2**22 + 1, 1)      # above pid_max's 4194304 ceiling


def test_a_node_whose_owner_lives_is_in_use() -> None:
    record = NodeRecord("n", (ME,), owner=ProcessRecord("owner", ME.pid, ME.started))
    assert record.running() and record.in_use()


def test_a_node_whose_owner_died_is_stale() -> None:
    record = NodeRecord("n", (ME,), owner=GONE)
    assert record.running() and not record.in_use()


def test_a_detached_node_is_in_use_while_qemu_runs() -> None:
    assert NodeRecord("n", (ME,)).in_use()
    assert not NodeRecord("n", (ProcessRecord("qemu", GONE.pid, None),)).running()


def test_a_reused_pid_is_not_the_recorded_process() -> None:
    assert ME.alive()
    assert not ProcessRecord("qemu", ME.pid, (ME.started or 0) + 1).alive()


def test_the_record_round_trips() -> None:
    record = NodeRecord("n", (ME,), owner=GONE, release="6.1.0-57-cloud-amd64",
                        boot_seconds=6.5, started_at=1.0)
    assert NodeRecord.from_json(record.to_json()) == record


def test_console_tail_is_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(100)) + b"\xff end")
    assert console_tail(log, 3) == "line 98\nline 99\n\ufffd end"
    assert console_tail(tmp_path / "missing.log") == ""
