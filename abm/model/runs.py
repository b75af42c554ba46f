"""One run, described completely by a :class:`RunSpec`: the unit of work of compare and sweeps.

A run's id is a hash of everything that determines its result (the resolved parameters, all
of them, defaults included; the place's figures; the rules; the seed; the years; the model
version) and of the labels a report cites it by (scenario name and sweep point). The same
spec gives the same id and the same numbers on any machine, in any process, in any order;
two differently labelled runs never share an id, even when their content is the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from abm.files.errors import InputError
from abm.model.commissioning import parse_rules
from abm.model.parameters import Params
from abm.model.places import load_place
from abm.model.randomness import seed_problem
from abm.version import __version__


@dataclass(frozen=True)
class RunSpec:
    """Everything needed to reproduce one run."""

    scenario: str
    place: str
    rules: tuple[str, ...]
    parameters: tuple[tuple[str, Any], ...]  # changes from the defaults, sorted by name
    seed: int
    years: float  # policy years, after the burn-in
    point: int = 0  # index of the sweep's parameter point (0 when there is no grid)

    @classmethod
    def make(cls, scenario: str, place: str, rules, parameters: dict, seed: int, years: float,
             point: int = 0) -> RunSpec:
        """A spec with rules and seed checked and parameters in canonical order."""
        if (problem := seed_problem(seed)) is not None:
            raise InputError(problem)
        return cls(scenario, place, parse_rules(rules), tuple(sorted(parameters.items())),
                   int(seed), float(years), point)

    @property
    def params(self) -> Params:
        """The full, validated parameter set (``policy_years`` is the spec's years)."""
        return Params({**dict(self.parameters), "policy_years": self.years})

    @property
    def run_id(self) -> str:
        """A stable 16-hex-digit id of the run's content and labels."""
        place = load_place(self.place)
        identity = {
            "scenario": self.scenario,
            "point": self.point,
            "place": {
                "name": place.name,
                "lsoas": place.lsoas,
                "population": place.population,
                "rural_share": place.rural_share,
                "imd_decile_shares": place.imd_decile_shares,
            },
            "rules": list(self.rules),
            "parameters": dict(self.params),
            "seed": self.seed,
            "years": self.years,
            "model_version": __version__,
        }
        text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def execute(spec: RunSpec, weekly: bool = False) -> tuple[dict, pd.DataFrame | None]:
    """Run ``spec``; return its summary row (identity, every parameter, every outcome) and,
    if ``weekly``, its weekly series tagged with the run id."""
    return execute_together([spec], weekly)[0]


def together_key(spec: RunSpec) -> tuple:
    """What runs must share to be run as replicates of one model (abm/model/replicas.py):
    place, rules, years and run size; seeds and other parameters may differ."""
    params = spec.params
    return (spec.place, spec.rules, spec.years, params.n_neighbourhoods,
            params.residents_per_neighbourhood, params.burn_in_years)


def execute_together(specs: list[RunSpec], weekly: bool = False,
                     most: int = 64) -> list[tuple[dict, pd.DataFrame | None]]:
    """Run ``specs``, those that can share a model (:func:`together_key`) as replicates of
    one, at most ``most`` at a time; return (row, weekly series or None) per spec, in the
    order given. Each result is exactly what :func:`execute` gives for the spec alone."""
    from abm.model.model import CommunityAssetsModel

    groups: dict[tuple, list[int]] = {}
    for k, spec in enumerate(specs):
        groups.setdefault(together_key(spec), []).append(k)
    results: list[Any] = [None] * len(specs)
    for indices in groups.values():
        for start in range(0, len(indices), most):
            chunk = indices[start:start + most]
            members = [specs[k] for k in chunk]
            params = [spec.params for spec in members]
            model = CommunityAssetsModel(members[0].place, members[0].rules,
                                         [spec.seed for spec in members], params,
                                         record="weekly" if weekly else "final year").run()
            summary = model.summary()
            series = model.timeseries() if weekly else None
            for r, (k, spec) in enumerate(zip(chunk, members, strict=True)):
                results[k] = _result(spec, params[r], summary.iloc[r].to_dict(), series, r,
                                     len(members))
    return results


def _result(spec: RunSpec, params: Params, outcomes: dict, series: pd.DataFrame | None,
            r: int, replicates: int) -> tuple[dict, pd.DataFrame | None]:
    """A spec's summary row and weekly series (replicate ``r`` of ``replicates``)."""
    run_id = spec.run_id
    row = {
        "run_id": run_id,
        "scenario": spec.scenario,
        "point": spec.point,
        **{k: outcomes.pop(k) for k in ("place", "rules", "seed", "years", "model_version")},
        **dict(params),
        **outcomes,
    }
    if series is not None:
        if replicates > 1:
            series = series[series.replicate == r].drop(columns="replicate").reset_index(
                drop=True)
        series = series.copy()
        series.insert(0, "run_id", run_id)
    return row, series
