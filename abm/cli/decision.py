"""The decision-support commands of ``abm``: ``frontier`` (the best mixes of strategies for a
place) and ``what-it-takes`` (the least money or lever value that reaches a stated aim).

Both count their runs before anything starts and refuse more than the cap (``max_runs`` in
the spec, or ``--max-runs``) with one line; both lock ``--out`` and resume from the runs
stored there (:mod:`abm.decision.search`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from abm.cli.calibration import _executor_options, _working
from abm.files.errors import InputError


def add_parser(commands) -> None:
    """Add the decision-support subcommands to ``abm``'s subparsers."""
    frontier = commands.add_parser(
        "frontier", help="the best mixes of strategies for a place, for efficiency and equity, "
                         "over posterior draws x seeds (resumable)")
    frontier.add_argument("spec", help="frontier spec, e.g. "
                                       "abm/decision/specs/quick_devon_ics.yaml")
    _options(frontier)
    frontier.set_defaults(handler=_frontier)

    takes = commands.add_parser(
        "what-it-takes", help="the cheapest mix (or the lever value for each strategy) that "
                              "reaches a stated aim, or 'not within the plausible ranges'")
    takes.add_argument("spec", help="what-it-takes spec, e.g. "
                                    "abm/decision/specs/quick_narrow_gap.yaml")
    _options(takes)
    takes.set_defaults(handler=_what_it_takes)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="results folder (locked; resumable)")
    _executor_options(parser)  # adds --max-runs (here: refuse a spec that could need more)


def _load(args: argparse.Namespace, aim: bool):
    from abm.decision.spec import load_decision_spec

    if args.max_runs is not None and args.max_runs < 1:
        raise InputError(f"--max-runs = {args.max_runs}: allowed is a whole number >= 1")
    spec = load_decision_spec(args.spec, args.max_runs, aim=aim)
    if aim and spec.aim is None:
        raise InputError(f"{args.spec}: missing key 'aim': allowed is a mapping with objective, "
                         "change and probability")
    print(f"planned: up to {spec.runs_at_most:,} runs {spec.run_count_text()}",
          file=sys.stderr)
    return spec


def _frontier(args: argparse.Namespace) -> int:
    from abm.decision.outputs import write_frontier_outputs
    from abm.decision.search import run_search

    spec = _load(args, aim=False)
    began = time.perf_counter()
    with _working(args) as executor:
        result = run_search(spec, Path(args.out), executor)
    written = write_frontier_outputs(spec, Path(args.out), result)
    print(written["text"].read_text(encoding="utf-8"))
    print(f"{len(result.evaluations)} mixes evaluated, {len(result.frontier)} on the frontier; "
          f"{result.runs_run:,} runs run now ({result.runs_stored:,} stored) in "
          f"{time.perf_counter() - began:.0f} s. Table {args.out}/frontier_table.csv, figure "
          f"{args.out}/frontier.png, scenario files {args.out}/scenarios/")
    return 0


def _what_it_takes(args: argparse.Namespace) -> int:
    from abm.decision.aim import NOT_REACHABLE, run_cheapest, run_vary
    from abm.decision.outputs import mix_words, money_words

    spec = _load(args, aim=True)
    out = Path(args.out)
    print(f"Aim: {spec.aim.words()}.")
    with _working(args) as executor:
        if spec.vary is not None:
            table = run_vary(spec, out, executor)
        else:
            answer = run_cheapest(spec, out, executor)
    if spec.vary is not None:
        for row in table.to_dict("records"):
            print(f"- {row['strategy']}: {row['answer']}")
        print(f"Curves (every value): {out}/curves.csv; answers: {out}/what_it_takes.csv")
        return 0
    name = spec.aim.objective.name
    base = {**dict(spec.baseline.params()), **spec.fixed}
    words = mix_words(answer["rules"].split("+"), answer, base, spec.population,
                      answer.get("extra_money"))
    if answer["reachable"]:
        print(f"Cheapest mix that reaches it: {words}. Extra money: "
              f"{money_words(answer['extra_money'])} a year; reached in "
              f"{answer[name + '_p_reach']:.0%} of draws (mean change {answer[name]:+.4g}).")
    else:
        print(f"{NOT_REACHABLE[0].upper()}{NOT_REACHABLE[1:]}: of the mixes evaluated, the "
              f"closest ({words}) reaches it in {answer[name + '_p_reach']:.0%} of draws with "
              f"{money_words(answer['extra_money'])} a year more (mean change "
              f"{answer[name]:+.4g}).")
    print(f"Every mix evaluated: {out}/evaluations.parquet; answer: {out}/answer.json")
    return 0
