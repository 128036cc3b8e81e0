"""``create_app(settings)``: the Dash app on a Flask server where every request is checked."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from datetime import timedelta
from html import escape as html_escape

import dash
import flask
import sqlalchemy.exc
from dash import dcc, html
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user

from dashboard import login as login_views
from dashboard import proxies, security
from observatoire.db import get_engine, limit_message, track_sessions
from observatoire.errors import ObservatoireError
from observatoire.events import store as event_store
from observatoire.permissions import allowed
from observatoire.settings import Settings, get_settings

log = logging.getLogger(__name__)

UNREACHABLE = (
    "La base de données est momentanément injoignable : réessayez dans un instant ; si cela dure, prévenez "
    "l'administrateur."
)


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookie whenever the request itself came over HTTPS (directly or through a proxy)."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        return bool(
            app.config["SESSION_COOKIE_SECURE"] or (flask.has_request_context() and flask.request.is_secure)
        )


def _on_error(err: Exception) -> None:
    """One place where callback errors become a French alert; the detail goes to the log only."""
    if isinstance(err, ObservatoireError):
        log.warning("%s (%s)", err.message, err.detail)
        message = err.message
    elif limit_message(err):
        log.warning("%s (%s)", limit_message(err), err)
        message = limit_message(err)
    else:
        log.exception("erreur dans un callback", exc_info=err)
        message = "Une erreur inattendue est survenue ; elle a été consignée. Réessayez ou prévenez l'administrateur."
    dash.set_props("shell-alerte", {"children": message, "className": "obs-alerte obs-alerte-erreur"})


def _database_limit(err: Exception) -> flask.Response:
    """A request that found the database saturated, too slow or gone (before or outside any callback: the
    session's account, the login form) is answered in French, 503, not with a bare 500."""
    message = limit_message(err)
    if message is None:
        log.exception("base de données injoignable (%s %s)", flask.request.method, flask.request.path)
        message = UNREACHABLE
    else:
        log.warning("%s (%s %s : %s)", message, flask.request.method, flask.request.path, err)
    if flask.request.path.startswith(("/_dash-", "/_reload-hash")):
        response = flask.make_response(flask.jsonify({"erreur": message}), 503)
    else:
        page = (
            '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Observatoire</title>'
            '<link rel="stylesheet" href="/assets/style.css"></head><body><main class="obs-login">'
            f'<div class="obs-alerte obs-alerte-erreur" role="alert" id="erreur-base">{html_escape(message)}'
            "</div></main></body></html>"
        )
        response = flask.make_response(page, 503)
    response.headers["Retry-After"] = "5"
    return response


def _navigation() -> list:
    role = security.current_role()
    links = []
    for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 50)):
        permission = page.get("permission")
        if permission and allowed(role, permission) and not page.get("hidden"):
            links.append(
                dcc.Link(
                    page["name"],
                    href=page["relative_path"],
                    className="obs-nav-lien",
                    id=f"nav-{page['module'].rsplit('.', 1)[-1]}",
                )
            )
    return links


def _shell() -> html.Div:
    from dashboard.context import engine, settings
    from observatoire.territories import is_demo, territory_name

    if not current_user.is_authenticated:  # the layout route is guarded; this is belt and braces
        return html.Div("Session requise.")
    commune = settings().commune_code
    name = territory_name(engine(), commune) or settings().commune
    banner = []
    if is_demo(engine()):
        banner = [
            html.Div(
                "Données fictives de démonstration : aucun chiffre affiché ici n'est réel.",
                className="obs-bandeau-demo",
                id="shell-demo",
            )
        ]
    return html.Div(
        [
            html.Header(
                [
                    html.Div(
                        [
                            html.Span("Observatoire de la tranquillité publique", className="obs-titre"),
                            html.Span(name, className="obs-commune", id="shell-commune"),
                        ]
                    ),
                    html.Div(
                        [
                            html.Span(
                                f"{current_user.login} · {current_user.role_label}", id="shell-utilisateur"
                            ),
                            # A form, not a link: only a POST carrying the CSRF token logs out (the button sends it).
                            html.Form(
                                html.Button(
                                    "Se déconnecter",
                                    type="submit",
                                    name="csrf_token",
                                    value=security.csrf_token(),
                                    className="obs-bouton-secondaire",
                                    id="shell-deconnexion",
                                ),
                                method="post",
                                action="/logout",
                                className="obs-deconnexion",
                            ),
                        ],
                        className="obs-compte",
                    ),
                ],
                className="obs-entete",
            ),
            html.Nav(
                _navigation(), className="obs-nav", id="shell-nav", **{"aria-label": "Navigation principale"}
            ),
            *banner,
            html.Div(id="shell-alerte", role="alert"),
            html.Main(dash.page_container, className="obs-contenu"),
        ]
    )


def _import_pages() -> None:
    import dashboard.pages as pages

    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda i: i.name):
        importlib.import_module(f"{pages.__name__}.{info.name}")


def create_app(settings: Settings | None = None) -> dash.Dash:
    settings = settings or get_settings()
    settings.check_for_serving()
    server = flask.Flask("observatoire")
    engine = get_engine(settings)
    # The map filters its events in memory; the copy follows every import through obs.data_version.
    event_store.enable(engine)
    track_sessions(engine)  # the upload pages' watchdog ends the sessions of a job it stops
    server.config.update(
        SECRET_KEY=settings.secret_key,
        OBS_SETTINGS=settings,
        OBS_ENGINE=engine,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        SESSION_COOKIE_NAME="obs_session",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_timeout_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=200 * 1024 * 1024,
    )
    server.session_interface = _SessionInterface()
    # Behind trusted reverse proxies, the client's address and scheme come from their X-Forwarded-* headers.
    server.wsgi_app = proxies.trusted_proxies(server.wsgi_app, settings)
    login_manager = LoginManager(server)
    login_manager.user_loader(login_views.load_user)
    login_manager.session_protection = "strong"
    server.add_url_rule("/login", "login", login_views.login_view, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", login_views.logout_view, methods=["GET", "POST"])
    server.before_request(security.guard_request)
    server.after_request(security.security_headers)
    server.register_error_handler(sqlalchemy.exc.TimeoutError, _database_limit)
    server.register_error_handler(sqlalchemy.exc.OperationalError, _database_limit)

    app = dash.Dash(
        "observatoire",
        server=server,
        use_pages=True,
        pages_folder="",
        title="Observatoire de la tranquillité publique",
        assets_folder=str(__import__("pathlib").Path(__file__).parent / "assets"),
        serve_locally=True,
        suppress_callback_exceptions=True,
        on_error=_on_error,
        update_title=None,
        csrf_token_name=security.CSRF_COOKIE,
        csrf_header_name=security.CSRF_HEADER,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="fr">')
    _import_pages()
    security.bind_callbacks(app)
    app.layout = _shell
    server.config[security.SCRIPT_HASHES] = app.csp_hashes  # the CSP allows Dash's inline scripts by hash
    return app
