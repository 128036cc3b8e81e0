"""Tendances spatio-temporelles: alerts on real changes, the emerging hot spot map (classes, and per cell its
series on click), the data clock, and for the roles that see events the near-repeat table and its chains.

Every figure comes from :mod:`observatoire.spacetime.queries`; this module lays them out. The council gets the
classes and the alerts, with counts as the rules of the statistical secret show them.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
import numpy as np
import pandas as pd
from dash import Input, Output, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.components import formatting as fmt
from dashboard.components.alerts import alerts_block
from dashboard.components.maps import (
    basemap,
    legend_box,
    legend_item,
    map_frame,
    source_line,
    swatch,
    with_tooltip,
)
from dashboard.components.palette import DARK_FROM, MASKED, SEQUENTIAL, TEXT_ON_DARK, TEXT_ON_LIGHT
from dashboard.components.tables import frame_table
from dashboard.context import engine, settings
from dashboard.security import current_role, guarded_callback, register_page
from observatoire.errors import InputFileError
from observatoire.events.filter import EventFilter
from observatoire.events.queries import categories
from observatoire.permissions import AGGREGATE_ONLY
from observatoire.spacetime import classes as cls
from observatoire.spacetime import queries as spacetime
from observatoire.territories import commune_bounds

PERMISSION = "stats.voir"
CELL = 150.0
LAYERS = list(cls.CLASSES)
MONTH_ABBREVIATIONS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip


def _category_options() -> list[dict[str, str]]:
    frame = categories(engine(), current_role())
    return [{"label": "Toutes les catégories", "value": ""}] + [
        {"label": f"{r.label} ({r.source})", "value": f"{r.source}:{r.category}"} for r in frame.itertuples()
    ]


def render(**_params) -> html.Div:
    options = _category_options()
    default = next((o["value"] for o in options if o["value"].endswith(":cambriolages")), "")
    exact = current_role() not in AGGREGATE_ONLY
    return html.Div(
        [
            html.H1("Tendances spatio-temporelles"),
            html.P(
                "Ce qui est nouveau, ce qui s'aggrave, ce qui revient, et quand : hausses significatives, points "
                "chauds émergents, horloge des faits" + (", répétitions proches." if exact else ".")
            ),
            html.Div(
                [
                    html.Label("Catégorie", htmlFor="tendances-categorie"),
                    dcc.Dropdown(id="tendances-categorie", options=options, value=default, clearable=False),
                    html.Label("Tranches de temps", htmlFor="tendances-tranche"),
                    dcc.RadioItems(
                        id="tendances-tranche",
                        options=[
                            {"label": "Mois", "value": "month"},
                            {"label": "Trimestres", "value": "quarter"},
                        ],
                        value="month",
                        inline=True,
                    ),
                ],
                className="obs-filtres",
            ),
            html.Div(id="tendances-erreur", role="alert"),
            html.H2("Hausses significatives"),
            dcc.Loading(html.Div(id="tendances-alertes")),
            html.H2("Points chauds émergents"),
            dcc.Loading(
                html.Div(
                    [
                        map_frame(
                            basemap(settings())
                            + [
                                dl.GeoJSON(
                                    data=_empty(),
                                    id=f"tendances-classe-{c}",
                                    style={
                                        "color": "#444444",
                                        "weight": 0.8,
                                        "fillColor": colour,
                                        "fillOpacity": 0.85,
                                    },
                                )
                                for c, (_, colour) in cls.CLASSES.items()
                            ],
                            # the commune first, so the map does not open on France before its cells come
                            commune_bounds(engine(), settings().commune_code),
                            "tendances-carte",
                        ),
                        html.Div(id="tendances-legende", className="obs-carte-cote"),
                    ],
                    className="obs-carte-bloc",
                )
            ),
            html.P("Cliquez sur un hexagone pour voir sa série.", className="obs-aide"),
            html.Div(id="tendances-serie"),
            html.Div(id="tendances-cellules"),
            html.H2("Horloge des faits"),
            dcc.Loading(html.Div(id="tendances-horloge")),
            *(
                [html.H2("Répétitions proches (test de Knox)"), dcc.Loading(html.Div(id="tendances-knox"))]
                if exact
                else [html.Div(id="tendances-knox", hidden=True)]
            ),
        ],
        className="obs-page",
    )


def _empty() -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": []}


def _filter(category: str | None) -> EventFilter:
    if not category:
        return EventFilter()
    source, _, code = category.partition(":")
    return EventFilter(sources=(source,), categories=(category,)) if code else EventFilter()


def _bounds(features: list[dict[str, Any]]) -> list[list[float]] | None:
    points = [pt for f in features for pt in f["geometry"]["coordinates"][0]]
    if not points:
        return None
    lon, lat = np.array(points).T
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]


def _value(v: Any, decimals: int = 0) -> str:
    return v if isinstance(v, str) else fmt.number(v, decimals)


@guarded_callback(
    PERMISSION,
    [Output(f"tendances-classe-{c}", "data") for c in LAYERS]
    + [
        Output("tendances-carte", "viewport"),
        Output("tendances-legende", "children"),
        Output("tendances-cellules", "children"),
        Output("tendances-alertes", "children"),
        Output("tendances-horloge", "children"),
        Output("tendances-knox", "children"),
        Output("tendances-erreur", "children"),
    ],
    Input("tendances-categorie", "value"),
    Input("tendances-tranche", "value"),
)
def update(category, slice_):
    role = current_role()
    f = _filter(category)
    data = spacetime.emerging_hot_spots(engine(), f, role, slice=slice_ or "month", cell=CELL)
    layers = []
    for c in LAYERS:
        feats = [
            with_tooltip(feat, feat["properties"]["class_label"])
            for feat in data["features"]
            if feat["properties"]["class"] == c
        ]
        layers.append({"type": "FeatureCollection", "features": feats} if c != cls.NONE else _empty())
    bounds = _bounds(data["features"])
    # no flight: a map caught mid-animation is blurred in a screenshot and its cells cannot be clicked
    viewport = {"bounds": bounds, "transition": "fitBounds", "options": {"animate": False}} if bounds else {}
    legend = _legend(data)
    cells = _cells_table(data)
    return [*layers, viewport, legend, cells, _alerts(role, f), _clock(f, role), _knox(f, role), ""]


def _legend(data: dict[str, Any]) -> html.Div:
    items = [
        legend_item(swatch(entry["colour"]), f"{entry['label']} ({fmt.number(entry['cells'])})")
        for entry in data["legend"]
        if entry["cells"] and entry["class"] != cls.NONE
    ]
    if not items:
        items = [html.Li(data.get("message") or "Aucune cellule classée sur la période.")]
    method = data["method"]
    rules = [html.Li([html.Strong(label), " : ", rule]) for label, rule in method["classes"].items()]
    return html.Div(
        [
            legend_box(
                "Points chauds émergents — " + method.get("periode", ""),
                items,
                source_line("Sources : faits enregistrés, hexagones de 150 m", settings()),
                box_id="tendances-legende-classes",
            ),
            html.Details(
                [
                    html.Summary("Méthode et règles des classes"),
                    html.P(method["methode"]),
                    html.P(method["voisinage"]),
                    html.P("Significativité : " + method["significativite"] + "."),
                    html.P("Correction : " + method["correction"] + "."),
                    html.P("Tendance : " + method["tendance"] + "."),
                    html.Ul(rules),
                    html.P("Points froids : " + method["classes_froides"] + "."),
                ]
            ),
        ]
    )


def _cells_table(data: dict[str, Any]) -> Any:
    if not data["features"]:
        return html.P(data.get("message", "Aucune cellule classée."), id="tendances-cellules-vide")
    rows = [
        {
            "Hexagone": f"{p['i']} / {p['j']}",
            "Classe": p["class_label"],
            "Dernière tranche": _value(p["series"][-1]["count"]),
        }
        for p in (f["properties"] for f in data["features"])
    ]
    order = {name: k for k, name in enumerate(label for label, _ in cls.CLASSES.values())}
    frame = pd.DataFrame(rows)
    frame = (
        frame.assign(rank=frame["Classe"].map(order)).sort_values(["rank", "Hexagone"]).drop(columns="rank")
    )
    frame = frame.set_index("Hexagone")
    table = frame_table(
        frame, "Cellules classées (colonne / rang de l'hexagone)", "tendances-table-cellules", "Hexagone"
    )
    return html.Details([html.Summary(f"Tableau des {len(rows)} cellules classées"), table])


@guarded_callback(
    PERMISSION,
    Output("tendances-serie", "children"),
    [Input(f"tendances-classe-{c}", "clickData") for c in LAYERS],
    Input("tendances-categorie", "value"),
    Input("tendances-tranche", "value"),
    prevent_initial_call=True,
)
def series(*args):
    *clicks, category, slice_ = args
    trigger = ctx.triggered_id
    if not isinstance(trigger, str) or not trigger.startswith("tendances-classe-"):
        return ""
    click = clicks[LAYERS.index(trigger.removeprefix("tendances-classe-"))]
    if not click:
        raise PreventUpdate
    props = click.get("properties") or {}
    try:
        i, j = int(props["i"]), int(props["j"])
    except (KeyError, TypeError, ValueError):
        raise PreventUpdate from None
    # Recomputed on the server: what the browser sent only names the cell.
    data = spacetime.emerging_hot_spots(
        engine(), _filter(category), current_role(), slice=slice_ or "month", cell=CELL
    )
    found = next(
        (f["properties"] for f in data["features"] if (f["properties"]["i"], f["properties"]["j"]) == (i, j)),
        None,
    )
    if found is None:
        raise PreventUpdate
    frame = pd.DataFrame(
        [
            {"Période": s["periode"], "Faits": _value(s["count"])}
            | ({"z de Gi*": fmt.number(s["z"], 2), "Significatif": s["significatif"]} if "z" in s else {})
            for s in found["series"]
        ]
    ).set_index("Période")
    numbers = [s["count"] if isinstance(s["count"], int | float) else None for s in found["series"]]
    top = max((n for n in numbers if n is not None), default=0) or 1
    bars = html.Div(
        [
            html.Span(
                className="obs-barre",
                title=f"{s['periode']} : {_value(s['count'])}",
                style={
                    "display": "inline-block",
                    "width": "10px",
                    "marginRight": "1px",
                    "verticalAlign": "bottom",
                    "height": f"{4 + 56 * (n or 0) / top:.0f}px",
                    "background": MASKED if n is None else SEQUENTIAL[5],
                },
            )
            for s, n in zip(found["series"], numbers, strict=True)
        ],
        **{"aria-hidden": "true"},
    )
    return html.Div(
        [
            html.H3(f"Hexagone {i} / {j} — {found['class_label']}"),
            bars,
            html.Details(
                [
                    html.Summary("Tableau de la série"),
                    frame_table(frame, "Série de l'hexagone", "tendances-table-serie", "Période"),
                ]
            ),
        ],
        id="tendances-serie-bloc",
    )


def _alerts(role: str | None, f: EventFilter) -> Any:
    return alerts_block(spacetime.alerts(engine(), role, sources=f.sources), "tendances")


def _heat(
    values: list[list[Any]],
    rows: list[str],
    columns: list[str],
    caption: str,
    table_id: str,
    decimals: int = 0,
) -> html.Table:
    """A table whose cells are shaded on the sequential ramp: the heat map and its accessible table at once."""
    numbers = np.array(
        [[v if isinstance(v, int | float) else np.nan for v in row] for row in values], dtype=float
    )
    finite = numbers[np.isfinite(numbers) & (numbers > 0)]
    edges = np.quantile(finite, np.linspace(0, 1, len(SEQUENTIAL) + 1)[1:-1]) if len(finite) else np.array([])
    body = []
    for label, row, nums in zip(rows, values, numbers, strict=True):
        cells = [html.Th(label, scope="row")]
        for v, n in zip(row, nums, strict=True):
            if not np.isfinite(n):
                style = {"background": MASKED, "color": TEXT_ON_LIGHT, "whiteSpace": "nowrap"}
            elif n <= 0:
                style = {}
            else:
                k = int(np.searchsorted(edges, n, side="right"))
                style = {
                    "background": SEQUENTIAL[k],
                    "color": TEXT_ON_DARK if k >= DARK_FROM else TEXT_ON_LIGHT,
                }
            cells.append(html.Td(_value(v, decimals), style=style))
        body.append(html.Tr(cells))
    header = html.Tr(
        [html.Th("", scope="col")]
        + [html.Th(c, scope="col", style={"whiteSpace": "nowrap"}) for c in columns]
    )
    return html.Table(
        [html.Caption(caption), html.Thead(header), html.Tbody(body)],
        className="obs-table obs-table-chaleur",
        id=table_id,
    )


def _clock(f: EventFilter, role: str | None) -> Any:
    data = spacetime.data_clock(engine(), f, role)
    exact = role not in AGGREGATE_ONLY
    week = _heat(
        data["jour_heure"],
        [d.capitalize() for d in data["jours"]],
        [str(h) for h in data["heures"]],
        "Faits par jour (lignes) et heure (colonnes, de 0 à 23)"
        + (" (pondération aoristique des heures inconnues)" if exact else " (heure connue)"),
        "tendances-table-horloge",
        1 if exact else 0,
    )
    note = data["method"]["jour_heure"]
    months = _heat(
        data["mois_annee"],
        [str(y) for y in data["annees"]],
        list(MONTH_ABBREVIATIONS),
        "Faits par mois et année",
        "tendances-table-mois",
    )
    return html.Div(
        [
            html.Div(week, className="obs-defilement"),
            html.Small(
                note[0].upper()
                + note[1:]
                + (f" ; {fmt.number(data['sans_heure'])} faits sans heure connue." if exact else ".")
            ),
            html.Div(months, className="obs-defilement"),
        ]
    )


def _knox(f: EventFilter, role: str | None) -> Any:
    if role in AGGREGATE_ONLY:
        return ""
    if not f.categories:
        return html.P(
            "Choisissez une catégorie (les cambriolages, par exemple) pour l'analyse de répétition proche.",
            id="tendances-knox-categorie",
        )
    try:
        data = spacetime.near_repeat(engine(), f, role, permutations=199, with_chains=True)
    except InputFileError as error:  # too many events: the rest of the page stands
        return html.P(error.message, className="obs-alerte obs-alerte-info")
    table = pd.DataFrame(data["table"])
    shown = table.assign(
        cell=[
            ("—" if r is None else fmt.number(r, 2)) + (" *" if s else "")
            for r, s in zip(table["rapport"], table["significatif"], strict=True)
        ]
    ).pivot(index="distance", columns="delai", values="cell")
    shown = shown.reindex(index=data["distances"], columns=data["delais"])
    parts = [
        frame_table(
            shown,
            f"Rapport observé / attendu des paires d'événements ({fmt.number(data['evenements'])} faits) ; "
            "* : significatif (p < 0,05)",
            "tendances-table-knox",
            "Distance",
        ),
        html.Small(data["method"]["attendu"] + " ; p " + data["method"]["p"] + "."),
    ]
    if data.get("chaines"):
        seuils = data["chaines_seuils"]
        chains = (
            pd.DataFrame(data["chaines"][:30])
            .rename(
                columns={
                    "chaine": "Chaîne",
                    "evenements": "Faits",
                    "premier_jour": "Du",
                    "dernier_jour": "Au",
                    "x_l93": "X (L93)",
                    "y_l93": "Y (L93)",
                }
            )
            .set_index("Chaîne")
        )
        parts.append(
            frame_table(
                chains,
                f"Chaînes de faits liés à moins de {fmt.number(seuils['distance_m'])} m et "
                f"{fmt.number(seuils['delai_j'])} jours (analystes seulement ; les 30 plus longues)",
                "tendances-table-chaines",
                "Chaîne",
            )
        )
    return html.Div(parts)


register_page(
    __name__,
    path="/tendances",
    name="Tendances spatio-temporelles",
    permission=PERMISSION,
    render=render,
    order=35,
)
