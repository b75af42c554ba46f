"""The England experiment (every ICB, ``experiments/england.yaml``) timed on this machine.

    python -m benchmarks.england --out results/england_3seeds --seeds 3 --num-cpus 2

Runs the sweep of ``experiments/england.yaml`` with the runner (local Ray, ``--num-cpus``
workers), optionally with fewer seeds, fewer ICBs or a smaller model than the file says
(``--seeds``, ``--places``, ``--hoods``, ``--residents``, ``--years``; all stated in the
output), and prints the runs, the wall time, CPU-seconds per run and what the whole file would
take at that rate. The results folder is kept (``abm report OUT`` then draws the national
table and figure); running the same command again resumes it, so time a fresh ``--out``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from abm.files import yamlfile
from experiments.runner import run_sweep
from experiments.spec import load_sweep

SPEC = Path(__file__).resolve().parents[1] / "experiments" / "england.yaml"


def derived_spec(args: argparse.Namespace, folder: Path) -> Path:
    """``experiments/england.yaml`` with the changes asked for, as a sweep file in ``folder``."""
    data = dict(yamlfile.load(SPEC))
    data["scenarios"] = list(data["scenarios"])
    places = list(data["places"])
    if args.places:
        step = len(places) / args.places  # spread over the regions, which the file groups
        places = [places[int(i * step)] for i in range(args.places)]
    data["places"] = places
    if args.seeds:
        data["seeds"] = args.seeds
    if args.years:
        data["years"] = args.years
    size = {k: v for k, v in (("n_neighbourhoods", args.hoods),
                              ("residents_per_neighbourhood", args.residents)) if v}
    if size:
        data["parameters"] = size
    text = "\n".join(_yaml_line(k, v) for k, v in data.items()) + "\n"
    path = folder / "england_measured.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _yaml_line(key: str, value) -> str:
    if isinstance(value, list):
        return f"{key}: [{', '.join(map(str, value))}]"
    if isinstance(value, dict):
        return f"{key}: {{{', '.join(f'{k}: {v}' for k, v in value.items())}}}"
    if isinstance(value, str):
        return f'{key}: "{value}"'
    return f"{key}: {value}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="results folder (kept)")
    parser.add_argument("--num-cpus", type=int, default=2, help="Ray workers (default 2)")
    parser.add_argument("--seeds", type=int, help="seeds (default: the file's)")
    parser.add_argument("--places", type=int, help="first N ICBs spread over the regions")
    parser.add_argument("--years", type=float, help="policy years (default: the file's)")
    parser.add_argument("--hoods", type=int, help="neighbourhoods per run (default: the model's)")
    parser.add_argument("--residents", type=int, help="residents per neighbourhood")
    args = parser.parse_args()

    full = load_sweep(SPEC)
    with tempfile.TemporaryDirectory() as folder:
        spec = derived_spec(args, Path(folder))
        sweep = load_sweep(spec)
        runs = len(sweep.runs())
        start = time.perf_counter()
        code = run_sweep(spec, args.out, num_cpus=args.num_cpus)
        wall = time.perf_counter() - start
    per_run = wall * args.num_cpus / runs
    params = sweep.runs()[0].params
    print(f"\n{runs:,} runs ({len(sweep.scenarios)} scenarios x {len(sweep.places)} ICBs x "
          f"{sweep.seeds} seeds; {params.n_neighbourhoods * params.residents_per_neighbourhood:,}"
          f" residents, {sweep.years:g} policy years after {params.burn_in_years} burn-in) on "
          f"{args.num_cpus} CPUs of {os.cpu_count()}: {wall / 60:.1f} min wall, "
          f"{per_run:.1f} CPU-s a run (exit code {code})")
    print(f"The whole of {SPEC.name} ({len(full.runs()):,} runs) at that rate: "
          f"{len(full.runs()) * per_run / args.num_cpus / 3600:.1f} h on {args.num_cpus} CPUs"
          + (" (at the model size measured)" if args.hoods or args.residents else ""))


if __name__ == "__main__":
    main()
