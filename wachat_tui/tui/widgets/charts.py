"""Small text charts drawn with block and braille characters (no extra dependency).

Pure functions returning strings (or lists of lines) so they are easy to test; the widgets
wrap them in Textual content with theme colours.
"""
from __future__ import annotations

import math
from typing import Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], width: int | None = None) -> str:
    """One line of ▁▂▃… bars, one per value (resampled to ``width`` when given)."""
    vals = list(values)
    if width is not None and vals and len(vals) != width:
        vals = resample(vals, width)
    if not vals:
        return ""
    top = max(vals) or 1.0
    return "".join(BLOCKS[min(8, max(0 if v <= 0 else 1, round(v / top * 8)))] for v in vals)


def columns(values: Sequence[float], height: int = 3) -> list[str]:
    """A vertical bar chart ``height`` lines tall, one character column per value."""
    vals = list(values)
    if not vals:
        return [""] * height
    top = max(vals) or 1.0
    eighths = [0 if v <= 0 else max(1, round(v / top * height * 8)) for v in vals]
    lines = []
    for row in range(height - 1, -1, -1):
        line = []
        for e in eighths:
            fill = e - row * 8
            line.append(BLOCKS[max(0, min(8, fill))])
        lines.append("".join(line))
    return lines


def hbar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``width`` cells using ▏▎▍▌▋▊▉█ for the partial cell."""
    if top <= 0 or width <= 0:
        return ""
    partial = " ▏▎▍▌▋▊▉"
    cells = max(0.0, min(1.0, value / top)) * width
    full = int(cells)
    rest = int(round((cells - full) * 8))
    if rest == 8:
        full, rest = full + 1, 0
    return "█" * full + (partial[rest] if rest and full < width else "")


def resample(values: Sequence[float], n: int) -> list[float]:
    """Average ``values`` into ``n`` buckets (or stretch them when there are fewer)."""
    m = len(values)
    if m == 0 or n <= 0:
        return []
    out = []
    for i in range(n):
        lo = int(i * m / n)
        hi = max(lo + 1, int((i + 1) * m / n))
        chunk = values[lo:hi]
        out.append(sum(chunk) / len(chunk))
    return out


# Braille dots: each cell is 2 columns x 4 rows of dots.
_DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def braille_canvas(width: int, height: int) -> list[list[int]]:
    return [[0] * width for _ in range(height)]


def plot_series(
    series: Sequence[Sequence[tuple[float, float]]],
    width: int,
    height: int,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
) -> tuple[list[list[int]], tuple[float, float], tuple[float, float]]:
    """Draw each series as a connected line on its own braille layer.

    Returns ``(layers, x_range, y_range)`` where ``layers[k][row][col]`` holds the dot bits
    of series ``k`` (so each can be coloured separately); rows go top to bottom.
    """
    pts = [p for s in series for p in s if _finite(p[1])]
    if not pts:
        return [braille_canvas(width, height) for _ in series], (0, 1), (0, 1)
    if x_range is None:
        xs = [p[0] for p in pts]
        x_range = (min(xs), max(xs))
    if y_range is None:
        ys = [p[1] for p in pts]
        lo, hi = min(ys), max(ys)
        pad = (hi - lo) * 0.08 or max(abs(hi) * 0.05, 0.05)
        y_range = (lo - pad, hi + pad)
    x0, x1 = x_range
    y0, y1 = y_range
    dots_w, dots_h = width * 2, height * 4

    def to_dot(x: float, y: float) -> tuple[int, int]:
        fx = 0.0 if x1 == x0 else (x - x0) / (x1 - x0)
        fy = 0.0 if y1 == y0 else (y - y0) / (y1 - y0)
        dx = int(round(fx * (dots_w - 1)))
        dy = int(round((1 - fy) * (dots_h - 1)))
        return max(0, min(dots_w - 1, dx)), max(0, min(dots_h - 1, dy))

    layers = []
    for s in series:
        canvas = braille_canvas(width, height)
        points = [to_dot(x, y) for x, y in s if _finite(y)]
        if len(points) == 1:
            _set(canvas, *points[0])
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            for dx, dy in _line(ax, ay, bx, by):
                _set(canvas, dx, dy)
        layers.append(canvas)
    return layers, x_range, y_range


def braille_text(cells: list[list[int]]) -> list[str]:
    return ["".join(chr(0x2800 + bits) if bits else " " for bits in row) for row in cells]


def _finite(v: float) -> bool:
    return v is not None and not math.isnan(v) and not math.isinf(v)


def _set(canvas: list[list[int]], dx: int, dy: int) -> None:
    canvas[dy // 4][dx // 2] |= _DOT[dy % 4][dx % 2]


def _line(x0: int, y0: int, x1: int, y1: int):
    """Bresenham's line between two dot positions."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx = 1 if x0 < x1 else -1
    sy = 1 if y0 < y1 else -1
    err = dx + dy
    while True:
        yield x0, y0
        if x0 == x1 and y0 == y1:
            return
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or not _finite(seconds):
        return "–"
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def fmt_count(n: float | int | None) -> str:
    if n is None:
        return "–"
    n = float(n)
    for unit, div in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.1f}{unit}".replace(".0" + unit, unit)
    return f"{int(n)}" if n == int(n) else f"{n:.1f}"
