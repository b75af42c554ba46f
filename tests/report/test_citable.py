"""Being citable: licence, citation file, version and the git commit of any install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from abm.cli import main
from abm.files.provenance import git, provenance
from abm.version import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_citation_file_is_valid_cff_1_2():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    schema = json.loads((ROOT / "tests" / "report" / "data" / "cff-1.2.0-schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(citation)
    assert citation["version"] == __version__, "CITATION.cff version follows abm.__version__"
    assert citation["license"] == "MIT"


def test_licence_is_the_mit_licence_pyproject_declares():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_version_names_the_commit(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"abm {__version__} (git ")
    commit = git("rev-parse", "HEAD")
    assert commit[:12] in printed


@pytest.mark.slow
def test_a_non_editable_install_records_the_commit(tmp_path):
    """Build and install this checkout as a regular (non-editable) package, with no network
    (no build isolation, no dependencies), then ask it, from outside the checkout, which
    commit it was built from."""
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--no-index", "--target", str(target), str(ROOT)],
        capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    assert (target / "abm" / "files" / "_build_info.py").is_file()
    code = ("import json, abm, abm.files.provenance as p; "
            "print(json.dumps([abm.__file__, p.provenance()]))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    shown = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True, timeout=120)
    where, installed = json.loads(shown.stdout)
    assert where.startswith(str(target)), "the installed copy, not the checkout, was imported"
    assert installed["git_commit"] == git("rev-parse", "HEAD")
    assert installed["git_source"] == "build"
    assert provenance()["git_source"] == "checkout"
