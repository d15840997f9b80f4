"""Charts for the admin as inline SVG rendered on the server: no script and nothing fetched. Each chart has its
axes, ticks, axis labels and a title in the markup; every point or bar carries a <title> tooltip."""

import math
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 68, 110, 34, 50  # margins: tick labels left, guide labels right
BAR_HEIGHT, BAR_LEFT = 20, 260  # per-field bars: the field names need room
INK, LINE, GRID, GUIDE = "#333", "#417690", "#ddd", "#ba2121"  # the admin's own palette
FONT = 'font-family="sans-serif"'
X_TICKS = 6
LABEL_GAP = 12  # px between guide labels, so they never overprint


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    label: str  # the tooltip: which run, and the value in words


@dataclass(frozen=True)
class Guide:
    value: float
    label: str  # "0.25 major shift"


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Ticks from 0 to at least `high` in round steps (1, 2 or 5 times a power of ten)."""
    high = high if high > 0 else 1.0
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [round(i * step, 10) for i in range(math.ceil(high / step - 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "", size: int = 11) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}" {FONT} font-size="{size}"{extra}>'
            f"{escape(text)}</text>")  # fmt: skip


def _frame(title: str, width: int, height: int, body: list[str]) -> SafeString:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'style="max-width:{width}px;background:#fff" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>")  # fmt: skip
    heading = _text(8, 18, title, extra=' font-weight="bold"', size=13)
    return mark_safe(head + heading + "".join(body) + "</svg>")  # every text above went through escape()


def _y_axis(ticks: list[float], y_of, x0: float, x1: float, label: str, y0: float, y1: float) -> list[str]:
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(x0 - 6, y + 4, _number(tick), "end"))
    middle = (y0 + y1) / 2
    parts.append(_text(14, middle, label, "middle", f' transform="rotate(-90 14 {middle:.1f})"'))
    return parts


def _time_labels(start: datetime, end: datetime) -> tuple[list[datetime], str]:
    span = (end - start).total_seconds()
    fmt = "%Y-%m-%d" if span > 3 * 86_400 else "%m-%d %H:%M"
    if span <= 0:
        return [start], fmt
    return [start + (end - start) * (i / (X_TICKS - 1)) for i in range(X_TICKS)], fmt


def time_chart(*, title: str, y_label: str, points: list[Point], guides: tuple[Guide, ...] = ()) -> SafeString:
    """A line over time (x: when each run started, UTC) with optional horizontal guides."""
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    if not points:
        return _frame(title, WIDTH, 80, [_text(8, 50, "No runs to show yet.")])
    points = sorted(points, key=lambda p: p.at)
    ticks = nice_ticks(max([p.value for p in points] + [g.value for g in guides]))
    start, end = points[0].at, points[-1].at
    span = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        return (x0 + x1) / 2 if span <= 0 else x0 + (x1 - x0) * (at - start).total_seconds() / span

    def y_of(value: float) -> float:
        return y1 - (y1 - y0) * value / ticks[-1]

    parts = _y_axis(ticks, y_of, x0, x1, y_label, y0, y1)
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{INK}"/>')
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="{INK}"/>')
    labels, fmt = _time_labels(start, end)
    for at in labels:
        x = x_of(at)
        parts.append(f'<line x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y1 + 4}" stroke="{INK}"/>')
        parts.append(_text(x, y1 + 16, at.strftime(fmt), "middle"))
    parts.append(_text((x0 + x1) / 2, HEIGHT - 8, "run started (UTC)", "middle"))
    labelled = []
    for guide in sorted(guides, key=lambda g: -g.value):
        y = y_of(guide.value)
        parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="{GUIDE}" stroke-dasharray="4 3"/>')
        if all(abs(y - other) >= LABEL_GAP for other in labelled):  # close guides: the highest keeps its label
            parts.append(_text(x1 + 6, y + 4, guide.label))
            labelled.append(y)
    coordinates = " ".join(f"{x_of(p.at):.1f},{y_of(p.value):.1f}" for p in points)
    parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for p in points:
        parts.append(f'<circle cx="{x_of(p.at):.1f}" cy="{y_of(p.value):.1f}" r="3.5" fill="{LINE}">'
                     f"<title>{escape(p.label)}</title></circle>")  # fmt: skip
    return _frame(title, WIDTH, HEIGHT, parts)


def bar_chart(*, title: str, x_label: str, bars: list[tuple[str, float]], guides: tuple[Guide, ...] = ()):
    """Horizontal bars, one per label (the fields of a run, by how far they moved)."""
    if not bars:
        return _frame(title, WIDTH, 80, [_text(8, 50, "Nothing to compare with yet.")])
    x0, x1, y0 = BAR_LEFT, WIDTH - 40, TOP
    y1 = y0 + BAR_HEIGHT * len(bars)
    height = y1 + BOTTOM
    ticks = nice_ticks(max([value for _, value in bars] + [g.value for g in guides]), count=4)

    def x_of(value: float) -> float:
        return x0 + (x1 - x0) * value / ticks[-1]

    parts = []
    for tick in ticks:
        x = x_of(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}" stroke="{GRID}"/>')
        parts.append(_text(x, y1 + 16, _number(tick), "middle"))
    for i, (label, value) in enumerate(bars):
        y = y0 + i * BAR_HEIGHT
        shown = label if len(label) <= 40 else label[:39] + "…"
        parts.append(_text(x0 - 6, y + BAR_HEIGHT * 0.65, shown, "end"))
        parts.append(f'<rect x="{x0}" y="{y + 3}" width="{max(x_of(value) - x0, 1):.1f}" height="{BAR_HEIGHT - 6}" '
                     f'fill="{LINE}"><title>{escape(label)}: {value:.4f}</title></rect>')  # fmt: skip
    for guide in guides:
        x = x_of(guide.value)
        parts.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}" stroke="{GUIDE}" stroke-dasharray="4 3"/>')
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{INK}"/>')
    legend = f" (dashed: {', '.join(g.label for g in guides)})" if guides else ""
    parts.append(_text((x0 + x1) / 2, height - 8, x_label + legend, "middle"))
    return _frame(title, WIDTH, height, parts)
