"""Orchestration of whole jobs over the host, verify and plan layers: the lab (build, apply,
measure, report, clean up; :mod:`vmqos.ops.lab`), the audit (:mod:`vmqos.ops.audit`) and the
host plans both start from (:mod:`vmqos.ops.plans`)."""
