"""Write synthetic accidents as real ONISR BAAC files, in the layout of any year.

Used by the demo data, the tests (a year in each layout with known counts) and the benchmark.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

NBSP = "\u00a0"


@dataclass
class Vehicle:
    letter: str  # A01, B01…
    category: int  # catv
    ref: int = 0  # id_vehicule (2019+)


@dataclass
class User:
    letter: str
    category: int  # catu: 1 driver, 2 passenger, 3 pedestrian
    gravity: int  # grav: 1 unhurt, 2 killed, 3 hospitalised, 4 slightly injured, -1 unknown
    birth_year: int | None
    ref: int = 0  # id_usager (2022+)
    vehicle_ref: int = 0


@dataclass
class Accident:
    id: int  # Num_Acc
    year: int
    month: int
    day: int
    hour: int
    minute: int
    insee: str
    lat: float | None
    lon: float | None
    lighting: int = 1
    built_up: int = 2
    intersection: int = 1
    weather: int = 1
    collision: int = 6
    address: str = ""
    road_category: int = 4
    vehicles: list[Vehicle] = field(default_factory=list)
    users: list[User] = field(default_factory=list)


def layout_of(year: int) -> str:
    return "legacy" if year <= 2018 else "2019" if year <= 2021 else "2022"


def file_names(year: int, layout: str) -> dict[str, str]:
    if layout == "legacy":
        return {t: f"{t}_{year}.csv" for t in ("caracteristiques", "lieux", "vehicules", "usagers")}
    first = "caracteristiques" if layout == "2019" else "carcteristiques" if year == 2022 else "caract"
    return {
        "caracteristiques": f"{first}-{year}.csv",
        "lieux": f"lieux-{year}.csv",
        "vehicules": f"vehicules-{year}.csv",
        "usagers": f"usagers-{year}.csv",
    }


def _num(value: float | int | None, decimals: int = 0) -> str:
    """2019+ numbers: decimal comma, negatives written with a leading space as the ONISR does."""
    if value is None:
        return ""
    text = f"{value:.{decimals}f}".replace(".", ",") if decimals else str(value)
    return " " + text if text.startswith("-") else text


def _spaced(number: int) -> str:
    """``154742273`` → ``154 742 273`` with non-breaking spaces, as in ``id_vehicule``."""
    return f"{number:,}".replace(",", NBSP)


def _legacy_dep_com(insee: str) -> tuple[str, str]:
    if insee.startswith("2A") or insee.startswith("2B"):
        return ("201" if insee[1] == "A" else "202"), insee[2:]
    if insee.startswith("97"):
        return insee[:3], "0" + insee[3:]
    return insee[:2] + "0", insee[2:]


def write_year(
    out_dir: Path,
    year: int,
    accidents: Sequence[Accident],
    *,
    layout: str | None = None,
    tables: Sequence[str] = ("caracteristiques", "lieux", "vehicules", "usagers"),
) -> list[Path]:
    """Write the chosen tables of one year; returns the paths written."""
    layout = layout or layout_of(year)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = file_names(year, layout)
    legacy = layout == "legacy"
    rows = {"caracteristiques": _caract, "lieux": _lieux, "vehicules": _vehicules, "usagers": _usagers}
    written = []
    for table in tables:
        header, body = rows[table](accidents, layout)
        path = out_dir / names[table]
        with open(path, "w", encoding="latin-1" if legacy else "utf-8", newline="") as fh:
            writer = csv.writer(
                fh,
                delimiter="," if legacy else ";",
                quoting=csv.QUOTE_MINIMAL if legacy else csv.QUOTE_ALL,
                lineterminator="\n",
            )
            writer.writerow(header)
            writer.writerows(body)
        written.append(path)
    return written


def _caract(accidents: Sequence[Accident], layout: str):
    if layout == "legacy":
        header = "Num_Acc,an,mois,jour,hrmn,lum,agg,int,atm,col,com,adr,gps,lat,long,dep".split(",")
        body = []
        for a in accidents:
            dep, com = _legacy_dep_com(a.insee)
            lat = "" if a.lat is None else str(round(a.lat * 100_000))
            lon = "" if a.lon is None else f"{round(a.lon * 100_000):07d}"
            body.append(
                [
                    a.id,
                    f"{a.year % 100:02d}",
                    a.month,
                    a.day,
                    a.hour * 100 + a.minute,
                    a.lighting,
                    a.built_up,
                    a.intersection,
                    a.weather,
                    a.collision,
                    com,
                    a.address,
                    "M" if lat else "",
                    lat,
                    lon,
                    dep,
                ]
            )
        return header, body
    key = "Num_Acc" if layout == "2019" else "Accident_Id"
    header = [key, *"jour mois an hrmn lum dep com agg int atm col adr lat long".split()]
    body = [
        [
            a.id,
            f"{a.day:02d}",
            f"{a.month:02d}",
            a.year,
            f"{a.hour:02d}:{a.minute:02d}",
            a.lighting,
            a.insee[:3] if a.insee.startswith("97") else a.insee[:2],
            a.insee,
            a.built_up,
            a.intersection,
            a.weather,
            a.collision,
            a.address,
            _num(a.lat, 10),
            _num(a.lon, 10),
        ]
        for a in accidents
    ]
    return header, body


def _lieux(accidents: Sequence[Accident], layout: str):
    if layout == "legacy":
        header = "Num_Acc,catr,voie,v1,v2,circ,nbv,pr,pr1,vosp,prof,plan,lartpc,larrout,surf,infra,situ,env1".split(
            ","
        )
        return header, [
            [a.id, a.road_category, 0, "", "", 2, "02", "", "", 0, 1, 1, "000", "060", 1, 0, 1, 99]
            for a in accidents
        ]
    header = (
        "Num_Acc catr voie v1 v2 circ nbv vosp prof pr pr1 plan lartpc larrout surf infra situ vma".split()
    )
    return header, [
        [a.id, a.road_category, "", _num(-1), "", 2, 2, 0, 1, "(1)", "(1)", 1, "", _num(-1), 1, 0, 1, 50]
        for a in accidents
    ]


def _vehicules(accidents: Sequence[Accident], layout: str):
    if layout == "legacy":
        header = "Num_Acc,senc,catv,occutc,obs,obsm,choc,manv,num_veh".split(",")
        return header, [
            [a.id, 0, f"{v.category:02d}", "000", "00", 2, 1, "01", v.letter]
            for a in accidents
            for v in a.vehicles
        ]
    header = "Num_Acc id_vehicule num_veh senc catv obs obsm choc manv motor occutc".split()
    return header, [
        [a.id, _spaced(v.ref), v.letter, 1, v.category, 0, 2, 1, 1, 1, ""]
        for a in accidents
        for v in a.vehicles
    ]


def _usagers(accidents: Sequence[Accident], layout: str):
    if layout == "legacy":
        header = "Num_Acc,place,catu,grav,sexe,trajet,secu,locp,actp,etatp,an_nais,num_veh".split(",")
        return header, [
            [a.id, 1, u.category, u.gravity, 1, 5, 11, 0, 0, 0, u.birth_year or "", u.letter]
            for a in accidents
            for u in a.users
        ]
    head = [
        "Num_Acc",
        "id_vehicule",
        "num_veh",
        "place",
        "catu",
        "grav",
        "sexe",
        "an_nais",
        "trajet",
        "secu1",
        "secu2",
        "secu3",
        "locp",
        "actp",
        "etatp",
    ]
    if layout == "2022":
        head.insert(1, "id_usager")
    body = []
    for a in accidents:
        for u in a.users:
            row = [
                a.id,
                _spaced(u.vehicle_ref),
                u.letter,
                1,
                u.category,
                _num(u.gravity),
                1,
                u.birth_year or "",
                5,
                1,
                _num(-1),
                _num(-1),
                _num(-1),
                _num(-1),
                _num(-1),
            ]
            if layout == "2022":
                row.insert(1, _spaced(u.ref))
            body.append(row)
    return head, body
