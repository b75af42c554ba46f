"""``abm report``, ``abm plot`` and ``abm discover``: reports, figures and scenario discovery
of a results folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    report.set_defaults(handler=_report)

    plot = commands.add_parser("plot", help="draw a sweep's figures as PNG and SVG")
    plot.add_argument("folder", help="results folder of a sweep")
    plot.add_argument("--out", help="folder for the figures (default: FOLDER/report/figures)")
    plot.add_argument("--only", action="append", metavar="ID",
                      help="only this figure, e.g. F2 (repeatable; default: all)")
    plot.add_argument("--baseline", help="scenario compared against (default: the sweep's)")
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
    discover.set_defaults(handler=_discover)


def _report(args: argparse.Namespace) -> int:
    from abm.report.document import make_report

    written = make_report(args.folder, args.out, args.baseline, args.frontier)
    print(f"Wrote {written['html']} and {written['markdown']}; codebook and labelled table in "
          f"{args.folder}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from abm.analysis.figures import SWEEP_FIGURES, sweep_figures
    from abm.report.document import read_sweep

    unknown = [i for i in args.only or [] if i not in SWEEP_FIGURES]
    if unknown:
        raise InputError(f"--only {', '.join(unknown)}: allowed are "
                         f"{', '.join(SWEEP_FIGURES)}")
    out = Path(args.out) if args.out else Path(args.folder) / "report" / "figures"
    sweep = read_sweep(args.folder, args.baseline)
    records = sweep_figures(sweep.data, out, args.only)
    for record in records:
        print(f"{record.id} {record.title}: {record.files['png']} and .svg")
    skipped = set(args.only or SWEEP_FIGURES) - {r.id for r in records}
    if skipped:
        print(f"Not drawn (this sweep recorded no weekly series): {', '.join(sorted(skipped))}",
              file=sys.stderr)
    return 0


def _discover(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    from abm.analysis.discover import discover

    folder = Path(args.folder)
    if not (folder / "summary.parquet").is_file():
        raise InputError(f"{folder}: no summary.parquet here: allowed is the results folder "
                         "of `abm sweep`")
    if not 0 < args.min_coverage <= 1:
        raise InputError(f"--min-coverage = {args.min_coverage:g}: allowed is a number above 0 "
                         "and at most 1")
    results = pd.read_parquet(folder / "summary.parquet")
    manifest = folder / "manifest.json"
    baseline = args.baseline or (json.loads(manifest.read_text()).get("baseline")
                                 if manifest.is_file() else None)
    found = discover(results, args.outcome, args.threshold, args.below, baseline,
                     args.min_coverage)
    print(found.text())
    return 0
