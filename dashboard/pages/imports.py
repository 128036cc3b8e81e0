"""Imports: every import batch (all sources) with its status and counts, its report, and undoing one.

A police municipale account sees only its own imports; undoing needs ``imports.annuler``. Both are
checked on the server in each callback, whatever the browser sends.
"""

from __future__ import annotations

from dash import Input, Output, State, dash_table, dcc, html

from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.components.import_report import report_view, status_label
from dashboard.context import engine
from dashboard.security import can, current_role, guarded_callback, register_page
from observatoire import sources
from observatoire.errors import ObservatoireError
from observatoire.imports import admin as batch_admin

PERMISSION = "imports.voir"
# The table's cells do not inherit the page font; the page's own stack, so figures read the same everywhere.
FONT = '"Marianne", "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
UNDO = "imports.annuler"

LEVELS = {
    "commune": "commune",
    "departement": "département",
    "region": "région",
    "iris": "IRIS",
    "qpv": "QPV",
}


def _source_label(code: str | None) -> str:
    """The batch's source in French; a territories batch also names its level."""
    source = sources.by_batch(code or "")
    if source is None:
        return code or ""
    level = (code or "").removeprefix("territoires-")
    return f"{source.label} ({LEVELS[level]})" if level in LEVELS and level != code else source.label


def _visible_imports(source: str | None):
    """The batches the current account may see: its own only unless it may undo (analysts, admins)."""
    from flask_login import current_user

    frame = batch_admin.list_imports(engine(), source=source or None, limit=500)
    if not can(UNDO):
        frame = frame[frame["user_login"] == current_user.login]
    return frame


def _undoable() -> str:
    """The sources whose imports an undo removes, as the table of sources says."""
    return ", ".join(s.label for s in sources.SOURCES if s.undo_tables)


def render(**_params) -> html.Div:
    own_only = not can(UNDO)
    intro = (
        "Vos imports, du plus récent au plus ancien. Choisissez une ligne pour lire son rapport."
        if own_only
        else "Tous les imports, toutes sources, du plus récent au plus ancien. Choisissez une ligne pour lire son "
        f"rapport ; un import réussi de ces sources peut être annulé : {_undoable()} (ses lignes sont "
        "supprimées, le lot reste dans la liste, l'annulation est journalisée)."
    )
    return html.Div(
        [
            html.H1("Imports"),
            html.P(intro, className="obs-muted"),
            html.Div(
                [
                    html.Label(
                        [
                            "Source",
                            dropdown(
                                id="imports-source",
                                placeholder="Toutes les sources",
                                options=[
                                    {"label": _source_label(b), "value": b}
                                    for s in sources.SOURCES
                                    for b in s.batches
                                ],
                            ),
                        ]
                    ),
                ],
                className="obs-filtres",
            ),
            html.Div(id="imports-compteur", className="obs-muted", role="status"),
            dash_table.DataTable(
                id="imports-table",
                page_size=15,
                row_selectable="single",
                sort_action="native",
                columns=[
                    {"name": n, "id": i}
                    for i, n in (
                        ("id", "Lot"),
                        ("source", "Source"),
                        ("file_name", "Fichier"),
                        ("user_login", "Compte"),
                        ("started_at", "Début"),
                        ("status", "État"),
                        ("rows_read", "Lignes lues"),
                        ("inserted", "Ajoutées"),
                        ("duplicates", "Doublons"),
                        ("rejected", "Rejetées"),
                    )
                ],
                style_cell={
                    "fontFamily": FONT,
                    "textAlign": "left",
                    "padding": "4px 8px",
                    "whiteSpace": "normal",
                },
                style_cell_conditional=[
                    {"if": {"column_id": c}, "textAlign": "right"}
                    for c in ("id", "rows_read", "inserted", "duplicates", "rejected")
                ],
                style_header={"fontWeight": "bold", "fontFamily": FONT},
                style_data_conditional=[
                    {"if": {"filter_query": '{status} = "refusé"'}, "color": "#6e0000"},
                    {
                        "if": {"filter_query": '{status} = "annulé"'},
                        "color": "#666666",
                        "fontStyle": "italic",
                    },
                ],
            ),
            dcc.Store(id="imports-annule"),
            dcc.ConfirmDialog(id="imports-confirmer"),
            html.Div(id="imports-message", role="status"),
            dcc.Loading(html.Div(id="imports-detail")),
        ]
    )


@guarded_callback(
    PERMISSION,
    [
        Output("imports-table", "data"),
        Output("imports-compteur", "children"),
        Output("imports-table", "selected_rows"),
    ],
    Input("imports-source", "value"),
    Input("imports-annule", "data"),
)
def list_batches(source, _undone):
    frame = _visible_imports(source)
    rows = [
        {
            "id": int(r.id),
            "source": _source_label(r.source),
            "file_name": r.file_name or "",
            "user_login": r.user_login or "",
            "started_at": fmt.moment(r.started_at),
            "status": status_label(r.status),
            "rows_read": fmt.number(r.rows_read),
            "inserted": fmt.number(r.inserted),
            "duplicates": fmt.number(r.duplicates),
            "rejected": fmt.number(r.rejected),
        }
        for r in frame.itertuples()
    ]
    count = f"{fmt.number(len(rows))} import(s)" + (
        " (les 500 plus récents au plus)" if len(rows) >= 500 else ""
    )
    return rows, count, []


def _batch_row(batch_id: int):
    """The batch if the current account may see it, else None (an id typed in the browser proves nothing)."""
    frame = _visible_imports(None)
    match = frame[frame["id"] == batch_id]
    return None if match.empty else match.iloc[0]


@guarded_callback(
    PERMISSION,
    Output("imports-detail", "children"),
    Input("imports-table", "selected_rows"),
    State("imports-table", "data"),
)
def show_report(selected, data):
    if not selected or not data or selected[0] >= len(data):
        return html.P("Aucun import choisi.", className="obs-muted", id="imports-aucun")
    batch_id = int(data[selected[0]]["id"])
    batch = _batch_row(batch_id)
    if batch is None:
        return html.Div(
            "Cet import n'existe pas ou ne vous est pas accessible.",
            className="obs-alerte obs-alerte-erreur",
            id="imports-inaccessible",
        )
    try:
        report = batch_admin.import_report(engine(), batch_id)
    except ObservatoireError:
        report = None
    head = [
        html.H2(f"Lot n° {batch_id} — {batch.file_name or 'sans nom'}"),
        html.P(
            f"{_source_label(batch.source)} · importé par {batch.user_login or 'inconnu'} le "
            f"{fmt.moment(batch.started_at)} · état : {status_label(batch.status)}",
            id="imports-entete",
        ),
    ]
    if can(UNDO) and batch.status == "importe" and batch.source in batch_admin.UNDO_TABLES:
        head.append(
            html.Button("Annuler cet import", id="imports-annuler", className="obs-bouton obs-pm-danger")
        )
    body = (
        report_view(report, "imports-rapport")
        if report
        else html.P("Aucun rapport détaillé n'a été conservé pour ce lot.", className="obs-muted")
    )
    return html.Section([*head, body], className="obs-bloc obs-pm-lot", id=f"imports-lot-{batch_id}")


@guarded_callback(
    UNDO,
    [Output("imports-confirmer", "displayed"), Output("imports-confirmer", "message")],
    Input("imports-annuler", "n_clicks"),
    State("imports-table", "selected_rows"),
    State("imports-table", "data"),
    prevent_initial_call=True,
)
def ask_confirmation(clicks, selected, data):
    if not clicks or not selected or not data:
        return False, ""
    row = data[selected[0]]
    return True, (
        f"Annuler l'import n° {row['id']} ({row['file_name']}) ? Ses {row['inserted']} ligne(s) seront "
        "supprimées de l'observatoire. Le lot reste dans la liste et l'annulation est journalisée."
    )


@guarded_callback(
    UNDO,
    [Output("imports-annule", "data"), Output("imports-message", "children")],
    Input("imports-confirmer", "submit_n_clicks"),
    State("imports-table", "selected_rows"),
    State("imports-table", "data"),
    prevent_initial_call=True,
)
def undo(submitted, selected, data):
    from flask_login import current_user

    if not submitted or not selected or not data:
        return None, ""
    batch_id = int(data[selected[0]]["id"])
    try:
        deleted = batch_admin.undo_import(engine(), batch_id, user=current_user.login, role=current_role())
    except ObservatoireError as exc:
        return None, html.Div(exc.message, className="obs-alerte obs-alerte-erreur", id="imports-erreur")
    return {"lot": batch_id, "supprimees": deleted}, html.Div(
        f"Import n° {batch_id} annulé : {fmt.number(deleted)} ligne(s) supprimée(s).",
        className="obs-alerte obs-alerte-info",
        id="imports-annulation-faite",
    )


register_page(__name__, path="/imports", name="Imports", permission=PERMISSION, render=render, order=80)
