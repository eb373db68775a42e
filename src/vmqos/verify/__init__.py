"""Verify by measurement: real traffic, CPU contention and direct disk I/O on a real host.

Role: the measuring shell around the pure judgement in :mod:`vmqos.verify.judge`. Each module
takes plain inputs — network namespace names, addresses, cgroup directories, a block device —
so that ``vmqos verify``/``lab`` can point it at any sandbox or real instance:

* :mod:`~vmqos.verify.iperf` — TCP goodput per interval between two namespaces (iperf3 JSON);
* :mod:`~vmqos.verify.cpu` — CPU time of busy loops pinned to one CPU in sibling cgroups;
* :mod:`~vmqos.verify.disk` — bytes/s and IO/s of ``O_DIRECT`` I/O from inside a cgroup;
* :mod:`~vmqos.verify.plots` and :mod:`~vmqos.verify.report` — PNGs and a Markdown report.

Invariants: every load (iperf3, busy loop, disk writer) is bounded in time by itself *and*
killed by the caller in a ``finally``; host failures surface as :class:`vmqos.errors.HostError`
with the tool's own message, chained to the original exception. This package imports nothing
heavy at import time (the disk writer runs as ``python -m vmqos.verify.direct_io``).
"""
