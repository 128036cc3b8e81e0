"""Accueil: the commune on a map and its key facts."""

from __future__ import annotations

from dash import dash_table, html

from dashboard.components import formatting as fmt
from dashboard.components.maps import basemap, legend, levels_in, map_frame, outline_layers, source_line
from dashboard.context import engine, settings
from dashboard.security import current_role, register_page
from observatoire.overview import data_freshness
from observatoire.territories import commune_overview

LEVEL_NAMES = {"commune": "Commune", "iris": "IRIS", "qpv": "QPV"}
SOURCE_NAMES = {"insee-rp": "INSEE, recensement de la population"}


def render(**_params) -> html.Div:
    cfg = settings()
    overview = commune_overview(engine(), cfg.commune_code)
    population = overview["population"]
    name = overview["name"] or cfg.commune
    facts = [
        ("Population", f"{fmt.number(population['inhabitants'])} habitants" if population else "non chargée"),
        ("Millésime de la population", str(population["year"]) if population else "—"),
        (
            "Source de la population",
            SOURCE_NAMES.get(population["source"], population["source"]) if population else "—",
        ),
        ("Zones infra-communales", f"{overview['iris']} IRIS, {overview['qpv']} QPV"),
    ]
    features = overview["outlines"]["features"]
    if not features:
        map_block = html.Div(
            "Aucun contour n'est chargé pour cette commune : importez-les avec "
            "« observatoire import territories FICHIER --level commune ».",
            className="obs-alerte obs-alerte-info",
            id="accueil-sans-contour",
        )
    else:
        map_block = html.Div(
            [
                map_frame(
                    basemap(cfg) + outline_layers(overview["outlines"], "accueil"),
                    overview["bounds"],
                    "accueil-carte",
                ),
                legend(
                    levels_in(overview["outlines"]),
                    f"{name} — contours",
                    source_line("Sources : IGN, INSEE, ANCT", cfg),
                ),
            ],
            className="obs-carte-bloc",
        )
    table = dash_table.DataTable(
        id="accueil-table-zones",
        columns=[
            {"name": "Niveau", "id": "niveau"},
            {"name": "Code", "id": "code"},
            {"name": "Nom", "id": "nom"},
        ],
        data=[
            {
                "niveau": LEVEL_NAMES[f["properties"]["level"]],
                "code": f["properties"]["code"],
                "nom": f["properties"]["name"],
            }
            for f in features
        ],
        style_as_list_view=True,
        page_size=20,
        style_cell={"fontFamily": "inherit", "textAlign": "left", "padding": "4px 8px"},
    )
    freshness = data_freshness(engine(), current_role())
    sources = html.Table(
        [
            html.Caption("Données chargées"),
            html.Thead(
                html.Tr(
                    [
                        html.Th("Source", scope="col"),
                        html.Th("Période la plus récente", scope="col"),
                        html.Th("Lignes", scope="col"),
                    ]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Th(f["source"], scope="row"),
                            html.Td(f["latest"] or "aucune donnée"),
                            html.Td(fmt.number(f["rows"])),
                        ]
                    )
                    for f in freshness
                ]
            ),
        ],
        className="obs-table",
        id="accueil-sources",
    )
    return html.Div(
        [
            html.H1(f"{name} ({cfg.commune})"),
            html.Dl(
                [item for label, value in facts for item in (html.Dt(label), html.Dd(value))],
                className="obs-chiffres-cles",
                id="accueil-chiffres",
            ),
            map_block,
            html.Details(
                [html.Summary("Tableau des zones représentées sur la carte"), table],
                open=False,
                className="obs-table-alternative",
            ),
            sources,
        ]
    )


register_page(
    __name__, path="/", name="Accueil", permission="accueil.voir", render=render, order=0, restricted=False
)
