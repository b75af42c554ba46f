"""``abm sweep`` and ``abm summarise``: sweep files on Ray (a local one or a cluster) and the
comparison table of a results folder."""

from __future__ import annotations

import argparse

from abm.cli.common import EXIT_INCOMPLETE, report_problem


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add sweep and summarise."""
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
        report_problem(str(error))
        return EXIT_INCOMPLETE
    return 0
