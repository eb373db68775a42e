"""What differs between the tc objects a plan leaves on a device and those a host shows.

Role: the comparison behind ``vmqos audit --from-text``. Both sides are
:class:`~vmqos.observe.tc_observed.ObservedTc` values — the plan's side parsed from the text
:mod:`vmqos.plan.render.tc_show` renders, the host's from a pasted transcript — so that they
are compared as values (rates in B/s, sizes in bytes), not as strings: ``default 1`` (iproute
3.10) and ``default 0x1`` (iproute2 6.1) are the same default class.

What is compared, per kind the transcript lists (a kind it does not list is not judged):

* qdiscs, one per parent (``root``, ``1:1``, ``ffff:fff1``): kind, handle and the typed
  options (rate, peakrate, burst, limit, default class, r2q), and every other option both sides
  print (sfq's ``perturb``, ``quantum``, ...). Counters (``refcnt``, ``direct_packets_stat``)
  and options only one iproute2 generation prints (``direct_qlen``) are not configuration.
* classes, by class id: kind, parent, leaf, prio, rate, ceil, burst, cburst (and quantum when
  both sides show it: only ``tc -d`` prints it).
* filters and ingress filters, by node (parent, pref, kind, handle): flow id, u32 keys and
  the actions (police rate/burst/mtu/exceed, mirred target).

Each difference is one line naming the object, the field, the planned and the found value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar

from vmqos.observe.tc_observed import (
    MirredAction,
    ObservedClass,
    ObservedFilter,
    ObservedQdisc,
    ObservedTc,
    PoliceAction,
)
from vmqos.plan.render.tc_show import format_rate, format_size

__all__ = ["diff_tc"]

T = TypeVar("T")

_QDISC_FIELDS = ("kind", "handle", "rate", "peakrate", "burst", "limit", "default_class", "r2q")
_CLASS_FIELDS = ("kind", "parent", "leaf", "prio", "rate", "ceil", "burst", "cburst",
                 "quantum")
_ONLY_WHEN_BOTH = frozenset({"quantum"})  # printed only with tc -d
_RATES = frozenset({"rate", "peakrate", "ceil"})
_SIZES = frozenset({"burst", "cburst"})
# Options that count packets or differ by iproute2 generation, and the typed ones above.
_NOT_CONFIGURATION = frozenset({"refcnt", "direct_packets_stat", "direct_qlen", "default",
                                "r2q", "rate", "peakrate", "burst", "limit"})


def diff_tc(planned: ObservedTc, found: ObservedTc, kinds: Iterable[str], *,
            style: str) -> list[str]:
    """The differences in the listed ``kinds`` (``qdisc``, ``class``, ``filter``,
    ``ingress_filter``); rates are printed in iproute2 ``style`` (``modern``/``rhel7``)."""
    show = partial(_show, style=style)
    out: list[str] = []
    shown = set(kinds)
    if "qdisc" in shown:
        out += _diff_objects("qdisc", _by(planned.qdiscs, _qdisc_key),
                             _by(found.qdiscs, _qdisc_key), lambda p, f: _qdisc_fields(p, f, show))
    if "class" in shown:
        out += _diff_objects("class", _by(planned.classes, _class_key),
                             _by(found.classes, _class_key),
                             lambda p, f: _fields(p, f, _CLASS_FIELDS, show))
    for kind, attr in (("filter", "filters"), ("ingress_filter", "ingress_filters")):
        if kind in shown:
            out += _diff_objects("filter", _by(getattr(planned, attr), _filter_key),
                                 _by(getattr(found, attr), _filter_key),
                                 lambda p, f: _filter_fields(p, f, show))
    return out


def _show(field: str, value: Any, *, style: str) -> str:
    """A value as tc prints it: rates in ``style``, sizes as ``sprint_size`` does."""
    if value is None:
        return "none"
    if field in _RATES:
        return format_rate(value, style=style)
    if field in _SIZES:
        return format_size(value)
    return str(value)


def _qdisc_key(q: ObservedQdisc) -> str:
    return f"{q.parent}" if q.parent == "root" else f"parent {q.parent}"


def _class_key(c: ObservedClass) -> str:
    return c.classid


def _filter_key(f: ObservedFilter) -> str:
    handle = f" handle {f.handle}" if f.handle is not None else ""
    return f"parent {f.parent} pref {f.pref} {f.kind}{handle}"


def _by(objects: Iterable[T], key: Callable[[T], str]) -> dict[str, T]:
    return {key(o): o for o in objects}


def _diff_objects(what: str, planned: Mapping[str, T], found: Mapping[str, T],
                     fields: Callable[[T, T], list[str]]) -> list[str]:
    out = []
    for key, p in planned.items():
        f = found.get(key)
        if f is None:
            out.append(f"{what} {key}: planned, absent")
        else:
            out += [f"{what} {key}: {line}" for line in fields(p, f)]
    out += [f"{what} {key}: present, not planned" for key in found if key not in planned]
    return out


def _fields(planned: object, found: object, names: Iterable[str],
            show: Callable[[str, Any], str]) -> list[str]:
    out = []
    for name in names:
        p, f = getattr(planned, name), getattr(found, name)
        if name in _ONLY_WHEN_BOTH and (p is None or f is None):
            continue
        if p != f:
            out.append(f"{name} {show(name, p)} planned, {show(name, f)} found")
    return out


def _qdisc_fields(planned: ObservedQdisc, found: ObservedQdisc,
                  show: Callable[[str, Any], str]) -> list[str]:
    out = _fields(planned, found, _QDISC_FIELDS, show)
    found_options = dict(found.options)
    for key, value in planned.options:
        if key in _NOT_CONFIGURATION or key not in found_options:
            continue
        if found_options[key] != value:
            out.append(f"{key} {value} planned, {found_options[key]} found")
    return out


def _action(action: object, show: Callable[[str, Any], str]) -> str:
    if isinstance(action, PoliceAction):
        return (f"police rate {show('rate', action.rate)} burst {show('burst', action.burst)}"
                f" mtu {show('burst', action.mtu)} {action.exceed or ''}").rstrip()
    if isinstance(action, MirredAction):
        return f"mirred {action.direction} {action.action} to {action.dev}"
    return str(getattr(action, "text", action))


def _filter_fields(planned: ObservedFilter, found: ObservedFilter,
                   show: Callable[[str, Any], str]) -> list[str]:
    out = []
    if planned.flowid != found.flowid:
        out.append(f"flowid {planned.flowid} planned, {found.flowid} found")
    if planned.matches != found.matches:
        keys = [" ".join(f"{m.value:08x}/{m.mask:08x} at {m.offset}" for m in x.matches)
                or "none" for x in (planned, found)]
        out.append(f"match {keys[0]} planned, {keys[1]} found")
    actions = [[_action(a, show) for a in x.actions] for x in (planned, found)]
    if actions[0] != actions[1]:
        out.append(f"actions {'; '.join(actions[0]) or 'none'} planned, "
                   f"{'; '.join(actions[1]) or 'none'} found")
    return out
