"""Nomenclature police municipale: families and types, and attaching a file's unknown label to a type.

Attaching a label reclassifies the interventions already stored and every later import.
"""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from dashboard.components import formatting as fmt
from dashboard.components import label_attach
from dashboard.context import engine
from dashboard.security import register_page
from observatoire.police_municipale import catalogue as pm_catalogue

PERMISSION = "pm.nomenclature"


def _types_table(types: pd.DataFrame) -> list:
    rows = [
        html.Tr(
            [
                html.Th(r.label + (" (sensible)" if r.sensitive else ""), scope="row"),
                html.Td(r.family_label, className="obs-pm-texte"),
                html.Td(r.code, className="obs-pm-texte"),
                html.Td(fmt.number(r.interventions)),
                html.Td("oui" if r.active else "non"),
            ]
        )
        for r in types.itertuples()
    ]
    return [
        html.H2("Types d'intervention"),
        html.Table(
            [
                html.Caption("Types d'intervention et leur famille"),
                html.Thead(
                    html.Tr(
                        [
                            html.Th(h, scope="col")
                            for h in ("Type", "Famille", "Code", "Interventions", "Actif")
                        ]
                    )
                ),
                html.Tbody(rows),
            ],
            className="obs-table",
            id="nomenclature-table-types",
        ),
    ]


FORM = label_attach.AttachForm(
    prefix="nomenclature",
    permission=PERMISSION,
    entry="Type de la nomenclature",
    suggested="Type suggéré",
    rows="Interventions",
    reclassified="intervention(s) reclassée(s)",
    nomenclature=pm_catalogue.nomenclature(),
    entries=lambda: pm_catalogue.list_types(engine()),
    catalogue=_types_table,
)


def render(**_params) -> html.Div:
    return html.Div(
        [
            html.H1("Nomenclature des interventions de police municipale"),
            html.P(
                "Les natures écrites dans les exports sont rapprochées de ces types, regroupés en familles. Un libellé "
                "inconnu est gardé « non classé » jusqu'à ce qu'il soit rattaché ici à un type ; les interventions "
                "déjà enregistrées sont alors reclassées.",
                className="obs-muted",
            ),
            label_attach.section(FORM),
            dcc.Loading(html.Div(id="nomenclature-contenu")),
        ]
    )


label_attach.register(FORM)
register_page(
    __name__,
    path="/police-municipale/nomenclature",
    name="Nomenclature PM",
    permission=PERMISSION,
    render=render,
    order=32,
)
