"""PNG plots of measurements against their configured limits (matplotlib, no display).

Role: the pictures of the verify report — throughput over time against the configured rate,
peak, TCP ceiling and burst window; CPU time shares as bars; disk rate over time against the
configured throttle.

Invariants: every function takes plain numbers and :class:`~vmqos.verify.judge.Sample` series,
writes one PNG at ``path`` and returns it. Figures are built with ``matplotlib.figure.Figure``
and the Agg canvas directly — no pyplot global state, no display needed, safe to call from
several threads. Configured values are dashed lines; titles and axes name their units.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vmqos.verify.judge import Sample

__all__ = ["plot_cpu_shares", "plot_disk", "plot_throughput"]

_SIZE = (9.0, 4.8)
_DPI = 110
_MEASURED = "#1f77b4"
_CONFIGURED = "#d62728"
_PEAK = "#ff7f0e"
_CEILING = "#2ca02c"
_PREDICTED = "#9467bd"


def _bit_unit(top: float) -> tuple[float, str]:
    for scale, name in ((1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s")):
        if top >= scale:
            return scale, name
    return 1.0, "bit/s"


def _steps(ax: Axes, samples: Sequence[Sample], scale: float, **style: Any) -> None:
    if not samples:
        return
    xs = [s.start for s in samples] + [samples[-1].end]
    ys = [s.value / scale for s in samples] + [samples[-1].value / scale]
    ax.step(xs, ys, where="post", **style)


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(out, dpi=_DPI)
    return out


def plot_throughput(
    path: str | Path, samples: Sequence[Sample], *, title: str,
    rate: float | None = None, peak: float | None = None, burst_window: float | None = None,
    steady_start: float | None = None, goodput_factor: float | None = None,
    sender_samples: Sequence[Sample] = (), predicted: Sequence[Sample] = (),
) -> Path:
    """Receiver goodput (bit/s per interval) over time, with the configured ``rate`` (dashed),
    ``peak`` (dotted), the TCP payload ceiling ``rate × goodput_factor``, the burst window
    shaded and the ``predicted`` goodput per interval (:mod:`vmqos.plan.predict`);
    ``steady_start`` marks where the steady-state mean begins."""
    top = max([s.value for s in (*samples, *predicted)] + [rate or 0.0, peak or 0.0, 1.0])
    scale, unit = _bit_unit(top)
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    end = max([s.end for s in samples], default=1.0)
    if burst_window:
        ax.axvspan(0, min(burst_window, end), color=_PEAK, alpha=0.12,
                   label=f"burst window ({burst_window:.2f} s)")
    if sender_samples:
        _steps(ax, sender_samples, scale, color="#7f7f7f", linewidth=1.0, alpha=0.6,
               label="sent (sender side)")
    _steps(ax, samples, scale, color=_MEASURED, linewidth=2.0, label="measured goodput")
    _steps(ax, predicted, scale, color=_PREDICTED, linestyle=(0, (4, 2)), linewidth=1.6,
           zorder=4, label="predicted goodput")
    if rate:
        ax.axhline(rate / scale, color=_CONFIGURED, linestyle="--", linewidth=1.6, zorder=3,
                   label=f"configured rate {rate / scale:g} {unit}")
        if goodput_factor:
            ax.axhline(rate * goodput_factor / scale, color=_CEILING, linestyle="-.",
                       linewidth=1.2, label=f"TCP ceiling ({goodput_factor:.3f} × rate)")
    if peak:
        ax.axhline(peak / scale, color=_PEAK, linestyle=":", linewidth=1.6, zorder=3,
                   label=f"configured peak {peak / scale:g} {unit}")
    if steady_start is not None and steady_start < end:
        ax.axvline(steady_start, color="#555555", linestyle=":", linewidth=1.0,
                   label=f"steady state from {steady_start:.2f} s")
    ax.set_xlim(0, end)
    ax.set_ylim(0, top / scale * 1.15)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"throughput ({unit})")
    ax.set_title(f"{title} — TCP goodput ({unit})")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize="small", framealpha=0.9)
    fig.tight_layout()
    return _save(fig, path)


def plot_cpu_shares(
    path: str | Path, labels: Sequence[str], measured: Sequence[float],
    configured: Sequence[float], *, title: str,
) -> Path:
    """CPU time fractions (0..1) of sibling groups on one CPU: configured (from the shares)
    next to measured, as percentages."""
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    xs = list(range(len(labels)))
    width = 0.38
    bars_c = ax.bar([x - width / 2 for x in xs], [c * 100 for c in configured], width,
                    color="white", edgecolor=_CONFIGURED, linestyle="--", linewidth=1.6,
                    label="configured (from shares)")
    bars_m = ax.bar([x + width / 2 for x in xs], [m * 100 for m in measured], width,
                    color=_MEASURED, label="measured")
    for bars in (bars_c, bars_m):
        ax.bar_label(bars, fmt="%.1f %%", fontsize="small")
    ax.set_xticks(xs, list(labels))
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of one CPU (%)")
    ax.set_title(f"{title} — CPU time share on one CPU (%)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return _save(fig, path)


def plot_disk(
    path: str | Path, samples: Sequence[Sample], *, title: str, configured: float | None = None,
    tolerance: float = 0.10, predicted: Sequence[Sample] = (),
) -> Path:
    """Disk bytes/s per interval, in MB/s (10^6 B/s: Nova's ``disk_*_bytes_sec`` unit), with
    the configured throttle dashed, its ±``tolerance`` band shaded and the ``predicted``
    bytes/s per interval."""
    scale, unit = 1e6, "MB/s"
    top = max([s.value for s in (*samples, *predicted)] + [configured or 0.0, 1.0])
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    end = max([s.end for s in samples], default=1.0)
    if configured:
        ax.axhspan(configured * (1 - tolerance) / scale, configured * (1 + tolerance) / scale,
                   color=_CONFIGURED, alpha=0.08, label=f"±{tolerance * 100:.0f} % band")
        ax.axhline(configured / scale, color=_CONFIGURED, linestyle="--", linewidth=1.6, zorder=3,
                   label=f"configured {configured / scale:g} {unit} ({configured:,.0f} B/s)")
    _steps(ax, samples, scale, color=_MEASURED, linewidth=2.0, label="measured")
    _steps(ax, predicted, scale, color=_PREDICTED, linestyle=(0, (4, 2)), linewidth=1.6,
           zorder=4, label="predicted")
    ax.set_xlim(0, end)
    ax.set_ylim(0, top / scale * 1.2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"throughput ({unit})")
    ax.set_title(f"{title} — direct I/O ({unit})")
    ax.grid(True, alpha=0.3)
    # The measured line sits at the top, next to the configured one: keep the legend off it.
    ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
    fig.tight_layout()
    return _save(fig, path)
