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
from observatoire import tables
from observatoire.errors import NotFound, ObservatoireError
from observatoire.police_nationale import (
    comparisons,
    evolution,
    exports,
    indicators,
    places,
    rates,
    significance,
)

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
    present = comparisons.present_indicators(engine())
    # The diagnostic's usual trio when the data has it (physical violence under the newer nomenclature
    # when loaded, else the older one), else the first indicators present.
    violence = [i for i in ("violences_physiques_hors_famille", "cbv") if i in present][:1]
    default_ind = [
        i for i in (*violence, "violences_sexuelles", "cambriolages_logement") if i in present
    ] or present[:3]
    home_label = next(
        (
            lbl
            for lbl in places.complete(engine(), settings().commune, 50)
            if lbl.endswith(f"({settings().commune})")
        ),
        settings().commune,
    )
    year_options = [{"label": str(y), "value": y} for y in years]
    controls = html.Div(
        [
            html.Label(
                [
                    "Territoire (nom de commune, de département ou de région, ou code INSEE)",
                    dcc.Input(
                        id="comparaisons-territoire",
                        value=home_label,
                        type="text",
                        list="comparaisons-territoires",
                        autoComplete="off",
                    ),
                    html.Datalist(id="comparaisons-territoires"),
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
                "année : chaque valeur vient de l'édition la plus récente des bases SSMSI qui la publie, "
                "indiquée par un renvoi.",
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


def _request(territory, ids, start, end) -> tuple[str, list[int]]:
    if not ids:
        raise ObservatoireError("Choisissez au moins un indicateur.")
    if start is None or end is None:
        raise ObservatoireError("Aucune année disponible : importez d'abord une base SSMSI.")
    code = places.resolve(engine(), str(territory or settings().commune))
    return code, list(range(min(start, end), max(start, end) + 1))


def _records_by_indicator(
    territory, ids, start, end, france, edition, levels
) -> tuple[str, list[int], dict[str, list[dict]], dict[str, str]]:
    """(code, years, records per indicator, note per indicator absent from the data)."""
    code, years = _request(territory, ids, start, end)
    found: dict[str, list[dict]] = {}
    missing: dict[str, str] = {}
    for ind in ids:
        try:
            found[ind] = rates.compare_records(
                engine(),
                ind,
                code,
                years,
                levels=levels or list(rates.LEVELS),
                edition=edition or None,
                france=france or "entiere",
            )
        except NotFound as exc:  # this indicator only: the others are still drawn
            missing[ind] = exc.message
    return code, years, found, missing


def _records(territory, ids, start, end, france, edition, levels) -> list[dict]:
    _code, _years, found, _missing = _records_by_indicator(
        territory, ids, start, end, france, edition, levels
    )
    return [r for part in found.values() for r in part]


def _chart(records: list[dict], label: str, chart_id: str) -> dcc.Graph:
    series = comparisons.rate_series(records)
    cuts = {(r["territory"], r["year"]) for r in records if r.get("break_before")}
    fig = go.Figure()
    for i, (name, part) in enumerate(series.groupby("serie", sort=False)):
        # A series break cuts the line: a gap (None) before the first year of the new definition.
        xs: list = []
        ys: list = []
        highs: list = []
        lows: list = []
        for row in part.itertuples():
            if (row.territory, row.year) in cuts and xs:
                xs.append(row.year - 0.5)
                ys.append(None)
                highs.append(None)
                lows.append(None)
            xs.append(row.year)
            ys.append(row.rate_per_1000)
            highs.append(None if pd.isna(row.ci_high) else row.ci_high - row.rate_per_1000)
            lows.append(None if pd.isna(row.ci_low) else row.rate_per_1000 - row.ci_low)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                name=markup.text(name),  # a territory's name, which Plotly reads as HTML
                mode="lines+markers",
                connectgaps=False,
                line={"color": PALETTE[i % len(PALETTE)]},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": highs,
                    "arrayminus": lows,
                    "thickness": 1,
                },
                hovertemplate="%{x} : %{y:.2f} ‰<extra>%{fullData.name}</extra>",
            )
        )
    for _code, year in sorted(cuts)[:1]:
        fig.add_vline(x=year - 0.5, line_dash="dot", line_color=CHART_GRID)
        fig.add_annotation(x=year - 0.5, y=1, yref="paper", text="rupture de série", showarrow=False)
    fig.update_layout(
        # Two lines, each escaped: the title names territories read from imported files.
        title="<br>".join(markup.text(line) for line in label.split("\n")),
        separators=", ",
        height=400,
        margin={"l": 50, "r": 20, "t": 80, "b": 40},
        yaxis_title="taux pour 1 000",
        xaxis={"dtick": 1},
        legend={"orientation": "h", "y": -0.2},
        plot_bgcolor=CHART_BACKGROUND,
        paper_bgcolor=CHART_BACKGROUND,
    )
    fig.update_yaxes(gridcolor=CHART_GRID, rangemode="tozero")
    return dcc.Graph(figure=fig, id=chart_id, config=GRAPH_CONFIG)


def _funnel_block(ind: indicators.Indicator, code: str, years: list[int], edition, france) -> html.Div:
    if not code.startswith("COM:"):
        return html.Div()
    fun = significance.funnel(
        engine(), ind.id, code, years, edition=edition or None, scope=france or "entiere"
    )
    if fun is None:
        return html.P(
            "Entonnoir des communes de même taille : aucune édition chargée ne publie ces communes avec leur "
            "nombre et leur population.",
            className="obs-muted",
            id=f"comparaisons-entonnoir-{ind.id}",
        )
    pts = fun.points
    low, high = float(pts.denominator.min()), float(pts.denominator.max())
    steps = [low + (high - low) * k / 60 for k in range(61)]
    lim = fun.limits(steps)
    fig = go.Figure()
    for col, dash, name in (
        ("high_998", "dot", "limite à 99,8 %"),
        ("low_998", "dot", None),
        ("high_95", "dash", "limite à 95 %"),
        ("low_95", "dash", None),
    ):
        fig.add_trace(
            go.Scatter(
                x=lim.denominator,
                y=lim[col],
                mode="lines",
                name=name or "",
                showlegend=name is not None,
                line={"color": OKABE_ITO["black"], "dash": dash, "width": 1},
                hoverinfo="skip",
            )
        )
    others = pts[~pts.is_commune]
    fig.add_trace(
        go.Scatter(
            x=others.denominator,
            y=others.rate_per_1000,
            mode="markers",
            name="autres communes du groupe",
            marker={"color": OKABE_ITO["blue"], "size": 7},
            text=[markup.text(n) for n in others.name],
            hovertemplate="%{text} : %{y:.2f} ‰<extra></extra>",
        )
    )
    mine = pts[pts.is_commune]
    fig.add_trace(
        go.Scatter(
            x=mine.denominator,
            y=mine.rate_per_1000,
            mode="markers",
            name=markup.text(mine.name.iloc[0] if len(mine) else code),
            marker={"color": OKABE_ITO["vermillion"], "size": 12, "symbol": "diamond"},
            hovertemplate="%{y:.2f} ‰<extra>%{fullData.name}</extra>",
        )
    )
    fig.add_hline(y=fun.group_rate, line_color=CHART_GRID)
    marks = rates.editions(engine()).set_index("code").label.to_dict()
    fig.update_layout(
        title=markup.text(f"{ind.label} {fun.year} — {fun.group.name}")
        + "<br>"
        + markup.text(f"{len(pts)} communes publiées, {marks.get(fun.edition, fun.edition)}"),
        separators=", ",
        height=380,
        margin={"l": 50, "r": 20, "t": 80, "b": 40},
        xaxis_title=f"{ind.denominator} (dénominateur)",
        yaxis_title="taux pour 1 000",
        legend={"orientation": "h", "y": -0.25},
        plot_bgcolor=CHART_BACKGROUND,
        paper_bgcolor=CHART_BACKGROUND,
    )
    fig.update_yaxes(gridcolor=CHART_GRID, rangemode="tozero")
    return html.Div(
        [
            dcc.Graph(
                figure=fig,
                id=f"comparaisons-entonnoir-{ind.id}",
                config=GRAPH_CONFIG,
            ),
            html.P(
                f"Entonnoir : la commune est {fun.position()} (taux du groupe "
                f"{formatting.number(fun.group_rate, 2)} ‰).",
                className="obs-muted",
            ),
        ]
    )


def _tests_list(part: list[dict]) -> html.Ul:
    items = []
    for t in significance.year_changes(part):
        items.append(html.Li(f"{t['territoire']}, {t['de']} → {t['a']} : {t['conclusion']}"))
    last = max((r["year"] for r in part if r["level"] == "commune" and r["count"] is not None), default=None)
    for t in significance.commune_gaps(part):
        if t["annee"] == last and t["p_value"] is not None:
            items.append(html.Li(f"Commune face à {t['territoire']} en {t['annee']} : {t['conclusion']}"))
    return html.Ul(items or [html.Li("aucun test possible (nombres ou dénominateurs inconnus)")])


def _methodology_block(records: list[dict]) -> list:
    meta = comparisons.methodology(engine(), records)
    marks = exports.edition_marks(engine(), records)
    eds = "; ".join(
        f"{m['mark']} {m['label']}" + (f" (produite le {m['date']})" if m["date"] else "")
        for m in marks.values()
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
    breaks = [html.Li(b) for b in dict.fromkeys(r["break_before"] for r in records if r.get("break_before"))]
    definitions = [
        html.Li(f"{indicators.BY_ID[i].label} ({nom}) : {text}")
        for i in dict.fromkeys(r["indicator"] for r in records)
        for nom, text in indicators.BY_ID[i].definitions
    ]
    tests = exports.tests_frame(records)
    return [
        html.P(meta["source"]),
        html.P(f"Éditions utilisées : {eds or '—'}.", id="comparaisons-editions"),
        html.P(meta.get("methode", "")),
        html.H3("Ruptures de série"),
        html.Ul(breaks + definitions or [html.Li("aucune pour ces indicateurs")]),
        html.H3("Dénominateurs"),
        html.Ul(dens),
        html.H3("Couverture des agrégats"),
        html.Ul(coverage or [html.Li("—")]),
        html.H3("Tests de significativité"),
        html.P(exports.TEST_METHOD),
        html.Ul(
            [
                html.Li(f"{t.Indicateur} — {t.Territoire}, {t.Comparaison} : {t.Conclusion} ({t.p})")
                for t in tests.itertuples(index=False)
            ]
            or [html.Li("aucun test possible")],
            id="comparaisons-tests",
        ),
        html.H3("Valeurs non publiées ou absentes"),
        html.P(meta["explication_non_publie"]),
        html.Ul(missing or [html.Li("aucune")]),
    ]


@guarded_callback(
    PERMISSION,
    Output("comparaisons-territoires", "children"),
    Input("comparaisons-territoire", "value"),
)
def complete_territory(typed):
    return [html.Option(value=label) for label in places.complete(engine(), typed)]


@guarded_callback(
    PERMISSION,
    [Output("comparaisons-resultats", "children"), Output("comparaisons-methodologie", "children")],
    Input("comparaisons-afficher", "n_clicks"),
    *FILTERS,
)
def show(_clicks, territory, ids, start, end, france, edition, levels):
    try:
        code, years, found, missing = _records_by_indicator(
            territory, ids, start, end, france, edition, levels
        )
    except ObservatoireError as exc:
        return html.Div(exc.message, className="obs-alerte obs-alerte-info", id="comparaisons-message"), []
    records = [r for part in found.values() for r in part]
    marks = exports.edition_marks(engine(), records)
    blocks = []
    for ind_id in ids:
        ind = indicators.BY_ID[ind_id]
        if ind_id in missing:
            blocks.append(
                html.Section(
                    [
                        html.H2(ind.label),
                        html.P(
                            missing[ind_id],
                            className="obs-alerte obs-alerte-info",
                            id=f"comparaisons-absent-{ind_id}",
                        ),
                    ],
                    className="obs-bloc",
                )
            )
            continue
        part = found[ind_id]
        place = next((r["territory_name"] for r in part), code)
        used = [m for e, m in marks.items() if any(r["edition"] == e for r in part)]
        title = (
            f"{ind.label} — {place}, {years[0]}–{years[-1]} — taux pour 1 000 {ind.denominator} "
            f"(éditions : {'; '.join(m['label'] for m in used) or '—'})"
        )
        table = exports.marked_table(part, marks)
        blocks.append(
            html.Section(
                [
                    html.H2(ind.label + (" (indicateur sensible)" if ind.sensitive else "")),
                    _chart(
                        part,
                        f"{ind.label} — {place}, {years[0]}–{years[-1]}\n"
                        f"taux pour 1 000 {ind.denominator} ; éditions : "
                        + "; ".join(f"{m['mark']} {m['label']}" for m in used),
                        f"comparaisons-graphique-{ind_id}",
                    ),
                    frame_table(table, title, f"comparaisons-table-{ind_id}", index_header="Territoire"),
                    html.Ul(
                        [html.Li(n) for n in exports.footnotes(part, marks)],
                        className="obs-source",
                        id=f"comparaisons-renvois-{ind_id}",
                    ),
                    html.H3("L'évolution est-elle réelle ?"),
                    _tests_list(part),
                    _funnel_block(ind, code, years, edition, france),
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
    try:
        code = places.resolve(engine(), str(territory or settings().commune))
    except ObservatoireError as exc:
        return html.Div(exc.message, className="obs-alerte obs-alerte-info")
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
            f"{frame.attrs['grouping_label']} — {places.name_of(engine(), code)}",
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
    marks = exports.edition_marks(engine(), records)
    frame = exports.export_frame(records, marks)
    as_xlsx = ctx.triggered_id == "comparaisons-xlsx"
    audit_export(
        "comparaisons",
        {"format": "xlsx" if as_xlsx else "csv", "lignes": len(frame), "indicateurs": ",".join(ids or [])},
    )
    if as_xlsx:
        book = tables.to_xlsx_sheets(
            [
                (frame, "comparaisons", "Comparaisons des taux pour 1 000", comparisons.SOURCE_LINE),
                (
                    exports.sources_frame(engine(), records, marks),
                    "Sources et méthode",
                    "Sources et méthode",
                    None,
                ),
            ]
        )
        return dcc.send_bytes(book, "comparaisons.xlsx")
    return downloads.csv_file(frame, "comparaisons.csv")


register_page(
    __name__, path="/comparaisons", name="Comparaisons", permission=PERMISSION, render=render, order=20
)
