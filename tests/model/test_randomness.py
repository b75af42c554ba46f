"""Random streams: reproducible, independent, and common random numbers for every stream."""

import copy
import pickle

import numpy as np
import pytest

from abm import Model
from abm.analysis.compare import compare
from abm.files.errors import InputError
from abm.model.providers import Provider
from abm.model.randomness import (
    STREAM_NAMES,
    WEEK_BLOCK,
    ReplicateStreams,
    Streams,
    check_seed,
    seed_from,
    seed_words,
)
from tests.conftest import SMALL


def test_same_seed_same_streams_and_streams_differ():
    a, b = Streams(7), Streams(7)
    first = [a.uniforms(name, 3, 1)[0] for name in STREAM_NAMES]
    assert first == [b.uniforms(name, 3, 1)[0] for name in STREAM_NAMES]
    assert len(set(first)) == len(first), "streams must not repeat each other"
    assert Streams(8).uniforms("shocks", 3, 1)[0] != first[STREAM_NAMES.index("shocks")]
    assert a.uniforms("shocks", 4, 1)[0] != a.uniforms("shocks", 3, 1)[0], "weeks differ"


@pytest.mark.parametrize("stream", STREAM_NAMES)
def test_an_items_draw_does_not_depend_on_how_many_are_drawn(stream):
    """The heart of common random numbers: item k's value in (stream, week) is the same
    whether 10 or 1,000 items are drawn for (a rule that founds more providers or scores
    more bids shifts nobody else's numbers), also with several values per item."""
    streams = Streams(2024)
    assert np.array_equal(streams.uniforms(stream, 9, 10), streams.uniforms(stream, 9, 1000)[:10])
    assert np.array_equal(streams.uniforms(stream, 9, 10, 3),
                          streams.uniforms(stream, 9, 500, 3)[:10])


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3", 2**63, 2**70])
def test_bad_seeds_are_rejected(seed):
    with pytest.raises(InputError, match="seed"):
        check_seed(seed)


def test_mesa_style_rng_arguments_give_a_seed():
    assert seed_from(np.int64(5)) == 5
    assert seed_from(np.random.default_rng(1)) == seed_from(np.random.default_rng(1))
    assert 0 <= seed_from(np.random.SeedSequence(3)) < 2**63


def test_same_seed_gives_identical_runs():
    a = Model("bradford", "scale+embed", seed=11, parameters=SMALL).run(years=1)
    b = Model("bradford", "scale+embed", seed=11, parameters=SMALL).run(years=1)
    assert a.summary().equals(b.summary())
    assert a.timeseries().equals(b.timeseries())


def test_different_seeds_give_different_runs():
    a = Model("bradford", seed=1, parameters=SMALL).run(years=1).summary()
    b = Model("bradford", seed=2, parameters=SMALL).run(years=1).summary()
    assert a["mean_wellbeing"].iloc[0] != b["mean_wellbeing"].iloc[0]


def test_common_random_numbers_across_policies():
    """Same seed, different rules: same people, identical until the policy starts, then
    the same weekly draws per resident in every stream."""
    base = Model("bradford", "status_quo", seed=5, parameters=SMALL)
    other = Model("bradford", "scale+embed+sustain", seed=5, parameters=SMALL)
    for name in ("deprivation", "capacity", "baseline"):
        assert np.array_equal(getattr(base.resident_state, name),
                              getattr(other.resident_state, name))
    for _ in range(base.burn_in_weeks):
        base.step()
        other.step()
    assert np.array_equal(base.resident_state.wellbeing, other.resident_state.wellbeing), (
        "the burn-in runs the status quo for every scenario, so runs must match until it ends")
    base.run(years=1)
    other.run(years=1)
    assert not np.array_equal(base.resident_state.wellbeing, other.resident_state.wellbeing)
    for stream in STREAM_NAMES:
        assert np.array_equal(base.streams.uniforms(stream, base.week, 50),
                              other.streams.uniforms(stream, other.week, 50))


def with_phantom_slot(seed):
    """A status-quo run whose provider arrays hold one more slot that never opens: a change
    that alters how many values the slot-indexed streams (founding, funding, closures) are
    asked for every week, and nothing else."""
    model = Model("west_yorkshire", "status_quo", seed, SMALL)
    (phantom,) = model.provider_state.add_slots(0, np.array([0], dtype=np.int32))
    Provider(model, int(phantom))
    return model.run(years=3)


def test_a_a_paired_difference_is_zero_when_only_the_number_of_draws_changes():
    """A/A test: status quo against itself with the streams asked for one more value each
    week. With draws keyed by (stream, week, item) the pair is identical, so the paired SD
    of WELLBYs and of q1 uptake is exactly zero (it was 2.6k WELLBYs and 0.0037 in q1
    uptake in model v1, whose streams shifted)."""
    gains, uptake = [], []
    for seed in range(3):
        plain = Model("west_yorkshire", "status_quo", seed, SMALL).run(years=3).summary()
        shifted = with_phantom_slot(seed).summary()
        out = compare(shifted, plain)
        gains.append(out["wellby_gain"])
        uptake.append(out["delta_p_attending_q1"])
    assert gains == [0.0, 0.0, 0.0] and uptake == [0.0, 0.0, 0.0]


def test_the_a_a_test_can_fail_with_streams_that_shift(monkeypatch):
    """The A/A test has power: with one sequential generator per stream (model v1's design),
    the phantom slot's extra draws shift everyone's later numbers and the pair differs."""
    persistent = {}

    def sequential(self, stream, week):
        return persistent.setdefault((self.seed, stream), np.random.default_rng(
            [self.seed, STREAM_NAMES.index(stream)]))

    monkeypatch.setattr(Streams, "generator", sequential)
    plain = Model("west_yorkshire", "status_quo", 0, SMALL).run(years=3).summary()
    persistent.clear()
    shifted = with_phantom_slot(0).summary()
    assert compare(shifted, plain)["wellby_gain"] != 0.0


# --- the seed words worked out in bulk are numpy's own (cheaper generators, same values) -----
EDGE_SEEDS = [0, 1, 2**32 - 1, 2**32, 2**63 - 1, 20261123]


def test_seed_words_are_numpys_seed_sequence_words():
    """``seed_words`` reproduces ``SeedSequence(seed, spawn_key=(stream, week))`` for seeds of
    one and two 32-bit words, every stream, and weeks at and around a block's edges, also
    when worked out for many keys at once (broadcast)."""
    seeds = EDGE_SEEDS + list(np.random.default_rng(0).integers(0, 2**63 - 1, 20))
    weeks = [0, 1, WEEK_BLOCK - 1, WEEK_BLOCK, 5_199, 2**32 - 1]
    table = seed_words(np.array(seeds, dtype=np.uint64)[:, None, None],
                       np.arange(len(STREAM_NAMES))[None, :, None], np.array(weeks)[None, None])
    for i, seed in enumerate(seeds):
        for key in range(len(STREAM_NAMES)):
            for j, week in enumerate(weeks):
                expected = np.random.SeedSequence(int(seed), spawn_key=(key, week)
                                                  ).generate_state(4, np.uint64)
                assert np.array_equal(table[i, key, j], expected), (seed, key, week)
    with pytest.raises(ValueError, match="week"):
        seed_words(1, 0, 2**32)


@pytest.mark.parametrize("seed", EDGE_SEEDS)
def test_generators_draw_what_seed_sequence_and_pcg64_draw(seed):
    """Every stream's generator, built from its words, gives the values of the generator
    built the usual way (the definition of the streams), as does the compiled engine's
    generator seeded from the same words; weeks beyond what the words cover take numpy's
    route."""
    from abm.model.kernels import pcg64_fill

    streams = Streams(seed)
    for key, name in enumerate(STREAM_NAMES):
        for week in (0, 63, 64, 700, 2**32):
            usual = np.random.Generator(np.random.PCG64(
                np.random.SeedSequence(seed, spawn_key=(key, week))))
            ours = streams.generator(name, week)
            assert ours.bit_generator.state == usual.bit_generator.state, (name, week)
            values = usual.random(100)
            assert np.array_equal(streams.uniforms(name, week, 100), values)
            if week < 2**32:
                compiled = np.empty(100)
                pcg64_fill(seed_words(seed, key, week)[None], np.array([100]), compiled)
                assert np.array_equal(compiled, values), (name, week)


def test_a_keyed_generator_copies_pickles_and_spawns_like_one_built_the_usual_way():
    """What else a model does with its generators (the app deep-copies models, Ray pickles
    them, Mesa may spawn): the same values as a generator from a real SeedSequence."""
    streams = Streams(11)
    usual = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        11, spawn_key=(STREAM_NAMES.index("mesa"), 0))))
    for twin in (copy.deepcopy(streams.mesa), pickle.loads(pickle.dumps(streams.mesa))):
        assert np.array_equal(twin.random(5), usual.random(5))
        usual = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            11, spawn_key=(STREAM_NAMES.index("mesa"), 0))))
    child, usual_child = streams.generator("mesa", 0).spawn(1)[0], usual.spawn(1)[0]
    assert np.array_equal(child.random(5), usual_child.random(5))


def test_replicate_streams_are_each_seeds_streams_concatenated():
    """R replicates drawn together: replicate r's block is exactly what the same seed's run
    alone draws, also with several values per item; their seed words give the same values
    in the compiled engine's one call."""
    from abm.model.kernels import pcg64_fill

    seeds = [5, 2**40 + 1, 5, 0, 2**63 - 1]
    replicates = ReplicateStreams([Streams(s) for s in seeds])
    for name in ("shocks", "founding", STREAM_NAMES[-1]):
        for week in (0, 63, 64, 700):
            for count, per_item in ((300, 1), (7, 5), (0, 1)):
                got = replicates.uniforms(name, week, count, per_item)
                alone = [Streams(s).uniforms(name, week, count, per_item) for s in seeds]
                assert np.array_equal(got, np.concatenate(alone))
                out = np.empty(len(seeds) * count * per_item)
                ends = pcg64_fill(replicates.words(name, week),
                                  np.full(len(seeds), count * per_item), out)
                assert np.array_equal(ends, np.arange(1, len(seeds) + 1) * count * per_item)
                assert np.array_equal(out, got.ravel()), (name, week)
