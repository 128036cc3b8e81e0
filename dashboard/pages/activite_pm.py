"""Activité police municipale: interventions by family and type, by month, weekday × hour, by zone, origin.

Roles that only see aggregates (the council) get small counts masked (« < 5 »), computed on the server:
the browser never receives the masked values.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from dashboard.components import downloads, markup
from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.components.maps import (
    basemap,
    legend_box,
    legend_item,
    map_frame,
    outline_layers,
    source_line,
    swatch,
    with_tooltip,
)
from dashboard.components.palette import (
    CHART_BACKGROUND,
    CHART_GRID,
    EMPTY,
    MASKED,
    OKABE_ITO,
    SEQUENTIAL,
    sequential,
    text_on,
)
from dashboard.context import audit_export, engine, settings
from dashboard.security import can, current_role, guarded_callback, register_page
from observatoire.permissions import AGGREGATE_ONLY
from observatoire.police_municipale import activity as pm_activity
from observatoire.police_municipale import catalogue as pm_catalogue

PERMISSION = "pm.voir"
EXPORT = "stats.exporter"
# Okabe–Ito for families, the last (grey) for unclassified; every "how many" shading takes the palette's ramp.
FAMILY_COLOURS = [
    OKABE_ITO[name]
    for name in (
        "blue",
        "orange",
        "bluish_green",
        "reddish_purple",
        "sky_blue",
        "vermillion",
        "yellow",
        "black",
        "grey",
    )
]
MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
ORIGIN_LABELS = {
    "initiative": "Initiative de la patrouille",
    "appel": "Appel (téléphone, 17, requérant)",
    "demande": "Demande (mairie, partenaires, réquisition)",
    "autre": "Autre",
    "non_renseignee": "Non renseignée",
}
LEVEL_LABELS = {
    "iris": "IRIS",
    "qpv": "Quartier prioritaire (QPV)",
    "secteur": "Secteur de la police municipale",
}
SOURCE_LINE = "Source : main courante de la police municipale (exports importés dans l'observatoire)."
FILTERS = [
    Input("activite-periode", "start_date"),
    Input("activite-periode", "end_date"),
    Input("activite-familles", "value"),
    Input("activite-types", "value"),
]


def _threshold() -> int | None:
    return settings().small_count_threshold if current_role() in AGGREGATE_ONLY else None


def _count_text(value, threshold: int | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"< {threshold}" if threshold else "0"
    return fmt.number(value)


def _mask(value: int | float, threshold: int | None) -> float:
    """A total computed here (not in the library) masked by the same rule."""
    return float("nan") if threshold and value < threshold else float(value)


def _family_colours() -> dict[str, str]:
    """One colour per family, the same in every chart (by the nomenclature's order); unclassified in grey."""
    families = pm_catalogue.list_families(engine())
    colours = {
        label: FAMILY_COLOURS[i % (len(FAMILY_COLOURS) - 1)] for i, label in enumerate(families["label"])
    }
    colours[pm_activity.UNCLASSIFIED] = FAMILY_COLOURS[-1]
    return colours


def _month_label(value) -> str:
    value = pd.Timestamp(value)
    return f"{MONTHS[value.month - 1]} {value.year}"


def render(**_params) -> html.Div:
    overall = pm_activity.summary(engine())
    families = pm_catalogue.list_families(engine())
    types = pm_catalogue.list_types(engine())
    first, last = overall.get("premiere"), overall.get("derniere")
    if not overall.get("total"):
        hint = " Déposez un export sur la page « Dépôt police municipale »." if can("pm.importer") else ""
        return html.Div(
            [
                html.H1("Activité de la police municipale"),
                html.Div(
                    "Aucune intervention n'est encore chargée." + hint,
                    className="obs-alerte obs-alerte-info",
                    id="activite-vide",
                ),
            ]
        )
    downloads = []
    if can(EXPORT):
        downloads = [
            html.Div(
                [
                    html.Button(
                        "Télécharger les tableaux (CSV)", id="activite-csv", className="obs-bouton-secondaire"
                    ),
                    dcc.Download(id="activite-telechargement"),
                ],
                className="obs-actions",
            )
        ]
    masked_note = []
    if _threshold():
        masked_note = [
            html.P(
                f"Les effectifs inférieurs à {_threshold()} sont masqués (« < {_threshold()} ») : "
                "seuls des chiffres agrégés sont présentés.",
                className="obs-alerte obs-alerte-info",
                id="activite-masquage",
            )
        ]
    return html.Div(
        [
            html.H1("Activité de la police municipale"),
            html.P(
                "Interventions de la main courante, par nature, période, jour et heure, et lieu. Chaque graphique a "
                "son tableau.",
                className="obs-muted",
            ),
            *masked_note,
            html.Div(
                [
                    html.Label(
                        [
                            "Période",
                            dcc.DatePickerRange(
                                id="activite-periode",
                                display_format="DD/MM/YYYY",
                                first_day_of_week=1,
                                start_date=first.date().isoformat() if first else None,
                                end_date=last.date().isoformat() if last else None,
                                min_date_allowed=first.date().isoformat() if first else None,
                                max_date_allowed=last.date().isoformat() if last else None,
                                start_date_placeholder_text="début",
                                end_date_placeholder_text="fin",
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Familles",
                            dropdown(
                                id="activite-familles",
                                multi=True,
                                placeholder="Toutes les familles",
                                options=[{"label": r.label, "value": r.code} for r in families.itertuples()],
                            ),
                        ],
                        className="obs-large",
                    ),
                    html.Label(
                        [
                            "Types d'intervention",
                            dropdown(
                                id="activite-types",
                                multi=True,
                                placeholder="Tous les types",
                                options=[
                                    {"label": f"{r.label} ({r.family_label})", "value": r.code}
                                    for r in types.itertuples()
                                ],
                            ),
                        ],
                        className="obs-large",
                    ),
                ],
                className="obs-filtres",
            ),
            *downloads,
            dcc.Loading(html.Div(id="activite-resultats")),
            html.Section(
                [
                    html.H2("Par zone"),
                    dcc.RadioItems(
                        id="activite-niveau",
                        value="iris",
                        inline=True,
                        className="obs-pm-radio",
                        options=[
                            {"label": f" {label}", "value": level} for level, label in LEVEL_LABELS.items()
                        ],
                    ),
                    dcc.Loading(html.Div(id="activite-zones")),
                ],
                className="obs-bloc",
            ),
            html.P(SOURCE_LINE, className="obs-source"),
        ]
    )


def _filters(start, end, families, types) -> dict:
    return {
        "start": date.fromisoformat(start[:10]) if start else None,
        "end": date.fromisoformat(end[:10]) if end else None,
        "families": families or None,
        "types": types or None,
    }


def _bar(
    labels: list[str], values: list, colours: list[str], title: str, chart_id: str, height: int
) -> dcc.Graph:
    fig = go.Figure(
        go.Bar(
            y=[markup.text(label) for label in labels],  # Plotly reads labels as HTML
            x=values,
            orientation="h",
            marker_color=colours,
            hovertemplate="%{y} : %{x:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        separators=", ",
        height=height,
        margin={"l": 260, "r": 20, "t": 50, "b": 40},
        yaxis={"autorange": "reversed"},
        plot_bgcolor=CHART_BACKGROUND,
        paper_bgcolor=CHART_BACKGROUND,
    )
    fig.update_xaxes(gridcolor=CHART_GRID, rangemode="tozero")
    return dcc.Graph(figure=fig, id=chart_id, config={"displaylogo": False, "locale": "fr"})


def _summary_block(f: dict, threshold: int | None) -> html.Dl:
    s = pm_activity.summary(engine(), f["start"], f["end"], families=f["families"], types=f["types"])
    placed = (s["coordonnees"] or 0) + (s["geocodees"] or 0)
    period = f"{fmt.day(s['premiere'])} – {fmt.day(s['derniere'])}" if s["premiere"] else "—"
    facts = [
        ("Interventions", _count_text(_mask(s["total"] or 0, threshold), threshold)),
        ("Période couverte", period),
        ("Placées sur la carte", _count_text(_mask(placed, threshold), threshold)),
        ("Non géolocalisées", _count_text(_mask(s["non_geolocalisees"] or 0, threshold), threshold)),
        ("Heure inconnue", _count_text(_mask(s["heure_inconnue"] or 0, threshold), threshold)),
        ("Nature non classée", _count_text(_mask(s["non_classees"] or 0, threshold), threshold)),
    ]
    return html.Dl(
        [item for label, value in facts for item in (html.Dt(label), html.Dd(value))],
        className="obs-chiffres-cles",
        id="activite-chiffres",
    )


def _types_block(f: dict, threshold: int | None) -> html.Section:
    raw = pm_activity.by_type(engine(), f["start"], f["end"], families=f["families"], types=f["types"])
    shown = pm_activity.by_type(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    colour = _family_colours()
    total = int(raw["count"].sum())
    fam_totals = raw.groupby("family", sort=False)["count"].sum()
    fam_rows = [
        html.Tr(
            [
                html.Th(
                    [html.Span(className="obs-pm-pastille", style={"background": colour[fam]}), fam],
                    scope="row",
                ),
                html.Td(_count_text(_mask(n, threshold), threshold)),
                html.Td("" if threshold and n < threshold else fmt.percent(100 * n / total)),
            ]
        )
        for fam, n in fam_totals.items()
    ]
    fam_table = html.Table(
        [
            html.Caption("Interventions par famille"),
            html.Thead(
                html.Tr(
                    [
                        html.Th("Famille", scope="col"),
                        html.Th("Interventions", scope="col"),
                        html.Th("Part", scope="col"),
                    ]
                )
            ),
            html.Tbody(fam_rows),
        ],
        className="obs-table",
        id="activite-table-familles",
    )
    type_rows = [
        html.Tr(
            [
                html.Th(r.type + (" (catégorie sensible)" if r.sensitive else ""), scope="row"),
                html.Td(r.family, className="obs-pm-texte"),
                html.Td(_count_text(r.count, threshold)),
            ]
        )
        for r in shown.itertuples()
    ]
    type_table = html.Table(
        [
            html.Caption("Interventions par type"),
            html.Thead(
                html.Tr(
                    [
                        html.Th("Type", scope="col"),
                        html.Th("Famille", scope="col"),
                        html.Th("Interventions", scope="col"),
                    ]
                )
            ),
            html.Tbody(type_rows),
        ],
        className="obs-table",
        id="activite-table-types",
    )
    chart = _bar(
        list(shown["type"]),
        [None if pd.isna(v) else v for v in shown["count"]],
        [colour[fam] for fam in shown["family"]],
        "Interventions par type (couleur : famille)",
        "activite-graphique-types",
        max(260, 60 + 24 * len(shown)),
    )
    return html.Section(
        [
            html.H2("Par famille et type"),
            chart,
            html.Div([fam_table, type_table], className="obs-pm-deux-tables"),
        ],
        className="obs-bloc",
    )


def _months_block(f: dict, threshold: int | None) -> html.Section:
    raw = pm_activity.by_month(engine(), f["start"], f["end"], families=f["families"], types=f["types"])
    shown = pm_activity.by_month(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    if raw.empty:
        return html.Section(
            [html.H2("Par mois"), html.P("Aucune intervention sur la période.")], className="obs-bloc"
        )
    colour = _family_colours()
    families = [fam for fam in colour if fam in set(raw["family"])]
    fig = go.Figure()
    for fam in families:
        part = shown[shown["family"] == fam]
        fig.add_trace(
            go.Bar(
                x=[pd.Timestamp(m) for m in part["month"]],
                y=part["count"],
                name=markup.text(fam),  # Plotly reads names as HTML
                marker_color=colour[fam],
                hovertemplate="%{x|%m/%Y} : %{y:,.0f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        title="Interventions par mois et par famille",
        separators=", ",
        height=380,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        plot_bgcolor=CHART_BACKGROUND,
        paper_bgcolor=CHART_BACKGROUND,
    )
    fig.update_yaxes(gridcolor=CHART_GRID, rangemode="tozero")
    pivot = shown.pivot_table(index="month", columns="family", values="count", aggfunc="sum", dropna=False)
    totals = raw.groupby("month")["count"].sum()
    header = (
        [html.Th("Mois", scope="col")]
        + [html.Th(fam, scope="col") for fam in families]
        + [html.Th("Total", scope="col")]
    )
    rows = []
    for month in totals.index:
        cells = [html.Th(_month_label(month), scope="row")]
        for fam in families:
            value = pivot.at[month, fam] if fam in pivot.columns and month in pivot.index else float("nan")
            exists = not raw[(raw["month"] == month) & (raw["family"] == fam)].empty
            cells.append(html.Td(_count_text(value, threshold) if exists else "0"))
        cells.append(html.Td(_count_text(_mask(totals[month], threshold), threshold)))
        rows.append(html.Tr(cells))
    table = html.Table(
        [
            html.Caption("Interventions par mois et par famille"),
            html.Thead(html.Tr(header)),
            html.Tbody(rows),
        ],
        className="obs-table obs-pm-table-large",
        id="activite-table-mois",
    )
    return html.Section(
        [
            html.H2("Par mois"),
            dcc.Graph(
                figure=fig, id="activite-graphique-mois", config={"displaylogo": False, "locale": "fr"}
            ),
            html.Details(
                [html.Summary("Tableau des interventions par mois"), table], className="obs-table-alternative"
            ),
        ],
        className="obs-bloc",
    )


def _classes(values: list[float], n: int) -> list[float]:
    """Upper bounds of ``n`` equal-interval classes from 1 to the maximum (0 stays white)."""
    top = max([v for v in values if v and not math.isnan(v)] or [1])
    step = max(top / n, 1)
    return [math.ceil(step * (i + 1)) for i in range(n - 1)] + [top]


def _class_of(value: float, bounds: list[float]) -> int:
    return next((i for i, b in enumerate(bounds) if value <= b), len(bounds) - 1)


def _heat_block(f: dict, threshold: int | None) -> html.Section:
    frame = pm_activity.weekday_hour(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    values = [float(v) for v in frame["count"] if not pd.isna(v)]
    bounds = _classes(values, len(SEQUENTIAL))
    grid = {(r.weekday, r.hour): r.count for r in frame.itertuples()}
    rows = []
    for day in range(1, 8):
        cells = [html.Th(pm_activity.WEEKDAYS[day - 1], scope="row")]
        for hour in range(24):
            value = grid.get((day, hour), 0)
            if pd.isna(value):
                cells.append(
                    html.Td(f"< {threshold}", className="obs-pm-masque", style={"background": MASKED})
                )
            elif not value:
                cells.append(html.Td("0", className="obs-pm-zero"))
            else:
                fill = SEQUENTIAL[_class_of(value, bounds)]
                cells.append(html.Td(fmt.number(value), style={"background": fill, "color": text_on(fill)}))
        rows.append(html.Tr(cells))
    header = [html.Th("Jour", scope="col")] + [html.Th(f"{h} h", scope="col") for h in range(24)]
    table = html.Table(
        [
            html.Caption("Interventions par jour de la semaine et heure de début"),
            html.Thead(html.Tr(header)),
            html.Tbody(rows),
        ],
        className="obs-table obs-pm-chaleur",
        id="activite-table-jour-heure",
    )
    lows = [1] + [b + 1 for b in bounds[:-1]]
    legend = [
        html.Li(
            [
                html.Span(className="obs-pm-pastille", style={"background": colour}),
                f"{fmt.number(lo)} à {fmt.number(hi)}" if hi > lo else fmt.number(hi),
            ]
        )
        for colour, lo, hi in zip(SEQUENTIAL, lows, bounds, strict=True)
        if hi >= lo
    ]
    if threshold:
        legend.append(
            html.Li(
                [
                    html.Span(className="obs-pm-pastille", style={"background": MASKED}),
                    f"moins de {threshold} (masqué)",
                ]
            )
        )
    return html.Section(
        [
            html.H2("Jour de la semaine × heure"),
            html.Div(table, className="obs-pm-defilement"),
            html.Ul(legend, className="obs-pm-legende-chaleur", **{"aria-label": "Légende des teintes"}),
            html.P(
                "Les interventions dont l'heure est inconnue ne figurent pas dans ce tableau (voir « Heure inconnue »).",
                className="obs-muted obs-petit",
            ),
        ],
        className="obs-bloc",
    )


def _origins_block(f: dict, threshold: int | None) -> html.Section:
    frame = pm_activity.origins(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    labels = [ORIGIN_LABELS.get(o, o) for o in frame["origin"]]
    rows = [
        html.Tr([html.Th(label, scope="row"), html.Td(_count_text(n, threshold))])
        for label, n in zip(labels, frame["count"], strict=True)
    ]
    table = html.Table(
        [
            html.Caption("Interventions selon leur origine"),
            html.Thead(html.Tr([html.Th("Origine", scope="col"), html.Th("Interventions", scope="col")])),
            html.Tbody(rows),
        ],
        className="obs-table",
        id="activite-table-origines",
    )
    chart = _bar(
        labels,
        [None if pd.isna(v) else v for v in frame["count"]],
        [OKABE_ITO["blue"]] * len(labels),
        "Origine des interventions",
        "activite-graphique-origines",
        max(220, 60 + 30 * len(labels)),
    )
    return html.Section(
        [html.H2("Origine"), html.Div([chart, table], className="obs-pm-deux-tables")], className="obs-bloc"
    )


@guarded_callback(PERMISSION, Output("activite-resultats", "children"), *FILTERS)
def show(start, end, families, types):
    f = _filters(start, end, families, types)
    threshold = _threshold()
    return [
        _summary_block(f, threshold),
        _types_block(f, threshold),
        _months_block(f, threshold),
        _heat_block(f, threshold),
        _origins_block(f, threshold),
    ]


def _zone_map(frame: pd.DataFrame, level: str, threshold: int | None) -> html.Div | None:
    from observatoire.territories import commune_overview

    overview = commune_overview(engine(), settings().commune_code)
    zones = [feat for feat in overview["outlines"]["features"] if feat["properties"]["level"] == level]
    if not zones:
        return None
    counts = {r.code: r.count for r in frame.itertuples()}
    values = [float(v) for v in counts.values() if not pd.isna(v)]
    steps = sequential(4)  # four well-separated steps read better on a map than seven
    bounds = _classes(values, len(steps))
    groups: dict[str, list] = {}
    for feat in zones:
        code = feat["properties"]["code"]
        value = counts.get(code, 0)
        key = "masque" if pd.isna(value) else ("zero" if not value else str(_class_of(value, bounds)))
        text = f"{feat['properties']['name']} : " + (
            f"< {threshold}" if key == "masque" else fmt.number(value)
        )
        groups.setdefault(key, []).append(with_tooltip(feat, text))
    import dash_leaflet as dl

    layers = []
    for key, feats in groups.items():
        fill = {"masque": MASKED, "zero": EMPTY}.get(key) or steps[int(key)]
        layers.append(
            dl.GeoJSON(
                data={"type": "FeatureCollection", "features": feats},
                id=f"activite-zones-{key}",
                style={"color": "#333333", "weight": 1, "fillColor": fill, "fillOpacity": 0.75},
            )
        )
    context = {
        "type": "FeatureCollection",
        "features": [
            feat
            for feat in overview["outlines"]["features"]
            if feat["properties"]["level"] == "commune"
            or (level == "iris" and feat["properties"]["level"] == "qpv")
        ],
    }
    lows = [1] + [b + 1 for b in bounds[:-1]]
    items = [
        legend_item(swatch(colour), f"{fmt.number(lo)} à {fmt.number(hi)}" if hi > lo else fmt.number(hi))
        for colour, lo, hi in zip(steps, lows, bounds, strict=True)
        if hi >= lo
    ]
    if threshold:
        items.append(legend_item(swatch(MASKED), f"moins de {threshold} (masqué)"))
    legend = legend_box(
        f"Interventions par {LEVEL_LABELS[level]}",
        items,
        source_line("Source : police municipale · contours IGN, INSEE, ANCT", settings()),
    )
    return html.Div(
        [
            map_frame(
                basemap(settings()) + layers + outline_layers(context, "activite"),
                overview["bounds"],
                "activite-carte",
                height="420px",
            ),
            legend,
        ],
        className="obs-carte-bloc",
    )


@guarded_callback(
    PERMISSION, Output("activite-zones", "children"), Input("activite-niveau", "value"), *FILTERS
)
def show_zones(level, start, end, families, types):
    level = level if level in pm_activity.ZONE_LEVELS else "iris"
    f = _filters(start, end, families, types)
    threshold = _threshold()
    frame = pm_activity.by_zone(
        engine(),
        level,
        f["start"],
        f["end"],
        commune=settings().commune,
        families=f["families"],
        types=f["types"],
        threshold=threshold,
    )
    rows = [
        html.Tr(
            [
                html.Th(r.name, scope="row"),
                html.Td(r.code.split(":", 1)[-1], className="obs-pm-texte"),
                html.Td(_count_text(r.count, threshold)),
            ]
        )
        for r in frame.itertuples()
    ]
    table = html.Table(
        [
            html.Caption(f"Interventions par {LEVEL_LABELS[level]}"),
            html.Thead(
                html.Tr(
                    [
                        html.Th("Zone", scope="col"),
                        html.Th("Code", scope="col"),
                        html.Th("Interventions", scope="col"),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        className="obs-table",
        id="activite-table-zones",
    )
    note = html.P(
        "Une intervention compte dans la zone qui contient son point ; « Hors zone ou non géolocalisé » "
        "regroupe les autres."
        if level != "secteur"
        else "Secteur tel qu'écrit dans les exports de la main courante (pas de contour : pas de carte).",
        className="obs-muted obs-petit",
    )
    drawn = _zone_map(frame, level, threshold) if level != "secteur" else None
    return [drawn, html.Div([table, note], className="obs-table-alternative")] if drawn else [table, note]


def _export_frame(f: dict, threshold: int | None) -> pd.DataFrame:
    parts = []
    types = pm_activity.by_type(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    parts.append(
        pd.DataFrame(
            {
                "tableau": "par type",
                "categorie": types["family"],
                "detail": types["type"],
                "interventions": types["count"],
            }
        )
    )
    months = pm_activity.by_month(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    parts.append(
        pd.DataFrame(
            {
                "tableau": "par mois",
                "categorie": [pd.Timestamp(m).strftime("%Y-%m") for m in months["month"]],
                "detail": months["family"],
                "interventions": months["count"],
            }
        )
    )
    heat = pm_activity.weekday_hour(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    parts.append(
        pd.DataFrame(
            {
                "tableau": "jour et heure",
                "categorie": heat["weekday_label"],
                "detail": heat["hour"].map(lambda h: f"{h} h"),
                "interventions": heat["count"],
            }
        )
    )
    for level in pm_activity.ZONE_LEVELS:
        zones = pm_activity.by_zone(
            engine(),
            level,
            f["start"],
            f["end"],
            commune=settings().commune,
            families=f["families"],
            types=f["types"],
            threshold=threshold,
        )
        parts.append(
            pd.DataFrame(
                {
                    "tableau": f"par {LEVEL_LABELS[level]}",
                    "categorie": zones["code"],
                    "detail": zones["name"],
                    "interventions": zones["count"],
                }
            )
        )
    origins = pm_activity.origins(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=threshold
    )
    parts.append(
        pd.DataFrame(
            {
                "tableau": "origine",
                "categorie": origins["origin"].map(ORIGIN_LABELS),
                "detail": "",
                "interventions": origins["count"],
            }
        )
    )
    frame = pd.concat(parts, ignore_index=True)
    frame["interventions"] = frame["interventions"].map(
        lambda v: f"< {threshold}" if pd.isna(v) else str(int(v))
    )
    return frame


@guarded_callback(
    EXPORT,
    Output("activite-telechargement", "data"),
    Input("activite-csv", "n_clicks"),
    State("activite-periode", "start_date"),
    State("activite-periode", "end_date"),
    State("activite-familles", "value"),
    State("activite-types", "value"),
    prevent_initial_call=True,
)
def download(clicks, start, end, families, types):
    from dash.exceptions import PreventUpdate

    if not clicks:
        raise PreventUpdate
    f = _filters(start, end, families, types)
    frame = _export_frame(f, _threshold())
    audit_export(
        "activite-police-municipale",
        {"format": "csv", "lignes": len(frame), "debut": start or "", "fin": end or ""},
    )
    return downloads.csv_file(frame, "activite_police_municipale.csv")


register_page(
    __name__,
    path="/police-municipale",
    name="Activité police municipale",
    permission=PERMISSION,
    render=render,
    order=31,
)
