"""The ``abm`` command line.

Bad input (an unknown parameter, a value out of range, a malformed file, an unknown place
or rule, a folder that cannot be written) prints one line per problem naming what is wrong
and what is allowed, exits with code 2 and writes nothing: every command checks all its input
before it runs or writes anything. A full disk or a missing permission met later is one line
too, with exit code 2. Everything printed is escaped: no control character from a file name or
a YAML key reaches the terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from abm import report_cli, viz_cli
from abm.commissioning import RULES, make_plan, parse_rules
from abm.errors import InputError, clipped, printable, printable_text, shown
from abm.parameters import BY_NAME, PARAMETERS, unknown_name_message
from abm.provenance import version_text
from calibration import cli as calibration_cli

EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 1
#: Longest problem line printed (characters): the first part and the end (what is allowed)
#: of a longer one are kept.
MAX_LINE = 1_000


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``abm`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except InputError as error:
        for problem in error.problems:
            _error(problem)
        return EXIT_BAD_INPUT
    except OSError as error:  # an error no reader or writer turned into a sentence
        _error(f"{error.strerror or type(error).__name__}"
               + (f": {error.filename}" if error.filename else ""))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("abm: interrupted", file=sys.stderr)
        return 130


def _error(problem: str) -> None:
    """Print one problem as one safe line: escaped, and cut in the middle if very long."""
    line = printable(problem)
    if len(line) > MAX_LINE:
        line = f"{line[:MAX_LINE - 300]} ... {line[-290:]}"
    print(f"abm: error: {line}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one escaped line (usage is one ``--help`` away)."""

    def error(self, message: str):
        _error(f"{self.prog}: {message} (see {self.prog} --help)")
        raise SystemExit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="abm",
        description="Community assets and health disparities: an agent-based model for ICSs.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    _add_set(run)
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
    _add_set(compare)
    compare.set_defaults(handler=_compare)

    sweep = commands.add_parser("sweep", help="run a sweep file on Ray (local or a cluster)")
    sweep.add_argument("spec", help="sweep file, e.g. experiments/smoke.yaml")
    sweep.add_argument("--out", required=True, help="results folder (manifest and Parquet)")
    sweep.add_argument("--address", help="Ray cluster: 'auto' or ray://host:10001 (default: "
                                         "start a local Ray)")
    sweep.add_argument("--num-cpus", type=int, help="CPUs for a local Ray (default: all)")
    sweep.add_argument("--max-runs", type=int,
                       help="refuse a sweep of more runs than this (default: the file's "
                            "max_runs, else 100,000)")
    sweep.add_argument("--connect-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="time allowed to connect to the Ray cluster at --address "
                            "(default 30)")
    sweep.add_argument("--resume", action="store_true",
                       help="continue a sweep in --out (re-running the same command does too)")
    sweep.add_argument("--serial", action="store_true",
                       help="run in this process without Ray (for debugging)")
    sweep.set_defaults(handler=_sweep)

    summarise = commands.add_parser("summarise", help="summarise a sweep's results folder")
    summarise.add_argument("folder", help="results folder of a sweep")
    summarise.add_argument("--baseline", help="scenario compared against (default: the sweep's)")
    summarise.add_argument("--allow-incomplete", action="store_true",
                           help="summarise the runs done even if some are missing (otherwise "
                                "an incomplete sweep is an error, exit code 1)")
    summarise.set_defaults(handler=_summarise)

    listing = commands.add_parser("parameters", help="list every parameter with its source")
    listing.add_argument("--group", help="only this group, e.g. providers")
    listing.set_defaults(handler=_parameters)
    commands.add_parser("places", help="list the shipped places").set_defaults(handler=_places)
    commands.add_parser("rules", help="list the commissioning rules").set_defaults(handler=_rules)
    commands.add_parser("scenarios", help="list the shipped scenarios").set_defaults(
        handler=_scenarios)
    viz_cli.add_parser(commands)
    report_cli.add_parser(commands)
    calibration_cli.add_parser(commands)
    return parser


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a parameter, e.g. --set budget_gbp_per_head=12 (repeatable)")


def parse_settings(settings: list[str]) -> dict:
    """``["a=1", "b=0.5"]`` -> ``{"a": 1, "b": 0.5}``, typed by the parameter declaration."""
    values, problems = {}, []
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip()
        if not sep:
            problems.append(
                f"--set {shown(setting)}: allowed is NAME=VALUE, e.g. --set shock_rate=0.005")
            continue
        parameter = BY_NAME.get(name)
        if parameter is None:
            message = unknown_name_message("parameter", clipped(name), BY_NAME,
                                           "abm parameters")
            problems.append(f"--set: {message}")
            continue
        try:
            value = parameter.type(text) if parameter.type is int else float(text)
        except ValueError:
            problems.append(
                f"--set: parameter '{name}' = {shown(text)}: allowed is {parameter.allowed()}")
            continue
        if (problem := parameter.problem_with(value)) is not None:
            problems.append(f"--set: {problem}")
        values[name] = value
    if problems:
        raise InputError(problems)
    return values


def _run(args: argparse.Namespace) -> int:
    from abm.io import check_out_folder, write_parquet_files
    from abm.places import load_place
    from abm.runs import RunSpec, execute, seed_problem
    from abm.scenarios import load_scenario

    problems = []
    scenario = place = parameters = None
    scenario = _collect(problems, load_scenario, args.scenario)
    if scenario is not None or args.place:
        place = _collect(problems, load_place, args.place or scenario.place)
    changes = _collect(problems, parse_settings, args.set)
    if args.rule is not None:
        _collect(problems, parse_rules, args.rule)
    if (problem := seed_problem(args.seed, "--seed")) is not None:
        problems.append(problem)
    _collect(problems, _years, args.years)
    out = _collect(problems, check_out_folder, args.out)
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


def _collect(problems: list[str], check, *args):
    """``check(*args)``, or None with its problems added to ``problems``."""
    try:
        return check(*args)
    except InputError as error:
        problems += error.problems
        return None


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


def _years(years: float) -> float:
    if not 0 < years <= 100:
        raise InputError(f"--years = {years:g}: allowed is a number above 0 and at most 100")
    return years


def _validate(args: argparse.Namespace) -> int:
    from abm.scenarios import validate

    problems = validate(args.files)
    if problems:
        raise InputError(problems)
    print(f"{len(args.files)} file(s) valid")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from abm.compare import format_table, run_serially, specs_for, summary_table
    from abm.io import check_out_folder, write_csv, write_parquet
    from abm.places import load_place
    from abm.scenarios import load_scenario
    from experiments.spec import DEFAULT_MAX_RUNS

    problems = []
    if not 1 <= args.seeds <= 100_000:
        problems.append(f"--seeds = {args.seeds}: allowed is a whole number from 1 to 100,000")
    names = list(dict.fromkeys([args.baseline, *args.scenarios]))
    scenarios = [_collect(problems, load_scenario, name) for name in names]
    for place in args.place or []:
        _collect(problems, load_place, place)
    changes = _collect(problems, parse_settings, args.set)
    _collect(problems, _years, args.years)
    if args.out:
        _collect(problems, check_out_folder, args.out)
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


def _sweep(args: argparse.Namespace) -> int:
    from experiments.runner import run_sweep

    return run_sweep(args.spec, args.out, address=args.address, num_cpus=args.num_cpus,
                     resume=args.resume, serial=args.serial, max_runs=args.max_runs,
                     connect_timeout=args.connect_timeout)


def _summarise(args: argparse.Namespace) -> int:
    from experiments.runner import IncompleteSweep, summarise

    try:
        print(summarise(args.folder, baseline=args.baseline,
                        allow_incomplete=args.allow_incomplete))
    except IncompleteSweep as error:
        _error(str(error))
        return EXIT_INCOMPLETE
    return 0


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


def _places(args: argparse.Namespace) -> int:
    from abm.places import load_place, place_names

    for name in place_names():
        place = load_place(name)
        print(printable(f"{name:<18} {place.title} ({place.lsoas:,} LSOAs, "
                        f"{place.population:,} people)"))
    return 0


def _rules(args: argparse.Namespace) -> int:
    for name, rule in RULES.items():
        print(f"{name:<28} {rule.summary}")
    return 0


def _scenarios(args: argparse.Namespace) -> int:
    from abm.scenarios import load_scenario, scenario_names

    for name in scenario_names():
        print(printable(f"{name:<32} {load_scenario(name).description}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
