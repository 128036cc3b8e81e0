"""A synthetic video-protection system for the demo commune: about sixty cameras placed where a town puts
them (the centre, the town entrances with plate reading, car parks, schools, the two QPV, the station and the
business area) and five years of judicial requisitions with a seasonal rhythm (summer evenings, December).

Every camera and every requisition is invented; procedure references are random numbers."""

from __future__ import annotations

import csv
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

CENTRE = (5.787, 43.834)
YEARS = tuple(range(2020, 2025))
CAMERAS_FILE = "videoprotection/demo-fictive-cameras.csv"
REQUISITIONS_FILE = "videoprotection/demo-fictive-requisitions.csv"
# (group, how many, kind, centre lon/lat, spread in degrees, requisition weight)
_GROUPS = [
    ("Centre-ville", 20, None, CENTRE, 0.0035, 3.0),
    ("Entrée de ville", 6, "lapi", None, 0.0, 1.2),
    ("Parking", 8, "dome", CENTRE, 0.009, 1.5),
    ("Abords d'école", 8, "fixe", CENTRE, 0.016, 0.6),
    ("Quartier Est", 8, None, (5.7972, 43.8345), 0.0018, 2.2),
    ("Quartier Ouest", 6, None, (5.7768, 43.8322), 0.0015, 1.8),
    ("Gare et zone d'activités", 4, "dome", (5.789, 43.824), 0.004, 1.0),
]
_ENTRANCES = [(0, "nord"), (55, "nord-est"), (95, "est"), (170, "sud"), (235, "sud-ouest"), (285, "ouest")]
_AUTHORITIES = [
    ("Police nationale", 0.52),
    ("Parquet", 0.14),
    ("Gendarmerie", 0.09),
    ("Police municipale", 0.20),
    ("Douanes", 0.05),
]
_CATEGORIES = [
    ("vols_vehicules", 0.18),
    ("degradations", 0.16),
    ("atteintes_personnes", 0.16),
    ("vols_simples", 0.14),
    ("cambriolages", 0.08),
    ("vols_violents", 0.07),
    ("stupefiants", 0.08),
    ("circulation", 0.09),
    ("autres", 0.04),
]
# Relative weight of each month (summer and December busier).
_SEASON = np.array([0.8, 0.75, 0.85, 0.95, 1.05, 1.15, 1.35, 1.3, 1.0, 0.95, 0.9, 1.2])


def _cameras(rng: np.random.Generator) -> list[dict]:
    rows: list[dict] = []
    n = 0
    for group, count, kind, centre, spread, weight in _GROUPS:
        for k in range(count):
            n += 1
            if group == "Entrée de ville":
                bearing, side = _ENTRANCES[k]
                lon = CENTRE[0] + 0.052 * math.sin(math.radians(bearing))
                lat = CENTRE[1] + 0.033 * math.cos(math.radians(bearing))
                name = f"{group} {side}"
                direction: float | None = float((bearing + 180) % 360)  # looking at the incoming traffic
            else:
                angle = rng.uniform(0, 2 * math.pi)
                r = spread * math.sqrt(rng.uniform(0.05, 1))
                lon = centre[0] + r * math.cos(angle)  # type: ignore[index]
                lat = centre[1] + 0.72 * r * math.sin(angle)  # type: ignore[index]
                name = f"{group} {k + 1}"
                direction = float(rng.integers(0, 36) * 10) if rng.random() < 0.35 else None
            cam_kind = kind or ("dome" if rng.random() < 0.35 else "fixe")
            if cam_kind == "dome":
                direction = None  # it turns
            start = date(2014 + int(rng.integers(0, 7)), int(rng.integers(1, 13)), 1)
            rows.append(
                {
                    "identifiant": f"CAM-{n:03d}",
                    "emplacement": name + " (fictive)",
                    "type": {"fixe": "Fixe", "dome": "Dôme PTZ", "lapi": "LAPI"}[cam_kind],
                    "longitude": f"{lon:.6f}",
                    "latitude": f"{lat:.6f}",
                    "mise_en_service": start.strftime("%d/%m/%Y"),
                    "depose": "",
                    "direction": "" if direction is None else f"{direction:g}",
                    "portee": "" if rng.random() < 0.5 else f"{int(rng.integers(3, 9) * 10)}",
                    "_weight": weight,
                }
            )
    rows[12]["depose"] = "30/06/2023"  # one camera removed
    return rows


def _pick(rng: np.random.Generator, pairs: list[tuple[str, float]]) -> str:
    p = np.array([w for _, w in pairs])
    return pairs[int(rng.choice(len(pairs), p=p / p.sum()))][0]


def _requisitions(rng: np.random.Generator, cameras: list[dict]) -> list[dict]:
    weights = np.array([c["_weight"] for c in cameras])
    rows = []
    for year in YEARS:
        per_year = int(150 * (1 + 0.08 * (year - YEARS[0])))  # more cameras used every year
        months = rng.choice(12, size=per_year, p=_SEASON / _SEASON.sum())
        for month in months:
            day = date(year, int(month) + 1, int(rng.integers(1, 29)))
            lag = (
                int(rng.integers(1, 12)) if rng.random() > 0.04 else int(rng.integers(35, 80))
            )  # a few too late
            start = datetime.combine(day - timedelta(days=lag), datetime.min.time()) + timedelta(
                hours=int(rng.choice([2, 10, 15, 18, 21, 23]))
            )
            end = start + timedelta(hours=int(rng.integers(1, 6)))
            n_cams = 1 + int(rng.random() < 0.3) + int(rng.random() < 0.1)
            chosen = rng.choice(len(cameras), size=n_cams, replace=False, p=weights / weights.sum())
            chosen = [c for c in chosen if not (cameras[c]["depose"] and day >= date(2023, 6, 30))] or [0]
            found = rng.random() < 0.84 and lag < 31
            authority = _pick(rng, _AUTHORITIES)
            rows.append(
                {
                    "date_demande": day.strftime("%d/%m/%Y"),
                    "autorite": authority,
                    "reference": f"{'PV' if authority != 'Parquet' else 'PR'} {year}/{int(rng.integers(1, 99999)):05d}",
                    "cameras": ", ".join(cameras[c]["identifiant"] for c in chosen),
                    "debut_images": start.strftime("%d/%m/%Y %H:%M"),
                    "fin_images": end.strftime("%d/%m/%Y %H:%M"),
                    "categorie": _pick(rng, _CATEGORIES),
                    "images_trouvees": "oui" if found else "non",
                    "date_remise": (day + timedelta(days=int(rng.integers(1, 8)))).strftime("%d/%m/%Y")
                    if found
                    else "",
                    "exploitable": (
                        _pick(rng, [("oui", 0.6), ("non", 0.2), ("inconnu", 0.2)]) if found else "non"
                    ),
                }
            )
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [k for k in rows[0] if not k.startswith("_")]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, delimiter=";", extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def generate(out_dir: Path, seed: int) -> None:
    rng = np.random.default_rng(seed + 16)
    cameras = _cameras(rng)
    _write(out_dir / CAMERAS_FILE, cameras)
    _write(out_dir / REQUISITIONS_FILE, _requisitions(rng, cameras))


def load(engine, out_dir: Path, user: str) -> None:
    from ingest.cameras import import_cameras
    from ingest.requisitions import import_requisitions

    import_cameras(engine, out_dir / CAMERAS_FILE, user=user)
    import_requisitions(engine, out_dir / REQUISITIONS_FILE, user=user)
