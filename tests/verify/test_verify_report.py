"""The report and its plots (vmqos.verify.report, vmqos.verify.plots).

The real-traffic plot is drawn in test_traffic.py from a real measurement; here the CPU and
disk plots and the Markdown are checked on literal verdicts: a PNG of the documented size,
and a table that shows configured, measured, ratio, bounds and outcome with the rule.
"""

from __future__ import annotations

import struct
from pathlib import Path

from vmqos.verify.judge import (
    Outcome,
    Sample,
    Shaping,
    Verdict,
    judge_cpu_shares,
    judge_rate,
    judge_tcp_goodput,
)
from vmqos.verify.plots import plot_cpu_shares, plot_disk, plot_throughput
from vmqos.verify.report import ReportSection, Table, format_value, render_report, write_report


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plots_are_pngs_of_a_readable_size(tmp_path: Path) -> None:
    samples = [Sample(i * 0.25, (i + 1) * 0.25, 1_020_000 + 5000 * (i % 3)) for i in range(12)]
    disk = plot_disk(tmp_path / "d" / "disk.png", samples, title="vm_resquota disk write",
                     configured=1_024_000)
    cpu = plot_cpu_shares(tmp_path / "cpu.png", ["m1.resquota (512)", "m1.normal (1024)"],
                          [0.34, 0.66], [1 / 3, 2 / 3], title="cpu.shares")
    tcp = plot_throughput(tmp_path / "tcp.png", [], title="empty series", rate=8e6)
    for png in (disk, cpu, tcp):
        assert png_size(png) == (990, 528)


def test_format_value() -> None:
    assert format_value(262_144_000, "bit/s") == "262.144 Mbit/s"
    assert format_value(1_024_000, "B/s") == "1.024 MB/s"
    assert format_value(1.923, ":1") == "1.92:1"
    assert format_value(50.04, "IO/s") == "50.0 IO/s"
    assert format_value(None, "B/s") == "–"


def test_report_table_and_rules(tmp_path: Path) -> None:
    tcp = judge_tcp_goodput(Shaping(8e6), [Sample(i * 0.2, i * 0.2 + 0.2, 7.65e6)
                                           for i in range(15)])
    cpu = judge_cpu_shares((1024, 512), (2.0, 1.0))
    disk = judge_rate("disk write bytes/s", 1_024_000, [Sample(0, 3, 1.5e6)], unit="B/s")
    (tmp_path / "tcp.png").write_bytes(b"")
    path = write_report(tmp_path, "vmqos verify", [
        ReportSection("vm_resquota | tap inbound", (tcp, cpu, disk),
                      images=(tmp_path / "tcp.png",),
                      tables=(Table(("flavor", "CPU share"), (("m1.normal", "66 %"),)),),
                      notes=("measured on a sandbox",))])
    text = path.read_text()
    assert path == tmp_path / "report.md"
    assert text.startswith("# vmqos verify\n\n**2 passed, 1 failed, 0 inconclusive, "
                           "0 not applicable.**")
    assert "## vm_resquota | tap inbound" in text
    assert ("| TCP goodput | 8 Mbit/s | 7.65 Mbit/s | 0.956 | 7.2 Mbit/s … 8.16 Mbit/s | "
            "PASS |") in text
    assert "| disk write bytes/s | 1.024 MB/s | 1.500 MB/s | 1.465 | " in text
    assert "| **FAIL** |" in text
    assert "- *CPU share ratio 1024:512*: within ±10 % of the configured value." in text
    assert "| m1.normal | 66 % |" in text
    assert "![tcp](tcp.png)" in text
    # Cells are escaped: a "|" in a check name does not break the table.
    odd = Verdict("a | b", ":1", 1.0, 1.0, 0.9, 1.1, Outcome.PASS, "r")
    assert "| a \\| b |" in render_report("t", [ReportSection("s", (odd,))],
                                         directory=tmp_path)
