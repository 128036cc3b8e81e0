"""Plan d'actions: progress by axis and fiche, indicator values by year, the yearly entry and its validation,
the observed series tied to the indicators, and the evaluations of placed actions."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html
from flask_login import current_user

from dashboard.components import markup
from dashboard.components.controls import dropdown
from dashboard.components.graphs import GRAPH_CONFIG
from dashboard.components.palette import CHART_BACKGROUND, CHART_GRID, OKABE_ITO
from dashboard.components.tables import frame_table
from dashboard.context import audit_export, engine, settings
from dashboard.security import can, current_role, guarded_callback, register_page
from observatoire import disclosure, french
from observatoire.errors import ObservatoireError
from observatoire.strategy import entries, evaluation, plan, plenary

PERMISSION = "actions.voir"
ENTER = "actions.gerer"
VALIDATE = "actions.valider"
EXPORT = "actions.exporter"
PROGRESS_COLOURS = {
    "realisees": OKABE_ITO["bluish_green"],
    "en_cours": OKABE_ITO["sky_blue"],
    "autres": OKABE_ITO["grey"],
}


def _message(text: str, kind: str = "info") -> html.Div:
    return html.Div(text, className=f"obs-alerte obs-alerte-{kind}", role="status")


def _entry_form(indicators: pd.DataFrame) -> html.Section:
    options = [
        {"label": f"Fiche {r.fiche} – n° {r.position} : {r.label[:90]}", "value": f"{r.fiche}|{r.position}"}
        for r in indicators.itertuples()
    ]
    return html.Section(
        [
            html.H2("Saisir une valeur (brouillon)"),
            html.Label(["Indicateur", dropdown(id="plan-actions-indicateur", options=options)]),
            html.Label(
                [
                    "Valeur (nombre, oui/non, ou appréciation : "
                    + ", ".join(entries.SCALE_LABELS.values())
                    + ")",
                    dcc.Input(id="plan-actions-valeur", type="text", debounce=False),
                ]
            ),
            html.Label(
                [
                    "Avancement",
                    dropdown(
                        id="plan-actions-avancement",
                        options=[{"label": v, "value": v} for v in plan.PROGRESS_LABELS.values()],
                        value="En cours",
                        clearable=False,
                    ),
                ]
            ),
            html.Label(["Source", dcc.Input(id="plan-actions-source", type="text")]),
            html.Button("Enregistrer", id="plan-actions-enregistrer", className="obs-bouton"),
        ],
        className="obs-formulaire",
        id="plan-actions-saisie",
    )


def _validation_form(indicators: pd.DataFrame) -> html.Section:
    options = [
        {"label": f"Fiche {r.fiche} – n° {r.position} : {r.label[:90]}", "value": f"{r.fiche}|{r.position}"}
        for r in indicators.itertuples()
    ]
    return html.Section(
        [
            html.H2("Validation par les membres statutaires"),
            html.P(
                "Valider verrouille les valeurs de l'année : elles ne changent ensuite que par une réouverture "
                "motivée, inscrite au journal.",
                className="obs-muted",
            ),
            html.Button(
                "Valider les brouillons de l'année", id="plan-actions-valider", className="obs-bouton"
            ),
            html.Details(
                [
                    html.Summary("Rouvrir une valeur validée"),
                    html.Label(
                        ["Indicateur", dropdown(id="plan-actions-rouvrir-indicateur", options=options)]
                    ),
                    html.Label(["Motif (obligatoire)", dcc.Input(id="plan-actions-motif", type="text")]),
                    html.Button("Rouvrir", id="plan-actions-rouvrir", className="obs-bouton"),
                ]
            ),
        ],
        className="obs-formulaire",
        id="plan-actions-validation",
    )


def render(**_params) -> html.Div:
    try:
        indicators = plan.indicators(engine())
    except ObservatoireError as exc:
        return html.Div([html.H1("Plan d'actions"), _message(exc.message)])
    found = plan.strategies(engine())
    current = found[0]
    years = list(range(current["first_year"], current["last_year"] + 1))
    this_year = min(max(date.today().year - 1, years[0]), years[-1])
    values = entries.values(engine())
    if len(values):
        this_year = int(values["year"].max())
    blocks: list = [
        html.H1("Plan d'actions"),
        html.P(
            current["label"]
            + (
                ""
                if str(current["first_year"]) in current["label"]
                else f" ({current['first_year']}–{current['last_year']})"
            ),
            id="plan-actions-strategie",
        ),
        html.Label(
            [
                "Année",
                dropdown(
                    id="plan-actions-annee",
                    options=[{"label": str(y), "value": y} for y in years],
                    value=this_year,
                    clearable=False,
                ),
            ]
        ),
        html.Div(
            [
                html.Button("Tableau plénier (XLSX)", id="plan-actions-xlsx", className="obs-bouton"),
                html.Button("Tableau plénier (PDF)", id="plan-actions-pdf", className="obs-bouton"),
                html.Button(
                    "Tableau plénier à imprimer (HTML)", id="plan-actions-html", className="obs-bouton"
                ),
                dcc.Download(id="plan-actions-telechargement"),
            ],
            className="obs-telechargements",
        ),
        html.Div(id="plan-actions-avancement-axes"),
    ]
    if can(ENTER):
        blocks.append(_entry_form(indicators))
    blocks.append(html.Div(id="plan-actions-message-saisie"))
    if can(VALIDATE):
        blocks.append(_validation_form(indicators))
    blocks.append(html.Div(id="plan-actions-message-validation"))
    blocks += [
        html.Div(id="plan-actions-fiches"),
        _evaluations(),
        html.Div(id="plan-actions-suivi"),
        html.Div(id="plan-actions-journal"),
    ]
    return html.Div(blocks)


def _axis_chart(rows: list[dict], year: int) -> html.Div:
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    for key, name in (("realisees", "Réalisées"), ("en_cours", "En cours")):
        fig.add_bar(
            y=[markup.text(a) for a in frame["axe"]],
            x=frame[key],
            name=name,
            orientation="h",
            marker_color=PROGRESS_COLOURS[key],
        )
    fig.add_bar(
        y=[markup.text(a) for a in frame["axe"]],
        x=frame["indicateurs"] - frame["realisees"] - frame["en_cours"],
        name="Non renseignées, non démarrées ou abandonnées",
        orientation="h",
        marker_color=PROGRESS_COLOURS["autres"],
    )
    fig.update_layout(
        barmode="stack",
        height=380,
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
        plot_bgcolor=CHART_BACKGROUND,
        xaxis={"gridcolor": CHART_GRID, "title": "Indicateurs"},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": -0.3, "x": 0},
        title=f"Avancement des indicateurs par axe – {year}",
    )
    table = frame.rename(
        columns={
            "axe": "Axe",
            "fiches": "Fiches",
            "indicateurs": "Indicateurs",
            "renseignes": f"Renseignés {year}",
            "valides": "Validés",
            "realisees": "Réalisés",
            "en_cours": "En cours",
        }
    ).set_index("Axe")
    return html.Div(
        [
            dcc.Graph(figure=fig, config=GRAPH_CONFIG, id="plan-actions-graphique-axes"),
            html.Details(
                [
                    html.Summary("Tableau des données du graphique"),
                    frame_table(table, f"Avancement par axe, {year}", "plan-actions-table-axes", "Axe"),
                ],
                open=False,
                className="obs-table-alternative",
            ),
        ]
    )


@guarded_callback(
    PERMISSION,
    [
        Output("plan-actions-avancement-axes", "children"),
        Output("plan-actions-fiches", "children"),
        Output("plan-actions-suivi", "children"),
        Output("plan-actions-journal", "children"),
    ],
    Input("plan-actions-annee", "value"),
    Input("plan-actions-message-saisie", "children"),
    Input("plan-actions-message-validation", "children"),
)
def show(year, _saved, _validated):
    year = int(year)
    indicators = plan.indicators(engine())
    values = entries.values(engine())
    rows = entries.progress_by_axis(values, indicators, year)
    table = plenary.plenary_table(engine(), year, commune=settings().commune)
    shown = table.drop(columns=["Axe", "Action"]).set_index("Fiche")
    by_fiche = entries.progress_by_fiche(values, indicators, year)
    trends = table.groupby("Fiche", sort=False)["Tendance observée"].agg(
        lambda t: " ; ".join(x for x in t if x)
    )
    by_fiche["Tendance observée"] = by_fiche["Fiche"].map(trends).fillna("")
    fiches = html.Div(
        [
            html.H2(f"Avancement par fiche-action – {year}"),
            frame_table(
                by_fiche.set_index("Fiche"),
                f"Indicateurs renseignés, réalisés et validés en {year}",
                "plan-actions-table-fiches",
                "Fiche",
            ),
        ]
    )
    suivi = html.Div(
        [
            html.H2(f"Indicateurs de suivi – {year}"),
            frame_table(
                shown,
                f"Valeurs {year - 1} et {year} de chaque indicateur, avancement et validation",
                "plan-actions-table-suivi",
                "Fiche",
            ),
        ]
    )
    log = entries.log(engine(), limit=30)
    journal = html.Details(
        [
            html.Summary("Journal des saisies, validations et réouvertures (30 dernières)"),
            frame_table(
                pd.DataFrame(
                    {
                        "Quand": [french.moment(t) for t in log["at"]],
                        "Action": log["action"].str.replace("reouverture", "réouverture"),
                        "Par": log["user_login"].fillna("?"),
                        "Fiche": log["fiche"],
                        "Indicateur": log["position"],
                        "Année": log["year"],
                        "Motif": log["reason"].fillna(""),
                    }
                ).set_index("Quand"),
                "Journal du suivi",
                "plan-actions-table-journal",
                "Quand",
            ),
        ]
    )
    return _axis_chart(rows, year), fiches, suivi, journal


@guarded_callback(
    ENTER,
    Output("plan-actions-message-saisie", "children"),
    Input("plan-actions-enregistrer", "n_clicks"),
    State("plan-actions-indicateur", "value"),
    State("plan-actions-annee", "value"),
    State("plan-actions-valeur", "value"),
    State("plan-actions-avancement", "value"),
    State("plan-actions-source", "value"),
    prevent_initial_call=True,
)
def save(_clicks, indicator, year, value, progress, source):
    if not indicator:
        return _message("Choisissez un indicateur.", "erreur")
    fiche, position = indicator.split("|")
    try:
        entries.enter(
            engine(),
            fiche,
            int(position),
            int(year),
            value or "",
            progress or "",
            source=source,
            user=current_user.login,
        )
    except ObservatoireError as exc:
        return _message(exc.message, "erreur")
    return _message(
        f"Fiche {fiche}, indicateur n° {position}, {year} : valeur enregistrée en brouillon.", "info"
    )


@guarded_callback(
    VALIDATE,
    Output("plan-actions-message-validation", "children"),
    Input("plan-actions-valider", "n_clicks"),
    Input("plan-actions-rouvrir", "n_clicks"),
    State("plan-actions-annee", "value"),
    State("plan-actions-rouvrir-indicateur", "value"),
    State("plan-actions-motif", "value"),
    prevent_initial_call=True,
)
def validate(_validate, _reopen, year, indicator, reason):
    from dash import ctx

    try:
        if ctx.triggered_id == "plan-actions-rouvrir":
            if not indicator:
                return _message("Choisissez l'indicateur à rouvrir.", "erreur")
            fiche, position = indicator.split("|")
            entries.reopen(
                engine(),
                fiche,
                int(position),
                int(year),
                reason or "",
                user=current_user.login,
                role=current_role(),
            )
            return _message(
                f"Fiche {fiche}, indicateur n° {position}, {year} : valeur rouverte (brouillon).", "info"
            )
        n = entries.validate_year(engine(), int(year), user=current_user.login, role=current_role())
    except ObservatoireError as exc:
        return _message(exc.message, "erreur")
    return _message(f"{n} valeur(s) de {year} validée(s) et verrouillée(s).", "info")


@guarded_callback(
    EXPORT,
    Output("plan-actions-telechargement", "data"),
    Input("plan-actions-xlsx", "n_clicks"),
    Input("plan-actions-html", "n_clicks"),
    Input("plan-actions-pdf", "n_clicks"),
    State("plan-actions-annee", "value"),
    prevent_initial_call=True,
)
def download(_xlsx, _html, _pdf, year):
    from dash import ctx

    year = int(year)
    fmt = {"plan-actions-html": "html", "plan-actions-pdf": "pdf"}.get(str(ctx.triggered_id), "xlsx")
    as_html = fmt == "html"
    audit_export("/plan-actions", {"annee": year, "format": fmt})
    if fmt == "pdf":
        return dcc.send_bytes(
            plenary.plenary_pdf(engine(), year, commune=settings().commune), f"suivi-plan-actions-{year}.pdf"
        )
    if as_html:
        page = plenary.plenary_html(engine(), year, commune=settings().commune)
        return {"content": page, "filename": f"suivi-plan-actions-{year}.html", "type": "text/html"}
    return dcc.send_bytes(
        plenary.plenary_xlsx(engine(), year, commune=settings().commune), f"suivi-plan-actions-{year}.xlsx"
    )


def _evaluations() -> html.Section:
    found = evaluation.defined(engine())
    if not found:
        return html.Section(
            [
                html.H2("Évaluations des actions localisées"),
                _message("Aucune action localisée n'est déclarée (observatoire plan evaluation)."),
            ]
        )
    items = []
    for item in found:
        try:
            result = evaluation.evaluate(
                engine(),
                item["wkt"],
                item["start_date"],
                source=item["event_source"],
                family=item["family"],
                buffer_m=item["buffer_m"],
                commune=settings().commune,
            )
        except ObservatoireError as exc:
            items.append(html.Article([html.H3(item["label"]), _message(exc.message)]))
            continue
        monthly = result.monthly.rename(
            columns={
                "month": "Mois",
                "cible": "Zone de l'action",
                "couronne": "Couronne",
                "comparaison": "Comparaison",
            }
        )
        fig = go.Figure()
        for column, colour in (
            ("Zone de l'action", OKABE_ITO["vermillion"]),
            ("Couronne", OKABE_ITO["orange"]),
            ("Comparaison", OKABE_ITO["blue"]),
        ):
            if column in monthly:
                base = monthly[column][pd.to_datetime(monthly["Mois"]).dt.date < result.start].mean() or 1
                fig.add_scatter(
                    x=monthly["Mois"],
                    y=100 * monthly[column] / base,
                    name=column,
                    mode="lines",
                    line={"color": colour},
                )
        fig.add_vline(x=result.start, line_dash="dash", line_color=OKABE_ITO["black"])
        fig.update_layout(
            height=300,
            margin={"l": 10, "r": 10, "t": 30, "b": 30},
            plot_bgcolor=CHART_BACKGROUND,
            yaxis={"title": "Indice (moyenne avant = 100)", "gridcolor": CHART_GRID},
            title="Événements par mois, en indice",
            legend={"orientation": "h"},
        )
        threshold = disclosure.threshold_for(current_role())
        counts = pd.DataFrame(
            [
                (
                    evaluation.AREA_LABELS[name],
                    disclosure.masked(b, threshold),
                    disclosure.masked(a, threshold),
                )
                for name, (b, a) in result.counts.items()
            ],
            columns=["Zone", "Avant", "Après"],
        ).set_index("Zone")
        items.append(
            html.Article(
                [
                    html.H3(f"{item['label']} – fiche {item['fiche'] or '—'}"),
                    html.P(
                        f"Zone : {item['place']} ; début : {french.day(item['start_date'])} ; événements : "
                        f"{item['event_source']}{' / ' + item['family'] if item['family'] else ''}."
                    ),
                    html.P(
                        result.sentence(), className="obs-phrase", id=f"plan-actions-evaluation-{item['id']}"
                    ),
                    dcc.Graph(figure=fig, config=GRAPH_CONFIG),
                    frame_table(
                        counts,
                        f"Événements {result.months} mois avant et après",
                        f"plan-actions-eval-table-{item['id']}",
                        "Zone",
                    ),
                ]
            )
        )
    return html.Section(
        [html.H2("Évaluations des actions localisées"), *items], id="plan-actions-evaluations"
    )


register_page(
    __name__, path="/plan-actions", name="Plan d'actions", permission=PERMISSION, render=render, order=30
)
