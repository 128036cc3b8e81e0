"""The page shown for an address that names no page (Dash's pages router looks for a module of this name)."""

from __future__ import annotations

from dash import dcc, html

from dashboard.security import register_page


def render(**_params) -> html.Div:
    return html.Div(
        [
            html.H1("Page introuvable"),
            html.P(
                "Aucune page ne correspond à cette adresse : elle a pu être mal recopiée, ou la page a changé de "
                "nom. Les pages auxquelles votre rôle donne accès sont dans le menu ci-dessus.",
                id="page-introuvable",
            ),
            dcc.Link("Retour à l'accueil", href="/", className="obs-bouton-secondaire"),
        ]
    )


register_page(
    __name__,
    path="/page-introuvable",
    name="Page introuvable",
    permission="accueil.voir",
    render=render,
    restricted=False,
    hidden=True,
    order=1000,
)
