"""Scenario files: what to test, written by users in YAML, validated before anything runs.

A scenario names a place, the commissioning rules and any parameter changes::

    # Sustain: three-year core grants instead of one-year competitive ones.
    extends: baseline          # optional: start from another scenario and change a few things
    place: devon_ics           # optional: a place name (``abm places`` lists them)
    rules: [sustain]           # optional: rule names, or "scale+embed"; default status_quo
    parameters:                # optional: any of ``abm parameters``
      core_grant_years: 3

``extends`` names another scenario in the same folder (``baseline``), falls back to the
shipped ``scenarios/`` folder, or gives a path relative to this file. The child's ``place``
and ``rules`` replace the parent's; its parameters are merged over the parent's.

Every defect in a file (and in the files it extends) is reported at once, each on one line
with the file, line, key, value and what is allowed. YAML is read with the safe loader.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from abm.files import yamlfile
from abm.files.errors import InputError, clipped, shown, unknown_name_message
from abm.model.commissioning import RULES, make_plan, parse_rules
from abm.model.parameters import Params, parameter_values, problems
from abm.model.places import place_names, unknown_place

SCENARIO_KEYS = ("description", "extends", "place", "rules", "parameters")
DEFAULT_PLACE = "devon_ics"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with its ``extends`` chain resolved."""

    name: str
    path: Path | None
    description: str = ""
    place: str = DEFAULT_PLACE
    rules: tuple[str, ...] = ("status_quo",)
    parameters: Mapping[str, Any] = field(default_factory=dict)  # changes from the defaults
    chain: tuple[str, ...] = ()  # names of the files extended, nearest first

    def params(self, **changes: Any) -> Params:
        """The scenario's full, validated parameter set, with optional further changes."""
        return Params({**self.parameters, **changes})

    def model(self, seed: int = 0, place: str | None = None, **changes: Any):
        """A model of this scenario (``place`` overrides the scenario's place)."""
        from abm.model.model import CommunityAssetsModel

        return CommunityAssetsModel(place or self.place, self.rules, seed, self.params(**changes))


def scenarios_dir() -> Path:
    """The folder of shipped scenario files."""
    return Path(str(resources.files("scenarios")))


#: Folders of ``scenarios/`` that hold files scenarios use but that are not scenarios: places,
#: and the calibrated parameter files that the baseline (and so every scenario) extends.
NOT_SCENARIOS = ("places", "calibrated")


def scenario_names() -> list[str]:
    """Names of the shipped scenarios, e.g. ``embed`` and ``extra_money/embed``."""
    root = scenarios_dir()
    return sorted(
        str(p.relative_to(root).with_suffix(""))
        for p in root.rglob("*.yaml")
        if p.parent.name not in NOT_SCENARIOS
    )


def find_scenario(name_or_path: str | Path) -> Path:
    """The file of a shipped scenario name (``embed``) or a path, which must exist."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or yamlfile.exists(path):
        if not yamlfile.exists(path):
            raise InputError(yamlfile.one_line([f"{path}: file not found"]))
        return path
    shipped = scenarios_dir() / f"{text}.yaml"
    if yamlfile.exists(shipped):
        return shipped
    raise InputError(yamlfile.one_line(
        [unknown_name_message("scenario", clipped(text), scenario_names(), "abm scenarios")]))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load, validate and resolve a scenario; raise :class:`InputError` listing every defect."""
    path = find_scenario(name_or_path)
    scenario, found = _resolve(_real(path), ())
    if found:
        raise InputError(yamlfile.one_line(found))
    return scenario


def validate(paths: list[str | Path]) -> list[str]:
    """Every defect in the given scenario files, one line each (empty when all are valid)."""
    found: list[str] = []
    for name in paths:
        try:
            load_scenario(name)
        except InputError as error:
            found += error.problems
    return found


def scenario_name(path: Path) -> str:
    """``extra_money/embed`` for a shipped file, the file's stem for any other."""
    try:
        return str(_real(path).relative_to(scenarios_dir().resolve()).with_suffix(""))
    except ValueError:
        return path.stem


def _resolve(path: Path, seen: tuple[Path, ...]) -> tuple[Scenario, list[str]]:
    """Read ``path`` and its parents; return the merged scenario and every defect found."""
    try:
        data = yamlfile.load(path)
    except InputError as error:
        return Scenario(scenario_name(path), path), error.problems
    if data is None:
        data = yamlfile.LineDict({}, {}, 1)
    if not isinstance(data, yamlfile.LineDict):
        return Scenario(scenario_name(path), path), [
            f"{path}:1: a scenario must be a mapping with keys such as "
            f"{', '.join(SCENARIO_KEYS)}"
        ]

    def at(key: str) -> str:
        return f"{path}:{data.line_of(key)}"

    found = [
        f"{at(key)}: {unknown_name_message('key', clipped(key), list(SCENARIO_KEYS))}"
        for key in data
        if key not in SCENARIO_KEYS
    ]
    parent, chain = Scenario(scenario_name(path), path), ()
    if "extends" in data:
        parent_path, problem = _parent_path(path, data["extends"])
        if problem:
            found.append(f"{at('extends')}: {problem}")
        elif parent_path in (*seen, path):
            cycle = " -> ".join(p.name for p in (*seen, path, parent_path))
            found.append(f"{at('extends')}: 'extends' makes a cycle: {cycle}")
        else:
            parent, parent_found = _resolve(parent_path, (*seen, path))
            found += parent_found
            chain = (parent.name, *parent.chain)

    description = data.get("description", "")
    if not isinstance(description, str):
        found.append(f"{at('description')}: 'description' = {shown(description)}: "
                     "allowed is text")
        description = ""

    place = data.get("place", parent.place)
    if "place" in data and place not in place_names():
        found.append(f"{at('place')}: {unknown_place(clipped(place))}")

    rules = parent.rules
    if "rules" in data:
        raw = data["rules"]
        if isinstance(raw, str) or (isinstance(raw, list) and raw):
            names = raw.split("+") if isinstance(raw, str) else raw
            bad = [n for n in names if not isinstance(n, str) or n.strip() not in RULES]
            if bad:
                found.append(
                    f"{at('rules')}: {unknown_name_message('rule', clipped(bad[0]), RULES)}")
            else:
                rules = parse_rules(names)
        else:
            found.append(
                f"{at('rules')}: 'rules' = {shown(raw)}: allowed is a rule name, names joined "
                f"by '+' or a list of names from {', '.join(RULES)}"
            )

    own, own_problems = parameter_values(data, "parameters", path)
    parameters = {**parent.parameters, **own}
    found += own_problems
    if not own_problems:
        found += [f"{at('parameters')}: {p}" for p in problems(parameters)]
    if not found:
        try:
            make_plan(rules, Params(parameters))
        except InputError as error:
            found += [f"{at('parameters')}: {p}" for p in error.problems]

    scenario = Scenario(
        name=scenario_name(path),
        path=path,
        description=description.strip(),
        place=place if isinstance(place, str) else DEFAULT_PLACE,
        rules=rules,
        parameters=parameters,
        chain=chain,
    )
    return scenario, found


def _real(path: Path) -> Path:
    """``path`` with symbolic links resolved; as given (made absolute) if they loop, so that
    reading it reports the loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _parent_path(child: Path, extends: object) -> tuple[Path | None, str | None]:
    """Where ``extends`` points, or why it cannot be followed."""
    if not isinstance(extends, str) or not extends.strip():
        return None, (f"'extends' = {shown(extends)}: allowed is the name or path of a "
                      "scenario file")
    text = extends.strip()
    if text.endswith((".yaml", ".yml")):
        candidates = [child.parent / text]
    else:
        candidates = [child.parent / f"{text}.yaml", scenarios_dir() / f"{text}.yaml"]
    for candidate in candidates:
        if yamlfile.exists(candidate):
            return _real(candidate), None
    return None, (
        f"'extends' = '{clipped(text)}': no such scenario (looked for "
        f"{' and '.join(clipped(str(c), 200) for c in candidates)})"
    )
