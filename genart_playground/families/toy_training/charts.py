"""Line charts as pictures, with axes, ticks, units and a legend: drawn on the server, so a chart fed while
its tab is hidden is just a new picture (a Gradio plot fed while hidden once threw in the browser)."""

import math

from PIL import Image, ImageDraw, ImageFont

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
WIDTH, HEIGHT = 520, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 26, 40  # margins for the tick labels, the title and the legend


def font(size: int = 11):
    return ImageFont.load_default(size=size)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=10 * magnitude)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 2) if first + i * step <= high + step * 1e-6]


def label(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.3g}"


def line_chart(series: dict[str, list[tuple[float, float]]], *, title: str, x_label: str, y_label: str,
               y_range: tuple[float, float] | None = None, smooth: int = 1) -> Image.Image:
    """`series`: name -> (x, y) points, one line each, in COLOURS' order; `smooth`: a running mean's width."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    lines = {name: smoothed(points, smooth) for name, points in series.items() if points}
    xs = [x for points in lines.values() for x, _ in points] or [0.0, 1.0]
    ys = [y for points in lines.values() for _, y in points if math.isfinite(y)] or [0.0, 1.0]
    x_low, x_high = min(xs), max(max(xs), min(xs) + 1)
    y_low, y_high = y_range if y_range is not None else (min(ys), max(ys))
    y_ticks = nice_ticks(y_low, y_high)
    y_low, y_high = min(y_low, y_ticks[0]), max(y_high, y_ticks[-1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x, y):
        y = min(max(y, y_low), y_high)
        return LEFT + (x - x_low) / (x_high - x_low) * plot_w, TOP + (1 - (y - y_low) / (y_high - y_low)) * plot_h

    draw.text((LEFT, 6), title, fill=(20, 20, 20), font=font(12))
    for value in y_ticks:
        _, y = at(x_low, value)
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=(235, 235, 235))
        draw.text((4, y - 6), label(value), fill=(90, 90, 90), font=font(10))
    for value in nice_ticks(x_low, x_high):
        x, _ = at(value, y_low)
        if LEFT <= x <= WIDTH - RIGHT:
            draw.line([(x, TOP + plot_h), (x, TOP + plot_h + 4)], fill=(90, 90, 90))
            draw.text((x - 8, TOP + plot_h + 5), label(value), fill=(90, 90, 90), font=font(10))
    draw.rectangle([LEFT, TOP, WIDTH - RIGHT, TOP + plot_h], outline=(120, 120, 120))
    draw.text((WIDTH - RIGHT - 6 * len(x_label) - 4, HEIGHT - 16), x_label, fill=(60, 60, 60), font=font(11))
    draw.text((LEFT + 4, TOP + 2), y_label, fill=(60, 60, 60), font=font(11))
    legend_x = LEFT
    for i, (name, points) in enumerate(lines.items()):
        colour = COLOURS[i % len(COLOURS)]
        finite = [at(x, y) for x, y in points if math.isfinite(y)]
        if len(finite) > 1:
            draw.line(finite, fill=colour, width=2)
        elif finite:
            draw.ellipse([finite[0][0] - 2, finite[0][1] - 2, finite[0][0] + 2, finite[0][1] + 2], fill=colour)
        draw.line([(legend_x, HEIGHT - 9), (legend_x + 14, HEIGHT - 9)], fill=colour, width=3)
        draw.text((legend_x + 18, HEIGHT - 15), name, fill=(40, 40, 40), font=font(11))
        legend_x += 30 + 6 * len(name)
    return image


def smoothed(points: list[tuple[float, float]], width: int) -> list[tuple[float, float]]:
    """A running mean over `width` points, thinned to at most 400 (a chart is 450 pixels wide)."""
    if width > 1:
        ys = [y for _, y in points]
        points = [(x, sum(ys[max(0, i - width + 1):i + 1]) / len(ys[max(0, i - width + 1):i + 1]))
                  for i, (x, _) in enumerate(points)]
    step = max(1, len(points) // 400)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])
