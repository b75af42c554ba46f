"""Place files made from LSOAs: every ICB in England, the consortium places on IMD 2025, and a
place of your own from a list of LSOA codes.

Two ways in, one way of computing a place's figures (:func:`figures`):

* :func:`generate` reads the project's table of all 33,755 English LSOAs (2021)
  (``england_lsoa21.csv.gz``, kept outside the project: see the shared data's README) and
  writes a place file for each of the 42 Integrated Care Boards (``nhs_<name>_icb.yaml``) and
  for the consortium's places on IMD 2025 (``devon_ics_imd2025.yaml``, ...)::

      python -m abm.model.placefiles ../shared/data/england_lsoa21.csv.gz [--out DIR]

* :func:`build` (``abm places build``) reads a list of LSOA codes and the official files a
  user downloads: File 7 of the English Indices of Deprivation 2025 and, for rurality, the
  ONS 2021 rural-urban classification of LSOAs.

A place's decile shares are the percentage of its **LSOAs** in each national IMD 2025 decile
(not of its residents): the model's neighbourhoods are LSOA-like, each holding the same number
of residents, so LSOA shares are what :func:`abm.model.places.synthesise` reproduces; IMD
deciles are themselves tenths of England's LSOAs; and the IMD 2019 files used LSOA shares, so
the two releases compare like for like. LSOAs hold similar numbers of people by design, so
the residents' shares differ little (:func:`figures` returns both; the largest difference in
an ICB's Core20 share is in the generator's log). Shares are rounded to two decimals.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from abm.files import yamlfile
from abm.files.errors import InputError, clipped, printable, shown
from abm.files.io import check_out_folder, write_text
from abm.model.places import REGIONS, place_problems, places_dir

ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0: English Indices of Deprivation 2025 (MHCLG); Census 2021 and LSOA-to-ICB "
               "lookup and Rural Urban Classification 2021 (ONS).")
#: Attribution of a place built by a user from File 7 (and the ONS rural-urban file).
ATTRIBUTION_BUILT = ("Contains public sector information licensed under the Open Government "
                     "Licence v3.0: English Indices of Deprivation 2025 (MHCLG){rural}.")
IMD_SOURCE = ("English Indices of Deprivation 2025 (MHCLG, published 30 October 2025), File 7: "
              "percentage of the LSOAs (2021) in each national IMD decile (by LSOA count: the "
              "model's neighbourhoods are LSOA-like)")
LOOKUP_SOURCE = "ONS LSOA (2021) to Sub-ICB Location to ICB (April 2024) lookup"
CENSUS_SOURCE = "ONS Census 2021 usual residents (TS021), summed over the LSOAs"
RUC_SOURCE = ("share of the LSOAs classed rural in the ONS 2021 Rural Urban Classification "
              "(the model's rural neighbourhoods)")
REGION_SOURCE = ("NHS England region of the ICB (ONS Sub-ICB Location to ICB to NHS England "
                 "Region, April 2024)")

#: The NHS England region (April 2024) of each ICB, by ICB code.
ICB_REGIONS = {
    **dict.fromkeys(["E54000050", "E54000051", "E54000054", "E54000061"],
                    "North East and Yorkshire"),
    **dict.fromkeys(["E54000008", "E54000048", "E54000057"], "North West"),
    **dict.fromkeys(["E54000010", "E54000011", "E54000013", "E54000015", "E54000018",
                     "E54000019", "E54000055", "E54000058", "E54000059", "E54000060",
                     "E54000062"], "Midlands"),
    **dict.fromkeys(["E54000022", "E54000023", "E54000024", "E54000025", "E54000026",
                     "E54000056"], "East of England"),
    **dict.fromkeys(["E54000027", "E54000028", "E54000029", "E54000030", "E54000031"],
                    "London"),
    **dict.fromkeys(["E54000032", "E54000034", "E54000042", "E54000044", "E54000063",
                     "E54000064"], "South East"),
    **dict.fromkeys(["E54000036", "E54000037", "E54000038", "E54000039", "E54000040",
                     "E54000041", "E54000043"], "South West"),
}
assert set(ICB_REGIONS.values()) == set(REGIONS)

#: Columns of the project's England LSOA table that the generator reads.
DATA_COLUMNS = ("lsoa21_code", "lsoa21_name", "icb24_code", "icb24_name", "imd2025_decile",
                "population_census2021", "urban_rural")
#: An LSOA (2021) name is its local authority district's (2021) name, a space, and a number
#: and letter ("Bradford 001A"): how Devon County and Bradford are found without LAD codes.
LSOA_NAME = re.compile(r"^(?P<district>.+) (?P<number>\d{3}[A-Z])$")


@dataclass(frozen=True)
class Footprint:
    """A consortium place on IMD 2025: its file name, title and which LSOAs it holds.

    ``icbs`` are ICB codes whose LSOAs all belong; ``districts``, if given, keep only the
    LSOAs named after those local authority districts (2021).
    """

    name: str
    title: str
    icbs: tuple[str, ...]
    districts: tuple[str, ...] = ()
    footprint: str = ""  # which LSOAs, in words (the LSOA count's source says it)
    note: str = ""  # why, or what the footprint holds (the file's first line says it)


DEVON_DISTRICTS = ("East Devon", "Exeter", "Mid Devon", "North Devon", "South Hams",
                   "Teignbridge", "Torridge", "West Devon")
LONDON_ICBS = ("E54000027", "E54000028", "E54000029", "E54000030", "E54000031")
CONSORTIUM = (
    Footprint("devon_ics_imd2025", "Devon ICS: NHS Devon ICB (Devon County, Plymouth and "
              "Torbay), IMD 2025", ("E54000037",), footprint="the LSOAs of NHS Devon ICB"),
    Footprint("devon_county_imd2025", "Devon County (without Plymouth and Torbay), IMD 2025",
              ("E54000037",), DEVON_DISTRICTS,
              footprint="the LSOAs named after Devon County's eight districts (2021)",
              note=f"{', '.join(DEVON_DISTRICTS)}; no Sub-ICB Location matches Devon County "
              "(NHS Devon ICB has one, with Plymouth and Torbay)"),
    Footprint("west_yorkshire_imd2025", "West Yorkshire: NHS West Yorkshire ICB, IMD 2025",
              ("E54000054",), footprint="the LSOAs of NHS West Yorkshire ICB",
              note="Bradford, Calderdale, Kirklees, Leeds and Wakefield, and Craven (30 LSOAs), "
              "which the ICB also covers"),
    Footprint("bradford_imd2025", "Bradford district, IMD 2025", ("E54000054",), ("Bradford",),
              footprint="the LSOAs named after Bradford district (2021)",
              note="the Sub-ICB Location (Bradford District and Craven) also holds Craven, so "
              "it does not match"),
    Footprint("london_imd2025", "London, 33 boroughs (the five London ICBs), IMD 2025",
              LONDON_ICBS, footprint="the LSOAs of the five London ICBs",
              note="together they cover the 32 boroughs and the City of London"),
    Footprint("northamptonshire_imd2025", "Northamptonshire: NHS Northamptonshire ICB, IMD 2025",
              ("E54000059",), footprint="the LSOAs of NHS Northamptonshire ICB",
              note="North and West Northamptonshire"),
)


@dataclass(frozen=True)
class Figures:
    """What a place file says about a set of LSOAs."""

    lsoas: int
    population: int
    rural_share: float  # share of the LSOAs that are rural, 0-1
    shares: tuple[float, ...]  # % of LSOAs in deciles 1..10, two decimals
    resident_shares: tuple[float, ...]  # % of residents in deciles 1..10 (not written)


def figures(deciles: Sequence[int], population: Sequence[int],
            rural: Sequence[bool]) -> Figures:
    """The figures of the LSOAs given by their IMD deciles (1-10), residents and whether each
    is rural."""
    decile = np.asarray(deciles, dtype=int)
    people = np.asarray(population, dtype=np.int64)
    counts = np.bincount(decile, minlength=11)[1:11]
    by_people = np.bincount(decile, weights=people, minlength=11)[1:11]
    return Figures(
        lsoas=len(decile),
        population=int(people.sum()),
        rural_share=round(float(np.mean(rural)), 3),
        shares=tuple(round(100 * float(c) / len(decile), 2) for c in counts),
        resident_shares=tuple(round(100 * float(p) / people.sum(), 2) for p in by_people),
    )


def place_text(title: str, numbers: Figures, sources: dict[str, str], *, header: list[str],
               attribution: str, region: str | None = None,
               icbs: Sequence[tuple[str, str]] = ()) -> str:
    """The YAML text of a place file, laid out like the hand-made ones."""
    lines = [f"# {printable(h)}" for h in header]
    lines += [f"title: {_quoted(title)}", "imd_version: 2025"]
    if region:
        lines.append(f"region: {_quoted(region)}")
    if len(icbs) == 1:
        lines += [f"icb24_code: {icbs[0][0]}", f"icb24_name: {_quoted(icbs[0][1])}"]
    elif icbs:
        lines += ["icb24_code: [" + ", ".join(code for code, _ in icbs) + "]",
                  "icb24_name:", *[f"  - {_quoted(name)}" for _, name in icbs]]
    lines += [f"lsoas: {numbers.lsoas}", f"population: {numbers.population}",
              f"rural_share: {numbers.rural_share:g}  # share of neighbourhoods that are rural",
              "imd_decile_shares:  # % of the LSOAs in each national IMD 2025 decile (1 = most "
              "deprived)"]
    lines += [f"  {d}: {share:g}" for d, share in enumerate(numbers.shares, 1)]
    lines.append("sources:")
    lines += [f"  {key}: {_quoted(text)}" for key, text in sources.items()]
    lines.append(f"attribution: {_quoted(attribution)}")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def checked(text: str, path: Path) -> str:
    """``text`` if it is a valid place file (as :func:`abm.model.places.load_place` reads it);
    otherwise :class:`InputError` (a bug here, not the user's input)."""
    problems = place_problems(yamlfile.parse(text, path), path)
    if problems:
        raise InputError(problems)
    return text


# --- every ICB, from the project's England LSOA table ------------------------------------------
def icb_file_name(icb_name: str) -> str:
    """``NHS Bath and North East Somerset, Swindon and Wiltshire Integrated Care Board`` ->
    ``nhs_bath_north_east_somerset_swindon_wiltshire_icb``."""
    core = icb_name.removeprefix("NHS ").removesuffix(" Integrated Care Board")
    words = [w for w in re.findall(r"[a-z0-9]+", core.lower()) if w not in ("and", "the")]
    return "_".join(["nhs", *words, "icb"])


def short_icb_title(icb_name: str) -> str:
    """``NHS Devon Integrated Care Board`` -> ``NHS Devon ICB``."""
    return icb_name.replace("Integrated Care Board", "ICB")


def read_england(path: str | Path):
    """The project's England LSOA table, checked: every column the generator reads, one row
    per LSOA, deciles 1-10, whole populations, Urban or Rural."""
    import pandas as pd

    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"lsoa21_code": str, "icb24_code": str})
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read the LSOA table ({clipped(str(error), 200)})"
                         ) from None
    missing = [c for c in DATA_COLUMNS if c not in table.columns]
    problems = [f"{path}: missing column '{c}'" for c in missing]
    if not missing:
        if table.lsoa21_code.duplicated().any():
            problems.append(f"{path}: an LSOA appears more than once")
        if not table.imd2025_decile.between(1, 10).all():
            problems.append(f"{path}: a decile outside 1-10")
        if not set(table.urban_rural) <= {"Urban", "Rural"}:
            problems.append(f"{path}: urban_rural other than Urban or Rural")
        unknown = sorted(set(table.icb24_code) - set(ICB_REGIONS))
        if unknown:
            problems.append(f"{path}: ICB code(s) with no region: {', '.join(unknown)}")
        if table.lsoa21_name.str.fullmatch(LSOA_NAME).eq(False).any():
            problems.append(f"{path}: an LSOA name is not '<district> <number><letter>'")
    if problems:
        raise InputError(problems)
    table["district"] = table.lsoa21_name.str.extract(LSOA_NAME)["district"]
    return table


def icb_places(table, data_note: str) -> dict[str, str]:
    """File name -> text of the place file of each ICB in ``table``."""
    out = {}
    for (code, name), rows in table.groupby(["icb24_code", "icb24_name"], sort=True):
        numbers = _table_figures(rows)
        sources = _sources(f"the LSOAs of {name}")
        sources["region"] = REGION_SOURCE
        header = [f"{name} ({code}), on IMD 2025.", *_generated(data_note)]
        out[icb_file_name(name)] = place_text(
            short_icb_title(name), numbers, sources, header=header, attribution=ATTRIBUTION,
            region=ICB_REGIONS[code], icbs=[(code, name)])
    return out


def consortium_places(table, data_note: str) -> dict[str, str]:
    """File name -> text of each consortium place on IMD 2025 (see :data:`CONSORTIUM`)."""
    names = dict(zip(table.icb24_code, table.icb24_name, strict=False))
    out = {}
    for place in CONSORTIUM:
        rows = table[table.icb24_code.isin(place.icbs)]
        if place.districts:
            rows = rows[rows.district.isin(place.districts)]
            found = set(rows.district)
            if found != set(place.districts):
                raise InputError(f"{place.name}: no LSOA named after "
                                 f"{', '.join(sorted(set(place.districts) - found))}")
        regions = {ICB_REGIONS[c] for c in place.icbs}
        sources = _sources(place.footprint)
        sources["region"] = REGION_SOURCE
        about = f" ({place.note})" if place.note else ""
        header = [f"{place.title}: {place.footprint}{about}.", *_generated(data_note)]
        out[place.name] = place_text(
            place.title, _table_figures(rows), sources, header=header, attribution=ATTRIBUTION,
            region=regions.pop() if len(regions) == 1 else None,
            icbs=[(c, names[c]) for c in place.icbs])
    return out


def _table_figures(rows) -> Figures:
    return figures(rows.imd2025_decile.to_numpy(), rows.population_census2021.to_numpy(),
                   (rows.urban_rural == "Rural").to_numpy())


def _sources(footprint: str) -> dict[str, str]:
    return {"lsoas": f"count of {footprint} ({LOOKUP_SOURCE}; LSOA names, ONS)",
            "population": CENSUS_SOURCE,
            "rural_share": RUC_SOURCE,
            "imd_decile_shares": IMD_SOURCE}


def _generated(data_note: str) -> list[str]:
    return [f"Generated by `python -m abm.model.placefiles` from {data_note}.",
            "Do not edit by hand: run the generator again. Shares are of LSOAs, not residents."]


def generate(data: str | Path, out: str | Path | None = None, consortium: bool = True
             ) -> dict[str, Path]:
    """Write the place file of every ICB and (with ``consortium``) every consortium place into
    ``out`` (default the shipped places' folder); return name -> path. Every file is checked
    before any is written, and each is written atomically."""
    data = Path(data)
    out = Path(out) if out is not None else places_dir()
    digest = hashlib.sha256(data.read_bytes()).hexdigest()[:16]
    table = read_england(data)
    note = f"{data.name} (sha256 {digest}...)"
    texts = icb_places(table, note)
    if consortium:
        texts |= consortium_places(table, note)
    for name, text in texts.items():
        checked(text, out / f"{name}.yaml")
    return {name: write_text(text, out / f"{name}.yaml") for name, text in texts.items()}


def largest_core20_difference(table) -> tuple[str, float]:
    """The ICB whose Core20 share by residents differs most from its share by LSOAs, and by
    how many percentage points (shown by the generator, quoted in the docs)."""
    worst, gap = "", 0.0
    for name, rows in table.groupby("icb24_name"):
        numbers = _table_figures(rows)
        difference = sum(numbers.resident_shares[:2]) - sum(numbers.shares[:2])
        if abs(difference) > abs(gap):
            worst, gap = name, difference
    return worst, gap


# --- a place of your own, from LSOA codes and the official files -------------------------------
#: The columns of IoD 2025 File 7 the builder reads, as MHCLG names them.
F7_CODE = "LSOA code (2021)"
F7_DECILE = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
F7_POPULATION = "Total population: mid 2022"
F7_COLUMNS = (F7_CODE, F7_DECILE, F7_POPULATION)
#: File 7 of IoD 2019 names its LSOAs so: a sign the user downloaded the 2019 release.
F7_2019_CODE = "LSOA code (2011)"
#: The columns of the ONS 2021 rural-urban classification of LSOAs the builder reads.
RUC_CODE, RUC_FLAG = "LSOA21CD", "Urban_rural_flag"
#: Headers a list of 2021 LSOA codes may have (compared without case); a list may also have
#: no header, one code a row.
CODE_HEADERS = ("lsoa21cd", "lsoa21_code", "lsoa code (2021)", "lsoa_code", "lsoa")
CODE_HEADERS_2011 = ("lsoa11cd", "lsoa11_code", "lsoa code (2011)")
LSOA_CODE = re.compile(r"[EWS]0[12]\d{6}")
#: The last LSOA code of 2011 (E01033768): later E01 codes were made in 2021, so an E01 code
#: up to this one that File 7 lacks is an LSOA of 2011 (or 2001) whose area the 2021
#: boundaries changed.
LAST_2011_NUMBER = 33_768
#: Largest File 7 or rural-urban file read (bytes): the real ones are about 20 MB and 3 MB.
MAX_TABLE_BYTES = 200 << 20
#: Largest list of codes read (bytes): England has 33,755 LSOAs, 10 bytes each.
MAX_CODES_BYTES = 4 << 20
#: Problems listed at most; the rest are counted.
MAX_PROBLEMS = 20
CONVERT = "convert them with the ONS LSOA (2011) to LSOA (2021) lookup"


def build(codes: str | Path, imd: str | Path, title: str, out: str | Path,
          rural: str | Path | None = None, force: bool = False) -> Path:
    """Build a place file from a list of LSOA (2021) codes, File 7 of IoD 2025 and (if given)
    the ONS 2021 rural-urban classification; write it to ``out`` atomically.

    Every input is checked before anything is written; bad input raises :class:`InputError`
    with one line per problem naming the file, the row and what is allowed.
    """
    codes, imd, out = Path(codes), Path(imd), Path(out)
    _check_out(out, force)
    _check_title(title)
    wanted = read_codes(codes)
    rows = read_file7(imd, wanted, codes)
    flags = (read_rural(Path(rural), wanted, codes) if rural is not None
             else dict.fromkeys(wanted, False))  # without the file, every LSOA counts as urban
    order = list(wanted)
    numbers = figures([rows[c][0] for c in order], [rows[c][1] for c in order],
                      [flags[c] for c in order])
    sources = {
        "lsoas": f"count of the LSOA (2021) codes in {codes.name}",
        "population": f"total population mid-2022 (ONS) from {imd.name} (IoD 2025 File 7), "
                      "summed over the LSOAs",
        "rural_share": (f"{RUC_SOURCE}, from {Path(rural).name}" if rural is not None else
                        "not given: no rural-urban classification file (--rural), so every "
                        "neighbourhood counts as urban"),
        "imd_decile_shares": f"{IMD_SOURCE}, from {imd.name}",
    }
    header = [f"{title}: {numbers.lsoas} LSOAs (2021) listed in {codes.name}.",
              f"Built by `abm places build` from {codes.name} ({_digest(codes)}), {imd.name} "
              f"({_digest(imd)})" + (f" and {Path(rural).name} ({_digest(Path(rural))})"
                                     if rural is not None else "") + "."]
    attribution = ATTRIBUTION_BUILT.format(
        rural="; Rural Urban Classification 2021 (ONS)" if rural is not None else "")
    text = checked(place_text(title, numbers, sources, header=header, attribution=attribution),
                   out)
    return write_text(text, out)


def _digest(path: Path) -> str:
    return f"sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}..."


def _check_out(out: Path, force: bool) -> None:
    if out.suffix not in (".yaml", ".yml") or not re.fullmatch(r"[A-Za-z0-9_-]+", out.stem):
        raise InputError(f"--out {clipped(str(out), 200)}: allowed is a file name of letters, "
                         "digits, '_' or '-' ending in .yaml (its name becomes the place's name)")
    if yamlfile.exists(out) and not force:
        raise InputError(f"--out {clipped(str(out), 200)}: the file exists: choose another "
                         "name, or add --force to replace it")
    check_out_folder(out.parent, "--out")


def _check_title(title: str) -> None:
    if not isinstance(title, str) or not title.strip() or len(title) > 200 \
            or printable(title) != title:
        raise InputError(f"--name {shown(title)}: allowed is a name of 1 to 200 printable "
                         "characters, e.g. 'Torbay PCN patients'")


def _rows(path: Path, max_bytes: int) -> tuple[list[str], Iterable[tuple[int, list[str]]]]:
    """The header and the (line number, cells) of each non-blank row of a CSV file."""
    text = yamlfile.read_text(path, max_bytes).removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as error:
        raise InputError(f"{path}:1: not a CSV file ({error})") from None

    def rows():
        try:
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield reader.line_num, [c.strip() for c in cells]
        except csv.Error as error:
            raise InputError(f"{path}:{reader.line_num}: not a CSV row ({error})") from None

    return header, rows()


def read_codes(path: Path) -> dict[str, int]:
    """The LSOA (2021) codes of a list, each with its line; :class:`InputError` for a list
    with no codes, a 2011 list, malformed, Welsh or Scottish codes, or duplicates."""
    header, rows = _rows(path, MAX_CODES_BYTES)
    lowered = [h.lower() for h in header]
    first = header[0] if header else ""
    if LSOA_CODE.fullmatch(first) or (len(header) == 1 and re.fullmatch(r"[A-Z]\d{8}", first)):
        column, pending = 0, [(1, header)]  # no header: the first row is a code
    elif any(h in CODE_HEADERS_2011 for h in lowered):
        name = header[next(i for i, h in enumerate(lowered) if h in CODE_HEADERS_2011)]
        raise InputError(f"{path}:1: column '{clipped(name)}' holds LSOA (2011) codes: LSOA "
                         "boundaries changed at the 2021 Census and IoD 2025 uses 2021 LSOAs; "
                         f"allowed is a list of LSOA (2021) codes ({CONVERT})")
    elif any(h in CODE_HEADERS for h in lowered):
        column, pending = next(i for i, h in enumerate(lowered) if h in CODE_HEADERS), []
    elif not header:
        raise InputError(f"{path}: no LSOA codes (the file is empty): allowed is a CSV of "
                         "LSOA (2021) codes, one a row (e.g. E01000001), with a header "
                         "LSOA21CD or none")
    else:
        raise InputError(f"{path}:1: no column of LSOA (2021) codes (header "
                         f"{shown(', '.join(header))}): allowed is a header LSOA21CD (or "
                         "lsoa21_code, 'LSOA code (2021)') or one code a row with no header")
    seen: dict[str, int] = {}
    problems: list[str] = []
    for line, cells in [*pending, *rows]:
        code = cells[column] if column < len(cells) else ""
        problem = _code_problem(code)
        if problem is None and code in seen:
            problem = (f"{code} appears twice (first on line {seen[code]}): allowed is each "
                       "LSOA once")
        if problem is not None:
            problems.append(f"{path}:{line}: {problem}")
        else:
            seen[code] = line
    if problems:
        raise InputError(_capped(problems))
    if not seen:
        raise InputError(f"{path}: no LSOA codes: allowed is a CSV of LSOA (2021) codes, one a "
                         "row (e.g. E01000001)")
    return seen


def _code_problem(code: str) -> str | None:
    """Why ``code`` cannot be one of a place's LSOAs (format and country only), or None."""
    if not LSOA_CODE.fullmatch(code):
        return (f"{shown(code)} is not an LSOA code: allowed is E01 and six digits, e.g. "
                "E01000001")
    if code.startswith("W"):
        return (f"{code} is a Welsh LSOA: IoD 2025 covers England only (Wales has its own "
                "index, WIMD): allowed are English LSOAs, E01...")
    if code.startswith("S"):
        return (f"{code} is a Scottish data zone: IoD 2025 covers England only (Scotland has "
                "SIMD): allowed are English LSOAs, E01...")
    if code.startswith("E02"):
        return f"{code} is an MSOA code, not an LSOA: allowed are LSOA codes, E01..."
    return None


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS:,} more problems "
                                      "like these"]


def _columns(path: Path, header: list[str], wanted: Sequence[str], what: str) -> list[int]:
    """The positions of ``wanted`` columns in ``header``; one problem naming each missing."""
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InputError(f"{path}:1: missing column(s) {', '.join(repr(c) for c in missing)}: "
                         f"allowed is {what} as published, with its header unchanged")
    return [header.index(c) for c in wanted]


def read_file7(path: Path, wanted: dict[str, int], codes: Path) -> dict[str, tuple[int, int]]:
    """Decile and population (mid-2022) of each wanted LSOA from IoD 2025 File 7."""
    header, rows = _rows(path, MAX_TABLE_BYTES)
    if F7_2019_CODE in header:
        raise InputError(f"{path}:1: this is File 7 of IoD 2019 (column '{F7_2019_CODE}'), on "
                         "2011 LSOAs: allowed is File 7 of IoD 2025 (column 'LSOA code (2021)')")
    code_at, decile_at, people_at = _columns(path, header, F7_COLUMNS,
                                             "File 7 of the English Indices of Deprivation 2025")
    found: dict[str, tuple[int, int]] = {}
    lines: dict[str, int] = {}
    bad: set[str] = set()  # codes whose row has a problem (said once)
    problems = []
    for line, cells in rows:
        code = _cell(cells, code_at)
        if code not in wanted:
            continue
        if code in found or code in bad:
            problems.append(f"{path}:{line}: {code} appears twice (first on line {lines[code]}): "
                            "allowed is File 7 as published, each LSOA once")
            bad.add(code)
            continue
        decile = _whole(cells, decile_at)
        people = _whole(cells, people_at)
        lines[code] = line
        if decile is None or not 1 <= decile <= 10:
            bad.add(code)
            problems.append(f"{path}:{line}: {code}: IMD decile {shown(_cell(cells, decile_at))}"
                            ": allowed is a whole number from 1 to 10")
        elif people is None or people < 0:
            bad.add(code)
            problems.append(f"{path}:{line}: {code}: population "
                            f"{shown(_cell(cells, people_at))}: allowed is a whole number "
                            "from 0")
        else:
            found[code] = (decile, people)
    problems += [f"{codes}:{line}: {_missing_code(code, path)}" for code, line in wanted.items()
                 if code not in found and code not in bad]
    if problems:
        raise InputError(_capped(problems))
    return found


def _missing_code(code: str, imd: Path) -> str:
    """Why an English LSOA code is not in File 7: a 2011 code, or none at all."""
    if int(code[3:]) <= LAST_2011_NUMBER:
        return (f"{code} is not an LSOA (2021) in {imd.name}: it is numbered like an LSOA of "
                "2011, whose boundaries changed at the 2021 Census: allowed are LSOA (2021) "
                f"codes ({CONVERT})")
    return (f"{code} is not in {imd.name}: allowed are the LSOA (2021) codes of IoD 2025 File 7 "
            "(England's 33,755 LSOAs)")


def _cell(cells: list[str], at: int) -> str:
    return cells[at] if at < len(cells) else ""


def _whole(cells: list[str], at: int) -> int | None:
    text = _cell(cells, at).replace(",", "")
    return int(text) if re.fullmatch(r"\d+", text) else None


def read_rural(path: Path, wanted: dict[str, int], codes: Path) -> dict[str, bool]:
    """Whether each wanted LSOA is rural, from the ONS 2021 rural-urban classification."""
    header, rows = _rows(path, MAX_TABLE_BYTES)
    code_at, flag_at = _columns(path, header, (RUC_CODE, RUC_FLAG),
                                "the ONS Rural Urban Classification (2021) of LSOAs")
    found: dict[str, bool] = {}
    problems = []
    for line, cells in rows:
        code = _cell(cells, code_at)
        if code not in wanted or code in found:
            continue
        flag = _cell(cells, flag_at)
        if flag.lower() not in ("urban", "rural"):
            problems.append(f"{path}:{line}: {code}: {RUC_FLAG} {shown(flag)}: allowed are "
                            "Urban, Rural")
            found[code] = False
        else:
            found[code] = flag.lower() == "rural"
    problems += [f"{codes}:{line}: {code} is not in {path.name}: allowed are LSOAs (2021) of the "
                 "ONS rural-urban classification" for code, line in wanted.items()
                 if code not in found]
    if problems:
        raise InputError(_capped(problems))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m abm.model.placefiles DATA [--out DIR]``: write every ICB's place file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="england_lsoa21.csv.gz (see the shared data's README)")
    parser.add_argument("--out", help="folder for the files (default: the shipped places)")
    args = parser.parse_args(argv)
    try:
        written = generate(args.data, args.out)
        name, gap = largest_core20_difference(read_england(args.data))
    except InputError as error:
        for problem in error.problems:
            print(f"placefiles: error: {printable(problem)}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} place files into {Path(next(iter(written.values()))).parent}")
    print(f"Core20 share by residents minus by LSOAs: largest in {name}, {gap:+.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
