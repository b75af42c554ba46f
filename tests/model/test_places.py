"""Synthetic neighbourhoods: decile shares reproduced exactly, clustered, reachable by distance."""

import numpy as np
import pytest

from abm.model.parameters import Params
from abm.model.places import decile_counts, load_place, place_names, synthesise


@pytest.mark.parametrize("n", [10, 37, 200, 707])
def test_decile_counts_sum_to_n_and_track_shares(n):
    shares = load_place("devon_county").imd_decile_shares
    counts = decile_counts(shares, n)
    assert counts.sum() == n
    # Largest remainder: every count within one of its exact share.
    assert np.all(np.abs(counts - np.asarray(shares) / sum(shares) * n) < 1)


@pytest.mark.parametrize("name", place_names())
def test_neighbourhoods_match_the_place(name):
    place = load_place(name)
    params = Params({"n_neighbourhoods": 400})
    hoods = synthesise(place, params, np.random.default_rng(0))
    assert np.array_equal(np.bincount(hoods.decile, minlength=11)[1:],
                          decile_counts(place.imd_decile_shares, 400))
    assert hoods.rural.sum() == round(place.rural_share * 400)
    assert np.all((hoods.deprivation > 0) & (hoods.deprivation < 1))
    assert np.array_equal(hoods.quintile, (hoods.decile - 1) // 2)


def test_deprivation_clusters_in_space():
    """Neighbours' deciles agree more than random pairs do (deprivation clusters, as in towns)."""
    hoods = synthesise(load_place("west_yorkshire"), Params({"n_neighbourhoods": 900}),
                       np.random.default_rng(1))
    rows, cols = hoods.access.nonzero()
    apart = rows != cols
    neighbour_gap = np.abs(hoods.decile[rows[apart]] - hoods.decile[cols[apart]]).mean()
    shuffled = np.random.default_rng(2).permutation(hoods.decile)
    random_gap = np.abs(hoods.decile[rows[apart]] - shuffled[cols[apart]]).mean()
    assert neighbour_gap < 0.7 * random_gap, (neighbour_gap, random_gap)


def test_access_falls_with_distance_and_rurality():
    params = Params({"n_neighbourhoods": 400})
    hoods = synthesise(load_place("devon_county"), params, np.random.default_rng(3))
    own = hoods.access.diagonal()
    assert own[hoods.rural].max() < own[~hoods.rural].min(), "rural areas are more spread out"
    assert np.allclose(own[~hoods.rural], np.exp(-0.5 * params.urban_spacing_km
                                                 / params.travel_distance_km))
    dense = hoods.access.toarray()
    off = dense - np.diag(own)
    assert off.max() < own.max(), "one's own neighbourhood is the nearest"
    assert np.allclose(dense, dense.T), "access is symmetric between two neighbourhoods"
