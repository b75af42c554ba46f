"""The model description (docs/ODD.md) keeps up with the parameter declaration."""

import importlib.util
import re
from pathlib import Path

from abm.model.parameters import PARAMETERS

DOCS = Path(__file__).resolve().parents[1] / "docs"
ODD = DOCS / "ODD.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"


def load_generator():
    """docs/parameter_table.py as a module (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("parameter_table", DOCS / "parameter_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split_odd() -> tuple[str, str]:
    """(the generated table between the markers, the rest of docs/ODD.md)."""
    text = ODD.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "ODD.md needs one pair of markers"
    head, rest = text.split(START + "\n", 1)
    table, tail = rest.split(END, 1)
    return table, head + tail


def test_parameter_table_is_up_to_date():
    table, _ = split_odd()
    assert table == load_generator().render(), (
        "docs/ODD.md parameter table is stale: run python docs/parameter_table.py")


def test_every_parameter_is_described_in_the_text():
    """Each declared parameter is named in the prose, not only in the generated table, so a
    new parameter cannot enter the model without its rule being described."""
    _, prose = split_odd()
    missing = [p.name for p in PARAMETERS if not re.search(rf"\b{p.name}\b", prose)]
    assert not missing, f"docs/ODD.md does not describe these parameters: {', '.join(missing)}"
