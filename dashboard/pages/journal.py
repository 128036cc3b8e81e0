"""Journal d'audit (administration): list and filter, never edit."""

from __future__ import annotations

from datetime import datetime, time

from dash import Input, Output, dash_table, dcc, html

from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.components.tables import DATATABLE_STYLE
from dashboard.context import engine
from dashboard.security import guarded_callback, register_page
from observatoire.audit import ACTION_LABELS, list_entries

PERMISSION = "audit.voir"


def render(**_params) -> html.Div:
    return html.Div(
        [
            html.H1("Journal d'audit"),
            html.P(
                "Toutes les connexions, imports, exports, consultations de pages restreintes, accès refusés et "
                "changements de comptes. Le journal ne peut être ni modifié ni effacé, sauf par la purge de "
                "conservation, elle-même journalisée ; chaque entrée porte l'empreinte de la précédente, que "
                "« observatoire audit verify » recalcule.",
                className="obs-muted",
            ),
            html.Div(
                [
                    html.Label(
                        [
                            "Action",
                            dropdown(
                                id="journal-action",
                                options=[
                                    {"label": label, "value": key} for key, label in ACTION_LABELS.items()
                                ],
                                placeholder="Toutes",
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Compte",
                            dcc.Input(
                                id="journal-compte", type="text", debounce=True, placeholder="identifiant"
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Période",
                            dcc.DatePickerRange(
                                id="journal-periode",
                                display_format="DD/MM/YYYY",
                                first_day_of_week=1,
                                start_date_placeholder_text="début",
                                end_date_placeholder_text="fin",
                            ),
                        ]
                    ),
                ],
                className="obs-filtres",
            ),
            html.Div(id="journal-compteur", className="obs-muted"),
            dash_table.DataTable(
                id="journal-table",
                page_size=25,
                sort_action="native",
                columns=[
                    {"name": n, "id": i}
                    for i, n in (
                        ("at", "Date"),
                        ("user_login", "Compte"),
                        ("role", "Rôle"),
                        ("action", "Action"),
                        ("target", "Objet"),
                        ("batch_id", "Lot"),
                        ("ip", "Adresse IP"),
                        ("detail", "Détail"),
                    )
                ],
                **DATATABLE_STYLE,
            ),
        ]
    )


@guarded_callback(
    PERMISSION,
    [Output("journal-table", "data"), Output("journal-compteur", "children")],
    Input("journal-action", "value"),
    Input("journal-compte", "value"),
    Input("journal-periode", "start_date"),
    Input("journal-periode", "end_date"),
)
def filter_entries(action, login, start, end):
    since = datetime.fromisoformat(start) if start else None
    until = datetime.combine(datetime.fromisoformat(end).date(), time.max) if end else None
    frame = list_entries(
        engine(),
        action=action or None,
        user_login=(login or "").strip().lower() or None,
        since=since,
        until=until,
        limit=1000,
    )
    rows = [
        {
            "at": fmt.moment(r.at),
            "user_login": r.user_login or "",
            "role": r.role or "",
            "action": ACTION_LABELS.get(r.action, r.action),
            "target": r.target or "",
            "batch_id": r.batch_id,
            "ip": r.ip or "",
            "detail": ", ".join(f"{k} : {v}" for k, v in (r.detail or {}).items()),
        }
        for r in frame.itertuples()
    ]
    return rows, f"{len(rows)} entrée(s) affichée(s) (1 000 au plus, les plus récentes d'abord)."


register_page(
    __name__, path="/journal", name="Journal d'audit", permission=PERMISSION, render=render, order=90
)
