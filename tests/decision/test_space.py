"""The policy space read from the declaration and the rules; the objectives on hand-made rows;
mixes in words; spec problems as one line each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abm.decision import objectives as obj
from abm.decision.outputs import mix_words, share_words
from abm.decision.space import (
    PolicySpace,
    lever_rule,
    rule_levers,
    share_constraints,
    share_rules,
    switch_rules,
)
from abm.decision.spec import load_decision_spec
from abm.files.errors import InputError
from abm.model.commissioning import RULES
from abm.model.parameters import CONSTRAINTS, Params, defaults, levers

WIDE = {"embed_budget_share": [0, 1], "scale_budget_share": [0, 1],
        "develop_budget_share": [0, 1], "budget_uplift": [0, 1]}


@pytest.fixture(scope="module")
def space():
    return PolicySpace.of(None, defaults(), WIDE, exclude=["budget_gbp_per_head"])


def test_shares_switches_and_lever_owners_come_from_the_model():
    owners = share_rules()
    names = {n for c in share_constraints() for n in c.names}
    assert set(owners) == names and len(names) >= 3
    assert len(set(owners.values())) == len(owners), "each share switches its own rule on"
    for share, rule in owners.items():
        assert share in rule_levers()[rule], f"{rule} reads {share}"
    assert set(switch_rules()) == set(RULES) - {"status_quo"} - set(owners.values())
    for p in levers():
        assert lever_rule(p.name) in (None, *RULES)
    assert lever_rule("budget_uplift") is None, "extra money is in force under every rule"


def test_every_repaired_point_keeps_the_constraint_and_decodes_alike(space):
    rng = np.random.default_rng(0)
    binding = 0
    for u in rng.random((1500, space.dim)):
        repaired = space.repair(u)
        mix = space.decode(u)
        assert space.decode(repaired) == mix, "repair moves a point to the mix it decodes to"
        values = {**defaults(), **mix.parameters}
        assert all(c.holds(values) for c in CONSTRAINTS), mix
        Params(mix.parameters)  # the model accepts every mix
        shares = [mix.parameters[n] for n in share_rules()]
        binding += sum(shares) > 0.999
        for name, rule in share_rules().items():
            assert (mix.parameters[name] > 0) == (rule in mix.rules)
    assert binding > 100, "with shares up to 1 each the constraint binds often"


def test_a_share_below_min_share_is_no_money(space):
    index = {d.name: i for i, d in enumerate(space.dimensions)}
    u = np.zeros(space.dim)
    u[index["develop_budget_share"]] = 0.009  # 0.9% of the budget
    mix = space.decode(u)
    assert mix.parameters["develop_budget_share"] == 0 and "develop" not in mix.rules
    u[index["develop_budget_share"]] = 0.25
    assert "develop" in space.decode(u).rules


def test_levers_of_a_rule_that_is_off_make_no_new_mix(space):
    index = {d.name: i for i, d in enumerate(space.dimensions)}
    u = np.full(space.dim, 0.0)
    a, b = u.copy(), u.copy()
    b[index["core_grant_years"]] = 1.0  # sustain is off: its grant length does nothing
    assert space.decode(a) == space.decode(b)
    a[index["sustain"]] = b[index["sustain"]] = 1.0
    assert space.decode(a) != space.decode(b)


def test_a_setting_maps_onto_the_space(space):
    mix = space.mix_of(["develop", "sustain"], {"develop_budget_share": 0.2,
                                                "core_grant_years": 4})
    assert mix.rules == ("sustain", "develop")
    assert space.decode(space.unit_of(mix)) == mix


def write_spec(tmp_path, text: str):
    path = tmp_path / "spec.yaml"
    path.write_text("place: devon_ics\nseeds: 1\nyears: 1\n" + text, encoding="utf-8")
    return path


def test_spec_problems_are_one_line_each(tmp_path):
    path = write_spec(tmp_path, "levers: [budget_uplift, budget_gbp_per_head, no_such, "
                                "scale_support_years]\nposterior: shipped\ndraws: 2\n"
                                "objectives: [wellbys, gap, wellbys]\n")
    with pytest.raises(InputError) as error:
        load_decision_spec(path)
    text = "\n".join(error.value.problems)
    assert "lever 'budget_uplift' has no plausible range: give one under 'ranges'" in text
    assert "lever 'budget_gbp_per_head' is set by the posterior or 'fixed'" in text
    assert "unknown lever 'no_such'" in text
    assert ("lever 'scale_support_years' belongs to rule 'scale', which no searched share or "
            "switch turns on") in text
    assert "'objectives' lists 'wellbys' twice" in text
    assert all(str(path) in p and "\n" not in p for p in error.value.problems)


def test_objectives_pair_by_draw_and_seed_and_say_how_robust():
    base = pd.DataFrame({"draw": [0, 0, 1, 1], "seed": [1, 2, 1, 2],
                         "wellbeing_years_disc": [10.0, 20, 30, 40], "gap_q5_q1": 0.5})
    runs = base.assign(wellbeing_years_disc=base.wellbeing_years_disc + np.array([1, 3, -1, -1]),
                       gap_q5_q1=[0.4, 0.4, 0.6, 0.6])
    chosen = [obj.OBJECTIVES["wellbys"], obj.OBJECTIVES["gap"]]
    paired = obj.changes(runs, base, chosen)
    assert list(paired.wellbys) == [1, 3, -1, -1]
    stats = obj.summarise(paired, chosen)
    assert stats["wellbys"] == pytest.approx(0.5)
    assert stats["wellbys_p_better"] == 0.5  # draw 0 gains (+2), draw 1 loses (-1)
    assert stats["gap_p_better"] == 0.5
    assert stats["gap_worst_decile"] == pytest.approx(0.08)  # lower is better: the 90th pct
    assert obj.units(paired) == "posterior draws"


def test_extra_money_and_core20_gap_on_hand_made_rows():
    row = {"budget_gbp_per_head": 6.0, "budget_uplift": 0.25, "place_population": 1000,
           **{f"wellbeing_q{k}": 7.0 + 0.1 * k for k in range(1, 6)},
           **{f"population_q{k}": 100.0 for k in range(1, 6)}}
    base = {**row, "budget_uplift": 0.0, "wellbeing_q1": 7.0}
    assert obj.OBJECTIVES["extra_money"].change(row, base) == pytest.approx(1500.0)
    # the rest's mean is 7.35 either way; Core20 rose from 7.0 to 7.1: the gap narrowed 0.1
    assert obj.OBJECTIVES["core20_gap"].change(row, base) == pytest.approx(-0.1)


def test_mixes_in_plain_words():
    assert share_words(0.25) == "a quarter" and share_words(0.66) == "two thirds"
    assert share_words(0.12) == "12%"
    words = mix_words(["sustain", "develop", "embed"],
                      {"develop_budget_share": 0.25, "embed_budget_share": 0.1,
                       "scale_budget_share": 0.0, "core_grant_years": 4, "pu_weight": 2.0},
                      defaults(), 1_000_000)
    assert words.startswith("A quarter of the money to community development, a tenth to "
                            "embedding; the rest (65%) to grants: multi-year core grants")
    assert "core grant 4 years" in words and "need" not in words  # PU is off: no pu_weight
