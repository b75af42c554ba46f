"""The identifiability bound (calibration.identifiability) on designs whose answer is known.

With outputs exactly linear in the parameters, the linear-Gaussian bound has a closed form:
a single output moving ``k`` target SDs over a parameter's plausible range narrows that
parameter's posterior SD to sqrt(12 / (12 + k^2)) of the prior's (a uniform prior has
variance 1/12 of its range squared), so it is pinned (below 0.5) from k = 6 on.
"""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from calibration.identifiability import (
    PINNED_BELOW,
    best_width_ratios,
    describe,
    identifiability_table,
    local_slopes,
    sd_to_pin,
    width_without,
    with_local_bound,
)

#: The design's target columns (place "here"), as ``Simulator.keys`` names them.
KEYS = ["here:a", "here:b"]


def fake_spec(sds: dict) -> SimpleNamespace:
    """Three parameters over their ranges, one target per entry of ``sds``, one place."""
    space = SimpleNamespace(names=["steep", "shallow", "unseen"],
                            bounds=[(0.0, 2.0), (10.0, 20.0), (0.0, 1.0)])
    targets = [SimpleNamespace(name=name, value=0.0, sd=sd) for name, sd in sds.items()]
    return SimpleNamespace(space=space, targets=targets, places=["here"])


def design(points: int = 40, seed: int = 0) -> pd.DataFrame:
    """A Latin-hypercube-like design over the box, and outputs linear in the parameters:
    ``a`` moves 12 SDs (SD 0.1) over ``steep``'s range, ``b`` 2 SDs (SD 0.5) over
    ``shallow``'s; ``unseen`` moves neither."""
    rng = np.random.default_rng(seed)
    unit = rng.random((points, 3))
    frame = pd.DataFrame({"steep": 2.0 * unit[:, 0], "shallow": 10.0 + 10.0 * unit[:, 1],
                          "unseen": unit[:, 2]})
    frame["here:a"] = 1.2 * unit[:, 0] + 3.0
    frame["here:b"] = 1.0 * unit[:, 1] - 1.0
    return frame


def test_the_bound_is_the_closed_form_on_linear_outputs():
    table = identifiability_table(fake_spec({"a": 0.1, "b": 0.5}), design(), KEYS).set_index(
        "parameter")
    assert table.loc["steep", "best_width_ratio"] == pytest.approx(math.sqrt(12 / (12 + 144)))
    assert table.loc["shallow", "best_width_ratio"] == pytest.approx(math.sqrt(12 / 16))
    assert table.loc["unseen", "best_width_ratio"] == pytest.approx(1.0)
    assert list(table["could_be_pinned"]) == [True, False, False]
    # b would pin `shallow` once it moved 6 SDs over the range: SD 1.0 / 6, 3x tighter
    assert table.loc["shallow", "deciding_target"] == "here:b"
    assert table.loc["shallow", "sd_to_pin"] == pytest.approx(1 / 6, rel=1e-6)
    assert table.loc["shallow", "tighten_by"] == pytest.approx(3.0, rel=1e-6)
    assert table.loc["shallow", "deciding_target_r2"] == pytest.approx(1.0)
    # already pinned by a, which moves 12 SDs over the range: it stays pinned while a moves
    # 6 or more (SD 1.2 / 6 = 0.2, twice today's); never seen: no target would
    assert table.loc["steep", "deciding_target"] == "here:a"
    assert table.loc["steep", "sd_to_pin"] == pytest.approx(0.2, rel=1e-6)
    assert table.loc["steep", "tighten_by"] == pytest.approx(0.5, rel=1e-6)
    assert table.loc["unseen", "deciding_target"] == "" or pd.isna(
        table.loc["unseen", "deciding_target"])
    lines = describe(table.reset_index())
    assert ("steep: best width 0.28, could be pinned; mostly by here:a, while its SD stays "
            "below 0.2 (now 0.1)") in lines[1]
    assert "here:b would pin it at SD 0.167 (now 0.5, 3.0x tighter)" in lines[2]
    assert "no single target would, at any precision" in lines[3]


def test_confounded_parameters_cannot_be_pinned_by_one_target_at_any_precision():
    """One output that moves with the sum of two parameters says nothing about either
    alone, however precise it is."""
    j = np.array([[5.0, 5.0]])
    assert best_width_ratios(j, np.array([1e-9]))[0] > 0.7
    assert math.isnan(sd_to_pin(j, np.array([1.0]), 0, 0))
    # a second output on the first parameter alone separates them
    j2 = np.array([[5.0, 5.0], [3.0, 0.0]])
    sd = np.array([1.0, 1.0])
    needed = sd_to_pin(j2, sd, 0, 1)
    tighter = sd.copy()
    tighter[1] = needed
    assert best_width_ratios(j2, tighter)[0] == pytest.approx(PINNED_BELOW, abs=1e-6)
    assert best_width_ratios(j2, sd)[0] > PINNED_BELOW


def test_a_pinned_parameter_leans_on_the_target_it_can_least_lose():
    """Pinned by two targets, the one carrying more of it is named; a parameter that either
    target alone pins stays pinned whatever the other's SD (inf)."""
    j = np.array([[12.0, 0.0], [4.0, 0.0], [0.0, 12.0], [0.0, 12.0]])
    sd = np.ones(4)
    assert best_width_ratios(j, sd)[0] < PINNED_BELOW
    assert width_without(j, sd, 0, 0) > width_without(j, sd, 0, 1)
    assert sd_to_pin(j, sd, 1, 2) == math.inf
    # the SD up to which the first output keeps the first parameter pinned
    looser = sd.copy()
    looser[0] = sd_to_pin(j, sd, 0, 0)
    assert looser[0] > 1.0
    assert best_width_ratios(j, looser)[0] == pytest.approx(PINNED_BELOW, abs=1e-6)


def test_a_noisy_curved_output_is_reported_with_its_r2():
    frame = design(points=60, seed=1)
    frame["here:a"] = np.sin(6 * frame["steep"]) + np.random.default_rng(2).normal(0, 0.3, 60)
    table = identifiability_table(fake_spec({"a": 0.1, "b": 0.5}), frame, KEYS)
    steep = table.set_index("parameter").loc["steep"]
    assert steep["deciding_target_r2"] < 0.5


class CurvedEmulator:
    """An emulator whose mean output ``a`` is 3 x steep^2 (unit coordinates) and ``b`` is
    shallow: ``a`` is flat near steep's low end and steep near its high end."""

    def predict(self, unit_x):
        unit_x = np.asarray(unit_x, dtype=float)
        mean = np.column_stack([3.0 * unit_x[:, 0] ** 2, unit_x[:, 1]])
        return mean, np.zeros_like(mean)


def test_the_local_bound_takes_the_slopes_where_the_point_is():
    """A curved output pins a parameter where it is steep, not where it is flat: the local
    bound is the closed form with the slope at the point (6 x steep per unit range)."""
    j = local_slopes(CurvedEmulator(), np.array([0.1, 0.5, 0.5]))
    assert j[:, 0] == pytest.approx([0.6, 0.0])
    assert j[:, 1] == pytest.approx([0.0, 1.0]) and j[:, 2] == pytest.approx([0.0, 0.0])
    # within a step of the edge the step is cut there: the slope between 0.93 and 1
    assert local_slopes(CurvedEmulator(), np.array([0.98, 0.5, 0.5]))[0, 0] == pytest.approx(
        3.0 * (1.0 - 0.93**2) / 0.07)
    spec = fake_spec({"a": 0.1, "b": 0.5})
    spec.space.to_unit = lambda x: (x - np.array([0.0, 10.0, 0.0])) / np.array([2.0, 10.0,
                                                                                 1.0])
    table = identifiability_table(spec, design(), KEYS)
    low = with_local_bound(table, spec, CurvedEmulator(),
                           {"steep": 0.2, "shallow": 15.0, "unseen": 0.5}, "the truth")
    high = with_local_bound(table, spec, CurvedEmulator(),
                            {"steep": 1.8, "shallow": 15.0, "unseen": 0.5}, "the truth")
    # a moves 0.6 / 0.1 = 6 SDs per range at steep 0.2 (unit 0.1), 54 at steep 1.8 (0.9)
    assert low.set_index("parameter").loc["steep", "best_width_ratio_local"] == pytest.approx(
        math.sqrt(12 / (12 + 36)))
    assert high.set_index("parameter").loc["steep", "best_width_ratio_local"] == pytest.approx(
        math.sqrt(12 / (12 + 54**2)))
    assert set(low["local_at"]) == {"the truth"}
    assert "; at the truth, 0.50" in describe(low)[1]
