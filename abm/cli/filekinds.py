"""The kinds of file users write, for ``abm validate`` and ``abm schemas``: which kind a file
is, the loader that checks it (the one the commands that read it use), and a JSON Schema of
each kind that editors can check against as people type.

- scenario (``scenarios/``): place, rules, parameter changes;
  :func:`~abm.model.scenarios.load_scenario`
- place (``scenarios/places/``): a place's IMD deciles, LSOAs, population;
  :func:`~abm.model.places.load_place`
- experiment (``experiments/``): a sweep; :func:`~experiments.spec.load_sweep`
- calibration (``calibration/specs/``): :func:`~calibration.spec.load_calibration_spec`
- sensitivity (``calibration/specs/``): :func:`~calibration.spec.load_sensitivity_spec`
- targets (``calibration/targets.yaml``): :func:`~calibration.targets.load_targets`

The kind is told by the keys a file uses (:func:`detect`): each kind has keys no kind after it
in :data:`KINDS` uses. ``abm validate --kind`` overrides it.

The schemas are generated (``abm schemas``, written to ``schemas/``) from the same sources
as the loaders: the keys and choices the loaders' modules declare (``SPEC_KEYS``,
``CALIBRATION_KEYS``, ``RULES``, place names, target names, outputs), the limits of their
numbers each loader declares and checks (:func:`limits`), and every parameter's type and
valid range from :data:`abm.model.parameters.PARAMETERS`. tests/cli/test_validate_kinds.py
checks, for every limit in every schema, that the loader refuses what the schema refuses
just outside it. What JSON Schema cannot say (decile shares
summing to 100, budget shares summing to at most 1, a file ``extends`` names existing, a
whole number written as 3.0) only the loaders check: ``abm validate`` is the full check.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abm.files import yamlfile
from abm.files.errors import InputError
from abm.model import places as place_module
from abm.model.commissioning import RULES
from abm.model.parameters import PARAMETERS, Parameter
from abm.model.places import place_names
from abm.model.scenarios import SCENARIO_KEYS

#: Where ``abm schemas`` writes by default: ``schemas/`` at the top of the checkout.
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: Where each kind's loader declares the (low, high) of its numbers: (module, attribute).
_LIMITS_AT = {"place": ("abm.model.places", "LIMITS"),
              "experiment": ("experiments.spec", "LIMITS"),
              "calibration": ("calibration.spec", "CALIBRATION_LIMITS"),
              "frontier": ("abm.decision.spec", "LIMITS"),
              "sensitivity": ("calibration.spec", "SENSITIVITY_LIMITS")}


def limits(kind: str) -> dict[str, tuple[float, float]]:
    """The (low, high) of a kind's numbers by key (``section.key`` inside a section), as its
    loader declares and checks them (none for a kind without such numbers)."""
    if kind not in _LIMITS_AT:
        return {}
    module, attribute = _LIMITS_AT[kind]
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Kind:
    """A kind of file: its name, what it is in words, its loader and its schema."""

    name: str
    title: str
    load: Callable[[Path], Any]
    schema: Callable[[], dict]

    @property
    def schema_file(self) -> str:
        return f"{self.name}.schema.json"


def _load_scenario(path: Path):
    from abm.model.scenarios import load_scenario

    return load_scenario(path)


def _load_place(path: Path):
    text = str(path)  # the loader reads a path when it looks like one, else a shipped name
    return place_module.load_place(text if text.endswith((".yaml", ".yml")) or "/" in text
                                   else f"./{text}")


def _load_experiment(path: Path):
    from experiments.spec import load_sweep

    return load_sweep(path)


def _load_calibration(path: Path):
    from calibration.spec import load_calibration_spec

    return load_calibration_spec(path)


def _load_recovery(path: Path):
    from calibration.recovery import load_recovery_spec

    return load_recovery_spec(path)


def _load_frontier(path: Path):
    from abm.decision.spec import load_decision_spec

    return load_decision_spec(path)


def _load_aim(path: Path):
    from abm.decision.spec import load_decision_spec

    return load_decision_spec(path, aim=True)


def _load_sensitivity(path: Path):
    from calibration.spec import load_sensitivity_spec

    return load_sensitivity_spec(path)


def _load_targets(path: Path):
    from calibration.targets import load_targets

    return load_targets(path)


# --- schemas -----------------------------------------------------------------------------------
def _text(description: str = "") -> dict:
    return {"type": "string", **({"description": description} if description else {})}


def _whole(low: float, high: float, description: str = "") -> dict:
    out = {"type": "integer", "minimum": low, "maximum": high}
    return out | ({"description": description} if description else {})


def _number(low: float, high: float, description: str = "") -> dict:
    out = {"type": "number", "minimum": low, "maximum": high}
    return out | ({"description": description} if description else {})


def _limited(kind: str, key: str, whole: bool, description: str = "") -> dict:
    low, high = limits(kind)[key]
    return (_whole if whole else _number)(low, high, description)


def _names(values, description: str = "", min_items: int = 1) -> dict:
    """A list of distinct names, each one of ``values``."""
    return {"type": "array", "items": {"enum": sorted(values)}, "minItems": min_items,
            "uniqueItems": True, **({"description": description} if description else {})}


def parameter_schema(parameter: Parameter) -> dict:
    """One parameter's value: its declared type and valid range, with its meaning."""
    kind = "integer" if parameter.type is int else "number"
    return {"type": kind, "minimum": parameter.low, "maximum": parameter.high,
            "default": parameter.default,
            "description": f"{parameter.label}: {parameter.meaning} ({parameter.unit}). "
                           f"Source: {parameter.source}"}


def _parameter(name: str) -> dict:
    """A reference to one parameter's schema (every parameter is defined once, in
    ``$defs/parameter``)."""
    return {"$ref": f"#/$defs/parameter/{name}"}


def parameters_schema() -> dict:
    """Parameter changes: any declared parameter, each in its valid range (``abm
    parameters``)."""
    return {"type": "object", "additionalProperties": False,
            "description": "parameter changes from the defaults (see `abm parameters`); "
                           "shares such as embed + scale + develop budget shares must also "
                           "keep the declared cross-parameter limits (`abm validate` checks)",
            "properties": {p.name: _parameter(p.name) for p in PARAMETERS}}


def _ranges() -> dict:
    return {"type": "object", "additionalProperties": False,
            "description": "narrower ranges than the declaration's plausible ones: [low, high]",
            "properties": {p.name: {"type": "array", "items": {"type": "number"},
                                    "minItems": 2, "maxItems": 2} for p in PARAMETERS}}


def _rule_names() -> dict:
    one = "|".join(RULES)
    return {"oneOf": [
        {"type": "string", "pattern": rf"^\s*({one})\s*(\+\s*({one})\s*)*$",
         "description": "rule names joined by '+', e.g. scale+embed"},
        {"type": "array", "minItems": 1,
         "items": {"type": "string", "pattern": rf"^\s*({one})\s*$"}},
    ], "description": "commissioning rules (`abm rules`)"}


def scenario_schema() -> dict:
    properties = {
        "description": _text("what the scenario tests, in a sentence"),
        "extends": {"type": "string", "pattern": r"\S",
                    "description": "a scenario in the same folder or scenarios/, or a path"},
        "place": {"enum": place_names(), "description": "a place (`abm places`)"},
        "rules": _rule_names(),
        "parameters": parameters_schema(),
    }
    assert set(properties) == set(SCENARIO_KEYS), "every key the loader allows, and no other"
    return {"type": "object", "additionalProperties": False, "properties": properties}


def place_schema() -> dict:
    """What the place loader (abm/model/places.py) accepts, from its declared keys and
    choices; the newer keys (IMD version, region, ICB) where the loader declares them."""
    p = place_module
    shares = {"type": "object", "additionalProperties": False, "required": [
        str(d) for d in range(1, 11)], "description": "% of the place's LSOAs in each national "
        "IMD decile, 1 (most deprived) to 10; they must sum to 100 (within "
        f"{p.SHARE_TOLERANCE:g})", "properties": {
            str(d): _number(0, 100) for d in range(1, 11)}}
    figures = (*p.FIGURES, *p.OPTIONAL_FIGURES)
    properties: dict[str, Any] = {
        "title": _text("the place's name as people say it"),
        "lsoas": _limited("place", "lsoas", True, "LSOAs in the place"),
        "population": _limited("place", "population", True, "residents"),
        "rural_share": _limited("place", "rural_share", False,
                                "share of neighbourhoods that are rural, 0-1"),
        "imd_decile_shares": shares,
        "asset_mix": {"type": "object", "additionalProperties": False,
                      "required": list(p.KIND_NAMES),
                      "properties": {k: {"type": "number", "minimum": 0} for k in p.KIND_NAMES},
                      "description": "weights of the kinds of asset provider (not all 0)"},
        "sources": {"type": "object", "required": list(p.FIGURES),
                    "description": "a source for each figure",
                    "properties": {k: {"type": "string", "pattern": r"\S"} for k in figures}},
    }
    required = [*p.FIGURES, "sources"]
    if hasattr(p, "IMD_VERSIONS"):
        properties["imd_version"] = {"enum": list(p.IMD_VERSIONS),
                                     "description": "the IMD release of the decile shares"}
        required.insert(0, "imd_version")
    if hasattr(p, "REGIONS"):
        properties["region"] = {"enum": list(p.REGIONS), "description": "NHS England region"}
    if hasattr(p, "ICB_CODE"):
        code = {"type": "string", "pattern": f"^{p.ICB_CODE.pattern}$"}
        properties["icb24_code"] = {"oneOf": [code, {"type": "array", "items": code,
                                                     "minItems": 1}],
                                    "description": "ICB code(s), April 2024 (E54 + 6 digits)"}
        name = {"type": "string", "pattern": r"\S"}
        properties["icb24_name"] = {"oneOf": [name, {"type": "array", "items": name,
                                                     "minItems": 1}],
                                    "description": "the ICB name(s), one per code"}
    if "attribution" in getattr(p, "LABELS", ()):
        properties["attribution"] = {"type": "string", "pattern": r"\S",
                                     "description": "the attribution the figures' licence asks"}
    assert set(properties) == set(p.PLACE_KEYS), "every key the loader allows, and no other"
    return {"type": "object", "additionalProperties": False, "required": required,
            "properties": properties}


def experiment_schema() -> dict:
    from abm.model.parameters import BY_NAME
    from experiments import spec

    grid = {"type": "object", "additionalProperties": False, "minProperties": 1,
            "description": "every combination of these values",
            "properties": {p.name: {"type": "array", "minItems": 1, "uniqueItems": True,
                                    "items": _parameter(p.name)} for p in PARAMETERS}}
    span = {"oneOf": [{"type": "null"}, {"type": "array", "maxItems": 0},
                      {"type": "array", "items": {"type": "number"}, "minItems": 2,
                       "maxItems": 2}]}
    sample = {"type": "object", "additionalProperties": False,
              "required": ["method", "n", "ranges"],
              "properties": {
                  "method": {"enum": list(spec.SAMPLERS)},
                  "n": _limited("experiment", "sample.n", True),
                  "seed": _limited("experiment", "sample.seed", True),
                  "ranges": {"type": "object", "minProperties": 1,
                             "additionalProperties": False,
                             "description": "[low, high] within the parameter's valid range; "
                                            "[] or null: its whole valid range",
                             "properties": {name: span for name in BY_NAME}}}}
    properties = {
        "description": _text("what the sweep is for"),
        "scenarios": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                      "maxItems": spec.MAX_LISTED, "uniqueItems": True,
                      "description": "scenario names or files, the baseline first"},
        "places": {"type": "array", "items": {"enum": place_names()}, "minItems": 1,
                   "maxItems": spec.MAX_LISTED, "uniqueItems": True},
        "seeds": _limited("experiment", "seeds", True, "seeds per scenario, place and point"),
        "master_seed": _limited("experiment", "master_seed", True),
        "years": _number(spec.MIN_YEARS, spec.MAX_YEARS, "policy years of each run"),
        "record": {"enum": list(spec.RECORDS)},
        "parameters": parameters_schema(),
        "grid": grid,
        "sample": sample,
        "batch_size": {"oneOf": [{"const": "auto"},
                                 _limited("experiment", "batch_size", True)]},
        "max_retries": _limited("experiment", "max_retries", True),
        "max_runs": _whole(1, spec.MAX_RUNS_LIMIT, "refuse a sweep of more runs than this"),
    }
    assert set(properties) == set(spec.SPEC_KEYS), "every key the loader allows, and no other"
    return {"type": "object", "additionalProperties": False,
            "required": ["scenarios", "seeds", "years"], "not": {"required": ["grid", "sample"]},
            "properties": properties}


def _section(kind: str, name: str, keys, extra: dict | None = None) -> dict:
    """A mapping of settings (``history_matching``, ``abc``, ``morris``, ``sobol``)."""
    properties, declared = {}, limits(kind)
    for key in keys:
        if f"{name}.{key}" in declared:
            low, high = declared[f"{name}.{key}"]
            whole = isinstance(low, int) and isinstance(high, int)
            properties[key] = (_whole if whole else _number)(low, high)
    properties |= extra or {}
    assert set(properties) == set(keys), f"every key of {name}"
    return {"type": "object", "additionalProperties": False, "properties": properties}


def frontier_schema(aim: bool = False) -> dict:
    from abm.decision import spec
    from abm.decision.objectives import OBJECTIVES
    from experiments.spec import MAX_RUNS_LIMIT

    properties = {
        "description": _text(),
        "place": {"enum": place_names()},
        "baseline": _text("the status quo scenario every mix is compared with"),
        "levers": {"oneOf": [{"const": "all"}, {"type": "array", "minItems": 1,
                                                 "items": {"type": "string"}}],
                   "description": "all, or a list of levers and switch rules"},
        "ranges": _ranges(),
        "min_share": _limited("frontier", "min_share", False,
                              "a budget share above this switches its rule on"),
        "fixed": parameters_schema(),
        "objectives": _names(OBJECTIVES, "what the search weighs"),
        "optimise": {"enum": list(spec.OPTIMISE)},
        "posterior": _text("'shipped' or a posterior file"),
        "draws": _limited("frontier", "draws", True, "posterior draws per mix"),
        "seeds": _limited("frontier", "seeds", True, "seeds per draw"),
        "master_seed": _limited("frontier", "master_seed", True),
        "years": _limited("frontier", "years", False, "policy years of each run"),
        "search": _section("frontier", "search", spec.SEARCH_DEFAULTS,
                           {"algorithm": {"enum": list(spec.ALGORITHMS)}}),
        "max_runs": _whole(1, MAX_RUNS_LIMIT, "refuse a spec that could need more runs"),
    }
    keys = spec.FRONTIER_KEYS
    if aim:
        properties |= {"aim": {"type": "object", "description": "objective, change, probability"},
                       "strategies": {"type": "array", "items": {"type": "string"}},
                       "vary": {"type": "object", "description": "the lever varied"}}
        keys = spec.AIM_KEYS
    assert set(properties) == set(keys), "every key the loader allows"
    return {"type": "object", "additionalProperties": False, "properties": properties,
            **({"required": ["aim"]} if aim else {})}


def recovery_schema() -> dict:
    from abm.model.parameters import BY_NAME
    from calibration import recovery

    properties = {
        "description": _text(),
        "calibration": _text("the calibration spec recovered (a path, relative to this file)"),
        "pinned": _names(BY_NAME, "the calibrated parameters the targets are meant to pin", 0),
        "truth_seeds": _whole(1, 100, "seeds of each synthetic truth's targets"),
        "truths": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "values"],
            "properties": {"name": _text("a name (letters, digits, _)"),
                           "values": {"type": "object", "minProperties": 1,
                                      "propertyNames": {"enum": sorted(BY_NAME)}}}}},
    }
    assert set(properties) == set(recovery.KEYS), "every key the loader allows"
    return {"type": "object", "additionalProperties": False,
            "required": ["calibration", "truths"], "properties": properties}


def calibration_schema() -> dict:
    from abm.model.parameters import BY_NAME
    from calibration import spec
    from calibration.targets import load_targets

    targets = list(load_targets())
    properties = {
        "description": _text(),
        "places": _names(place_names(), "fitted together"),
        "scenario": _text("the status quo scenario whose parameters are fitted"),
        "parameters": _names(BY_NAME, "the parameters fitted"),
        "ranges": _ranges(),
        "fixed": parameters_schema(),
        "targets": _names(targets, "targets fitted (calibration/targets.yaml)"),
        "held_out": _names(targets, "targets predicted, not fitted"),
        "targets_file": _text("a targets file, relative to this file"),
        "years": _limited("calibration", "years", False, "policy years of each run"),
        "master_seed": _limited("calibration", "master_seed", True),
        "history_matching": _section("calibration", "history_matching", spec.HM_DEFAULTS),
        "abc": _section("calibration", "abc", spec.ABC_DEFAULTS,
                        {"simulator": {"enum": list(spec.ABC_SIMULATORS)},
                         "kernel": {"enum": list(spec.ABC_KERNELS)}}),
        "draws": _limited("calibration", "draws", True),
        "checks": _section("calibration", "checks", spec.CHECKS_DEFAULTS),
    }
    assert set(properties) == set(spec.CALIBRATION_KEYS), "every key the loader allows"
    return {"type": "object", "additionalProperties": False,
            "required": ["places", "parameters", "targets", "years"], "properties": properties}


def sensitivity_schema() -> dict:
    from abm.model.parameters import BY_NAME
    from calibration import spec

    properties = {
        "description": _text(),
        "place": {"enum": place_names()},
        "scenarios": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                      "description": "scenario names or files, the status quo first"},
        "parameters": _names(BY_NAME, "the parameters explored"),
        "ranges": _ranges(),
        "fixed": parameters_schema(),
        "years": _limited("sensitivity", "years", False),
        "seeds": _limited("sensitivity", "seeds", True),
        "master_seed": _limited("sensitivity", "master_seed", True),
        "morris": _section("sensitivity", "morris", spec.MORRIS_DEFAULTS),
        "sobol": _section("sensitivity", "sobol", spec.SOBOL_DEFAULTS,
                          {"method": {"enum": list(spec.SOBOL_METHODS)}}),
    }
    assert set(properties) == set(spec.SENSITIVITY_KEYS), "every key the loader allows"
    return {"type": "object", "additionalProperties": False,
            "required": ["parameters", "years"],
            "anyOf": [{"required": ["morris"]}, {"required": ["sobol"]}],
            "properties": properties}


def targets_schema() -> dict:
    from calibration.outputs import OUTPUTS
    from calibration.targets import REQUIRED, TARGET_KEYS

    entry = {
        "value": {"type": "number"},
        "unit": _text(),
        "sampling_sd": {"type": "number", "minimum": 0},
        "discrepancy_sd": {"type": "number", "minimum": 0},
        "output": {"enum": list(OUTPUTS)},
        "places": {"oneOf": [{"const": "all"}, {"type": "array", "minItems": 1,
                                                "items": {"enum": place_names()}}]},
        "source": {"type": "string", "pattern": r"\S"},
        "note": _text(),
    }
    assert set(entry) == set(TARGET_KEYS), "every key the loader allows"
    return {"type": "object", "additionalProperties": False, "required": ["targets"],
            "properties": {"targets": {
                "type": "object", "minProperties": 1,
                "additionalProperties": {"type": "object", "additionalProperties": False,
                                         "required": list(REQUIRED), "properties": entry}}}}


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("targets", "calibration targets", _load_targets, targets_schema),
    Kind("place", "place", _load_place, place_schema),
    Kind("recovery", "parameter recovery spec", _load_recovery, recovery_schema),
    Kind("aim", "what-it-takes spec", _load_aim, lambda: frontier_schema(aim=True)),
    Kind("frontier", "frontier (best mixes) spec", _load_frontier, frontier_schema),
    Kind("calibration", "calibration spec", _load_calibration, calibration_schema),
    Kind("sensitivity", "sensitivity spec", _load_sensitivity, sensitivity_schema),
    Kind("experiment", "experiment (sweep)", _load_experiment, experiment_schema),
    Kind("scenario", "scenario", _load_scenario, scenario_schema),
)}


def schema(kind: str) -> dict:
    """The JSON Schema of ``kind``, with its title and where it is published."""
    found = KINDS[kind]
    body = found.schema()
    defs = ({"$defs": {"parameter": {p.name: parameter_schema(p) for p in PARAMETERS}}}
            if "#/$defs/parameter/" in json.dumps(body) else {})
    return {"$schema": DRAFT, "$id": f"{found.schema_file}",
            "title": f"{found.title.capitalize()} file of the community assets model",
            "description": "Checked by `abm validate` (the full check); generated by "
                           "`abm schemas` from the parameter declaration and the loaders.",
            **body, **defs}


def schema_text(kind: str) -> str:
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"


# --- detecting a file's kind -------------------------------------------------------------------
def _markers() -> dict[str, set[str]]:
    """The keys that tell each kind, in :data:`KINDS` order: those no later kind uses."""
    from abm.decision.spec import AIM_KEYS, FRONTIER_KEYS
    from calibration.recovery import KEYS as RECOVERY_KEYS
    from calibration.spec import CALIBRATION_KEYS, SENSITIVITY_KEYS
    from experiments.spec import SPEC_KEYS

    keys = {"place": set(place_module.PLACE_KEYS) - {"title"},
            "recovery": set(RECOVERY_KEYS), "aim": set(AIM_KEYS),
            "frontier": set(FRONTIER_KEYS),
            "calibration": set(CALIBRATION_KEYS), "sensitivity": set(SENSITIVITY_KEYS),
            "experiment": set(SPEC_KEYS), "scenario": set(SCENARIO_KEYS)}
    order = list(keys)
    return {kind: keys[kind] - set().union(*(keys[k] for k in order[k + 1:]))
            for k, kind in enumerate(order)}


def detect(data: object) -> str:
    """The kind of file whose YAML content is ``data``, from its keys (scenario when no key
    tells: the scenario loader then says what a scenario allows)."""
    if not isinstance(data, dict):
        return "scenario"
    if set(data) == {"targets"} and isinstance(data["targets"], dict):
        return "targets"
    keys = set(data)
    for kind, markers in _markers().items():
        if keys & markers:
            return kind
    return "scenario"


def check(argument: str, kind: str | None = None) -> tuple[str, list[str]]:
    """Check one file (or a shipped scenario's name) with its kind's loader: (the kind it was
    checked as, its problems, one line each)."""
    path = Path(argument)
    if kind is None:
        if not yamlfile.exists(path):
            kind = "scenario"  # a shipped scenario's name (`abm validate embed`), or a file
            # that is missing: the scenario loader says which
        else:
            try:
                kind = detect(yamlfile.load(path))
            except InputError as error:
                return "file", error.problems
    try:
        KINDS[kind].load(path if yamlfile.exists(path) else argument)
    except InputError as error:
        return kind, error.problems
    return kind, []


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    """Write every kind's schema into ``folder`` (atomically); return the files."""
    from abm.files.io import write_text

    folder.mkdir(parents=True, exist_ok=True)
    return [write_text(schema_text(kind), folder / KINDS[kind].schema_file) for kind in KINDS]
