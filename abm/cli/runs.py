"""``abm run``, ``validate``, ``compare`` and the listings (``parameters``, ``rules``,
``scenarios``; places are listed by :mod:`abm.cli.places`): one run, file checks, a comparison
on this machine, and what is shipped."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from abm.cli.common import add_set, check_years, collect, parse_settings
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

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", nargs="+", help="scenario names or files")
    validate.set_defaults(handler=_validate)

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
        ("ICS spend over the policy years (GBP)", f"{row['spend_gbp']:,.0f}"),
        ("Wellbeing-years lived (WELLBY units)", f"{row['wellbeing_years']:,.0f}"),
    ]
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)


def _validate(args: argparse.Namespace) -> int:
    from abm.model.scenarios import validate

    problems = validate(args.files)
    if problems:
        raise InputError(problems)
    print(f"{len(args.files)} file(s) valid")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from abm.analysis.compare import format_table, run_serially, specs_for, summary_table
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
        write_csv(table, Path(args.out) / "comparison.csv")
    return 0


def _with(scenario, changes: dict):
    from dataclasses import replace

    return replace(scenario, parameters={**scenario.parameters, **changes})


def _parameters(args: argparse.Namespace) -> int:
    chosen = [p for p in PARAMETERS if args.group in (None, p.group)]
    if not chosen:
        groups = sorted({p.group for p in PARAMETERS})
        raise InputError(unknown_name_message("group", clipped(args.group), groups))
    frame = pd.DataFrame([{
        "name": p.name, "default": p.default, "range": f"{p.low:g} to {p.high:g}",
        "unit": p.unit, "group": p.group, "source": p.source,
    } for p in chosen])
    with pd.option_context("display.max_colwidth", 70, "display.width", 250):
        print(frame.to_string(index=False))
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
