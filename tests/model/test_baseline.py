"""Pinned baseline: small runs must reproduce the stored summaries exactly.

A failure means results changed. If that was intended, regenerate with
``python -m tests.make_baseline --why "..."`` and commit the new baseline with the reason.
"""

import json
import math

import pytest

from tests.make_baseline import PATH, RUNS, summaries

#: Relative tolerance: bit-for-bit on one machine; allows last-digit noise across CPUs.
RTOL = 1e-9


@pytest.fixture(scope="module")
def pinned():
    return json.loads(PATH.read_text(encoding="utf-8"))


def test_baseline_covers_the_runs(pinned):
    assert pinned["runs"] == RUNS
    assert pinned["why"].strip()


@pytest.mark.parametrize("engine", ["fast", "numpy"])
def test_summaries_match_the_pinned_baseline(pinned, engine, monkeypatch):
    """On both array engines: the compiled one (the default) and numpy."""
    monkeypatch.setenv("ABM_ENGINE", engine)
    for now, then in zip(summaries(), pinned["summaries"], strict=True):
        assert now.keys() == then.keys(), "outcome columns changed"
        for key, value in then.items():
            if isinstance(value, float):
                same = (math.isnan(value) and math.isnan(now[key])) or math.isclose(
                    now[key], value, rel_tol=RTOL, abs_tol=1e-12)
                assert same, f"{then['place']}/{then['rules']}: {key} {now[key]!r} != {value!r}"
            elif key != "model_version":
                assert now[key] == value, key
