"""A nomenclature page's form to attach a file's unknown wording to an entry, with the list of wordings
waiting for one and the catalogue below (police municipale types, police nationale categories).

A page builds an :class:`AttachForm`, puts :func:`section` in its layout and calls :func:`register` once;
its element ids start with the form's prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.context import engine
from dashboard.security import current_role, guarded_callback
from observatoire import label_learning
from observatoire.errors import ObservatoireError


@dataclass(frozen=True)
class AttachForm:
    prefix: str  # e.g. "nomenclature"
    permission: str
    entry: str  # what a wording is attached to, e.g. « Type de la nomenclature »
    suggested: str  # column title, e.g. « Type suggéré »
    rows: str  # what the rows are called, e.g. « Interventions »
    reclassified: str  # e.g. « intervention(s) reclassée(s) »
    nomenclature: label_learning.Nomenclature
    entries: Callable[[], pd.DataFrame]  # code, label, family_label (and active, when entries can be retired)
    catalogue: Callable[[pd.DataFrame], list]  # the page's tables of entries, below the waiting wordings


def section(form: AttachForm) -> html.Section:
    p = form.prefix
    return html.Section(
        [
            html.H2("Rattacher un libellé inconnu"),
            html.Div(
                [
                    html.Label(
                        [
                            "Libellé des fichiers",
                            dropdown(
                                id=f"{p}-libelle",
                                clearable=True,
                                placeholder="Choisir un libellé non classé…",
                            ),
                        ],
                        className="obs-large",
                    ),
                    html.Label([form.entry, dropdown(id=f"{p}-type", clearable=True)], className="obs-large"),
                    html.Button("Rattacher", id=f"{p}-rattacher", className="obs-bouton"),
                ],
                className="obs-filtres",
            ),
            html.Div(id=f"{p}-message", role="status"),
            dcc.Store(id=f"{p}-version"),
        ],
        className="obs-bloc",
    )


def register(form: AttachForm) -> None:
    p = form.prefix

    @guarded_callback(
        form.permission,
        [
            Output(f"{p}-contenu", "children"),
            Output(f"{p}-libelle", "options"),
            Output(f"{p}-type", "options"),
        ],
        Input(f"{p}-version", "data"),
    )
    def show(_version):
        entries = form.entries()
        unknown = label_learning.unknown_labels(engine(), form.nomenclature)
        unknown_rows = [
            html.Tr(
                [
                    html.Th(r.label, scope="row"),
                    html.Td(fmt.number(r.n)),
                    html.Td(r.suggestion or "aucune", className="obs-pm-texte"),
                ]
            )
            for r in unknown.itertuples()
        ]
        content = [
            html.H2("Libellés non classés"),
            html.Table(
                [
                    html.Caption("Libellés des fichiers absents de la nomenclature"),
                    html.Thead(
                        html.Tr(
                            [
                                html.Th("Libellé", scope="col"),
                                html.Th(form.rows, scope="col"),
                                html.Th(form.suggested, scope="col"),
                            ]
                        )
                    ),
                    html.Tbody(unknown_rows),
                ],
                className="obs-table",
                id=f"{p}-table-inconnus",
            )
            if unknown_rows
            else html.P("Aucun libellé non classé.", id=f"{p}-aucun-inconnu"),
            *form.catalogue(entries),
        ]
        label_options = [
            {"label": f"{r.label} ({fmt.number(r.n)})", "value": r.label} for r in unknown.itertuples()
        ]
        usable = entries[entries["active"]] if "active" in entries else entries
        entry_options = [
            {"label": f"{r.label} — {r.family_label}", "value": r.code} for r in usable.itertuples()
        ]
        return content, label_options, entry_options

    @guarded_callback(
        form.permission,
        Output(f"{p}-type", "value"),
        Input(f"{p}-libelle", "value"),
        prevent_initial_call=True,
    )
    def suggest(label):
        """Pre-select the suggested entry; the analyst still confirms with the button."""
        if not label:
            return None
        unknown = label_learning.unknown_labels(engine(), form.nomenclature)
        match = unknown[unknown["label"] == label]
        suggestion = match.iloc[0]["suggestion"] if not match.empty else None
        if not suggestion:
            return None
        entries = form.entries()
        found = entries[entries["label"] == suggestion]
        return None if found.empty else found.iloc[0]["code"]

    @guarded_callback(
        form.permission,
        [Output(f"{p}-message", "children"), Output(f"{p}-version", "data")],
        Input(f"{p}-rattacher", "n_clicks"),
        State(f"{p}-libelle", "value"),
        State(f"{p}-type", "value"),
        prevent_initial_call=True,
    )
    def attach(clicks, label, code):
        from flask_login import current_user

        if not clicks:
            return "", None
        if not label or not code:
            return html.Div(
                "Choisissez un libellé et une entrée de la nomenclature.",
                className="obs-alerte obs-alerte-info",
            ), None
        try:
            moved = label_learning.learn_label(
                engine(), form.nomenclature, label, code, user=current_user.login, role=current_role()
            )
        except ObservatoireError as exc:
            return html.Div(exc.message, className="obs-alerte obs-alerte-erreur"), None
        return (
            html.Div(
                f"« {label} » est rattaché à l'entrée choisie : {fmt.number(moved)} {form.reclassified}.",
                className="obs-alerte obs-alerte-info",
                id=f"{p}-fait",
            ),
            {"libelle": label, "code": code, "n": clicks},
        )
