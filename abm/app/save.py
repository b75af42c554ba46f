"""Save what the room chose: a scenario file, and a sweep file comparing it with the baseline.

The scenario file is an ordinary scenario (``abm validate`` checks it, ``abm run`` and
``abm compare`` take it); who chose it, when and why are kept as YAML comments and in its
``description``. The sweep file beside it runs the scenario against the shipped status-quo
``baseline`` in the same place, with enough seeds for a 95% interval, so modellers can run
``abm sweep <folder>/<name>_sweep.yaml --out results/<name>``. The workshop's small run size
is not saved: the sweep's runs use the model's default size.

Both files are checked by the same loaders that ``abm validate`` and ``abm sweep`` use; if
either fails, neither is left behind.

Several browser sessions may save at once (one server serves the room). Each file is created
with exclusive create (``open(path, "x")``): of two saves of one name, the one that creates
the scenario file first goes on and the other is refused, whatever the timing, and a save
that fails removes only the files it created itself.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from abm.app.run import Settings
from abm.files.errors import InputError
from abm.model.places import load_place
from abm.model.providers import WEEKS_PER_YEAR
from abm.model.scenarios import load_scenario, scenario_names

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
#: Seeds in the comparison sweep: enough for a 95% interval of paired differences.
SWEEP_SEEDS = 10


@dataclass(frozen=True)
class Note:
    """What the facilitator types: who chose the scenario, when and why (free text)."""

    who: str
    when: str
    why: str

    def cleaned(self) -> Note:
        """The note on one line per field (YAML comments cannot span lines)."""
        def one_line(text: str) -> str:
            return " ".join(str(text).split())

        return Note(one_line(self.who), one_line(self.when), one_line(self.why))


def check_name(name: str, folder: Path) -> None:
    """Refuse a file name that is not a simple name, shadows a shipped scenario or exists."""
    if not NAME_PATTERN.match(name):
        raise InputError(f"scenario name '{name}': allowed are lower-case letters, digits and "
                         "underscores, starting with a letter (e.g. more_link_workers)")
    if name in {n.split("/")[-1] for n in scenario_names()}:
        raise InputError(f"scenario name '{name}' is a shipped scenario's name: choose another")
    for path in (folder / f"{name}.yaml", folder / f"{name}_sweep.yaml"):
        if path.exists():
            raise InputError(f"{path} exists already: choose another name")


def scenario_text(settings: Settings, name: str, note: Note) -> str:
    """The scenario file: who/when/why as comments, then description, place, rules and the
    parameter changes."""
    note = note.cleaned()
    body = {
        "description": f"{note.why} (workshop: {note.who}, {note.when})",
        "place": settings.place,
        "rules": list(settings.rules),
    }
    if settings.values:
        body["parameters"] = settings.values
    header = (f"# {name}: saved from the workshop app (abm viz).\n"
              f"# Who: {note.who}\n# When: {note.when}\n# Why: {note.why}\n")
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def sweep_text(settings: Settings, name: str) -> str:
    """A sweep comparing scenario ``name`` (next to the sweep file) with the baseline."""
    title = load_place(settings.place).title
    years = settings.policy_weeks / WEEKS_PER_YEAR
    body = {
        "description": f"Workshop scenario '{name}' against the status quo in {title}.",
        "scenarios": ["baseline", name],
        "places": [settings.place],
        "seeds": SWEEP_SEEDS,
        "master_seed": 1,
        "years": int(years) if float(years).is_integer() else years,
    }
    return (f"# Run with: abm sweep <this file> --out results/{name}\n"
            + yaml.safe_dump(body, sort_keys=False, default_flow_style=None))


def save(settings: Settings, folder: str | Path, name: str, note: Note) -> tuple[Path, Path]:
    """Write ``<folder>/<name>.yaml`` and ``<folder>/<name>_sweep.yaml``, both checked.

    Raises :class:`InputError` (and leaves none of its own files) when the name is refused,
    either file exists already (another session may have saved that name a moment ago), or
    a file does not load back.
    """
    from experiments.spec import load_sweep  # the sweep loader imports the runner's specs

    folder = Path(folder)
    name = name.strip()
    check_name(name, folder)
    scenario, sweep = folder / f"{name}.yaml", folder / f"{name}_sweep.yaml"
    created: list[Path] = []
    try:
        _create(scenario, scenario_text(settings, name, note), created)
        _create(sweep, sweep_text(settings, name), created)
        load_scenario(scenario)
        load_sweep(sweep)
    except BaseException:
        for path in created:  # only what this save made: never another session's files
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return scenario, sweep


def _create(path: Path, text: str, created: list[Path]) -> None:
    """Create ``path`` holding ``text`` with exclusive create, noting it in ``created``;
    a file that exists already is refused, in one line."""
    try:
        file = open(path, "x", encoding="utf-8")  # noqa: SIM115 (noted as created first)
    except FileExistsError:
        raise InputError(f"{path} exists already: choose another name") from None
    except OSError as error:
        raise InputError(f"{path}: cannot write the file ({error.strerror or error})") from None
    created.append(path)
    with file:
        try:
            file.write(text if text.endswith("\n") else text + "\n")
            file.flush()
        except OSError as error:  # a full disk, say: the caller removes the file
            raise InputError(f"{path}: cannot write the file ({error.strerror or error})"
                             ) from None
