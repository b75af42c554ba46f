"""The calibration commands of ``abm``: targets, calibrate, sensitivity, uncertainty, patterns,
diagnose, robustness.

``abm/cli/__init__.py`` calls :func:`add_parser`; bad input raises
:class:`abm.files.errors.InputError` (one line per problem, exit code 2).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shutil
import sys
from pathlib import Path

from abm.cli.common import parse_settings
from abm.files.errors import InputError, printable


def add_parser(commands) -> None:
    """Add the calibration subcommands to ``abm``'s subparsers."""
    targets = commands.add_parser("targets", help="check and list the calibration targets")
    targets.add_argument("file", nargs="?", help="targets file (default: the shipped one)")
    targets.set_defaults(handler=_targets)

    calibrate = commands.add_parser(
        "calibrate", help="history matching then ABC-SMC against the targets (resumable)")
    calibrate.add_argument("spec", help="calibration spec, e.g. calibration/specs/devon_ics.yaml")
    calibrate.add_argument("--out", required=True, help="results folder")
    _executor_options(calibrate)
    calibrate.set_defaults(handler=_calibrate)

    sensitivity = commands.add_parser(
        "sensitivity", help="Morris screening and Sobol indices of levels and policy effects")
    sensitivity.add_argument("spec", help="sensitivity spec, e.g. "
                                          "calibration/specs/sensitivity.yaml")
    sensitivity.add_argument("--out", required=True, help="results folder")
    _executor_options(sensitivity)
    sensitivity.set_defaults(handler=_sensitivity)

    uncertainty = commands.add_parser(
        "uncertainty", help="a sweep's comparison over posterior draws x seeds: probabilities")
    uncertainty.add_argument("sweep", help="sweep file, e.g. experiments/main.yaml")
    uncertainty.add_argument("--posterior", required=True,
                             help="posterior.parquet of a calibration")
    uncertainty.add_argument("--draws", type=int, help="use only the first N draws")
    uncertainty.add_argument("--seeds", type=int,
                             help="seeds per draw (default: the sweep's seeds)")
    uncertainty.add_argument("--out", required=True, help="results folder")
    _executor_options(uncertainty)
    uncertainty.set_defaults(handler=_uncertainty)

    patterns = commands.add_parser("patterns", help="check the brief's five patterns")
    patterns.add_argument("--posterior", help="posterior.parquet of a calibration (default: "
                                              "the declaration's defaults, seeds only)")
    patterns.add_argument("--draws", type=int, default=20,
                          help="posterior draws, one seed each (default 20)")
    patterns.add_argument("--place", action="append", help="place (repeat; default: devon_ics, "
                          "west_yorkshire, london, northamptonshire)")
    patterns.add_argument("--years", type=float, default=5.0, help="policy years (default 5)")
    patterns.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    patterns.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                          help="change a parameter for every run, e.g. n_neighbourhoods=100")
    patterns.add_argument("--out", required=True, help="results folder")
    _executor_options(patterns)
    patterns.set_defaults(handler=_patterns)


    diagnose = commands.add_parser(
        "diagnose", help="the status quo in each place beside its targets and their sources")
    diagnose.add_argument("--place", action="append",
                          help="place (repeat; default: the six consortium places)")
    diagnose.add_argument("--seeds", type=int, default=3, help="seeds per place (default 3)")
    diagnose.add_argument("--years", type=float, default=5.0, help="policy years (default 5)")
    diagnose.add_argument("--experiments", action="store_true",
                          help="also the Munford start/stop experiment (three more runs each)")
    _settings_and_out(diagnose)
    diagnose.set_defaults(handler=_diagnose)

    robustness = commands.add_parser(
        "robustness", help="each assumption at either end of its range: do the strategies' "
                           "effects keep their sign?")
    robustness.add_argument("--place", default="devon_ics", help="place (default devon_ics)")
    robustness.add_argument("--parameter", action="append",
                            help="assumption to vary (repeat; default: the ten the Morris "
                                 "screening ranked highest)")
    robustness.add_argument("--seeds", type=int, default=5, help="seeds (default 5)")
    robustness.add_argument("--years", type=float, default=10.0,
                            help="policy years (default 10)")
    _settings_and_out(robustness)
    robustness.set_defaults(handler=_robustness)


def _settings_and_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a parameter for every run, e.g. n_neighbourhoods=100")
    parser.add_argument("--out", required=True, help="results folder (resumable)")
    _executor_options(parser)


def _executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", help="Ray cluster: 'auto' or ray://host:10001 (default: "
                                          "start a local Ray)")
    parser.add_argument("--num-cpus", type=int, help="CPUs for a local Ray (default: all)")
    parser.add_argument("--serial", action="store_true", help="run in this process, no Ray")


@contextlib.contextmanager
def _working(args: argparse.Namespace):
    """The command's executor, with ``--out`` locked for this command alone (as for a sweep:
    two calibrations writing one folder at once would mix their outputs)."""
    from calibration.evaluate import make_executor
    from experiments.lock import LOCK_NAME, FolderLock

    if args.num_cpus is not None and args.num_cpus < 1:
        raise InputError(f"--num-cpus = {args.num_cpus}: allowed is a whole number >= 1")
    out = Path(args.out)
    made = not out.exists()
    try:
        with FolderLock(out) as lock:
            if lock.warning:
                print(f"abm: warning: {printable(lock.warning)}", file=sys.stderr)
            executor = make_executor(args.address, args.num_cpus, args.serial)
            try:
                yield executor
            finally:
                executor.shutdown(wait=False)
    except InputError:
        # Bad input found once the folder was locked: leave nothing behind (the folder this
        # command made holds only its lock).
        if made and {p.name for p in out.iterdir()} <= {LOCK_NAME}:
            shutil.rmtree(out)
        raise


def _targets(args: argparse.Namespace) -> int:
    from calibration.targets import TARGETS_FILE, load_targets

    targets = load_targets(args.file or TARGETS_FILE)
    for t in targets.values():
        places = "all places" if t.places is None else ", ".join(t.places)
        print(f"{t.name:<30} {t.value:>8g} +- {t.sd:<7.3g} {t.output:<32} ({places})\n"
              f"{'':<30} {t.source}")
    return 0


def _checked_run_size(args: argparse.Namespace) -> dict:
    """``--seeds``, ``--years`` and ``--set`` checked; the parameter changes."""

    if not 1 <= args.seeds <= 1_000:
        raise InputError(f"--seeds = {args.seeds}: allowed is a whole number from 1 to 1,000")
    if not 1 / 52 <= args.years <= 100:
        raise InputError(f"--years = {args.years:g}: allowed is a number from one week to 100")
    return parse_settings(args.set)


def _diagnose(args: argparse.Namespace) -> int:
    from abm.model.places import CONSORTIUM_PLACES, load_place
    from calibration.diagnose import format_diagnosis, run_diagnosis

    fixed = _checked_run_size(args)
    if args.experiments and args.years < 1.5:
        raise InputError(f"--years = {args.years:g}: allowed is at least 1.5 with --experiments "
                         "(the 18-month start/stop experiment)")
    places = args.place or list(CONSORTIUM_PLACES)
    for place in places:
        load_place(place)
    with _working(args) as executor:
        table = run_diagnosis(places, args.seeds, args.years, fixed, args.experiments,
                              Path(args.out), executor)
    print(format_diagnosis(table))
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from abm.model.places import load_place
    from calibration.robustness import DEFAULT_PARAMETERS, format_robustness, run_robustness

    fixed = _checked_run_size(args)
    load_place(args.place)
    parameters = args.parameter or list(DEFAULT_PARAMETERS)
    with _working(args) as executor:
        table = run_robustness(args.place, parameters, args.seeds, args.years, fixed,
                               Path(args.out), executor)
    print(format_robustness(table, args.place))
    print(f"\nTable with every effect's mean and 95% interval: {args.out}/robustness.csv")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from calibration.calibrate import run_calibration
    from calibration.spec import load_calibration_spec

    spec = load_calibration_spec(args.spec)
    with _working(args) as executor:
        summary = run_calibration(spec, Path(args.out), executor)
    print(f"Calibration {summary['calibration_id']}: {summary['runs_stored']} runs stored in "
          f"{args.out}; fit report {args.out}/fit_report.csv, parameters "
          f"{args.out}/calibrated.yaml")
    for name, source in summary["sources"].items():
        print(f"  {name}: source={source!r}")
    ess, population = summary["effective_sample_size"], summary["population"]
    print(f"Posterior: {population} particles worth {ess:.0f} equally weighted draws "
          "(effective sample size).")
    if ess < 0.1 * population:
        print(f"abm calibrate: warning: the posterior rests on a few particles (effective sample "
              f"size {ess:.0f} of {population}); its intervals are too narrow. Use a larger "
              "abc.population, or one generation (rejection ABC) on the emulator.",
              file=sys.stderr)
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from calibration.sensitivity import format_ranking, run_sensitivity
    from calibration.spec import load_sensitivity_spec

    spec = load_sensitivity_spec(args.spec)
    with _working(args) as executor:
        morris, sobol = run_sensitivity(spec, Path(args.out), executor)
    print(format_ranking(morris, sobol))
    print(f"Tables and figures in {args.out} (morris.csv, sobol.csv, morris.png, sobol.png)")
    return 0


def _uncertainty(args: argparse.Namespace) -> int:
    from calibration.uncertainty import read_draws, run_uncertainty
    from experiments.spec import load_sweep

    sweep = load_sweep(args.sweep)
    if args.draws is not None and args.draws < 1:
        raise InputError(f"--draws = {args.draws}: allowed is a whole number >= 1")
    draws = read_draws(args.posterior, args.draws)
    if args.seeds is not None:
        if not 1 <= args.seeds <= sweep.seeds:
            raise InputError(f"--seeds = {args.seeds}: allowed is a whole number from 1 to the "
                             f"sweep's {sweep.seeds}")
        sweep = dataclasses.replace(sweep, seeds=args.seeds)
    with _working(args) as executor:
        _, text = run_uncertainty(sweep, draws, Path(args.out), executor)
    print(text)
    return 0


def _patterns(args: argparse.Namespace) -> int:
    import pandas as pd

    from abm.model.places import load_place
    from calibration.patterns import run_patterns
    from calibration.uncertainty import read_draws

    if args.draws < 1:
        raise InputError(f"--draws = {args.draws}: allowed is a whole number >= 1")
    if not 1.5 <= args.years <= 100:
        raise InputError(f"--years = {args.years:g}: allowed is a number from 1.5 (the 18-month "
                         "start/stop experiment) to 100")
    places = args.place or ["devon_ics", "west_yorkshire", "london", "northamptonshire"]
    for place in places:
        load_place(place)
    fixed = parse_settings(args.set)
    draws = (read_draws(args.posterior, args.draws) if args.posterior
             else pd.DataFrame(index=range(args.draws)))
    with _working(args) as executor:
        table = run_patterns(places, draws, args.years, args.seed, fixed, Path(args.out),
                             executor)
    with pd.option_context("display.width", 200, "display.max_colwidth", 45):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    return 0
