"""Comptes (administration): list accounts, add one, change a role, disable, reset a password.

Every action goes through the functions of ``observatoire.auth`` the CLI ``users`` uses: each is audited, and a
role or password change or a disabled account ends every session of that account (``session_version``).
Passwords are generated and shown once, here, to be handed to the holder; nothing keeps them afterwards.
"""

from __future__ import annotations

from dash import Input, Output, State, ctx, dcc, html
from flask_login import current_user

from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.context import engine
from dashboard.security import guarded_callback, register_page
from observatoire import auth
from observatoire.errors import ObservatoireError
from observatoire.permissions import ROLES

PERMISSION = "utilisateurs.gerer"
_ROLE_OPTIONS = [{"label": label, "value": key} for key, label in ROLES.items()]


def render(**_params) -> html.Div:
    return html.Div(
        [
            html.H1("Comptes"),
            html.P(
                "Chaque action est inscrite au journal d'audit. Un changement de rôle, un nouveau mot de passe "
                "ou une désactivation met fin aux sessions ouvertes du compte. Les mots de passe sont générés "
                "et affichés une seule fois : remettez-les au titulaire, ils ne sont plus lisibles ensuite.",
                className="obs-muted",
            ),
            html.Div(id="comptes-message", role="status", className="obs-alerte"),
            html.H2("Ajouter un compte"),
            html.Div(
                [
                    html.Label(
                        [
                            "Identifiant",
                            dcc.Input(id="comptes-nouvel-identifiant", type="text", placeholder="p.nom"),
                        ]
                    ),
                    html.Label(["Rôle", dropdown(id="comptes-nouveau-role", options=_ROLE_OPTIONS)]),
                    html.Button("Créer le compte", id="comptes-creer", className="obs-bouton"),
                ],
                className="obs-filtres",
            ),
            html.H2("Modifier un compte"),
            html.Div(
                [
                    html.Label(["Compte", dropdown(id="comptes-choix", options=[])]),
                    html.Label(["Nouveau rôle", dropdown(id="comptes-role", options=_ROLE_OPTIONS)]),
                    html.Button("Changer le rôle", id="comptes-changer-role", className="obs-bouton"),
                    html.Button(
                        "Nouveau mot de passe", id="comptes-reinitialiser", className="obs-bouton-secondaire"
                    ),
                    html.Button("Désactiver", id="comptes-desactiver", className="obs-bouton-secondaire"),
                ],
                className="obs-filtres",
            ),
            html.H2("Comptes existants"),
            html.Div(id="comptes-liste"),
        ]
    )


def _accounts_table(accounts: list[dict]) -> html.Table:
    header = ["Identifiant", "Rôle", "État", "Second facteur", "Dernière connexion", "Créé le"]
    rows = [
        html.Tr(
            [
                html.Th(a["login"], scope="row"),
                html.Td(ROLES.get(a["role"], a["role"]), className="obs-pm-texte"),
                html.Td("actif" if a["active"] else "désactivé", className="obs-pm-texte"),
                html.Td("oui" if a["totp"] else "non", className="obs-pm-texte"),
                html.Td(fmt.moment(a["last_login_at"]) if a["last_login_at"] else "jamais"),
                html.Td(fmt.moment(a["created_at"]) if a["created_at"] else ""),
            ],
            id=f"comptes-ligne-{a['login']}",
        )
        for a in accounts
    ]
    return html.Table(
        [
            html.Caption(f"{len(accounts)} compte(s)"),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in header])),
            html.Tbody(rows),
        ],
        className="obs-table",
        id="comptes-tableau",
    )


def _act(action: str | None, new_login, new_role, login, role) -> str | None:
    """Carry out the button's action through observatoire.auth; returns what the admin reads."""
    by = current_user.login
    if action == "comptes-creer":
        if not new_login or not new_role:
            raise ObservatoireError("Indiquez l'identifiant et le rôle du nouveau compte.")
        password = auth.generate_password()
        user = auth.add_user(engine(), new_login, new_role, password, by=by)
        return (
            f"Compte {user.login} créé (rôle : {ROLES[new_role]}). Mot de passe, affiché cette fois "
            f"seulement : {password}"
        )
    if action is None:
        return None
    if not login:
        raise ObservatoireError("Choisissez d'abord un compte dans la liste.")
    if login == by and action in ("comptes-changer-role", "comptes-desactiver"):
        # An administrator who demoted or disabled themselves could leave the commune without any.
        raise ObservatoireError(
            "Vous ne pouvez ni changer le rôle de votre propre compte ni le désactiver : demandez-le à un autre "
            "administrateur."
        )
    if action == "comptes-changer-role":
        if not role:
            raise ObservatoireError("Choisissez le nouveau rôle.")
        auth.set_role(engine(), login, role, by=by)
        return f"Compte {login} : rôle {ROLES[role]}. Ses sessions ouvertes ont pris fin."
    if action == "comptes-desactiver":
        auth.disable_user(engine(), login, by=by)
        return f"Compte {login} désactivé : il ne peut plus se connecter, ses sessions ont pris fin."
    if action == "comptes-reinitialiser":
        password = auth.generate_password()
        auth.reset_password(engine(), login, password, by=by)
        return (
            f"Mot de passe de {login} changé, ses sessions ont pris fin et ses verrous sont levés. Nouveau mot "
            f"de passe, affiché cette fois seulement : {password}"
        )
    return None


@guarded_callback(
    PERMISSION,
    [
        Output("comptes-message", "children"),
        Output("comptes-message", "className"),
        Output("comptes-liste", "children"),
        Output("comptes-choix", "options"),
    ],
    Input("comptes-creer", "n_clicks"),
    Input("comptes-changer-role", "n_clicks"),
    Input("comptes-desactiver", "n_clicks"),
    Input("comptes-reinitialiser", "n_clicks"),
    State("comptes-nouvel-identifiant", "value"),
    State("comptes-nouveau-role", "value"),
    State("comptes-choix", "value"),
    State("comptes-role", "value"),
)
def manage(_create, _role, _disable, _reset, new_login, new_role, login, role):
    try:
        message, style = (
            _act(ctx.triggered_id, new_login, new_role, login, role),
            "obs-alerte obs-alerte-info",
        )
    except ObservatoireError as exc:
        message, style = exc.message, "obs-alerte obs-alerte-erreur"
    accounts = auth.list_users(engine())
    options = [
        {"label": f"{a['login']} ({ROLES.get(a['role'], a['role'])})", "value": a["login"]}
        for a in accounts
        if a["active"]
    ]
    return message, style, _accounts_table(accounts), options


register_page(__name__, path="/comptes", name="Comptes", permission=PERMISSION, render=render, order=95)
