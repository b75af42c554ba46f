"""Many places at once: effects per 1,000 residents, ranks, the features beside them, and the
plain sentences on where each strategy does most, on hand-made runs and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abm.analysis import national
from abm.model.places import load_place

#: Real ICB place files, from the least to the most deprived (Core20 share of LSOAs).
PLACES = ["nhs_surrey_heartlands_icb", "nhs_devon_icb", "nhs_greater_manchester_icb",
          "nhs_black_country_icb", "nhs_birmingham_solihull_icb"]


def _runs(v3: bool = True, n_residents: int = 20_000) -> pd.DataFrame:
    """Status-quo rows of each place, two seeds: population and its Core20 share from the
    place file, providers rising with the Core20 share."""
    rows = []
    for k, place in enumerate(PLACES):
        info = load_place(place)
        for seed in (1, 2):
            row = {"place": place, "scenario": "baseline", "point": 0, "seed": seed,
                   "run_id": f"{place}-{seed}", "population": info.population,
                   "population_q1": info.population * info.core20_share,
                   "n_residents": n_residents, "n_open_providers": 2.0 * info.population / 1000
                   * (1 + 0.1 * k + 0.01 * seed)}
            if v3:
                row["share_providers_q1"] = 0.5 * info.core20_share
            rows.append(row)
    return pd.DataFrame(rows)


def _table(gap_of) -> pd.DataFrame:
    """A comparison table: 'sustain' changes the gap by ``gap_of(place)`` (interval +-0.001)
    and gains 1,000 discounted WELLBYs per 100,000 residents (interval +-10%)."""
    rows = [{"place": p, "scenario": "baseline", "point": 0, "n_seeds": 2} for p in PLACES]
    for place in PLACES:
        gap, wellbys = gap_of(place), load_place(place).population / 100
        rows.append({"place": place, "scenario": "sustain", "point": 0, "n_seeds": 2,
                     "delta_gap_q5_q1": gap, "delta_gap_q5_q1_lo": gap - 0.001,
                     "delta_gap_q5_q1_hi": gap + 0.001, "wellby_gain_disc": wellbys,
                     "wellby_gain_disc_lo": 0.9 * wellbys, "wellby_gain_disc_hi": 1.1 * wellbys})
    return pd.DataFrame(rows)


def _narrows_with_deprivation(place: str) -> float:
    return -0.01 * load_place(place).core20_share


def test_wellbys_are_per_1000_residents_and_ranks_run_from_the_most_narrowing():
    frame = national.national_frame(_runs(), _table(_narrows_with_deprivation), "baseline")
    assert list(frame.strategy.unique()) == ["sustain"]
    assert np.allclose(frame.wellbys_per_1000, 10.0)  # 1,000 per 100,000 residents
    assert np.allclose(frame.wellbys_per_1000_lo, 9.0)
    assert np.allclose(frame.wellbys_per_1000_hi, 11.0)
    assert list(frame.place) == PLACES[::-1]  # most deprived narrows most: rank 1 first
    assert list(frame.gap_rank) == [1, 2, 3, 4, 5]
    assert frame.set_index("place").core20_share["nhs_devon_icb"] == pytest.approx(
        load_place("nhs_devon_icb").core20_share)


def test_core20_share_of_providers_against_residents_only_with_v3_columns():
    with_v3 = national.place_features(_runs(), "baseline")
    assert with_v3.core20_provider_ratio.to_numpy() == pytest.approx(0.5)
    without = national.place_features(_runs(v3=False), "baseline")
    assert "core20_provider_ratio" not in without
    frame = national.national_frame(_runs(v3=False), _table(_narrows_with_deprivation),
                                    "baseline")
    assert "core20_provider_ratio" not in set(national.associations(frame).feature)


def test_a_strategy_that_narrows_more_where_deprivation_is_higher_is_said_to():
    frame = national.national_frame(_runs(), _table(_narrows_with_deprivation), "baseline")
    links = national.associations(frame)
    core20 = links[links.feature == "core20_share"].iloc[0]
    assert core20.rho == pytest.approx(-1.0) and core20.p < national.CLEAR_P
    text = " ".join(national.sentences(frame, links))
    assert "Sustain does most for the gap in NHS Birmingham and Solihull ICB" in text
    assert "narrows the gap more (or widens it less) where the Core20 share" in text
    assert "is higher (Spearman rho -1.00" in text
    # Surrey Heartlands (Core20 0.8%) changes by -0.00008 +- 0.001: not clearly.
    assert "It clearly narrowed the gap in 4 of 5 places and clearly widened it in 0" in text
    assert "intervals do not overlap" in text


def test_no_pattern_is_called_unclear():
    noise = dict(zip(PLACES, [0.0004, -0.0003, 0.0002, -0.0001, 0.0003], strict=True))
    frame = national.national_frame(_runs(), _table(noise.get), "baseline")
    links = national.associations(frame)
    assert (links.p >= national.CLEAR_P).all()
    text = " ".join(national.sentences(frame, links))
    assert "effect on the gap is not clearly related to" in text
    assert "the ranking is not clear" in text


def test_places_with_few_simulated_core20_residents_get_a_caution():
    frame = national.national_frame(_runs(n_residents=5_000), _table(_narrows_with_deprivation),
                                    "baseline")
    caution = [s for s in national.sentences(frame, national.associations(frame))
               if s.startswith("Caution")]
    # Surrey Heartlands: 0.8% of 5,000 = 40 simulated Core20 residents; Devon 12%: 600.
    assert len(caution) == 1 and "NHS Surrey Heartlands ICB" in caution[0]
    assert "NHS Devon ICB" not in caution[0]


def test_display_table_rounds_to_the_interval(tmp_path):
    frame = national.national_frame(_runs(), _table(_narrows_with_deprivation), "baseline")
    shown = national.display_table(frame)
    assert list(shown["Rank (gap)"]) == [1, 2, 3, 4, 5]
    gap = _narrows_with_deprivation("nhs_birmingham_solihull_icb")  # interval +-0.001: 4 dp
    assert shown["Change in q5-q1 gap (points)"].iloc[0] == (
        f"{gap:+.4f} [{gap - 0.001:+.4f}, {gap + 0.001:+.4f}]")
    assert shown["WELLBYs per 1,000 residents"].iloc[0] == "+10.0 [+9.0, +11.0]"
    drawn = national.figure(frame)
    assert drawn["png"][:4] == b"\x89PNG" and drawn["svg"].lstrip().startswith(b"<?xml")


def test_a_sweep_is_ranked_from_three_places():
    runs = _runs()
    assert national.is_many_places(runs)
    assert not national.is_many_places(runs[runs.place.isin(PLACES[:2])])


def test_a_place_without_core20_neighbourhoods_has_no_gap_rank():
    """A small model may give a place with few Core20 LSOAs no Core20 neighbourhood: its gap
    is NaN, it is left out of the gap's ranks and the sentences say why."""
    gaps = {p: _narrows_with_deprivation(p) for p in PLACES}
    gaps["nhs_surrey_heartlands_icb"] = float("nan")
    frame = national.national_frame(_runs(), _table(gaps.get), "baseline")
    ranks = frame.set_index("place").gap_rank
    assert pd.isna(ranks["nhs_surrey_heartlands_icb"])
    assert sorted(ranks.dropna()) == [1, 2, 3, 4]
    shown = national.display_table(frame)
    assert shown.loc[frame.place == "nhs_surrey_heartlands_icb", "Rank (gap)"].item() == "n/a"
    text = " ".join(national.sentences(frame, national.associations(frame)))
    assert "NHS Surrey Heartlands ICB (Core20 0.8%) had no simulated neighbourhood" in text
    assert "clearly narrowed the gap in 4 of 4 places" in text
