"""Shared fixtures: small run sizes, and one local Ray cluster for the whole test session."""

from __future__ import annotations

import pytest

#: A small, fast model: 30 neighbourhoods x 40 residents, one burn-in year.
SMALL = {"n_neighbourhoods": 30, "residents_per_neighbourhood": 40, "burn_in_years": 1}


@pytest.fixture(scope="session")
def ray_cluster():
    """A real local Ray with 2 CPUs, started once (ray.init takes about 5 s) and shared."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR",
             log_to_driver=False)  # a cluster of its own, never one found on the machine
    yield ray
    ray.shutdown()
