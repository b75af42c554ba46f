"""Figures: one run's panels, saved as PNG and SVG, the same bytes every time."""

from __future__ import annotations

from abm import Model
from abm.analysis.figures import OKABE_ITO, QUINTILE_COLOURS, plot_run
from tests.conftest import SMALL


def test_plot_run_shows_four_panels_and_saves_png_and_svg(tmp_path):
    model = Model("bradford", "sustain", seed=2, **SMALL).run(years=1)
    figure = plot_run(model, tmp_path / "run")
    titles = [ax.get_title() for ax in figure.axes]
    assert {"Wellbeing by IMD quintile", "Inequality (lower is better)",
            "Attending a community asset", "Providers"} <= set(titles)
    wellbeing = figure.axes[titles.index("Wellbeing by IMD quintile")]
    assert len(wellbeing.get_lines()) == 5
    assert [line.get_color() for line in wellbeing.get_lines()] == list(QUINTILE_COLOURS.values())
    png, svg = (tmp_path / "run.png").read_bytes(), (tmp_path / "run.svg").read_text()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.lstrip().startswith("<?xml") and "http://www.w3.org/2000/svg" in svg
    assert "Wellbeing by IMD quintile" in svg, "SVG text stays text (searchable)"


def test_saved_figures_are_reproducible(tmp_path):
    model = Model("bradford", seed=2, **SMALL).run(years=1)
    plot_run(model, tmp_path / "a")
    plot_run(model, tmp_path / "b")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_palette_is_okabe_ito():
    assert OKABE_ITO == ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                         "#D55E00", "#CC79A7")
    assert set(QUINTILE_COLOURS.values()) <= set(OKABE_ITO)


def test_axes_show_plain_numbers_never_an_offset_or_a_power_of_ten():
    import matplotlib.pyplot as plt

    from abm.analysis.figures import plain_axes

    figure, (big, small, log) = plt.subplots(1, 3)
    big.plot([10_000, 10_050], [0, 1])       # matplotlib alone would print "+1e4" offsets
    small.plot([0.0001, 0.0009], [0.001, 0.003])
    log.bar([0, 1], [3, 300])
    log.set_yscale("log")
    plain_axes(figure)
    figure.canvas.draw()
    labels = [t.get_text() for ax in figure.axes for axis in (ax.xaxis, ax.yaxis)
              for t in axis.get_ticklabels()]
    offsets = [axis.get_offset_text().get_text() for ax in figure.axes
               for axis in (ax.xaxis, ax.yaxis)]
    assert not any(offsets), offsets
    assert "10,020" in labels and "0.00025" in labels and "1,000" in labels, labels
    assert not [t for t in labels if "e" in t or "10^" in t], labels
    plt.close(figure)


def test_the_forest_draws_more_places_than_it_has_markers():
    """A sweep over many places (England, every ICB) draws F1 without a legend (FN shows
    each place), where it used to run out of markers."""
    import pandas as pd

    from abm.analysis import figures

    rows = []
    for k in range(len(figures.MARKERS) + 3):
        for scenario, value in (("baseline", 0.0), ("scale", 0.001 * (k + 1))):
            row = {"place": f"place_{k}", "scenario": scenario}
            for column, *_ in figures.FOREST_OUTCOMES:
                row |= {column: value, f"{column}_lo": value - 0.001,
                        f"{column}_hi": value + 0.001}
            rows.append(row)
    figure = figures.forest(pd.DataFrame(rows), "baseline")
    lines = [ln for ax in figure.axes for ln in ax.get_lines()]
    assert len(lines) >= len(figures.MARKERS) + 3
    assert figure.axes[-1].get_legend() is None
