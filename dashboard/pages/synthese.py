"""Synthèse: the conseil's landing page. For every loaded source the role may see, its latest figures, their
change, whether it exceeds chance, the département's change, and a link to the detail."""

from __future__ import annotations

from dash import Input, Output, dcc, html

from dashboard.components.alerts import alerts_block
from dashboard.context import engine, settings
from dashboard.security import current_role, guarded_callback, register_page
from observatoire import french
from observatoire.permissions import allowed
from observatoire.spacetime import queries as spacetime
from observatoire.synthesis import synthesis

PERMISSION = "synthese.voir"
ALERTS_PERMISSION = "stats.voir"  # the Tendances page's: the alerts are read from the same events


def _change(value) -> str:
    return "—" if value is None else french.signed(round(value) + 0, 0) + " %"


def _block(block: dict) -> html.Section:
    rows = []
    for t in block["trends"]:
        if t["significative"] is None:
            verdict = "non testée (petits effectifs)"
        elif t["significative"]:
            verdict = "oui (p = " + french.number(t["p"], 3) + ")"
        else:
            verdict = "non, dans les variations habituelles"
        rows.append(
            html.Tr(
                [
                    html.Th(t["indicateur"], scope="row"),
                    html.Td(
                        f"{t['valeur'] if isinstance(t['valeur'], str) else french.number(t['valeur'])}"
                        f" ({t['periode']})"
                    ),
                    html.Td(
                        f"{t['precedente'] if isinstance(t['precedente'], str) else french.number(t['precedente'])}"
                        f" ({t['periode_precedente']})"
                    ),
                    html.Td(_change(t["evolution"])),
                    html.Td(verdict),
                    html.Td(_change(t["evolution_departement"])),
                ]
            )
        )
    body = (
        html.Table(
            [
                html.Caption(f"{block['source']} : dernières valeurs et évolution"),
                html.Thead(
                    html.Tr(
                        [
                            html.Th(h, scope="col")
                            for h in (
                                "Indicateur",
                                "Dernière période",
                                "Période précédente",
                                "Évolution",
                                "Évolution significative ?",
                                "Évolution du département",
                            )
                        ]
                    )
                ),
                html.Tbody(rows),
            ],
            className="obs-table",
        )
        if rows
        else html.P(
            "Pas d'évolution calculée pour cette source (une seule période chargée, ou source sans série "
            "temporelle).",
            className="obs-muted",
        )
    )
    return html.Section(
        [
            html.H2(block["source"]),
            html.P(
                f"Dernière période : {block['latest'] or '—'} ; {french.number(block['rows'])} lignes chargées."
            ),
            body,
            dcc.Link("Voir le détail", href=block["detail"], className="obs-lien-detail"),
        ],
        className="obs-synthese-source",
        id=f"synthese-{block['key']}",
    )


def render(**_params) -> html.Div:
    blocks = synthesis(engine(), current_role(), settings().commune)
    intro = html.P(
        "Pour chaque source chargée : la dernière valeur, l'évolution sur la période précédente, si cette évolution "
        "dépasse ce que le hasard produit d'ordinaire (test exact de deux comptages de Poisson, seuil de 5 %), et "
        "l'évolution du département sur la même période quand elle est connue.",
        className="obs-muted",
    )
    if not blocks:
        return html.Div(
            [
                html.H1("Synthèse"),
                intro,
                html.Div("Aucune donnée chargée.", className="obs-alerte obs-alerte-info"),
            ],
            id="synthese",
        )
    return html.Div(
        [html.H1("Synthèse"), intro, *_alerts_section(), *[_block(b) for b in blocks]], id="synthese"
    )


def _alerts_section() -> list:
    """The latest month's significant rises by category and zone, filled after the page is drawn (the test
    runs over every category and zone)."""
    if not allowed(current_role(), ALERTS_PERMISSION):
        return []
    return [
        html.Section(
            [
                html.H2("Hausses significatives du dernier mois et du dernier trimestre"),
                dcc.Loading(html.Div(id="synthese-alertes")),
                dcc.Link(
                    "Voir les tendances spatio-temporelles", href="/tendances", className="obs-lien-detail"
                ),
            ],
            className="obs-synthese-hausses",
            id="synthese-hausses",
        ),
        dcc.Store(id="synthese-alertes-depart"),
    ]


@guarded_callback(
    ALERTS_PERMISSION, Output("synthese-alertes", "children"), Input("synthese-alertes-depart", "data")
)
def fill_alerts(_n):
    return alerts_block(spacetime.alerts(engine(), current_role()), "synthese", limit=10)


register_page(__name__, path="/synthese", name="Synthèse", permission=PERMISSION, render=render, order=1)
