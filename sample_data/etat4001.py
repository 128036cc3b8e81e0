"""A synthetic état 4001 extract for the demo commune: invented monthly counts by index, 2019–2024.

Same columns as a DDSP spreadsheet export (année, mois, index, libellé, faits, circonscription). The
circonscription is marked as fictitious and every count is drawn at random.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np

from observatoire.police_nationale import indicators

COMMUNE = "04112"
SERVICE = "CSP Manosque (données fictives)"
YEARS = tuple(range(2019, 2025))
FILE = "etat4001/demo-fictive-etat4001-csp.csv.gz"
# Invented mean monthly counts of the index the diagnostic groups, plus a few others.
_MONTHLY = {
    7: 9.0,
    6: 0.02,
    3: 0.03,
    5: 0.05,
    52: 0.8,
    73: 0.6,
    2: 0.01,
    4: 0.02,
    15: 0.05,
    16: 0.08,
    19: 0.05,
    20: 0.05,
    22: 0.2,
    23: 0.1,
    24: 0.1,
    25: 0.4,
    26: 0.9,
    46: 0.5,
    47: 0.4,
    48: 0.9,
    49: 0.7,
    11: 0.5,
    12: 2.5,
    27: 6.5,
    28: 0.8,
    29: 2.0,
    30: 1.5,
    31: 0.3,
    32: 2.2,
    33: 3.0,
    34: 0.05,
    35: 2.4,
    36: 1.2,
    37: 6.0,
    38: 1.1,
    39: 0.6,
    40: 0.2,
    41: 3.0,
    42: 4.0,
    43: 5.0,
    62: 0.6,
    63: 1.0,
    66: 1.5,
    67: 7.0,
    68: 4.0,
    55: 0.6,
    56: 0.3,
    57: 4.0,
    72: 1.2,
    91: 9.0,
}


def generate(out_dir: Path, seed: int) -> None:
    rng = np.random.default_rng(seed + 4001)
    path = out_dir / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = io.StringIO()
    writer = csv.writer(fh, delimiter=";", lineterminator="\n")
    writer.writerow(["Année", "Mois", "N° index", "Libellé de l'index", "Faits constatés", "Circonscription"])
    for k, year in enumerate(YEARS):
        for month in range(1, 13):
            for index, mean in _MONTHLY.items():
                season = 1.2 if month in (7, 8) and index in (27, 28, 37) else 1.0
                count = int(rng.poisson(mean * season * (1 + 0.04 * k)))
                writer.writerow([year, month, index, indicators.ETAT4001_LABELS[index], count, SERVICE])
    # mtime=0: the same seed gives the same bytes.
    path.write_bytes(gzip.compress(fh.getvalue().encode("utf-8"), compresslevel=9, mtime=0))


def load(engine, out_dir: Path, user: str) -> None:
    from ingest.etat4001 import import_etat4001

    import_etat4001(engine, out_dir / FILE, territory=f"COM:{COMMUNE}", user=user)
