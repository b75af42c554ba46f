"""The parameter declaration: complete, self-consistent, and strict about bad values."""

import math

import numpy as np
import pytest

from abm.files.errors import InputError
from abm.model.parameters import (
    BY_NAME,
    CONSTRAINTS,
    PARAMETERS,
    WORKSHOP_GROUPS,
    ParameterError,
    Params,
    defaults,
    from_unit,
    problems,
    sampled,
)


def test_every_parameter_is_fully_declared():
    for p in PARAMETERS:
        assert p.type in (int, float), p.name
        assert isinstance(p.default, p.type) and not isinstance(p.default, bool), p.name
        assert p.low <= p.default <= p.high, f"{p.name} default outside its range"
        for field in ("unit", "meaning", "source", "group", "label"):
            assert getattr(p, field).strip(), f"{p.name} has no {field}"
        assert p.source.startswith(("setting", "assumption", "calibrated")) or any(
            word in p.source for word in ("(", "20")
        ), f"{p.name}: source must cite something or say setting/assumption/calibrated"
        if p.source.startswith("setting"):
            assert not p.sampled, f"{p.name}: a setting is not sampled"
        else:
            assert p.sampled, f"{p.name}: an uncertain value needs a plausible range"
        if p.sampled:
            assert p.low <= p.plausible_low < p.plausible_high <= p.high, p.name
            assert p.plausible_low <= p.default <= p.plausible_high, (
                f"{p.name}: default outside its plausible range")
            assert isinstance(p.plausible_low, p.type) and isinstance(p.plausible_high, p.type)
        assert p.workshop in (None, *WORKSHOP_GROUPS), p.name


def test_names_are_unique_and_identifiers():
    assert len(BY_NAME) == len(PARAMETERS)
    assert all(name.isidentifier() for name in BY_NAME)


def test_defaults_make_a_valid_set():
    params = Params()
    assert dict(params) == defaults()
    assert params.uptake_rate == BY_NAME["uptake_rate"].default


def test_unknown_name_is_rejected_with_a_suggestion():
    with pytest.raises(ParameterError) as caught:
        Params({"uptake_rat": 0.1})
    message = str(caught.value)
    assert "unknown parameter 'uptake_rat'" in message
    assert "did you mean 'uptake_rate'" in message
    assert isinstance(caught.value, InputError)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("uptake_rate", 1.5, "out of range: allowed is a number from 0 to 1 (per week)"),
        ("uptake_rate", -0.1, "out of range"),
        ("uptake_rate", "0.1", "wrong type"),
        ("uptake_rate", True, "wrong type"),
        ("n_neighbourhoods", 12.5, "allowed is a whole number from 10 to 20,000"),
        ("n_neighbourhoods", 5, "out of range"),
    ],
)
def test_bad_values_name_parameter_value_and_what_is_allowed(name, value, fragment):
    with pytest.raises(ParameterError) as caught:
        Params({name: value})
    (problem,) = caught.value.problems
    assert f"'{name}'" in problem and repr(value) in problem and fragment in problem
    assert "\n" not in problem


def test_ints_are_accepted_for_floats_and_stored_as_floats():
    params = Params({"uptake_rate": 0})
    assert params.uptake_rate == 0.0 and isinstance(params.uptake_rate, float)


def test_all_problems_are_reported_together():
    found = problems({"uptake_rate": 2.0, "nonsense": 1, "n_neighbourhoods": "x"})
    assert len(found) == 3


def test_awareness_gains_cannot_exceed_one():
    with pytest.raises(ParameterError, match="exceed 1: awareness could otherwise exceed 1"):
        Params({"outreach_awareness_rate": 0.6, "social_awareness_rate": 0.5})


def test_params_are_read_only_and_replace_validates():
    params = Params({"shock_rate": 0.01})
    with pytest.raises(AttributeError):
        params.shock_rate = 0.02
    assert params.replace(shock_rate=0.02).shock_rate == 0.02
    assert params.overridden() == {"shock_rate": 0.01}
    with pytest.raises(ParameterError):
        params.replace(shock_rate=math.inf)


@pytest.mark.parametrize("value", [np.int64(3), np.int32(3), 3.0, np.float64(3.0)])
def test_whole_numbers_in_any_form_are_accepted_for_integer_parameters(value):
    params = Params({"grant_years": value})
    assert params.grant_years == 3 and type(params.grant_years) is int


@pytest.mark.parametrize("value", [3.5, np.float64(2.5), np.bool_(True), math.nan])
def test_non_whole_or_non_numbers_are_refused_for_integer_parameters(value):
    with pytest.raises(ParameterError, match="wrong type"):
        Params({"grant_years": value})


def test_numpy_floats_are_stored_as_python_floats():
    params = Params({"uptake_rate": np.float32(0.02)})
    assert type(params.uptake_rate) is float


def test_constraints_are_declared_for_samplers_and_enforced():
    names = {name for c in CONSTRAINTS for name in c.names}
    assert {"embed_budget_share", "scale_budget_share"} <= names
    budget = next(c for c in CONSTRAINTS if "scale_budget_share" in c.names)
    assert budget.holds({"embed_budget_share": 0.4, "scale_budget_share": 0.4,
                         "develop_budget_share": 0.2})
    assert not budget.holds({"embed_budget_share": 0.6, "scale_budget_share": 0.3})
    assert "<= 1" in budget.describe()
    with pytest.raises(ParameterError, match="exceed 1"):
        Params({"embed_budget_share": 0.6, "scale_budget_share": 0.5})


def test_sampling_space_comes_from_the_declaration():
    space = sampled()
    assert all(p.sampled for p in space) and len(space) > 40
    assert "n_neighbourhoods" not in {p.name for p in space}, "run size is not sampled"
    with pytest.raises(ParameterError, match="setting"):
        sampled(["n_neighbourhoods"])
    grant = BY_NAME["core_grant_years"]
    assert {from_unit(grant, u) for u in np.linspace(0, 0.999, 50)} == {2, 3, 4, 5}
    uptake = BY_NAME["uptake_rate"]
    assert from_unit(uptake, 0.0) == uptake.plausible_low
    assert from_unit(uptake, 0.5) == pytest.approx((uptake.plausible_low
                                                    + uptake.plausible_high) / 2)


def test_calibrated_defaults_are_the_shipped_calibration():
    # The baseline (and so every shipped scenario) extends scenarios/calibrated/main.yaml; the
    # declaration's defaults must say the same, marked with that calibration's id, so a
    # model built without a scenario file is the calibrated model too.
    from abm.model.scenarios import load_scenario, scenarios_dir

    calibrated = load_scenario(scenarios_dir() / "calibrated" / "main.yaml")
    cal_id = calibrated.description.split("calibrated by ")[1].split(";")[0]
    assert calibrated.parameters, "the calibrated file sets no parameters"
    for name, value in calibrated.parameters.items():
        assert BY_NAME[name].default == value, f"{name}: declaration and calibration differ"
        assert BY_NAME[name].source.startswith(f"calibrated: {cal_id} "), name
    marked = {p.name for p in PARAMETERS if p.source.startswith("calibrated")}
    assert marked == set(calibrated.parameters), "marked calibrated but not in the file"
    assert "calibrated/main" in load_scenario("baseline").chain


def test_the_declaration_is_what_shipping_the_calibration_writes():
    # `python -m calibration.ship` wrote the calibrated defaults and sources: writing them
    # again from the shipped outputs changes nothing, so no default was edited by hand.
    import json
    from pathlib import Path

    from abm.model.scenarios import load_scenario
    from calibration.ship import rewrite_defaults

    root = Path(__file__).resolve().parents[2]
    text = (root / "abm" / "model" / "parameters.py").read_text(encoding="utf-8")
    summary = json.loads((root / "calibration/calibrated/main/calibration.json").read_text())
    values = dict(load_scenario(root / "scenarios/calibrated/main.yaml").parameters)
    assert rewrite_defaults(text, values, summary["sources"]) == text


def test_shipping_a_folder_that_is_not_a_calibration_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "calibration.ship", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not a finished calibration" in result.stderr


def test_shipping_a_calibration_removes_the_outputs_of_the_one_it_replaces(tmp_path):
    """A calibration without ABC generations (abc.kernel: gaussian) shipped over one with
    them leaves no abc_generations.csv of the old one beside it."""
    import shutil
    from pathlib import Path

    from calibration.ship import ship

    root = Path(__file__).resolve().parents[2]
    shipped = root / "calibration" / "calibrated" / "main"
    folder = tmp_path / "new"
    shutil.copytree(shipped, folder)
    (folder / "abc_generations.csv").unlink(missing_ok=True)
    fake_root = tmp_path / "root"
    (fake_root / "abm" / "model").mkdir(parents=True)
    shutil.copy(root / "abm" / "model" / "parameters.py", fake_root / "abm" / "model")
    shutil.copytree(shipped, fake_root / "calibration" / "calibrated" / "main")
    old = fake_root / "calibration" / "calibrated" / "main" / "abc_generations.csv"
    old.write_text("generation,epsilon,particles\n0,2.5,1000\n", encoding="utf-8")
    assert ship(folder, fake_root) == 19
    target = fake_root / "calibration" / "calibrated" / "main"
    assert not (target / "abc_generations.csv").exists()
    assert (target / "abc_stop.json").read_bytes() == (folder / "abc_stop.json").read_bytes()


def test_levers_are_what_a_commissioner_chooses():
    """Money, the rules' budget shares, targeting and grant lengths are levers; run sizes,
    valuation settings and how people behave are not."""
    from abm.model.parameters import levers

    names = {p.name for p in levers()}
    assert {"budget_gbp_per_head", "budget_uplift", "embed_budget_share", "scale_budget_share",
            "pu_weight", "core_grant_years", "grant_years"} <= names
    assert all(BY_NAME[n].group == "commissioning" or BY_NAME[n].workshop == "Link workers"
               for n in names)
    assert not names & {"n_neighbourhoods", "wellby_value_gbp", "uptake_rate", "shock_rate"}
