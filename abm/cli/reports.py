"""``abm report``, ``abm plot`` and ``abm discover``: reports, figures and scenario discovery
of a results folder.

All three read the sweep from its checksummed parts for the runs its manifest lists (never
from ``summary.parquet``); a damaged or wrong-typed input is one line and exit code 2, with
nothing written (``--out`` is checked first, and every file is made before the first is
written); an incomplete sweep is one line and exit code 1, or, with ``--allow-incomplete``,
the runs done, headed as incomplete.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from abm.cli.common import EXIT_INCOMPLETE, report_problem
from abm.files.errors import InputError


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the report, plot and discover commands to ``abm``'s subcommands."""
    report = commands.add_parser(
        "report", help="write a self-contained HTML and Markdown report of a sweep")
    report.add_argument("folder", help="results folder of a sweep (abm sweep --out)")
    report.add_argument("--out", help="folder for the report (default: FOLDER/report)")
    report.add_argument("--baseline", help="scenario compared against (default: the sweep's)")
    report.add_argument("--frontier", help="also the best mixes: a results folder of "
                                           "abm frontier")
    report.add_argument("--uncertainty", metavar="DIR",
                        help="the --out folder of `abm uncertainty` for this sweep (default: "
                             "uncertainty/ beside or inside FOLDER, when it matches)")
    report.add_argument("--docx", action="store_true",
                        help="also write report.docx (Word): every table and figure")
    report.add_argument("--xlsx", action="store_true",
                        help="also write report.xlsx (Excel): every table, with numbers")
    _allow_incomplete(report, "report on")
    report.set_defaults(handler=_report)

    plot = commands.add_parser("plot", help="draw a sweep's figures as PNG and SVG")
    plot.add_argument("folder", help="results folder of a sweep")
    plot.add_argument("--out", help="folder for the figures (default: FOLDER/report/figures)")
    plot.add_argument("--only", action="append", metavar="ID",
                      help="only this figure, e.g. F2 (repeatable; default: all)")
    plot.add_argument("--baseline", help="scenario compared against (default: the sweep's)")
    plot.add_argument("--uncertainty", metavar="DIR",
                      help="the --out folder of `abm uncertainty` for this sweep (for F11)")
    _allow_incomplete(plot, "plot")
    plot.set_defaults(handler=_plot)

    discover = commands.add_parser(
        "discover", help="scenario discovery (PRIM): which inputs lead to an outcome")
    discover.add_argument("folder", help="results folder of a sweep, best a sampled one")
    discover.add_argument("--outcome", required=True,
                          help="a summary column (gap_q5_q1), a paired change "
                               "(delta_gap_q5_q1) or wellby_gain")
    discover.add_argument("--threshold", required=True, type=float,
                          help="cases of interest lie below (or above) this value")
    side = discover.add_mutually_exclusive_group()
    side.add_argument("--below", dest="below", action="store_true", default=None,
                      help="cases are below the threshold (default where lower is better)")
    side.add_argument("--above", dest="below", action="store_false",
                      help="cases are above the threshold (default where higher is better)")
    discover.add_argument("--baseline", help="scenario for paired changes (default: the "
                                             "sweep's)")
    discover.add_argument("--min-coverage", type=float, default=0.5,
                          help="densest box covering at least this share of cases (default 0.5)")
    _allow_incomplete(discover, "use")
    discover.set_defaults(handler=_discover)


def _allow_incomplete(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("--allow-incomplete", action="store_true",
                        help=f"{verb} the runs done even if some are missing, headed as "
                             "incomplete (otherwise an incomplete sweep is an error, exit 1)")


def _incomplete(run):
    """Run ``run()``; an incomplete sweep is one line and exit code 1."""
    from experiments.results import IncompleteSweep

    try:
        return run()
    except IncompleteSweep as error:
        report_problem(str(error))
        return EXIT_INCOMPLETE


def _say(lines: list[str]) -> None:
    from abm.files.errors import printable

    for line in lines:
        print(f"abm: warning: {printable(line)}", file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    from abm.report.document import make_report

    def run() -> int:
        written = make_report(args.folder, args.out, args.baseline,
                              allow_incomplete=args.allow_incomplete,
                              uncertainty=args.uncertainty, docx=args.docx, xlsx=args.xlsx,
                              frontier=args.frontier)
        _say(written.pop("notes", []))
        extra = [str(written[k]) for k in ("docx", "xlsx") if k in written]
        print(f"Wrote {written['html']} and {written['markdown']}"
              + (f" (and {', '.join(extra)})" if extra else "")
              + f"; codebook, labelled table and DCEA tables in {args.folder}")
        return 0

    return _incomplete(run)


def _plot(args: argparse.Namespace) -> int:
    from abm.analysis.figures import SWEEP_FIGURES, draw_figures, unavailable
    from abm.files.io import check_out_folder, write_bytes
    from abm.report.document import read_sweep
    from experiments.results import require_folder

    require_folder(args.folder)
    unknown = [i for i in args.only or [] if i not in SWEEP_FIGURES]
    if unknown:
        raise InputError(f"--only {', '.join(unknown)}: allowed are "
                         f"{', '.join(SWEEP_FIGURES)}")
    out = check_out_folder(Path(args.out) if args.out
                           else Path(args.folder) / "report" / "figures")

    def run() -> int:
        sweep = read_sweep(args.folder, args.baseline, allow_incomplete=args.allow_incomplete,
                           uncertainty=args.uncertainty)
        figures = draw_figures(sweep.data, out, args.only)
        for figure in figures:  # all drawn before the first is written
            for fmt, content in figure.content.items():
                write_bytes(content, figure.record.files[fmt])
        if sweep.incomplete:
            _say([f"{sweep.incomplete}: the figures show only the runs done"])
        for figure in figures:
            r = figure.record
            print(f"{r.id} {r.title}: {r.files['png']} and .svg")
        for figure_id, why in unavailable(sweep.data, args.only).items():
            print(f"Not drawn: {figure_id}: {why}", file=sys.stderr)
        return 0

    return _incomplete(run)


def _discover(args: argparse.Namespace) -> int:
    from experiments.runner import summarise_folder

    if not (math.isfinite(args.min_coverage) and 0 < args.min_coverage <= 1):
        raise InputError(f"--min-coverage = {args.min_coverage:g}: allowed is a number above 0 "
                         "and at most 1")
    if not math.isfinite(args.threshold):
        raise InputError(f"--threshold = {args.threshold:g}: allowed is a finite number")

    def run() -> int:
        summarised = summarise_folder(args.folder, args.baseline, args.allow_incomplete,
                                      purpose="use")
        from abm.analysis.discover import discover  # EMA workbench: slow to import

        if summarised.trusted.incomplete:
            _say([f"{summarised.trusted.incomplete}: discovery uses only the runs done"])
        found = discover(summarised.trusted.results, args.outcome, args.threshold, args.below,
                         summarised.baseline, args.min_coverage)
        print(found.text())
        return 0

    return _incomplete(run)
