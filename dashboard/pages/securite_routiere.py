"""Sécurité routière: yearly series, victims, when accidents happen, the accident map and dangerous sites.

Every figure comes from ``observatoire.road_*``; this module only lays them out. Roles that see aggregates
only (``AGGREGATE_ONLY``) never receive an individual accident: no point layer, no per-site accident list.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.components import downloads, markup
from dashboard.components import formatting as fmt
from dashboard.components.graphs import GRAPH_CONFIG
from dashboard.components.maps import (
    LEVEL_LABELS,
    basemap,
    legend_box,
    legend_item,
    levels_in,
    map_frame,
    outline_items,
    outline_layers,
    overlay,
    source_line,
)
from dashboard.components.palette import CHART_BACKGROUND, CHART_GRID, OKABE_ITO
from dashboard.components.tables import frame_table
from dashboard.context import audit_export, engine, settings
from dashboard.security import can, current_role, guarded_callback, register_page
from observatoire.errors import ObservatoireError
from observatoire.permissions import AGGREGATE_ONLY
from observatoire.road import breakdowns as road_breakdowns
from observatoire.road import indicators as road_safety
from observatoire.road import sites as road_sites
from observatoire.road.scope import departement_of, parse_scope, region_of
from observatoire.territories import commune_overview, outlines_geojson, territory_name

PERMISSION = "routes.voir"
EXPORT = "stats.exporter"
# Okabe–Ito, and none of the outline colours of components/maps (commune black line, IRIS blue, QPV vermillion
# fill) so that a point never reads as a zone. Size grows with gravity too, for readers who cannot tell hues.
GRAVITY_STYLE = {
    "mortel": {"color": OKABE_ITO["black"], "radius": 9},
    "grave": {"color": OKABE_ITO["orange"], "radius": 7},
    "leger": {"color": OKABE_ITO["sky_blue"], "radius": 5},
    "inconnue": {"color": OKABE_ITO["grey"], "radius": 5},
}
VICTIM_COLORS = {
    "Tué": OKABE_ITO["black"],
    "Blessé hospitalisé": OKABE_ITO["orange"],
    "Blessé léger": OKABE_ITO["sky_blue"],
}
VICTIM_PLURALS = {
    "Tué": "Tués",
    "Blessé hospitalisé": "Blessés hospitalisés",
    "Blessé léger": "Blessés légers",
}
SITE_COLOR = OKABE_ITO["reddish_purple"]
# The browser draws one SVG element per point: beyond this the page asks for a narrower period or territory.
MAX_POINTS = 3000
UNKNOWN = "inconnue"
BREAKDOWNS = {"heure": "Heure", "jour": "Jour de la semaine", "mois": "Mois", "luminosite": "Luminosité"}
AXIS_TITLES = {
    "heure": "heure de l'accident",
    "jour": "jour",
    "mois": "mois",
    "luminosite": "conditions d'éclairage",
}
RATE_HEADER = "Accidents pour 1\u00a0000 hab."  # no-break space: the header must not wrap inside the number
FILTERS = [Input("securite-territoire", "value"), Input("securite-annees", "value")]
SITE_FILTERS = [
    Input("securite-rayon", "value"),
    Input("securite-minimum", "value"),
    Input("securite-periode", "value"),
]


def _aggregate_only() -> bool:
    return current_role() in AGGREGATE_ONLY


def _territory_options(commune_code: str) -> list[dict[str, str]]:
    name = territory_name(engine(), commune_code) or commune_code
    options = [{"label": f"{name} (commune)", "value": commune_code}]
    for feature in outlines_geojson(engine(), commune_code)["features"]:
        props = feature["properties"]
        if props["level"] in ("qpv", "iris"):
            options.append(
                {"label": f"{LEVEL_LABELS[props['level']]} — {props['name']}", "value": props["code"]}
            )
    dep = departement_of(commune_code.partition(":")[2])
    options.append({"label": f"Département {dep}", "value": f"DEP:{dep}"})
    reg = region_of(dep)
    if reg:
        options.append({"label": f"Région {reg}", "value": f"REG:{reg}"})
    return options


def _loaded_years(territory: str) -> list[int]:
    with engine().connect() as conn:
        status = road_safety.loaded_years(conn, parse_scope(territory))
    return sorted(y for y, s in status.items() if s["accidents"])


def render(**_params) -> html.Div:
    commune = settings().commune_code
    years = _loaded_years(commune)
    if years:
        slider = dcc.RangeSlider(
            id="securite-annees",
            min=years[0],
            max=years[-1],
            step=1,
            value=[years[0], years[-1]],
            allowCross=False,
            marks={y: str(y) for y in range(years[0], years[-1] + 1)},
        )
    else:
        slider = dcc.RangeSlider(
            id="securite-annees", min=2005, max=2005, step=1, value=[2005, 2005], disabled=True
        )
    controls = html.Div(
        [
            html.Label(
                [
                    "Territoire",
                    dcc.Dropdown(
                        id="securite-territoire",
                        value=commune,
                        clearable=False,
                        options=_territory_options(commune),
                    ),
                ],
                className="obs-large",
            ),
            html.Div(
                [html.Span("Années", id="securite-annees-libelle"), slider],
                className="obs-route-annees",
                role="group",
                **{"aria-labelledby": "securite-annees-libelle"},
            ),
        ],
        className="obs-filtres",
    )
    downloads = []
    if can(EXPORT):
        downloads = [
            html.Div(
                [
                    html.Button(
                        "Télécharger le tableau annuel (CSV)",
                        id="securite-csv",
                        className="obs-bouton-secondaire",
                    ),
                    dcc.Download(id="securite-telechargement"),
                ],
                className="obs-actions",
            )
        ]
    empty = (
        []
        if years
        else [
            html.Div(
                "Aucun accident n'est chargé pour la commune : importez les fichiers BAAC de l'ONISR avec "
                "« observatoire import baac DOSSIER ».",
                className="obs-alerte obs-alerte-info",
                id="securite-vide",
            )
        ]
    )
    return html.Div(
        [
            html.H1("Sécurité routière"),
            html.P(
                "Accidents corporels de la circulation et leurs victimes, d'après les fichiers BAAC de l'ONISR.",
                className="obs-muted",
            ),
            *empty,
            controls,
            *downloads,
            html.H2("Évolution annuelle"),
            dcc.Loading(html.Div(id="securite-annuel")),
            html.H2("Victimes"),
            dcc.Loading(html.Div(id="securite-victimes", className="obs-route-deux-colonnes")),
            html.H2("Quand surviennent les accidents"),
            html.Div(
                dcc.RadioItems(
                    id="securite-ventilation",
                    value="heure",
                    inline=True,
                    options=[{"label": f" {v}", "value": k} for k, v in BREAKDOWNS.items()],
                ),
                className="obs-filtres",
                role="group",
                **{"aria-label": "Ventilation des accidents"},
            ),
            dcc.Loading(html.Div(id="securite-moments")),
            html.H2("Carte des accidents et sites dangereux"),
            html.Div(
                [
                    html.Label(
                        [
                            "Rayon des sites (m)",
                            dcc.Input(
                                id="securite-rayon",
                                type="number",
                                min=10,
                                max=500,
                                step=5,
                                value=50,
                                debounce=True,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Accidents minimum par site",
                            dcc.Input(
                                id="securite-minimum",
                                type="number",
                                min=2,
                                max=50,
                                step=1,
                                value=3,
                                debounce=True,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Période des sites (dernières années)",
                            dcc.Input(
                                id="securite-periode",
                                type="number",
                                min=1,
                                max=20,
                                step=1,
                                value=5,
                                debounce=True,
                            ),
                        ]
                    ),
                ],
                className="obs-filtres",
            ),
            dcc.Loading(html.Div(id="securite-carte-bloc")),
            html.H2("Sites dangereux"),
            dcc.Loading(html.Div(id="securite-sites")),
            html.Details(
                [html.Summary("Méthodologie"), html.Div(id="securite-methodologie")],
                className="obs-methodologie",
                open=True,
            ),
        ]
    )


# --- helpers -------------------------------------------------------------------------------------------------------


def _span(years: list[int] | None) -> tuple[int, int] | None:
    if not years or len(years) != 2 or None in years:
        return None
    return int(min(years)), int(max(years))


def _scope(territory: str | None) -> str:
    return parse_scope(territory or settings().commune_code).code


def _period_label(span: tuple[int, int] | None) -> str:
    if span is None:
        return "toutes années"
    return str(span[0]) if span[0] == span[1] else f"{span[0]}–{span[1]}"


def _label(territory: str) -> str:
    for option in _territory_options(settings().commune_code):
        if option["value"] == territory:
            return option["label"]
    return territory


def _percent(value: Any) -> str:
    return "" if value is None or pd.isna(value) else fmt.percent(float(value) * 100)


def _count(value: Any) -> str:
    return fmt.number(None if value is None or pd.isna(value) else int(value))


def _figure(title: str, height: int = 360) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=markup.text(title),  # it names the territory, and Plotly reads titles as HTML
        separators=", ",
        height=height,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.18, "traceorder": "normal"},
        plot_bgcolor=CHART_BACKGROUND,
        paper_bgcolor=CHART_BACKGROUND,
        barmode="stack",
    )
    fig.update_yaxes(gridcolor=CHART_GRID, rangemode="tozero")
    return fig


def _notice(text: str, id_: str | None = None) -> html.Div:
    extra = {"id": id_} if id_ else {}
    return html.Div(text, className="obs-alerte obs-alerte-info", **extra)


def _year_note(row: Any) -> str:
    if not row.donnees_chargees:
        return "année non chargée"
    notes = []
    if row.gravite_inconnue:
        notes.append("gravité inconnue : fichier « usagers » de l'année non importé")
    if not row.couverture_complete:
        notes.append("territoire couvert en partie seulement par les fichiers importés")
    if (
        not pd.isna(row.accidents_sans_usagers) and row.accidents_sans_usagers > 0
    ):  # <NA> when gravity unknown
        notes.append(f"{fmt.number(int(row.accidents_sans_usagers))} accident(s) sans usager renseigné")
    return " ; ".join(notes)


def yearly_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The yearly table as read on screen: French numbers, « inconnue » where gravity is unknown."""

    def gravity(col: str, row: Any, as_share: bool = False) -> str:
        if not row.donnees_chargees:
            return "—"
        if row.gravite_inconnue:
            return UNKNOWN
        return _percent(getattr(row, col)) if as_share else _count(getattr(row, col))

    rows = []
    for row in frame.itertuples():
        rows.append(
            {
                "Accidents corporels": _count(row.accidents) if row.donnees_chargees else "—",
                "Accidents mortels": gravity("accidents_mortels", row),
                "Accidents graves non mortels": gravity("accidents_graves", row),
                "Part des accidents graves non mortels": gravity("part_accidents_graves", row, as_share=True),
                "Tués": gravity("tues", row),
                "Blessés hospitalisés": gravity("hospitalises", row),
                "Blessés légers": gravity("blesses_legers", row),
                "Victimes": gravity("victimes", row),
                RATE_HEADER: (
                    "" if pd.isna(row.accidents_pour_1000) else fmt.number(float(row.accidents_pour_1000), 2)
                ),
                "Remarque": _year_note(row),
            }
        )
    view = pd.DataFrame(rows, index=[str(y) for y in frame.annee])
    if not (view["Remarque"] != "").any():
        view = view.drop(columns="Remarque")
    if not (view[RATE_HEADER] != "").any():
        view = view.drop(columns=RATE_HEADER)
    return view


def _yearly_chart(frame: pd.DataFrame, title: str) -> dcc.Graph:
    fig = _figure(title, height=400)
    years = [int(y) for y in frame.annee]
    for col, name in (
        ("tues", "Tué"),
        ("hospitalises", "Blessé hospitalisé"),
        ("blesses_legers", "Blessé léger"),
    ):
        values = [None if pd.isna(v) else int(v) for v in frame[col]]
        fig.add_trace(
            go.Bar(
                x=years,
                y=values,
                name=VICTIM_PLURALS[name],
                marker_color=VICTIM_COLORS[name],
                hovertemplate="%{x} : %{y} " + VICTIM_PLURALS[name].lower() + "<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=years,
            y=[None if pd.isna(v) else int(v) for v in frame.accidents],
            name="Accidents corporels",
            mode="lines+markers",
            line={"color": OKABE_ITO["blue"], "width": 3},
            marker={"symbol": "diamond", "size": 9},
            hovertemplate="%{x} : %{y} accidents corporels<extra></extra>",
        )
    )
    for row in frame.itertuples():
        if row.donnees_chargees and row.gravite_inconnue:
            fig.add_annotation(
                x=int(row.annee),
                y=0,
                yanchor="bottom",
                text="gravité<br>inconnue",
                showarrow=False,
                font={"size": 11, "color": "#3a3a3a"},
            )
    fig.update_layout(xaxis={"dtick": 1, "title": "année"}, yaxis_title="nombre")
    return dcc.Graph(figure=fig, id="securite-graphique-annuel", config=GRAPH_CONFIG)


# --- callbacks -----------------------------------------------------------------------------------------------------


@guarded_callback(PERMISSION, Output("securite-annuel", "children"), *FILTERS)
def show_yearly(territory, years):
    span = _span(years)
    if span is None:
        return _notice("Aucune année d'accidents n'est chargée.")
    code = _scope(territory)
    try:
        frame = road_safety.yearly_indicators(engine(), code, span)
    except ObservatoireError as exc:
        return _notice(exc.message)
    caption = f"Accidents corporels et victimes — {_label(code)}, {_period_label(span)}"
    blocks = [
        _yearly_chart(frame, caption),
        frame_table(yearly_view(frame), caption, "securite-table-annuelle", index_header="Année"),
    ]
    unknown = [str(int(y)) for y in frame.loc[frame.gravite_inconnue, "annee"]]
    if unknown:
        blocks.append(
            _notice(
                f"Gravité inconnue en {', '.join(unknown)} : la gravité n'est connue que par le fichier « usagers », "
                "qui n'a pas été importé pour ces années. Les nombres de tués, de blessés et d'accidents mortels ou "
                "graves y sont inconnus, pas nuls.",
                "securite-gravite-inconnue",
            )
        )
    pops = frame.dropna(subset=["annee_population"])
    if len(pops):
        vintages = sorted({int(v) for v in pops.annee_population})
        blocks.append(
            html.P(
                f"Taux pour 1 000 habitants : population municipale INSEE, millésime(s) "
                f"{', '.join(map(str, vintages))} (le plus proche de chaque année).",
                className="obs-source",
            )
        )
    blocks.append(html.P(road_safety.SOURCE_LINE, className="obs-source"))
    return blocks


def _victims_block(frame: pd.DataFrame, by: str, title: str, chart_title: str, header: str) -> html.Section:
    table = frame.pivot_table(
        index="groupe", columns="gravite", values="victimes", aggfunc="sum", fill_value=0, observed=False
    )
    if by == "age":  # every band is listed, even without victims
        table = table.reindex(road_safety.AGE_BANDS, fill_value=0)
    table = table.reindex(columns=list(VICTIM_COLORS), fill_value=0)
    table["Total"] = table.sum(axis=1)
    if by == "type_usager":
        table = table.sort_values("Total", ascending=True)
    else:
        if table.loc["Âge inconnu", "Total"] == 0:
            table = table.drop(index="Âge inconnu")
        table = table.iloc[::-1]  # horizontal bars draw bottom-up: keep the youngest band on top
    fig = _figure(chart_title, height=max(280, 110 + 36 * len(table)))
    for name, color in VICTIM_COLORS.items():
        fig.add_trace(
            go.Bar(
                y=[str(i) for i in table.index],
                x=table[name].tolist(),
                name=VICTIM_PLURALS[name],
                orientation="h",
                marker_color=color,
                hovertemplate="%{y} : %{x} " + VICTIM_PLURALS[name].lower() + "<extra></extra>",
            )
        )
    # Legend above the bars: in a half-width chart a legend below collides with the axis title.
    fig.update_layout(
        xaxis_title="victimes",
        margin={"l": 200, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    view = table.iloc[::-1].rename(columns=VICTIM_PLURALS).map(lambda v: fmt.number(int(v)))
    view.index = [str(i) for i in view.index]
    return html.Section(
        [
            dcc.Graph(figure=fig, id=f"securite-graphique-{by}", config=GRAPH_CONFIG),
            frame_table(view, title, f"securite-table-{by}", index_header=header),
        ],
        className="obs-route-colonne",
    )


@guarded_callback(PERMISSION, Output("securite-victimes", "children"), *FILTERS)
def show_victims(territory, years):
    span = _span(years)
    if span is None:
        raise PreventUpdate
    code = _scope(territory)
    blocks, unknown = [], []
    for by, label, header in (
        ("age", "par tranche d'âge", "Tranche d'âge"),
        ("type_usager", "par type d'usager", "Type d'usager"),
    ):
        frame = road_breakdowns.victims_by(engine(), code, span, by=by)
        unknown = frame.attrs.get("annees_gravite_inconnue", [])
        title = f"Victimes {label} — {_label(code)}, {_period_label(span)}"
        if frame.empty:
            blocks.append(_notice(f"Aucune victime connue {label} sur la période."))
            continue
        blocks.append(_victims_block(frame, by, title, f"Victimes {label}", header))
    if unknown:
        blocks.append(
            _notice(
                f"Années exclues (gravité inconnue, fichier « usagers » non importé) : "
                f"{', '.join(map(str, unknown))}."
            )
        )
    return blocks


@guarded_callback(
    PERMISSION, Output("securite-moments", "children"), *FILTERS, Input("securite-ventilation", "value")
)
def show_moments(territory, years, by):
    span = _span(years)
    if span is None:
        raise PreventUpdate
    by = by if by in BREAKDOWNS else "heure"
    code = _scope(territory)
    frame = road_breakdowns.accidents_by(engine(), code, span, by=by)
    labels = [str(v)[:1].upper() + str(v)[1:] for v in frame.libelle]
    title = f"Accidents corporels par {BREAKDOWNS[by].lower()} — {_label(code)}, {_period_label(span)}"
    fig = _figure(title)
    fig.add_trace(
        go.Bar(
            x=labels,
            y=frame.accidents.tolist(),
            marker_color=OKABE_ITO["blue"],
            name="Accidents corporels",
            hovertemplate="%{x} : %{y} accidents<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": AXIS_TITLES[by], "type": "category"},
        yaxis_title="accidents corporels",
        showlegend=False,
    )
    total = int(frame.accidents.sum())
    view = pd.DataFrame(
        {
            "Accidents corporels": [fmt.number(int(v)) for v in frame.accidents],
            "Part": [_percent(v / total) if total else "" for v in frame.accidents],
        },
        index=labels,
    )
    return [
        dcc.Graph(figure=fig, id="securite-graphique-moments", config=GRAPH_CONFIG),
        html.Details(
            [
                html.Summary("Tableau des données du graphique"),
                frame_table(view, title, "securite-table-moments", index_header=BREAKDOWNS[by]),
            ],
            className="obs-table-alternative",
        ),
        html.P(road_safety.SOURCE_LINE, className="obs-source"),
    ]


def _site_params(radius, minimum, period) -> tuple[int, int, int]:
    def clamp(value, low, high, default):
        try:
            return max(low, min(high, int(value)))
        except (TypeError, ValueError):
            return default

    return clamp(radius, 10, 500, 50), clamp(minimum, 2, 50, 3), clamp(period, 1, 20, 5)


def _discs(features: list[dict], layer_id: str, style: dict[str, Any], label_class: str = "") -> dl.GeoJSON:
    """One GeoJSON layer of discs drawn by ``assets/obs_cartes.js`` (``obsCartes.disc``): one Dash
    component for the layer instead of a marker and a tooltip component per accident, which made the page
    take many seconds to draw."""
    return dl.GeoJSON(
        data={"type": "FeatureCollection", "features": features},
        id=layer_id,
        pointToLayer={"variable": "obsCartes.disc"},
        hideout={"style": style, "labelClass": label_class},
    )


def _point_layers(points: dict[str, Any]) -> list[Any]:
    overlays = []
    for key, label in road_breakdowns.GRAVITY_CLASSES.items():
        style = GRAVITY_STYLE[key]
        features = []
        for feature in points["features"]:
            props = feature["properties"]
            if props["gravite"] != key:
                continue
            victims = (
                (
                    f"{props['tues']} tué(s), {props['hospitalises']} hospitalisé(s), "
                    f"{props['blesses_legers']} blessé(s) léger(s)"
                )
                if key != "inconnue"
                else "gravité inconnue"
            )
            text = (
                f"{props['date']}{' ' + props['heure'] if props['heure'] else ''} — {label} : {victims}"
                + (f" — {props['adresse']}" if props["adresse"] else "")
            )
            features.append(
                {"type": "Feature", "geometry": feature["geometry"], "properties": {"text": text}}
            )
        if features:
            disc = {
                "radius": style["radius"],
                "color": "#ffffff",
                "weight": 1,
                "fillColor": style["color"],
                "fillOpacity": 0.9,
                "className": f"obs-route-point obs-route-point-{key}",
            }
            overlays.append(
                overlay(
                    _discs(features, f"securite-points-{key}", disc),
                    f"{label} ({fmt.number(len(features))})",
                )
            )
    return overlays


def _site_layer(sites: dict[str, Any]) -> list[Any]:
    features = []
    for feature in sites["features"]:
        props = feature["properties"]
        text = (
            f"Site n° {props['rang']} : {props['accidents']} accidents, {props['tues']} tué(s), "
            f"{props['hospitalises']} hospitalisé(s), {props['blesses_legers']} blessé(s) léger(s) — "
            f"indice de gravité {props['indice_gravite']}"
        )
        features.append(
            {
                "type": "Feature",
                "geometry": feature["geometry"],
                "properties": {"label": f"{props['rang']}", "clic": text},
            }
        )
    if not features:
        return []
    # Drawn at a fixed pixel size: a 50 m circle is a dot at the scale of a commune.
    disc = {
        "radius": 15,
        "color": SITE_COLOR,
        "weight": 4,
        "fillColor": SITE_COLOR,
        "fillOpacity": 0.2,
        "className": "obs-route-site",
    }
    return [
        overlay(
            _discs(features, "securite-sites-couche", disc, "obs-route-site-rang"),
            f"Sites dangereux ({fmt.number(len(features))})",
        )
    ]


def _bounds(
    base: list[list[float]] | None, points: dict[str, Any], sites: dict[str, Any]
) -> list[list[float]] | None:
    """Frame what is drawn (accidents, else sites) rather than the whole commune, where town-centre accidents
    would read as one blot; the commune when nothing is drawn."""
    coords = [f["geometry"]["coordinates"] for f in points["features"] + sites["features"]]
    if not coords:
        return base
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    # At least ~400 m around: a single site must not open at street-level zoom.
    pad_lon = max(0.08 * (max(lons) - min(lons)), 0.005)
    pad_lat = max(0.08 * (max(lats) - min(lats)), 0.004)
    return [[min(lats) - pad_lat, min(lons) - pad_lon], [max(lats) + pad_lat, max(lons) + pad_lon]]


def _map_legend(title: str, levels: list[str], classes: list[str], with_sites: bool, source: str) -> html.Div:
    items = []
    for key, label in road_breakdowns.GRAVITY_CLASSES.items():
        if key in classes:
            size = 2 * GRAVITY_STYLE[key]["radius"]
            items.append(
                legend_item(
                    html.Span(
                        className="obs-route-pastille",
                        style={
                            "background": GRAVITY_STYLE[key]["color"],
                            "width": f"{size}px",
                            "height": f"{size}px",
                        },
                    ),
                    label,
                )
            )
    if with_sites:
        items.append(
            legend_item(
                html.Span(
                    className="obs-route-pastille obs-route-pastille-site", style={"borderColor": SITE_COLOR}
                ),
                "Site dangereux (numéro = rang)",
            )
        )
    return legend_box(title, items + outline_items(levels), source, "securite-legende")


def _sites_view(sites_frame: pd.DataFrame, aggregate: bool) -> pd.DataFrame:
    # A site's place and an exact date point at one accident: aggregate-only roles read years.
    when = (
        (lambda col: pd.to_datetime(col).dt.strftime("%Y"))
        if aggregate
        else (lambda col: pd.to_datetime(col).dt.strftime("%d/%m/%Y"))
    )
    return pd.DataFrame(
        {
            "Accidents": sites_frame.accidents.map(_count),
            "Accidents mortels": sites_frame.accidents_mortels.map(_count),
            "Tués": sites_frame.tues.map(_count),
            "Blessés hospitalisés": sites_frame.hospitalises.map(_count),
            "Blessés légers": sites_frame.blesses_legers.map(_count),
            "Indice de gravité": sites_frame.indice_gravite.map(_count)
            + sites_frame.gravite_incomplete.map(lambda v: " (gravité incomplète)" if v else ""),
            "Premier accident": when(sites_frame.premier),
            "Dernier accident": when(sites_frame.dernier),
            "Rayon (m)": sites_frame.rayon_m.map(lambda v: fmt.number(float(v), 0)),
            "Voies": sites_frame.adresses,
        }
    ).set_axis([f"n° {r}" for r in sites_frame.rang])


def _site_accidents(accidents: pd.DataFrame, rank: int) -> html.Details:
    part = accidents[accidents.rang_site == rank]

    def victims(v: Any) -> str:
        return UNKNOWN if v is None or pd.isna(v) else fmt.number(int(v))

    view = pd.DataFrame(
        {
            "Date": pd.to_datetime(part.date).dt.strftime("%d/%m/%Y"),
            "Voie": part.adresse.fillna(""),
            "Tués": part.tues.map(victims),
            "Blessés hospitalisés": part.hospitalises.map(victims),
            "Blessés légers": part.blesses_legers.map(victims),
            "Distance au centre (m)": part.distance_m.map(lambda v: fmt.number(float(v), 0)),
        }
    )
    view.index = [str(i) for i in part.id]
    return html.Details(
        [
            html.Summary(f"Site n° {rank} — {len(part)} accidents"),
            html.Div(
                frame_table(
                    view,
                    f"Accidents du site n° {rank}",
                    f"securite-site-{rank}",
                    index_header="Accident (identifiant ONISR)",
                ),
                className="obs-route-accidents",
            ),
        ],
        className="obs-table-alternative",
    )


@guarded_callback(
    PERMISSION,
    [
        Output("securite-carte-bloc", "children"),
        Output("securite-sites", "children"),
        Output("securite-methodologie", "children"),
    ],
    *FILTERS,
    *SITE_FILTERS,
)
def show_map(territory, years, radius, minimum, period):
    span = _span(years)
    radius, minimum, period = _site_params(radius, minimum, period)
    methodology = dcc.Markdown(road_breakdowns.methodology_text(radius, minimum, period))
    if span is None:
        return _notice("Aucune année d'accidents n'est chargée."), [], methodology
    code = _scope(territory)
    aggregate = _aggregate_only()
    site_span = (max(span[0], span[1] - period + 1), span[1])
    try:
        sites = road_sites.dangerous_sites(engine(), code, site_span, radius_m=radius, min_accidents=minimum)
    except ObservatoireError as exc:
        return _notice(exc.message), [], methodology
    empty = {"type": "FeatureCollection", "features": [], "metadata": {}}
    points = (
        empty if aggregate else road_breakdowns.accident_points(engine(), code, span, max_features=MAX_POINTS)
    )

    commune = settings().commune_code
    outlines = outlines_geojson(engine(), commune)
    levels = levels_in(outlines)
    bounds = _bounds(commune_overview(engine(), commune)["bounds"], points, sites)
    overlays = _point_layers(points) + _site_layer(sites)
    layers = basemap(settings()) + outline_layers(outlines, "securite")
    if overlays:
        layers.append(dl.LayersControl(overlays, position="topright", collapsed=False, id="securite-couches"))
    source = source_line("Source : ONISR (BAAC) · contours IGN, INSEE, ANCT", settings())
    title = f"Accidents corporels {_period_label(span)} — {_label(code)}"
    notes = []
    if aggregate:
        notes.append(
            _notice(
                "Votre rôle donne accès aux chiffres agrégés seulement : la carte montre les sites "
                "dangereux, pas les accidents un par un.",
                "securite-agrege",
            )
        )
    else:
        meta = points["metadata"]
        shown = len(points["features"])
        text = (
            f"{fmt.number(shown)} accident(s) géolocalisé(s) sur {fmt.number(meta['accidents'])} ; "
            f"{fmt.number(meta['sans_coordonnees'])} sans coordonnées ne peuvent pas être placés."
        )
        if meta["tronque"]:
            text += (
                f" Seuls les {fmt.number(MAX_POINTS)} premiers sont dessinés : réduisez la période ou le "
                "territoire pour les voir tous."
            )
        notes.append(html.P(text, className="obs-source", id="securite-carte-compte"))
    map_block = html.Div(
        [
            map_frame(layers, bounds, "securite-carte"),
            _map_legend(
                title,
                levels,
                sorted({f["properties"]["gravite"] for f in points["features"]}),
                bool(sites["features"]),
                source,
            ),
        ],
        className="obs-carte-bloc",
    )

    sites_frame, accidents = road_sites.sites_tables(sites)
    caption = (
        f"Sites dangereux — au moins {minimum} accidents corporels à moins de {radius} m les uns des "
        f"autres, {_period_label(site_span)}, {_label(code)}"
    )
    if sites_frame.empty:
        site_blocks = [
            _notice(
                f"Aucun site ne réunit au moins {minimum} accidents à moins de {radius} m sur "
                f"{_period_label(site_span)}.",
                "securite-sites-vide",
            )
        ]
    else:
        site_blocks = [
            html.Div(
                frame_table(
                    _sites_view(sites_frame, aggregate), caption, "securite-table-sites", index_header="Rang"
                ),
                className="obs-route-sites",
            )
        ]
        if aggregate:
            site_blocks.append(
                html.P(
                    "La liste des accidents de chaque site n'est pas affichée pour votre rôle.",
                    className="obs-muted",
                )
            )
        else:
            site_blocks += [html.H3("Accidents de chaque site")] + [
                _site_accidents(accidents, int(rank)) for rank in sites_frame.rang
            ]
    site_blocks.append(
        html.P(
            f"{sites['metadata']['methode']} ; indice de gravité = 10 × tués + 5 × blessés "
            f"hospitalisés + 1 × blessés légers. {road_safety.SOURCE_LINE}",
            className="obs-source",
        )
    )
    return [*notes, map_block], site_blocks, methodology


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    # A spreadsheet must not read an unknown gravity as zero either.
    for col in (*road_safety.GRAVITY_COLUMNS, "part_accidents_graves"):
        out[col] = [
            UNKNOWN if unknown else v
            for v, unknown in zip(out[col].astype(object), out.gravite_inconnue, strict=True)
        ]
    return out


@guarded_callback(
    EXPORT,
    Output("securite-telechargement", "data"),
    Input("securite-csv", "n_clicks"),
    State("securite-territoire", "value"),
    State("securite-annees", "value"),
    prevent_initial_call=True,
)
def download(clicks, territory, years):
    if not clicks:
        raise PreventUpdate
    span = _span(years)
    code = _scope(territory)
    frame = road_safety.yearly_indicators(engine(), code, span)
    audit_export(
        "securite-routiere",
        {"format": "csv", "territoire": code, "annees": _period_label(span), "lignes": len(frame)},
    )
    name = f"securite-routiere-{code.replace(':', '-')}-{_period_label(span).replace('–', '-')}.csv"
    return downloads.csv_file(_csv_frame(frame), name)


register_page(
    __name__,
    path="/securite-routiere",
    name="Sécurité routière",
    permission=PERMISSION,
    render=render,
    order=40,
)
