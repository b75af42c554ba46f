"""Random number streams: one per process, all spawned from the run's SeedSequence.

Each process (shocks, engagement choices, referral, ...) draws from its own generator, so a
change of policy that alters how often one process draws cannot shift the numbers another
process sees. Two runs with the same seed and different commissioning rules therefore face
the same shocks and the same per-resident choice draws: their difference is the policy, not
luck (common random numbers). Streams whose draws are a fixed size every week (``shocks``,
``engagement``, ``referral``) stay aligned resident by resident for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.errors import InputError

#: Stream names in spawn order. Append new streams at the end: reordering changes every result.
STREAM_NAMES = (
    "setup",  # population, places, ties and initial providers
    "shocks",  # life shocks: one uniform per resident per week
    "engagement",  # start and drop-out choices: one uniform per resident per week
    "referral",  # link-worker referral and follow-up: one uniform per resident per week
    "rationing",  # who gets a place when a provider is full
    "providers",  # closures' re-founding delays and re-founded providers' traits
    "funding",  # chance in how bids are scored
    "mesa",  # handed to mesa.Model(rng=...) for Mesa's own shuffles
)


@dataclass(frozen=True)
class Streams:
    """The named generators of one run."""

    seed: int
    setup: np.random.Generator
    shocks: np.random.Generator
    engagement: np.random.Generator
    referral: np.random.Generator
    rationing: np.random.Generator
    providers: np.random.Generator
    funding: np.random.Generator
    mesa: np.random.Generator

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        """Spawn one generator per stream from ``SeedSequence(seed)``."""
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise InputError(f"seed = {seed!r}: allowed is a whole number >= 0")
        children = np.random.SeedSequence(int(seed)).spawn(len(STREAM_NAMES))
        generators = {
            name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(STREAM_NAMES, children, strict=True)
        }
        return cls(seed=int(seed), **generators)
