"""Orchestration of whole jobs over the host, verify and plan layers: the lab (build, apply,
measure,
report, clean up) and the audit."""
