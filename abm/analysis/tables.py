"""Tables for people: numbers rounded to meaningful digits, units in the headers, and which way
things went in words ("the gap narrowed").

A number with an interval is rounded to the second significant digit of the interval's
half-width (more digits would be noise); a number without one to three significant digits.
Each table is a DataFrame of display strings; :data:`SOURCES` says, for every displayed
column holding a number, which column of the raw table it comes from, so a test can check
that every number shown equals the raw one at the precision shown.
"""

from __future__ import annotations

import functools
import math
import numbers
import re

import pandas as pd

from abm.analysis.dcea import (
    HEADLINE_GRADIENT,
    HEADLINE_THRESHOLD,
    INEQUALITY_AVERSION,
    aversion_label,
)
from abm.model.commissioning import RULES
from abm.model.metrics import QUINTILES
from abm.model.parameters import BY_NAME
from abm.model.places import load_place, place_names

#: A number as tables print it: optional sign, digits with thousands commas, decimals.
NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?")


def decimals(value: float, lo: float | None = None, hi: float | None = None) -> int:
    """Decimal places worth showing (negative: round to tens, hundreds...): two significant
    digits of the interval's half-width, or three of the value when there is no interval."""
    spread = (hi - lo) / 2 if _finite(lo) and _finite(hi) and hi > lo else None
    reference = spread if spread else abs(value)
    if not _finite(reference) or reference == 0:
        return 0
    return (2 if spread else 3) - 1 - math.floor(math.log10(reference))


def number(value: float, places: int, signed: bool = False) -> str:
    """``value`` rounded to ``places`` decimals (negative: to tens, hundreds...), with
    thousands commas and, if ``signed``, always a sign."""
    if not _finite(value):
        return "n/a"
    value = round(value, places) + 0.0  # + 0.0 turns a rounded -0.0 into 0.0
    places = max(places, 0)
    return f"{value:+,.{places}f}" if signed else f"{value:,.{places}f}"


def estimate(value: float, lo: float | None = None, hi: float | None = None,
             signed: bool = False, scale: float = 1.0) -> str:
    """'value [lo, hi]' rounded to meaningful digits (``scale`` multiplies all three, e.g.
    100 for percentages)."""
    value, lo, hi = (x * scale if _finite(x) else x for x in (value, lo, hi))
    places = decimals(value, lo, hi)
    text = number(value, places, signed)
    if _finite(lo) and _finite(hi):
        text += f" [{number(lo, places, signed)}, {number(hi, places, signed)}]"
    return text


def parse_numbers(text: str) -> list[float]:
    """The numbers in a displayed cell, in order."""
    return [float(x.replace(",", "")) for x in NUMBER.findall(str(text))]


def shown_decimals(text: str) -> int:
    """Decimal places of the first number in a displayed cell (0 for whole numbers; rounding
    to tens or more is not visible in the text, so checks allow for it separately)."""
    match = NUMBER.search(str(text))
    return len(match.group().split(".")[1]) if match and "." in match.group() else 0


# --- names for people -----------------------------------------------------------------------
#: Scenario ids that mean the status quo.
STATUS_QUO = ("baseline", "status_quo")


@functools.lru_cache(maxsize=256)
def place_name(place: str) -> str:
    """A place as people call it: a shipped place's title up to its first colon or comma ("Devon
    ICS"), else the id with spaces ("my place")."""
    if place in place_names():
        try:
            return load_place(place).title.split(":")[0].split(",")[0].strip()
        except Exception:  # a shipped file that does not load: its id is still a name
            pass
    return str(place).rsplit("/", 1)[-1].removesuffix(".yaml").replace("_", " ")


@functools.lru_cache(maxsize=256)
def strategy_name(scenario: str) -> str:
    """A scenario as people call it: "Status quo" for the baseline; rules joined by " + "
    for a scenario named after its rules ("scale_embed_sustain" -> "Scale + embed +
    sustain"); otherwise the id with spaces; a folder becomes a note in brackets
    ("mechanisms/no_assets" -> "No assets (mechanisms)")."""
    folder, _, name = str(scenario).removesuffix(".yaml").rpartition("/")
    words = name.split("_")
    rules, i = [], 0
    while i < len(words):
        two = "_".join(words[i:i + 2])
        if two in RULES:
            rules.append(two.replace("_", " "))
            i += 2
        elif words[i] in RULES:
            rules.append(words[i])
            i += 1
        else:
            rules = []
            break
    if name in STATUS_QUO:
        text = "status quo"
    elif rules:
        text = " + ".join(rules)
    else:
        text = name.replace("_", " ")
    text = text[:1].upper() + text[1:]
    return f"{text} ({folder.replace('_', ' ').replace('/', ', ')})" if folder else text


def in_sentence(scenario: str) -> str:
    """A strategy's name inside a sentence: "the status quo", "Scale"."""
    name = strategy_name(scenario)
    return f"the {name.lower()}" if name == "Status quo" else name


def rate_words(rate: float) -> str:
    """A discount rate in words: 0.015 -> 'discounted at 1.5% a year'; 0 -> 'undiscounted'."""
    if not _finite(rate) or rate == 0:
        return "undiscounted"
    return f"discounted at {rate * 100:g}% a year"


def basis_words(table: pd.DataFrame | None = None) -> tuple[str, str]:
    """The basis of discounted WELLBYs and of discounted money in ``table`` (its
    ``discount_rate_health`` and ``discount_rate_costs`` columns, else the declared defaults),
    in words: ('discounted at 1.5% a year', 'discounted at 3.5% a year')."""
    words = []
    for name in ("discount_rate_health", "discount_rate_costs"):
        values = (set(table[name].dropna()) if table is not None and name in table else set())
        rates = sorted(values) or [float(BY_NAME[name].default)]
        words.append(" or ".join(rate_words(r) for r in rates))
    return words[0], words[1]


#: Characters that make a spreadsheet read a text cell as a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that a spreadsheet opens without running anything: every text cell
    (and column name) starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading apostrophe, as OWASP advises; numbers stay numbers (so "-2,500 [...]" as
    text reads "'-2,500 [...]", while the number -2500 is written as it is)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(_safe_cell)
    out.columns = [_safe_cell(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as spreadsheet-safe CSV bytes (UTF-8, no index), as reports write tables."""
    return spreadsheet_safe(frame).to_csv(index=False).encode("utf-8")


def _safe_cell(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


#: Change column -> (words if it went up, words if it went down).
DIRECTION_WORDS = {
    "delta_mean_wellbeing": ("rose", "fell"),
    "delta_gap_q5_q1": ("widened", "narrowed"),
    "delta_sii": ("widened", "narrowed"),
    "delta_p_attending_q1": ("rose", "fell"),
    "wellby_gain": ("gained", "lost"),
    "wellby_gain_disc": ("gained", "lost"),
    "extra_spend_gbp": ("more", "less"),
    "extra_spend_gbp_disc": ("more", "less"),
}
#: Suffixes of the numeric columns that stand beside each labelled column in a table's CSV
#: and Excel forms: the estimate and its interval, unrounded.
NUMERIC = (": estimate", ": lower", ": upper")


def direction(column: str, lo: float, hi: float) -> str:
    """Which way a change went, in words, judged by its 95% interval."""
    up, down = DIRECTION_WORDS[column]
    if _finite(lo) and lo > 0:
        return up
    if _finite(hi) and hi < 0:
        return down
    return "no clear change"


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """The labelled columns of a table (what the report shows), without the numeric columns
    beside them."""
    return frame[[c for c in frame.columns if not str(c).endswith(NUMERIC)]]


def put(out: dict, label: str, value, lo=math.nan, hi=math.nan, *, signed: bool = False,
         scale: float = 1.0, words: str | None = None, places: int | None = None) -> None:
    """Add a labelled cell ('value [lo, hi] (words)', rounded to meaningful digits) to the
    row ``out``, and beside it the numeric estimate, lower and upper bound (times
    ``scale``, unrounded) that a spreadsheet can sum and sort."""
    value, lo, hi = (float(x) * scale if _finite(x) else math.nan for x in (value, lo, hi))
    text = estimate(value, lo, hi, signed) if places is None else number(value, places, signed)
    if words:
        text += f" ({words})"
    out[label] = text
    out |= dict(zip((label + s for s in NUMERIC), (value, lo, hi), strict=True))


def changes_columns(health: str, costs: str) -> dict[str, tuple[str, float, bool]]:
    """Display columns of the changes table (T1): label -> (raw column, scale, words), the
    WELLBY and money columns naming their basis (the Green Book headline: discounted)."""
    return {
        "Mean wellbeing (points, 0-10)": ("delta_mean_wellbeing", 1.0, True),
        "q5-q1 gap (points)": ("delta_gap_q5_q1", 1.0, True),
        "Slope index of inequality (points)": ("delta_sii", 1.0, True),
        "Uptake in q1 (percentage points)": ("delta_p_attending_q1", 100.0, True),
        f"WELLBYs ({health})": ("wellby_gain_disc", 1.0, True),
        f"Extra spend (GBP, {costs})": ("extra_spend_gbp_disc", 1.0, False),
    }


VERDICT = "Verdict: value for money and the gap"


def changes_table(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """T1: each strategy's paired change against the baseline, per place (and point), with
    its 95% interval and which way it went; WELLBYs and money discounted (the basis named
    in the header); the one-line verdict (value for money and the gap)."""
    rows = []
    for _, row in table[table.scenario != baseline].iterrows():
        out = _keys(row, table)
        for label, (column, scale, words) in changes_columns(*basis_words(table)).items():
            lo, hi = row[f"{column}_lo"], row[f"{column}_hi"]
            put(out, label, row[column], lo, hi, signed=True, scale=scale,
                 words=direction(column, lo, hi) if words else None)
        out[VERDICT] = row.get("verdict_equity") or row["verdict"]
        rows.append(out)
    return pd.DataFrame(rows)


def cost_table(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """T2: cost per WELLBY gained (discounted spend per discounted WELLBY), whole place and
    by quintile, with BCa intervals, or the verdict where no WELLBYs were clearly gained."""
    health, costs = basis_words(table)
    basis = "both undiscounted" if health == costs == "undiscounted" else "both discounted"
    rows = []
    for _, row in table[table.scenario != baseline].iterrows():
        out = _keys(row, table)
        for suffix, label in (("", "Whole place"), *((f"_{q}", q) for q in QUINTILES)):
            column = f"cost_per_wellby{suffix}"
            header = f"{label} (GBP per WELLBY, {basis})"
            if _finite(row[f"{column}_lo"]):
                put(out, header, row[column], row[f"{column}_lo"], row[f"{column}_hi"])
            else:
                put(out, header, math.nan)
                out[header] = row[f"verdict{suffix}"]
        rows.append(out)
    return pd.DataFrame(rows)


def dcea_quintile_columns(basis: str) -> dict[str, tuple[str, bool]]:
    """Display columns of the per-quintile DCEA table (T3): label -> (raw column,
    interval), naming the basis."""
    return {
        "People": ("population", False),
        f"Health benefit (WELLBYs, {basis})": ("health_benefit_wellbys", True),
        f"Health benefit (QALYs, {basis})": ("health_benefit_qalys", False),
        f"Opportunity cost (QALYs, {basis})": ("opportunity_cost_qalys", False),
        f"Net health benefit (QALYs, {basis})": ("net_health_benefit_qalys", True),
        f"Net monetary benefit (GBP, {basis})": ("net_monetary_benefit_gbp", True),
    }


def dcea_quintile_table(by_quintile: pd.DataFrame, basis: str = "undiscounted") -> pd.DataFrame:
    """T3: the DCEA by quintile at the headline threshold and opportunity-cost gradient."""
    chosen = by_quintile[(by_quintile.threshold == HEADLINE_THRESHOLD)
                         & (by_quintile.gradient == HEADLINE_GRADIENT)
                         & (by_quintile.basis == basis)]
    rows = []
    for _, row in chosen.iterrows():
        out = _keys(row, by_quintile) | {"Quintile": row["quintile"]}
        for label, (column, with_interval) in dcea_quintile_columns(basis).items():
            _cell(out, label, row, column, with_interval, signed=column != "population")
        rows.append(out)
    return pd.DataFrame(rows)


def dcea_totals_columns(basis: str) -> dict[str, tuple[str, bool]]:
    """Display columns of the DCEA totals table (T4): label -> (raw column, interval)."""
    return {
        f"Net health benefit (WELLBYs, {basis})": ("net_health_benefit_wellbys", True),
        f"Net health benefit (QALYs, {basis})": ("net_health_benefit_qalys", True),
        f"Net monetary benefit (GBP, {basis})": ("net_monetary_benefit_gbp", True),
        f"Equity impact, aversion 10.95 (WELLBYs, {basis})": ("equity_impact_e10_95", True),
        f"Fall in SII (wellbeing-years per person, {basis})": ("sii_reduction", True),
    }


def dcea_totals_table(summary: pd.DataFrame, basis: str | None = None) -> pd.DataFrame:
    """T4: DCEA totals at every threshold and opportunity-cost spread, on one basis (the
    headline, discounted where recorded, unless ``basis`` says otherwise)."""
    basis = basis or headline_basis(summary)
    rows = []
    for _, row in summary[summary.basis == basis].iterrows():
        out = _keys(row, summary) | {
            "Horizon (years)": f"{row['horizon_years']:g}", "Threshold": row["threshold"],
            "Opportunity cost spread": row["gradient"]}
        for label, (column, with_interval) in dcea_totals_columns(basis).items():
            _cell(out, label, row, column, with_interval, signed=True)
        out["Equity impact plane"] = quadrant(
            row["net_health_benefit_wellbys"], row["equity_impact_e10_95"],
            _spans_zero(row, "net_health_benefit_wellbys", "equity_impact_e10_95"))
        rows.append(out)
    return pd.DataFrame(rows)


def headline_basis(frame: pd.DataFrame) -> str:
    """The basis reports lead with: "discounted" (the Green Book's) where recorded."""
    return ("discounted" if "basis" in frame and (frame["basis"] == "discounted").any()
            else "undiscounted")


def inequality_table(summary: pd.DataFrame, basis: str = "undiscounted") -> pd.DataFrame:
    """T5: Atkinson index and EDE of wellbeing-years per person, before and after, at each
    inequality aversion (headline threshold and gradient)."""
    chosen = summary[(summary.threshold == HEADLINE_THRESHOLD)
                     & (summary.gradient == HEADLINE_GRADIENT) & (summary.basis == basis)]
    rows = []
    for _, row in chosen.iterrows():
        for epsilon in INEQUALITY_AVERSION:
            e = aversion_label(epsilon)
            out = _keys(row, summary) | {"Aversion": f"{epsilon:g}"}
            put(out, "Atkinson index, baseline", row[f"atkinson_base_{e}"], places=5)
            put(out, "Atkinson index, strategy", row[f"atkinson_post_{e}"], places=5)
            put(out, f"EDE, baseline (wellbeing-years per person, {basis})",
                 row[f"ede_base_{e}"], places=4)
            put(out, f"EDE, strategy (wellbeing-years per person, {basis})",
                 row[f"ede_post_{e}"], places=4)
            _cell(out, f"Equity-weighted net health benefit (WELLBYs, {basis})", row,
                  f"equity_weighted_nhb_{e}", False, signed=True)
            rows.append(out)
    return pd.DataFrame(rows)


def concentration_table(summary: pd.DataFrame, basis: str = "undiscounted") -> pd.DataFrame:
    """T11: the concentration index of wellbeing-years per person across IMD quintiles
    (ranked most to least deprived) in the baseline and with each strategy's net health
    benefit added, and its fall, each with a 95% interval over seeds (headline threshold,
    gradient and basis)."""
    chosen = summary[(summary.threshold == HEADLINE_THRESHOLD)
                     & (summary.gradient == HEADLINE_GRADIENT) & (summary.basis == basis)]
    rows = []
    for _, row in chosen.iterrows():
        out = _keys(row, summary)
        _cell(out, "Concentration index, baseline", row, "ci_base", True, signed=True)
        _cell(out, "Concentration index, strategy", row, "ci_post", True, signed=True)
        _cell(out, "Fall in the concentration index (above 0: less inequality)", row,
              "ci_reduction", True, signed=True)
        out["In words"] = _fall_words(row["ci_reduction_lo"], row["ci_reduction_hi"])
        rows.append(out)
    return pd.DataFrame(rows)


def _fall_words(lo: float, hi: float) -> str:
    if _finite(lo) and lo > 0:
        return "health less concentrated among the less deprived"
    if _finite(hi) and hi < 0:
        return "health more concentrated among the less deprived"
    return "no clear change"


def profile_table(profile: pd.DataFrame, basis: str = "undiscounted") -> pd.DataFrame:
    """T12: equally distributed equivalent wellbeing-years per person and the equity impact
    at each Atkinson and Kolm inequality aversion (the English public's marked), on one
    basis."""
    rows = []
    for _, row in profile[profile.basis == basis].iterrows():
        out = _keys(row, profile) | {
            "Measure": "Atkinson (relative)" if row["measure"] == "atkinson"
            else "Kolm (absolute, per QALY)",
            "Aversion": f"{row['aversion']:g}"
                        + (" (English public)" if row["english_public"] else "")}
        _cell(out, f"EDE, baseline (wellbeing-years per person, {basis})", row, "ede_base",
              True)
        _cell(out, f"EDE, strategy (wellbeing-years per person, {basis})", row, "ede_post",
              True)
        _cell(out, f"Equity impact (WELLBYs, {basis}; above 0: inequality fell)", row,
              "equity_impact", True, signed=True)
        rows.append(out)
    return pd.DataFrame(rows)


def core20_table(core20: pd.DataFrame, labels: dict[str, tuple[str, str]],
                 baseline: str) -> pd.DataFrame:
    """T6: Core20 (the most deprived fifth nationally) against the rest for every outcome
    recorded by quintile: levels, paired changes against the baseline and the difference
    between the changes, with 95% intervals. ``labels``: outcome -> (label, unit)."""
    rows = []
    for _, row in core20.iterrows():
        label, unit = labels[row["outcome"]]
        out = _keys(row, core20) | {"Outcome": label, "Unit": unit}
        _cell(out, "Core20 (most deprived 20%)", row, "core20", True)
        _cell(out, "The rest (other 80%)", row, "rest", True)
        if row["scenario"] == baseline:
            for name in ("Change in Core20", "Change in the rest",
                         "Core20's change minus the rest's"):
                put(out, name, math.nan)
                out[name] = ""
            out["In words"] = "(the baseline)"
        else:
            _cell(out, "Change in Core20", row, "delta_core20", True, signed=True)
            _cell(out, "Change in the rest", row, "delta_rest", True, signed=True)
            _cell(out, "Core20's change minus the rest's", row, "delta_core20_minus_rest",
                  True, signed=True)
            lo, hi = row["delta_core20_minus_rest_lo"], row["delta_core20_minus_rest_hi"]
            out["In words"] = ("rose more (or fell less) in Core20" if _finite(lo) and lo > 0
                               else "rose less (or fell more) in Core20"
                               if _finite(hi) and hi < 0 else "no clear difference")
        rows.append(out)
    return pd.DataFrame(rows)


def quintile_table(by_quintile: pd.DataFrame, labels: dict[str, tuple[str, str]],
                   baseline: str) -> pd.DataFrame:
    """T14: participation and NHS costs by IMD quintile and for the whole place: levels in
    each strategy and each strategy's paired change against the baseline, with 95%
    intervals and which way it went. ``labels``: outcome -> (label, unit); outcomes in per
    cent change by percentage points."""
    outcomes = [k for k in labels if k in by_quintile]
    rows = []
    for _, row in by_quintile.iterrows():
        out = _keys(row, by_quintile) | {"Quintile": QUINTILE_WORDS.get(row["quintile"],
                                                                         row["quintile"])}
        for stem in outcomes:
            _cell(out, f"{labels[stem][0]} ({labels[stem][1]})", row, stem, True)
        for stem in outcomes:
            label, unit = labels[stem]
            change = unit.replace("% of residents", "percentage points")
            if row["scenario"] == baseline:
                put(out, f"Change: {label} ({change})", math.nan)
                out[f"Change: {label} ({change})"] = "(the baseline)"
                continue
            lo, hi = row[f"delta_{stem}_lo"], row[f"delta_{stem}_hi"]
            up, down = ("costs more", "saves") if unit.startswith("GBP") else ("rose", "fell")
            words = up if _finite(lo) and lo > 0 else (
                down if _finite(hi) and hi < 0 else "no clear change")
            put(out, f"Change: {label} ({change})", row[f"delta_{stem}"], lo, hi, signed=True,
                words=words)
        rows.append(out)
    return pd.DataFrame(rows)


#: Quintiles as tables name them.
QUINTILE_WORDS = {"q1": "q1 (most deprived, Core20)", "q5": "q5 (least deprived)"}


def sii_table(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """T7: inequality in each strategy: the q5-q1 gap, the slope index of inequality (SII,
    across IMD deciles) and the relative index (RII), levels with 95% intervals over seeds,
    and the paired change in the SII against the baseline with its interval."""
    rows = []
    for _, row in table.iterrows():
        out = _keys(row, table)
        _cell(out, "q5-q1 gap (points)", row, "gap_q5_q1", True)
        _cell(out, "Slope index of inequality (points)", row, "sii", True)
        if "rii" in row:
            _cell(out, "Relative index of inequality (ratio)", row, "rii", True)
        if row["scenario"] == baseline:
            put(out, "Change in the SII (points)", math.nan)
            out["Change in the SII (points)"] = "(the baseline)"
        else:
            lo, hi = row["delta_sii_lo"], row["delta_sii_hi"]
            put(out, "Change in the SII (points)", row["delta_sii"], lo, hi, signed=True,
                 words=direction("delta_sii", lo, hi))
        rows.append(out)
    return pd.DataFrame(rows)


def staircase_table(staircase: pd.DataFrame, steps: dict[str, str],
                    share_of: dict[str, str], benefit: str) -> pd.DataFrame:
    """T8: the inequality staircase by quintile: each step per 1,000 residents a year with
    its 95% interval over seeds, the share of the earlier step it keeps, and the benefit of
    referred starters while attending."""
    rows = []
    for _, row in staircase.iterrows():
        out = _keys(row, staircase) | {"Quintile": row["quintile"]}
        for step, meaning in steps.items():
            _cell(out, f"{meaning[:1].upper()}{meaning[1:]} (per 1,000 residents a year)",
                  row, step, True)
            if step in share_of:
                put(out, f"  share of '{share_of[step]}' (%)", row[f"share_{step}"],
                     scale=100.0)
        _cell(out, "Benefit while attending (points)", row, benefit, True)
        rows.append(out)
    return pd.DataFrame(rows)


def decomposition_table(decomposition: pd.DataFrame, labels: dict[str, str],
                        baseline: str) -> pd.DataFrame:
    """T9: the q5-q1 gap in its parts (final policy year) and each strategy's paired change
    in each part, with 95% intervals."""
    rows = []
    for _, row in decomposition.iterrows():
        out = _keys(row, decomposition) | {"Part of the gap": labels[row["part"]]}
        _cell(out, "Level (points)", row, "value", True, signed=True)
        if row["scenario"] == baseline:
            put(out, "Change against the baseline (points)", math.nan)
            out["Change against the baseline (points)"] = "(the baseline)"
        else:
            lo, hi = row["delta_value_lo"], row["delta_value_hi"]
            words = direction("delta_gap_q5_q1", lo, hi)
            put(out, "Change against the baseline (points)", row["delta_value"], lo, hi,
                 signed=True, words=words)
        rows.append(out)
    return pd.DataFrame(rows)


def quadrant(net_health_benefit: float, equity_impact: float,
             uncertain: bool = False) -> str:
    """Where a strategy lies on the equity impact plane, in words (``uncertain``: an interval
    includes zero, so the quadrant is not settled)."""
    if not (_finite(net_health_benefit) and _finite(equity_impact)):
        return "n/a"
    health = "more health" if net_health_benefit > 0 else "less health"
    equity = "less inequality" if equity_impact > 0 else "more inequality"
    tag = {("more health", "less inequality"): " (win-win)",
           ("less health", "more inequality"): " (lose-lose)"}.get((health, equity), "")
    return f"{health}, {equity}{tag}" + (" - uncertain: an interval includes zero"
                                         if uncertain else "")


def _spans_zero(row: pd.Series, *columns: str) -> bool:
    return any(not (row[f"{c}_lo"] > 0 or row[f"{c}_hi"] < 0) for c in columns)


def _cell(out: dict, label: str, row: pd.Series, column: str, with_interval: bool,
          signed: bool = False) -> None:
    if with_interval and f"{column}_lo" in row:
        put(out, label, row[column], row[f"{column}_lo"], row[f"{column}_hi"],
             signed=signed)
    else:
        put(out, label, row[column], signed=signed)


def _keys(row: pd.Series, table: pd.DataFrame) -> dict:
    """Place and strategy by name, (point where the table has several), seeds."""
    out = {"Place": place_name(row["place"]), "Strategy": strategy_name(row["scenario"])}
    if "point" in table and table["point"].nunique() > 1:
        out["Point"] = int(row["point"])
    out["Seeds"] = int(row["n_seeds"])
    return out


def _finite(x) -> bool:
    return isinstance(x, numbers.Real) and math.isfinite(x)
