"""Sweep files: runs, seeds and samples drawn from the parameter declaration."""

import numpy as np
import pytest

from abm.files.errors import InputError
from experiments.spec import load_sweep


def write(tmp_path, body):
    path = tmp_path / "sweep.yaml"
    path.write_text("scenarios: [baseline, sustain]\nseeds: 3\nyears: 1\n" + body)
    return path


def test_runs_cross_scenarios_places_points_and_seeds(tmp_path):
    sweep = load_sweep(write(tmp_path, "places: [bradford, london]\n"
                                       "grid: {uptake_rate: [0.01, 0.02]}\n"))
    runs = sweep.runs()
    assert len(runs) == 2 * 2 * 2 * 3
    assert len({r.run_id for r in runs}) == len(runs)
    assert {r.seed for r in runs} == set(sweep.seed_values()), "every run shares the seed list"


def test_seeds_are_full_width_children_of_the_master_seed(tmp_path):
    sweep = load_sweep(write(tmp_path, "master_seed: 42\n"))
    children = np.random.SeedSequence(42).spawn(3)
    assert sweep.seed_values() == [int(c.generate_state(1, np.uint64)[0]) >> 1 for c in children]
    assert any(seed % 2 for seed in sweep.seed_values()), "low bits are kept (not all even)"


def test_whole_number_samples_give_each_value_equal_weight(tmp_path):
    sweep = load_sweep(write(tmp_path, "sample: {method: latin_hypercube, n: 300, seed: 1, "
                                       "ranges: {burn_in_years: [1, 3]}}\n"))
    counts = np.bincount([p["burn_in_years"] for p in sweep.points], minlength=4)[1:]
    assert counts.tolist() == [100, 100, 100], "a Latin hypercube fills each value equally"


def test_sobol_sample_stays_inside_its_ranges(tmp_path):
    sweep = load_sweep(write(tmp_path, "sample: {method: sobol, n: 16, ranges: "
                                       "{uptake_rate: [0.01, 0.03], shock_rate: null}}\n"))
    rates = [p["uptake_rate"] for p in sweep.points]
    assert len(rates) == 16 and min(rates) >= 0.01 and max(rates) <= 0.03


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("places: [bradford, bradford]\n", "lists bradford more than once"),
        ("grid: {uptake_rate: [0.01, 0.01]}\n", "lists 0.01 more than once"),
        ("grid: {embed_budget_share: [0.95]}\nparameters: {scale_budget_share: 0.1}\n"
         "scenarios: [baseline, scale_embed]\n", "exceed 1"),
    ],
)
def test_sweep_problems_name_the_place_of_the_defect(tmp_path, body, fragment):
    path = tmp_path / "sweep.yaml"
    text = "scenarios: [baseline, sustain]\nseeds: 3\nyears: 1\n" + body
    if "scenarios:" in body:
        text = "seeds: 3\nyears: 1\n" + body
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_sweep(path)
    assert any(fragment in p and str(path) in p for p in caught.value.problems), (
        caught.value.problems)
