"""Observe the counters of the root and ingress qdiscs of devices (taps), over rtnetlink.

One RTM_GETQDISC dump with statistics for the whole namespace, one link dump for the names;
a device that does not exist (a server whose tap is gone) is simply absent from the answer.
The values are :class:`vmqos.observe.tc_stats.TcCounters`. A kernel default qdisc (handle
0: noqueue, pfifo_fast, mq) still counts what passes the device, so it is reported too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Literal

from vmqos.host.netlink import NETNS_RUN_DIR, NetlinkReader, attrs
from vmqos.host.tc_observe import TC_H_INGRESS
from vmqos.observe.tc_stats import TcCounters, decode_counters
from vmqos.reconcile.state import TC_H_ROOT

__all__ = ["QdiscSide", "observe_qdisc_counters"]

QdiscSide = Literal["root", "ingress"]
TCA_STATS_BASIC, TCA_STATS_QUEUE, TCA_STATS_PKT64 = 1, 3, 8


def observe_qdisc_counters(devices: Iterable[str], netns: str | None = None
                           ) -> dict[str, dict[str, TcCounters]]:
    """device -> {"root": ..., "ingress": ...} for those of ``devices`` that exist; none when
    the namespace ``netns`` does not exist (yet): no device is there."""
    if netns is not None and not os.path.exists(os.path.join(NETNS_RUN_DIR, netns)):
        return {}
    with NetlinkReader(netns) as reader:
        index = {link.name: link.index for link in reader.links()}
        messages = reader.qdisc_stats()
    wanted = {index[dev]: dev for dev in devices if dev in index}
    out: dict[str, dict[str, TcCounters]] = {}
    for msg in messages:
        dev = wanted.get(msg.ifindex)
        if dev is None:
            continue
        side: QdiscSide
        if msg.parent == TC_H_ROOT:
            side = "root"
        elif msg.parent == TC_H_INGRESS:
            side = "ingress"
        else:
            continue  # a class's leaf or an mq child: its root counts it already
        stats = attrs(msg.raw_stats) if msg.raw_stats is not None else {}
        out.setdefault(dev, {})[side] = decode_counters(
            msg.kind, stats.get(TCA_STATS_BASIC), stats.get(TCA_STATS_QUEUE),
            stats.get(TCA_STATS_PKT64))
    return out
