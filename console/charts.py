"""Server-side SVG charts: no script, no CDN; each is drawn beside a table of its numbers, so
the SVG is an image with a title and every bar or cell carries its value in a <title>."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Three series at most (booked, powered; 30, 60, 90 days); colours that stay apart in grey
# print too.
SERIES_COLOURS = ("#9aa5b8", "#e8590c", "#1f3a5f")


def _number(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _with_unit(value: float, unit: str, digits: int) -> str:
    return f"{_number(value, digits)} {unit}".strip()


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str = "h",
    digits: int = 1,
) -> SafeString:
    """Horizontal grouped bars: one group per label, one bar per series (`digits` after the
    point: 0 for counts)."""
    label_width, bar_height, gap, width = 150, 12, 10, 640
    plot = width - label_width - 70
    largest = max([abs(v) for _, values in series for v in values] or [0]) or 1
    group = bar_height * len(series) + gap
    height = group * len(labels) + 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (name, _) in enumerate(series):
        x = label_width + i * 120
        parts.append(
            f'<rect x="{x}" y="2" width="10" height="10" fill="{SERIES_COLOURS[i]}"/>'
            f'<text x="{x + 14}" y="11" font-size="11">{escape(name)}</text>'
        )
    for row, label in enumerate(labels):
        y = 24 + row * group
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height}" font-size="11" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for i, (name, values) in enumerate(series):
            value = values[row]
            bar = plot * max(value, 0) / largest
            by = y + i * bar_height
            parts.append(
                f'<rect x="{label_width}" y="{by}" width="{bar:.1f}" height="{bar_height - 2}" '
                f'fill="{SERIES_COLOURS[i]}"><title>{escape(label)}, {escape(name)}: '
                f"{_with_unit(value, unit, digits)}</title></rect>"
                f'<text x="{label_width + bar + 4:.1f}" y="{by + bar_height - 3}" '
                f'font-size="10">{_number(value, digits)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def heat_map(
    *, title: str, rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float]]
) -> SafeString:
    """A grid of cells shaded by value (darker is more), each with its value in a <title>."""
    cell, left, top = 22, 40, 18
    width, height = left + cell * len(columns) + 4, top + cell * len(rows) + 4
    largest = max([v for row in values for v in row] or [0]) or 1
    parts = [
        f'<svg class="chart heat" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for c, column in enumerate(columns):
        if c % 3 == 0:
            parts.append(
                f'<text x="{left + c * cell + 2}" y="12" font-size="10">{escape(column)}</text>'
            )
    for r, row in enumerate(rows):
        y = top + r * cell
        parts.append(f'<text x="2" y="{y + 15}" font-size="11">{escape(row)}</text>')
        for c, column in enumerate(columns):
            value = values[r][c]
            opacity = 0.06 + 0.94 * value / largest if value else 0
            parts.append(
                f'<rect x="{left + c * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="#e8590c" fill-opacity="{opacity:.2f}" stroke="#dde1e8">'
                f"<title>{escape(row)} {escape(column)}: {_number(value)} h</title></rect>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
