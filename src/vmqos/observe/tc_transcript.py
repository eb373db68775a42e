"""A terminal transcript of ``tc … show`` commands, as pasted from a compute node, read back
into what each device has.

Role: the input of ``vmqos audit --from-text FILE``. An operator runs, on a compute node where
vmqos cannot run, the commands the seed note ran, and pastes the session::

    [root@comp-1 ~]# tc qdisc show dev tapbb8410ad-a0
    qdisc htb 1: root refcnt 2 r2q 10 default 1 direct_packets_stat 1
    ...
    [root@comp-1 ~]# tc filter show dev tapbb8410ad-a0 parent ffff:

A command line is ``tc`` after an optional shell prompt (``[user@host dir]#``,
``user@host:dir#``, ``#``, ``$``);
its output is every line up to the next command, a Markdown code fence or the end. tc's global
options (``-s``, ``-d``, ``-j``, ``-p``, ``-iec``, ...) are allowed; the object may be
abbreviated as tc allows (``q``, ``cl``, ``f``); the verb is ``show``, ``list`` or ``ls`` (or
absent); ``dev IF`` is required; ``tc filter show … parent ffff:`` lists the ingress filters.
Text outside command output (prose, notes) is ignored.

Invariant: a device's listings are kept by kind, and only the kinds the transcript shows are
reported as shown — a transcript without ``tc class show dev X`` says nothing about X's classes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from vmqos.errors import ValidationError
from vmqos.observe.tc_observed import ObservedTc
from vmqos.observe.tc_text import parse_classes, parse_filters, parse_qdiscs

__all__ = ["DeviceListing", "parse_transcript"]

_COMMAND_RE = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?(?:\S*[#$]\s*)?tc(?:\s+(?P<args>.*))?$")
_FENCE = "```"
_OBJECTS = ("qdisc", "class", "filter")
_VERBS = ("show", "list", "ls")
_INGRESS_PARENTS = ("ffff:", "ffff:0", "ingress")


@dataclass(frozen=True, slots=True)
class DeviceListing:
    """What a transcript shows of one device: its parsed objects and which kinds were listed
    (``qdisc``, ``class``, ``filter``, ``ingress_filter`` as in :data:`tc_show.SHOW_KINDS`)."""

    observed: ObservedTc
    shown: frozenset[str]


def _kind_of(line_no: int, args: str) -> tuple[str, str] | None:
    """``(kind, dev)`` of a ``tc`` command's arguments; None when the line is not a tc command
    at all (a heading such as ``# tc outputs``); a ValidationError naming the line when it is
    one vmqos cannot audit."""
    words = args.split()
    while words and words[0].startswith("-"):
        words.pop(0)  # -s, -d, -j, -p, -iec, -details ...: they change the format, not what
    obj = next((o for o in _OBJECTS if words and o.startswith(words[0])), None)
    if obj is None:
        return None
    rest = words[1:]
    if rest and rest[0] not in (*_VERBS, "dev"):
        raise _bad(line_no, args, f"tc {obj} show dev IF")
    if rest and rest[0] in _VERBS:
        rest = rest[1:]
    options = dict(zip(rest[::2], rest[1::2], strict=False))
    if "dev" not in options:
        raise _bad(line_no, args, "a listing of one device: … show dev IF")
    if obj == "filter" and options.get("parent") in _INGRESS_PARENTS:
        return "ingress_filter", options["dev"]
    return obj, options["dev"]


def _bad(line_no: int, args: str, allowed: str) -> ValidationError:
    return ValidationError(f"line {line_no}: `tc {args}` is not a listing vmqos can audit; "
                           f"expected {allowed}", key=f"line {line_no}", value=f"tc {args}",
                           allowed=allowed)


def _sections(text: str) -> Iterator[tuple[str, str, str]]:
    """``(kind, dev, output)`` per command in the transcript, in order."""
    current: tuple[str, str] | None = None
    output: list[str] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        m = _COMMAND_RE.match(line)
        command = _kind_of(line_no, m["args"] or "") if m is not None else None
        if command is not None or line.lstrip().startswith(_FENCE):
            if current is not None:
                yield (*current, "\n".join(output))
            current, output = command, []
        elif current is not None:
            output.append(line)
    if current is not None:
        yield (*current, "\n".join(output))


def parse_transcript(text: str) -> dict[str, DeviceListing]:
    """Each device's listings in ``text``, in the order the devices first appear. A kind listed
    twice for one device keeps its last listing (the newest state)."""
    listings: dict[str, dict[str, str]] = {}
    for kind, dev, output in _sections(text):
        listings.setdefault(dev, {})[kind] = output
    if not listings:
        raise ValidationError(
            "no tc listing found: expected lines such as `# tc qdisc show dev tap0` followed "
            "by tc's output", key="FILE", value=None,
            allowed="a transcript of tc qdisc|class|filter show dev IF")
    return {dev: DeviceListing(_observed(dev, kinds), frozenset(kinds))
            for dev, kinds in listings.items()}


def _observed(dev: str, kinds: dict[str, str]) -> ObservedTc:
    return ObservedTc(
        dev=dev, qdiscs=parse_qdiscs(kinds.get("qdisc", "")),
        classes=parse_classes(kinds.get("class", "")),
        filters=parse_filters(kinds.get("filter", "")),
        ingress_filters=parse_filters(kinds.get("ingress_filter", ""), parent="ffff:"))
