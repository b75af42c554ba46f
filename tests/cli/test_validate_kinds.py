"""`abm validate` checks every kind of file users write, and each kind's JSON Schema (schemas/)
agrees with its loader (issue 25, item 4)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from abm.cli import main as abm_main
from abm.cli.filekinds import KINDS, SCHEMA_DIR, check, detect, limits, schema, schema_text
from abm.files import yamlfile

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for folder in ("scenarios", "experiments", "calibration", "abm/decision/specs")
                 for p in (ROOT / folder).rglob("*.yaml"))
#: A shipped file of each kind, mutated by the tests below.
EXAMPLES = {
    "scenario": ROOT / "scenarios/extra_money/scale.yaml",
    "place": ROOT / "scenarios/places/bradford.yaml",
    "experiment": ROOT / "experiments/smoke.yaml",
    "calibration": ROOT / "calibration/specs/quick/devon_ics.yaml",
    "sensitivity": ROOT / "calibration/specs/quick/sensitivity.yaml",
    "targets": ROOT / "calibration/targets.yaml",
    "frontier": ROOT / "abm/decision/specs/quick_devon_ics.yaml",
}


def _schema_validator(kind: str) -> jsonschema.Draft202012Validator:
    published = json.loads((SCHEMA_DIR / KINDS[kind].schema_file).read_text())
    return jsonschema.Draft202012Validator(published)


def _as_json(data) -> object:
    """YAML content as an editor's schema checker sees it (mapping keys are text)."""
    return json.loads(json.dumps(data))


def test_the_published_schemas_are_what_the_declaration_and_loaders_give():
    for kind in KINDS:
        path = SCHEMA_DIR / KINDS[kind].schema_file
        assert path.read_text() == schema_text(kind), \
            f"{path} is out of date: run `abm schemas --out schemas`"
        jsonschema.Draft202012Validator.check_schema(schema(kind))


def test_the_kind_of_each_shipped_file_is_told_from_its_keys():
    expected = {"scenarios/places": "place", "scenarios": "scenario",
                "experiments": "experiment", "calibration/calibrated/main/calibrated": "scenario",
                "calibration/specs/quick/main_sweep": "experiment",
                "calibration/targets": "targets", "abm/decision/specs": "frontier"}
    for path in SHIPPED:
        name = str(path.relative_to(ROOT).with_suffix(""))
        kind = detect(yamlfile.load(path))
        exact = {"calibration/specs/quick/recovery": "recovery",
                 "calibration/specs/recovery": "recovery",
                 "calibration/specs/recovery_where_pinnable": "recovery",
                 "abm/decision/specs/quick_budget_for_gap": "aim",
                 "abm/decision/specs/quick_narrow_gap": "aim"}
        by_prefix = sorted(expected.items(), key=lambda i: -len(i[0]))
        want = exact.get(name) or next((k for prefix, k in by_prefix if name.startswith(prefix)),
                                       "sensitivity" if "sensitivity" in name else "calibration")
        assert kind == want, name


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_shipped_file_validates_and_meets_its_schema(path):
    kind, problems = check(str(path))
    assert problems == [], problems
    errors = [e.message for e in _schema_validator(kind).iter_errors(
        _as_json(yamlfile.load(path)))]
    assert errors == [], errors


def test_validate_names_the_kind_and_reports_every_problem_with_its_line(tmp_path, capsys):
    place = tmp_path / "atlantis.yaml"
    text = (ROOT / "scenarios/places/bradford.yaml").read_text()
    place.write_text(text.replace("rural_share:", "rural_share: 1.5\nold_rural_share:", 1))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("scenarios: [baseline]\nseeds: 0\nyears: 2\nrecord: everything\n")
    good = ROOT / "calibration/targets.yaml"
    assert abm_main(["validate", str(good), str(place), str(sweep)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "", "nothing on stdout when a file has problems"
    errors = captured.err.splitlines()
    line = text.splitlines().index(next(x for x in text.splitlines()
                                        if x.startswith("rural_share:"))) + 1
    assert any(f"{place}:{line + 1}: unknown key 'old_rural_share'" in e
               and "(checked as a place file, as its keys tell" in e for e in errors), errors
    assert any(f"{place}:{line}: 'rural_share' = 1.5" in e for e in errors), errors
    assert any(f"{sweep}:2: 'seeds' = 0" in e for e in errors), errors
    assert any(f"{sweep}:4: 'record' = 'everything'" in e for e in errors), errors


def test_each_valid_file_is_named_with_its_kind(capsys):
    files = [str(ROOT / "calibration/targets.yaml"), str(ROOT / "experiments/smoke.yaml"),
             "embed"]
    assert abm_main(["validate", *files]) == 0
    out = capsys.readouterr().out
    assert f"{files[0]}: a valid calibration targets file" in out
    assert f"{files[1]}: a valid experiment (sweep) file" in out
    assert "embed: a valid scenario file" in out and "3 file(s) valid" in out


def test_kind_can_be_given(tmp_path, capsys):
    odd = tmp_path / "odd.yaml"
    odd.write_text("description: keys of no kind in particular\n")
    assert abm_main(["validate", str(odd)]) == 0, "a scenario with only a description is valid"
    assert abm_main(["validate", "--kind", "place", str(odd)]) == 2
    assert "missing key 'lsoas'" in capsys.readouterr().err


def _mutations(kind: str, data: dict) -> list[tuple[str, dict]]:
    """Bad variants of a valid file of ``kind``: an unknown key, and each numeric limit of
    its schema crossed (below its minimum and above its maximum; a whole number given a
    fraction), for keys at the top level the file sets, and for every key of a section the
    file has (set or not)."""
    variants = [("an unknown key", {**data, "colour": "blue"})]
    for key, (low, high) in limits(kind).items():
        section, _, name = key.rpartition(".")
        holder = data.get(section) if section else data
        if not isinstance(holder, dict) or (name not in holder and not section):
            continue
        whole = isinstance(low, int) and isinstance(high, int)
        bad = [low - 1 if whole else low - max(abs(low) * 0.5, 0.01), high + 1]
        if whole:
            bad.append(low + 0.5)
        for value in bad:
            changed = copy.deepcopy(data)
            (changed[section] if section else changed)[name] = value
            variants.append((f"{key} = {value}", changed))
    return variants


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_schema_and_loader_agree_on_bad_files(kind, tmp_path):
    """Both refuse every mutation, and both accept the file as shipped."""
    original = yamlfile.load(EXAMPLES[kind])
    plain = _as_json(original)
    validator = _schema_validator(kind)
    assert not list(validator.iter_errors(plain))
    variants = _mutations(kind, plain)
    if kind == "scenario":
        variants += [("a parameter out of range", {**plain, "parameters": {"uptake_rate": 9}}),
                     ("an unknown rule", {**plain, "rules": ["scale", "grow"]}),
                     ("an unknown place", {**plain, "place": "atlantis"})]
    if kind == "experiment":
        variants += [("record", {**plain, "record": "all"}),
                     ("a grid value out of range", {**plain, "grid": {"uptake_rate": [0.1, 7]}}),
                     ("grid and sample", {**plain, "grid": {"uptake_rate": [0.1]},
                                          "sample": {"method": "sobol", "n": 4,
                                                     "ranges": {"uptake_rate": None}}})]
    if kind == "targets":
        first = next(iter(plain["targets"]))
        variants += [("a negative sd", {"targets": {
            **plain["targets"], first: {**plain["targets"][first], "sampling_sd": -1}}}),
                     ("an unknown output", {"targets": {
            **plain["targets"], first: {**plain["targets"][first], "output": "happiness"}}})]
    if kind == "place":
        variants += [("a decile missing", {**plain, "imd_decile_shares": {
            k: v for k, v in plain["imd_decile_shares"].items() if k != "10"}})]
    assert len(variants) >= 3
    for what, data in variants:
        assert list(validator.iter_errors(data)), f"{kind}: the schema accepts {what}"
        path = tmp_path / EXAMPLES[kind].name
        path.write_text(yaml.safe_dump(_yaml_keys(data), sort_keys=False))
        _, problems = check(str(path), kind)
        assert problems, f"{kind}: the loader accepts {what}"


def _yaml_keys(data):
    """Decile keys back to whole numbers, as place files write them."""
    if isinstance(data, dict):
        return {(int(k) if isinstance(k, str) and k.isdigit() else k): _yaml_keys(v)
                for k, v in data.items()}
    if isinstance(data, list):
        return [_yaml_keys(v) for v in data]
    return data
