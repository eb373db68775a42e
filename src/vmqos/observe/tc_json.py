"""``tc -j … show`` JSON into observed values (:mod:`vmqos.observe.tc_observed`).

Role: the JSON half of :mod:`vmqos.observe.tc_text`, which dispatches here when the output is
JSON. Numbers in JSON are exact (rates in B/s, sizes in bytes), unlike tc's text.

Invariants (iproute2 6.1, observed on this host): u32 repeats the key ``"match"`` once per key,
so objects are decoded with repeats kept as lists; ``tc -j class show`` prints text (there is
no class JSON printer), so :func:`parse_classes_json` only serves newer iproute2 [derived];
police's JSON carries kind, index and control action but no rate, burst or mtu ([derived] from
iproute2's 2021 "police: Add support for json output"), so those stay None here.
"""

from __future__ import annotations

import json
from typing import Any

from vmqos.observe.tc_observed import (
    MirredAction,
    ObservedAction,
    ObservedClass,
    ObservedFilter,
    ObservedQdisc,
    OtherAction,
    PoliceAction,
    U32Match,
    build_qdisc,
    parse_int,
    tc_syntax_error,
)
from vmqos.units import Bytes, BytesPerSec

__all__ = ["is_json", "parse_classes_json", "parse_filters_json", "parse_qdiscs_json"]


def _keep_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json object hook: a key printed more than once (u32's "match") becomes a list."""
    out: dict[str, Any] = {}
    repeated: set[str] = set()
    for key, value in pairs:
        if key in out:
            if key not in repeated:
                out[key] = [out[key]]
                repeated.add(key)
            out[key].append(value)
        else:
            out[key] = value
    return out


def _json(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text, object_pairs_hook=_keep_repeats)
    except json.JSONDecodeError as exc:
        raise tc_syntax_error("JSON output", text[:80], "the output of `tc -j ... show`") from exc
    if not isinstance(data, list):
        raise tc_syntax_error("JSON output", text[:80], "a JSON list, as `tc -j ... show` prints")
    return [d for d in data if isinstance(d, dict)]


def is_json(text: str) -> bool:
    return text.lstrip().startswith("[")


def _flat_options(options: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, json.dumps(v) if isinstance(v, dict | list) else str(v))
            for k, v in options.items()]


def parse_qdiscs_json(text: str) -> tuple[ObservedQdisc, ...]:
    out = []
    for obj in _json(text):
        opts = obj.get("options") or {}
        parent = "root" if obj.get("root") else str(obj.get("parent", ""))
        pairs = [(k, v) for k, v in _flat_options(opts) if k != "limit"]
        if "limit" in opts:
            pairs.append(("limit", str(opts["limit"])))
        out.append(build_qdisc(str(obj["kind"]), str(obj["handle"]), parent, obj.get("dev"),
                               parse_int(obj.get("refcnt")), pairs, exact=True))
    return tuple(out)


def parse_classes_json(text: str) -> tuple[ObservedClass, ...]:
    # [derived] iproute2 6.1 has no class JSON (it prints text, handled by the caller); newer
    # releases print "class"/"handle"/"parent"|"root"/"leaf" and rates in B/s, sizes in bytes.
    out = []
    for obj in _json(text):
        opts: dict[str, Any] = obj.get("options") or obj
        rate, ceil, burst, cburst, prio, quantum = (
            parse_int(opts.get(k)) for k in ("rate", "ceil", "burst", "cburst", "prio", "quantum"))
        out.append(ObservedClass(
            kind=str(obj.get("class") or obj.get("kind")), classid=str(obj["handle"]),
            parent="root" if obj.get("root") else str(obj.get("parent", "")),
            dev=obj.get("dev"), leaf=obj.get("leaf"), prio=prio,
            rate=None if rate is None else BytesPerSec(rate),
            ceil=None if ceil is None else BytesPerSec(ceil),
            burst=None if burst is None else Bytes(burst),
            cburst=None if cburst is None else Bytes(cburst), quantum=quantum,
            options=tuple(_flat_options(opts))))
    return tuple(out)


def _json_action(obj: dict[str, Any]) -> ObservedAction:
    kind = str(obj.get("kind", ""))
    control = obj.get("control_action")
    control_type = control.get("type") if isinstance(control, dict) else None
    index = parse_int(obj.get("index"))
    if kind == "mirred":
        return MirredAction(direction=str(obj.get("direction", "")),
                            action=str(obj.get("mirred_action", "")),
                            dev=str(obj.get("to_dev", "")), control=control_type, index=index)
    if kind == "police":
        def num(key: str) -> int | None:
            return parse_int(obj.get(key))

        rate, burst, mtu, peak = num("rate"), num("burst"), num("mtu"), num("peakrate")
        overhead = num("overhead")
        return PoliceAction(
            index=index, rate=None if rate is None else BytesPerSec(rate),
            burst=None if burst is None else Bytes(burst), mtu=None if mtu is None else Bytes(mtu),
            peakrate=None if peak is None else BytesPerSec(peak), exceed=control_type,
            overhead=None if overhead is None else Bytes(overhead))
    return OtherAction(kind=kind, text=json.dumps(obj, sort_keys=True), index=index)


def parse_filters_json(text: str, parent: str | None) -> tuple[ObservedFilter, ...]:
    out = []
    for obj in _json(text):
        opts: dict[str, Any] = obj.get("options") or {}
        raw_matches = opts.get("match", [])
        matches = raw_matches if isinstance(raw_matches, list) else [raw_matches]
        actions = [_json_action(a) for a in opts.get("actions", []) if isinstance(a, dict)]
        police = opts.get("police")
        if isinstance(police, dict):  # u32's legacy police attribute [derived]
            actions.insert(0, _json_action({"kind": "police", **police}))
        skip = {"fh", "handle", "flowid", "classid", "ht_divisor", "order", "match", "actions",
                "police"}
        out.append(ObservedFilter(
            kind=str(obj.get("kind", "")), protocol=str(obj.get("protocol", "")),
            pref=int(obj.get("pref", 0)), parent=obj.get("parent", parent), dev=obj.get("dev"),
            chain=parse_int(obj.get("chain")),
            handle=None if opts.get("fh", opts.get("handle")) is None
            else str(opts.get("fh", opts.get("handle"))),
            flowid=opts.get("flowid", opts.get("classid")),
            ht_divisor=parse_int(opts.get("ht_divisor")), order=parse_int(opts.get("order")),
            matches=tuple(U32Match(int(str(m["value"]), 16), int(str(m["mask"]), 16),
                                   int(m["off"])) for m in matches if isinstance(m, dict)),
            actions=tuple(actions),
            options=tuple(p for p in _flat_options(opts) if p[0] not in skip)))
    return tuple(out)
