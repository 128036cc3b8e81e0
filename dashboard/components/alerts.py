"""The « hausses significatives » table of :func:`observatoire.spacetime.queries.alerts`, on the Tendances and
Synthèse pages: counts, expected counts and p for the roles that see counts, the size in words for the others."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import html

from dashboard.components import formatting as fmt
from dashboard.components.tables import frame_table


def alerts_block(data: dict[str, Any], prefix: str, limit: int | None = None) -> Any:
    rises = data["alertes"]
    if not rises:
        return html.P(
            f"Aucune hausse significative (dernier mois : {data.get('dernier_mois', '—')}).",
            id=f"{prefix}-sans-alerte",
        )
    rows = []
    for r in rises[:limit]:
        row = {
            "Zone": r["zone_libelle"],
            "Catégorie": r["categorie_libelle"],
            "Période": r["periode"],
            "Comparée à": r["reference_libelle"],
        }
        if "effectif" in r:
            row |= {
                "Faits": fmt.number(r["effectif"]),
                "Attendus": fmt.number(r["attendu"], 1),
                "Rapport": "× " + fmt.number(r["rapport"], 2) if r["rapport"] else "apparition",
                "p": f"{r['p']:.2g}".replace(".", ","),
            }
        else:
            row["Ampleur"] = r["ampleur"]
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.index = range(1, len(frame) + 1)
    more = len(rises) - len(rows)
    return html.Div(
        [
            frame_table(
                frame,
                f"Hausses significatives — dernier mois : {data['dernier_mois']}",
                f"{prefix}-table-alertes",
                "N°",
            ),
            html.P(f"… et {more} autres hausses significatives.", className="obs-muted")
            if more > 0
            else None,
            html.Small(
                data["method"]["test"]
                + " ; "
                + data["method"]["correction"]
                + " ; "
                + data["method"]["minimum"]
                + "."
            ),
        ]
    )
