"""Mesa's own tools work on the model unmodified (issue 10, item 1).

`mesa.batch_run` builds the model with `rng=` and stops each run when `model.running` turns
False, with no `max_steps` arithmetic. (The model side of this is Model v2's; until it lands
on main this test fails, which is expected.)
"""

from __future__ import annotations

import multiprocessing

import mesa
import pandas as pd
import pytest

from abm.model.model import CommunityAssetsModel
from tests.conftest import SMALL


@pytest.fixture
def restore_start_method():
    """batch_run forces the 'spawn' start method on the whole process: put it back."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_batch_run_stops_by_itself(restore_start_method):
    results = pd.DataFrame(mesa.batch_run(
        CommunityAssetsModel,
        parameters={"place": "bradford", "rules": ["status_quo", "sustain"], **SMALL,
                    "policy_years": 1},
        rng=[1, 2], number_processes=1, display_progress=False))
    assert len(results) == 4, "2 rules x 2 seeds"
    weeks = SMALL["burn_in_years"] * 52 + 52
    assert (results["Step"] == weeks).all(), "each run stops after burn-in + policy years"
    assert results.groupby("rules")["gap_q5_q1"].nunique().min() == 2, "the seeds differ"


@pytest.mark.slow
def test_the_readmes_batch_run_example_runs_with_its_main_guard(tmp_path):
    """The README's `mesa.batch_run` example, run as the script it says to write: with two
    worker processes started by "spawn" (which import the script again), it finishes once
    and prints one table."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [script] = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S)
                if "mesa.batch_run" in block]
    assert 'if __name__ == "__main__":' in script
    path = tmp_path / "batch.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("status_quo") == 1 and "sustain" in done.stdout, done.stdout
