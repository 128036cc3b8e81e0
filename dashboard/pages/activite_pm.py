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
from dashboard.components.graphs import GRAPH_CONFIG
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
from observatoire import disclosure
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


def _count_text(value, threshold: int | None, state: int = disclosure.SHOWN) -> str:
    """A count as the reader gets it: the number, « < 5 » or « non diffusé » (the library decided which)."""
    if state == disclosure.SECONDARY:
        return disclosure.SECONDARY_LABEL
    if state == disclosure.PRIMARY or value is None or (isinstance(value, float) and math.isnan(value)):
        return f"< {threshold}" if threshold else "0"
    return fmt.number(value)


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
                f"Secret statistique : « < {_threshold()} » se lit « de 0 à {_threshold() - 1} » (les effectifs de "
                f"1 à {_threshold() - 1} sont masqués, un 0 parfois aussi) ; « {disclosure.SECONDARY_LABEL} » : un "
                f"effectif d'au moins {_threshold()} masqué à son tour, pour qu'aucun petit effectif ne se retrouve "
                "par soustraction d'un total ou d'une autre période. Les périodes sont des mois, trimestres ou "
                "années entiers : une période au jour près permettrait de dater les interventions par différence.",
                className="obs-alerte obs-alerte-info",
                id="activite-masquage",
            )
        ]
        years = list(range(first.year, last.year + 1))
        period_control = [
            html.Label(
                [
                    "Année",
                    dropdown(
                        id="activite-annee",
                        clearable=False,
                        value="tout",
                        options=[{"label": "Toute la période", "value": "tout"}]
                        + [{"label": str(y), "value": y} for y in years],
                    ),
                ]
            ),
            html.Label(
                [
                    "Mois ou trimestre",
                    dropdown(
                        id="activite-partie",
                        clearable=False,
                        value="annee",
                        options=[{"label": label, "value": key} for key, label in disclosure.YEAR_PARTS],
                    ),
                ]
            ),
            # The callbacks read the period from here, for every role; the server widens it anyway.
            html.Div(dcc.DatePickerRange(id="activite-periode"), hidden=True),
        ]
    else:
        period_control = [
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
                    *period_control,
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


@guarded_callback(
    PERMISSION,
    [Output("activite-periode", "start_date"), Output("activite-periode", "end_date")],
    Input("activite-annee", "value"),
    Input("activite-partie", "value"),
    prevent_initial_call=True,
)
def pick_period(year, part):
    """The aggregate-only roles' year and part of year as the dates the other callbacks read."""
    try:
        period = disclosure.period_of_choice(year, part)
    except ValueError:
        return None, None
    if period.start is None or period.end is None:
        return None, None
    return period.start.isoformat(), period.end.isoformat()


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
    return dcc.Graph(figure=fig, id=chart_id, config=GRAPH_CONFIG)


def _summary_block(r: pm_activity.Report) -> html.Dl:
    threshold = r.threshold
    if r.period is not None:
        period = r.period.label[:1].upper() + r.period.label[1:]
    else:
        period = f"{fmt.day(r.first)} – {fmt.day(r.last)}" if r.first else "—"

    def figure(name: str) -> str:
        value, state = r.summary[name]
        return _count_text(value, threshold, state)

    facts = [
        ("Interventions", figure("total")),
        ("Période couverte" if r.period is None else "Période", period),
        ("Placées sur la carte", figure("placees")),
        ("Non géolocalisées", figure("non_geo")),
        ("Heure inconnue", figure("heure_inconnue")),
        ("Nature non classée", figure("non_classees")),
    ]
    return html.Dl(
        [item for label, value in facts for item in (html.Dt(label), html.Dd(value))],
        className="obs-chiffres-cles",
        id="activite-chiffres",
    )


def _shown(frame: pd.DataFrame) -> list:
    """Counts for a chart: masked ones left out (no bar), never drawn as 0."""
    return [
        None if state != disclosure.SHOWN else v
        for v, state in zip(frame["count"], frame["state"], strict=True)
    ]


def _types_block(r: pm_activity.Report) -> html.Section:
    threshold = r.threshold
    colour = _family_colours()
    total, total_state = r.summary["total"]
    fam_rows = [
        html.Tr(
            [
                html.Th(
                    [
                        html.Span(className="obs-pm-pastille", style={"background": colour[f.family]}),
                        f.family,
                    ],
                    scope="row",
                ),
                html.Td(_count_text(f.count, threshold, f.state)),
                html.Td(
                    fmt.percent(100 * f.count / total)
                    if f.state == disclosure.SHOWN and total_state == disclosure.SHOWN and total
                    else ""
                ),
            ]
        )
        for f in r.families.itertuples()
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
                html.Th(t.type + (" (catégorie sensible)" if t.sensitive else ""), scope="row"),
                html.Td(t.family, className="obs-pm-texte"),
                html.Td(_count_text(t.count, threshold, t.state)),
            ]
        )
        for t in r.types.itertuples()
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
        list(r.types["type"]),
        _shown(r.types),
        [colour[fam] for fam in r.types["family"]],
        "Interventions par type (couleur : famille)",
        "activite-graphique-types",
        max(260, 60 + 24 * len(r.types)),
    )
    return html.Section(
        [
            html.H2("Par famille et type"),
            chart,
            html.Div([fam_table, type_table], className="obs-pm-deux-tables"),
        ],
        className="obs-bloc",
    )


def _months_block(r: pm_activity.Report) -> html.Section:
    threshold = r.threshold
    if r.month_totals.empty:
        return html.Section(
            [html.H2("Par mois"), html.P("Aucune intervention sur la période.")], className="obs-bloc"
        )
    colour = _family_colours()
    families = [fam for fam in colour if fam in set(r.months["family"])]
    fig = go.Figure()
    for fam in families:
        part = r.months[r.months["family"] == fam]
        fig.add_trace(
            go.Bar(
                x=[pd.Timestamp(m) for m in part["month"]],
                y=_shown(part),
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
    cells = {(pd.Timestamp(m.month), m.family): m for m in r.months.itertuples()}
    header = (
        [html.Th("Mois", scope="col")]
        + [html.Th(fam, scope="col") for fam in families]
        + [html.Th("Total", scope="col")]
    )
    rows = []
    for month in r.month_totals.itertuples():
        row = [html.Th(_month_label(month.month), scope="row")]
        for fam in families:
            cell = cells.get((pd.Timestamp(month.month), fam))
            row.append(html.Td(_count_text(cell.count, threshold, cell.state) if cell else "0"))
        row.append(html.Td(_count_text(month.count, threshold, month.state)))
        rows.append(html.Tr(row))
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
            dcc.Graph(figure=fig, id="activite-graphique-mois", config=GRAPH_CONFIG),
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


def _heat_block(r: pm_activity.Report) -> html.Section:
    threshold = r.threshold
    frame = r.heat
    values = [
        float(v) for v, state in zip(frame["count"], frame["state"], strict=True) if state == disclosure.SHOWN
    ]
    bounds = _classes(values, len(SEQUENTIAL))
    grid = {(c.weekday, c.hour): c for c in frame.itertuples()}
    rows = []
    for day in range(1, 8):
        cells = [html.Th(pm_activity.WEEKDAYS[day - 1], scope="row")]
        for hour in range(24):
            cell = grid.get((day, hour))
            value = cell.count if cell is not None else 0
            if cell is not None and cell.state != disclosure.SHOWN:
                cells.append(
                    html.Td(
                        _count_text(value, threshold, cell.state),
                        className="obs-pm-masque",
                        style={"background": MASKED},
                    )
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
                    f"moins de {threshold} (masqué), ou {disclosure.SECONDARY_LABEL}",
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


def _origins_block(r: pm_activity.Report) -> html.Section:
    threshold = r.threshold
    frame = r.origins
    labels = [ORIGIN_LABELS.get(o, o) for o in frame["origin"]]
    rows = [
        html.Tr([html.Th(label, scope="row"), html.Td(_count_text(n, threshold, state))])
        for label, n, state in zip(labels, frame["count"], frame["state"], strict=True)
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
        _shown(frame),
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
    r = pm_activity.report(
        engine(), f["start"], f["end"], families=f["families"], types=f["types"], threshold=_threshold()
    )
    return [_summary_block(r), _types_block(r), _months_block(r), _heat_block(r), _origins_block(r)]


def _state(row) -> int:
    """A row's state when the library masked it (aggregate-only roles), else shown."""
    return int(getattr(row, "state", disclosure.SHOWN))


def _zone_map(frame: pd.DataFrame, level: str, threshold: int | None) -> html.Div | None:
    from observatoire.territories import commune_overview

    overview = commune_overview(engine(), settings().commune_code)
    zones = [feat for feat in overview["outlines"]["features"] if feat["properties"]["level"] == level]
    if not zones:
        return None
    counts = {r.code: (r.count, _state(r)) for r in frame.itertuples()}
    values = [float(v) for v, state in counts.values() if state == disclosure.SHOWN and not pd.isna(v)]
    steps = sequential(4)  # four well-separated steps read better on a map than seven
    bounds = _classes(values, len(steps))
    groups: dict[str, list] = {}
    for feat in zones:
        code = feat["properties"]["code"]
        value, state = counts.get(code, (0, disclosure.SHOWN))
        masked = state != disclosure.SHOWN or pd.isna(value)
        key = "masque" if masked else ("zero" if not value else str(_class_of(value, bounds)))
        text = f"{feat['properties']['name']} : " + _count_text(value, threshold, state)
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
        items.append(
            legend_item(swatch(MASKED), f"moins de {threshold} (masqué), ou {disclosure.SECONDARY_LABEL}")
        )
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
                html.Td(_count_text(r.count, threshold, _state(r))),
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
