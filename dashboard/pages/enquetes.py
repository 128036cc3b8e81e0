"""Enquêtes: results of the perceived-insecurity surveys per question, per profile and between two waves,
each chart beside its table, always with the number of respondents and the warning on representativeness."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from dashboard.components import markup
from dashboard.components.controls import dropdown
from dashboard.components.graphs import GRAPH_CONFIG
from dashboard.components.palette import CHART_BACKGROUND, CHART_GRID, OKABE_ITO
from dashboard.components.tables import frame_table
from dashboard.context import engine
from dashboard.security import current_role, guarded_callback, register_page
from observatoire import french
from observatoire.permissions import AGGREGATE_ONLY
from observatoire.surveys import results

PERMISSION = "enquetes.voir"
COLOURS = [
    OKABE_ITO[c] for c in ("blue", "sky_blue", "orange", "vermillion", "bluish_green", "reddish_purple")
]


def render(**_params) -> html.Div:
    waves = results.waves(engine())
    if not waves:
        return html.Div(
            [
                html.H1("Enquêtes"),
                html.Div(
                    "Aucune enquête n'est chargée (observatoire import survey FICHIER --codebook LIVRE --vague 2025).",
                    className="obs-alerte obs-alerte-info",
                ),
            ]
        )
    latest = waves[-1]["code"]
    questions = [v for v in results.variables(engine(), latest) if v["kind"] == "question"]
    wave_options = [
        {"label": f"{w['label']} ({french.number(w['respondents'])} répondants)", "value": w["code"]}
        for w in waves
    ]
    return html.Div(
        [
            html.H1("Enquêtes de sécurité ressentie"),
            html.Div(
                results.WARNING,
                className="obs-alerte obs-alerte-info",
                id="enquetes-avertissement",
                role="note",
            ),
            html.Div(
                [
                    html.Label(
                        [
                            "Vague",
                            dropdown(
                                id="enquetes-vague", options=wave_options, value=latest, clearable=False
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Question",
                            dropdown(
                                id="enquetes-question",
                                options=[{"label": q["label"], "value": q["code"]} for q in questions],
                                value=questions[0]["code"],
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Profil",
                            dropdown(
                                id="enquetes-profil",
                                options=[{"label": "Ensemble des répondants", "value": ""}]
                                + [
                                    {"label": label, "value": code}
                                    for code, label in results.PROFILE_LABELS.items()
                                ],
                                value="",
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Comparer avec la vague",
                            dropdown(
                                id="enquetes-vague-2",
                                options=wave_options,
                                value=waves[0]["code"] if len(waves) > 1 else None,
                            ),
                        ]
                    ),
                ],
                className="obs-filtres",
            ),
            html.Div(id="enquetes-resultats"),
            html.Div(id="enquetes-comparaison"),
        ]
    )


def _figure(frame, title: str) -> go.Figure:
    fig = go.Figure()
    answers = list(dict.fromkeys(frame["reponse"]))
    groups = list(dict.fromkeys(frame["groupe"]))
    for i, answer in enumerate(answers):
        part = frame[frame["reponse"] == answer]
        fig.add_bar(
            y=[markup.text(g) for g in part["groupe"]],
            x=part["part"],
            name=markup.text(answer),
            orientation="h",
            marker_color=COLOURS[i % len(COLOURS)],
        )
    fig.update_layout(
        barmode="stack",
        height=190 + 36 * len(groups),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        plot_bgcolor=CHART_BACKGROUND,
        xaxis={"title": "% des répondants du groupe", "range": [0, 100], "gridcolor": CHART_GRID},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
    )
    return fig


@guarded_callback(
    PERMISSION,
    Output("enquetes-resultats", "children"),
    Input("enquetes-vague", "value"),
    Input("enquetes-question", "value"),
    Input("enquetes-profil", "value"),
)
def show(wave, question, profile):
    frame = results.results(
        engine(), wave, question, profile or None, mask_small=current_role() in AGGREGATE_ONLY
    )
    label = next(v["label"] for v in results.variables(engine(), wave) if v["code"] == question)
    table = frame.assign(
        part=[french.percent(p) for p in frame["part"]],
        n=[f"< {results.SMALL}" if n is None else french.number(n) for n in frame["n"]],
        effectif=[french.number(n) for n in frame["effectif"]],
    ).rename(
        columns={
            "groupe": "Groupe",
            "reponse": "Réponse",
            "n": "Répondants",
            "effectif": "Répondants du groupe",
            "part": "Part",
        }
    )
    respondents = int(frame.drop_duplicates("groupe")["effectif"].sum())
    return html.Div(
        [
            html.H2(label),
            html.P(f"{french.number(respondents)} répondants à cette question.", id="enquetes-effectif"),
            dcc.Graph(figure=_figure(frame, label), config=GRAPH_CONFIG, id="enquetes-graphique"),
            frame_table(table.set_index("Groupe"), f"{label} – résultats", "enquetes-table", "Groupe"),
        ]
    )


@guarded_callback(
    PERMISSION,
    Output("enquetes-comparaison", "children"),
    Input("enquetes-vague", "value"),
    Input("enquetes-vague-2", "value"),
    Input("enquetes-question", "value"),
)
def compare(wave, other, question):
    if not other or other == wave:
        return html.Div()
    frame = results.compare(engine(), other, wave, question)
    fig = go.Figure()
    for column, name, colour in (("part_1", other, OKABE_ITO["grey"]), ("part_2", wave, OKABE_ITO["blue"])):
        fig.add_bar(
            x=[markup.text(r) for r in frame["reponse"]],
            y=frame[column],
            name=markup.text(f"Vague {name}"),
            marker_color=colour,
        )
    fig.update_layout(
        barmode="group",
        height=320,
        plot_bgcolor=CHART_BACKGROUND,
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        yaxis={"title": "% des répondants", "gridcolor": CHART_GRID},
        title="Comparaison des vagues",
    )
    table = frame.assign(
        part_1=[french.percent(p) for p in frame["part_1"]],
        part_2=[french.percent(p) for p in frame["part_2"]],
        ecart=[french.signed(e, 1) + " pt" for e in frame["ecart"]],
        significatif=["oui" if s else "non" for s in frame["significatif"]],
    ).rename(
        columns={
            "reponse": "Réponse",
            "part_1": f"Vague {other}",
            "part_2": f"Vague {wave}",
            "ecart": "Écart",
            "significatif": "Écart au-delà du hasard (5 %)",
            "effectif_1": f"Répondants {other}",
            "effectif_2": f"Répondants {wave}",
        }
    )
    return html.Div(
        [
            html.H2(f"Évolution entre les vagues {other} et {wave}"),
            dcc.Graph(figure=fig, config=GRAPH_CONFIG),
            frame_table(
                table.set_index("Réponse"), "Comparaison des vagues", "enquetes-table-vagues", "Réponse"
            ),
        ]
    )


register_page(__name__, path="/enquetes", name="Enquêtes", permission=PERMISSION, render=render, order=35)
