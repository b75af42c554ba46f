"""Place files made from LSOAs: the generator (every ICB) and the builder (a place of your own)
compute the same figures from files in the official formats, and the shipped files are what
the generator makes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from abm.model import placefiles
from abm.model.places import (
    CONSORTIUM_PLACES,
    IMD_VERSIONS,
    REGIONS,
    load_place,
    place_names,
    places_dir,
)

LSOAS = Path(__file__).resolve().parent / "lsoas"
SAMPLE = LSOAS / "england_lsoa21_sample.csv"
FILE7 = LSOAS / "File_7_IoD2025_sample.csv"
RUC = LSOAS / "RUC21_LSOA_sample.csv"
#: The shared England LSOA table (outside the project; see its README). Tests that need it
#: are skipped where it is not (a fresh clone elsewhere).
ENGLAND = Path(os.environ.get("ABM_ENGLAND_LSOA21", Path(__file__).resolve().parents[3]
                              / "shared" / "data" / "england_lsoa21.csv.gz"))
if not ENGLAND.is_file():
    ENGLAND = Path("/work/shared/data/england_lsoa21.csv.gz")
ICB_FILES = [n for n in place_names() if n.startswith("nhs_") and n.endswith("_icb")]


def test_two_icbs_figures_by_hand():
    """The sample's two ICBs, counted by hand: Devon has two LSOAs in each decile, 3 of its 20
    rural; Surrey Heartlands' 15 are all urban, 7 in decile 10."""
    texts = placefiles.icb_places(placefiles.read_england(SAMPLE), "the sample")
    devon = placefiles.yamlfile.parse(texts["nhs_devon_icb"], Path("devon.yaml"))
    surrey = placefiles.yamlfile.parse(texts["nhs_surrey_heartlands_icb"], Path("surrey.yaml"))
    assert devon["imd_decile_shares"] == dict.fromkeys(range(1, 11), 10)
    assert (devon["lsoas"], devon["rural_share"]) == (20, 0.15)
    assert devon["population"] == 31_537  # the 20 LSOAs' Census 2021 residents, summed
    assert (devon["icb24_code"], devon["region"]) == ("E54000037", "South West")
    expected = {1: 0, 2: 6.67, 3: 0, 4: 0, 5: 6.67, 6: 6.67, 7: 0, 8: 6.67, 9: 26.67, 10: 46.67}
    assert surrey["imd_decile_shares"] == expected
    assert (surrey["lsoas"], surrey["rural_share"], surrey["region"]) == (15, 0, "South East")
    assert devon["attribution"] == placefiles.ATTRIBUTION


@pytest.mark.parametrize("icb, codes", [("nhs_devon_icb", "codes_devon.csv"),
                                        ("nhs_surrey_heartlands_icb", "codes_surrey.csv")])
def test_the_builder_from_official_files_matches_the_generator(tmp_path, icb, codes):
    """The same LSOAs through File 7 and the ONS rural-urban file give the generator's
    figures (population too: the sample's File 7 holds Census 2021 residents)."""
    placefiles.generate(SAMPLE, tmp_path / "generated", consortium=False)
    generated = load_place(tmp_path / "generated" / f"{icb}.yaml")
    built = load_place(placefiles.build(LSOAS / codes, FILE7, "Mine", tmp_path / "mine.yaml",
                                        rural=RUC))
    assert built.imd_decile_shares == generated.imd_decile_shares
    assert (built.lsoas, built.population, built.rural_share) == (
        generated.lsoas, generated.population, generated.rural_share)
    assert built.imd_version == generated.imd_version == 2025
    assert built.title == "Mine" and built.region is None and built.attribution


def test_figures_shares_are_of_lsoas_and_residents_apart():
    numbers = placefiles.figures([1, 1, 10, 10], [1000, 3000, 1000, 1000], [True, False, False,
                                                                            False])
    assert numbers.shares[0] == numbers.shares[9] == 50
    assert numbers.resident_shares[0] == 66.67 and numbers.resident_shares[9] == 33.33
    assert numbers.rural_share == 0.25 and numbers.population == 6000


@pytest.mark.parametrize("name, file", [
    ("NHS Devon Integrated Care Board", "nhs_devon_icb"),
    ("NHS Bath and North East Somerset, Swindon and Wiltshire Integrated Care Board",
     "nhs_bath_north_east_somerset_swindon_wiltshire_icb"),
    ("NHS Cornwall and the Isles of Scilly Integrated Care Board",
     "nhs_cornwall_isles_of_scilly_icb"),
])
def test_icb_file_names(name, file):
    assert placefiles.icb_file_name(name) == file


def test_every_icb_is_shipped_with_its_region():
    assert len(ICB_FILES) == 42
    places = [load_place(n) for n in ICB_FILES]
    assert {p.icb24_codes[0] for p in places} == set(placefiles.ICB_REGIONS)
    per_region = {r: sum(p.region == r for p in places) for r in REGIONS}
    # NHS England's regions hold 4, 3, 11, 6, 5, 6 and 7 ICBs (April 2024).
    assert list(per_region.values()) == [4, 3, 11, 6, 5, 6, 7], per_region
    assert sum(p.population for p in places) == 56_490_108  # England, Census 2021
    assert sum(p.lsoas for p in places) == 33_755
    assert all(p.imd_version == 2025 and p.attribution == placefiles.ATTRIBUTION for p in places)


def test_shipped_figures_agree_with_published_ones():
    """Figures quoted in the issue from MHCLG's ICB summaries and the data's own README."""
    devon = load_place("nhs_devon_icb")
    assert round(devon.imd_decile_shares[0], 1) == 4.4  # 6.4 on IMD 2019
    assert round(devon.imd_decile_shares[1], 1) == 7.7  # 6.2 on IMD 2019
    assert load_place("devon_ics_imd2025").imd_decile_shares == devon.imd_decile_shares
    assert load_place("devon_ics").imd_decile_shares[0] == 6.4  # the pinned IMD 2019 file
    assert load_place("nhs_surrey_heartlands_icb").core20_share < 0.01
    assert 0.45 < load_place("nhs_birmingham_solihull_icb").core20_share < 0.55


def test_every_place_says_its_imd_version_and_the_old_ones_are_2019():
    for name in place_names():
        place = load_place(name)
        assert place.imd_version in IMD_VERSIONS
        assert (place.imd_version == 2019) == (name in CONSORTIUM_PLACES), name


def test_consortium_footprints():
    london = load_place("london_imd2025")
    assert london.icb24_codes == placefiles.LONDON_ICBS and london.rural_share == 0
    assert load_place("bradford_imd2025").lsoas == 312
    assert load_place("devon_county_imd2025").lsoas == 474
    assert load_place("northamptonshire_imd2025").lsoas == load_place(
        "nhs_northamptonshire_icb").lsoas


@pytest.mark.skipif(not ENGLAND.is_file(), reason=f"the shared LSOA table is not at {ENGLAND}")
def test_the_shipped_files_are_what_the_generator_makes(tmp_path):
    written = placefiles.generate(ENGLAND, tmp_path)
    assert len(written) == 42 + len(placefiles.CONSORTIUM)
    for name, path in written.items():
        shipped = places_dir() / f"{name}.yaml"
        assert shipped.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), name
