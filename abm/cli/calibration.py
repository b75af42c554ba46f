"""The calibration commands of ``abm``: targets, calibrate, recovery, sensitivity,
uncertainty, patterns, diagnose, robustness.

``abm/cli/__init__.py`` calls :func:`add_parser`; bad input raises
:class:`abm.files.errors.InputError` (one line per problem, exit code 2). Every command checks
its input, counts its runs (refusing more than the sweep's cap or ``--max-runs``) and checks
``--address`` before it writes anything or starts Ray.
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

#: Places ``abm patterns`` checks by default.
PATTERN_PLACES = ("devon_ics", "west_yorkshire", "london", "northamptonshire")


def add_parser(commands) -> None:
    """Add the calibration subcommands to ``abm``'s subparsers."""
    targets = commands.add_parser("targets", help="check and list the calibration targets")
    targets.add_argument("file", nargs="?", help="targets file (default: the shipped one)")
    targets.set_defaults(handler=_targets)

    calibrate = commands.add_parser(
        "calibrate", help="history matching then ABC-SMC against the targets, with checks "
                          "(resumable)")
    calibrate.add_argument("spec", help="calibration spec, e.g. calibration/specs/devon_ics.yaml")
    calibrate.add_argument("--out", required=True, help="results folder")
    _executor_options(calibrate)
    calibrate.set_defaults(handler=_calibrate)

    recovery = commands.add_parser(
        "recovery", help="calibrate against targets the model made at known parameter values: "
                         "which parameters do the targets pin?")
    recovery.add_argument("spec", help="recovery spec, e.g. calibration/specs/quick/recovery.yaml")
    recovery.add_argument("--out", required=True, help="results folder")
    _executor_options(recovery)
    recovery.set_defaults(handler=_recovery)

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
    uncertainty.add_argument("--draws", type=int, default=50,
                             help="posterior draws (default 50; beyond the file's rows, drawn "
                                  "from the particles beside it)")
    uncertainty.add_argument("--seeds", type=int, default=2,
                             help="seeds per draw, the first of the sweep's (default 2)")
    uncertainty.add_argument("--out", required=True, help="results folder")
    _executor_options(uncertainty)
    uncertainty.set_defaults(handler=_uncertainty)

    patterns = commands.add_parser("patterns", help="check the brief's five patterns")
    patterns.add_argument("--posterior", help="posterior.parquet of a calibration (default: "
                                              "the declaration's defaults, seeds only)")
    patterns.add_argument("--draws", type=int, default=20,
                          help="posterior draws, one seed each (default 20)")
    patterns.add_argument("--place", action="append", help="place (repeat; default: "
                          f"{', '.join(PATTERN_PLACES)})")
    patterns.add_argument("--years", type=float, default=5.0, help="policy years (default 5)")
    patterns.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    _settings_and_out(patterns)
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


def _executor_options(parser: argparse.ArgumentParser,
                      max_runs_help: str = "refuse more runs than this (default 100,000, as "
                                           "for a sweep)") -> None:
    parser.add_argument("--address", help="Ray cluster: 'auto' or ray://host:10001 (default: "
                                          "start a local Ray)")
    parser.add_argument("--num-cpus", type=int, help="CPUs for a local Ray (default: all)")
    parser.add_argument("--serial", action="store_true", help="run in this process, no Ray")
    parser.add_argument("--max-runs", type=int, help=max_runs_help)


def _limit(args: argparse.Namespace) -> int:
    """``--max-runs`` checked, and the executor options checked (``--address`` reachable),
    all before anything is written."""
    from calibration.bounds import run_limit
    from experiments.executors import check_address, check_reachable

    limit = run_limit(args.max_runs)
    if args.num_cpus is not None and args.num_cpus < 1:
        raise InputError(f"--num-cpus = {args.num_cpus}: allowed is a whole number >= 1")
    if args.serial and args.address is not None:
        raise InputError("--serial runs in this process without Ray: leave out --address")
    address = check_address(args.address)
    if address not in (None, "auto"):
        check_reachable(address)
    return limit


def _check_folder(args: argparse.Namespace, kind: str, identity: str) -> None:
    """``--out`` checked before anything is written: a folder that can be written, and not
    one holding another analysis (:mod:`calibration.folder`)."""
    from abm.files.io import check_out_folder
    from calibration.folder import check

    check(check_out_folder(args.out), kind, identity)


@contextlib.contextmanager
def _working(args: argparse.Namespace):
    """The command's executor, with ``--out`` locked for this command alone (as for a sweep:
    two calibrations writing one folder at once would mix their outputs)."""
    from abm.files.io import check_out_folder
    from calibration.evaluate import make_executor
    from experiments.lock import LOCK_NAME, FolderLock

    out = check_out_folder(args.out)
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
        if made and out.is_dir() and {p.name for p in out.iterdir()} <= {LOCK_NAME}:
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
    from calibration.bounds import check_runs
    from calibration.diagnose import (
        diagnose_specs,
        diagnosis_id,
        format_allocation,
        format_diagnosis,
        run_diagnosis,
    )

    fixed = _checked_run_size(args)
    if args.experiments and args.years < 1.5:
        raise InputError(f"--years = {args.years:g}: allowed is at least 1.5 with --experiments "
                         "(the 18-month start/stop experiment)")
    places = args.place or list(CONSORTIUM_PLACES)
    check_runs("--place/--seeds", "this diagnosis",
               {"place(s)": len(places), "seed(s)": args.seeds}, _limit(args))
    for place in places:
        load_place(place)
    specs = diagnose_specs(places, args.seeds, args.years, fixed, args.experiments)
    _check_folder(args, "diagnosis", diagnosis_id(specs))
    with _working(args) as executor:
        table, allocation = run_diagnosis(places, args.seeds, args.years, fixed,
                                          args.experiments, Path(args.out), executor)
    print(format_diagnosis(table))
    print(format_allocation(allocation))
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from abm.model.parameters import sampled
    from abm.model.places import load_place
    from calibration.robustness import (
        DEFAULT_PARAMETERS,
        count_runs,
        format_robustness,
        robustness_id,
        robustness_specs,
        run_robustness,
    )

    fixed = _checked_run_size(args)
    load_place(args.place)
    parameters = args.parameter or list(DEFAULT_PARAMETERS)
    sampled(parameters)  # unknown names or settings without a range: one line each
    count_runs(parameters, args.seeds, _limit(args))
    specs = robustness_specs(args.place, parameters, args.seeds, args.years, fixed)
    _check_folder(args, "robustness", robustness_id(specs))
    with _working(args) as executor:
        table = run_robustness(args.place, parameters, args.seeds, args.years, fixed,
                               Path(args.out), executor)
    print(format_robustness(table, args.place))
    print(f"\nTable with every effect's mean and 95% interval: {args.out}/robustness.csv")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from calibration.calibrate import calibration_id, count_runs, run_calibration
    from calibration.spec import load_calibration_spec

    spec = load_calibration_spec(args.spec)
    limit = _limit(args)
    count_runs(spec, limit)
    _check_folder(args, "calibration", calibration_id(spec))
    with _working(args) as executor:
        summary = run_calibration(spec, Path(args.out), executor, limit)
    print(f"Calibration {summary['calibration_id']}: {summary['runs_stored']} runs stored in "
          f"{args.out}; fit report {args.out}/fit_report.csv, parameters "
          f"{args.out}/parameters.csv and {args.out}/calibrated.yaml")
    for name, source in summary["sources"].items():
        print(f"  {name}: source={source!r}")
    print(summary["abc_stop"])
    ess, population = summary["effective_sample_size"], summary["population"]
    print(f"Posterior: {population} particles worth {ess:.0f} equally weighted draws "
          "(effective sample size).")
    print(format_checks(summary["checks"]))
    if ess < 0.1 * population:
        print(f"abm calibrate: warning: the posterior rests on a few particles (effective sample "
              f"size {ess:.0f} of {population}); its intervals are too narrow. "
              + ("Raise abc.steps." if spec.abc["kernel"] == "gaussian" else
                 "Use a larger abc.population, or one generation (rejection ABC) on the "
                 "emulator."), file=sys.stderr)
    return 0


def format_checks(found: dict) -> str:
    """The checks of a calibration in a few lines (``calibration.json``'s ``checks``)."""
    lines = ["Checks (beside the posterior):"]
    ppc = found["ppc"]
    text = (f"  posterior predictive check on the model ({ppc['runs_per_target']} runs per "
            f"target and place, fit_report.csv): "
            f"{ppc.get('share_within_2sd_fitted', float('nan')):.0%} of fitted-target runs "
            f"within 2 SD (medians: {ppc.get('medians_within_2sd_fitted', '-')})")
    if "share_within_2sd_held_out" in ppc:
        text += (f"; held out {ppc['share_within_2sd_held_out']:.0%} "
                 f"(medians: {ppc['medians_within_2sd_held_out']})")
    lines.append(text)
    if ppc["mostly_missed"]:
        lines.append("    most runs miss: " + "; ".join(ppc["mostly_missed"]))
    lines.extend(f"  {line}" for line in found.get("identifiability", []))
    if "emulator" in found:
        e = found["emulator"]
        lines.append(f"  emulator leave-out validation ({e['outputs']} outputs, "
                     f"{'/'.join(e['noise'])} noise, emulator_validation.csv): "
                     f"{e['share_within_2sd']:.0%} of standardised errors within 2 (about 95% "
                     f"expected), 90% intervals cover {e['coverage_90']:.0%}; worst "
                     f"{e['worst']}")
    if "coverage" in found:
        c = found["coverage"]
        low = [f"{n} {v:.0%}" for n, v in c["per_parameter"].items() if v < 0.75]
        lines.append(f"  coverage over {c['truths']} synthetic truths (coverage.csv): "
                     f"{c['coverage_90']:.0%} of truths inside their 90% intervals (about 90% "
                     "expected)" + (f"; lowest: {', '.join(low)}" if low else ""))
    return "\n".join(lines)


def _recovery(args: argparse.Namespace) -> int:
    from calibration.recovery import (
        count_recovery_runs,
        format_recovery,
        load_recovery_spec,
        recovery_id,
        run_recovery,
    )

    spec = load_recovery_spec(args.spec)
    limit = _limit(args)
    count_recovery_runs(spec, limit)
    _check_folder(args, "recovery", recovery_id(spec))
    with _working(args) as executor:
        table = run_recovery(spec, Path(args.out), executor, limit)
    print(format_recovery(table))
    print(f"Table: {args.out}/recovery.csv")
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from calibration.sensitivity import (
        count_runs,
        format_ranking,
        run_sensitivity,
        sensitivity_id,
    )
    from calibration.spec import load_sensitivity_spec

    spec = load_sensitivity_spec(args.spec)
    count_runs(spec, _limit(args))
    _check_folder(args, "sensitivity", sensitivity_id(spec))
    with _working(args) as executor:
        morris, sobol = run_sensitivity(spec, Path(args.out), executor)
    print(format_ranking(morris, sobol))
    print(f"Tables and figures in {args.out} (morris.csv, sobol.csv, morris.png, sobol.png)")
    return 0


def _uncertainty(args: argparse.Namespace) -> int:
    from calibration.uncertainty import (
        MAX_DRAWS,
        count_runs,
        read_draws,
        run_uncertainty,
        uncertainty_id,
    )
    from experiments.spec import load_sweep

    sweep = load_sweep(args.sweep)
    if not 1 <= args.draws <= MAX_DRAWS:
        raise InputError(f"--draws = {args.draws}: allowed is a whole number from 1 to "
                         f"{MAX_DRAWS:,}")
    if not 1 <= args.seeds <= 1_000:
        raise InputError(f"--seeds = {args.seeds}: allowed is a whole number from 1 to 1,000")
    count_runs(sweep, args.draws, args.seeds, "--draws/--seeds", _limit(args))
    draws = read_draws(args.posterior, args.draws)
    sweep = dataclasses.replace(sweep, seeds=args.seeds)
    _check_folder(args, "uncertainty", uncertainty_id(sweep, draws, Path(args.posterior)))
    with _working(args) as executor:
        _, text = run_uncertainty(sweep, draws, Path(args.out), executor,
                                  Path(args.posterior))
    print(text)
    print(f"Tables and manifest in {args.out} (uncertainty_table.csv, effects.csv, "
          "manifest.json)")
    return 0


def _patterns(args: argparse.Namespace) -> int:
    import pandas as pd

    from abm.model.places import load_place
    from calibration.patterns import count_runs, pattern_specs, patterns_id, run_patterns
    from calibration.uncertainty import MAX_DRAWS, read_draws

    if not 1 <= args.draws <= MAX_DRAWS:
        raise InputError(f"--draws = {args.draws}: allowed is a whole number from 1 to "
                         f"{MAX_DRAWS:,}")
    if not 1.5 <= args.years <= 100:
        raise InputError(f"--years = {args.years:g}: allowed is a number from 1.5 (the 18-month "
                         "start/stop experiment) to 100")
    places = args.place or list(PATTERN_PLACES)
    count_runs(places, args.draws, _limit(args))
    for place in places:
        load_place(place)
    fixed = parse_settings(args.set)
    draws = (read_draws(args.posterior, args.draws) if args.posterior
             else pd.DataFrame(index=range(args.draws)))
    specs = pattern_specs(places, draws, args.years, args.seed, fixed)
    _check_folder(args, "patterns", patterns_id(specs))
    with _working(args) as executor:
        table = run_patterns(places, draws, args.years, args.seed, fixed, Path(args.out),
                             executor)
    with pd.option_context("display.width", 200, "display.max_colwidth", 45):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    return 0
