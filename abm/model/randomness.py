"""Random numbers keyed by (run seed, process, week): common random numbers for every stream.

Each process that draws (shocks, engagement choices, referral, admission to full groups, the
places cut when a grant ends, provider closures and foundings, bid scoring) has its own
stream, and each week of each stream is a fresh generator seeded by
``SeedSequence(seed, spawn_key=(stream, week))``. Within a week, the *k*-th value serves
item *k* (resident *k* or provider slot *k*): :meth:`Streams.uniforms` returns the first *n*
values, so item *k* sees the same number however many items are drawn for.

Two runs with the same seed and different commissioning rules therefore give every resident
and every provider slot the same draw for a given (stream, week), whatever the other rule
drew before: a rule that founds more providers, scores more bids or cuts more places shifts
no one else's numbers. Their difference is the policy, not luck (``tests/model/test_randomness.py``
holds the A/A test).

Normal and exponential variates are made from those uniforms by their inverse distribution
functions, so they keep the one-value-per-item alignment.

**Cost.** Building ``SeedSequence`` and ``PCG64`` objects costs about 20 microseconds a
generator (the seed's hashing alone 17), against 11 to draw 3,000 values: at workshop size
it was most of what the streams cost. :func:`seed_words` does numpy's ``SeedSequence``
hashing for many keys at once, exactly, so a run works out the words of every stream for 64
weeks in one go and each generator is built from its four words (about 2 microseconds);
every value drawn is unchanged (``tests/model/test_randomness.py`` checks the words and the
draws against numpy's own ``SeedSequence`` and ``PCG64``).

**Replicates.** :class:`ReplicateStreams` draws for R runs of different seeds at once: its
``uniforms`` are the concatenation, replicate by replicate, of what each seed's run alone
draws (the layout of an engine that concatenates the residents of R replicates).
:meth:`ReplicateStreams.words` gives every replicate's seed words of a (stream, week), from
which the compiled engine draws all replicates in one call (``abm.model.kernels.pcg64_fill``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence
from scipy.special import ndtri

from abm.files.errors import InputError, shown

#: Stream names and their keys. Append new streams at the end: reordering changes results.
STREAM_NAMES = (
    "setup",  # population, place layout, ties and where the first providers are (drawn once)
    "shocks",  # life shocks: one per resident per week
    "engagement",  # start, drop-out and provider choice: one per resident per week
    "referral",  # link-worker referral and follow-up: one per resident per week
    "admission",  # priority for a place at a full group: one per resident per week
    "cuts",  # who keeps a place when a group cuts sessions: one per resident per week
    "closures",  # closures for reasons other than money: one per provider slot per week
    "founding",  # traits of a newly founded provider (the first ones in week 0): per slot
    "funding",  # chance in how bids are scored: one per provider slot per round
    "scale",  # where the scale rule founds providers: per new provider per round
    "mesa",  # handed to mesa.Model(rng=...) for Mesa's own shuffles (no model rule uses it)
    "ties",  # friends made at groups: one per resident per week
    "develop",  # how many groups community development seeds, and where: per round
)
_KEY = {name: index for index, name in enumerate(STREAM_NAMES)}
#: Largest seed: ``SeedSequence`` takes any whole number >= 0, but results store the seed as
#: a Parquet int64, so a larger one could run and then fail to be written.
MAX_SEED = 2**63 - 1


def seed_problem(seed: object, name: str = "seed") -> str | None:
    """What is wrong with a run seed (None if nothing): a whole number from 0 to 2**63 - 1."""
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer) or not (
            0 <= seed <= MAX_SEED):
        return f"{name} = {shown(seed)}: allowed is a whole number from 0 to 2**63 - 1"
    return None


def check_seed(seed: object) -> int:
    """``seed`` as an int if :func:`seed_problem` finds nothing wrong; else InputError."""
    if (problem := seed_problem(seed)) is not None:
        raise InputError(problem)
    return int(seed)


def seed_from(rng: object) -> int:
    """A run seed from what Mesa users pass as ``rng``: an int, a numpy Generator or a
    SeedSequence (a Generator gives one draw of its own stream)."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, MAX_SEED, endpoint=True))
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(1, np.uint64)[0] >> np.uint64(1))
    return check_seed(rng)


#: Weeks whose seed words a run works out at once, for all streams (a block).
WEEK_BLOCK = 64

# numpy's SeedSequence (numpy/random/bit_generator.pyx, stable across numpy versions by
# numpy's policy on reproducibility): its hash constants, and the multipliers that mix the
# pool. The hash constant advances by the same multiplication at every use, whatever the
# data, so its successive values are fixed and are worked out once here.
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = np.uint32(0xCA01F9DD), np.uint32(0x4973F715)
_POOL = 4  # SeedSequence's default pool size, in 32-bit words
_U32 = np.uint32


def _hash_constants(count: int, start: int, multiplier: int) -> np.ndarray:
    """The hash constant before each of ``count`` uses and after the last (uint32)."""
    out = [start]
    for _ in range(count):
        out.append(out[-1] * multiplier & 0xFFFFFFFF)
    return np.array(out, dtype=np.uint32)


#: Entropy words of a key (seed low, seed high, two zeros of padding, stream, week): the
#: pool takes 4 + 12 + 8 uses of the constant; generate_state(4, uint64) 8 more.
_HASH_A = _hash_constants(4 + 12 + 8, _INIT_A, _MULT_A)
_HASH_B = _hash_constants(2 * 4, _INIT_B, _MULT_B)


def _hashmix(value: np.ndarray, use: int) -> np.ndarray:
    value = (value ^ _HASH_A[use]) * _HASH_A[use + 1]
    return value ^ (value >> _U32(16))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = _MIX_MULT_L * x - _MIX_MULT_R * y
    return result ^ (result >> _U32(16))


@np.errstate(over="ignore")  # the hash multiplies modulo 2**32 on purpose
def seed_words(seed: int | np.ndarray, stream: int | np.ndarray,
               week: int | np.ndarray) -> np.ndarray:
    """``SeedSequence(seed, spawn_key=(stream, week)).generate_state(4, np.uint64)`` for
    every key at once (the arguments broadcast): shape (..., 4), uint64. Exact for seeds
    0..2**63 - 1, streams and weeks 0..2**32 - 1 (each one 32-bit word of entropy, as numpy
    splits them); these are the words ``PCG64`` seeds itself from."""
    seed = np.asarray(seed, dtype=np.uint64)
    stream, week = np.asarray(stream, dtype=np.int64), np.asarray(week, dtype=np.int64)
    for name, key in (("stream", stream), ("week", week)):
        if (key < 0).any() or (key >= 2**32).any():
            raise ValueError(f"seed_words: {name} must be 0..2**32 - 1")
    # The run's entropy (one 32-bit word for a seed below 2**32, else two; numpy pads the
    # run's words with zeros to the pool size when there is a spawn key) fills the pool and
    # is mixed in it: this depends on the seed alone, so it is done per seed.
    zero = np.zeros(seed.shape, dtype=_U32)
    run = [(seed & np.uint64(0xFFFFFFFF)).astype(_U32), (seed >> np.uint64(32)).astype(_U32),
           zero, zero]
    pool = [_hashmix(run[i], i) for i in range(_POOL)]
    use = _POOL
    for src in range(_POOL):  # every pool word mixed into every other
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], use))
                use += 1
    # The key's words, stream then week, are mixed into each pool word.
    shape = np.broadcast_shapes(seed.shape, stream.shape, week.shape)
    pool = [np.broadcast_to(word, shape) for word in pool]
    for key in (stream.astype(_U32), week.astype(_U32)):
        for dst in range(_POOL):
            pool[dst] = _mix(pool[dst], _hashmix(key, use))
            use += 1
    out = np.empty((*shape, 4), dtype=np.uint64)
    for i in range(2 * 4):  # generate_state: 8 words of 32 bits, read as 4 of 64
        value = (pool[i % _POOL] ^ _HASH_B[i]) * _HASH_B[i + 1]
        value = (value ^ (value >> _U32(16))).astype(np.uint64)
        if i % 2 == 0:
            out[..., i // 2] = value
        else:
            out[..., i // 2] |= value << np.uint64(32)
    return out


class _KeyedSeed(ISpawnableSeedSequence):
    """What ``PCG64`` reads of ``SeedSequence(seed, spawn_key=(stream, week))``, its four
    words, given already worked out; anything else is asked of the real SeedSequence (made
    when first needed), so the generator behaves as one built the usual way."""

    def __init__(self, words: np.ndarray, key: tuple[int, int, int]):
        self._words, self.key, self._sequence = words, key, None

    @property
    def sequence(self) -> np.random.SeedSequence:
        if self._sequence is None:
            seed, stream, week = self.key
            self._sequence = np.random.SeedSequence(seed, spawn_key=(stream, week))
        return self._sequence

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words == 4 and (dtype is np.uint64 or np.dtype(dtype) == np.uint64):
            return self._words.copy()
        return self.sequence.generate_state(n_words, dtype)

    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:
        return self.sequence.spawn(n_children)

    def __reduce__(self):
        return _KeyedSeed, (self._words, self.key)


class Streams:
    """The random streams of one run, keyed by (stream, week)."""

    def __init__(self, seed: int):
        self.seed = check_seed(seed)
        #: Seed words per block of :data:`WEEK_BLOCK` weeks: (stream, week in block, 4).
        self._words: dict[int, np.ndarray] = {}
        #: The setup stream: drawn from in order while the model is built.
        self.setup = self.generator("setup", 0)
        #: Handed to ``mesa.Model(rng=...)``.
        self.mesa = self.generator("mesa", 0)

    def words(self, stream: str, week: int) -> np.ndarray:
        """The four seed words of ``stream`` in ``week`` (see :func:`seed_words`)."""
        block, offset = divmod(week, WEEK_BLOCK)
        table = self._words.get(block)
        if table is None:
            weeks = block * WEEK_BLOCK + np.arange(WEEK_BLOCK)
            table = self._words[block] = seed_words(
                self.seed, np.arange(len(STREAM_NAMES))[:, None], weeks[None, :])
        return table[_KEY[stream], offset]

    def generator(self, stream: str, week: int) -> np.random.Generator:
        """A fresh generator for ``stream`` in ``week`` (the same one every time it is asked):
        ``PCG64(SeedSequence(seed, spawn_key=(stream, week)))``."""
        key, week = _KEY[stream], int(week)
        if not 0 <= week < 2**32:  # outside what seed_words covers: numpy's own route
            return np.random.Generator(np.random.PCG64(
                np.random.SeedSequence(self.seed, spawn_key=(key, week))))
        words = self.words(stream, week)
        return np.random.Generator(np.random.PCG64(_KeyedSeed(words, (self.seed, key, week))))

    def uniforms(self, stream: str, week: int, n: int, per_item: int = 1) -> np.ndarray:
        """``U(0, 1)`` draws for items 0..n-1 of ``stream`` in ``week``: shape (n,), or
        (n, per_item) when each item needs several. Item k's values do not depend on n."""
        values = self.generator(stream, week).random(n * per_item)
        return values if per_item == 1 else values.reshape(n, per_item)


class ReplicateStreams:
    """The streams of R runs with their own seeds (one :class:`Streams` each), drawn together.

    Replicate r's draws are exactly those of its own :class:`Streams`: :meth:`uniforms`
    returns them concatenated replicate after replicate, the layout of an engine whose arrays
    hold the residents (or provider slots) of all replicates one replicate after another.
    :meth:`words` gives every replicate's seed words, from which a compiled kernel draws all
    of them in one call (``abm.model.kernels.pcg64_fill``).
    """

    def __init__(self, streams: Sequence[Streams]):
        self.replicates = list(streams)
        #: Seed words per block of :data:`WEEK_BLOCK` weeks: (stream, week in block, R, 4).
        self._words: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.replicates)

    def uniforms(self, stream: str, week: int, count: int, per_item: int = 1) -> np.ndarray:
        """``U(0, 1)`` draws for items 0..count-1 of every replicate, concatenated: shape
        (R x count,), or (R x count, per_item); replicate r's rows equal its
        ``Streams.uniforms(stream, week, count, per_item)``."""
        out = np.empty(len(self) * count * per_item)
        for r, streams in enumerate(self.replicates):
            block = out[r * count * per_item:(r + 1) * count * per_item]
            streams.generator(stream, week).random(out=block)
        return out if per_item == 1 else out.reshape(-1, per_item)

    def words(self, stream: str, week: int) -> np.ndarray:
        """Every replicate's four seed words of ``stream`` in ``week``, shape (R, 4)
        (contiguous; see :func:`seed_words`)."""
        block, offset = divmod(int(week), WEEK_BLOCK)
        table = self._words.get(block)
        if table is None:
            seeds = np.array([s.seed for s in self.replicates], dtype=np.uint64)
            weeks = block * WEEK_BLOCK + np.arange(WEEK_BLOCK)
            words = seed_words(seeds[:, None, None], np.arange(len(STREAM_NAMES))[:, None],
                               weeks[None, :])  # (R, stream, week, 4)
            table = self._words[block] = np.ascontiguousarray(words.transpose(1, 2, 0, 3))
        return table[_KEY[stream], offset]


def normal(u: np.ndarray, mean: float | np.ndarray, sd: float | np.ndarray) -> np.ndarray:
    """Normal variates from uniforms (inverse distribution function)."""
    return mean + sd * ndtri(u)


def exponential(u: np.ndarray, mean: float | np.ndarray) -> np.ndarray:
    """Exponential variates with the given mean from uniforms."""
    return -np.log1p(-u) * mean
