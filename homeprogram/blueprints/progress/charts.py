"""Geometry for the inline SVG charts (no chart library): templates draw what this computes."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from homeprogram.formatting import format_when
from homeprogram.models.base import utcnow


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: list[Point]  # only weeks with a plan
    path: str  # polyline "x,y x,y", empty when fewer than two points


def sparkline(rates: Sequence[float | None], width: int = 120, height: int = 32) -> Sparkline:
    """Weekly rates (0..1, None = no plan) as a line; gaps where nothing was expected."""
    pad = 3
    n = len(rates)
    step = (width - 2 * pad) / max(1, n - 1)
    points = [
        Point(round(pad + i * step, 1), round(height - pad - r * (height - 2 * pad), 1))
        for i, r in enumerate(rates)
        if r is not None
    ]
    path = " ".join(f"{p.x},{p.y}" for p in points) if len(points) > 1 else ""
    return Sparkline(width, height, points, path)


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[Point]
    path: str
    y_ticks: list[tuple[float, str]]  # (y, label)
    x_labels: list[tuple[float, str]]
    lines: list[tuple[float, str]]  # horizontal reference lines (y, name): baseline, target


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def line_chart(
    series: Sequence[tuple[date, float]],
    references: Sequence[tuple[str, float]] = (),
    start: date | None = None,
    end: date | None = None,
    width: int = 320,
    height: int = 160,
) -> LineChart:
    """Values over time, with optional reference lines (e.g. baseline and target)."""
    left, right, top, bottom = 36, width - 8, 8, height - 22
    values = [v for _, v in series] + [v for _, v in references]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    margin = (hi - lo) * 0.08
    lo, hi = lo - margin, hi + margin
    days = [d for d, _ in series]
    first = start or (min(days) if days else utcnow().date())
    last = end or (max(days) if days else first)
    span = max(1, (last - first).days)

    def x(d: date) -> float:
        return round(left + (d - first).days / span * (right - left), 1)

    def y(v: float) -> float:
        return round(bottom - (v - lo) / (hi - lo) * (bottom - top), 1)

    points = [Point(x(d), y(v)) for d, v in series]
    ticks = [lo + (hi - lo) * k / 3 for k in range(4)]
    return LineChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        points=points,
        path=" ".join(f"{p.x},{p.y}" for p in points),
        y_ticks=[(y(t), _fmt(round(t, 1))) for t in ticks],
        x_labels=[(x(first), format_when(first, "day_short"))]
        + ([(x(last), format_when(last, "day_short"))] if last != first else []),
        lines=[(y(v), name) for name, v in references],
    )
