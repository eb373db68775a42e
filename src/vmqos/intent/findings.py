"""Findings: things Nova or Neutron accept that a host will reject, ignore or get wrong.

A finding names the key and value, says why it matters and what to do instead. Findings are
data so that ``validate``, ``explain`` and the API can all show them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

__all__ = ["Finding", "Severity", "distinct"]


class Severity(Enum):
    ERROR = "error"      # the instance will fail to define/start, or the limit is not applied
    WARNING = "warning"  # applied, but not what the operator most likely meant
    INFO = "info"        # worth knowing; no action needed


@dataclass(frozen=True, slots=True)
class Finding:
    code: str            # stable identifier, e.g. "cpu-shares-over-cgroup-v2-max"
    severity: Severity
    key: str             # the intent key, e.g. "quota:cpu_shares" or "max_burst_kbps"
    value: str
    reason: str          # one sentence: what happens on the host and why
    advice: str          # one sentence: what to change

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.key}={self.value}: {self.reason} {self.advice}"


def distinct(findings: Iterable[Finding]) -> list[Finding]:
    """The findings in their order, each said once: a server's findings and its ports' repeat
    the flavor's (one flavor, several ports), and the same key, value and reason is one thing
    to fix."""
    unique: dict[tuple[str, str, str, str], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.code, finding.key, finding.value, finding.reason), finding)
    return list(unique.values())
