"""``abm places``: the listing by region, ``--find``, and ``abm places build`` with good and
hostile input (each bad file: one line naming the file, the row and what is allowed, exit code
2, nothing written)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from abm.cli import main
from abm.model.places import REGIONS, load_place, place_names

LSOAS = Path(__file__).resolve().parents[1] / "model" / "lsoas"
FILE7 = LSOAS / "File_7_IoD2025_sample.csv"
RUC = LSOAS / "RUC21_LSOA_sample.csv"
DEVON = (LSOAS / "codes_devon.csv").read_text().split()[1:]  # the codes, without the header


def test_every_place_is_listed_once_under_its_region(capsys):
    assert main(["places"]) == 0
    out = capsys.readouterr().out
    headings = [line[:-1] for line in out.splitlines() if line and not line.startswith(" ")
                and line.endswith(":")]
    assert headings == list(REGIONS)  # every region has places, in NHS England's order
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert sorted(listed) == place_names()
    south_west = out.split("South West:")[1].split("Core20:")[0]
    assert "  devon_ics " in south_west and "nhs_devon_icb" in south_west


@pytest.mark.parametrize("text, expected", [
    ("devon", {"devon_ics", "devon_county", "devon_ics_imd2025", "devon_county_imd2025",
               "nhs_devon_icb"}),
    ("E54000063", {"nhs_surrey_heartlands_icb"}),
    ("SURREY", {"nhs_surrey_heartlands_icb"}),
    ("Black Country", {"nhs_black_country_icb"}),
])
def test_find_a_place_by_name_or_code(capsys, text, expected):
    assert main(["places", "--find", text]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()
              if line.startswith("  ")}
    assert listed == expected


def test_find_nothing_says_how_to_look(capsys):
    assert main(["places", "--find", "atlantis"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "No place matches 'atlantis'" in err and "E54000037" in err


def test_build_a_place_and_run_it(tmp_path, capsys):
    out = tmp_path / "my_place.yaml"
    assert main(["places", "build", str(LSOAS / "codes_devon.csv"), "--imd", str(FILE7),
                 "--rural", str(RUC), "--name", "Twenty Devon LSOAs", "--out", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    place = load_place(out)
    assert (place.title, place.lsoas, place.rural_share, place.imd_version) == (
        "Twenty Devon LSOAs", 20, 0.15, 2025)
    assert main(["run", "--place", str(out), "--years", "0.1", "--set", "n_neighbourhoods=10",
                 "--set", "residents_per_neighbourhood=10", "--set", "burn_in_years=0",
                 "--out", str(tmp_path / "runs")]) == 0
    assert "in Twenty Devon LSOAs" in capsys.readouterr().err


def test_build_without_the_rural_file_counts_every_neighbourhood_urban(tmp_path):
    out = tmp_path / "urban.yaml"
    assert main(["places", "build", str(LSOAS / "codes_surrey.csv"), "--imd", str(FILE7),
                 "--name", "Surrey sample", "--out", str(out)]) == 0
    place = load_place(out)
    assert place.rural_share == 0 and "not given" in place.sources["rural_share"]


def _codes(folder: Path, lines: list[str]) -> Path:
    path = folder / "codes.csv"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _file7(folder: Path, change) -> Path:
    path = folder / "file7.csv"
    path.write_text(change(FILE7.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _ruc(folder: Path, change) -> Path:
    path = folder / "ruc.csv"
    path.write_text(change(RUC.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _keep(text: str) -> str:
    return text


#: name -> (codes file lines, File 7 change, rural file change, fragments of the one line).
#: ``{codes}``, ``{file7}`` and ``{ruc}`` stand for the files' paths.
HOSTILE = {
    "unknown_code": (["LSOA21CD", DEVON[0], "E01035999"], _keep, None,
                     ["{codes}:3:", "E01035999 is not in file7.csv", "allowed are the LSOA "
                      "(2021) codes of IoD 2025 File 7"]),
    "code_of_2011": (["LSOA21CD", DEVON[0], "E01000004"], _keep, None,
                     ["{codes}:3:", "E01000004 is not an LSOA (2021)", "numbered like an LSOA of "
                      "2011", "boundaries changed at the 2021 Census", "allowed are LSOA (2021)"]),
    "list_of_2011": (["LSOA11CD", "E01000001"], _keep, None,
                     ["{codes}:1:", "column 'LSOA11CD' holds LSOA (2011) codes",
                      "boundaries changed", "allowed is a list of LSOA (2021) codes"]),
    "welsh_code": (["LSOA21CD", DEVON[0], "W01000001"], _keep, None,
                   ["{codes}:3:", "W01000001 is a Welsh LSOA", "England only",
                    "allowed are English LSOAs"]),
    "scottish_code": (["LSOA21CD", "S01006506", DEVON[0]], _keep, None,
                      ["{codes}:2:", "S01006506 is a Scottish data zone",
                       "allowed are English LSOAs"]),
    "duplicate": (["LSOA21CD", DEVON[0], DEVON[1], DEVON[0]], _keep, None,
                  ["{codes}:4:", f"{DEVON[0]} appears twice (first on line 2)",
                   "allowed is each LSOA once"]),
    "empty_list": (["LSOA21CD"], _keep, None, ["{codes}:", "no LSOA codes", "allowed is a CSV"]),
    "empty_file": ([], _keep, None, ["{codes}:", "no LSOA codes", "allowed is a CSV"]),
    "not_a_code": (["LSOA21CD", DEVON[0], "E0101504"], _keep, None,
                   ["{codes}:3:", "'E0101504' is not an LSOA code", "allowed is E01 and six "
                    "digits"]),
    "msoa_code": (["LSOA21CD", "E02003001"], _keep, None,
                  ["{codes}:2:", "E02003001 is an MSOA code", "allowed are LSOA codes"]),
    "no_code_column": (["postcode", "PL1 1AA"], _keep, None,
                       ["{codes}:1:", "no column of LSOA (2021) codes", "allowed is a header "
                        "LSOA21CD"]),
    "file7_missing_column": (
        ["LSOA21CD", DEVON[0]],
        lambda t: re.sub(r",Total population: mid 2022|,\d+$", "", t, flags=re.M), None,
        ["{file7}:1:", "missing column(s) 'Total population: mid 2022'",
         "allowed is File 7 of the English Indices of Deprivation 2025 as published"]),
    "file7_renamed_column": (
        ["LSOA21CD", DEVON[0]],
        lambda t: t.replace("(IMD) Decile (where 1 is most deprived 10% of LSOAs)", "Decile"),
        None, ["{file7}:1:", "missing column(s) 'Index of Multiple Deprivation (IMD) Decile "
               "(where 1 is most deprived 10% of LSOAs)'", "with its header unchanged"]),
    "file7_of_2019": (["LSOA21CD", DEVON[0]],
                      lambda t: t.replace("LSOA code (2021)", "LSOA code (2011)"), None,
                      ["{file7}:1:", "File 7 of IoD 2019", "allowed is File 7 of IoD 2025"]),
    "file7_bad_decile": (["LSOA21CD", DEVON[0]],
                         lambda t: t.replace(f"{DEVON[0]},Plymouth 026B,E06000026,Plymouth,"
                                             "53.155,1851,1,", f"{DEVON[0]},Plymouth 026B,"
                                             "E06000026,Plymouth,53.155,1851,11,"), None,
                         ["{file7}:2:", "IMD decile '11'", "allowed is a whole number from 1 to "
                          "10"]),
    "ruc_missing_column": (["LSOA21CD", DEVON[0]], _keep,
                           lambda t: t.replace("Urban_rural_flag", "flag"),
                           ["{ruc}:1:", "missing column(s) 'Urban_rural_flag'",
                            "allowed is the ONS Rural Urban Classification (2021) of LSOAs"]),
    "code_not_in_ruc": (["LSOA21CD", DEVON[0], DEVON[1]], _keep,
                        lambda t: "\n".join(line for line in t.splitlines()
                                            if not line.startswith(DEVON[1])),
                        ["{codes}:3:", f"{DEVON[1]} is not in ruc.csv", "allowed are LSOAs "
                         "(2021) of the ONS rural-urban classification"]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, case):
    lines, file7_change, ruc_change, fragments = HOSTILE[case]
    codes = _codes(tmp_path, lines)
    file7 = _file7(tmp_path, file7_change)
    argv = ["places", "build", str(codes), "--imd", str(file7), "--name", "Mine", "--out",
            str(tmp_path / "out" / "mine.yaml")]
    paths = {"codes": codes, "file7": file7, "ruc": tmp_path / "ruc.csv"}
    if ruc_change is not None:
        argv += ["--rural", str(_ruc(tmp_path, ruc_change))]
    before = sorted(tmp_path.rglob("*"))
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines_out = err.splitlines()
    assert out == "" and len(lines_out) == 1 and lines_out[0].startswith("abm: error: "), err
    for fragment in fragments:
        assert fragment.format(**paths) in lines_out[0], (fragment, lines_out[0])
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, no folder made


@pytest.mark.parametrize("extra, fragment", [
    (["--name", ""], "--name '': allowed is a name of 1 to 200 printable characters"),
    (["--name", "bell\x07"], "allowed is a name of 1 to 200 printable characters"),
    (["--out", "{tmp}/mine.txt"], "ending in .yaml"),
    (["--out", "{tmp}/codes.csv.yaml"], "letters, digits, '_' or '-' ending in .yaml"),
])
def test_bad_options_are_one_line(tmp_path, capsys, extra, fragment):
    codes = _codes(tmp_path, ["LSOA21CD", DEVON[0]])
    argv = ["places", "build", str(codes), "--imd", str(FILE7), "--name", "Mine", "--out",
            str(tmp_path / "mine.yaml")]
    argv += [e.format(tmp=tmp_path) for e in extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and fragment in err[0], err
    assert not list(tmp_path.glob("*.yaml")) and not list(tmp_path.glob("*.txt"))


def test_an_existing_place_file_is_kept_unless_forced(tmp_path, capsys):
    codes = _codes(tmp_path, ["LSOA21CD", DEVON[0]])
    out = tmp_path / "mine.yaml"
    out.write_text("kept\n")
    argv = ["places", "build", str(codes), "--imd", str(FILE7), "--name", "Mine", "--out",
            str(out)]
    assert main(argv) == 2
    assert "the file exists" in capsys.readouterr().err and out.read_text() == "kept\n"
    assert main([*argv, "--force"]) == 0 and load_place(out).lsoas == 1
