"""Every shipped spec of calibration/specs validates and fits the default cap on runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from calibration import calibrate, recovery, sensitivity
from calibration.spec import load_calibration_spec, load_sensitivity_spec

SPECS = sorted((Path(__file__).resolve().parents[2] / "calibration" / "specs").rglob("*.yaml"))


def kind(path: Path) -> str:
    keys = set(yaml.safe_load(path.read_text(encoding="utf-8")))
    if "truths" in keys:
        return "recovery"
    if keys & {"morris", "sobol"}:
        return "sensitivity"
    if "scenarios" in keys:
        return "sweep"
    return "calibration"


def test_every_kind_of_spec_is_shipped():
    assert {kind(p) for p in SPECS} == {"calibration", "sensitivity", "recovery", "sweep"}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_a_shipped_spec_validates_and_counts_its_runs_within_the_cap(path):
    if kind(path) == "calibration":
        spec = load_calibration_spec(path)
        assert 0 < calibrate.count_runs(spec) <= 100_000
        assert spec.checks["ppc_seeds"] >= 1
    elif kind(path) == "sensitivity":
        assert 0 < sensitivity.count_runs(load_sensitivity_spec(path)) <= 100_000
    elif kind(path) == "recovery":
        spec = recovery.load_recovery_spec(path)
        assert 0 < recovery.count_recovery_runs(spec) <= 100_000
        assert len(spec.truths) >= 2 and set(spec.pinned) <= set(spec.calibration.space.names)
    else:
        from experiments.spec import load_sweep

        load_sweep(path)
