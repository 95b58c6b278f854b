"""Charts drawn on the server as SVG geometry: no JavaScript, no CDN, nothing to load.

The template (templates/organiser/_charts.html) turns these numbers into <svg> elements;
everything here is plain arithmetic so it can be tested without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import format_date, format_datetime, format_time

from ..services.backoffice.dashboard import DayCount

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 52, 12, 28  # room for the axes' labels


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class TimelineChart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    line: str = ""  # polyline points of the running total
    last_point: tuple[float, float] | None = None  # marked, so a single day shows a total
    total: int = 0
    left_ticks: list[Tick] = field(default_factory=list)  # per day
    right_ticks: list[Tick] = field(default_factory=list)  # running total
    bottom_ticks: list[Tick] = field(default_factory=list)  # dates
    plot_left: float = LEFT
    plot_right: float = WIDTH - RIGHT
    plot_top: float = TOP
    plot_bottom: float = HEIGHT - BOTTOM
    unit: str = "day"  # what one bar counts: "day", "hour" or "ten_minutes"

    @property
    def empty(self) -> bool:
        return not self.bars


def nice_ceiling(value: int) -> int:
    """The next "round" number at or above value (1, 2, 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _ticks(maximum: int, top: float, bottom: float, count: int = 4) -> list[Tick]:
    return [
        Tick(bottom - (bottom - top) * i / count, f"{round(maximum * i / count):d}")
        for i in range(count + 1)
    ]


def timeline_chart(days: list[DayCount], width: int = WIDTH, height: int = HEIGHT) -> TimelineChart:
    """Bars of new registrations per day and a line of the running total, on two axes."""
    chart = TimelineChart(
        width=width, height=height, plot_right=width - RIGHT, plot_bottom=height - BOTTOM
    )
    if not days:
        return chart
    chart.unit = bucket_unit(days)
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.plot_bottom - chart.plot_top
    slot = plot_width / len(days)
    bar_width = max(slot * 0.8, 0.5)
    max_new = nice_ceiling(max(d.new for d in days))
    max_total = nice_ceiling(days[-1].total)
    points = []
    for index, day in enumerate(days):
        x = chart.plot_left + index * slot
        bar_height = plot_height * day.new / max_new
        chart.bars.append(
            Bar(
                x=round(x + (slot - bar_width) / 2, 2),
                y=round(chart.plot_bottom - bar_height, 2),
                width=round(bar_width, 2),
                height=round(bar_height, 2),
                label=_bucket_label(day),
                value=day.new,
            )
        )
        line_y = chart.plot_bottom - plot_height * day.total / max_total
        points.append(f"{x + slot / 2:.2f},{line_y:.2f}")
    chart.line = " ".join(points)
    chart.last_point = tuple(float(v) for v in points[-1].split(","))
    chart.total = days[-1].total
    chart.left_ticks = _ticks(max_new, chart.plot_top, chart.plot_bottom)
    chart.right_ticks = _ticks(max_total, chart.plot_top, chart.plot_bottom)
    label_every = max(1, math.ceil(len(days) / 8))
    chart.bottom_ticks = [
        Tick(round(chart.plot_left + (i + 0.5) * slot, 2), _tick_label(d))
        for i, d in enumerate(days)
        if i % label_every == 0
    ]
    return chart


def _bucket_label(count: DayCount) -> str:
    if isinstance(count.day, datetime):
        return format_datetime(count.day, "medium")
    return format_date(count.day, "medium")


def _tick_label(count: DayCount) -> str:
    """Dates for a timeline in days, times of day for the opening rush."""
    if isinstance(count.day, datetime):
        return format_time(count.day, "HH:mm")
    return format_date(count.day, "d MMM")


def bucket_unit(counts: list[DayCount]) -> str:
    """What one bar stands for (dashboard.registrations_over_time picks the size)."""
    if not isinstance(counts[0].day, datetime):
        return "day"
    if len(counts) > 1 and (counts[1].day - counts[0].day).total_seconds() >= 3600:
        return "hour"
    return "ten_minutes"
