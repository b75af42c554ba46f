"""What the report leaves out, and says so in one line: the staircase and the parts of the gap
for runs of a model without Model v3's outputs; the posterior for a sweep without `abm
uncertainty` results. And how posterior results are summarised and matched to a sweep."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from abm.cli import main
from abm.files.errors import InputError
from abm.files.io import read_part, write_part
from abm.report.uncertainty import find_uncertainty, posterior_table, read_uncertainty
from experiments.runner import run_sweep
from tests.report.conftest import mcse, write_effects

TINY = ("scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 2\nmaster_seed: 7\n"
        "years: 1\nparameters: {n_neighbourhoods: 15, residents_per_neighbourhood: 20, "
        "burn_in_years: 1}\n")
V3 = ("in_need_", "referred_", "followed_up_", "started_", "attending_12w_",
      "benefit_referred_", "gap_part_")


def drop_v3(results) -> None:
    """Rewrite the runs' parts (checksummed, as the runner writes them) without Model v3's
    staircase and gap-part columns: runs of a model that records none."""
    for path in sorted((results / "runs").glob("part-*.parquet")):
        frame = read_part(path).to_pandas()
        frame = frame[[c for c in frame.columns if not c.startswith(V3)]]
        batch = path.name.split("-")[1]
        path.unlink()
        write_part(frame, results / "runs", batch)


def test_without_model_v3_outputs_the_staircase_and_gap_parts_are_left_out_in_one_line(
        tmp_path):
    (tmp_path / "sweep.yaml").write_text(TINY)
    results = tmp_path / "results"
    assert run_sweep(tmp_path / "sweep.yaml", results, serial=True) == 0
    drop_v3(results)
    assert main(["report", str(results), "--out", str(tmp_path / "report")]) == 0
    html = (tmp_path / "report" / "report.html").read_text()
    for item in ("T8", "F9", "T9", "F10"):
        assert f'id="{item}"' not in html
        line = next(p for p in html.splitlines() if f">{item} is left out: " in p)
        assert "lack the Model v3 outputs" in line, line
    assert '>T10 is left out: no `abm uncertainty` results' in html
    assert 'id="T6"' in html and 'id="T1"' in html, "the rest of the report is there"
    md = (tmp_path / "report" / "report.md").read_text()
    assert "*T8 is left out: these runs lack the Model v3 outputs" in md


def test_posterior_probabilities_and_their_monte_carlo_error_by_hand():
    effects = pd.DataFrame({
        "scenario": "s", "place": "p", "draw": [0, 0, 1, 1, 2, 2, 3, 3],
        "seed": [1, 2] * 4,
        # draw means: 6, -2, 1.5, 4 (3 of 4 gain); gap: -0.1, -0.1, 0.2, -0.05 (3 narrow)
        "wellby_gain_disc": [5.0, 7.0, -1.0, -3.0, 2.0, 1.0, 4.0, 4.0],
        "delta_gap_q5_q1": [-0.1, -0.1, -0.1, -0.1, 0.2, 0.2, -0.05, -0.05]})
    row = posterior_table(effects).iloc[0]
    assert (row.draws, row.seeds, row.n_gains, row.n_narrows) == (4, 2, 3, 3)
    assert row.p_gains == 0.75 and row.p_gains_mcse == pytest.approx(mcse(0.75, 4))
    assert row.p_gains_mcse == pytest.approx(0.216506, abs=1e-6)  # sqrt(0.75 x 0.25 / 4)
    assert row.wellby_gain_disc == pytest.approx((6 - 2 + 1.5 + 4) / 4)
    # 90% interval over the four draw means (-2, 1.5, 4, 6), numpy's linear quantiles
    assert row.wellby_gain_disc_lo == pytest.approx(-2 + 0.15 * 3.5)
    assert row.wellby_gain_disc_hi == pytest.approx(4 + 0.85 * 2)


def test_posterior_results_are_matched_to_the_sweep(tmp_path):
    pairs = {("bradford", "scale"), ("bradford", "sustain")}
    beside = write_effects(tmp_path / "uncertainty", places=("bradford",))
    found = find_uncertainty(tmp_path / "results", pairs, None, "baseline")
    assert found is not None and found.folder == beside
    assert find_uncertainty(tmp_path / "results", pairs | {("leeds", "scale")}, None,
                            "baseline") is None, "a different sweep's strategies: not used"
    with pytest.raises(InputError, match="which this sweep does not compare"):
        read_uncertainty(beside, {("bradford", "scale")}, None, "baseline")
    (beside / "manifest.json").write_text('{"spec_sha256": "abc"}')
    with pytest.raises(InputError, match="made from another sweep file"):
        read_uncertainty(beside, pairs, "def", "baseline")
    same = read_uncertainty(beside, pairs, "abc", "baseline")
    assert same.cited_file == beside / "manifest.json"
    shutil.rmtree(beside)
    assert find_uncertainty(tmp_path / "results", pairs, None, "baseline") is None
