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
"""

from __future__ import annotations

import numpy as np
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


class Streams:
    """The random streams of one run, keyed by (stream, week)."""

    def __init__(self, seed: int):
        self.seed = check_seed(seed)
        #: The setup stream: drawn from in order while the model is built.
        self.setup = self.generator("setup", 0)
        #: Handed to ``mesa.Model(rng=...)``.
        self.mesa = self.generator("mesa", 0)

    def generator(self, stream: str, week: int) -> np.random.Generator:
        """A fresh generator for ``stream`` in ``week`` (the same one every time it is asked)."""
        sequence = np.random.SeedSequence(self.seed, spawn_key=(_KEY[stream], int(week)))
        return np.random.Generator(np.random.PCG64(sequence))

    def uniforms(self, stream: str, week: int, n: int, per_item: int = 1) -> np.ndarray:
        """``U(0, 1)`` draws for items 0..n-1 of ``stream`` in ``week``: shape (n,), or
        (n, per_item) when each item needs several. Item k's values do not depend on n."""
        values = self.generator(stream, week).random(n * per_item)
        return values if per_item == 1 else values.reshape(n, per_item)


def normal(u: np.ndarray, mean: float | np.ndarray, sd: float | np.ndarray) -> np.ndarray:
    """Normal variates from uniforms (inverse distribution function)."""
    return mean + sd * ndtri(u)


def exponential(u: np.ndarray, mean: float | np.ndarray) -> np.ndarray:
    """Exponential variates with the given mean from uniforms."""
    return -np.log1p(-u) * mean
