"""The report's national section on a real (tiny) sweep over three ICBs: its table shows the
numbers of ``national.csv`` at the precision shown, its ids cite runs of the manifest, and it
renders offline in Chromium (a screenshot for people to look at)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from abm.analysis import tables
from abm.cli import main
from experiments.runner import run_sweep

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts" / "report"

SWEEP = """\
description: National section test - two strategies in three ICBs, tiny runs.
scenarios: [baseline, sustain, embed]
places: [nhs_devon_icb, nhs_black_country_icb, nhs_surrey_heartlands_icb]
seeds: 3
master_seed: 26
years: 1
parameters: {n_neighbourhoods: 30, residents_per_neighbourhood: 30, burn_in_years: 1}
"""


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("national")
    spec = base / "sweep.yaml"
    spec.write_text(SWEEP)
    results = base / "results"
    assert run_sweep(spec, results, serial=True) == 0
    assert main(["report", str(results), "--out", str(base / "report")]) == 0
    return results, base / "report"


def test_the_section_shows_every_place_and_strategy(reported):
    _, report = reported
    html = (report / "report.html").read_text()
    assert '<h2 id="national">Where each strategy does most: 3 places ranked</h2>' in html
    shown = pd.read_csv(report / "tables" / "TN_national.csv", dtype=str, keep_default_na=False)
    assert len(shown) == 6 and set(shown.Strategy) == {"sustain", "embed"}
    assert set(shown.Place) == {"NHS Devon ICB", "NHS Black Country ICB",
                                "NHS Surrey Heartlands ICB"}
    # At 30 neighbourhoods Surrey Heartlands (Core20 0.8% of LSOAs) has none in Core20: no gap.
    surrey = shown[shown.Place == "NHS Surrey Heartlands ICB"]
    assert (surrey["Rank (gap)"] == "n/a").all()
    assert (surrey["Change in q5-q1 gap (points)"] == "n/a").all()
    assert "NHS Surrey Heartlands ICB (Core20 0.8%) had no simulated neighbourhood" in html
    for strategy, rows in shown[shown.Place != "NHS Surrey Heartlands ICB"].groupby("Strategy"):
        assert sorted(rows["Rank (gap)"].astype(int)) == [1, 2], strategy
        assert f"{strategy.capitalize()} does most for the gap in" in html
        assert f"{strategy.capitalize()} gains most WELLBYs per 1,000 residents in" in html
    # two places with a gap are too few to relate effects to places' features: said so
    assert "Too few places have a gap under sustain to relate its effect" in html


def test_every_number_equals_the_raw_table_at_the_precision_shown(reported):
    results, report = reported
    raw = pd.read_csv(results / "national.csv")
    shown = pd.read_csv(report / "tables" / "TN_national.csv", dtype=str, keep_default_na=False)
    assert list(raw.title) == list(shown.Place)
    columns = {"Change in q5-q1 gap (points)": "delta_gap",
               "WELLBYs per 1,000 residents": "wellbys_per_1000"}
    for label, name in columns.items():
        for cell, (_, row) in zip(shown[label], raw.iterrows(), strict=True):
            if pd.isna(row[name]):
                assert cell == "n/a"
                continue
            got = tables.parse_numbers(cell)
            want = [row[name], row[f"{name}_lo"], row[f"{name}_hi"]]
            places = tables.decimals(*want)
            for g, w in zip(got, want, strict=True):
                assert abs(g - w) <= 0.5 * 10.0 ** -places + 1e-12, (label, cell, want)
    core20 = dict(zip(raw.title, raw.core20_share, strict=False))
    assert all(abs(float(c) - 100 * core20[p]) <= 0.05
               for p, c in zip(shown.Place, shown["Core20 share (% of LSOAs)"], strict=True))


def test_the_national_ids_cite_runs_of_the_manifest(reported):
    results, report = reported
    manifest = json.loads((results / "manifest.json").read_text())
    ids = json.loads((report / "ids.json").read_text())
    in_manifest = {r["run_id"] for r in manifest["runs"]}
    html = (report / "report.html").read_text()
    for item in ("TN", "FN"):
        assert set(ids["ids"][item]["run_ids"]) == in_manifest
        assert f"Cite as <b>{item}</b>" in html
    assert re.search(r'<figure id="FN"><img alt="FN: [^"]+" src="data:image/svg\+xml;base64,',
                     html)
    markdown = (report / "report.md").read_text()
    assert "## Where each strategy does most: 3 places ranked" in markdown
    assert "![FN: " in markdown and (report / "figures" / "FN_national.png").is_file()


def test_two_places_have_no_national_section(tmp_path):
    spec = tmp_path / "two.yaml"
    spec.write_text(SWEEP.replace(", nhs_surrey_heartlands_icb", "").replace("embed", "scale"))
    results = tmp_path / "results"
    assert run_sweep(spec, results, serial=True) == 0
    assert main(["report", str(results), "--out", str(tmp_path / "report")]) == 0
    assert 'id="national"' not in (tmp_path / "report" / "report.html").read_text()
    assert not (results / "national.csv").exists()


@pytest.mark.slow
def test_the_national_section_renders_offline_in_chromium(reported):
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium not installed here (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, report = reported
    outside = []
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def route(request_route):
            url = request_route.request.url
            if url.startswith(("file://", "data:")):
                request_route.continue_()
            else:
                outside.append(url)
                request_route.abort()

        page.route("**/*", route)
        page.goto((report / "report.html").as_uri())
        page.wait_for_load_state("load")
        page.locator("#FN img").scroll_into_view_if_needed()
        decoded = page.evaluate("(() => { const i = document.querySelector('#FN img'); "
                                "return i.complete && i.naturalWidth > 0; })()")
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#national").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "report_national.png"))
        browser.close()
    assert not outside, outside
    assert decoded, "the national figure decodes"
