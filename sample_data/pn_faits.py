"""Synthetic geolocated police nationale facts for the demo commune (Manosque, 04112).

Concentrations a real extract shows: the old town (thefts, violence at night around bars, week-ends), the
station (thefts from vehicles, violent thefts in the evening), the commercial zone (shop burglaries,
shoplifting, car park thefts), a priority neighbourhood (drugs, damage), burglaries of homes spread over
the residential areas, and some sensitive facts (intra-family and sexual violence) that the map only
ever shows aggregated. Two extracts with different layouts: index numbers and WGS84 coordinates with
decimal commas (2021–2022), wordings and Lambert-93 coordinates or addresses only (2023–2024), the latter
with a few wordings the nomenclature does not know. Nothing here describes a real person or event.
"""

from __future__ import annotations

import csv
import functools
import random
from datetime import datetime, timedelta
from pathlib import Path

SUBDIR = "pn_faits"
FILES = ("faits_geolocalises_2021_2022.csv", "faits_geolocalises_2023_2024.csv")

# Places: (lon, lat, spread in degrees of latitude ≈ 111 km)
PLACES = {
    "centre": (5.7870, 43.8340, 0.0013),
    "gare": (5.7985, 43.8250, 0.0010),
    "zone_commerciale": (5.7680, 43.8270, 0.0018),
    "qpv_est": (5.7970, 43.8345, 0.0012),
    "residentiel": (5.7870, 43.8330, 0.0110),
}
UNKNOWN_WORDINGS = ("Rébellion", "Feu de poubelle")
UNKNOWN_EVERY = 211  # one fact in so many of the newer extract

EVENING = (17, 18, 19, 20, 21, 22, 23)
NIGHT = (20, 21, 22, 23, 0, 1, 2, 3, 4)
DAY = (9, 10, 11, 12, 14, 15, 16, 17, 18)

# (category, weight per year, places and their weights, hours, week-end factor, [(index, wording)…])
CATEGORIES = [
    (
        "cambriolages",
        190,
        {"residentiel": 6, "zone_commerciale": 3, "centre": 1},
        DAY + EVENING,
        1.2,
        [(27, "Cambriolage de logement"), (29, "Cambriolage de local commercial")],
    ),
    (
        "vols_dans_vehicules",
        160,
        {"gare": 4, "zone_commerciale": 3, "residentiel": 3},
        NIGHT,
        1.3,
        [(37, "Vol à la roulotte"), (38, "Vol d'accessoires sur véhicule")],
    ),
    (
        "vols_simples",
        230,
        {"centre": 5, "zone_commerciale": 4, "gare": 1},
        DAY,
        1.5,
        [(43, "Vol simple"), (33, "Vol à l'étalage"), (32, "Vol à la tire")],
    ),
    (
        "destructions_degradations",
        170,
        {"centre": 3, "qpv_est": 3, "gare": 2, "residentiel": 2},
        NIGHT,
        1.6,
        [(67, "Dégradation de biens privés"), (68, "Dégradation de véhicule"), (66, "Tags")],
    ),
    (
        "violences_physiques",
        130,
        {"centre": 6, "gare": 2, "qpv_est": 2},
        NIGHT,
        2.0,
        [(7, "Coups et blessures volontaires")],
    ),
    ("vols_violents", 40, {"gare": 4, "centre": 4, "qpv_est": 2}, EVENING, 1.4, [(26, "Vol avec violence")]),
    (
        "stupefiants",
        70,
        {"qpv_est": 6, "gare": 3, "centre": 1},
        EVENING,
        1.3,
        [(57, "Usage de stupéfiants"), (55, "Trafic de stupéfiants")],
    ),
    ("menaces", 35, {"residentiel": 5, "centre": 3}, DAY + EVENING, 1.0, [(12, "Menaces")]),
    (
        "vols_vehicules",
        55,
        {"residentiel": 5, "gare": 3, "zone_commerciale": 2},
        NIGHT,
        1.1,
        [(35, "Vol de véhicule"), (36, "Vol de deux-roues")],
    ),
    (
        "violences_intrafamiliales",
        60,
        {"residentiel": 8, "qpv_est": 2},
        EVENING,
        1.6,
        [(52, "Violences intrafamiliales"), (52, "Violences conjugales")],
    ),
    ("violences_sexuelles", 15, {"residentiel": 6, "centre": 4}, NIGHT, 1.5, [(48, "Agression sexuelle")]),
]


def _facts(rng: random.Random, year: int):
    start = datetime(year, 1, 1)
    days = (datetime(year + 1, 1, 1) - start).days
    for category, per_year, places, hours, weekend, forms in CATEGORIES:
        n = int(rng.gauss(per_year, per_year**0.5))
        names, weights = zip(*places.items(), strict=True)
        made = 0
        while made < n:
            day = start + timedelta(days=rng.randrange(days))
            if day.weekday() >= 5 or rng.random() < 1 / weekend:  # more on week-ends
                place = rng.choices(names, weights)[0]
                lon0, lat0, spread = PLACES[place]
                lat = rng.gauss(lat0, spread)
                lon = rng.gauss(lon0, spread * 1.38)  # a degree of longitude is shorter at 44° N
                moment = day.replace(hour=rng.choice(hours), minute=rng.randrange(0, 60, 5))
                yield moment, category, rng.choice(forms), round(lon, 6), round(lat, 6)
                made += 1


@functools.cache
def _to_lambert():
    from pyproj import Transformer

    return Transformer.from_crs(4326, 2154, always_xy=True)


def _lambert(lon: float, lat: float) -> tuple[float, float]:
    return _to_lambert().transform(lon, lat)


def _write_a(path: Path, rng: random.Random) -> None:
    """DDSP extract, older layout: index and its wording, WGS84 with decimal commas, time apart."""
    rows = []
    for year in (2021, 2022):
        for moment, _, (index, wording), lon, lat in _facts(rng, year):
            known = rng.random() > 0.06
            rows.append(
                (
                    moment,
                    [
                        moment.strftime("%d/%m/%Y"),
                        moment.strftime("%H:%M") if known else "",
                        str(index),
                        wording,
                        f"{lon:.6f}".replace(".", ","),
                        f"{lat:.6f}".replace(".", ","),
                    ],
                )
            )
    rows.sort(key=lambda r: r[0])
    with open(path, "w", encoding="cp1252", newline="") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        out.writerow(
            [
                "Date des faits",
                "Heure",
                "Index 4001",
                "Libellé index",
                "Longitude",
                "Latitude",
                "N° procédure",
            ]
        )
        for k, (_, row) in enumerate(rows, start=1):
            out.writerow([*row, f"DEMO-{row[0][-4:]}-{k:05d}"])


def _write_b(path: Path, rng: random.Random, streets) -> None:
    """Newer layout: one date-time column, wording only, Lambert-93 metres or an address of the street file."""
    rows = []
    for year in (2023, 2024):
        for moment, _, (_, wording), lon, lat in _facts(rng, year):
            x = y = address = ""
            if streets and rng.random() < 0.15:
                name, _, numbers = min(
                    streets, key=lambda s: (s[2][0][1] - lon) ** 2 + (s[2][0][2] - lat) ** 2
                )
                n, _, _ = rng.choice(numbers)
                address = f"{n} {name}"
            else:
                ex, ny = _lambert(lon, lat)
                x, y = f"{ex:.1f}", f"{ny:.1f}"
            rows.append((moment, [moment.strftime("%Y-%m-%d %H:%M"), wording, address, x, y]))
    # A new extract brings wordings the nomenclature does not know: their facts stay unclassified (and
    # sensitive) until an analyst attaches the wording to a category (page Nomenclature PN).
    for k in range(0, len(rows), UNKNOWN_EVERY):
        rows[k][1][1] = UNKNOWN_WORDINGS[(k // UNKNOWN_EVERY) % len(UNKNOWN_WORDINGS)]
    rows.sort(key=lambda r: r[0])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=",", lineterminator="\n")
        out.writerow(["reference", "date_heure", "qualification", "adresse", "x_l93", "y_l93"])
        for k, (_, row) in enumerate(rows, start=1):
            out.writerow([f"F{row[0][:4]}{k:06d}", *row])


def generate(out_dir: Path, seed: int) -> None:
    from sample_data.police_municipale import _street_points

    out = Path(out_dir) / SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    # The police municipale demo draws its streets (and their fictitious address file) first from the
    # same seed: the addresses written here are found in that file.
    streets = _street_points(random.Random(seed))
    _write_a(out / FILES[0], random.Random(seed + 40))
    _write_b(out / FILES[1], random.Random(seed + 41), streets)


def load(engine, out_dir: Path, user: str) -> None:
    from ingest import pn_faits

    folder = Path(out_dir) / SUBDIR
    for name in FILES:
        pn_faits.commit(engine, folder / name, user=user, accept_valid=True, commune="04112")
