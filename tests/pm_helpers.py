"""Small builders of police municipale exports for the tests."""

from __future__ import annotations

from pathlib import Path

HEADER = [
    "Date",
    "Heure",
    "Nature de l'intervention",
    "Adresse",
    "X",
    "Y",
    "Secteur",
    "Origine",
    "Suite donnée",
    "N° d'intervention",
]

ROWS = [
    [
        "12/03/2024",
        "22h15",
        "Tapage nocturne",
        "12 av. Jean Giono",
        "",
        "",
        "Centre",
        "Appel",
        "Rappel à la loi",
        "MC-1",
    ],
    [
        "13/03/2024",
        "08:05",
        "Stationnement gênant",
        "",
        "5,7871",
        "43,8342",
        "Centre",
        "Initiative",
        "PV",
        "MC-2",
    ],
    [
        "14/03/24",
        "17h",
        "Dépôt sauvage",
        "Place de l'Hôtel de Ville",
        "",
        "",
        "",
        "Demande mairie",
        "",
        "MC-3",
    ],
    ["2024-03-15", "", "Ivresse publique", "", "931500", "6305000", "Est", "Appel", "Conduite au CH", "MC-4"],
]


def write_export(
    path: Path, rows=None, header=None, sep: str = ";", encoding: str = "cp1252", bom: bool = False
) -> Path:
    header = header or HEADER
    rows = ROWS if rows is None else rows
    text = "\r\n".join(sep.join(r) for r in [header, *rows]) + "\r\n"
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return path
