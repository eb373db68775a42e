"""Apply a host plan as one transaction per instance: observe, diff, act, read back, or roll back.

Role: the write path of ``vmqos apply`` (and of ``lab``/``audit --fix`` on top of it).

1. Observe the instance's managed objects (:func:`observe_host_state`: netlink for links and
   tc, cgroupfs for the files).
2. :func:`vmqos.reconcile.diff.reconcile` → the minimal actions; none means "no changes" and
   nothing is run — applying twice changes nothing and says so.
3. Execute: link additions as one ``ip -batch``, all tc actions as ONE ``tc -batch`` (stops at
   the first command the kernel refuses), cgroup writes, link deletions as one ``ip -batch``.
4. Read back and reconcile again: anything left is a failure too.
5. On any failure — or an interrupt — roll back: observe again and reconcile towards the
   state observed in step 1 (the same diff, other direction), with ``-force`` so one refusal
   does not stop the undo; then check that the state equals step 1's. The error names the
   command the kernel refused and its message, and says whether the rollback was complete.

Why ``tc -batch`` and not pyroute2 for writes: see benchmarks/apply.py (one process for all
commands; libvirt's one-process-per-command costs ~3 ms each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vmqos.errors import HostError, PermanentHostError
from vmqos.host import cgroupfs
from vmqos.host.errors_map import CommandError
from vmqos.host.netlink import NetlinkReader
from vmqos.host.runner import run_batch
from vmqos.host.tc_observe import observe_tc
from vmqos.plan.kernel.psched import Psched
from vmqos.reconcile.diff import (
    Action,
    CgroupWrite,
    LinkAction,
    TcAction,
    reconcile,
    render_actions,
)
from vmqos.reconcile.host_plan import HostPlan
from vmqos.reconcile.state import HostState, Link, TcFilter
from vmqos.reconcile.strategy import Substitution

__all__ = ["ApplyError", "ApplyResult", "apply_host_plan", "execute_actions",
           "observe_host_state"]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one instance's apply did: the actions run (empty: it was already right)."""

    instance: str
    actions: tuple[Action, ...]
    substitutions: tuple[Substitution, ...]

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    @property
    def summary(self) -> str:
        if not self.actions:
            return "no changes: the host already matches the plan"
        return f"{len(self.actions)} change(s)"

    def lines(self) -> list[str]:
        return render_actions(self.actions)


class ApplyError(HostError):
    """An instance's apply failed; ``cause`` is the first failure (``command`` and
    ``detail`` when the kernel refused a command), ``rolled_back`` whether the previous state
    was restored exactly."""

    def __init__(self, instance: str, cause: BaseException, *, rolled_back: bool,
                 rollback_note: str = "") -> None:
        outcome = ("rolled back: the previous state is restored" if rolled_back
                   else f"ROLLBACK INCOMPLETE: {rollback_note}; run `vmqos cleanup`")
        super().__init__(f"{instance}: {cause}; {outcome}")
        self.instance = instance
        self.cause = cause
        self.rolled_back = rolled_back
        self.command = cause.command if isinstance(cause, CommandError) else None
        self.detail = cause.detail if isinstance(cause, CommandError) else str(cause)


def observe_host_state(plan: HostPlan, netns: str | None, psched: Psched | None = None,
                       reader: NetlinkReader | None = None,
                       no_root_filters: frozenset[str] = frozenset()) -> HostState:
    """The plan's managed objects as they are now: its IFB candidates that exist, the tc
    objects on its taps and IFBs, its cgroup files. ``reader``: a netlink socket already open
    in ``netns``. ``no_root_filters``: taps whose root-qdisc filters are known to be none
    (not dumped; see :func:`_rootless`)."""
    if reader is None:
        with NetlinkReader(netns) as opened:
            return observe_host_state(plan, netns, psched, opened, no_root_filters)
    psched = psched or plan.psched
    wanted = {link.name for link in plan.desired().links}
    links = reader.links()
    by_name = {link.name: link for link in links}
    missing = [tap for tap in plan.taps if tap not in by_name]
    if missing:
        raise PermanentHostError(
            f"{plan.instance}: tap(s) {', '.join(missing)} not found"
            + (f" in namespace {netns}" if netns else "")
            + "; the sandbox is gone: run `vmqos apply` to rebuild it")
    # A device with an IFB's name that is not an IFB is a stranger: it is only looked at
    # when the plan wants that name (reconcile then refuses), never deleted.
    ifbs = tuple(Link(name, by_name[name].kind, by_name[name].up)
                 for name in plan.ifb_candidates
                 if name in by_name and (by_name[name].kind == "ifb" or name in wanted))
    own = tuple(link.name for link in ifbs if link.kind == "ifb")
    # An IFB is vmqos's alone and the strategy never filters on its root: its root
    # filters are not dumped (1000 dumps fewer for 1000 taps; see benchmarks/apply.py).
    tc = observe_tc(reader, (*plan.taps, *own), psched, links, frozenset(own) | no_root_filters)
    return HostState(ifbs, tc, cgroupfs.read_values(plan.cgroup))


def _rootless(plan: HostPlan, *states: HostState) -> frozenset[str]:
    """Taps with no filter on their root qdisc in any of ``states``: then no action touched
    one, and the read-back after apply needs not dump them (1000 dumps fewer for 1000 taps
    on the fallback strategy, whose HTB ``default`` class replaces libvirt's fw filter)."""
    rooted = {obj.dev for state in states for obj in state.tc
              if isinstance(obj, TcFilter) and obj.parent != "ffff:"}
    return frozenset(tap for tap in plan.taps if tap not in rooted)


def _groups(actions: Sequence[Action]) -> list[tuple[str, list[Action]]]:
    """Consecutive actions of one kind, in order: each group is one batch."""
    out: list[tuple[str, list[Action]]] = []
    for action in actions:
        kind = ("ip" if isinstance(action, LinkAction) else "tc"
                if isinstance(action, TcAction) else "cgroup")
        if out and out[-1][0] == kind:
            out[-1][1].append(action)
        else:
            out.append((kind, [action]))
    return out


def execute_actions(actions: Sequence[Action], netns: str | None, *,
                    force: bool = False) -> list[str]:
    """Run ``actions`` in order, one batch per run of link or tc actions. Without ``force``
    the first failure raises; with it every action is tried and failures are returned."""
    failures: list[str] = []
    for kind, group in _groups(actions):
        if kind == "cgroup":
            for action in group:
                assert isinstance(action, CgroupWrite)
                try:
                    cgroupfs.write_value(action)
                except HostError as exc:
                    if not force:
                        raise
                    failures.append(str(exc))
            continue
        argvs = [a.argv() for a in group if isinstance(a, LinkAction | TcAction)]
        failed = run_batch(kind, argvs, netns=netns, force=force)
        failures += [f"`{f.command}`: {f.detail}" for f in failed]
    return failures


def _rollback(plan: HostPlan, before: HostState, netns: str | None, psched: Psched,
              reader: NetlinkReader, cause: BaseException) -> ApplyError:
    try:
        now = observe_host_state(plan, netns, psched, reader)
        failures = execute_actions(reconcile(before, now), netns, force=True)
        left = reconcile(before, observe_host_state(plan, netns, psched, reader))
    except HostError as exc:
        return ApplyError(plan.instance, cause, rolled_back=False,
                          rollback_note=f"the rollback itself failed: {exc}")
    if left:
        note = "; ".join([*failures, *("still to undo: " + line
                                       for line in render_actions(left))])
        return ApplyError(plan.instance, cause, rolled_back=False, rollback_note=note)
    return ApplyError(plan.instance, cause, rolled_back=True)


def apply_host_plan(plan: HostPlan, *, netns: str | None = None) -> ApplyResult:
    """Make the host match ``plan`` for one instance, atomically (see the module docstring).

    ``netns``: the namespace of the taps and IFBs (``None``: this process's).
    """
    psched = plan.psched
    desired = plan.desired()
    with NetlinkReader(netns) as reader:
        before = observe_host_state(plan, netns, psched, reader)
        actions = reconcile(desired, before)
        if not actions:
            return ApplyResult(plan.instance, (), plan.all_substitutions)
        try:
            execute_actions(actions, netns)
            after = observe_host_state(plan, netns, psched, reader,
                                       _rootless(plan, before, desired))
            left = reconcile(desired, after)
            if left:
                raise PermanentHostError(
                    "after apply the host still differs from the plan (the kernel accepted a "
                    "value but keeps another): " + "; ".join(render_actions(left)))
        except HostError as exc:
            raise _rollback(plan, before, netns, psched, reader, exc) from exc
        except BaseException as exc:
            # An interrupt or a bug half-way: undo first, then let it propagate unchanged.
            _rollback(plan, before, netns, psched, reader, exc)
            raise
    return ApplyResult(plan.instance, actions, plan.all_substitutions)
