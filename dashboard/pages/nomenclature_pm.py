"""Nomenclature police municipale: families and types, and attaching a file's unknown label to a type.

Attaching a label reclassifies the interventions already stored and every later import.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html

from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.context import engine
from dashboard.security import current_role, guarded_callback, register_page
from observatoire import pm_catalogue
from observatoire.errors import ObservatoireError

PERMISSION = "pm.nomenclature"


def render(**_params) -> html.Div:
    return html.Div([
        html.H1("Nomenclature des interventions de police municipale"),
        html.P("Les natures écrites dans les exports sont rapprochées de ces types, regroupés en familles. Un libellé "
               "inconnu est gardé « non classé » jusqu'à ce qu'il soit rattaché ici à un type ; les interventions "
               "déjà enregistrées sont alors reclassées.", className="obs-muted"),
        html.Section([
            html.H2("Rattacher un libellé inconnu"),
            html.Div([
                html.Label(["Libellé des fichiers", dropdown(id="nomenclature-libelle", clearable=True,
                                                             placeholder="Choisir un libellé non classé…")],
                           className="obs-large"),
                html.Label(["Type de la nomenclature", dropdown(id="nomenclature-type", clearable=True)],
                           className="obs-large"),
                html.Button("Rattacher", id="nomenclature-rattacher", className="obs-bouton"),
            ], className="obs-filtres"),
            html.Div(id="nomenclature-message", role="status"),
            dcc.Store(id="nomenclature-version"),
        ], className="obs-bloc"),
        dcc.Loading(html.Div(id="nomenclature-contenu")),
    ])


@guarded_callback(PERMISSION, [Output("nomenclature-contenu", "children"), Output("nomenclature-libelle", "options"),
                               Output("nomenclature-type", "options")],
                  Input("nomenclature-version", "data"))
def show(_version):
    types = pm_catalogue.list_types(engine())
    unknown = pm_catalogue.unknown_labels(engine())
    type_rows = [html.Tr([html.Th(r.label + (" (sensible)" if r.sensitive else ""), scope="row"),
                          html.Td(r.family_label, className="obs-pm-texte"), html.Td(r.code, className="obs-pm-texte"),
                          html.Td(fmt.number(r.interventions)), html.Td("oui" if r.active else "non")])
                 for r in types.itertuples()]
    unknown_rows = [html.Tr([html.Th(r.label, scope="row"), html.Td(fmt.number(r.interventions)),
                             html.Td(r.suggestion or "aucune", className="obs-pm-texte")])
                    for r in unknown.itertuples()]
    content = [
        html.H2("Libellés non classés"),
        html.Table([html.Caption("Libellés des interventions enregistrées absents de la nomenclature"),
                    html.Thead(html.Tr([html.Th("Libellé", scope="col"), html.Th("Interventions", scope="col"),
                                        html.Th("Type suggéré", scope="col")])),
                    html.Tbody(unknown_rows)], className="obs-table", id="nomenclature-table-inconnus")
        if unknown_rows else html.P("Aucun libellé non classé.", id="nomenclature-aucun-inconnu"),
        html.H2("Types d'intervention"),
        html.Table([html.Caption("Types d'intervention et leur famille"),
                    html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                        "Type", "Famille", "Code", "Interventions", "Actif")])),
                    html.Tbody(type_rows)], className="obs-table", id="nomenclature-table-types"),
    ]
    label_options = [{"label": f"{r.label} ({fmt.number(r.interventions)})", "value": r.label}
                     for r in unknown.itertuples()]
    type_options = [{"label": f"{r.label} — {r.family_label}", "value": r.code} for r in types.itertuples() if r.active]
    return content, label_options, type_options


@guarded_callback(PERMISSION, Output("nomenclature-type", "value"), Input("nomenclature-libelle", "value"),
                  prevent_initial_call=True)
def suggest(label):
    """Pre-select the suggested type; the analyst still confirms with the button."""
    if not label:
        return None
    unknown = pm_catalogue.unknown_labels(engine())
    match = unknown[unknown["label"] == label]
    suggestion = match.iloc[0]["suggestion"] if not match.empty else None
    if not suggestion:
        return None
    types = pm_catalogue.list_types(engine())
    found = types[types["label"] == suggestion]
    return None if found.empty else found.iloc[0]["code"]


@guarded_callback(PERMISSION, [Output("nomenclature-message", "children"), Output("nomenclature-version", "data")],
                  Input("nomenclature-rattacher", "n_clicks"), State("nomenclature-libelle", "value"),
                  State("nomenclature-type", "value"), prevent_initial_call=True)
def attach(clicks, label, type_code):
    from flask_login import current_user

    if not clicks:
        return "", None
    if not label or not type_code:
        return html.Div("Choisissez un libellé et un type.", className="obs-alerte obs-alerte-info"), None
    try:
        moved = pm_catalogue.learn_label(engine(), label, type_code, user=current_user.login, role=current_role())
    except ObservatoireError as exc:
        return html.Div(exc.message, className="obs-alerte obs-alerte-erreur"), None
    return (html.Div(f"« {label} » est rattaché au type choisi : {fmt.number(moved)} intervention(s) reclassée(s).",
                     className="obs-alerte obs-alerte-info", id="nomenclature-fait"),
            {"libelle": label, "type": type_code, "n": clicks})


register_page(__name__, path="/police-municipale/nomenclature", name="Nomenclature PM", permission=PERMISSION,
              render=render, order=32)
