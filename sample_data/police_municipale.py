"""Synthetic police municipale exports for Manosque (04112) and a small BAN-like address file.

Messy like the real ones: two logbook software over the years (different headers, date formats,
Lambert-93 or no coordinates), cp1252, ``;``, abbreviated addresses, an export overlapping the previous
one, a few bad rows and labels outside the nomenclature. Nothing here describes a real person or event.
"""

from __future__ import annotations

import csv
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

SUBDIR = "police_municipale"
CENTRE = (5.787, 43.834)

# Street names typed for the demo (common Provençal street names), with the abbreviation an officer uses.
STREETS = [
    ("Avenue Jean Giono", "av. Jean Giono"),
    ("Boulevard Casimir Pelloutier", "bd Casimir Pelloutier"),
    ("Rue Grande", "rue Grande"),
    ("Boulevard Elémir Bourges", "Bd E. Bourges"),
    ("Avenue Frédéric Mistral", "av Frédéric Mistral"),
    ("Rue Saint-Lazare", "r. St Lazare"),
    ("Boulevard Martin Bret", "bd Martin Bret"),
    ("Place du Terreau", "pl. du Terreau"),
    ("Avenue de la Libération", "Av. de la Libération"),
    ("Chemin de la Forestière", "ch. de la Forestière"),
    ("Rue des Marchands", "rue des Marchands"),
    ("Place de l'Hôtel de Ville", "Place Hôtel de Ville"),
    ("Avenue du Général de Gaulle", "av. du Gal de Gaulle"),
    ("Boulevard des Tilleuls", "bd des Tilleuls"),
    ("Rue Voltaire", "rue Voltaire"),
    ("Avenue Saint-Lazare", "avenue St-Lazare"),
    ("Rue Guilhempierre", "rue Guilhempierre"),
    ("Place Marcel Pagnol", "pl Marcel Pagnol"),
    ("Chemin des Oliviers", "chem. des Oliviers"),
    ("Impasse des Lavandes", "imp. des Lavandes"),
    ("Allée des Cigales", "all. des Cigales"),
    ("Route de Volx", "rte de Volx"),
    ("Avenue de la Gare", "av de la Gare"),
    ("Rue Pasteur", "rue Pasteur"),
    ("Boulevard Charles de Gaulle", "bd Ch. de Gaulle"),
    ("Rue Arthur Robert", "rue A. Robert"),
    ("Place de l'Espérance", "pl. de l'Espérance"),
    ("Chemin de Toutes Aures", "ch de Toutes Aures"),
    ("Avenue Georges Pompidou", "av. G. Pompidou"),
    ("Rue du Mont d'Or", "rue du Mont d'Or"),
]

# (label as the logbook writes it, weight, preferred hours, weekend factor)
LABELS = [
    ("Tapage nocturne", 14, (21, 22, 23, 0, 1, 2), 1.8),
    ("Nuisances sonores", 8, (18, 19, 20, 21, 22), 1.4),
    ("Stationnement gênant", 18, (8, 9, 10, 11, 14, 15, 16, 17), 0.6),
    ("Rassemblement", 6, (19, 20, 21, 22, 23), 1.5),
    ("Ivresse publique", 5, (19, 20, 21, 22, 23, 0, 1), 1.7),
    ("Dépôt sauvage", 7, (7, 8, 9, 10, 11), 0.8),
    ("Différend de voisinage", 5, (17, 18, 19, 20, 21), 1.3),
    ("Animal errant", 4, (8, 10, 12, 14, 16), 1.0),
    ("Véhicule ventouse", 3, (9, 10, 11, 14, 15), 0.3),
    ("Rodéo urbain", 3, (18, 19, 20, 21, 22), 1.6),
    ("Sécurisation sortie d'école", 6, (8, 16), 0.0),
    ("Opération tranquillité vacances", 4, (10, 14, 15, 22), 1.0),
    ("Assistance à personne", 4, (9, 11, 15, 18, 20), 1.0),
    ("Excès de vitesse", 4, (7, 8, 12, 17, 18), 0.9),
    ("Accident matériel", 2, (8, 12, 17, 18), 0.8),
    ("Tags", 2, (9, 10, 11), 0.7),
    ("Surveillance marché", 3, (7, 8, 9, 10, 11), 0.4),
    ("Différend familial", 1, (19, 20, 21, 22), 1.4),
    ("Feu de broussailles", 1, (13, 14, 15, 16), 1.0),
    ("Chantier non déclaré", 1, (9, 10, 11), 0.2),
]
ORIGINS_A = ["Appel", "Initiative", "Initiative", "Demande mairie", "Appel 17"]
ORIGINS_B = ["Tél. requérant", "Patrouille", "Patrouille", "Réquisition PN", "Signalement"]
OUTCOMES = [
    "Rappel à la loi",
    "PV",
    "Sans suite",
    "Médiation",
    "Mise en fourrière",
    "Remis à la PN",
    "Verbalisation",
    "Conseils donnés",
    "",
]
SECTORS = ["Centre", "Est", "Ouest", "Nord", "Sud", "Plateau"]


def _street_points(rng: random.Random) -> list[tuple[str, str, list[tuple[int, float, float]]]]:
    """Each street: a short segment around the centre, numbers along it (odd one side, even the other)."""
    streets = []
    for name, abbrev in STREETS:
        r = rng.uniform(0.002, 0.02) ** 0.8
        angle = rng.uniform(0, 2 * math.pi)
        x0, y0 = CENTRE[0] + r * math.cos(angle), CENTRE[1] + 0.7 * r * math.sin(angle)
        heading = rng.uniform(0, math.pi)
        numbers = []
        for n in range(1, rng.randint(20, 70)):
            along = n * 0.00012
            side = 0.00008 if n % 2 else -0.00008
            numbers.append(
                (
                    n,
                    round(x0 + along * math.cos(heading) - side * math.sin(heading), 6),
                    round(y0 + along * math.sin(heading) + side * math.cos(heading), 6),
                )
            )
        streets.append((name, abbrev, numbers))
    return streets


def _write_ban(path: Path, streets) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\n")
        out.writerow(
            [
                "id",
                "id_fantoir",
                "numero",
                "rep",
                "nom_voie",
                "code_postal",
                "code_insee",
                "nom_commune",
                "code_insee_ancienne_commune",
                "nom_ancienne_commune",
                "x",
                "y",
                "lon",
                "lat",
                "type_position",
                "alias",
                "nom_ld",
                "libelle_acheminement",
                "nom_afnor",
                "source_position",
                "source_nom_voie",
                "certification_commune",
                "cad_parcelles",
            ]
        )
        for s, (name, _, numbers) in enumerate(streets):
            for n, lon, lat in numbers:
                out.writerow(
                    [
                        f"04112_{s:04d}_{n:05d}",
                        "",
                        n,
                        "",
                        name,
                        "04100",
                        "04112",
                        "Manosque",
                        "",
                        "",
                        "",
                        "",
                        lon,
                        lat,
                        "entrée",
                        "",
                        "",
                        "MANOSQUE",
                        name.upper(),
                        "commune",
                        "commune",
                        "1",
                        "",
                    ]
                )


def _events(rng: random.Random, start: datetime, days: int, per_day: float):
    weights = [w for _, w, _, _ in LABELS]
    for day in range(days):
        moment = start + timedelta(days=day)
        weekend = moment.weekday() >= 5
        for _ in range(int(rng.gauss(per_day, per_day**0.5))):
            label, _, hours, weekend_factor = rng.choices(LABELS, weights)[0]
            if weekend and rng.random() > weekend_factor / 2 + 0.2:
                continue
            if label == "Opération tranquillité vacances" and moment.month not in (7, 8, 12):
                continue
            hour = rng.choice(hours)
            yield moment.replace(hour=hour, minute=rng.randrange(0, 60, 5)), label


def _place(rng: random.Random, streets, abbreviated: bool) -> tuple[str, float, float]:
    # Most activity near the centre: the first streets are the central ones more often.
    name, abbrev, numbers = streets[min(int(rng.expovariate(1 / 8)), len(streets) - 1)]
    n, lon, lat = rng.choice(numbers)
    street = abbrev if abbreviated and rng.random() < 0.7 else name
    roll = rng.random()
    if roll < 0.05:
        return street, lon, lat  # the street only
    if roll < 0.08:
        return f"{n} bis {street}", lon, lat
    if roll < 0.12:
        return f"{n}, {street}, 04100 Manosque", lon, lat
    return f"{n} {street}", lon, lat


def _lambert(lon: float, lat: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)


def _write_a(path: Path, rng: random.Random, streets, start: datetime, days: int, first_id: int) -> int:
    """Software A: date and time apart, addresses only, jj/mm/aaaa."""
    rows = []
    for i, (when, label) in enumerate(_events(rng, start, days, 5.0), start=first_id):
        address, _, _ = _place(rng, streets, abbreviated=True)
        rows.append(
            [
                when.strftime("%d/%m/%Y"),
                rng.choice([when.strftime("%H:%M"), when.strftime("%Hh%M")]),
                label,
                address,
                rng.choice(SECTORS),
                rng.choice(ORIGINS_A),
                rng.choice(OUTCOMES),
                f"MC{i:06d}",
            ]
        )
    _bad_rows_a(rows, rng)
    with open(path, "w", encoding="cp1252", newline="") as fh:
        fh.write("Extraction main courante - Police municipale de Manosque\r\n")
        out = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        out.writerow(
            [
                "Date",
                "Heure",
                "Nature de l'intervention",
                "Adresse",
                "Secteur",
                "Origine",
                "Suite donnée",
                "N° d'intervention",
            ]
        )
        out.writerows(rows)
    return first_id + len(rows)


def _bad_rows_a(rows: list[list[str]], rng: random.Random) -> None:
    for k, (col, value) in enumerate([(0, "31/02/2022"), (1, "25h70"), (2, ""), (0, "")]):
        row = list(rows[(k + 1) * len(rows) // 6])
        row[col] = value
        row[-1] = f"ERR{k}{rng.randrange(1000)}"
        rows.insert((k + 1) * len(rows) // 6, row)


def _write_b(
    path: Path, rng: random.Random, streets, start: datetime, days: int, first_id: int, skip: int = 0
) -> int:
    """Software B: one date/time column (jj/mm/aa HHhMM), Lambert-93 coordinates with decimal commas on
    most rows, place names elsewhere."""
    rows = []
    for i, (when, label) in enumerate(_events(rng, start, days, 5.5), start=first_id):
        address, lon, lat = _place(rng, streets, abbreviated=False)
        x = y = ""
        if rng.random() < 0.65:
            ex, ny = _lambert(lon + rng.gauss(0, 0.00005), lat + rng.gauss(0, 0.00005))
            x, y = f"{ex:.2f}".replace(".", ","), f"{ny:.2f}".replace(".", ",")
        if rng.random() < 0.03:
            address = rng.choice(
                ["Parking Intermarché", "Stade Jacques Bianchi", "Sortie ville direction Volx"]
            )
        rows.append(
            [
                f"PM-{i:07d}",
                when.strftime("%d/%m/%y %Hh%M"),
                label,
                address,
                x,
                y,
                rng.choice(SECTORS),
                rng.choice(ORIGINS_B),
                rng.choice(OUTCOMES),
            ]
        )
    rows = rows[skip:]
    if rows:
        rows[len(rows) // 3][4] = "abc"  # a typing slip in a coordinate
        # a point of the département outside the commune (a warning; outside the département, a row error)
        rows[len(rows) // 2][4:6] = ["960012,5", "6331200,0"]
    with open(path, "w", encoding="cp1252", newline="") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        out.writerow(["N° MC", "Date/heure", "Motif", "Lieu", "X", "Y", "Quartier", "Saisine", "Suite"])
        out.writerows(rows)
    return len(rows) + skip


def _write_template(path: Path) -> None:
    rows = [
        [
            "14/07/2024",
            "23:40",
            "Tapage nocturne",
            "12 avenue Jean Giono",
            "",
            "",
            "Centre",
            "Appel",
            "Rappel à la loi",
            "2024-001532",
        ],
        [
            "15/07/2024",
            "09:10",
            "Stationnement gênant",
            "",
            "5,78712",
            "43,83405",
            "Centre",
            "Initiative",
            "PV",
            "2024-001533",
        ],
        [
            "15/07/2024",
            "16h30",
            "Sécurisation sortie d'école",
            "Place du Terreau",
            "",
            "",
            "Centre",
            "Initiative",
            "",
            "2024-001534",
        ],
        [
            "16/07/2024",
            "22:05",
            "Rodéo urbain",
            "",
            "931512,40",
            "6304980,10",
            "Est",
            "Appel",
            "Remis à la police nationale",
            "2024-001535",
        ],
        [
            "17/07/2024",
            "",
            "Dépôt sauvage",
            "3 bis rue Grande",
            "",
            "",
            "Centre",
            "Demande",
            "Enlèvement demandé",
            "2024-001536",
        ],
    ]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";", lineterminator="\n")
        out.writerow(
            [
                "date",
                "heure",
                "nature",
                "adresse",
                "x",
                "y",
                "secteur",
                "origine",
                "suite_donnee",
                "numero_intervention",
            ]
        )
        out.writerows(rows)


def generate(out_dir: Path, seed: int) -> None:
    out = Path(out_dir) / SUBDIR
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    streets = _street_points(rng)
    _write_ban(out / "ban_manosque_fictive.csv", streets)
    _write_template(out / "modele_interventions.csv")
    next_id = _write_a(out / "main_courante_2021_2022.csv", rng, streets, datetime(2021, 1, 1), 730, 1)
    _write_a(out / "main_courante_2023_s1.csv", rng, streets, datetime(2023, 1, 1), 181, next_id)
    first = _write_b(
        out / "export_logiciel_b_2023_s2_2024_s1.csv",
        random.Random(seed + 1),
        streets,
        datetime(2023, 7, 1),
        366,
        1,
    )
    # The next export repeats the last three months of the previous one: the overlap adds nothing. Same
    # seed, so the same interventions come out first; the already exported ones are skipped but 500.
    _write_b(
        out / "export_logiciel_b_2024_s1_s2.csv",
        random.Random(seed + 1),
        streets,
        datetime(2023, 7, 1),
        550,
        1,
        skip=first - 500,
    )


def load(engine, out_dir: Path, user: str) -> None:
    from ingest import police_municipale as pm
    from ingest.ban import import_ban

    folder = Path(out_dir) / SUBDIR
    import_ban(engine, folder / "ban_manosque_fictive.csv", user=user)
    for name in (
        "main_courante_2021_2022.csv",
        "main_courante_2023_s1.csv",
        "export_logiciel_b_2023_s2_2024_s1.csv",
        "export_logiciel_b_2024_s1_s2.csv",
    ):
        pm.commit(engine, folder / name, user=user, accept_valid=True, commune="04112")
