"""Comparaisons: rates per 1,000 of the commune against département, région, size group and France."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from dashboard.components import downloads, formatting, markup
from dashboard.components.controls import dropdown
from dashboard.components.graphs import GRAPH_CONFIG
from dashboard.components.palette import CHART_BACKGROUND, CHART_GRID, OKABE_ITO
from dashboard.components.tables import frame_table
from dashboard.context import audit_export, engine, settings
from dashboard.security import can, guarded_callback, register_page
from observatoire.errors import ObservatoireError
from observatoire.police_nationale import comparisons, evolution, indicators, rates

PERMISSION = "stats.voir"
EXPORT = "stats.exporter"
PALETTE = [OKABE_ITO[name] for name in ("blue", "vermillion", "bluish_green", "reddish_purple", "black")]
FILTERS = [
    State("comparaisons-territoire", "value"),
    State("comparaisons-indicateurs", "value"),
    State("comparaisons-debut", "value"),
    State("comparaisons-fin", "value"),
    State("comparaisons-france", "value"),
    State("comparaisons-edition", "value"),
    State("comparaisons-niveaux", "value"),
]


def _editions() -> pd.DataFrame:
    return rates.editions(engine())


def render(**_params) -> html.Div:
    eds = _editions()
    years = (
        list(range(int(eds.first_year.min()), int(eds.last_year.max()) + 1))
        if len(eds) and eds.first_year.notna().any()
        else []
    )
    try:
        _edition, present = comparisons.available_indicators(engine(), settings().commune_code)
    except ObservatoireError:
        present = []
    # The diagnostic's usual trio when the newest edition has it, else its first indicators.
    default_ind = [
        i
        for i in (
            "cbv",
            "violences_physiques_hors_cadre_familial",
            "violences_sexuelles",
            "cambriolages_logement",
        )
        if i in present
    ][:3] or present[:3]
    year_options = [{"label": str(y), "value": y} for y in years]
    controls = html.Div(
        [
            html.Label(
                [
                    "Territoire (code INSEE ou DEP:04, REG:93…)",
                    dcc.Input(
                        id="comparaisons-territoire", value=settings().commune, debounce=True, type="text"
                    ),
                ]
            ),
            html.Label(
                [
                    "Indicateurs",
                    dropdown(
                        id="comparaisons-indicateurs",
                        multi=True,
                        value=default_ind,
                        options=[
                            {
                                "label": i.label + ("" if i.id in present else " (absent des données)"),
                                "value": i.id,
                            }
                            for i in indicators.INDICATORS
                        ],
                    ),
                ],
                className="obs-large",
            ),
            html.Label(
                [
                    "De",
                    dropdown(
                        id="comparaisons-debut",
                        options=year_options,
                        clearable=False,
                        value=years[max(0, len(years) - 5)] if years else None,
                    ),
                ]
            ),
            html.Label(
                [
                    "À",
                    dropdown(
                        id="comparaisons-fin",
                        options=year_options,
                        clearable=False,
                        value=years[-1] if years else None,
                    ),
                ]
            ),
            html.Label(
                [
                    "Édition",
                    dropdown(
                        id="comparaisons-edition",
                        clearable=True,
                        placeholder="la plus récente",
                        options=[
                            {"label": f"{r.label or r.code}", "value": r.code} for r in eds.itertuples()
                        ],
                    ),
                ]
            ),
            html.Fieldset(
                [
                    html.Legend("France"),
                    dcc.RadioItems(
                        id="comparaisons-france",
                        value="entiere",
                        inline=True,
                        options=[
                            {"label": " entière", "value": "entiere"},
                            {"label": " métropolitaine", "value": "metropole"},
                        ],
                    ),
                ]
            ),
            html.Fieldset(
                [
                    html.Legend("Lignes"),
                    dcc.Checklist(
                        id="comparaisons-niveaux",
                        value=list(rates.LEVELS),
                        inline=True,
                        options=[
                            {"label": f" {comparisons.LEVEL_LABELS[lv]}", "value": lv} for lv in rates.LEVELS
                        ],
                    ),
                ]
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
                        "Télécharger en CSV", id="comparaisons-csv", className="obs-bouton-secondaire"
                    ),
                    html.Button(
                        "Télécharger en XLSX", id="comparaisons-xlsx", className="obs-bouton-secondaire"
                    ),
                    dcc.Download(id="comparaisons-telechargement"),
                ],
                className="obs-actions",
            )
        ]
    return html.Div(
        [
            html.H1("Comparaisons territoriales"),
            html.P(
                "Taux pour 1 000 habitants (pour 1 000 logements pour les cambriolages de logement), année par "
                "année, d'une seule édition des bases SSMSI.",
                className="obs-muted",
            ),
            controls,
            html.Button("Afficher", id="comparaisons-afficher", className="obs-bouton"),
            *downloads,
            dcc.Loading(html.Div(id="comparaisons-resultats")),
            html.H2("Évolution des faits constatés (état 4001)"),
            html.Div(
                [
                    dcc.RadioItems(
                        id="comparaisons-regroupement",
                        value="avip",
                        inline=True,
                        options=[
                            {"label": f" {g.label}", "value": g.id} for g in indicators.GROUPINGS.values()
                        ],
                    ),
                ],
                className="obs-filtres",
            ),
            dcc.Loading(html.Div(id="comparaisons-evolution")),
            html.Details(
                [html.Summary("Méthodologie"), html.Div(id="comparaisons-methodologie")],
                className="obs-methodologie",
                open=True,
            ),
        ]
    )


def _records(territory, ids, start, end, france, edition, levels) -> list[dict]:
    if not ids:
        raise ObservatoireError("Choisissez au moins un indicateur.")
    if start is None or end is None:
        raise ObservatoireError("Aucune année disponible : importez d'abord une base SSMSI.")
    code = rates.parse_territory(str(territory or settings().commune))
    years = list(range(min(start, end), max(start, end) + 1))
    records: list[dict] = []
    for ind in ids:
        records += rates.compare_records(
            engine(),
            ind,
            code,
            years,
            levels=levels or list(rates.LEVELS),
            edition=edition or None,
            france=france or "entiere",
        )
    return records


def _chart(records: list[dict], label: str, chart_id: str) -> dcc.Graph:
    series = comparisons.rate_series(records)
    fig = go.Figure()
    for i, (name, part) in enumerate(series.groupby("serie", sort=False)):
        fig.add_trace(
            go.Scatter(
                x=part.year,
                y=part.rate_per_1000,
                name=markup.text(name),  # a territory's name, which Plotly reads as HTML
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)]},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": part.ci_high - part.rate_per_1000,
                    "arrayminus": part.rate_per_1000 - part.ci_low,
                    "thickness": 1,
                },
                hovertemplate="%{x} : %{y:.2f} ‰<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        title=label,
        separators=", ",
        height=360,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        yaxis_title="taux pour 1 000",
        xaxis={"dtick": 1},
        legend={"orientation": "h", "y": -0.2},
        plot_bgcolor=CHART_BACKGROUND,
        paper_bgcolor=CHART_BACKGROUND,
    )
    fig.update_yaxes(gridcolor=CHART_GRID, rangemode="tozero")
    return dcc.Graph(figure=fig, id=chart_id, config=GRAPH_CONFIG)


def _methodology_block(records: list[dict]) -> list:
    meta = comparisons.methodology(engine(), records)
    eds = ", ".join(
        f"{e['libelle'] or e['code']}" + (f" (produite le {e['date']})" if e["date"] else "")
        for e in meta["editions"]
    )
    dens = [
        html.Li(
            f"{d['niveau']} — {d['territoire']} : {d['indicateur']}, pour 1 000 {d['denominateur']}, "
            f"millésime {d['millesimes']}"
        )
        for d in meta["denominateurs"]
    ]
    missing = [
        html.Li(f"{u['territoire']}, {u['indicateur']}, {u['annee']} : {u['raison']}")
        for u in meta["non_publie"]
    ]
    # One line per aggregate and coverage, with its years, rather than one line per year.
    grouped: dict[str, list[int]] = {}
    for c in meta["couverture"]:
        text = f"{c['niveau']} — {c['territoire']} : {c['couverture']}" + (
            f" ({c['note']})" if c["note"] else ""
        )
        grouped.setdefault(text, []).append(c["annee"])
    coverage = [
        html.Li(f"{text} — {', '.join(str(y) for y in sorted(set(years)))}")
        for text, years in grouped.items()
    ]
    return [
        html.P(meta["source"]),
        html.P(f"Édition utilisée : {eds or '—'}."),
        html.P(meta.get("methode", "")),
        html.H3("Dénominateurs"),
        html.Ul(dens),
        html.H3("Couverture des agrégats"),
        html.Ul(coverage or [html.Li("—")]),
        html.H3("Valeurs non publiées ou absentes"),
        html.P(meta["explication_non_publie"]),
        html.Ul(missing or [html.Li("aucune")]),
    ]


@guarded_callback(
    PERMISSION,
    [Output("comparaisons-resultats", "children"), Output("comparaisons-methodologie", "children")],
    Input("comparaisons-afficher", "n_clicks"),
    *FILTERS,
)
def show(_clicks, territory, ids, start, end, france, edition, levels):
    try:
        records = _records(territory, ids, start, end, france, edition, levels)
    except ObservatoireError as exc:
        return html.Div(exc.message, className="obs-alerte obs-alerte-info", id="comparaisons-message"), []
    blocks = []
    for ind_id in dict.fromkeys(r["indicator"] for r in records):
        part = [r for r in records if r["indicator"] == ind_id]
        ind = indicators.BY_ID[ind_id]
        table = comparisons.diagnostic_table(part)
        caption = f"{ind.label} — taux pour 1 000 {ind.denominator} (édition {part[0]['edition']})"
        blocks.append(
            html.Section(
                [
                    html.H2(ind.label + (" (indicateur sensible)" if ind.sensitive else "")),
                    _chart(part, caption, f"comparaisons-graphique-{ind_id}"),
                    frame_table(table, caption, f"comparaisons-table-{ind_id}", index_header="Territoire"),
                    html.P(comparisons.SOURCE_LINE, className="obs-source"),
                ],
                className="obs-bloc",
            )
        )
    return blocks, _methodology_block(records)


@guarded_callback(
    PERMISSION,
    Output("comparaisons-evolution", "children"),
    Input("comparaisons-regroupement", "value"),
    Input("comparaisons-afficher", "n_clicks"),
    State("comparaisons-territoire", "value"),
    State("comparaisons-debut", "value"),
    State("comparaisons-fin", "value"),
)
def show_evolution(grouping, _clicks, territory, start, end):
    code = rates.parse_territory(str(territory or settings().commune))
    if start is None or end is None:
        return html.Div("Aucune année disponible.", className="obs-alerte obs-alerte-info")
    frame = evolution.evolution_table(engine(), grouping or "avip", code, min(start, end), max(start, end))
    if frame.count_from.isna().all() and frame.count_to.isna().all():
        return html.Div(
            f"Aucun comptage état 4001 chargé pour {code} en {min(start, end)} et {max(start, end)} "
            "(observatoire import etat4001 FICHIER).",
            className="obs-alerte obs-alerte-info",
            id="comparaisons-evolution-vide",
        )
    view = pd.DataFrame(
        {
            str(frame.year_from.iloc[0]): frame.count_from.map(formatting.number),
            str(frame.year_to.iloc[0]): frame.count_to.map(formatting.number),
            "Différence": frame.difference.map(formatting.signed),
            "Évolution": frame.change_pct.map(formatting.percent),
            "Index de l'état 4001": frame["indexes"],
        }
    )
    view.index = list(frame.label)
    return [
        frame_table(
            view,
            f"{frame.attrs['grouping_label']} — {code}",
            "comparaisons-table-evolution",
            index_header="Catégorie",
        ),
        html.P(evolution.SOURCE_LINE, className="obs-source"),
    ]


@guarded_callback(
    EXPORT,
    Output("comparaisons-telechargement", "data"),
    Input("comparaisons-csv", "n_clicks"),
    Input("comparaisons-xlsx", "n_clicks"),
    *FILTERS,
    prevent_initial_call=True,
)
def download(csv_clicks, xlsx_clicks, territory, ids, start, end, france, edition, levels):
    from dash import ctx

    records = _records(territory, ids, start, end, france, edition, levels)
    frame = pd.DataFrame(records)
    as_xlsx = ctx.triggered_id == "comparaisons-xlsx"
    audit_export(
        "comparaisons",
        {"format": "xlsx" if as_xlsx else "csv", "lignes": len(frame), "indicateurs": ",".join(ids or [])},
    )
    if as_xlsx:
        return downloads.xlsx_file(
            frame,
            "comparaisons.xlsx",
            "comparaisons",
            title="Comparaisons des taux pour 1 000",
            source=comparisons.SOURCE_LINE,
        )
    return downloads.csv_file(frame, "comparaisons.csv")


register_page(
    __name__, path="/comparaisons", name="Comparaisons", permission=PERMISSION, render=render, order=20
)
