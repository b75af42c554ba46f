"""Regenerate tests/baseline.json, the pinned summary of small reference runs.

Run only on purpose, when a change is meant to alter results, and say why:

    python -m tests.make_baseline --why "bid cost is now a share of the grant"

The reason, the date and the model version are stored in the file; review the diff of
tests/baseline.json before committing it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from abm import Model
from abm.version import __version__

PATH = Path(__file__).with_name("baseline.json")
#: The pinned runs: small, but covering every rule and a place of each kind.
RUNS = [
    {"place": "devon_ics", "rules": "status_quo", "seed": 1},
    {"place": "west_yorkshire", "rules": "scale+embed+sustain", "seed": 2},
    {"place": "london", "rules": "proportionate_universalism", "seed": 3},
    {"place": "bradford", "rules": "develop+scale", "seed": 4},
]
SIZE = {"n_neighbourhoods": 40, "residents_per_neighbourhood": 50, "burn_in_years": 1}
YEARS = 2


def summaries() -> list[dict]:
    """The pinned runs' summary rows, as plain JSON-able dicts."""
    out = []
    for run in RUNS:
        model = Model(run["place"], run["rules"], run["seed"], SIZE).run(years=YEARS)
        row = model.summary().iloc[0].to_dict()
        out.append({k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--why", required=True, help="why the results are meant to change")
    args = parser.parse_args()
    data = {
        "why": args.why,
        "made": dt.date.today().isoformat(),
        "model_version": __version__,
        "size": SIZE,
        "years": YEARS,
        "runs": RUNS,
        "summaries": summaries(),
    }
    PATH.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
