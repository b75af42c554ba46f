"""``abm places``: every shipped place grouped by NHS England region, finding one by name or
code (``--find``), and building a place of your own from LSOA codes (``abm places build``)."""

from __future__ import annotations

import argparse
import sys

from abm.files.errors import InputError, printable

NO_REGION = "Other places (no region given)"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``places`` (the listing) and ``places build``."""
    places = commands.add_parser(
        "places", help="list the shipped places by region, find one, or build your own",
        description="List every shipped place by NHS England region (name, title, IMD "
                    "release, LSOAs, residents, Core20 share); --find shows those whose name, "
                    "title, ICB code or name or region contains TEXT. `abm places build` makes "
                    "a place file from LSOA codes.")
    places.add_argument("--find", metavar="TEXT",
                        help="only places whose name, title, ICB code or name, or region "
                             "contains TEXT (any case), e.g. devon or E54000037")
    places.set_defaults(handler=_list)
    actions = places.add_subparsers(dest="action", metavar="ACTION")
    build = actions.add_parser(
        "build", help="build a place file from a list of LSOA (2021) codes",
        description="Build a place file from a CSV of LSOA (2021) codes (one a row; header "
                    "LSOA21CD or none), File 7 of the English Indices of Deprivation 2025 as "
                    "downloaded from GOV.UK, and (for rurality) the ONS Rural Urban "
                    "Classification (2021) of LSOAs. Bad input: one line per problem naming the "
                    "file, the row and what is allowed, exit code 2, nothing written.")
    build.add_argument("codes", help="CSV of LSOA (2021) codes")
    build.add_argument("--imd", required=True, metavar="FILE7.csv",
                       help="File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv")
    build.add_argument("--rural", metavar="RUC.csv",
                       help="ONS Rural Urban Classification (2021) of LSOAs, CSV (columns "
                            "LSOA21CD, Urban_rural_flag); without it every neighbourhood counts "
                            "as urban")
    build.add_argument("--name", required=True, help="the place's title, e.g. 'Torbay PCN'")
    build.add_argument("--out", required=True,
                       help="place file to write (NAME.yaml; in scenarios/places/ it is shipped "
                            "and usable in sweeps by NAME)")
    build.add_argument("--force", action="store_true", help="replace --out if it exists")
    build.set_defaults(handler=_build)


def _list(args: argparse.Namespace) -> int:
    from abm.model.places import REGIONS, load_place, place_names

    places = [load_place(name) for name in place_names()]
    if args.find is not None:
        text = args.find.strip().lower()
        if not text:
            raise InputError("--find '': allowed is some text, e.g. devon or E54000037")
        places = [p for p in places if text in _haystack(p)]
        if not places:
            print(printable(f"No place matches '{args.find}': try part of an ICB's name (e.g. "
                            "devon) or its code (e.g. E54000037); `abm places` lists them all"),
                  file=sys.stderr)
            return 1
    width = max(len(p.name) for p in places)
    order = [*REGIONS, NO_REGION]
    for region in order:
        group = [p for p in places if (p.region or NO_REGION) == region]
        if not group:
            continue
        print(f"{region}:")
        for p in group:
            codes = f" [{', '.join(p.icb24_codes)}]" if len(p.icb24_codes) == 1 else ""
            print(printable(
                f"  {p.name:<{width}}  IMD {p.imd_version}  {p.lsoas:>5,} LSOAs  "
                f"{p.population:>10,} people  Core20 {100 * p.core20_share:4.1f}%  "
                f"{p.title}{codes}"))
    print("Core20: share of the place's LSOAs in national IMD deciles 1-2 (the most deprived "
          "20%). Use a place by its name: abm run --place NAME; in sweep and scenario files, "
          "place: NAME.")
    return 0


def _haystack(place) -> str:
    """Everything ``--find`` looks in, lower case."""
    return " ".join([place.name, place.title, place.region or "", *place.icb24_codes,
                     *place.icb24_names]).lower()


def _build(args: argparse.Namespace) -> int:
    from abm.model.placefiles import build
    from abm.model.places import load_place

    path = build(args.codes, args.imd, args.name, args.out, args.rural, args.force)
    place = load_place(path)
    print(printable(f"Wrote {path}: {place.title}, {place.lsoas:,} LSOAs, {place.population:,} "
                    f"people (mid-2022), Core20 {100 * place.core20_share:.1f}%, rural "
                    f"{100 * place.rural_share:.0f}%. Run it: abm run --place {path}"))
    return 0
