"""Benchmark: how long the command line takes to start, against a bare interpreter start.

Run from the repository root::

    .venv/bin/python benchmarks/startup.py [--runs N] [--json]

The target: ``vmqos --help`` and ``vmqos validate --property quota:cpu_shares=512`` each
finish within 0.25 s of ``python -c pass`` (the anchor, measured in the same run with the same
interpreter). The script prints each median next to the anchor and the target, and a
PASS/BELOW verdict. It always exits 0: a benchmark reports, it does not fail CI.

What is measured: the wall-clock time (time.perf_counter) from spawning the process to its
exit, ``--runs`` times each (default 15), interleaved so that a burst of other work on the
machine hits every command alike; the median is reported, the minimum beside it. The commands
are run as the installed console script (``vmqos`` beside the interpreter) when there is one,
else as ``python -m vmqos.cli.main``: the same entry point, one interpreter start each. The
first run of each command is discarded (it may compile byte code).

Why these two: ``--help`` is the first thing a newcomer types and loads only click;
``validate`` is what a script calls in a loop over flavors and loads Nova's validators and
the lint (its findings print as plain diagnostics, without rich; Neutron's validators load
for ``--rule`` only). Both once took about 2.2 s here, because every command imported
matplotlib, FastAPI and the host layer; each command now loads only what it uses
(vmqos.cli.main.COMMANDS).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

TARGET_SECONDS = 0.25  # allowed start-up above the bare interpreter

_BIN = Path(sys.executable).parent


def _vmqos() -> list[str]:
    script = _BIN / "vmqos"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "vmqos.cli.main"]


COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "vmqos --help": [*_vmqos(), "--help"],
    "vmqos validate --property quota:cpu_shares=512":
        [*_vmqos(), "validate", "--property", "quota:cpu_shares=512"],
}
ANCHOR = "python -c pass"


def _once(argv: Sequence[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "120"})
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, list[float]]:
    """``runs`` timings per command, interleaved, after one discarded warm-up run each."""
    for argv in COMMANDS.values():
        _once(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            times[name].append(_once(argv))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    times = measure(max(1, args.runs))
    anchor = statistics.median(times[ANCHOR])
    rows = []
    for name, samples in times.items():
        median = statistics.median(samples)
        above = median - anchor
        rows.append({"command": name, "median_s": round(median, 4),
                     "min_s": round(min(samples), 4), "above_anchor_s": round(above, 4),
                     "verdict": "anchor" if name == ANCHOR
                     else ("PASS" if above <= TARGET_SECONDS else "BELOW")})
    if args.json:
        print(json.dumps({"target_above_anchor_s": TARGET_SECONDS, "runs": args.runs,
                          "load_average": os.getloadavg(), "rows": rows}, indent=2))
        return 0
    print(f"start-up, median of {args.runs} runs (load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}); target: within "
          f"{TARGET_SECONDS:.2f} s of `{ANCHOR}`")
    print(f"{'command':<50} {'median':>8} {'min':>8} {'above anchor':>13}  verdict")
    for row in rows:
        print(f"{row['command']:<50} {row['median_s']:>7.3f}s {row['min_s']:>7.3f}s "
              f"{row['above_anchor_s']:>+12.3f}s  {row['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
