"""Hostile and damaged inputs of ``abm report``, ``abm plot`` and ``abm discover``, in the style
of the sweep's corpus (tests/cli/test_hostile_inputs.py): each is refused with exit code 2 and
one line on stderr (no traceback, no control character), writes nothing (not into the results
folder, not into --out) and takes little time. An incomplete sweep is one line and exit code
1, or, with --allow-incomplete, reported on the runs done under a heading that says so.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from abm.cli import main
from experiments.runner import run_sweep
from tests.cli.test_hostile_inputs import Case, assert_refused_writing_nothing, snapshot

TINY = ("scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 2\nmaster_seed: 9\n"
        "years: 1\nparameters: {n_neighbourhoods: 15, residents_per_neighbourhood: 20, "
        "burn_in_years: 1}\n")
#: The finished sweep every case copies (set by the ``tiny`` fixture).
SOURCE: dict[str, Path] = {}
COMMANDS = {"report": ["report"], "plot": ["plot"],
            "discover": ["discover", "--outcome", "gap_q5_q1", "--threshold", "0.5"]}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A finished tiny sweep (4 runs, in this process), copied by every case."""
    # Imported here, not inside a case's time limit: EMA workbench and matplotlib take seconds.
    for module in ("abm.analysis.discover", "abm.report.document"):
        importlib.import_module(module)

    base = tmp_path_factory.mktemp("tiny")
    (base / "sweep.yaml").write_text(TINY)
    assert run_sweep(base / "sweep.yaml", base / "results", serial=True) == 0
    SOURCE["tiny"] = base / "results"
    return base / "results"


def copy(tiny: Path, folder: Path) -> Path:
    results = folder / "results"
    shutil.copytree(tiny, results)
    return results


def edit_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    """A damage: ``change`` edits the manifest (or returns a whole replacement)."""
    def damage(results: Path) -> None:
        manifest = json.loads((results / "manifest.json").read_text())
        replaced = change(manifest)
        (results / "manifest.json").write_text(json.dumps(manifest if replaced is None
                                                          else replaced))
    return damage


def write_manifest(text: str | bytes) -> Callable[[Path], None]:
    def damage(results: Path) -> None:
        path = results / "manifest.json"
        path.unlink()
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return damage


def fifo_manifest(results: Path) -> None:
    (results / "manifest.json").unlink()
    os.mkfifo(results / "manifest.json")


def no_manifest(results: Path) -> None:
    (results / "manifest.json").unlink()
    (results / "summary.parquet").write_bytes(os.urandom(2048))


#: Damages of the results folder, each refused by report, plot and discover alike.
DAMAGES = {
    "manifest_not_json": (write_manifest("{not json"), "manifest.json: not valid JSON"),
    "manifest_empty": (write_manifest(""), "manifest.json: not valid JSON"),
    "manifest_not_utf8": (write_manifest(b"\xff\xfe{}"), "manifest.json: not valid JSON"),
    "manifest_nested_100000_deep": (write_manifest("[" * 100_000 + "]" * 100_000),
                                    "manifest.json:"),
    "manifest_a_list": (write_manifest("[]"), "manifest.json: not a sweep's manifest"),
    "manifest_runs_empty": (edit_manifest(lambda m: m.update(runs=[])),
                            "manifest.json: lists no runs"),
    "manifest_run_without_id": (edit_manifest(lambda m: m["runs"][0].pop("run_id")),
                                "manifest.json: not a sweep's manifest"),
    "manifest_resolved_a_string": (edit_manifest(lambda m: m.update(resolved="all")),
                                   "'resolved' = 'all': allowed is a mapping"),
    "manifest_provenance_a_list": (edit_manifest(lambda m: m.update(provenance=[1, 2])),
                                   "'provenance' = [1, 2]: allowed is a mapping"),
    "manifest_packages_text": (edit_manifest(lambda m: m["provenance"].update(packages="x")),
                               "'provenance.packages' = 'x': allowed is a mapping"),
    "manifest_scenarios_without_names": (
        edit_manifest(lambda m: m["resolved"].update(scenarios=[{"place": 1}])),
        "'resolved.scenarios' = [{'place': 1}]: allowed is a list of scenarios"),
    "manifest_seeds_text": (edit_manifest(lambda m: m["resolved"].update(seeds="ten")),
                            "'resolved.seeds' = 'ten': allowed is a whole number"),
    "manifest_years_bool": (edit_manifest(lambda m: m["resolved"].update(years=True)),
                            "'resolved.years' = True: allowed is a number"),
    "manifest_places_a_number": (edit_manifest(lambda m: m["resolved"].update(places=3)),
                                 "'resolved.places' = 3: allowed is a list of place names"),
    "manifest_baseline_a_list": (edit_manifest(lambda m: m.update(baseline=["x"])),
                                 "'baseline' = ['x']: allowed is a scenario name"),
    "manifest_a_fifo": (fifo_manifest, "manifest.json: a FIFO (named pipe)"),
    "no_manifest_and_random_summary": (no_manifest, "no manifest.json here"),
}


def damaged(command: str, damage: Callable[[Path], None]):
    def make(folder: Path) -> list[str]:
        results = copy(SOURCE["tiny"], folder)
        damage(results)
        out = ["--out", str(folder.parent / "out")] if command != "discover" else []
        return [*COMMANDS[command][:1], str(results), *COMMANDS[command][1:], *out]
    return make


def with_results(*args: str, command: str = "report", out: bool = True):
    """A case on an intact copy: ``args`` after the folder ({folder} and {out} filled in)."""
    def make(folder: Path) -> list[str]:
        results = copy(SOURCE["tiny"], folder)
        filled = [a.format(folder=folder, out=folder.parent / "out") for a in args]
        extra = ["--out", str(folder.parent / "out")] if out and "--out" not in args else []
        return [*COMMANDS[command][:1], str(results), *COMMANDS[command][1:], *filled, *extra]
    return make


def effects(text: str | bytes | None, fifo: bool = False):
    """An --uncertainty folder whose effects.csv holds ``text`` (None: no file)."""
    def make(folder: Path) -> list[str]:
        results = copy(SOURCE["tiny"], folder)
        where = folder / "uncertainty"
        where.mkdir()
        path = where / "effects.csv"
        if fifo:
            os.mkfifo(path)
        elif isinstance(text, bytes):
            path.write_bytes(text)
        elif text is not None:
            path.write_text(text)
        return ["report", str(results), "--uncertainty", str(where), "--out",
                str(folder.parent / "out")]
    return make


def folder_is_a_file(command: str):
    def make(folder: Path) -> list[str]:
        (folder / "x.parquet").write_bytes(b"PAR1")
        return [*COMMANDS[command][:1], str(folder / "x.parquet"), *COMMANDS[command][1:]]
    return make


HEAD = "scenario,place,draw,seed,wellby_gain_disc,delta_gap_q5_q1\n"

CASES = [
    *[Case(f"{command}_{name}", damaged(command, damage), (fragment,))
      for name, (damage, fragment) in DAMAGES.items() for command in COMMANDS],
    *[Case(f"{command}_folder_missing",
           lambda f, c=command: [*COMMANDS[c][:1], str(f / "nothing"), *COMMANDS[c][1:]],
           ("nothing: no such folder",)) for command in COMMANDS],
    *[Case(f"{command}_folder_is_a_file", folder_is_a_file(command),
           ("x.parquet: no such folder",)) for command in COMMANDS],
    # --- output folders: checked before anything is read or written ------------------------
    Case("report_out_is_a_file",
         lambda f: (f / "taken.txt").write_text("x") and with_results("--out",
                                                                     "{folder}/taken.txt")(f),
         ("taken.txt: a file, not a folder",)),
    Case("report_out_under_a_file", with_results("--out", "{folder}/results/manifest.json/x"),
         ("manifest.json/x: a file, not a folder",)),
    Case("plot_out_is_a_file", with_results("--out", "{folder}/results/manifest.json",
                                            command="plot"),
         ("manifest.json: a file, not a folder",)),
    # --- options ---------------------------------------------------------------------------
    *[Case(f"{command}_unknown_baseline", with_results("--baseline", "nobody", command=command,
                                                       out=command != "discover"),
           ("--baseline 'nobody' is not among the scenarios", "allowed are baseline, sustain"))
      for command in COMMANDS],
    Case("plot_unknown_figure", with_results("--only", "F42", command="plot"),
         ("--only F42: allowed are F1",)),
    Case("discover_unknown_outcome",
         lambda f: ["discover", str(copy(SOURCE["tiny"], f)), "--outcome", "happiness",
                    "--threshold", "0"], ("--outcome 'happiness': allowed is",)),
    Case("discover_min_coverage_zero", with_results("--min-coverage", "0", command="discover",
                                                    out=False),
         ("--min-coverage = 0: allowed is a number above 0",)),
    Case("discover_threshold_nan",
         lambda f: ["discover", str(copy(SOURCE["tiny"], f)), "--outcome", "gap_q5_q1",
                    "--threshold", "nan"], ("--threshold = nan: allowed is a finite number",)),
    # --- uncertainty results that are not this sweep's -------------------------------------
    Case("uncertainty_not_a_folder",
         with_results("--uncertainty", "{folder}/nowhere"), ("nowhere: no such folder",)),
    Case("uncertainty_without_effects", effects(None), ("effects.csv: file not found",)),
    Case("uncertainty_effects_a_fifo", effects(None, fifo=True),
         ("effects.csv: a FIFO (named pipe)",)),
    Case("uncertainty_effects_random_bytes", effects(os.urandom(512) + b"\x00\x00"),
         ("effects.csv:",)),
    Case("uncertainty_effects_missing_a_column",
         effects("scenario,place,draw,seed\nsustain,bradford,0,1\n"),
         ("effects.csv: no column wellby_gain_disc, delta_gap_q5_q1",)),
    Case("uncertainty_effects_empty", effects(HEAD), ("effects.csv: no rows",)),
    Case("uncertainty_effects_text_number",
         effects(HEAD + "sustain,bradford,0,1,lots,0.1\n"),
         ("column 'wellby_gain_disc' holds 'lots': allowed is a finite number",)),
    Case("uncertainty_effects_infinite",
         effects(HEAD + "sustain,bradford,0,1,inf,0.1\n"),
         ("column 'wellby_gain_disc' holds 'inf'",)),
    Case("uncertainty_of_another_sweep",
         effects(HEAD + "scale,london,0,1,5,0.1\n"),
         ("holds strategy 'scale' in 'london', which this sweep does not compare",)),
    Case("uncertainty_with_a_manifest_of_another_sweep_file",
         lambda f: (effects(HEAD + "sustain,bradford,0,1,5,0.1\n")(f),
                    (f / "uncertainty" / "manifest.json").write_text(
                        json.dumps({"spec_sha256": "0" * 64})))[0],
         ("made from another sweep file",)),
    Case("uncertainty_manifest_damaged",
         lambda f: (effects(HEAD + "sustain,bradford,0,1,5,0.1\n")(f),
                    (f / "uncertainty" / "manifest.json").write_text("[1"))[0],
         ("manifest.json: not a manifest",)),
]


def test_the_corpus_covers_each_command_and_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    for command in COMMANDS:
        assert sum(n.startswith(f"{command}_") for n in names) >= len(DAMAGES) + 2


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_damaged_results_folder_is_refused_in_one_line_writing_nothing(case, tiny, tmp_path,
                                                                         capsys):
    SOURCE["tiny"] = tiny
    assert_refused_writing_nothing(case, tmp_path, capsys)


@pytest.mark.parametrize("command", COMMANDS)
def test_an_incomplete_sweep_is_one_line_exit_1_writing_nothing(command, tiny, tmp_path,
                                                                capsys):
    results = copy(tiny, tmp_path)
    sorted((results / "runs").glob("part-*.parquet"))[0].unlink()
    before = snapshot(tmp_path)
    out = ["--out", str(tmp_path / "out")] if command != "discover" else []
    code = main([COMMANDS[command][0], str(results), *COMMANDS[command][1:], *out])
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("abm: error: "), err
    assert "is incomplete (runs are missing from the folder): 3 of 4 runs done" in err[0]
    assert "or add --allow-incomplete to" in err[0]
    assert snapshot(tmp_path) == before


def test_an_incomplete_sweep_is_reported_on_the_runs_done_headed_as_incomplete(tiny, tmp_path,
                                                                               capsys):
    results = copy(tiny, tmp_path)
    sorted((results / "runs").glob("part-*.parquet"))[0].unlink()
    out = tmp_path / "out"
    assert main(["report", str(results), "--out", str(out), "--allow-incomplete"]) == 0
    html = (out / "report.html").read_text()
    assert "<h1>Incomplete: Community assets" in html
    assert "3 of 4 runs done" in html and "covers only the runs done" in html
    assert (out / "report.md").read_text().startswith("# Incomplete: Community assets")
    ids = json.loads((out / "ids.json").read_text())
    assert "3 of 4 runs done" in ids["incomplete"]
    assert "--allow-incomplete" in ids["ids"]["T1"]["command"]
    cited = {run for entry in ids["ids"].values() for run in entry["run_ids"]}
    assert len(cited) == 3, "only the runs done are cited"
