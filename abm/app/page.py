"""The workshop app: the model in a browser, with plain-language sliders, working offline.

Start it with ``abm viz`` (abm/cli/viz.py), or ``solara run abm/app/page.py``. The room picks a
place and a starting scenario, moves sliders (generated from the parameter declaration by
abm/app/controls.py), presses play and watches the policy years: wellbeing and uptake by
deprivation fifth, the gap against a same-seed status-quo ghost, providers opening and
closing, and a map. The facilitator saves what the room chose as a scenario file and a sweep
file (abm/app/save.py).

Every piece of state lives in hooks inside :func:`Page` (``use_reactive``, ``use_memo``),
so each browser session has its own; nothing is a module-level ``solara.reactive``, which
Solara would share between all sessions. Module-level caches hold only results that are a
pure function of their inputs (burned-in models, in abm/app/run.py).
"""

from __future__ import annotations

import os
import sys

# `solara run abm/app/page.py` puts abm/app/ first on sys.path, where its modules (run, save,
# figure, ...) would hide top-level modules of those names: take abm/app/ off again.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

# Solara reads this when it is imported: no usage reports leave the machine. (When
# `solara run` imported Solara before this file, the setting below switches them off.)
os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")

import datetime
import threading
import time
from collections.abc import Callable
from pathlib import Path

import ipyvuetify
import solara
import solara.server.settings
import traitlets

from abm.app import ENV_PLACE, ENV_SAVE_DIR, ENV_SCENARIO
from abm.app.background import background
from abm.app.controls import (
    Slider,
    changes_from_defaults,
    places,
    presets,
    sliders,
    strategies,
)
from abm.app.figure import Charts, Map, WhyFigure, picture
from abm.app.frontier import BestMixes
from abm.app.run import (
    EXTRA_SEEDS,
    WORKSHOP_SIZE,
    Frame,
    SeedPairs,
    Settings,
    WorkshopRun,
    change_in_words,
    compared_with,
    past_year_mean,
    readout,
    warm_up,
    wellbys_in_words,
)
from abm.app.save import Note, save
from abm.app.why import Why
from abm.files.errors import InputError
from abm.model.places import load_place
from abm.model.providers import WEEKS_PER_YEAR
from abm.model.scenarios import load_scenario
from abm.version import __version__

solara.server.settings.telemetry.mixpanel_enable = False
if os.environ.get("SOLARA_APP"):  # served (`abm viz`): start the background worker now, so
    background().submit_batch(warm_up, [()])  # a room's first readout range waits for no start

DEFAULT_SAVE_DIR = "workshop_scenarios"
#: Simulated weeks per second while playing (ten years in 20 s), if the machine keeps up.
PLAY_WEEKS_PER_SECOND = 26
#: Most weeks run between two frames while playing (when drawing is slow).
MAX_WEEKS_PER_FRAME = 26
#: Weeks between redrawings of the "why" views while playing (they change slowly: money at
#: funding rounds, the staircase and the gap's parts over months).
WHY_EVERY_WEEKS = 26
#: Seconds the "why" views of a new run wait before drawing, so that the charts (what a
#: slider move must show within a second) are drawn first.
WHY_DELAY_SECONDS = 0.5
#: Earlier choices of the room offered in "Compare with" (the most recent first).
CHOICES_KEPT = 8
NO_COMPARISON = "nothing (this choice alone)"

CSS = """
.v-application { font-size: 18px; }
.abm-title { font-size: 30px; font-weight: 600; margin: 4px 0; }
.abm-status, .abm-changes { font-size: 18px; color: #333; }
.abm-headline { font-size: 26px; font-weight: 600; line-height: 1.3; }
.abm-range, .abm-uptake { font-size: 21px; }
.abm-method { font-size: 15px; color: #555; }
.abm-group { font-size: 21px; font-weight: 600; margin-top: 10px; }
.abm-slider-label { font-size: 17px; font-weight: 500; margin-top: 8px; }
.abm-help { font-size: 14px; color: #555; margin: -4px 0 8px 0; }
.abm-controls .v-label, .abm-controls .v-input { font-size: 17px; }
.abm-map img, .abm-charts img, .abm-why img { width: 100%; height: auto; }
.abm-compared-with, .abm-wellbys { font-size: 18px; color: #333; }
.abm-why-title { font-size: 24px; font-weight: 600; margin-top: 12px; }
.abm-why-sentence { font-size: 20px; }
.abm-side { font-size: 19px; }
.abm-side-title { font-size: 21px; font-weight: 600; }
.abm-presenting .abm-headline { font-size: 34px; }
.abm-presenting .abm-range, .abm-presenting .abm-uptake,
.abm-presenting .abm-why-sentence { font-size: 26px; }
"""



def starting_settings() -> tuple[Settings, str]:
    """The settings ``abm viz`` asked for (environment), and the starting scenario's name."""
    scenario = load_scenario(os.environ.get(ENV_SCENARIO) or "baseline")
    place = os.environ.get(ENV_PLACE) or scenario.place
    return Settings.make(place, scenario.rules, scenario.parameters), scenario.name


def save_folder() -> Path:
    return Path(os.environ.get(ENV_SAVE_DIR) or DEFAULT_SAVE_DIR)


def run_size_text(settings: Settings) -> str:
    """The workshop run size in words, e.g. '100 neighbourhoods x 30 simulated residents ...'."""
    place = load_place(settings.place)
    hoods, per = WORKSHOP_SIZE["n_neighbourhoods"], WORKSHOP_SIZE["residents_per_neighbourhood"]
    return (f"Workshop size: {hoods} neighbourhoods x {per} simulated residents "
            f"({hoods * per:,} people standing for {place.population:,}); results are scaled "
            "to the place.")


@solara.component
def ParameterSlider(slider: Slider, value: float, on_change: Callable[[str, float], None]):
    """One parameter's slider; it reports a value when released (or moved by keyboard), not
    while dragging, so each move starts one new run."""
    shown, set_shown = solara.use_state(value)
    solara.use_effect(lambda: set_shown(value), [value])  # a preset or another change moved it
    with solara.Column(gap="0px", classes=[f"abm-slider-{slider.name}"]):
        solara.Text(slider.caption(shown), classes=["abm-slider-label"])
        element = solara.v.Slider(
            v_model=shown, on_v_model=set_shown, min=slider.low, max=slider.high,
            step=slider.step, thumb_label=True, hide_details=True, class_="abm-slider")
        solara.v.use_event(element, "change", lambda *args: on_change(
            slider.name, slider.snap(_event_value(args))))
        solara.Text(slider.help, classes=["abm-help"])


def _event_value(args: tuple) -> float:
    """The value sent with a Vuetify 'change' event (widget, event, data)."""
    return float(args[-1])


@solara.component
def Controls(settings: solara.Reactive[Settings], preset: solara.Reactive[str],
             error: solara.Reactive[str | None]):
    """Place, starting scenario, strategies and the sliders, grouped in plain language."""
    current = settings.value

    def apply(make: Callable[[], Settings]) -> None:
        try:
            settings.set(make())
            error.set(None)
        except InputError as problem:
            error.set("That change was not applied: " + "; ".join(problem.problems))

    titles = places()
    solara.Select("Place", values=list(titles.values()), value=titles[current.place],
                  classes=["abm-place"],
                  on_value=lambda title: apply(lambda: current.changed(
                      place=next(n for n, t in titles.items() if t == title))))
    labels = {p.label: p for p in presets()}

    def choose(label: str) -> None:
        chosen = labels[label]
        preset.set(chosen.name)
        apply(lambda: Settings.make(current.place, chosen.scenario.rules,
                                    chosen.scenario.parameters, current.seed))

    chosen = next((p for p in presets() if p.name == preset.value), None)
    solara.Select("Start from a scenario", values=list(labels),
                  value=chosen.label if chosen else None, on_value=choose,
                  classes=["abm-preset"])
    if chosen:
        solara.Text(chosen.scenario.description, classes=["abm-help"])
    solara.Text("Strategies in force", classes=["abm-group"])
    for name, summary in strategies().items():
        def toggle(on: bool, name: str = name) -> None:
            rules = [r for r in current.rules if r != name] + ([name] if on else [])
            apply(lambda: current.changed(rules=rules or ["status_quo"]))

        solara.Checkbox(label=f"{name.replace('_', ' ').capitalize()}: {summary}",
                        value=name in current.rules, on_value=toggle)
    values = current.params
    for group, items in sliders(dict(values)).items():
        solara.Text(group, classes=["abm-group"])
        for slider in items:
            ParameterSlider(slider, values[slider.name],
                            lambda name, value: apply(lambda: current.changed(**{name: value})))


@solara.component
def SaveForm(settings: Settings):
    """The facilitator's form: save the room's choice as a scenario and a sweep file."""
    name = solara.use_reactive("")
    who = solara.use_reactive("")
    when = solara.use_reactive(datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    why = solara.use_reactive("")
    message = solara.use_reactive(("", ""))

    def do_save() -> None:
        try:
            scenario, sweep = save(settings, save_folder(), name.value,
                                   Note(who.value, when.value, why.value))
            message.set(("ok", f"Saved {scenario} and {sweep}. Modellers: "
                               f"abm sweep {sweep} --out results/{name.value}"))
        except InputError as problem:
            message.set(("error", "Not saved: " + "; ".join(problem.problems)))

    with solara.Card("Save this scenario (facilitator)", classes=["abm-save"]):
        solara.InputText("File name (e.g. more_link_workers)", value=name,
                         continuous_update=True)
        solara.InputText("Who chose it", value=who, continuous_update=True)
        solara.InputText("When", value=when, continuous_update=True)
        solara.InputText("Why: what the room wanted to test", value=why,
                         continuous_update=True)
        solara.Button("Save scenario", on_click=do_save, color="primary",
                      disabled=not (name.value.strip() and who.value.strip()
                                    and why.value.strip()))
        kind, text = message.value
        if kind == "ok":
            solara.Success(text, classes=["abm-saved"])
        elif kind == "error":
            solara.Error(text, classes=["abm-save-error"])


class PresentButton(ipyvuetify.VuetifyTemplate):
    """The "Presentation mode" button: a click asks the browser for full screen (a request
    only a click in the page itself may make) and flips ``presenting``; leaving full screen
    (Esc) leaves presentation mode too."""

    presenting = traitlets.Bool(False).tag(sync=True)
    template = traitlets.Unicode("""
<template>
  <v-btn :class="presenting ? 'abm-leave-present' : 'abm-present'" @click="flip()">
    {{ presenting ? 'Leave presentation mode' : 'Presentation mode (full screen)' }}
  </v-btn>
</template>
<script>
module.exports = {
  mounted() {
    this.onChange = () => { if (!document.fullscreenElement && this.presenting) {
      this.presenting = false; } };
    document.addEventListener("fullscreenchange", this.onChange);
  },
  destroyed() { document.removeEventListener("fullscreenchange", this.onChange); },
  methods: {
    flip() {
      const root = document.documentElement;
      if (!this.presenting && !document.fullscreenElement && root.requestFullscreen) {
        root.requestFullscreen().catch(() => {});
      } else if (this.presenting && document.fullscreenElement) {
        document.exitFullscreen().catch(() => {});
      }
      this.presenting = !this.presenting;
    },
  },
};
</script>
""").tag(sync=True)


def choice_label(settings: Settings, place: bool = True) -> str:
    """A choice of the room in a few words: place (unless ``place`` is False), strategies
    and what it changed."""
    strategies = " + ".join(r.replace("_", " ") for r in settings.rules)
    changes = changes_from_defaults(settings.params)
    more = f" and {len(changes) - 2} more" if len(changes) > 2 else ""
    changed = f" ({'; '.join(changes[:2])}{more})" if changes else ""
    where = f"{load_place(settings.place).title}: " if place else ""
    return f"{where}{strategies}{changed}"


def compare_options(current: Settings, choices: list[Settings]) -> dict[str, Settings | None]:
    """What "Compare with" offers: nothing, the room's earlier choices (most recent first),
    and the shipped presets in the current place; label -> settings. A choice is run with the
    current seed whatever seed it had, so choices that differ only in their seed are one."""
    options: dict[str, Settings | None] = {NO_COMPARISON: None}
    earlier = [(f"Earlier: {choice_label(c)}", c) for c in reversed(choices)]
    shipped = [(f"Preset: {p.label}", Settings.make(current.place, p.scenario.rules,
                                                    p.scenario.parameters, current.seed))
               for p in presets()]
    for label, choice in (*earlier, *shipped):
        if not same_choice(choice, current) and not any(
                same_choice(choice, other) for other in options.values() if other):
            options.setdefault(label, choice)
    return options


def same_choice(a: Settings | None, b: Settings | None) -> bool:
    """Whether two choices are the same but for their seed."""
    if a is None or b is None:
        return a is b
    return (a.place, a.rules, dict(a.changes)) == (b.place, b.rules, dict(b.changes))


def picture_caption(settings: Settings, frame_year: float, horizon: float,
                    started_from: str, compared: Settings | None) -> list[str]:
    """The lines written on a saved picture: place, scenario, seed, when and what made it."""
    place = load_place(settings.place).title
    changes = changes_from_defaults(settings.params)
    lines = [
        f"Community groups and the health gap: {place}",
        f"Scenario: {' + '.join(r.replace('_', ' ') for r in settings.rules)} (started from "
        f"'{started_from}'); changed: {'; '.join(changes) or 'nothing'}",
        f"Seed {settings.seed}; policy year {frame_year:.1f} of {horizon:g}; workshop size; "
        f"saved {datetime.datetime.now():%Y-%m-%d %H:%M}; model {__version__} (abm viz)",
    ]
    if compared is not None:
        lines.append(f"Compared with: {choice_label(compared)}")
    return lines


def saved_picture(settings: Settings, started_from: str, why_figure: WhyFigure, frame: Frame,
                  charts_png: bytes, map_png: bytes, why: Why,
                  compared: Settings | None) -> bytes:
    """The PNG "Save picture" gives for one frame: its caption, map, charts and "why" views."""
    caption = picture_caption(settings, frame.policy_year, frame.horizon_weeks / WEEKS_PER_YEAR,
                              started_from, compared)
    return picture(charts_png, map_png, why_figure.png(why), caption)


@solara.component
def SideBySide(run: WorkshopRun, frame_weeks: int):
    """Two of the room's choices side by side, same seed, each against carrying on as
    today."""
    rows = [("This choice", run.settings, run.gap_difference(), run.wellbys(),
             run.model.datacollector.model_vars["p_attending_q1"][-1]),
            ("Compared with", run.compared, run.other_gap_difference(), run.other_wellbys(),
             run.other.datacollector.model_vars["p_attending_q1"][-1])]
    one_place = run.settings.place == run.compared.place
    with solara.Columns([1, 1], classes=["abm-compare"]):
        for title, settings, difference, wellbys, uptake in rows:
            with solara.Card(), solara.Column(gap="6px", classes=["abm-side"]):
                solara.Text(f"{title}: {choice_label(settings, place=not one_place)}",
                            classes=["abm-side-title"])
                change = past_year_mean(difference, frame_weeks)
                gap = ("The gap: press play or step to compare." if frame_weeks == 0 else
                       f"The gap is {change_in_words(change)} than carrying on as today "
                       "(past year).")
                solara.Text(gap, classes=["abm-side"])
                solara.Text(wellbys_in_words(wellbys), classes=["abm-side"])
                solara.Text(f"In the most deprived fifth {uptake:.0%} take part now.",
                            classes=["abm-side"])


@solara.component
def RunView(run: WorkshopRun, pairs: SeedPairs, on_restart: Callable[[], None],
            on_new_seed: Callable[[], None], compare_choices: dict[str, Settings | None],
            on_compare: Callable[[Settings | None], None], presenting: bool,
            on_presenting: Callable[[bool], None], started_from: str):
    """The run: status, readout, play controls, map and charts, the "why" views, and a
    comparison when one is chosen. Only this component redraws while playing; the controls
    beside it do not."""
    settings = run.settings
    playing = solara.use_reactive(False)
    tick = solara.use_reactive(0)
    drawn = solara.use_memo(threading.Event, [])  # set once a frame's pictures are made
    charts = solara.use_memo(lambda: Charts(run.horizon_weeks / WEEKS_PER_YEAR),
                             [run.horizon_weeks])
    map_figure = solara.use_memo(Map, [])
    why_figure = solara.use_memo(WhyFigure, [])
    frame = solara.use_memo(run.frame, [run, tick.value])
    charts_png = solara.use_memo(lambda: charts.png(frame), [charts, frame])
    map_png = solara.use_memo(lambda: map_figure.png(frame), [frame])
    drawn.set()
    # The "why" views, drawn in a thread of their own (the play loop does not wait for them),
    # every WHY_EVERY_WEEKS weeks while playing and at every frame otherwise.
    why_key = (frame.policy_weeks // WHY_EVERY_WEEKS if playing.value and not run.finished
               else frame.policy_weeks)
    why_now = solara.use_memo(run.why, [run, why_key])

    def draw_why(cancel: threading.Event) -> bytes | None:
        if why_now.weeks == 0 and cancel.wait(WHY_DELAY_SECONDS):
            return None
        return why_figure.png(why_now)

    why_png = solara.use_thread(draw_why, dependencies=[why_now])
    why_shown = solara.use_ref(None)  # the last "why" picture, kept while the next is drawn
    on_screen = solara.use_ref(None)  # what Save picture draws: the latest frame's parts
    if why_png.value is not None:
        why_shown.current = why_png.value

    def play(cancel: threading.Event) -> None:
        """Advance and draw in turn, as many weeks per frame as keep PLAY_WEEKS_PER_SECOND
        (one week per frame when drawing is fast, more when it is slow)."""
        weeks = 1
        while playing.value and not cancel.is_set() and not run.finished:
            began = time.perf_counter()
            run.advance(weeks)
            drawn.clear()
            tick.set(tick.value + 1)
            drawn.wait(timeout=10)
            took = time.perf_counter() - began
            cancel.wait(max(weeks / PLAY_WEEKS_PER_SECOND - took, 0.0))
            weeks = max(1, min(MAX_WEEKS_PER_FRAME, round(took * PLAY_WEEKS_PER_SECOND)))
        if run.finished:
            playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, run], intrusive_cancel=False)

    def wait_for_pairs(cancel: threading.Event) -> None:
        """Redraw the readout as each background seed pair finishes."""
        for future in pairs.futures:
            while not cancel.is_set() and not future.done():
                cancel.wait(0.25)
            if cancel.is_set():
                return
            tick.set(tick.value + 1)

    solara.use_thread(wait_for_pairs, dependencies=[pairs], intrusive_cancel=False)

    def step_year() -> None:
        run.advance(WEEKS_PER_YEAR)
        tick.set(tick.value + 1)

    text = readout(frame, run.gap_difference(), pairs.done(), EXTRA_SEEDS, run.wellbys())
    strategies_text = " + ".join(r.replace("_", " ") for r in settings.rules)
    solara.Text(f"{load_place(settings.place).title} · {strategies_text} · seed "
                f"{settings.seed} · policy year {frame.policy_year:.1f} of "
                f"{frame.horizon_weeks / WEEKS_PER_YEAR:g}", classes=["abm-status"])
    changes = changes_from_defaults(run.model.params)
    solara.Text("Changed from the model's defaults: " + ("; ".join(changes) or "nothing"),
                classes=["abm-changes"])
    solara.Text(text.headline, classes=["abm-headline"])
    solara.Text(text.range, classes=["abm-range"])
    solara.Text(text.uptake, classes=["abm-uptake"])
    solara.Text(text.wellbys, classes=["abm-wellbys"])
    solara.Text(compared_with(settings), classes=["abm-compared-with"])
    with solara.Row():
        solara.Button("❚❚ Pause" if playing.value else "▶ Play",
                      on_click=lambda: playing.set(not playing.value), color="primary",
                      disabled=run.finished, classes=["abm-play"])
        solara.Button("Step one year", on_click=step_year,
                      disabled=playing.value or run.finished, classes=["abm-step"])
        solara.Button("Back to the start", on_click=lambda: (playing.set(False), on_restart()),
                      classes=["abm-restart"])
        solara.Button("Another seed", on_click=on_new_seed, classes=["abm-seed"])
        PresentButton.element(presenting=presenting, on_presenting=on_presenting)

        # Save picture draws what is on screen when it is pressed. FileDownload drops a
        # requested download when its data changes, and this view redraws many times a second
        # while playing and as background seed pairs finish, so its data is one callable for
        # the run's life that reads the latest frame from a ref.
        on_screen.current = (frame, charts_png, map_png, why_now, run.compared)
        picture_bytes = solara.use_memo(
            lambda: lambda: saved_picture(settings, started_from, why_figure, *on_screen.current),
            [settings, started_from, why_figure])

        with solara.Div(classes=["abm-save-picture"]):
            solara.FileDownload(
                picture_bytes, label="Save picture", mime_type="image/png",
                filename=f"{settings.place}_{'+'.join(settings.rules)}_seed{settings.seed}_"
                         f"{datetime.date.today():%Y-%m-%d}.png")
    labels = {label: value for label, value in compare_choices.items()}
    current = next((label for label, value in labels.items()
                    if same_choice(value, run.compared)), NO_COMPARISON)
    solara.Select("Compare with (same seed)", values=list(labels), value=current,
                  on_value=lambda label: on_compare(labels[label]), classes=["abm-compare-with"])
    if run.compared is not None:
        SideBySide(run, frame.policy_weeks)
    with solara.Columns([1, 2]):
        solara.Image(map_png, classes=["abm-map"])
        solara.Image(charts_png, classes=["abm-charts"])
    solara.Text("Why: where the money goes, who takes part, what part of the gap groups can "
                "touch", classes=["abm-why-title"])
    if why_shown.current is not None:
        solara.Image(why_shown.current, classes=["abm-why"])
    solara.Text(why_now.sentence(), classes=["abm-why-sentence"])
    solara.Text(text.method, classes=["abm-method"])
    solara.Text(run_size_text(settings), classes=["abm-method"])


@solara.component
def Page():
    start, start_name = solara.use_memo(starting_settings, [])
    settings = solara.use_reactive(start)
    preset = solara.use_reactive(start_name)
    error = solara.use_reactive(None)
    restarts = solara.use_reactive(0)
    compare = solara.use_reactive(None)
    presenting = solara.use_reactive(False)
    # The room's choices this session, oldest first: a plain list kept across renders (a
    # reactive one would render the page twice after each change).
    choices = solara.use_memo(list, [])
    if settings.value not in choices:
        choices.append(settings.value)
        del choices[:-CHOICES_KEPT]
    run = solara.use_memo(lambda: WorkshopRun(settings.value, compare.value),
                          [settings.value, compare.value, restarts.value])
    pairs = solara.use_memo(lambda: SeedPairs(settings.value), [settings.value])
    solara.use_effect(lambda: pairs.cancel, [pairs])
    options = solara.use_memo(lambda: compare_options(settings.value, choices),
                              [settings.value])

    def run_view() -> None:
        RunView(run, pairs, lambda: restarts.set(restarts.value + 1),
                lambda: settings.set(settings.value.changed(seed=settings.value.seed + 1)),
                options, compare.set, presenting.value, presenting.set, preset.value)

    solara.Title("Community groups and the health gap")
    solara.Style(CSS)
    if presenting.value:
        with solara.Column(classes=["abm-presenting"]):
            solara.Text("Community groups and the health gap", classes=["abm-title"])
            run_view()
        return
    with solara.Columns([1, 3]):
        with solara.Column(classes=["abm-controls"]):
            Controls(settings, preset, error)
            if error.value:
                solara.Error(error.value, classes=["abm-error"])
        with solara.Column():
            solara.Text("Community groups and the health gap", classes=["abm-title"])
            run_view()
            SaveForm(settings.value)
            BestMixes(settings)
