"""Carte: where events concentrate, per source, with the aggregation, hot-spot and density methods of
:mod:`observatoire.events.spatial`, :mod:`observatoire.events.hotspots` and :mod:`observatoire.events.density`.

Everything is computed on the server for the current role (``current_role()`` is passed to every query):
the police municipale sees its own source only, the council receives aggregates with small counts masked
(« < 5 ») in the map, its tooltips, the legend and the table alike, and sensitive categories are never drawn
as points. Layers are drawn without generated JavaScript: one GeoJSON layer per class with a static style,
tooltips from the features' ``tooltip`` property; points and clusters as one GeoJSON layer each, drawn on a
canvas by the functions of ``assets/obs_cartes.js`` (named, not generated: the CSP forbids eval).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

import dash_leaflet as dl
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard.components import downloads
from dashboard.components import formatting as fmt
from dashboard.components.camera_layer import camera_overlays
from dashboard.components.controls import dropdown
from dashboard.components.maps import (
    basemap,
    folding_legend,
    legend_item,
    outline_overlays,
    source_line,
    swatch,
    view_of,
    with_tooltip,
)
from dashboard.components.palette import MASKED, OKABE_ITO, SEQUENTIAL, sequential
from dashboard.components.tables import frame_table
from dashboard.context import audit_export, engine, settings
from dashboard.security import can, current_role, guarded_callback, register_page
from observatoire import disclosure, sources
from observatoire.errors import ObservatoireError
from observatoire.events import choropleth, hexgrid, hotspots, spatial
from observatoire.events import filter as event_filter
from observatoire.events import queries as event_queries
from observatoire.events.density import kernel_density
from observatoire.events.places import name_places
from observatoire.permissions import AGGREGATE_ONLY
from observatoire.territories import commune_overview

PERMISSION = "carte.voir"
EXPORT = "stats.exporter"
MODES = {
    "hexagones": "Nombre d'événements par hexagone",
    "iris": "Par IRIS (taux pour 1 000 habitants si populations chargées)",
    "qpv": "Par quartier prioritaire (QPV)",
    "points": "Événements (points ou regroupements)",
    "points_chauds": "Points chauds (Getis-Ord Gi*)",
    "densite": "Densité (noyau gaussien)",
}
CELL_SIZES = (50, 100, 150, 200, 250, 300, 500, 1000)
# Rows of the table beside the map: the busiest cells. Thousands of rows would be read by nobody and would
# make every filter change slow to send; the export has every cell.
TABLE_ROWS = 100
HOUR_PRESETS = {
    "toutes": ("Toutes les heures", None),
    "soirees": ("Soirées (19 h – 2 h)", (19, 2)),
    "nuit": ("Nuit (22 h – 6 h)", (22, 6)),
    "journee": ("Journée (7 h – 19 h)", (7, 19)),
    "choix": ("Autres heures (de… à…)", None),
}
# The modes each control applies to: the others hide it.
CELL_MODES = ("hexagones", "points", "points_chauds")  # hexagons (sensitive events' in points mode)
CLASS_MODES = ("hexagones", "iris", "qpv", "points")
# Gi* weighs each cell with its neighbours: an empty cell among busy ones is hot, which surprises.
NEIGHBOURS_NOTE = (
    "Gi* juge chaque hexagone avec ses 6 voisins : un hexagone sans événement peut être un point chaud "
    "parce que ses voisins en comptent beaucoup."
)
NEIGHBOURS_TIP = " ; classé avec ses 6 voisins (un hexagone vide peut être chaud par eux)"
# Okabe–Ito, one colour per source for points.
SOURCE_COLOURS = {s.event_code: s.colour for s in sources.event_sources()}
SHORT_SOURCES = {s.event_code: s.short for s in sources.event_sources()}
FILTERS = [
    Input("carte-sources", "value"),
    Input("carte-periode", "start_date"),
    Input("carte-periode", "end_date"),
    Input("carte-categories", "value"),
    Input("carte-familles", "value"),
    Input("carte-heure-debut", "value"),
    Input("carte-heure-fin", "value"),
    Input("carte-jours", "value"),
    Input("carte-mode", "value"),
    Input("carte-cellule", "value"),
    Input("carte-classes", "value"),
]


def _threshold() -> int:
    return settings().small_count_threshold


def _n(value: Any, decimals: int = 0) -> str:
    """French number, or the masking label (« < 5 », « au moins 120 ») as the library wrote it."""
    if value is None:
        return "n.d."
    if isinstance(value, str):  # « au moins 2432 » → « au moins 2 432 »
        return re.sub(r"\d{4,}", lambda m: fmt.number(int(m.group())), value)
    return fmt.number(value, decimals)


def _events_word(value: Any) -> str:
    if value == disclosure.SECONDARY_LABEL:
        return "un nombre non diffusé d'événements (secret statistique)"
    plural = isinstance(value, str) or value > 1
    return f"{_n(value)} événement{'s' if plural else ''}"


def _years(role: str | None) -> list[int]:
    period = event_queries.summary(
        engine(), event_filter.EventFilter(sources=event_filter.allowed_sources(role))
    )
    if not period["first_day"]:
        return []
    return list(range(period["first_day"].year, period["last_day"].year + 1))


def _period_controls(role: str | None, years: list[int]) -> list:
    """A year and a date range; for the aggregate-only roles, a year and a part of it (a quarter, a month):
    the dates, hidden, are what the callbacks read, and the server widens them anyway."""
    latest = years[-1] if years else None
    start = date(latest, 1, 1) if latest else None
    end = date(latest, 12, 31) if latest else None
    year = html.Label(
        [
            "Année",
            dropdown(
                id="carte-annee",
                clearable=False,
                value=latest if latest else "tout",
                options=[{"label": "Toute la période", "value": "tout"}]
                + [{"label": str(y), "value": y} for y in years],
            ),
        ]
    )
    part = dropdown(
        id="carte-partie",
        clearable=False,
        value="annee",
        options=[{"label": label, "value": key} for key, label in disclosure.YEAR_PARTS],
    )
    if role in AGGREGATE_ONLY:
        return [
            year,
            html.Label(["Mois ou trimestre", part]),
            html.Div(dcc.DatePickerRange(id="carte-periode", start_date=start, end_date=end), hidden=True),
        ]
    return [
        year,
        html.Div(part, hidden=True),
        html.Label(
            [
                "Période",
                dcc.DatePickerRange(
                    id="carte-periode",
                    display_format="DD/MM/YYYY",
                    first_day_of_week=1,
                    start_date_placeholder_text="début",
                    end_date_placeholder_text="fin",
                    start_date=start,
                    end_date=end,
                ),
            ]
        ),
    ]


def _time_controls(role: str | None, hours: list[dict]) -> list:
    """Hour bands, hours and days; the aggregate-only roles get the bands alone (the others, hidden, stay
    what the callbacks read)."""
    aggregate = role in AGGREGATE_ONLY
    presets = {
        k: v
        for k, v in HOUR_PRESETS.items()
        if not aggregate or (v[1] is None and k != "choix") or v[1] in disclosure.HOUR_BANDS
    }
    bands = html.Label(
        [
            "Heures",
            dropdown(
                id="carte-heures-preset",
                clearable=False,
                value="toutes",
                options=[{"label": v[0], "value": k} for k, v in presets.items()],
            ),
        ]
    )
    # De / À only under « Autres heures »: beside a band they would repeat it.
    hours_detail = html.Div(
        [
            html.Label(["De", dropdown(id="carte-heure-debut", options=hours, value=0, clearable=False)]),
            html.Label(
                ["À (exclu)", dropdown(id="carte-heure-fin", options=hours, value=0, clearable=False)]
            ),
        ],
        id="carte-heures-detail",
        className="obs-carte-heures",
        hidden=True,
    )
    detail = [
        hours_detail,
        html.Fieldset(
            [
                html.Legend("Jours"),
                dcc.Checklist(
                    id="carte-jours",
                    value=[],
                    inline=True,
                    options=[
                        {"label": f" {d[:3]}.", "value": i}
                        for i, d in enumerate(event_filter.WEEKDAYS, start=1)
                    ],
                ),
            ]
        ),
    ]
    if aggregate:
        return [bands, html.Div(detail, hidden=True)]
    return [bands, *detail]


def _secrecy_note(role: str | None) -> list:
    """Why the aggregate-only roles choose whole months, quarters or years and fixed hour bands."""
    if role not in AGGREGATE_ONLY:
        return []
    t = _threshold()
    return [
        html.P(
            f"Secret statistique : « < {t} » se lit « de 0 à {t - 1} » ; « {disclosure.SECONDARY_LABEL} » : un "
            f"effectif d'au moins {t} masqué à son tour, pour qu'aucun petit effectif ne se retrouve par "
            "soustraction d'un total ou d'une autre période. Les périodes sont des mois, trimestres ou années "
            "entiers, les heures des tranches fixes, sans choix des jours : une période décalée d'un jour, ou une "
            "heure de plus, permettrait de dater les faits par différence.",
            className="obs-alerte obs-alerte-info",
            id="carte-secret",
        )
    ]


def render(**_params) -> html.Div:
    role = current_role()
    sources = event_filter.allowed_sources(role)
    years = _years(role)
    cats = event_queries.categories(engine(), role)
    category_options = [
        {
            "label": f"{r.label} ({SHORT_SOURCES.get(r.source, r.source)})"
            + (" — sensible" if r.sensitive else ""),
            "value": f"{r.source}:{r.category}",
        }
        for r in cats.itertuples()
    ]
    families = cats.drop_duplicates("family")
    family_options = [
        {"label": r.family_label or r.family, "value": r.family} for r in families.itertuples() if r.family
    ]
    modes = {k: v for k, v in MODES.items() if not (k == "points" and role in AGGREGATE_ONLY)}
    hours = [{"label": f"{h} h", "value": h} for h in range(25)]
    controls = html.Div(
        [
            html.Fieldset(
                [
                    html.Legend("Sources"),
                    dcc.Checklist(
                        id="carte-sources",
                        value=list(sources),
                        inline=True,
                        options=[{"label": f" {event_filter.SOURCES[s]}", "value": s} for s in sources],
                    ),
                ],
                className="obs-carte-large",
            ),
            *_period_controls(role, years),
            html.Label(
                [
                    "Catégories",
                    dropdown(
                        id="carte-categories",
                        multi=True,
                        options=category_options,
                        placeholder="toutes",
                        maxHeight=440,  # about 12 rows of the ~40 categories at a time
                    ),
                ],
                className="obs-carte-large",
            ),
            html.Label(
                [
                    "Familles",
                    dropdown(id="carte-familles", multi=True, options=family_options, placeholder="toutes"),
                ]
            ),
            *_time_controls(role, hours),
            html.Label(
                [
                    "Représentation",
                    dropdown(
                        id="carte-mode",
                        clearable=False,
                        value="hexagones",
                        options=[{"label": v, "value": k} for k, v in modes.items()],
                    ),
                ],
                className="obs-carte-large",
            ),
            html.Label(
                id="carte-cellule-choix",
                children=[
                    "Taille des hexagones",
                    dropdown(
                        id="carte-cellule",
                        clearable=False,
                        value=int(hexgrid.DEFAULT_CELL),
                        options=[{"label": f"{c} m", "value": c} for c in CELL_SIZES],
                    ),
                ],
            ),
            html.Label(
                id="carte-classes-choix",
                children=[
                    "Classes",
                    dropdown(
                        id="carte-classes",
                        clearable=False,
                        value="quantiles",
                        options=[{"label": v, "value": k} for k, v in choropleth.SCHEMES.items()],
                    ),
                ],
            ),
        ],
        className="obs-filtres obs-carte-filtres",
    )
    downloads = []
    if can(EXPORT):
        downloads = [
            html.Div(
                [
                    html.Button(
                        "Télécharger les cellules (GeoJSON)",
                        id="carte-geojson",
                        className="obs-bouton-secondaire",
                    ),
                    html.Button(
                        "Télécharger les cellules (CSV)", id="carte-csv", className="obs-bouton-secondaire"
                    ),
                    dcc.Download(id="carte-telechargement"),
                ],
                className="obs-actions",
            )
        ]
    if can("exports.produire"):  # the link's target follows the filters (dashboard/pages/exports.py)
        downloads.append(
            html.A(
                "Exporter cette vue", id="carte-exporter", href="/exports", className="obs-bouton-secondaire"
            )
        )
    overview = commune_overview(engine(), settings().commune_code)
    outlines = outline_overlays(overview["outlines"], "carte")
    center, zoom = view_of(overview["bounds"], width_px=900, height_px=640)  # the map beside its legend
    children = basemap(settings()) + [
        dl.LayerGroup(id="carte-couches"),
        dl.LayersControl(outlines + camera_overlays(role), position="topleft"),
        dl.ScaleControl(position="bottomleft", imperial=False),
    ]
    return html.Div(
        [
            html.H1("Carte des événements"),
            html.P(
                "Où les faits se concentrent, pour la période, les heures et les catégories choisies. Les catégories "
                "sensibles ne sont jamais montrées en points, seulement agrégées.",
                className="obs-muted",
            ),
            *_secrecy_note(role),
            controls,
            *downloads,
            html.Div(id="carte-resume", className="obs-carte-resume", role="status"),
            html.Div(
                [
                    html.Div(
                        dl.Map(
                            children=children,
                            id="carte-leaflet",
                            center=center,
                            zoom=zoom,
                            scrollWheelZoom=True,
                            style={"height": "640px", "width": "100%"},
                            className="obs-carte",
                        ),
                        className="obs-carte-cadre",
                    ),
                    # Beside the map, never over it; the callback fills the legend, the table under it.
                    html.Div(
                        [
                            folding_legend(
                                "Légende",
                                [html.Div(id="carte-legende")],
                                "obs-carte-legende",
                                id="carte-legende-boite",
                            ),
                            dcc.Loading(html.Div(id="carte-tableau", className="obs-carte-tableau")),
                        ],
                        className="obs-carte-cote",
                    ),
                ],
                className="obs-carte-deux",
            ),
        ]
    )


@guarded_callback(
    PERMISSION,
    [Output("carte-periode", "start_date"), Output("carte-periode", "end_date")],
    Input("carte-annee", "value"),
    Input("carte-partie", "value"),
    prevent_initial_call=True,
)
def pick_year(year, part):
    """A year, or a quarter or month of it (the part list is offered to the aggregate-only roles only), as
    the dates of the period."""
    try:
        period = disclosure.period_of_choice(year, part)
    except ValueError:
        return None, None
    if period.start is None or period.end is None:
        return None, None
    return period.start.isoformat(), period.end.isoformat()


@guarded_callback(
    PERMISSION,
    [Output("carte-heure-debut", "value"), Output("carte-heure-fin", "value")],
    Input("carte-heures-preset", "value"),
    prevent_initial_call=True,
)
def pick_hours(preset):
    from dash import no_update

    if preset == "choix":
        return no_update, no_update  # the reader sets De / À
    hours = HOUR_PRESETS.get(preset or "toutes", HOUR_PRESETS["toutes"])[1]
    return hours if hours else (0, 0)


@guarded_callback(
    PERMISSION,
    [
        Output("carte-heures-detail", "hidden"),
        Output("carte-cellule-choix", "hidden"),
        Output("carte-classes-choix", "hidden"),
    ],
    Input("carte-heures-preset", "value"),
    Input("carte-mode", "value"),
)
def show_controls(preset, mode):
    """Only the controls that apply: De / À under « Autres heures », the cell size where hexagons are
    drawn, the classes where counts are classed."""
    mode = mode or "hexagones"
    return preset != "choix", mode not in CELL_MODES, mode not in CLASS_MODES


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _filter(sources, start, end, categories, families, first, last, weekdays) -> event_filter.EventFilter:
    if not sources:
        raise ObservatoireError("Choisissez au moins une source.")
    return event_filter.EventFilter(
        sources=tuple(sources),
        categories=tuple(categories or ()),
        families=tuple(families or ()),
        start=_day(start),
        end=_day(end),
        hours=event_filter.hours_between(first, last),
        weekdays=tuple(int(d) for d in weekdays or ()),
    )


def _cell(value) -> float:
    return hexgrid.check_cell(float(value or hexgrid.DEFAULT_CELL))


def _classed_layers(
    features: list[dict], key: str, scheme: str, layer_id: str, tooltip
) -> tuple[list, list, dict]:
    """One GeoJSON per class of ``key`` (masked features apart, in grey): layers, legend items, class per feature."""
    values = [
        float("nan")
        if f["properties"].get("masked") or f["properties"].get(key) is None
        else float(f["properties"][key])
        for f in features
    ]
    classes = choropleth.classify(values, scheme, min(5, len(SEQUENTIAL)))
    palette = sequential(classes["k"])
    groups: dict[str, list] = {}
    for feat, b in zip(features, classes["bins"], strict=True):
        group = "masque" if b is None else str(b)
        groups.setdefault(group, []).append(with_tooltip(feat, tooltip(feat["properties"])))
    layers = []
    for group, feats in sorted(groups.items()):
        fill = MASKED if group == "masque" else palette[int(group)]
        layers.append(
            dl.GeoJSON(
                data={"type": "FeatureCollection", "features": feats},
                id=f"{layer_id}-{group}",
                style={"color": "#444444", "weight": 0.6, "fillColor": fill, "fillOpacity": 0.72},
            )
        )
    items = [legend_item(swatch(palette[c]), c_info["label"]) for c, c_info in enumerate(classes["classes"])]
    if "masque" in groups:
        items.append(
            legend_item(
                swatch(MASKED),
                f"« < {_threshold()} » (de 0 à {_threshold() - 1}) ou « {disclosure.SECONDARY_LABEL} » "
                "(secret statistique)",
            )
        )
    return layers, items, classes


def _hexagons(f, role, cell, scheme) -> dict[str, Any]:
    layer = hexgrid.hex_counts(engine(), f, cell, role, threshold=_threshold())
    layers, items, _ = _classed_layers(
        layer["features"], "count", scheme, "carte-hexagones", lambda p: _events_word(p["count"])
    )
    ranked = sorted(
        layer["features"], key=lambda x: -1 if x["properties"]["masked"] else -x["properties"]["count"]
    )
    rows = ranked[:TABLE_ROWS]
    table = pd.DataFrame(
        {
            "Événements": [_n(x["properties"]["count"]) for x in rows],
            "Centre (lat., long.)": [_centre(x) for x in rows],
        },
        index=[f"Hexagone {k}" for k in range(1, len(rows) + 1)],
    )
    return {
        "layers": layers,
        "items": items,
        "table": table,
        "events": layer["total"],
        "title": "Événements par hexagone",
        "lines": [
            f"Méthode : comptage par hexagone (grille ST_HexagonGrid, Lambert-93), classes : "
            f"{choropleth.SCHEMES[scheme].lower()}",
            f"Taille de cellule : {_n(cell)} m (côté), {_n(hexgrid.cell_area_m2(cell) / 10_000, 2)} ha",
            f"Hexagones non vides : {_n(layer['cells'])}",
        ],
        "caption": f"Événements par hexagone de {_n(cell)} m, du plus chargé au moins chargé"
        + _shown_of(len(rows), len(ranked)),
    }


def _shown_of(shown: int, total: int) -> str:
    """The caption's note when the table lists only the first rows of what the map draws."""
    if shown >= total:
        return ""
    return f" : les {_n(shown)} premiers sur {_n(total)} (la carte les montre tous)"


def _centre_of(feature: dict) -> tuple[float, float]:
    """(longitude, latitude) of a cell's centre."""
    ring = feature["geometry"]["coordinates"][0][:-1]
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _centre(feature: dict) -> str:
    lon, lat = _centre_of(feature)
    return f"{fmt.number(lat, 4)}, {fmt.number(lon, 4)}"


def _zones(f, role, level, scheme) -> dict[str, Any]:
    result = spatial.zone_counts(
        engine(), f, level, role, commune=settings().commune, scheme=None, threshold=_threshold()
    )
    with_rates = (
        bool(result["features"])
        and all("rate" in x["properties"] or x["properties"]["masked"] for x in result["features"])
        and any("rate" in x["properties"] for x in result["features"])
    )
    key = "rate" if with_rates else "count"

    def tip(p):
        text = f"{p['name']} : {_events_word(p['count'])}"
        return text + (f", {_n(p['rate'], 2)} ‰ habitants" if "rate" in p else "")

    layers, items, _ = _classed_layers(result["features"], key, scheme, f"carte-zones-{level}", tip)
    table = pd.DataFrame(
        {
            "Code": [x["properties"]["code"].split(":", 1)[-1] for x in result["features"]],
            "Événements": [_n(x["properties"]["count"]) for x in result["features"]],
            "Population": [_n(x["properties"].get("population")) for x in result["features"]],
            "Taux pour 1 000 hab.": [_n(x["properties"].get("rate"), 2) for x in result["features"]],
        },
        index=[x["properties"]["name"] for x in result["features"]],
    )
    name = "IRIS" if level == "iris" else "quartier prioritaire (QPV)"
    return {
        "layers": layers,
        "items": items,
        "table": table,
        "events": result["total"],
        "title": f"Événements par {name}" + (" — taux pour 1 000 habitants" if with_rates else ""),
        "lines": [
            result["method"]["methode"],
            f"Taux : {result['method']['taux']}",
            f"Classes : {choropleth.SCHEMES[scheme].lower()}",
            f"Hors zone : {_n(result['outside'])}",
        ],
        "caption": f"Événements par {name}",
    }


def _hotspots(f, role, cell) -> dict[str, Any]:
    result = hotspots.getis_ord(
        engine(), f, role, cell=cell, area_code=settings().commune_code, threshold=_threshold()
    )
    method = result["method"]
    groups: dict[str, list] = {}
    for feat in result["features"]:
        p = feat["properties"]
        text = f"{p['class_label']} — {_events_word(p['count'])} dans l'hexagone" + (
            f", z = {_n(p['z'], 2)}, p = {_p_value(p['p'])}" if "z" in p else ""
        )
        if p["class"] != "non_significatif":
            text += NEIGHBOURS_TIP
        groups.setdefault(p["class"], []).append(with_tooltip(feat, text))
    layers, items = [], []
    for entry in result["legend"]:
        feats = groups.get(entry["class"])
        significant = entry["class"] != "non_significatif"
        if feats:
            layers.append(
                dl.GeoJSON(
                    data={"type": "FeatureCollection", "features": feats},
                    id=f"carte-gi-{entry['class']}",
                    style={
                        "color": "#444444" if significant else "#9e9e9e",
                        "weight": 0.8 if significant else 0.4,
                        "fillColor": entry["colour"],
                        "fillOpacity": 0.8 if significant else 0.25,
                    },
                )
            )
        if entry["cells"] or not significant:  # empty classes would only hide the map
            items.append(
                legend_item(swatch(entry["colour"]), f"{entry['label']} ({_n(entry['cells'])} hexagones)")
            )
    if result["features"]:
        items.append(html.Li(NEIGHBOURS_NOTE, className="obs-carte-legende-note"))
    shown = [x for x in result["features"] if x["properties"]["class"] != "non_significatif"]
    order = {c: k for k, c in enumerate(hotspots.CLASSES)}
    shown.sort(key=lambda x: (order[x["properties"]["class"]], -x["properties"].get("z", 0)))
    significant, shown = len(shown), shown[:TABLE_ROWS]
    columns: dict[str, list] = {
        "Classe": [x["properties"]["class_label"] for x in shown],
        "Événements": [_n(x["properties"]["count"]) for x in shown],
    }
    if role not in AGGREGATE_ONLY:
        columns["z"] = [_n(x["properties"].get("z"), 2) for x in shown]
        columns["p"] = [_p_value(x["properties"].get("p")) for x in shown]
    columns["Centre (lat., long.)"] = [_centre(x) for x in shown]
    table = pd.DataFrame(columns, index=_cell_names(shown))
    lines = [
        f"Méthode : Getis-Ord Gi* sur les comptages par hexagone, {method['permutations']} permutations, "
        "correction du taux de fausses découvertes (Benjamini–Hochberg)",
        f"Taille de cellule : {_n(cell)} m (côté) ; voisinage : les 6 hexagones contigus",
        f"Zone étudiée : {method['zone_etudiee']} ({_n(method['cellules'])} hexagones)",
    ]
    return {
        "layers": layers,
        "items": items,
        "table": table,
        "events": method["evenements"],
        "title": "Points chauds et froids (Gi*)",
        "lines": lines,
        "message": result.get("message"),
        "caption": "Hexagones significatifs (points chauds puis froids)" + _shown_of(len(shown), significant),
    }


def _p_value(p: float | None) -> str:
    """A p-value as a reader takes it: « < 0,001 » rather than a row of zeros."""
    if p is None:
        return "n.d."
    return "< 0,001" if p < 0.001 else _n(p, 3)


def _cell_names(cells: list[dict]) -> list[str]:
    """Each listed hexagon named by its IRIS and the nearest street of the address base, when loaded; by
    its rank otherwise."""
    centres = [_centre_of(x) for x in cells]
    places = name_places(engine(), centres, settings().commune_code)
    names = []
    for k, place in enumerate(places, start=1):
        words = [w for w in (place["iris"], f"près de {place['street']}" if place["street"] else None) if w]
        names.append(f"{k}. " + " — ".join(words) if words else f"Hexagone {k}")
    return names


def _density(f, role) -> dict[str, Any]:
    result = kernel_density(engine(), f, role, area_code=settings().commune_code, threshold=_threshold())
    method = result["method"]
    layers, items, rows = [], [], []
    for feat in result["features"]:
        p = feat["properties"]
        text = f"Densité d'au moins {_n(p['min_density'], 1)} événements par km²"
        layers.append(
            dl.GeoJSON(
                data={
                    "type": "FeatureCollection",
                    "features": [with_tooltip(feat, text)],
                },
                id=f"carte-densite-{p['level']}",
                style={"color": p["colour"], "weight": 0.5, "fillColor": p["colour"], "fillOpacity": 0.45},
            )
        )
        items.append(legend_item(swatch(p["colour"]), f"au moins {_n(p['min_density'], 1)} par km²"))
        rows.append({"Densité minimale (événements par km²)": _n(p["min_density"], 1)})
    table = pd.DataFrame(rows, index=[f"Niveau {k}" for k in range(1, len(rows) + 1)])
    lines = ["Méthode : estimation de densité par noyau gaussien (binning et convolution FFT)"]
    if "largeur_de_bande_m" in method:
        lines += [
            f"Largeur de bande : {_n(method['largeur_de_bande_m'])} m ({method['regle_largeur_de_bande']})",
            f"Grille : {method['grille']} cellules de {_n(method['taille_cellule_m'])} m",
            "Seuil minimal : " + re.sub(r"(\d)\.(\d)", r"\1,\2", method["seuil_minimal"]),
        ]
    return {
        "layers": layers,
        "items": items,
        "table": table,
        "events": method["evenements"],
        "title": "Densité des événements",
        "lines": lines,
        "message": result.get("message"),
        "caption": "Niveaux de densité dessinés sur la carte",
    }


def _points(f, role, cell, scheme) -> dict[str, Any]:
    drawn = spatial.map_layers(engine(), f, role, cell=cell, threshold=_threshold())
    layers, items = [], []
    for layer in drawn["layers"]:
        if layer["kind"] == "points":
            layers.append(
                dl.GeoJSON(
                    # One layer; each event's tooltip is built in the browser when hovered (a marker and a
                    # tooltip component per event took a minute for 2,600 events).
                    data={"type": "FeatureCollection", "features": layer["geojson"]["features"]},
                    id="carte-points",
                    pointToLayer={"variable": "obsCartes.point"},
                    hideout={"colours": SOURCE_COLOURS},
                )
            )
            present = sorted({x["properties"]["source"] for x in layer["geojson"]["features"]})
            items += [
                legend_item(
                    swatch(SOURCE_COLOURS.get(s, OKABE_ITO["black"]), "#222"), event_filter.SOURCES[s]
                )
                for s in present
            ]
        elif layer["kind"] == "clusters":
            feats = layer["geojson"]["features"]
            top = max([x["properties"]["count"] for x in feats] or [1])
            groups = [
                {
                    "type": "Feature",
                    "geometry": x["geometry"],
                    "properties": {
                        "radius": round(4 + 16 * math.sqrt(x["properties"]["count"] / top), 1),
                        "text": _events_word(x["properties"]["count"]),
                        "count": x["properties"]["count"],
                    },
                }
                for x in feats
            ]
            layers.append(
                dl.GeoJSON(
                    data={"type": "FeatureCollection", "features": groups},
                    id="carte-regroupements",
                    pointToLayer={"variable": "obsCartes.cluster"},
                    hideout={"colour": OKABE_ITO["blue"]},
                )
            )
            items.append(
                legend_item(
                    swatch(OKABE_ITO["blue"], "#222"),
                    f"Événements regroupés (grille de {_n(layer['geojson']['grid_m'])} m), "
                    "surface selon le nombre",
                )
            )
        else:
            hex_layers, hex_items, _ = _classed_layers(
                layer["geojson"]["features"],
                "count",
                scheme,
                f"carte-{layer['id']}",
                lambda p: _events_word(p["count"]),
            )
            layers = hex_layers + layers  # under the points
            items += [html.Li(html.Strong(layer["label"]))] + hex_items
    table = event_queries.counts_by(engine(), f, "category", role, threshold=_threshold())
    frame = pd.DataFrame(
        {
            "Source": [SHORT_SOURCES.get(k.split(":")[0], "") for k in table["key"]],
            "Événements": [_n(int(v)) if v.isdigit() else v for v in table["count_label"]],
        },
        index=list(table["label"]),
    )
    return {
        "layers": layers,
        "items": items,
        "table": frame,
        "events": None,
        "title": "Événements",
        "lines": [drawn["reason"], f"Taille des hexagones (catégories sensibles) : {_n(cell)} m"],
        "caption": "Événements par catégorie",
    }


def _compute(
    mode: str, f: event_filter.EventFilter, role: str | None, cell: float, scheme: str
) -> dict[str, Any]:
    if mode == "points" and role in AGGREGATE_ONLY:
        mode = "hexagones"  # the library refuses points to this role; the page does not offer them
    if mode in ("iris", "qpv"):
        return _zones(f, role, mode, scheme)
    if mode == "points_chauds":
        return _hotspots(f, role, cell)
    if mode == "densite":
        return _density(f, role)
    if mode == "points":
        return _points(f, role, cell, scheme)
    return _hexagons(f, role, cell, scheme)


@guarded_callback(
    PERMISSION,
    [
        Output("carte-couches", "children"),
        Output("carte-legende", "children"),
        Output("carte-tableau", "children"),
        Output("carte-resume", "children"),
    ],
    *FILTERS,
)
def update(sources, start, end, categories, families, first, last, weekdays, mode, cell, scheme):
    role = current_role()
    try:
        f = event_filter.for_role(
            _filter(sources, start, end, categories, families, first, last, weekdays), role
        )
        size = _cell(cell)
        scheme = scheme if scheme in choropleth.SCHEMES else "quantiles"
        drawn = _compute(mode or "hexagones", f, role, size, scheme)
        totals = event_queries.summary(engine(), f, role, threshold=_threshold(), cell=size)
    except ObservatoireError as exc:
        message = html.Div(exc.message, className="obs-alerte obs-alerte-info", id="carte-message")
        return [], [html.Strong("Aucune couche")], message, message
    words = f.describe()
    n_events = drawn["events"] if drawn["events"] is not None else totals["geolocated"]
    legend = [
        html.Strong(drawn["title"]),
        html.Ul(drawn["items"], className="obs-carte-legende-classes") if drawn["items"] else None,
        # Open: beside the map it hides nothing; a reader can fold it away.
        html.Details(
            [
                html.Summary("Méthode, période, source"),
                html.Ul(
                    [html.Li(line) for line in drawn["lines"]]
                    + [
                        html.Li(
                            f"Période : {words['periode']}, {words['heures']}, {', '.join(words['jours'])}"
                        ),
                        html.Li(f"Événements géolocalisés : {_n(n_events)}"),
                    ],
                    className="obs-carte-legende-methode",
                ),
            ],
            open=True,
        ),
        html.Small(source_line("Source(s) : " + " ; ".join(_used_sources(f)), settings())),
    ]
    table_block = [frame_table(drawn["table"], drawn["caption"], "carte-table", index_header="")]
    if drawn["table"].empty:
        table_block = [
            html.P("Aucune cellule à lister pour ces filtres.", id="carte-table-vide", className="obs-muted")
        ]
    summary = [
        html.Span(
            f"{_events_word(totals['total'])} pour ces filtres, dont {_n(totals['geolocated'])} "
            f"géolocalisés ; heure inconnue : {_n(totals['time_unknown'])}.",
            id="carte-total",
        )
    ]
    if any(isinstance(v, str) and v.startswith("au moins") for v in (totals["total"], totals["geolocated"])):
        summary.append(
            html.P(
                "« Au moins » : c'est la somme des hexagones affichés ; ceux de moins de "
                f"{_threshold()} événements sont masqués (secret statistique) et leurs événements n'y sont "
                "pas comptés, le total réel est donc un peu plus élevé.",
                id="carte-au-moins",
                className="obs-muted obs-petit",
            )
        )
    if drawn.get("message"):
        summary.append(html.Div(drawn["message"], className="obs-alerte obs-alerte-info", id="carte-message"))
    return drawn["layers"], [x for x in legend if x is not None], table_block, summary


def _used_sources(f: event_filter.EventFilter) -> list[str]:
    """The sources the legend names: those of the chosen categories when every one names its source."""
    chosen = list(f.sources)
    if f.categories and all(":" in c for c in f.categories):
        chosen = [s for s in f.sources if any(c.startswith(f"{s}:") for c in f.categories)] or chosen
    return [event_filter.SOURCES[s] for s in chosen]


def _export_cells(mode: str, f: event_filter.EventFilter, role: str | None, cell: float) -> dict[str, Any]:
    """Aggregated cells only (hexagons, hot-spot hexagons or zones), never points."""
    if mode in ("iris", "qpv"):
        return spatial.zone_counts(
            engine(), f, mode, role, commune=settings().commune, threshold=_threshold()
        )
    if mode == "points_chauds":
        return hotspots.getis_ord(
            engine(), f, role, cell=cell, area_code=settings().commune_code, threshold=_threshold()
        )
    return hexgrid.hex_counts(engine(), f, cell, role, threshold=_threshold())


@guarded_callback(
    EXPORT,
    Output("carte-telechargement", "data"),
    Input("carte-geojson", "n_clicks"),
    Input("carte-csv", "n_clicks"),
    *[State(i.component_id, i.component_property) for i in FILTERS],
    prevent_initial_call=True,
)
def download(
    _geojson, _csv, sources, start, end, categories, families, first, last, weekdays, mode, cell, _scheme
):
    from dash import ctx
    from dash.exceptions import PreventUpdate

    if ctx.triggered_id not in ("carte-geojson", "carte-csv"):
        raise PreventUpdate
    role = current_role()
    f = event_filter.for_role(_filter(sources, start, end, categories, families, first, last, weekdays), role)
    collection = _export_cells(mode or "hexagones", f, role, _cell(cell))
    as_csv = ctx.triggered_id == "carte-csv"
    audit_export(
        "carte",
        {
            "format": "csv" if as_csv else "geojson",
            "cellules": len(collection["features"]),
            "mode": mode or "hexagones",
        },
    )
    if as_csv:
        return downloads.csv_file(
            pd.DataFrame([x["properties"] for x in collection["features"]]), "carte_cellules.csv"
        )
    data = {
        "type": "FeatureCollection",
        "features": collection["features"],
        "method": collection.get("method"),
        "filtres": f.describe(),
    }
    return {
        "content": json.dumps(data, ensure_ascii=False, default=str),
        "filename": "carte_cellules.geojson",
        "type": "application/geo+json",
    }


register_page(__name__, path="/carte", name="Carte", permission=PERMISSION, render=render, order=10)
