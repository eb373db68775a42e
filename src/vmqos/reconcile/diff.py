"""Reconcile: the minimal ordered actions that turn an observed host state into a desired one.

Role: pure. :func:`reconcile` diffs two :class:`~vmqos.reconcile.state.HostState` values — the
plan's desired state and what the host layer observed — and returns actions as values. The
same function computes a rollback: desired = the state observed before a failed apply.

Ownership (what vmqos may touch): only the devices and cgroup files named in the states it is
given. Those are the sandbox's taps (vmqos created them, so, as libvirt does for a domain's
tap in virNetDevBandwidthClear, it owns their root and ingress qdisc trees), the IFBs named
from them, and the instance's own cgroup files. Nothing else is ever observed, so nothing
else can be changed.

Minimal, not rebuild: a qdisc tree whose top qdisc is already right is fixed in place (a class
``change``, one leaf or filter replaced, strays deleted); only a wrong or missing top qdisc
rebuilds its tree. Equal states give no actions, so applying twice changes nothing.

Order: links are added (and set up) first, so a ``mirred`` filter can name its IFB; then tc
actions per device — deletions, changes, additions (parents before children); then cgroup
writes; links are deleted last, after the filters that redirect to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vmqos.errors import PermanentHostError
from vmqos.plan.render.tc import render_command
from vmqos.reconcile.state import (
    CgroupValue,
    HostState,
    HtbClass,
    Link,
    TcFilter,
    TcObject,
    TcQdisc,
)

__all__ = ["Action", "CgroupWrite", "LinkAction", "LinkOp", "TcAction", "TcOp",
           "cgroup_write_text", "reconcile", "render_actions"]


class LinkOp(StrEnum):
    """What an ``ip link`` action does (the word ``ip`` itself uses)."""

    ADD = "add"
    UP = "up"
    DOWN = "down"
    DEL = "del"


class TcOp(StrEnum):
    """What a ``tc`` action does to one object (the word ``tc`` itself uses)."""

    ADD = "add"
    CHANGE = "change"
    DEL = "del"


@dataclass(frozen=True, slots=True)
class LinkAction:
    """``ip link add NAME type KIND`` / ``ip link set NAME up|down`` / ``ip link del NAME``."""

    op: LinkOp
    link: Link

    def argv(self) -> list[str]:
        name = self.link.name
        if self.op is LinkOp.ADD:
            return ["link", "add", name, "type", self.link.kind]
        if self.op in (LinkOp.UP, LinkOp.DOWN):
            return ["link", "set", name, self.op.value]
        return ["link", "del", name]

    def render(self) -> str:
        return render_command("ip", self.argv())


@dataclass(frozen=True, slots=True)
class TcAction:
    """``tc qdisc|class|filter add|change|del`` of one object."""

    op: TcOp
    obj: TcObject

    def argv(self) -> list[str]:
        if self.op is TcOp.ADD:
            return self.obj.add_argv()
        if self.op is TcOp.CHANGE:
            assert isinstance(self.obj, HtbClass)
            return self.obj.change_argv()
        return self.obj.del_argv()

    def render(self) -> str:
        return render_command("tc", self.argv())


@dataclass(frozen=True, slots=True)
class CgroupWrite:
    """Write ``text`` into ``<dir>/<file>`` so that it reads back as ``value.value``."""

    value: CgroupValue
    text: str

    @property
    def path(self) -> str:
        return f"{self.value.dir}/{self.value.file}"

    def render(self) -> str:
        return f"echo '{self.text}' > {self.path}"


Action = LinkAction | TcAction | CgroupWrite


def cgroup_write_text(value: CgroupValue) -> str:
    """What to write so that a file reads back as ``value``. Per-device files take a line for
    the device; "no limit" is ``MAJ:MIN 0`` on v1 (blk-throttle) and all ``max`` on v2."""
    if value.device is None or value.value:
        return value.value
    if value.file == "io.max":
        return f"{value.device} rbps=max wbps=max riops=max wiops=max"
    return f"{value.device} 0"


# --- tc ----------------------------------------------------------------------------------


def _tree(obj: TcObject) -> str:
    if isinstance(obj, TcQdisc):
        return "ingress" if obj.parent == "ingress" else "root"
    if isinstance(obj, TcFilter):
        return "ingress" if obj.parent == "ffff:" else "root"
    return "root"


def _is_top(obj: TcObject) -> bool:
    return isinstance(obj, TcQdisc) and obj.parent in ("root", "ingress")


def _rank(obj: TcObject) -> int:
    """Deletion order inside a tree: filters, then leaf qdiscs, then classes."""
    return 0 if isinstance(obj, TcFilter) else 1 if isinstance(obj, TcQdisc) else 2


def _diff_tree(desired: Sequence[TcObject], observed: Sequence[TcObject]) -> list[TcAction]:
    want_top = next((o for o in desired if _is_top(o)), None)
    have_top = next((o for o in observed if _is_top(o)), None)
    if want_top != have_top:
        out = [TcAction(TcOp.DEL, have_top)] if have_top is not None else []
        if want_top is not None:
            out += [TcAction(TcOp.ADD, o) for o in desired]
        return out
    if want_top is None:
        return []
    want = {o.key: o for o in desired if not _is_top(o)}
    have = {o.key: o for o in observed if not _is_top(o)}
    deletes: list[TcObject] = [o for k, o in have.items() if k not in want]
    changes: list[TcAction] = []
    adds: list[TcObject] = []
    for key, obj in want.items():
        old = have.get(key)
        if old is None:
            adds.append(obj)
        elif old != obj:
            if isinstance(obj, HtbClass) and isinstance(old, HtbClass) and \
                    obj.parent == old.parent:
                changes.append(TcAction(TcOp.CHANGE, obj))
            else:
                deletes.append(old)
                adds.append(obj)
    deletes.sort(key=_rank)
    order = {o.key: i for i, o in enumerate(desired)}
    adds.sort(key=lambda o: order[o.key])
    return [*(TcAction(TcOp.DEL, o) for o in deletes), *changes,
            *(TcAction(TcOp.ADD, o) for o in adds)]


def _diff_tc(desired: Iterable[TcObject], observed: Iterable[TcObject]) -> list[TcAction]:
    by_dev: dict[str, tuple[list[TcObject], list[TcObject]]] = {}
    for obj in desired:
        by_dev.setdefault(obj.dev, ([], []))[0].append(obj)
    for obj in observed:
        by_dev.setdefault(obj.dev, ([], []))[1].append(obj)
    out: list[TcAction] = []
    for want, have in by_dev.values():
        for tree in ("root", "ingress"):
            out += _diff_tree([o for o in want if _tree(o) == tree],
                              [o for o in have if _tree(o) == tree])
    return out


# --- the whole state ------------------------------------------------------------------------


def reconcile(desired: HostState, observed: HostState) -> tuple[Action, ...]:
    """The actions that make ``observed`` equal ``desired``; ``()`` when they are equal.

    ``observed`` must cover the same scope as ``desired`` (the devices, IFB candidates and
    cgroup files of one instance); links in ``observed`` but not in ``desired`` are IFBs vmqos
    owns and no longer needs, and are deleted.
    """
    have_links = {link.name: link for link in observed.links}
    want_links = {link.name: link for link in desired.links}
    first: list[Action] = []
    for name, link in want_links.items():
        old = have_links.get(name)
        if old is not None and old.kind != link.kind:
            raise PermanentHostError(
                f"device {name} exists and is a {old.kind or 'device of unknown kind'}, not "
                f"vmqos's {link.kind}; vmqos does not touch devices it did not create")
        if old is None:
            first.append(LinkAction(LinkOp.ADD, link))
        if (old is None or old.up != link.up):
            first.append(LinkAction(LinkOp.UP if link.up else LinkOp.DOWN, link))
    tc = _diff_tc(desired.tc, observed.tc)
    have_cg = {value.key: value for value in observed.cgroup}
    cgroup = [CgroupWrite(value, cgroup_write_text(value)) for value in desired.cgroup
              if have_cg.get(value.key) != value]
    last = [LinkAction(LinkOp.DEL, link) for name, link in have_links.items()
            if name not in want_links]
    return (*first, *tc, *cgroup, *last)


def render_actions(actions: Iterable[Action]) -> list[str]:
    """Each action as the shell line that does it."""
    return [action.render() for action in actions]
