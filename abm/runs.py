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

from abm import __version__
from abm.commissioning import parse_rules
from abm.errors import InputError, shown
from abm.parameters import Params
from abm.places import load_place

#: Largest seed: ``SeedSequence`` takes any whole number >= 0, but results store the seed as a
#: Parquet int64, so a larger one could run and then fail to be written.
MAX_SEED = 2**63 - 1


def seed_problem(seed: object, name: str = "seed") -> str | None:
    """What is wrong with a run seed (None if nothing): a whole number from 0 to 2**63 - 1."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        return f"{name} = {shown(seed)}: allowed is a whole number from 0 to 2**63 - 1"
    return None


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
        """The full, validated parameter set."""
        return Params(dict(self.parameters))

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
    from abm.model import CommunityAssetsModel

    params = spec.params
    model = CommunityAssetsModel(spec.place, spec.rules, spec.seed, params).run(spec.years)
    outcomes = model.summary().iloc[0].to_dict()
    run_id = spec.run_id
    row = {
        "run_id": run_id,
        "scenario": spec.scenario,
        "point": spec.point,
        **{k: outcomes.pop(k) for k in ("place", "rules", "seed", "years", "model_version")},
        **dict(params),
        **outcomes,
    }
    series = None
    if weekly:
        series = model.timeseries()
        series.insert(0, "run_id", run_id)
    return row, series
