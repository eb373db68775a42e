"""Read ``tc qdisc|class|filter show`` back into typed, observed values.

Role: the inverse of :mod:`vmqos.plan.render.tc_show`. ``vmqos audit --from-text`` reads what
an operator pasted from a compute node (:mod:`vmqos.observe.tc_transcript`) — the text ``tc``
prints, RHEL 7's iproute 3.10 (the seed note) or iproute2 6.x, or ``tc -j`` JSON — and
compares it with a plan (:mod:`vmqos.observe.tc_diff`); audit on this host reads netlink.
This module turns both into frozen values: qdiscs (kind,
handle, parent, typed options), classes (HTB rate/ceil in B/s, burst/cburst in bytes) and
filters (u32 matches, fw handles, legacy ``police``, ``police`` and ``mirred`` actions, e.g. the
ingress → IFB redirect vmqos installs where the kernel has no ``police``). The value types and
the unit readers live in :mod:`vmqos.observe.tc_observed`, the JSON reader in
:mod:`vmqos.observe.tc_json`; this module reads the text and is the one entry point.

Invariants:

* Pure: text in, values out. Every option a line carries is kept verbatim in ``options``
  (``-d``/``-s`` extras included) so that nothing tc printed is silently dropped; statistics
  lines are skipped, other unknown continuation lines are kept in ``ObservedFilter.unparsed``.
* Rates are what the kernel keeps, in bytes/s (``tc_ratespec.rate``), sizes in bytes. tc's
  *text* is lossy — a rate prints in whole units of its prefix, a size as ``%g`` of whole
  KiB/MiB — so text gives back the printed value and ``format_rate(parse_rate(t)) == t`` and
  ``format_size(parse_size(t)) == t`` hold for everything tc_show prints. JSON carries exact
  numbers (rates in B/s, sizes in bytes).
* iproute2 6.1 quirks, observed on this host: ``tc -j class show`` prints *text* (no class
  JSON printer), so every parser accepts either form; u32's JSON repeats the key ``"match"``
  once per key (kept, not collapsed); police's JSON has no rate, burst or mtu ([derived] from
  iproute2 commit "police: Add support for json output", 2021), so audit must use the text
  form to read a policer's numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vmqos.observe.tc_json import (
    is_json,
    parse_classes_json,
    parse_filters_json,
    parse_qdiscs_json,
)
from vmqos.observe.tc_observed import (
    MirredAction,
    ObservedAction,
    ObservedClass,
    ObservedFilter,
    ObservedQdisc,
    ObservedTc,
    OtherAction,
    PoliceAction,
    U32Match,
    build_qdisc,
    parse_int,
    parse_rate,
    parse_size,
    tc_syntax_error,
)
from vmqos.plan.render.tc_show import TcShow
from vmqos.units import Bytes, BytesPerSec

# The value types and unit readers are vmqos.observe.tc_observed's; this module reads text.
__all__ = ["parse_classes", "parse_filters", "parse_qdiscs", "parse_tc_show"]

_MATCH_RE = re.compile(r"^match (?P<value>[0-9a-f]{8})/(?P<mask>[0-9a-f]{8}) at (?P<off>-?\d+)")
_MIRRED_RE = re.compile(
    r"mirred \((?P<dir>Egress|Ingress) (?P<act>Redirect|Mirror) to device (?P<dev>[^)\s]+)\)"
    r"(?: (?P<control>\S+))?")
# Words that stand alone in tc's output (no value follows).
_FLAGS = frozenset({"----------------", "not_in_hw", "in_hw", "skip_hw", "skip_sw",
                    "root", "ecn", "offload"})
# First words of the statistics lines ``-s`` adds; they are not configuration.
_STATS = ("Sent ", "backlog ", "lended:", "tokens:", "rate ", "Action statistics:",
          "(rule hit", "used_hw_stats", "maxpacket ", "ewma ", "new_flows_len")


# --- text -----------------------------------------------------------------------------------


def _pairs(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """``key value key value flag ...`` -> pairs; a flag gets the value ``""``."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "priomap":  # pfifo_fast: 16 band numbers follow
            out.append((tok, " ".join(tokens[i + 1:i + 17])))
            i += 17
        elif tok in _FLAGS or i + 1 >= len(tokens):
            out.append((tok, ""))
            i += 1
        else:
            out.append((tok, tokens[i + 1]))
            i += 2
    return out


def _head(tokens: list[str], start: int) -> tuple[str | None, str | None, int]:
    """Read the optional ``dev X`` and ``root``/``parent X`` after position ``start``."""
    dev = parent = None
    i = start
    while i < len(tokens):
        if tokens[i] == "dev":
            dev, i = tokens[i + 1], i + 2
        elif tokens[i] == "root":
            parent, i = "root", i + 1
        elif tokens[i] == "parent":
            parent, i = tokens[i + 1], i + 2
        else:
            break
    return dev, parent, i


def _parse_qdisc_line(line: str) -> ObservedQdisc:
    tokens = line.split()
    if len(tokens) < 3 or tokens[0] != "qdisc":
        raise tc_syntax_error("qdisc line", line, "a line of `tc qdisc show`")
    dev, parent, i = _head(tokens, 3)
    refcnt = None
    if tokens[i:i + 1] == ["refcnt"]:
        refcnt, i = parse_int(tokens[i + 1]), i + 2
    return build_qdisc(tokens[1], tokens[2], parent or "", dev, refcnt, _pairs(tokens[i:]),
                       exact=False)


def _parse_class_line(line: str) -> ObservedClass:
    tokens = line.split()
    if len(tokens) < 3 or tokens[0] != "class":
        raise tc_syntax_error("class line", line, "a line of `tc class show`")
    dev, parent, i = _head(tokens, 3)
    opts = _pairs(tokens[i:])
    get = dict(opts).get

    def rate(key: str) -> BytesPerSec | None:
        value = get(key)
        return None if value is None else parse_rate(value)

    def size(key: str) -> Bytes | None:
        value = get(key)
        return None if value is None else parse_size(value)

    return ObservedClass(
        kind=tokens[1], classid=tokens[2], parent=parent or "", dev=dev, leaf=get("leaf"),
        prio=parse_int(get("prio")), rate=rate("rate"), ceil=rate("ceil"), burst=size("burst"),
        cburst=size("cburst"), quantum=parse_int(get("quantum")), options=tuple(opts))


@dataclass
class _FilterDraft:
    """A filter being read: continuation lines add matches and actions to it."""

    head: dict[str, Any]
    options: list[tuple[str, str]] = field(default_factory=list)
    matches: list[U32Match] = field(default_factory=list)
    actions: list[ObservedAction] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    def freeze(self) -> ObservedFilter:
        return ObservedFilter(**self.head, matches=tuple(self.matches),
                              actions=tuple(self.actions), options=tuple(self.options),
                              unparsed=tuple(self.unparsed))


def _filter_head(line: str, parent: str | None) -> _FilterDraft:
    tokens = line.split()
    dev, own_parent, i = _head(tokens, 1)
    head: dict[str, Any] = {"parent": own_parent or parent, "dev": dev}
    draft = _FilterDraft(head)
    if tokens[i:i + 1] != ["protocol"] or tokens[i + 2:i + 3] != ["pref"] or len(tokens) < i + 5:
        raise tc_syntax_error("filter line", line, "a line of `tc filter show`")
    head.update(protocol=tokens[i + 1], pref=int(tokens[i + 3]), kind=tokens[i + 4])
    rest = tokens[i + 5:]
    j = 0
    while j < len(rest):
        tok, nxt = rest[j], rest[j + 1] if j + 1 < len(rest) else ""
        if tok == "chain":
            head["chain"], j = int(nxt), j + 2
        elif tok in ("fh", "handle"):
            head["handle"], j = nxt, j + 2
        elif tok == "order":
            head["order"], j = int(nxt), j + 2
        elif tok == "ht" and nxt == "divisor":
            head["ht_divisor"], j = int(rest[j + 2]), j + 3
        elif tok == "key" and nxt == "ht":
            draft.options.append(("key ht", rest[j + 2]))
            j += 3
        elif tok == "terminal" and nxt == "flowid":
            # 6.1 prints "terminal flowid" with nothing after it; 3.10 "terminal flowid ???".
            head["terminal"] = True
            j += 3 if rest[j + 2:j + 3] == ["???"] else 2
        elif tok in ("flowid", "*flowid", "classid"):
            head["flowid"], j = nxt, j + 2
            head["starred"] = head.get("starred", False) or tok.startswith("*")
        elif tok in _FLAGS or not nxt:
            draft.options.append((tok, ""))
            j += 1
        else:
            draft.options.append((tok, nxt))
            j += 2
    return draft


def _police_from_tokens(tokens: Sequence[str]) -> PoliceAction:
    """``police 0x1 rate 262144Kbit burst 128Mb mtu 64Kb action drop overhead 0b ...``."""
    index = None
    rest = list(tokens[1:])
    if rest and rest[0].startswith("0x"):
        index, rest = int(rest[0], 16), rest[1:]
    elif rest[:1] == ["index"]:  # iproute2 ~5.14 briefly printed "index N" instead
        index, rest = int(rest[1]), rest[2:]
    get = dict(_pairs(rest)).get

    def opt(key: str, parse: Any) -> Any:
        value = get(key)
        return None if value is None else parse(value)

    action = get("action")
    return PoliceAction(
        index=index, rate=opt("rate", parse_rate), burst=opt("burst", parse_size),
        mtu=opt("mtu", parse_size), peakrate=opt("peakrate", parse_rate),
        exceed=None if action is None else action.split("/")[0],
        overhead=opt("overhead", lambda v: parse_size(v if v.endswith("b") else v + "b")))


def _action_line(body: str) -> ObservedAction:
    """The text after ``action order N:``."""
    tokens = body.split()
    kind = tokens[0] if tokens else ""
    if kind == "police":
        return _police_from_tokens(tokens)
    m = _MIRRED_RE.match(body)
    if kind == "mirred" and m is not None:
        return MirredAction(direction=m["dir"].lower(), action=m["act"].lower(), dev=m["dev"],
                            control=m["control"])
    return OtherAction(kind=kind, text=body)


def _with_index(action: ObservedAction, index: int) -> ObservedAction:
    if isinstance(action, PoliceAction):
        return action if action.index is not None else _replace_police_index(action, index)
    if isinstance(action, MirredAction):
        return MirredAction(action.direction, action.action, action.dev, action.control, index)
    return OtherAction(action.kind, action.text, index)


def _replace_police_index(action: PoliceAction, index: int) -> PoliceAction:
    return PoliceAction(index, action.rate, action.burst, action.mtu, action.peakrate,
                        action.exceed, action.overhead)


def _continuation(draft: _FilterDraft, line: str) -> None:
    text = line.strip()
    if not text or text.startswith(_STATS):
        return
    m = _MATCH_RE.match(text)
    if m is not None:
        draft.matches.append(U32Match(int(m["value"], 16), int(m["mask"], 16), int(m["off"])))
    elif text.startswith("police "):  # u32's legacy police attribute (libvirt's filter)
        draft.actions.append(_police_from_tokens(text.split()))
    elif text.startswith("action order "):
        draft.actions.append(_action_line(text.split(":", 1)[1].strip()))
    elif text.startswith("index ") and draft.actions:
        draft.actions[-1] = _with_index(draft.actions[-1], int(text.split()[1]))
    elif text.startswith("ref "):
        return
    else:
        draft.unparsed.append(text)


# --- entry points ---------------------------------------------------------------------------


def _lines(text: str) -> Iterable[str]:
    return (line for line in text.splitlines() if line.strip())


def parse_qdiscs(text: str) -> tuple[ObservedQdisc, ...]:
    """``tc qdisc show [dev X]`` text, or ``tc -j qdisc show`` JSON."""
    if is_json(text):
        return parse_qdiscs_json(text)
    return tuple(_parse_qdisc_line(line) for line in _lines(text)
                 if line.startswith("qdisc "))


def parse_classes(text: str) -> tuple[ObservedClass, ...]:
    """``tc class show [dev X]`` text (what ``tc -j class show`` prints with iproute2 6.1, too)
    or class JSON."""
    if is_json(text):
        return parse_classes_json(text)
    return tuple(_parse_class_line(line) for line in _lines(text)
                 if line.startswith("class "))


def parse_filters(text: str, *, parent: str | None = None) -> tuple[ObservedFilter, ...]:
    """``tc filter show dev X [parent P]`` text or JSON. When the listing was asked for one
    ``parent``, tc leaves it out of every line: pass it here to fill it in."""
    if is_json(text):
        return parse_filters_json(text, parent)
    drafts: list[_FilterDraft] = []
    for line in text.splitlines():
        if line.startswith("filter "):
            drafts.append(_filter_head(line, parent))
        elif drafts:
            _continuation(drafts[-1], line)
        elif line.strip():
            raise tc_syntax_error("filter line", line,
                                  "output of `tc filter show` starting with 'filter'")
    return tuple(d.freeze() for d in drafts)


def parse_tc_show(show: TcShow) -> ObservedTc:
    """The four outputs of a :class:`~vmqos.plan.render.tc_show.TcShow` (or of a real host, put into
    one), parsed."""
    return ObservedTc(
        dev=show.dev, qdiscs=parse_qdiscs(show.text("qdisc")),
        classes=parse_classes(show.text("class")), filters=parse_filters(show.text("filter")),
        ingress_filters=parse_filters(show.text("ingress_filter"), parent="ffff:"))
