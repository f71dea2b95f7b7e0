"""Charts as SVG drawn on the server: nothing is loaded from elsewhere, and the page needs no
script to show them. Colours come from the stylesheet (by class); every number is also in a
`<title>`, which a browser shows on hover and a screen reader reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from bot.core import replies
from storage.stats_series import Spread

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 24
MAX_TICKS = 8


def stacked_bars(start: datetime, bucket: timedelta, series: Mapping[str, Sequence[int]],
                 *, label: str) -> Markup:
    """A bar per bucket, stacked by series (each drawn with the class of its name)."""
    count = len(next(iter(series.values()), []))
    totals = [sum(values[i] for values in series.values()) for i in range(count)]
    top = max(totals, default=0)
    if top == 0:
        return _empty(label)
    step = (WIDTH - LEFT - RIGHT) / count
    parts = _axes(top, "") + _ticks(start, bucket, count, step)
    for i in range(count):
        y: float = HEIGHT - BOTTOM
        tip = ", ".join(f"{values[i]} {name}" for name, values in series.items() if values[i])
        for name, values in series.items():
            height = _scale(values[i], top)
            if height:
                y -= height
                parts.append(f'<rect class="bar {escape(name)}" x="{LEFT + i * step + 1:.1f}" '
                             f'y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{height:.1f}">'
                             f"<title>{_when(start + bucket * i)}: {escape(tip)}</title></rect>")
    return _svg(label, parts)


def line(start: datetime, bucket: timedelta, values: Sequence[float | None], *, label: str,
         unit: str) -> Markup:
    """A line through the buckets that have a value (gaps where they have none)."""
    top = max((v for v in values if v is not None), default=None)
    if top is None:
        return _empty(label)
    top = top or 1.0
    step = (WIDTH - LEFT - RIGHT) / len(values)
    parts = _axes(top, unit) + _ticks(start, bucket, len(values), step)
    run: list[str] = []
    for i, value in enumerate([*values, None]):
        if value is None:
            if len(run) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(run)}"/>')
            run = []
            continue
        x, y = LEFT + (i + 0.5) * step, HEIGHT - BOTTOM - _scale(value, top)
        run.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>'
                     f"{_when(start + bucket * i)}: {_number(value)} {unit}</title></circle>")
    return _svg(label, parts)


def spreads(figures: Mapping[str, Spread], *, label: str, unit: str) -> Markup:
    """A row per name: a bar to the median and a whisker to the 90th percentile."""
    if not figures:
        return _empty(label)
    top = max(f.p90 for f in figures.values()) or 1.0
    row, width = 30, WIDTH - 160 - RIGHT
    height = TOP + row * len(figures) + 4
    parts = []
    for i, (name, f) in enumerate(figures.items()):
        y = TOP + i * row
        median, p90 = 160 + width * f.median / top, 160 + width * f.p90 / top
        tip = (f"{name}: median {_number(f.median)} {unit}, 90th percentile "
               f"{_number(f.p90)} {unit}, {f.count} clips")
        parts += [f'<text class="label" x="152" y="{y + 17}" text-anchor="end">'
                  f"{escape(name)}</text>",
                  f'<rect class="bar median" x="160" y="{y + 5}" width="{median - 160:.1f}" '
                  f'height="16"><title>{escape(tip)}</title></rect>',
                  f'<line class="whisker" x1="{median:.1f}" y1="{y + 13}" x2="{p90:.1f}" '
                  f'y2="{y + 13}"/>',
                  f'<text class="value" x="{min(p90 + 6, WIDTH - 60):.1f}" y="{y + 17}">'
                  f"{_number(f.median)} {unit}</text>"]
    return _svg(label, parts, height)


def _axes(top: float, unit: str) -> list[str]:
    base, mid = HEIGHT - BOTTOM, HEIGHT - BOTTOM - _scale(top / 2, top)
    return [f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}"/>',
            f'<line class="grid" x1="{LEFT}" y1="{mid:.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{mid:.1f}"/>',
            f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
            f'<text class="label" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">'
            f"{_number(top)}{escape(unit)}</text>",
            f'<text class="label" x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>']


def _ticks(start: datetime, bucket: timedelta, count: int, step: float) -> list[str]:
    every = max(1, -(-count // MAX_TICKS))
    days = bucket * count > timedelta(days=1)
    return [f'<text class="label" x="{LEFT + i * step:.1f}" y="{HEIGHT - 6}">'
            f'{(start + bucket * i).strftime("%a %H:%M" if days else "%H:%M")}</text>'
            for i in range(0, count, every)]


def _scale(value: float, top: float) -> float:
    return (HEIGHT - TOP - BOTTOM) * value / top if top else 0.0


def _svg(label: str, parts: list[str], height: int = HEIGHT) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
                  f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
                  + "".join(parts) + "</svg>")


def _empty(label: str) -> Markup:
    return _svg(label, [f'<text class="label" x="{WIDTH / 2}" y="{HEIGHT / 2}" '
                        f'text-anchor="middle">{escape(replies.CHART_EMPTY)}</text>'])


def _when(moment: datetime) -> str:
    return moment.strftime("%a %H:%M UTC")


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"
