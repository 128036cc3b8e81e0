"""Synthetic ONISR accident files for the demo commune, in the real 2019+ layout.

Deterministic for a seed: five years of injury accidents in the commune, all four tables, with two
planted accident-prone sites (a roundabout and a crossing) so that the dangerous-sites analysis has
something to find. Nothing here describes real accidents.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from sample_data.baac_writer import Accident, User, Vehicle, write_year

COMMUNE = "04112"
CENTRE = (43.8335, 5.7870)  # lat, lon of the town centre
# Planted accident-prone sites: (lat, lon, accidents per year, the roads that meet there). A site's accidents
# carry its own roads: a roundabout lists the two roads it joins, not every street of the town.
SITES = (
    (43.8262, 5.7811, 2, ("Avenue de la Libération", "Route de Volx")),
    (43.8345, 5.7970, 1, ("Boulevard Martin Bret", "Rue Grande")),
)
YEARS = tuple(range(2019, 2024))
# Accidents a year vary as counts do: Poisson around a slowly falling trend, lower in 2020 (lockdowns).
TREND = 41.0  # expected accidents in the first year
TREND_PER_YEAR = -0.02
YEAR_FACTOR = {2020: 0.8}
_STREETS = (
    "Avenue de la Libération",
    "Boulevard Martin Bret",
    "Rue Grande",
    "Route de Volx",
    "Avenue Jean Giono",
    "Boulevard des Tilleuls",
    "Route de Manosque à Pierrevert",
    "RD 907",
    "RD 4096",
    "Chemin de la Thomassine",
)
_VEHICLE_MIX = ((7, 60), (33, 8), (30, 6), (1, 5), (80, 3), (10, 8), (14, 3), (50, 2), (2, 3), (37, 2))
_GRAVITY_MIX = ((4, 62), (3, 30), (2, 8))


def _pick(rng: random.Random, mix: tuple[tuple[int, int], ...]) -> int:
    return rng.choices([c for c, _ in mix], weights=[w for _, w in mix])[0]


def synthetic_accident(
    rng: random.Random,
    acc_id: int,
    year: int,
    insee: str,
    lat: float | None,
    lon: float | None,
    refs: list[int],
    streets: tuple[str, ...] = _STREETS,
) -> Accident:
    """One accident with 1–3 vehicles and at least one victim, on one of ``streets``; ``refs`` is the running
    id counter."""
    hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 2, 3, 6, 8, 6, 5, 6, 7, 6, 6, 7, 8, 9, 9, 6, 4, 3, 2, 1]
    )[0]
    acc = Accident(
        id=acc_id,
        year=year,
        month=rng.randint(1, 12),
        day=rng.randint(1, 28),
        hour=hour,
        minute=rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50)),
        insee=insee,
        lat=lat,
        lon=lon,
        lighting=1 if 7 <= hour <= 18 else rng.choice((2, 3, 5)),
        built_up=rng.choice((1, 2, 2, 2)),
        intersection=rng.choice((1, 1, 2, 3, 6)),
        weather=rng.choice((1, 1, 1, 2, 8)),
        collision=rng.choice((1, 2, 3, 6, 7)),
        address=rng.choice(streets),
        road_category=rng.choice((3, 4, 4)),
    )
    for k in range(rng.choice((1, 2, 2, 2, 3))):
        refs[0] += 1
        acc.vehicles.append(Vehicle(f"{'ABC'[k]}01", _pick(rng, _VEHICLE_MIX), refs[0]))
    for n, vehicle in enumerate(acc.vehicles):
        people = [1] + [2] * rng.choice((0, 0, 0, 1, 2))
        for category in people:
            refs[1] += 1
            gravity = _pick(rng, _GRAVITY_MIX) if n == 0 and category == 1 else rng.choice((1, 1, 1, 4))
            acc.users.append(
                User(vehicle.letter, category, gravity, year - rng.randint(15, 88), refs[1], vehicle.ref)
            )
    if rng.random() < 0.08:  # a pedestrian, hit by the first vehicle
        refs[1] += 1
        acc.users.append(
            User(
                acc.vehicles[0].letter,
                3,
                rng.choice((3, 4)),
                year - rng.randint(6, 90),
                refs[1],
                acc.vehicles[0].ref,
            )
        )
    return acc


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: fine for the few dozen accidents of a commune)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def expected_accidents(year: int) -> float:
    return TREND * (1 + TREND_PER_YEAR) ** (year - YEARS[0]) * YEAR_FACTOR.get(year, 1.0)


def demo_year(rng: random.Random, year: int, refs: list[int]) -> list[Accident]:
    accidents = []
    serial = 0
    total = poisson(rng, expected_accidents(year))
    for lat, lon, count, streets in SITES:
        for _ in range(count):
            serial += 1
            accidents.append(
                synthetic_accident(
                    rng,
                    year * 10**8 + serial,
                    year,
                    COMMUNE,
                    lat + rng.uniform(-0.00012, 0.00012),
                    lon + rng.uniform(-0.00015, 0.00015),
                    refs,
                    streets,
                )
            )
    while serial < total:
        serial += 1
        located = rng.random() > 0.05  # a few accidents come without coordinates, as in the real files
        accidents.append(
            synthetic_accident(
                rng,
                year * 10**8 + serial,
                year,
                COMMUNE,
                CENTRE[0] + rng.gauss(0, 0.008) if located else None,
                CENTRE[1] + rng.gauss(0, 0.010) if located else None,
                refs,
            )
        )
    return accidents


SUBDIR = "baac"


def generate(out_dir: Path, seed: int) -> None:
    """Write the four tables of each demo year into ``out_dir/baac`` (``sample_data/files/baac``)."""
    rng = random.Random(seed)
    refs = [150_000_000, 1_000_000]
    for year in YEARS:
        write_year(Path(out_dir) / SUBDIR, year, demo_year(rng, year, refs))


def load(engine, out_dir: Path, user: str) -> None:
    """Import the generated files through the same function as ``observatoire import baac``."""
    from ingest.baac import import_baac

    import_baac(engine, [Path(out_dir) / SUBDIR], user=user)
