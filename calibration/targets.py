"""Calibration targets as data: ``calibration/targets.yaml``, loaded and validated.

Every defect in the file is reported at once, one line each naming the file, line, key,
value and what is allowed (:class:`abm.files.errors.InputError`; the command line exits with 2).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

from abm.files import yamlfile
from abm.files.checks import is_number
from abm.files.errors import InputError, shown, unknown_name_message
from abm.model.places import place_names, unknown_place
from calibration.outputs import OUTPUTS

TARGETS_FILE = Path(__file__).with_name("targets.yaml")
TARGET_KEYS = ("value", "unit", "sampling_sd", "discrepancy_sd", "output", "places", "source",
               "note")
REQUIRED = ("value", "sampling_sd", "discrepancy_sd", "output", "places", "source")
#: Smallest and largest SD above 0 allowed: the square of anything below 1.5e-154 underflows
#: (below the smallest normal double, 2.2e-308) and a distance divided by it is infinite or
#: NaN, so ABC could never accept a particle; above 1e150 the square overflows.
SD_LOW = math.sqrt(sys.float_info.min)
SD_HIGH = 1e150


@dataclass(frozen=True)
class Target:
    """A published figure the model should reproduce, with its uncertainty and model output."""

    name: str
    value: float
    sampling_sd: float
    discrepancy_sd: float
    output: str
    places: tuple[str, ...] | None  # None: every place
    source: str
    unit: str = ""
    note: str = ""

    @property
    def sd(self) -> float:
        """Total standard deviation: sampling error and model discrepancy, added in quadrature."""
        return math.hypot(self.sampling_sd, self.discrepancy_sd)

    def applies_to(self, place: str) -> bool:
        """Whether the target holds for ``place``."""
        return self.places is None or place in self.places


def load_targets(path: str | Path = TARGETS_FILE) -> dict[str, Target]:
    """Load and validate a targets file; raise :class:`InputError` listing every defect."""
    path = Path(path)
    data = yamlfile.load(path)
    found: list[str] = []
    if not isinstance(data, yamlfile.LineDict) or set(data) != {"targets"}:
        raise InputError(f"{path}:1: a targets file is a mapping with one key, 'targets', "
                         "holding one mapping per target")
    raw = data["targets"]
    if not isinstance(raw, yamlfile.LineDict) or not raw:
        raise InputError(f"{path}:{data.line_of('targets')}: 'targets' = {raw!r}: allowed is a "
                         "mapping of target names to their figures")
    targets = {}
    for name, entry in raw.items():
        line = raw.line_of(name)
        if not isinstance(entry, yamlfile.LineDict):
            found.append(f"{path}:{line}: target '{name}' = {entry!r}: allowed is a mapping with "
                         f"keys {', '.join(TARGET_KEYS)}")
            continue
        before = len(found)
        target = _target(path, str(name), entry, found)
        if len(found) == before:
            targets[name] = target
    if found:
        raise InputError(yamlfile.one_line(found))
    return targets


def _target(path: Path, name: str, entry: yamlfile.LineDict, found: list[str]) -> Target | None:
    def at(key: str) -> str:
        return f"{path}:{entry.line_of(key)}: target '{name}'"

    for key in entry:
        if key not in TARGET_KEYS:
            found.append(f"{at(key)}: {unknown_name_message('key', key, list(TARGET_KEYS))}")
    for key in REQUIRED:
        if key not in entry:
            found.append(f"{at(key)}: missing key '{key}'")
    value = entry.get("value")
    if "value" in entry and not is_number(value):
        found.append(f"{at('value')}: 'value' = {value!r}: allowed is a finite number")
    for key in ("sampling_sd", "discrepancy_sd"):
        sd = entry.get(key)
        if key in entry and not (is_number(sd) and (sd == 0 or SD_LOW <= sd <= SD_HIGH)):
            found.append(f"{at(key)}: '{key}' = {shown(sd)}: allowed is 0 or a number from "
                         f"{SD_LOW:.1e} to {SD_HIGH:.0e} (its square, the variance the "
                         "distances divide by, must neither underflow to 0 nor overflow)")
    sds = [entry.get("sampling_sd"), entry.get("discrepancy_sd")]
    if all(is_number(sd) and sd >= 0 for sd in sds) and sum(sds) == 0:
        found.append(f"{at('sampling_sd')}: 'sampling_sd' and 'discrepancy_sd' are both 0: "
                     "allowed is a total uncertainty above 0")
    output = entry.get("output")
    if "output" in entry and output not in OUTPUTS:
        found.append(f"{at('output')}: {unknown_name_message('output', output, list(OUTPUTS))}")
    places = entry.get("places")
    if places == "all":
        places = None
    elif "places" in entry:
        if not (isinstance(places, list) and places and all(isinstance(p, str) for p in places)):
            found.append(f"{at('places')}: 'places' = {places!r}: allowed is 'all' or a list of "
                         "place names")
        else:
            for place in places:
                if place not in place_names():
                    found.append(f"{at('places')}: {unknown_place(place)}")
            places = tuple(places)
    for key in ("source", "unit", "note"):
        text = entry.get(key, "")
        if not isinstance(text, str) or (key == "source" and key in entry and not text.strip()):
            found.append(f"{at(key)}: '{key}' = {text!r}: allowed is non-empty text")
    try:
        return Target(name, float(value), float(entry["sampling_sd"]),
                      float(entry["discrepancy_sd"]), output, places,
                      " ".join(str(entry["source"]).split()), str(entry.get("unit", "")),
                      " ".join(str(entry.get("note", "")).split()))
    except (KeyError, TypeError, ValueError):
        return None  # already reported above
