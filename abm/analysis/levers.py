"""What "carrying on as today" keeps: the status quo's policy levers.

A comparison with the status quo should change only what a commissioner chooses. Parameters
marked ``lever`` in :mod:`abm.model.parameters` (money, the rules' budget shares, targeting,
grant lengths) are the policy; every other parameter is the world the policy acts in (the
place, how people and providers behave, the evidence). The status quo counterpart of a
scenario keeps the scenario's world and takes the status quo's rules and levers, so extra
money or longer grants show their effect. The workshop app's grey line (abm/app/run.py) and
the EMA adaptor's paired effects (abm/analysis/ema.py) both use :func:`carrying_on`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from abm.model.parameters import BY_NAME, levers
from abm.model.scenarios import load_scenario

#: The scenario every comparison is made against.
STATUS_QUO = "baseline"


@functools.cache
def status_quo_levers() -> dict[str, Any]:
    """The status quo's value of every policy lever: the shipped ``baseline`` scenario's (the
    yardstick every scenario is compared with), else the declared default."""
    baseline = load_scenario(STATUS_QUO).parameters
    return {p.name: p.type(baseline.get(p.name, p.default)) for p in levers()}


def carrying_on(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameter changes of the status quo counterpart of a scenario with
    ``parameters`` (changes from the defaults): its world, and the status quo's levers;
    values equal to the default are left out."""
    world = {name: value for name, value in parameters.items()
             if not BY_NAME[name].lever and value != BY_NAME[name].default}
    today = {name: value for name, value in status_quo_levers().items()
             if value != BY_NAME[name].default}
    return {**world, **today}
