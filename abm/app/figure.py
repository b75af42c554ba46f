"""The workshop app's pictures: four charts and a map, drawn with matplotlib on the server.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies) and the
same five colours mean the same deprivation fifths in every chart and on the map; fonts are
large enough to read on a projector. Each figure is built once per browser session and its
artists are updated for every frame (building a figure costs more than drawing it).
"""

from __future__ import annotations

import io
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from abm.app.run import Frame
from abm.app.why import GAP_PARTS, STAIRCASE, TOUCHABLE, Why
from abm.model.model import rank_among_equals
from abm.model.providers import WEEKS_PER_YEAR

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7",
}
#: Deprivation fifths, most deprived (q1) first: warm to cool.
FIFTH_COLOURS = tuple(OKABE_ITO[c] for c in
                      ("vermillion", "orange", "bluish green", "sky blue", "blue"))
FIFTH_NAMES = ("most deprived fifth", "2nd fifth", "middle fifth", "4th fifth",
               "least deprived fifth")
GHOST = "#999999"
FONT = 15  # points; at 80 dpi a 1280-pixel-wide picture stays readable on a projector
TITLE = 18
DPI = 80
#: Weeks per bar of the closures chart.
CLOSURE_BIN_WEEKS = 13
#: Top of the closures axis before any closures are shown (it grows to fit them).
CLOSURES_AXIS_START = 10


class _Blit:
    """A figure whose changing artists are drawn over a saved picture of everything else
    (axes, ticks, titles, legends): most frames then cost a few lines' drawing and a PNG
    encoding instead of laying out every label again (a full drawing of the charts takes
    about 0.15 s).

    The saved pictures are kept per ``key``, which must name everything the rest of the
    figure depends on (the charts' axis limits, the map's neighbourhoods): going back to
    limits drawn before (another preset and back, a run that starts again) costs no full
    drawing.
    """

    #: Saved pictures kept (each one the figure's size in RGBA, about 3 MB for the charts).
    KEPT = 4

    def __init__(self, figure: Figure, changing: list[Artist]):
        self.figure, self.changing = figure, changing
        self.canvas = FigureCanvasAgg(figure)
        for artist in changing:
            artist.set_animated(True)
        self.backgrounds: OrderedDict[Hashable, Any] = OrderedDict()

    def png(self, key: Hashable) -> bytes:
        """The figure as PNG bytes (RGB, fast compression)."""
        if key in self.backgrounds:
            self.backgrounds.move_to_end(key)
            self.canvas.restore_region(self.backgrounds[key])
        else:
            self.canvas.draw()
            self.backgrounds[key] = self.canvas.copy_from_bbox(self.figure.bbox)
            while len(self.backgrounds) > self.KEPT:
                self.backgrounds.popitem(last=False)
        for artist in self.changing:
            self.figure.draw_artist(artist)
        return _png(self.canvas)


def _limits(current: tuple[float, float], values: np.ndarray, pad: float,
            floor: float | None, grow_only: bool = False) -> tuple[float, float]:
    """Y-limits for ``values``: the current ones while the data stay inside and (unless
    ``grow_only``) fill at least 40% of them, else the data's range with room to grow (so
    limits change seldom)."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return current
    low, high = float(values.min()), float(values.max())
    span = max(high - low, pad)
    inside = current[0] <= low and high <= current[1]
    if inside and (grow_only or (high - low) >= 0.4 * (current[1] - current[0]) - 2 * pad):
        return current
    new_low, new_high = low - 0.3 * span - pad, high + 0.3 * span + pad
    if floor is not None:
        new_low = max(new_low, floor)
    return new_low, new_high


def _style(ax, title: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=TITLE, loc="left")
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)


class Charts:
    """Wellbeing by fifth, the gap against its status-quo ghost, uptake by fifth, providers."""

    def __init__(self, horizon_years: float):
        self.lock = threading.Lock()
        self.figure = Figure(figsize=(13, 8.2), dpi=DPI)
        axes = self.figure.subplots(2, 2)
        self.figure.subplots_adjust(left=0.07, right=0.93, top=0.88, bottom=0.08,
                                    wspace=0.28, hspace=0.42)
        (self.ax_wellbeing, self.ax_gap), (self.ax_uptake, self.ax_providers) = axes
        self.ax_closures = self.ax_providers.twinx()
        _style(self.ax_wellbeing, "Wellbeing by deprivation fifth", "life satisfaction (0-10)")
        _style(self.ax_gap, "Gap: least minus most deprived fifth", "points")
        _style(self.ax_uptake, "Taking part in a group", "% of each fifth")
        _style(self.ax_providers, "Community groups", "groups in the place")
        self.ax_closures.tick_params(labelsize=FONT, colors=OKABE_ITO["vermillion"])
        self.ax_closures.set_ylabel("closures per quarter", fontsize=FONT,
                                    color=OKABE_ITO["vermillion"])
        self.ax_closures.spines[["top"]].set_visible(False)
        self.ax_closures.set_ylim(0, CLOSURES_AXIS_START)

        self.wellbeing = [self.ax_wellbeing.plot([], [], color=c, lw=w, label=n)[0]
                          for c, n, w in zip(FIFTH_COLOURS, FIFTH_NAMES, (4, 2, 2, 2, 4),
                                             strict=True)]
        self.uptake = [self.ax_uptake.plot([], [], color=c, lw=w)[0]
                       for c, w in zip(FIFTH_COLOURS, (4, 2, 2, 2, 4), strict=True)]
        self.ghost = self.ax_gap.plot([], [], color=GHOST, lw=3, ls="--",
                                      label="carrying on as today")[0]
        self.gap = self.ax_gap.plot([], [], color=OKABE_ITO["black"], lw=4,
                                    label="this scenario")[0]
        self.other = self.ax_gap.plot([], [], color=OKABE_ITO["reddish purple"], lw=3, ls=":",
                                      label="compared choice")[0]
        self.comparing = False  # whether the gap's legend names the compared choice
        self.closures = self.ax_closures.stairs([0], [0, 1], color=OKABE_ITO["vermillion"],
                                                fill=True, alpha=0.45, label="closures")
        self.open = self.ax_providers.plot([], [], color=OKABE_ITO["black"], lw=4,
                                           label="open")[0]
        self.funded = self.ax_providers.plot([], [], color=OKABE_ITO["blue"], lw=3,
                                             ls="-.", label="with an ICS grant")[0]
        self.ax_providers.set_zorder(self.ax_closures.get_zorder() + 1)
        self.ax_providers.patch.set_visible(False)

        for ax in (self.ax_wellbeing, self.ax_gap, self.ax_uptake, self.ax_providers):
            ax.set_xlim(-1, horizon_years)
            ax.axvspan(-1, 0, color="#eeeeee", zorder=0)
            for year in range(math.ceil(horizon_years) + 1):  # funding rounds
                ax.axvline(year, color="#bbbbbb", lw=1, ls=":", zorder=0)
        for ax in (self.ax_uptake, self.ax_providers):
            ax.set_xlabel("years of the policy (grey: before it; dotted: funding rounds)",
                          fontsize=FONT - 1)
        self.figure.legend(handles=self.wellbeing, loc="upper center", ncol=5, frameon=False,
                           fontsize=FONT - 1, bbox_to_anchor=(0.5, 1.0))
        self._gap_legend()
        handles = [self.open, self.funded, self.closures]
        legend = self.ax_providers.legend(handles=handles, fontsize=FONT - 3, loc="lower left",
                                          frameon=False, ncol=3)
        self.axes = (self.ax_wellbeing, self.ax_gap, self.ax_uptake, self.ax_providers,
                     self.ax_closures)
        self.blit = _Blit(self.figure, [self.closures, *self.wellbeing, *self.uptake,
                                        self.ghost, self.gap, self.other, self.funded, self.open,
                                        legend])  # the legend over the closures' bars

    def _gap_legend(self) -> None:
        handles = [self.ghost, self.gap, *([self.other] if self.comparing else [])]
        self.ax_gap.legend(handles=handles, fontsize=FONT - 2, loc="lower left", frameon=False,
                           ncol=1 + self.comparing)

    def png(self, frame: Frame) -> bytes:
        """The charts at ``frame``, as PNG bytes."""
        with self.lock:
            comparing = frame.gap_other is not None
            if comparing != self.comparing:
                self.comparing = comparing
                self._gap_legend()
            x = frame.years
            for line, values in zip(self.wellbeing, frame.wellbeing, strict=True):
                line.set_data(x, values)
            for line, values in zip(self.uptake, frame.attending, strict=True):
                line.set_data(x, 100 * values)
            self.gap.set_data(x, frame.gap)
            self.ghost.set_data(x, frame.gap_status_quo)
            self.other.set_data(*((x, frame.gap_other) if comparing else ([], [])))
            gaps = [frame.gap, frame.gap_status_quo, *([frame.gap_other] if comparing else [])]
            self.open.set_data(x, frame.open_providers)
            self.funded.set_data(x, frame.funded_providers)
            edges, counts = _bins(x, frame.closures)
            self.closures.set_data(counts, edges)
            for ax, values, pad, floor, grow_only in (
                (self.ax_wellbeing, frame.wellbeing, 0.05, None, False),
                (self.ax_gap, np.concatenate(gaps), 0.02, None, False),
                (self.ax_uptake, 100 * frame.attending, 0.5, 0.0, False),
                (self.ax_providers, np.concatenate([[0.0], frame.open_providers]), 1.0, 0.0,
                 False),
                # Closures come in bursts (grants ending): an axis that only grows keeps
                # bursts comparable between runs and is not redrawn at every restart.
                (self.ax_closures, np.concatenate([[0.0], 2 * counts]), 1.0, 0.0, True),
            ):
                limits = _limits(ax.get_ylim(), np.ravel(values), pad, floor, grow_only)
                if limits != ax.get_ylim():
                    ax.set_ylim(*limits)
            return self.blit.png((comparing, *(ax.get_ylim() for ax in self.axes)))


def _bins(years: np.ndarray, per_week: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closures summed over CLOSURE_BIN_WEEKS-week bins, with bin edges in years."""
    if len(years) == 0:
        return np.array([0.0, 1.0]), np.array([0.0])
    n = math.ceil(len(per_week) / CLOSURE_BIN_WEEKS)
    counts = np.add.reduceat(per_week, np.arange(0, len(per_week), CLOSURE_BIN_WEEKS))
    start = years[0] - 1 / WEEKS_PER_YEAR
    edges = start + np.arange(n + 1) * CLOSURE_BIN_WEEKS / WEEKS_PER_YEAR
    edges[-1] = min(edges[-1], years[-1])
    return edges, counts


class Map:
    """Simulated neighbourhoods coloured by deprivation fifth, with each provider slot marked:
    an open group as a circle sized by the people taking part, a closed one as a cross."""

    def __init__(self):
        self.lock = threading.Lock()
        self.figure = Figure(figsize=(6.4, 8.2), dpi=DPI)
        self.ax = self.figure.add_axes((0.02, 0.2, 0.96, 0.72))
        self.ax.set_axis_off()
        self.ax.set_title("Neighbourhoods and their groups", fontsize=TITLE, loc="left")
        self.cells = self.ax.imshow(np.zeros((1, 1)), cmap=ListedColormap(FIFTH_COLOURS),
                                    vmin=-0.5, vmax=4.5, interpolation="nearest", alpha=0.75,
                                    origin="lower")
        self.open = self.ax.scatter([], [], s=[], facecolor="white", edgecolor="black",
                                    linewidth=1.5, zorder=3)
        self.closed = self.ax.scatter([], [], s=70, marker="x", color="black", linewidth=2.5,
                                      zorder=3)
        fifths = [Patch(color=c, alpha=0.75, label=n) for c, n in
                  zip(FIFTH_COLOURS, FIFTH_NAMES, strict=True)]
        marks = [
            self.ax.scatter([], [], s=120, facecolor="white", edgecolor="black", linewidth=1.5,
                            label="open group (bigger: more people)"),
            self.ax.scatter([], [], s=70, marker="x", color="black", linewidth=2.5,
                            label="closed group"),
        ]
        self.figure.legend(handles=[*fifths, *marks], loc="lower left", fontsize=FONT - 3,
                           ncol=2, frameon=False, bbox_to_anchor=(0.0, 0.0))
        self.status = self.ax.text(0.0, -0.02, "", transform=self.ax.transAxes, va="top",
                                   fontsize=FONT)
        self.blit = _Blit(self.figure, [self.open, self.closed, self.status])
        self.layout: tuple | None = None  # the neighbourhoods the cells show

    def png(self, frame: Frame) -> bytes:
        """The map at ``frame``, as PNG bytes."""
        with self.lock:
            layout = (frame.hood_x.tobytes(), frame.hood_y.tobytes(),
                      frame.hood_quintile.tobytes())
            if layout != self.layout:  # another place or seed: other neighbourhoods
                self.layout = layout
                side_x, side_y = int(frame.hood_x.max()) + 1, int(frame.hood_y.max()) + 1
                grid = np.full((side_y, side_x), np.nan)
                grid[frame.hood_y.astype(int), frame.hood_x.astype(int)] = frame.hood_quintile
                self.cells.set_data(grid)
                self.cells.set_extent((-0.5, side_x - 0.5, -0.5, side_y - 0.5))
                self.ax.set_xlim(-0.5, side_x - 0.5)
                self.ax.set_ylim(-0.5, side_y - 0.5)
            position = _slot_positions(frame)
            is_open = frame.provider_open
            self.open.set_offsets(position[is_open])
            self.open.set_sizes(30 + 8 * frame.provider_attenders[is_open])
            self.closed.set_offsets(position[~is_open])
            self.status.set_text(f"{is_open.sum()} groups open, {(~is_open).sum()} closed "
                                 f"(simulated sample)")
            return self.blit.png(self.layout)


def _slot_positions(frame: Frame) -> np.ndarray:
    """Each provider slot's marker position: its neighbourhood's cell, spread on a small
    spiral by the slot's rank within the cell so markers in one cell do not overlap."""
    hood = frame.provider_hood.astype(int)
    order = np.argsort(hood, kind="stable")
    rank = np.empty(len(hood), dtype=int)
    rank[order] = rank_among_equals(hood[order])
    angle = rank * 2.39996  # golden angle, radians
    radius = 0.32 * np.sqrt((rank + 0.5) / (rank.max(initial=0) + 1))
    x = frame.hood_x[hood] + radius * np.cos(angle)
    y = frame.hood_y[hood] + radius * np.sin(angle)
    return np.column_stack([x, y]).reshape(-1, 2)


class WhyFigure:
    """The "why" views (abm/app/why.py) side by side: where the ICS money goes by fifth, the
    staircase of the most deprived fifth, and the parts of the gap; each for the room's
    choice (coloured) beside carrying on as today (grey). Drawn in full each time: the page
    redraws it a few times a second at most (every quarter of a year while playing)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.figure = Figure(figsize=(16, 5.2), dpi=DPI)
        # Left edges leave room for the staircase's and the parts' words on the y axis.
        self.axes = [self.figure.add_axes(rect) for rect in (
            (0.035, 0.2, 0.24, 0.6), (0.45, 0.2, 0.17, 0.6), (0.8, 0.2, 0.19, 0.6))]
        self.canvas = FigureCanvasAgg(self.figure)

    def png(self, why: Why) -> bytes:
        """The three views as PNG bytes."""
        with self.lock:
            for ax in self.axes:
                ax.clear()
            self._money(self.axes[0], why)
            self._staircase(self.axes[1], why)
            self._parts(self.axes[2], why)
            self.canvas.draw()
            return _png(self.canvas)

    @staticmethod
    def _money(ax, why: Why) -> None:
        _style(ax, "", "")
        ax.set_title("Where the ICS money goes\nGBP a year per resident of each fifth",
                     fontsize=FONT, loc="left")
        x = np.arange(5)
        today = np.nan_to_num(why.money[1])
        ax.bar(x - 0.2, np.nan_to_num(why.money[0]), 0.4, color=FIFTH_COLOURS,
               label="this choice")
        ax.bar(x + 0.2, today, 0.4, color=GHOST, label="carrying on as today")
        ax.set_xticks(x, ["most\ndeprived", "2nd", "middle", "4th", "least\ndeprived"],
                      fontsize=FONT - 2)
        for k in np.flatnonzero(np.isnan(why.money[0])):
            ax.text(k, 0, "none\nhere", ha="center", va="bottom", fontsize=FONT - 4)
        ax.legend(fontsize=FONT - 3, frameon=False, loc="upper left", ncol=2)
        top = np.nanmax(why.money) if np.isfinite(why.money).any() else 0
        ax.set_ylim(0, max(top, 0.01) * 1.4)

    @staticmethod
    def _staircase(ax, why: Why) -> None:
        if why.staircase is None:
            _waiting(ax, "Most deprived fifth: from need to a group")
            return
        need = why.staircase[:, 0]
        _style(ax, "Most deprived fifth (Core20)", "")
        ax.set_title(f"Most deprived fifth (Core20)\n{need[0]:,.0f} people in need "
                     f"({need[1]:,.0f} today)", fontsize=FONT, loc="left")
        steps = [words for _, words in STAIRCASE[1:]]
        y = np.arange(len(steps))[::-1]
        ax.barh(y + 0.2, why.staircase[0, 1:], 0.4, color=FIFTH_COLOURS[0], label="this choice")
        ax.barh(y - 0.2, why.staircase[1, 1:], 0.4, color=GHOST, label="carrying on as today")
        ax.set_yticks(y, steps, fontsize=FONT - 3)
        ax.set_xlabel("people a year, whole place", fontsize=FONT - 2)
        ax.grid(axis="x", color="#dddddd", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        for value, at in zip(why.staircase[0, 1:], y + 0.2, strict=True):
            ax.text(value, at, f" {value:,.0f}", va="center", fontsize=FONT - 4)
        if why.weeks == 0:
            ax.text(0.5, 0.5, "counted from the first policy week", transform=ax.transAxes,
                    ha="center", fontsize=FONT - 2, color="#555555")
        top = float(np.nanmax(why.staircase[:, 1:])) if why.staircase[:, 1:].size else 0
        ax.set_xlim(0, max(top, 1) * 1.3)

    @staticmethod
    def _parts(ax, why: Why) -> None:
        if why.parts is None:
            _waiting(ax, "What makes up the gap")
            return
        _style(ax, "", "")
        ax.set_title(f"What makes up the gap\n{why.gap[0]:.2f} points ({why.gap[1]:.2f} today)",
                     fontsize=FONT, loc="left")
        names = [words for _, words in GAP_PARTS]
        y = np.arange(len(names))[::-1]
        mine = [why.parts[name][0] for name, _ in GAP_PARTS]
        today = [why.parts[name][1] for name, _ in GAP_PARTS]
        touch = [name in TOUCHABLE for name, _ in GAP_PARTS]
        ax.barh(y + 0.2, mine, 0.4, color=[OKABE_ITO["bluish green"] if t else "#666666"
                                           for t in touch], label="this choice")
        ax.barh(y - 0.2, today, 0.4, color=GHOST, label="carrying on as today")
        ax.set_yticks(y, names, fontsize=FONT - 3)
        ax.axvline(0, color="black", lw=1)
        ax.set_xlabel("points (green: groups can touch)", fontsize=FONT - 3)
        ax.grid(axis="x", color="#dddddd", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        for value, at in zip(mine, y + 0.2, strict=True):
            ax.text(value, at, f" {value:+.3f} ", va="center", fontsize=FONT - 4,
                    ha="left" if value >= 0 else "right")
        low, high = min(0.0, *mine, *today), max(0.0, *mine, *today)
        pad = 0.35 * (high - low or 1)
        ax.set_xlim(low - (pad if low < 0 else 0), high + pad)


def _waiting(ax, title: str) -> None:
    """An empty view that says what it waits for."""
    ax.set_axis_off()
    ax.set_title(title, fontsize=TITLE, loc="left")
    ax.text(0.0, 0.5, "waits for a model that reports it\n(Model v3)", transform=ax.transAxes,
            fontsize=FONT, color="#555555")


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as PNG bytes (RGB, fast compression)."""
    width, height = canvas.get_width_height()
    image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA",
                                 0, 1).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


#: Height of the caption band of a saved picture, pixels per line.
CAPTION_LINE_PX = 30


def picture(charts_png: bytes, map_png: bytes, why_png: bytes | None,
            caption: list[str]) -> bytes:
    """The picture "Save picture" gives: the caption (place, scenario, seed, date: first line
    larger), the map beside the charts, and the "why" views below, as one PNG whose text
    chunks repeat the caption (``Title`` and ``Description``) for the workshop write-up."""
    from matplotlib import font_manager
    from PIL import ImageDraw, ImageFont, PngImagePlugin

    charts = PIL.Image.open(io.BytesIO(charts_png)).convert("RGB")
    map_ = PIL.Image.open(io.BytesIO(map_png)).convert("RGB")
    top = [map_.resize((round(map_.width * charts.height / map_.height), charts.height)),
           charts]
    width = sum(image.width for image in top)
    why = None
    if why_png is not None:
        why = PIL.Image.open(io.BytesIO(why_png)).convert("RGB")
        why = why.resize((width, round(why.height * width / why.width)))
    band = CAPTION_LINE_PX * len(caption) + 20
    height = band + charts.height + (why.height if why is not None else 0)
    out = PIL.Image.new("RGB", (width, height), "white")
    font_file = font_manager.findfont("DejaVu Sans")
    draw = ImageDraw.Draw(out)
    for k, line in enumerate(caption):
        font = ImageFont.truetype(font_file, 24 if k == 0 else 18)
        draw.text((12, 10 + CAPTION_LINE_PX * k), line, fill="black", font=font)
    x = 0
    for image in top:
        out.paste(image, (x, band))
        x += image.width
    if why is not None:
        out.paste(why, (0, band + charts.height))
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Title", caption[0])
    info.add_itxt("Description", "\n".join(caption[1:]))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()
