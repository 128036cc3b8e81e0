"""Nomenclature police nationale: the categories of geolocated facts, and attaching a wording that matched none.

An unclassified fact is sensitive: it is never drawn as a point and counts apart. Attaching its wording
reclassifies the facts already stored that have no état 4001 index, and every later extract.
"""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from dashboard.components import formatting as fmt
from dashboard.components import label_attach
from dashboard.context import engine
from dashboard.security import register_page
from observatoire.police_nationale import catalogue as pn_catalogue

PERMISSION = pn_catalogue.PERMISSION


def _categories_table(categories: pd.DataFrame) -> list:
    rows = [
        html.Tr(
            [
                html.Th(r.label, scope="row"),
                html.Td(r.family_label, className="obs-pm-texte"),
                html.Td(r.code, className="obs-pm-texte"),
                html.Td("oui" if r.sensitive else "non"),
                html.Td(fmt.number(r.facts)),
            ]
        )
        for r in categories.itertuples()
    ]
    return [
        html.H2("Catégories de faits"),
        html.Table(
            [
                html.Caption(
                    "Catégories des faits géolocalisés, leur famille et leur sensibilité (un fait "
                    "sensible n'est jamais dessiné comme un point)"
                ),
                html.Thead(
                    html.Tr(
                        [
                            html.Th(h, scope="col")
                            for h in ("Catégorie", "Famille", "Code", "Sensible", "Faits")
                        ]
                    )
                ),
                html.Tbody(rows),
            ],
            className="obs-table",
            id="nomenclature-pn-table-categories",
        ),
    ]


FORM = label_attach.AttachForm(
    prefix="nomenclature-pn",
    permission=PERMISSION,
    entry="Catégorie",
    suggested="Catégorie suggérée",
    rows="Faits",
    reclassified="fait(s) reclassé(s)",
    nomenclature=pn_catalogue.nomenclature(),
    entries=lambda: pn_catalogue.list_categories(engine()),
    catalogue=_categories_table,
)


def render(**_params) -> html.Div:
    return html.Div(
        [
            html.H1("Nomenclature des faits de police nationale"),
            html.P(
                "Les faits géolocalisés sont classés par l'index de l'état 4001 quand l'extraction le donne, sinon par "
                "leur qualification. Une qualification inconnue laisse le fait « non classé » et sensible (jamais "
                "dessiné comme un point) jusqu'à ce qu'elle soit rattachée ici à une catégorie ; les faits déjà "
                "enregistrés sans index sont alors reclassés.",
                className="obs-muted",
            ),
            label_attach.section(FORM),
            dcc.Loading(html.Div(id="nomenclature-pn-contenu")),
        ]
    )


label_attach.register(FORM)
register_page(
    __name__,
    path="/police-nationale/nomenclature",
    name="Nomenclature PN",
    permission=PERMISSION,
    render=render,
    order=33,
)
