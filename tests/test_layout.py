"""The package's layout: layers that import only downwards, no import circles, and docs that
name only files that exist.

The layers are declared once, in ``pyproject.toml`` (``[tool.importlinter]``), and checked
here twice: by import-linter itself (``lint-imports``, as a developer would run it) and on
grimp's import graph (the graph import-linter builds), where the tests also show that an
upward import or a circle would be caught. Imports inside functions count: a lazy import is
still a dependency.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
LAYERS = next(c["layers"] for c in CONFIG["contracts"] if c["type"] == "layers")
#: Documents whose paths must exist (the CHANGELOG names old paths on purpose).
DOCUMENTS = ("README.md", "DEVELOPERS.md", "docs/ODD.md", "tests/README.md")
#: A path in the repository, as documents write it: a top-level folder, then a file or folder.
TOP = r"(?:abm|experiments|calibration|scenarios|tests|docs|notebooks|benchmarks|\.ci)"
PATH = re.compile(rf"(?<![\w/.<-])({TOP}/[\w./-]*[\w/])")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*CONFIG["root_packages"], cache_dir=None)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every circle of direct imports between modules (a package's ``__init__`` counts as the
    package's module)."""
    edges = nx.DiGraph()
    for module in graph.modules:
        edges.add_node(module)
        edges.add_edges_from((module, imported)
                             for imported in graph.find_modules_directly_imported_by(module))
    return list(nx.simple_cycles(edges))


def upward(graph: grimp.ImportGraph) -> set:
    return graph.find_illegal_dependencies_for_layers(layers=LAYERS)


def test_import_linter_keeps_every_contract():
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_imports_a_layer_above_it(graph):
    assert not upward(graph), [(d.importer, d.imported) for d in upward(graph)]


def test_there_are_no_import_circles(graph):
    assert not cycles(graph)


def test_an_upward_import_or_a_circle_would_be_caught(graph):
    """The checks have teeth: the model importing the figures, or the engines importing the
    model class back (as they did before the layout), fail them."""
    graph.add_import(importer="abm.model.model", imported="abm.analysis.figures")
    assert {(d.importer, d.imported) for d in upward(graph)} == {("abm.model", "abm.analysis")}
    graph.remove_import(importer="abm.model.model", imported="abm.analysis.figures")
    graph.add_import(importer="abm.model.engines", imported="abm.model.model")
    assert ["abm.model.engines", "abm.model.model"] in [sorted(c) for c in cycles(graph)]
    graph.remove_import(importer="abm.model.engines", imported="abm.model.model")


def test_every_layer_is_a_package_that_exists(graph):
    assert set(LAYERS) <= set(graph.modules)


def test_tests_mirror_the_package():
    """Each layer has its tests in a folder of the same name (tests/README.md)."""
    folders = {p.name for p in (ROOT / "tests").iterdir() if (p / "__init__.py").is_file()}
    assert {layer.split(".")[-1] for layer in LAYERS} - {"files"} <= folders


@pytest.mark.parametrize("document", DOCUMENTS)
def test_documents_name_only_paths_that_exist(document):
    text = (ROOT / document).read_text("utf-8")
    named = set(PATH.findall(text))
    assert len(named) >= 3, f"{document}: the path pattern found almost nothing: {named}"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{document} names paths that do not exist: {missing}"
