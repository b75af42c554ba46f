"""Tables for people: numbers rounded to meaningful digits, units in the headers, and which way
things went in words ("the gap narrowed").

A number with an interval is rounded to the second significant digit of the interval's
half-width (more digits would be noise); a number without one to three significant digits.
Each table is a DataFrame of display strings; :data:`SOURCES` says, for every displayed
column holding a number, which column of the raw table it comes from, so a test can check
that every number shown equals the raw one at the precision shown.
"""

from __future__ import annotations

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
from abm.model.metrics import QUINTILES
from abm.model.parameters import BY_NAME

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


def _safe_cell(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


#: Change column -> (words if it went up, words if it went down).
DIRECTION_WORDS = {
    "delta_mean_wellbeing": ("rose", "fell"),
    "delta_gap_q5_q1": ("widened", "narrowed"),
    "delta_sii": ("widened", "narrowed"),
    "delta_p_attending_q1": ("rose", "fell"),
    "wellby_gain": ("gained", "lost"),
    "extra_spend_gbp": ("more", "less"),
}


def direction(column: str, lo: float, hi: float) -> str:
    """Which way a change went, in words, judged by its 95% interval."""
    up, down = DIRECTION_WORDS[column]
    if _finite(lo) and lo > 0:
        return up
    if _finite(hi) and hi < 0:
        return down
    return "no clear change"


#: Display columns of the changes table (T1): label -> (raw column, scale, show words).
CHANGES = {
    "Mean wellbeing (points, 0-10)": ("delta_mean_wellbeing", 1.0, True),
    "q5-q1 gap (points)": ("delta_gap_q5_q1", 1.0, True),
    "Slope index of inequality (points)": ("delta_sii", 1.0, True),
    "Uptake in q1 (percentage points)": ("delta_p_attending_q1", 100.0, True),
    "WELLBYs": ("wellby_gain", 1.0, True),
    "Extra spend (GBP)": ("extra_spend_gbp", 1.0, False),
}


def changes_table(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """T1: each strategy's paired change against the baseline, per place (and point), with
    its 95% interval and which way it went."""
    rows = []
    for _, row in table[table.scenario != baseline].iterrows():
        out = _keys(row, table)
        for label, (column, scale, words) in CHANGES.items():
            text = estimate(row[column], row[f"{column}_lo"], row[f"{column}_hi"], True, scale)
            if words:
                text += f" ({direction(column, row[f'{column}_lo'], row[f'{column}_hi'])})"
            out[label] = text
        out["Value for money"] = row["verdict"]
        rows.append(out)
    return pd.DataFrame(rows)


def cost_table(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """T2: cost per WELLBY gained, whole place and by quintile, with BCa intervals, or the
    verdict where no WELLBYs were clearly gained."""
    rows = []
    for _, row in table[table.scenario != baseline].iterrows():
        out = _keys(row, table)
        for suffix, label in (("", "Whole place"), *((f"_{q}", q) for q in QUINTILES)):
            column = f"cost_per_wellby{suffix}"
            if _finite(row[f"{column}_lo"]):
                out[f"{label} (GBP per WELLBY)"] = estimate(row[column], row[f"{column}_lo"],
                                                            row[f"{column}_hi"])
            else:
                out[f"{label} (GBP per WELLBY)"] = row[f"verdict{suffix}"]
        rows.append(out)
    return pd.DataFrame(rows)


#: Display columns of the per-quintile DCEA table (T3): label -> (raw column, interval).
DCEA_QUINTILE = {
    "People": ("population", False),
    "Health benefit (WELLBYs)": ("health_benefit_wellbys", True),
    "Health benefit (QALYs)": ("health_benefit_qalys", False),
    "Opportunity cost (QALYs)": ("opportunity_cost_qalys", False),
    "Net health benefit (QALYs)": ("net_health_benefit_qalys", True),
    "Net monetary benefit (GBP)": ("net_monetary_benefit_gbp", True),
}


def dcea_quintile_table(by_quintile: pd.DataFrame, basis: str = "undiscounted") -> pd.DataFrame:
    """T3: the DCEA by quintile at the headline threshold and opportunity-cost gradient."""
    chosen = by_quintile[(by_quintile.threshold == HEADLINE_THRESHOLD)
                         & (by_quintile.gradient == HEADLINE_GRADIENT)
                         & (by_quintile.basis == basis)]
    rows = []
    for _, row in chosen.iterrows():
        out = _keys(row, by_quintile) | {"Quintile": row["quintile"]}
        for label, (column, with_interval) in DCEA_QUINTILE.items():
            out[label] = _cell(row, column, with_interval, signed=column != "population")
        rows.append(out)
    return pd.DataFrame(rows)


#: Display columns of the DCEA totals table (T4): label -> (raw column, interval).
DCEA_TOTALS = {
    "Net health benefit (WELLBYs)": ("net_health_benefit_wellbys", True),
    "Net health benefit (QALYs)": ("net_health_benefit_qalys", True),
    "Net monetary benefit (GBP)": ("net_monetary_benefit_gbp", True),
    "Equity impact, aversion 10.95 (WELLBYs)": ("equity_impact_e10_95", True),
    "Fall in SII (wellbeing-years per person)": ("sii_reduction", True),
}


def dcea_totals_table(summary: pd.DataFrame) -> pd.DataFrame:
    """T4: DCEA totals at every threshold, opportunity-cost spread and basis."""
    rows = []
    for _, row in summary.iterrows():
        out = _keys(row, summary) | {
            "Basis": row["basis"], "Horizon (years)": f"{row['horizon_years']:g}",
            "Threshold": row["threshold"], "Opportunity cost spread": row["gradient"]}
        for label, (column, with_interval) in DCEA_TOTALS.items():
            out[label] = _cell(row, column, with_interval, signed=True)
        out["Equity impact plane"] = quadrant(
            row["net_health_benefit_wellbys"], row["equity_impact_e10_95"],
            _spans_zero(row, "net_health_benefit_wellbys", "equity_impact_e10_95"))
        rows.append(out)
    return pd.DataFrame(rows)


def inequality_table(summary: pd.DataFrame, basis: str = "undiscounted") -> pd.DataFrame:
    """T5: Atkinson index and EDE of wellbeing-years per person, before and after, at each
    inequality aversion (headline threshold and gradient)."""
    chosen = summary[(summary.threshold == HEADLINE_THRESHOLD)
                     & (summary.gradient == HEADLINE_GRADIENT) & (summary.basis == basis)]
    rows = []
    for _, row in chosen.iterrows():
        for epsilon in INEQUALITY_AVERSION:
            e = aversion_label(epsilon)
            rows.append(_keys(row, summary) | {
                "Aversion": f"{epsilon:g}",
                "Atkinson index, baseline": number(row[f"atkinson_base_{e}"], 5),
                "Atkinson index, strategy": number(row[f"atkinson_post_{e}"], 5),
                "EDE, baseline (wellbeing-years per person)": number(row[f"ede_base_{e}"], 4),
                "EDE, strategy (wellbeing-years per person)": number(row[f"ede_post_{e}"], 4),
                "Equity-weighted net health benefit (WELLBYs)": _cell(
                    row, f"equity_weighted_nhb_{e}", False, signed=True),
            })
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


#: Raw column behind each displayed numeric column, per table id (for checking).
SOURCES = {
    "T1": {label: column for label, (column, _, _) in CHANGES.items()},
    "T3": {label: column for label, (column, _) in DCEA_QUINTILE.items()},
    "T4": {label: column for label, (column, _) in DCEA_TOTALS.items()},
}


def _cell(row: pd.Series, column: str, with_interval: bool, signed: bool) -> str:
    if with_interval:
        return estimate(row[column], row[f"{column}_lo"], row[f"{column}_hi"], signed)
    return estimate(row[column], signed=signed)


def _keys(row: pd.Series, table: pd.DataFrame) -> dict:
    """Place, strategy, (point where the table has several), seeds."""
    out = {"Place": row["place"], "Strategy": row["scenario"]}
    if "point" in table and table["point"].nunique() > 1:
        out["Point"] = int(row["point"])
    out["Seeds"] = int(row["n_seeds"])
    return out


def _finite(x) -> bool:
    return isinstance(x, numbers.Real) and math.isfinite(x)
