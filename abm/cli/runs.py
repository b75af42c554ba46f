"""``abm run``, ``validate``, ``compare`` and the listings (``parameters``, ``rules``,
``scenarios``; places are listed by :mod:`abm.cli.places`): one run, file checks, a comparison
on this machine, and what is shipped."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from abm.cli.common import add_set, check_years, collect, parse_settings
from abm.cli.filekinds import KINDS
from abm.files.errors import InputError, clipped, printable, printable_text, unknown_name_message
from abm.model.commissioning import RULES, make_plan, parse_rules
from abm.model.parameters import PARAMETERS


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add run, validate, compare, parameters, rules and scenarios."""
    run = commands.add_parser("run", help="run one scenario and print its outcomes")
    run.add_argument("scenario", nargs="?", default="baseline",
                     help="scenario name or file (default: baseline, the status quo)")
    run.add_argument("--place", help="place name or file (default: the scenario's place)")
    run.add_argument("--rule",
                     help="commissioning rules, e.g. scale+embed (default: the scenario's)")
    run.add_argument("--years", type=float, default=10.0,
                     help="policy years after the burn-in (default 10)")
    run.add_argument("--seed", type=int, default=0,
                     help="random seed, 0 to 2**63 - 1 (default 0)")
    add_set(run)
    run.add_argument("--out", default="results/runs", help="folder for the Parquet files")
    run.set_defaults(handler=_run)

    validate = commands.add_parser(
        "validate", help="check files users write (scenarios, places, experiments, "
                         "calibration and sensitivity specs, targets) without running them")
    validate.add_argument("files", nargs="+", help="files, or shipped scenarios' names")
    validate.add_argument("--kind", choices=list(KINDS),
                          help="check every file as this kind (default: told by its keys)")
    validate.set_defaults(handler=_validate)

    schemas = commands.add_parser(
        "schemas", help="write a JSON Schema of each kind of file, for editors")
    schemas.add_argument("--out", default="schemas", help="folder (default: schemas)")
    schemas.set_defaults(handler=_schemas)

    compare = commands.add_parser(
        "compare", help="run scenarios with the same seeds and compare each with the baseline")
    compare.add_argument("scenarios", nargs="+", help="scenario names or files")
    compare.add_argument("--place", action="append",
                         help="place (repeat for several; default: each scenario's own place)")
    compare.add_argument("--seeds", type=int, default=5, help="seeds per scenario (default 5)")
    compare.add_argument("--years", type=float, default=10.0, help="policy years (default 10)")
    compare.add_argument("--baseline", default="baseline", help="scenario compared against")
    compare.add_argument("--out", help="folder to write runs.parquet and comparison.csv")
    add_set(compare)
    compare.set_defaults(handler=_compare)

    listing = commands.add_parser("parameters", help="list every parameter with its source")
    listing.add_argument("--group", help="only this group, e.g. providers")
    listing.add_argument("--format", choices=("text", "csv", "json"), default="text",
                         help="text wrapped to the terminal (default), or csv or json with "
                              "one row per parameter")
    listing.set_defaults(handler=_parameters)
    commands.add_parser("rules", help="list the commissioning rules").set_defaults(handler=_rules)
    commands.add_parser("scenarios", help="list the shipped scenarios").set_defaults(
        handler=_scenarios)


def _run(args: argparse.Namespace) -> int:
    from abm.files.io import check_out_folder, write_parquet_files
    from abm.model.places import load_place
    from abm.model.runs import RunSpec, execute, seed_problem
    from abm.model.scenarios import load_scenario

    problems = []
    scenario = place = parameters = None
    scenario = collect(problems, load_scenario, args.scenario)
    if scenario is not None or args.place:
        place = collect(problems, load_place, args.place or scenario.place)
    changes = collect(problems, parse_settings, args.set)
    if args.rule is not None:
        collect(problems, parse_rules, args.rule)
    if (problem := seed_problem(args.seed, "--seed")) is not None:
        problems.append(problem)
    collect(problems, check_years, args.years)
    out = collect(problems, check_out_folder, args.out)
    if problems:
        raise InputError(problems)
    parameters = {**scenario.parameters, **changes}
    spec = RunSpec.make(scenario.name, args.place or scenario.place, args.rule or scenario.rules,
                        parameters, args.seed, args.years)
    make_plan(spec.rules, spec.params)  # the rules' budget shares, checked before running
    print(printable(f"Running '{scenario.name}' in {place.title}, rules "
                    f"{'+'.join(spec.rules)}, seed {spec.seed}, {spec.years:g} years after a "
                    f"{spec.params.burn_in_years}-year burn-in ..."), file=sys.stderr)
    row, weekly = execute(spec, weekly=True)
    stem = f"{scenario.name.replace('/', '__')}_{place.name}_seed{spec.seed}_{row['run_id']}"
    # The summary first: a weekly file is never there without its summary.
    write_parquet_files([(pd.DataFrame([row]), out / f"{stem}_summary.parquet"),
                         (weekly, out / f"{stem}_weekly.parquet")])
    print(_outcome_table(row))
    print()
    print(printable(f"Wrote {out / (stem + '_summary.parquet')} and {stem}_weekly.parquet "
                    f"(run id {row['run_id']})"))
    return 0


def _outcome_table(row: dict) -> str:
    """Key outcomes of one run as a two-column table."""
    lines = [
        ("Mean wellbeing (life satisfaction 0-10, final year)", f"{row['mean_wellbeing']:.3f}"),
        ("  most deprived quintile (q1)", f"{row['wellbeing_q1']:.3f}"),
        ("  least deprived quintile (q5)", f"{row['wellbeing_q5']:.3f}"),
        ("Gap q5 - q1 (points)", f"{row['gap_q5_q1']:.3f}"),
        ("Slope index of inequality (points)", f"{row['sii']:.3f}"),
        ("Relative index of inequality", f"{row['rii']:.4f}"),
        ("Attending an asset, all / q1 / q5",
         f"{row['p_attending']:.1%} / {row['p_attending_q1']:.1%} / {row['p_attending_q5']:.1%}"),
        ("Drop-outs per attender-year, q1 / q5",
         f"{row['dropout_rate_q1']:.2f} / {row['dropout_rate_q5']:.2f}"),
        ("Providers open (final-year mean)", f"{row['n_open_providers']:,.0f}"),
        ("Provider closures per year", f"{row['closures_per_year']:,.0f}"),
        ("Providers open at the start still open", f"{row['provider_survival']:.0%}"),
        ("ICS spend over the policy years (GBP, undiscounted)", f"{row['spend_gbp']:,.0f}"),
        ("  discounted at discount_rate_costs", f"{row['spend_gbp_disc']:,.0f}"),
        ("Wellbeing-years lived (WELLBY units, undiscounted)", f"{row['wellbeing_years']:,.0f}"),
        ("  discounted at discount_rate_health", f"{row['wellbeing_years_disc']:,.0f}"),
    ]
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)


def _validate(args: argparse.Namespace) -> int:
    """Check each file with the loader of its kind; list every problem, one line each (and
    nothing on stdout), or each file's kind when all are valid."""
    from abm.cli.filekinds import check

    problems, kinds = [], []
    for name in args.files:
        kind, found = check(name, args.kind)
        kinds.append(kind)
        unknown = next((k for k, p in enumerate(found) if "unknown key" in p), None)
        if args.kind is None and kind in KINDS and unknown is not None:
            found[unknown] += (f" (checked as a {KINDS[kind].title} file, as its keys tell; "
                               "--kind chooses another)")
        problems += found
    if problems:
        raise InputError(problems)
    for name, kind in zip(args.files, kinds, strict=True):
        print(printable(f"{name}: a valid {KINDS[kind].title} file"))
    print(f"{len(args.files)} file(s) valid")
    return 0


def _schemas(args: argparse.Namespace) -> int:
    from abm.cli.filekinds import write_schemas
    from abm.files.io import check_out_folder

    for path in write_schemas(check_out_folder(args.out)):
        print(printable(f"Wrote {path}"))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from abm.analysis.compare import format_table, run_serially, specs_for, summary_table
    from abm.analysis.tables import spreadsheet_safe
    from abm.files.io import check_out_folder, write_csv, write_parquet
    from abm.model.places import load_place
    from abm.model.scenarios import load_scenario
    from experiments.spec import DEFAULT_MAX_RUNS

    problems = []
    if not 1 <= args.seeds <= 100_000:
        problems.append(f"--seeds = {args.seeds}: allowed is a whole number from 1 to 100,000")
    names = list(dict.fromkeys([args.baseline, *args.scenarios]))
    scenarios = [collect(problems, load_scenario, name) for name in names]
    for place in args.place or []:
        collect(problems, load_place, place)
    changes = collect(problems, parse_settings, args.set)
    collect(problems, check_years, args.years)
    if args.out:
        collect(problems, check_out_folder, args.out)
    runs = len(names) * len(args.place or [None]) * args.seeds
    if runs > DEFAULT_MAX_RUNS and args.seeds <= 100_000:  # worked out, not listed
        problems.append(f"compare would make {runs:,} runs: allowed is at most "
                        f"{DEFAULT_MAX_RUNS:,}; use `abm sweep` for more")
    if problems:
        raise InputError(problems)
    scenarios = [_with(s, changes) for s in scenarios]
    specs = specs_for(scenarios, args.place, args.seeds, args.years)
    for spec in specs:
        spec.params  # noqa: B018  (validate every merged parameter set before running any)

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} runs", end="" if done < total else "\n", file=sys.stderr)

    results = run_serially(specs, progress)
    table = summary_table(results, baseline=scenarios[0].name)
    print(printable_text(format_table(table, baseline=scenarios[0].name)))
    if args.out:
        write_parquet(results, Path(args.out) / "runs.parquet")
        write_csv(spreadsheet_safe(table), Path(args.out) / "comparison.csv")
    return 0


def _with(scenario, changes: dict):
    from dataclasses import replace

    return replace(scenario, parameters={**scenario.parameters, **changes})


#: Columns of ``abm parameters --format csv|json``, one row per parameter.
PARAMETER_COLUMNS = ("name", "type", "default", "low", "high", "plausible_low",
                     "plausible_high", "unit", "group", "label", "lever", "meaning", "source")


def parameter_rows(parameters) -> list[dict]:
    """One row per parameter for CSV and JSON: numbers as numbers (whole numbers as
    integers), no plausible range as empty (null)."""
    return [{"name": p.name, "type": "integer" if p.type is int else "number",
             "default": p.default, "low": p.low, "high": p.high,
             "plausible_low": p.plausible_low, "plausible_high": p.plausible_high,
             "unit": p.unit, "group": p.group, "label": p.label, "lever": p.lever,
             "meaning": p.meaning, "source": p.source} for p in parameters]


def number_text(value: int | float) -> str:
    """A parameter's value for people: whole numbers as such (with thousands separators),
    others to ten significant figures without trailing zeros."""
    return f"{value:,}" if isinstance(value, int) else f"{value:.10g}"


def parameter_text(p, width: int) -> str:
    """One parameter, wrapped to ``width`` columns: name, default, range and unit; its
    meaning; its source."""
    import textwrap

    plausible = ("" if p.plausible_low is None else
                 f"; plausible {number_text(p.plausible_low)} to {number_text(p.plausible_high)}")
    head = (f"{p.name} = {number_text(p.default)}  ({'whole number' if p.type is int else 'number'}"
            f" from {number_text(p.low)} to {number_text(p.high)}{plausible}; {p.unit})  "
            f"[{p.group}{', lever' if p.lever else ''}]")
    body = [textwrap.fill(head, width, subsequent_indent="    "),
            textwrap.fill(p.meaning, width, initial_indent="    ", subsequent_indent="    "),
            textwrap.fill(f"source: {p.source}", width, initial_indent="    ",
                          subsequent_indent="        ")]
    return "\n".join(body)


def _parameters(args: argparse.Namespace) -> int:
    import csv
    import io
    import json
    import shutil

    chosen = [p for p in PARAMETERS if args.group in (None, p.group)]
    if not chosen:
        groups = sorted({p.group for p in PARAMETERS})
        raise InputError(unknown_name_message("group", clipped(args.group), groups))
    if args.format == "json":
        print(json.dumps(parameter_rows(chosen), indent=1, ensure_ascii=False))
    elif args.format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, PARAMETER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(parameter_rows(chosen))
        print(out.getvalue(), end="")
    else:
        width = max(shutil.get_terminal_size(fallback=(100, 24)).columns - 1, 40)
        print("\n".join(printable_text(parameter_text(p, width)) for p in chosen))
    return 0


def _rules(args: argparse.Namespace) -> int:
    for name, rule in RULES.items():
        print(f"{name:<28} {rule.summary}")
    return 0


def _scenarios(args: argparse.Namespace) -> int:
    from abm.model.scenarios import load_scenario, scenario_names

    for name in scenario_names():
        print(printable(f"{name:<32} {load_scenario(name).description}"))
    return 0
