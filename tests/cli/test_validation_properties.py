"""Property tests: any mutation of a valid file validates or is rejected cleanly.

A mutated scenario, place or sweep file must either load or raise :class:`InputError` whose
problems are each one non-empty line naming the file; no other exception may escape. Files
are mutated as data (a value replaced by a random YAML-able value, a key deleted, added or
renamed, a parameter renamed) and dumped back with ``yaml.safe_dump``, and as text (a line
deleted or duplicated, random printable characters inserted, the file truncated).
"""

from __future__ import annotations

import math
import os
import string
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abm.files.errors import InputError
from abm.model.parameters import BY_NAME, Params
from abm.model.places import PLACE_KEYS, load_place, place_names, places_dir
from abm.model.scenarios import (
    SCENARIO_KEYS,
    load_scenario,
    scenario_names,
    scenarios_dir,
    validate,
)
from experiments.spec import SAMPLE_KEYS, SPEC_KEYS, load_sweep

#: Examples per property; set ABM_PROPERTY_EXAMPLES higher for a longer hunt.
EXAMPLES = int(os.environ.get("ABM_PROPERTY_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- valid files to start from ------------------------------------------------------------

#: A scenario using every key, extending a shipped scenario from outside the shipped folder.
FULL_SCENARIO = """\
# Every key, extending a shipped scenario.
description: Sustain and embed in West Yorkshire.
extends: sustain
place: west_yorkshire
rules: [sustain, embed]
parameters:
  embed_budget_share: 0.2
  core_grant_years: 4
  uptake_rate: 0.02
"""
PLUS_SCENARIO = """\
extends: extra_money/scale
rules: scale+embed
parameters: {scale_budget_share: 0.3, embed_budget_share: 0.3, n_neighbourhoods: 50}
"""
SCENARIOS = [  # copied out of the shipped folder, '../baseline.yaml' becomes 'baseline'
    *((scenarios_dir() / f"{name}.yaml").read_text(encoding="utf-8")
      .replace("extends: ../baseline.yaml", "extends: baseline") for name in scenario_names()),
    FULL_SCENARIO,
    PLUS_SCENARIO,
]
PLACES = [(places_dir() / f"{name}.yaml").read_text(encoding="utf-8") for name in place_names()]
SWEEPS = [
    (Path(__file__).resolve().parents[2] / "experiments" / "smoke.yaml").read_text("utf-8"),
    """\
description: Grid over uptake in two places.
scenarios: [baseline, scale, embed]
places: [bradford, devon_ics]
seeds: 2
master_seed: 7
years: 3
record: weekly
parameters: {n_neighbourhoods: 30, residents_per_neighbourhood: 20}
grid:
  uptake_rate: [0.01, 0.02]
  core_grant_years: [1, 3]
batch_size: 4
max_retries: 2
""",
    """\
description: Latin hypercube over two parameters.
scenarios: [baseline, sustain]
seeds: 3
years: 5
sample:
  method: latin_hypercube
  n: 8
  seed: 3
  ranges:
    uptake_rate: [0.01, 0.05]
    provider_capacity: []
""",
]

# --- random values and mutations ----------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1), TEXT,
    st.sampled_from(sorted(BY_NAME)), st.sampled_from(place_names()),
    st.sampled_from(["status_quo", "scale", "embed", "sustain", "scale+embed", "baseline"]),
)
KEYS = st.one_of(TEXT, st.integers(-2, 12), st.booleans(), st.none(),
                 st.sampled_from([*SCENARIO_KEYS, *PLACE_KEYS, *SPEC_KEYS, *SAMPLE_KEYS]))
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=8,
)
#: Keys whose mappings hold parameter names.
PARAMETER_MAPPINGS = ("parameters", "grid", "ranges")


def _paths(value, prefix=()):
    """Every place in a parsed document: () for the whole, then keys and indices."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _at(value, path):
    for step in path:
        value = value[step]
    return value


def _misspell(draw, name: str) -> str:
    if not name:
        return draw(TEXT)
    i = draw(st.integers(0, len(name) - 1))
    return draw(st.sampled_from([name[:i] + name[i + 1:], name[:i] + "x" + name[i:],
                                 name.upper(), name + "s", name.replace("_", "-")]))


def _mutate_once(draw, doc):
    path = draw(st.sampled_from(list(_paths(doc))))
    op = draw(st.sampled_from(["replace", "delete", "add", "rename", "rename_parameter"]))
    target = _at(doc, path)
    if op == "replace":
        if not path:
            return draw(VALUES)
        _at(doc, path[:-1])[path[-1]] = draw(VALUES)
    elif op == "delete" and path:
        del _at(doc, path[:-1])[path[-1]]
    elif op == "add" and isinstance(target, dict):
        target[draw(KEYS)] = draw(VALUES)
    elif op == "add" and isinstance(target, list):
        target.insert(draw(st.integers(0, len(target))), draw(VALUES))
    elif op == "rename" and isinstance(target, dict) and target:
        key = draw(st.sampled_from(list(target)))
        new = _misspell(draw, key) if isinstance(key, str) else draw(KEYS)
        target[new] = target.pop(key)
    elif op == "rename_parameter":
        holders = [p for p in _paths(doc) if p and p[-1] in PARAMETER_MAPPINGS
                   and isinstance(_at(doc, p), dict) and _at(doc, p)]
        if holders:
            mapping = _at(doc, draw(st.sampled_from(holders)))
            key = draw(st.sampled_from(list(mapping)))
            new = draw(st.sampled_from(sorted(BY_NAME)) | st.just(_misspell(draw, str(key))))
            mapping[new] = mapping.pop(key)
    return doc


@st.composite
def mutated_data(draw, texts: list[str]) -> str:
    """A valid file parsed, mutated one to three times and dumped back as YAML."""
    doc = yaml.safe_load(draw(st.sampled_from(texts)))
    for _ in range(draw(st.integers(1, 3))):
        doc = _mutate_once(draw, doc)
    return yaml.safe_dump(doc, sort_keys=False)


@st.composite
def mutated_text(draw, texts: list[str]) -> str:
    """A valid file with one to three text edits: lines deleted, duplicated, typed into, cut."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "truncate"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        text = "".join(lines)
        if op == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.text(string.printable, min_size=1, max_size=8)) + text[at:]
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
    return text


# --- the property ------------------------------------------------------------------------


def _load_or_reject(load, path: Path, text: str, homes: tuple[Path, ...] = ()):
    """Write ``text`` to ``path`` and load it; return the result, or None if rejected cleanly."""
    path.write_text(text, encoding="utf-8")
    try:
        return load(path)
    except InputError as error:
        problems = error.problems
    assert problems, "an InputError must list at least one problem"
    for problem in problems:
        assert isinstance(problem, str) and problem.strip(), problems
        assert "\n" not in problem and len(problem.splitlines()) == 1, problem
        # Each problem names the file it is about: this one, or a shipped file it extends.
        assert problem.startswith(tuple(str(home) for home in (path, *homes))), problem
    return None


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """One folder per test module; each test writes its own file name in it."""
    return tmp_path_factory.mktemp("mutated")


def _check_scenario(folder: Path, name: str, text: str) -> None:
    path = folder / name
    scenario = _load_or_reject(load_scenario, path, text, homes=(scenarios_dir(),))
    if scenario is None:
        assert validate([path]), "validate() must agree with load_scenario()"
        return
    assert validate([path]) == []
    assert isinstance(scenario.params(), Params)  # what validates must make a parameter set
    assert isinstance(scenario.description, str) and scenario.place in place_names()


@SETTINGS
@given(text=mutated_data(SCENARIOS))
def test_scenario_data_mutations(folder, text):
    _check_scenario(folder, "scenario_data.yaml", text)


@SETTINGS
@given(text=mutated_text(SCENARIOS))
def test_scenario_text_mutations(folder, text):
    _check_scenario(folder, "scenario_text.yaml", text)


def _check_place(folder: Path, name: str, text: str) -> None:
    place = _load_or_reject(load_place, folder / name, text)
    if place is not None:
        assert place.lsoas >= 1 and place.population >= 1 and 0 <= place.rural_share <= 1
        assert len(place.imd_decile_shares) == 10
        assert all(math.isfinite(s) and s >= 0 for s in place.imd_decile_shares)
        assert abs(sum(place.imd_decile_shares) - 100) <= 0.5


@SETTINGS
@given(text=mutated_data(PLACES))
def test_place_data_mutations(folder, text):
    _check_place(folder, "place_data.yaml", text)


@SETTINGS
@given(text=mutated_text(PLACES))
def test_place_text_mutations(folder, text):
    _check_place(folder, "place_text.yaml", text)


def _check_sweep(folder: Path, name: str, text: str) -> None:
    sweep = _load_or_reject(load_sweep, folder / name, text)
    if sweep is not None:
        assert sweep.scenarios and sweep.seeds >= 1 and 0 < sweep.years <= 100
        assert sweep.points and all(isinstance(p, dict) for p in sweep.points)


@SETTINGS
@given(text=mutated_data(SWEEPS))
def test_sweep_data_mutations(folder, text):
    _check_sweep(folder, "sweep_data.yaml", text)


@SETTINGS
@given(text=mutated_text(SWEEPS))
def test_sweep_text_mutations(folder, text):
    _check_sweep(folder, "sweep_text.yaml", text)


# --- a few hand-picked nasties the random search may take long to find -------------------


@pytest.mark.parametrize("text", [
    "description: !!int abc\n",  # a tag its value cannot hold
    "description: !!bool maybe\n",
    "description: !!timestamp soon\n",
    "description: 2023-02-30\n",  # read as a date, which does not exist
    "description: " + "9" * 5000 + "\n",  # an int longer than Python will read from text
    "rules: &r [scale, *r]\n",  # a list that holds itself
    "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(  # nine levels of aliases: 10^9 leaves
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in pairwise("abcdefghi")),
    'extends: "' + "x" * 300 + '"\n',  # a name too long for the file system
    'extends: "a\\0b"\n',  # a NUL in a file name
    '"rule\\ns": [scale]\n',  # a key with a line break inside
    'place: "devon\\rics"\n',
    "rules: !!python/object/apply:os.system [scale]\n",
    "? [a, b]\n: 1\n",  # a list as a key
    "place: a\n---\nplace: b\n",  # two documents
    "place: devon_ics\x0c\n",  # a control character YAML does not allow
])
def test_hand_picked_scenario_nasties(folder, text):
    assert _load_or_reject(load_scenario, folder / "nasty.yaml", text,
                           homes=(scenarios_dir(),)) is None


def test_a_byte_order_mark_is_fine(folder):
    scenario = _load_or_reject(load_scenario, folder / "bom.yaml", "\ufeffplace: london\n")
    assert scenario is not None and scenario.place == "london"


def test_hand_picked_number_nasties(folder):
    place = (places_dir() / "devon_ics.yaml").read_text(encoding="utf-8")
    big = "1" * 400  # an int too large to convert to a float
    for text in (place.replace("rural_share: 0.35", f"rural_share: {big}"),
                 place.replace("  1: 6.4", f"  1: {big}")):
        assert _load_or_reject(load_place, folder / "big.yaml", text) is None
    sweep = SWEEPS[0]
    assert _load_or_reject(load_sweep, folder / "big.yaml", sweep.replace("years: 2",
                                                                          f"years: {big}")) is None
    assert _load_or_reject(load_sweep, folder / "big.yaml",
                           sweep.replace("[baseline, sustain]", '[baseline, "x\\ny"]')) is None
