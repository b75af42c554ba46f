"""Places and their synthetic neighbourhoods.

A *place* (Devon ICS, West Yorkshire, ...) is read from a YAML file in ``scenarios/places/``:
its share of LSOAs in each national IMD 2019 decile, its LSOA count and population, and the
share of its neighbourhoods that are rural, each figure with a source.

:func:`synthesise` turns a place into ``n`` LSOA-like neighbourhoods whose deciles match the
place's shares (largest-remainder rounding, no randomness), laid out on a square grid. The
layout is stylised: a smooth random field puts deprived neighbourhoods next to each other
(as in real towns, deprivation clusters), and rural neighbourhoods lie at the edge of the grid.
Access from one neighbourhood to providers in another falls with distance as
``exp(-km / travel_distance_km)``, with rural neighbourhoods spaced further apart.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from abm.files import yamlfile
from abm.files.checks import is_number, is_whole
from abm.files.errors import InputError, unknown_name_message
from abm.model.parameters import Params

#: Neighbourhoods within this many grid cells of each other can use each other's providers.
REACH_CELLS = 2.0
#: Shares may miss 100% by this much because each is rounded to one decimal place.
SHARE_TOLERANCE = 0.5
FIGURES = ("lsoas", "population", "rural_share", "imd_decile_shares")
#: Optional figures: the mix of asset providers by kind (weights of arts, nature, community,
#: active; default the ``kind_share_*`` parameters), with its source when given.
OPTIONAL_FIGURES = ("asset_mix",)
PLACE_KEYS = {"title", *FIGURES, *OPTIONAL_FIGURES, "sources"}
KIND_NAMES = ("arts", "nature", "community", "active")


@dataclass(frozen=True)
class Place:
    """A real place: the figures the model needs about it, and where each came from."""

    name: str
    title: str
    lsoas: int
    population: int
    rural_share: float
    imd_decile_shares: tuple[float, ...]  # % of LSOAs in deciles 1 (most deprived) to 10
    sources: Mapping[str, str]  # figure -> its source (read-only: places are cached)
    path: Path
    asset_mix: tuple[float, ...] | None = None  # weights of arts, nature, community, active

    @property
    def people_per_neighbourhood(self) -> float:
        """Mean population of one LSOA-like neighbourhood in this place."""
        return self.population / self.lsoas


def places_dir() -> Path:
    """The folder of shipped place files."""
    return Path(str(resources.files("scenarios") / "places"))


def place_names() -> list[str]:
    """Names of the shipped places (file names without ``.yaml``)."""
    return sorted(p.stem for p in places_dir().glob("*.yaml"))


def load_place(name_or_path: str | Path) -> Place:
    """Load a shipped place by name (``devon_ics``) or any place file by path; validate it.

    Parsed places are cached by file and modification time: sweeps look a place up several
    times per run, and an edited file is read afresh.
    """
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        path = Path(text)
    else:
        path = places_dir() / f"{text}.yaml"
        if not yamlfile.exists(path):
            raise InputError(
                yamlfile.one_line([unknown_name_message("place", text, place_names())]))
    try:
        modified = path.stat().st_mtime_ns
    except (OSError, ValueError):
        modified = None  # let the loader report why the file cannot be read
    return _read_place(path, modified)


@functools.lru_cache(maxsize=64)
def _read_place(path: Path, modified: int | None) -> Place:
    data = yamlfile.load(path)
    problems = place_problems(data, path)
    if problems:
        raise InputError(yamlfile.one_line(problems))
    shares = data["imd_decile_shares"]
    return Place(
        name=path.stem,
        title=str(data.get("title", path.stem)),
        lsoas=data["lsoas"],
        population=data["population"],
        rural_share=float(data["rural_share"]),
        imd_decile_shares=tuple(float(shares[d]) for d in range(1, 11)),
        sources=MappingProxyType(dict(data["sources"])),
        path=path,
        asset_mix=(tuple(float(data["asset_mix"][k]) for k in KIND_NAMES)
                   if "asset_mix" in data else None),
    )


def place_problems(data: object, path: Path) -> list[str]:
    """Every defect of a place file's contents, one line each, naming file, line and key."""
    if not isinstance(data, yamlfile.LineDict):
        return [f"{path}: a place file must be a mapping of keys such as 'lsoas' and 'population'"]
    found = []

    def at(key):
        return f"{path}:{data.line_of(key)}"

    for key in data:
        if key not in PLACE_KEYS:
            found.append(f"{at(key)}: {unknown_name_message('key', key, sorted(PLACE_KEYS))}")
    for key in FIGURES:
        if key not in data:
            found.append(f"{path}: missing key '{key}'")
    for key, low, high in (("lsoas", 1, 1_000_000), ("population", 1, 1_000_000_000)):
        value = data.get(key)
        if key in data and (not is_whole(value) or not low <= value <= high):
            found.append(f"{at(key)}: '{key}' = {value!r}: allowed is a whole number from "
                         f"{low:,} to {high:,}")
    rural = data.get("rural_share")
    if "rural_share" in data and (not is_number(rural) or not 0 <= rural <= 1):
        found.append(
            f"{at('rural_share')}: 'rural_share' = {rural!r}: allowed is a number from 0 to 1")
    if "imd_decile_shares" in data:
        found += _share_problems(data["imd_decile_shares"], path, data.line_of("imd_decile_shares"))
    sources = data.get("sources")
    if "sources" not in data:
        found.append(
            f"{path}: missing key 'sources': give a source for each of {', '.join(FIGURES)}")
    elif not isinstance(sources, dict):
        found.append(f"{at('sources')}: 'sources' = {sources!r}: allowed is a mapping of each "
                     f"of {', '.join(FIGURES)} to its source")
    else:
        for key in (*FIGURES, *(k for k in OPTIONAL_FIGURES if k in data)):
            if not isinstance(sources.get(key), str) or not sources[key].strip():
                found.append(f"{at('sources')}: 'sources' has no source for '{key}'")
    if "asset_mix" in data:
        found += _mix_problems(data["asset_mix"], path, data.line_of("asset_mix"))
    return found


def _mix_problems(mix: object, path: Path, line: int) -> list[str]:
    """Problems of an ``asset_mix``: a mapping of the four kinds to weights >= 0, not all 0."""
    allowed = (f"allowed is a mapping of {', '.join(KIND_NAMES)} to weights (numbers >= 0, "
               "not all 0)")
    if (not isinstance(mix, dict) or set(mix) != set(KIND_NAMES)
            or not all(is_number(v) and v >= 0 for v in mix.values())
            or not sum(mix.values()) > 0):
        return [f"{path}:{line}: 'asset_mix' = {mix!r}: {allowed}"]
    return []


def _share_problems(shares: object, path: Path, line: int) -> list[str]:
    where = f"{path}:{line}"
    if not isinstance(shares, yamlfile.LineDict):
        return [f"{where}: 'imd_decile_shares' = {shares!r}: allowed is a mapping of deciles "
                "1 to 10 to percentages"]
    found = []
    for key in shares:
        if key not in range(1, 11) or isinstance(key, bool):
            found.append(
                f"{path}:{shares.line_of(key)}: 'imd_decile_shares' has unknown decile {key!r}: "
                "allowed are 1 to 10"
            )
    missing = [d for d in range(1, 11) if d not in shares]
    if missing:
        found.append(
            f"{where}: 'imd_decile_shares' is missing decile {', '.join(map(str, missing))}: "
            "give a share for each of deciles 1 to 10"
        )
    for decile in range(1, 11):
        value = shares.get(decile)
        if decile in shares and (not is_number(value) or not 0 <= value <= 100):
            found.append(
                f"{path}:{shares.line_of(decile)}: 'imd_decile_shares' decile {decile} = "
                f"{value!r}: allowed is a percentage from 0 to 100"
            )
    if not found:
        total = sum(shares[d] for d in range(1, 11))
        if abs(total - 100) > SHARE_TOLERANCE:
            found.append(
                f"{where}: 'imd_decile_shares' sum to {total:g}: allowed is 100 "
                f"(within {SHARE_TOLERANCE:g} for rounding)"
            )
    return found


@dataclass(frozen=True)
class Neighbourhoods:
    """The simulated neighbourhoods of a place, one entry per neighbourhood."""

    decile: np.ndarray  # national IMD decile, 1 = most deprived (int8)
    deprivation: np.ndarray  # score 0 (least) to 1 (most deprived): (10.5 - decile) / 10
    rural: np.ndarray  # bool
    x: np.ndarray  # grid column
    y: np.ndarray  # grid row
    access: sp.csr_matrix  # access[n, m]: pull on a resident of n of a provider in m, 0-1

    def __len__(self) -> int:
        return len(self.decile)

    @property
    def quintile(self) -> np.ndarray:
        """National IMD quintile index, 0 = most deprived (deciles 1-2) to 4 (deciles 9-10)."""
        return (self.decile - 1) // 2


def decile_counts(shares: tuple[float, ...], n: int) -> np.ndarray:
    """How many of ``n`` neighbourhoods fall in each decile, by largest-remainder rounding."""
    exact = np.asarray(shares, dtype=float) / sum(shares) * n
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def synthesise(place: Place, params: Params, rng: np.random.Generator) -> Neighbourhoods:
    """Build ``params.n_neighbourhoods`` neighbourhoods matching the place's decile shares."""
    n = params.n_neighbourhoods
    side = math.ceil(math.sqrt(n))
    cells = np.arange(n)
    x, y = (cells % side).astype(float), (cells // side).astype(float)
    centre = (side - 1) / 2
    from_centre = np.hypot(x - centre, y - centre) / max(centre * math.sqrt(2), 1.0)

    # Deprivation clusters: rank cells by a smooth random field, most deprived deciles first.
    field = 1.0 - from_centre
    for _ in range(6):
        bx, by = rng.uniform(0, side, size=2)
        field += rng.normal() * np.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * (side / 4) ** 2))
    decile = np.empty(n, dtype=np.int8)
    decile[np.argsort(-field, kind="stable")] = np.repeat(
        np.arange(1, 11), decile_counts(place.imd_decile_shares, n)
    )
    # Rural neighbourhoods lie at the edge of the grid.
    rural = np.zeros(n, dtype=bool)
    rural[np.argsort(-from_centre, kind="stable")[: round(place.rural_share * n)]] = True

    spacing = np.where(rural, params.rural_spacing_km, params.urban_spacing_km)
    rows, cols, km = [], [], []
    reach = int(REACH_CELLS)
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            cells_away = math.hypot(dx, dy)
            if cells_away > REACH_CELLS:
                continue
            nx, ny = x + dx, y + dy
            j = (ny * side + nx).astype(int)
            ok = (nx >= 0) & (nx < side) & (ny >= 0) & (ny < side) & (j < n)
            i, j = cells[ok], j[ok]
            rows.append(i)
            cols.append(j)
            km.append(
                0.5 * spacing[i] if cells_away == 0 else cells_away * (spacing[i] + spacing[j]) / 2
            )
    weights = np.exp(-np.concatenate(km) / params.travel_distance_km)
    access = sp.csr_matrix((weights, (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    access.sort_indices()
    return Neighbourhoods(
        decile=decile,
        deprivation=(10.5 - decile) / 10.0,
        rural=rural,
        x=x,
        y=y,
        access=access,
    )
