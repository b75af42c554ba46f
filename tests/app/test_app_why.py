"""The app shows why (issue 22, item 6): where the ICS money goes by deprivation fifth, the
staircase of the most deprived fifth, the parts of the gap, and the picture "Save picture"
gives."""

from __future__ import annotations

import copy
import io

import numpy as np
import PIL.Image
import pytest

from abm.app.figure import Charts, Map, WhyFigure, picture
from abm.app.run import Settings, WorkshopRun
from abm.app.why import GAP_PARTS, STAIRCASE, TOUCHABLE, money_per_head, why
from abm.model.providers import WEEKS_PER_YEAR


@pytest.fixture(scope="module")
def played():
    """Scale + embed + sustain in Bradford, two policy years."""
    run = WorkshopRun(Settings.make("bradford", "scale+embed+sustain", seed=2))
    run.advance(2 * WEEKS_PER_YEAR)
    return run


def test_the_money_by_fifth_is_the_ics_money_now(played):
    model = played.model
    per_head = money_per_head(model)
    people = np.bincount(model.hoods.quintile, minlength=5) * model.place.people_per_neighbourhood
    ps, commissioner = model.provider_state, model.commissioner
    total = (((ps.grant + ps.referral_grant) * ps.open).sum()
             + commissioner.ics_link_worker_cost().sum() + commissioner.cd_worker_cost().sum())
    assert np.nansum(per_head * people) == pytest.approx(total), "every pound, once"
    assert total <= commissioner.budget_per_year * 1.5, "about a year's budget"
    values = played.why()
    assert not np.array_equal(values.money[0], values.money[1]), \
        "the strategies place the money otherwise than carrying on as today"


def test_the_staircase_narrows_and_is_counted_for_the_most_deprived_fifth(played):
    values = played.why()
    assert values.staircase.shape == (2, len(STAIRCASE))
    for row in values.staircase:
        need, referred, followed, started, still = row
        assert need > referred >= followed and referred >= started >= still >= 0
    model = played.model
    core20 = model.accounts.staircase["referred"][0, :2].sum()  # the one replicate
    per_resident = model.place.population / model.resident_state.n
    assert values.staircase[0, 1] == pytest.approx(core20 * per_resident / 2), "a year's"


def test_the_parts_add_up_to_the_gap_and_the_sentence_says_what_groups_can_touch(played):
    values = played.why()
    for which in (0, 1):
        total = sum(values.parts[name][which] for name, _ in GAP_PARTS)
        assert total == pytest.approx(values.gap[which], abs=1e-9)
    touch = sum(values.parts[name][1] for name in TOUCHABLE)
    sentence = values.sentence()
    assert f"Of the {values.gap[1]:.2f}-point gap" in sentence
    assert f"can touch about {touch:.2f} points" in sentence
    assert "This choice moved it by" in sentence


def test_a_model_without_the_v3_outputs_says_the_views_wait_for_it(played):
    """The staircase and the parts come from Model v3; a model without them still gives the
    money view, and the others say what they wait for."""
    model, today = (copy.deepcopy(m, {id(m.params): m.params, id(m.place): m.place})
                    for m in (played.model, played.status_quo))  # Params are not copied
    for m in (model, today):
        del m.accounts.staircase
        for name, _ in GAP_PARTS:
            del m.datacollector.model_vars[name]
    values = why(model, today)
    assert values.staircase is None and values.parts is None
    assert values.money.shape == (2, 5)
    assert "waits for a model" in values.sentence()
    PIL.Image.open(io.BytesIO(WhyFigure().png(values))).verify()


def test_save_picture_is_the_charts_with_place_scenario_seed_and_date(played):
    frame = played.frame()
    charts, map_, why_png = Charts(10).png(frame), Map().png(frame), WhyFigure().png(
        played.why())
    caption = ["Community groups and the health gap: Bradford",
               "Scenario: scale + embed + sustain", "Seed 2; saved 2026-12-06 10:00"]
    image = PIL.Image.open(io.BytesIO(picture(charts, map_, why_png, caption)))
    widths = [PIL.Image.open(io.BytesIO(png)).size for png in (charts, map_)]
    assert image.width > widths[0][0] and image.height > widths[0][1] + 100, "all three"
    assert image.text["Title"] == caption[0]
    assert "Seed 2" in image.text["Description"]
    band = np.asarray(image.convert("L"))[:60]
    assert (band < 128).any(), "the caption is written on the picture"
