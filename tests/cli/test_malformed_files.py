"""The malformed-file corpus: each file in ``tests/cli/malformed/`` has one defect, reported
clearly.

Every problem must name the file, the line (where the format gives one), the key, the value
and what is allowed. The table below pins the message of each file; a new file in the corpus
needs a row, so the corpus and the table cannot drift apart. Files in ``malformed/helpers/``
are not cases of their own (the partner of an ``extends`` cycle, a file with three defects).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from abm.cli import main
from abm.files.errors import InputError
from abm.model.places import load_place
from abm.model.scenarios import load_scenario, validate
from experiments.spec import load_sweep

MALFORMED = Path(__file__).resolve().parent / "malformed"
HELPERS = MALFORMED / "helpers"

#: What loads each kind of file, chosen by the prefix of the file's name.
LOADERS = {"scenario": load_scenario, "place": load_place, "sweep": load_sweep}

RULE_NAMES = "develop, embed, proportionate_universalism, scale, status_quo, sustain"
#: Places are too many to list in a problem: it points to the command that lists them.
PLACE_LIST = "see `abm places` for the full list"

#: file -> fragments its one problem must contain (line, key, value, what is allowed).
EXPECTED: dict[str, list[str]] = {
    # --- scenario files -------------------------------------------------------------------
    "scenario_unknown_key.yaml": [
        ":4:", "unknown key 'rule'", "did you mean 'rules'?",
        "allowed are description, extends, parameters, place, rules"],
    "scenario_misspelt_parameter.yaml": [
        ":5:", "unknown parameter 'core_grant_year'", "did you mean 'core_grant_years'?",
        "see `abm parameters`"],
    "scenario_parameter_out_of_range.yaml": [
        ":4:", "parameter 'uptake_rate' = 1.5 is out of range",
        "allowed is a number from 0 to 1 (per week)"],
    "scenario_parameter_string.yaml": [
        ":4:", "parameter 'shock_rate' has the wrong type", "got 'often'",
        "allowed is a number from 0 to 0.2"],
    "scenario_parameter_bool.yaml": [
        ":4:", "parameter 'provider_outreach' has the wrong type", "got True",
        "allowed is a number from 0 to 1"],
    "scenario_parameter_float_for_int.yaml": [
        ":5:", "parameter 'core_grant_years' has the wrong type", "got 2.5",
        "allowed is a whole number from 1 to 10 (years)"],
    "scenario_parameter_nan.yaml": [
        ":4:", "parameter 'uptake_rate' = nan is out of range", "allowed is a number from 0 to 1"],
    "scenario_parameter_infinite.yaml": [
        ":4:", "parameter 'budget_gbp_per_head' = inf is out of range",
        "allowed is a number from 0 to 1000"],
    "scenario_parameters_not_mapping.yaml": [
        ":3:", "'parameters' = ['uptake_rate', 0.02]",
        "allowed is a mapping of parameter names to values"],
    "scenario_budget_shares_exceed_one.yaml": [
        ":4:", "'embed_budget_share' + 'scale_budget_share' + 'develop_budget_share' = 1.25 "
        "exceed 1",
        "at most the whole budget"],
    "scenario_unknown_place.yaml": [
        ":3:", "unknown place 'devon_icb'", "did you mean 'devon_ics'?",
        PLACE_LIST],
    "scenario_unknown_rule.yaml": [
        ":3:", "unknown rule 'sustian'", "did you mean 'sustain'?", f"allowed are {RULE_NAMES}"],
    "scenario_rules_unknown_in_plus_string.yaml": [
        ":3:", "unknown rule 'embd'", "did you mean 'embed'?", f"allowed are {RULE_NAMES}"],
    "scenario_rules_wrong_type.yaml": [
        ":3:", "'rules' = {'scale': True}",
        "allowed is a rule name, names joined by '+' or a list of names"],
    "scenario_extends_missing.yaml": [
        ":3:", "'extends' = 'no_such_scenario': no such scenario",
        str(MALFORMED / "no_such_scenario.yaml")],
    "scenario_extends_not_text.yaml": [
        ":3:", "'extends' = 3", "allowed is the name or path of a scenario file"],
    # The cycle is found while reading the partner, so the problem is on the partner's line 3.
    "scenario_extends_cycle.yaml": [
        f"{HELPERS / 'cycle_partner.yaml'}:3:", "'extends' makes a cycle",
        "scenario_extends_cycle.yaml -> cycle_partner.yaml -> scenario_extends_cycle.yaml"],
    "scenario_description_not_text.yaml": [
        ":2:", "'description' = ['scale', 'embed']", "allowed is text"],
    "scenario_duplicate_key.yaml": [":5:", "key 'rules' appears twice (first on line 3)"],
    "scenario_yaml_syntax.yaml": [
        ":4:", "not valid YAML", "found unexpected end of stream",
        "while scanning a quoted scalar on line 2"],
    "scenario_tab_indent.yaml": [
        ":4:", "not valid YAML", "found character '\\t' that cannot start any token"],
    "scenario_top_level_list.yaml": [
        ":1:", "a scenario must be a mapping",
        "keys such as description, extends, place, rules, parameters"],
    "scenario_impossible_date.yaml": [
        ":2:", "not valid YAML", "'2023-02-30' is not a valid timestamp",
        "put it in quotes if it is text"],
    "scenario_python_tag.yaml": [
        ":2:", "not valid YAML", "could not determine a constructor for the tag",
        "python/object/apply:os.system"],
    "scenario_recursive_alias.yaml": [
        ":3:", "an alias (*name) refers to the mapping or list that holds it"],
    # --- place files ----------------------------------------------------------------------
    "place_shares_not_100.yaml": [
        ":6:", "'imd_decile_shares' sum to 109.9", "allowed is 100 (within 0.5 for rounding)"],
    "place_negative_share.yaml": [
        ":7:", "'imd_decile_shares' decile 1 = -6.4", "allowed is a percentage from 0 to 100"],
    "place_share_text.yaml": [
        ":9:", "'imd_decile_shares' decile 3 = '10.3%'", "allowed is a percentage from 0 to 100"],
    "place_missing_decile.yaml": [
        ":6:", "'imd_decile_shares' is missing decile 10",
        "give a share for each of deciles 1 to 10"],
    "place_unknown_decile.yaml": [
        ":17:", "'imd_decile_shares' has unknown decile 11", "allowed are 1 to 10"],
    "place_missing_source.yaml": [":17:", "'sources' has no source for 'population'"],
    "place_population_not_whole.yaml": [
        ":4:", "'population' = 1200000.5", "allowed is a whole number from 1 to 1,000,000,000"],
    "place_lsoas_zero.yaml": [
        ":3:", "'lsoas' = 0", "allowed is a whole number from 1 to 1,000,000"],
    "place_rural_share_out_of_range.yaml": [
        ":5:", "'rural_share' = 35", "allowed is a number from 0 to 1"],
    # --- sweep files ----------------------------------------------------------------------
    "sweep_missing_seeds.yaml": [
        "missing key 'seeds'", "allowed is a whole number from 1 to 100,000"],
    "sweep_seeds_float.yaml": [
        ":4:", "'seeds' = 2.5", "allowed is a whole number from 1 to 100,000"],
    "sweep_years_zero.yaml": [
        ":5:", "'years' = 0", "allowed is a number from one week (0.0192) to 100"],
    "sweep_unknown_scenario.yaml": [
        ":3:", "scenario 'sustian'", "unknown scenario 'sustian'", "did you mean 'sustain'?",
        "see `abm scenarios`"],
    "sweep_unknown_place.yaml": [
        ":4:", "unknown place 'bradfrod'", "did you mean 'bradford'?",
        PLACE_LIST],
    "sweep_parameters_not_mapping.yaml": [
        ":6:", "'parameters' = 30", "allowed is a mapping of parameter names to values"],
    "sweep_parameters_empty_list.yaml": [
        ":6:", "'parameters' = []", "allowed is a mapping of parameter names to values"],
    "sweep_grid_out_of_range.yaml": [
        ":7:", "grid parameter 'uptake_rate' = 1.5 is out of range",
        "allowed is a number from 0 to 1"],
    "sweep_unknown_sample_method.yaml": [
        ":6:", "sample 'method' = 'random'", "allowed are latin_hypercube, sobol"],
    "sweep_grid_and_sample.yaml": [":8:", "give 'grid' or 'sample', not both"],
}


def _load(path: Path):
    return LOADERS[path.name.split("_", 1)[0]](path)


def test_every_corpus_file_has_a_row_and_every_row_a_file():
    on_disk = {p.name for p in MALFORMED.glob("*.yaml")}
    assert on_disk == set(EXPECTED)
    assert all(name.split("_", 1)[0] in LOADERS for name in on_disk)
    assert len(on_disk) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_gives_one_clear_problem(name):
    path = MALFORMED / name
    with pytest.raises(InputError) as caught:
        _load(path)
    problems = caught.value.problems
    assert len(problems) == 1, problems  # one defect, one problem (not repeated, not lost)
    [problem] = problems
    assert "\n" not in problem and problem.strip() == problem
    # The problem names the file: by path, or (for the extends cycle) by name in the chain.
    assert str(path) in problem or (name == "scenario_extends_cycle.yaml" and name in problem)
    for fragment in EXPECTED[name]:
        assert fragment in problem, f"{fragment!r} not in {problem!r}"
    assert "Traceback" not in problem


def test_the_cycle_is_reported_from_either_end():
    with pytest.raises(InputError) as caught:
        load_scenario(HELPERS / "cycle_partner.yaml")
    [problem] = caught.value.problems
    assert problem.startswith(f"{MALFORMED / 'scenario_extends_cycle.yaml'}:3: ")
    assert "cycle_partner.yaml -> scenario_extends_cycle.yaml -> cycle_partner.yaml" in problem


def test_three_defects_are_reported_at_once():
    path = HELPERS / "three_defects.yaml"
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert len(problems) == 3, problems
    place, rule, parameter = problems
    assert place.startswith(f"{path}:3: unknown place 'devon_icb'")
    assert rule.startswith(f"{path}:4: unknown rule 'sustian'")
    assert parameter.startswith(f"{path}:6: parameter 'uptake_rate' = 1.5 is out of range")
    assert validate([path]) == problems


@pytest.mark.parametrize("name", [
    "scenario_unknown_key.yaml",
    "scenario_parameter_out_of_range.yaml",
    "scenario_yaml_syntax.yaml",
    "scenario_extends_cycle.yaml",
    "scenario_top_level_list.yaml",
])
def test_abm_validate_prints_each_problem_and_exits_2(name, capsys):
    path = MALFORMED / name
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("abm: error: "), err
    assert all(fragment in lines[0] for fragment in EXPECTED[name])
    assert "Traceback" not in err and out == ""


def test_abm_validate_reports_every_problem_of_every_file(capsys):
    files = [HELPERS / "three_defects.yaml", MALFORMED / "scenario_unknown_place.yaml",
             MALFORMED / "scenario_parameter_bool.yaml"]
    assert main(["validate", *map(str, files)]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 5 and all(line.startswith("abm: error: ") for line in lines), err
    assert [line.split(": ")[2] for line in lines] == [
        f"{files[0]}:3", f"{files[0]}:4", f"{files[0]}:6", f"{files[1]}:3", f"{files[2]}:4"]
    assert "Traceback" not in err and out == ""


def test_abm_validate_accepts_good_files(capsys):
    assert main(["validate", "baseline", "extra_money/embed"]) == 0
    out, err = capsys.readouterr()
    assert "2 file(s) valid" in out and err == ""
