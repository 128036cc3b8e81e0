"""The login and logout routes: a plain French form, CSRF token, no account enumeration."""

from __future__ import annotations

from urllib.parse import urlsplit

import flask
from flask_login import UserMixin, current_user, login_user, logout_user

from dashboard.security import csrf_token, csrf_valid
from observatoire import audit
from observatoire.auth import User, authenticate, get_user
from observatoire.errors import AuthenticationFailed
from observatoire.permissions import ROLES


class SessionUser(UserMixin):
    def __init__(self, user: User):
        self.id = user.id
        self.login = user.login
        self.role = user.role

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def load_user(user_id: str) -> SessionUser | None:
    """Read the account at every request: a disabled account or a changed role takes effect at once."""
    try:
        user = get_user(flask.current_app.config["OBS_ENGINE"], int(user_id))
    except ValueError:
        return None
    return SessionUser(user) if user and user.active else None


_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Connexion – Observatoire de la tranquillité publique</title>
  <link rel="stylesheet" href="/assets/style.css">
</head>
<body class="obs-login-body">
  <main class="obs-login">
    <h1>Observatoire local de la tranquillité publique</h1>
    <p class="obs-muted">Accès réservé aux membres habilités du CLSPDR.</p>
    {% for message in messages %}<div class="obs-alerte obs-alerte-info" role="status">{{ message }}</div>{% endfor %}
    {% if error %}<div class="obs-alerte obs-alerte-erreur" role="alert" id="login-erreur">{{ error }}</div>{% endif %}
    <form method="post" action="/login{% if next %}?next={{ next|urlencode }}{% endif %}" autocomplete="on">
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <label for="username">Identifiant</label>
      <input id="username" name="username" type="text" autocomplete="username" required value="{{ username }}">
      <label for="password">Mot de passe</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit" id="login-valider">Se connecter</button>
    </form>
    <p class="obs-muted obs-petit">Chaque connexion et chaque consultation de données restreintes sont journalisées.</p>
  </main>
</body>
</html>"""


def _safe_next(target: str | None) -> str:
    """Only a path of this site: browsers drop tabs and line breaks (``/%09/evil.example`` becomes
    ``//evil.example``, another site), and a line break in a ``Location`` header is refused outright."""
    if not target or any(ord(c) < 0x21 or c in "\\\x7f" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def login_view() -> flask.Response | str:
    settings = flask.current_app.config["OBS_SETTINGS"]
    engine = flask.current_app.config["OBS_ENGINE"]
    next_url = flask.request.args.get("next")
    error = None
    username = ""
    status = 200
    if flask.request.method == "POST":
        username = flask.request.form.get("username", "")[:80]
        if not csrf_valid(flask.request.form.get("csrf_token")):
            error = "Le formulaire a expiré ou n'est pas valide : veuillez réessayer."
            status = 400
        else:
            try:
                user = authenticate(
                    engine,
                    settings,
                    username,
                    flask.request.form.get("password", ""),
                    ip=flask.request.remote_addr,
                )
            except AuthenticationFailed as exc:
                error = exc.message
                status = 401
            else:
                flask.session.clear()  # a fresh session id after login (no fixation)
                login_user(SessionUser(user))
                flask.session.permanent = True
                import time

                flask.session["last_seen"] = time.time()
                csrf_token()
                return flask.redirect(_safe_next(next_url))
    elif current_user.is_authenticated:
        return flask.redirect(_safe_next(next_url))
    html = flask.render_template_string(
        _PAGE,
        csrf=csrf_token(),
        error=error,
        next=next_url,
        username=username,
        messages=flask.get_flashed_messages(),
    )
    return flask.make_response(html, status)


def logout_view() -> flask.Response:
    if current_user.is_authenticated:
        audit.record_now(
            flask.current_app.config["OBS_ENGINE"],
            "deconnexion",
            user_login=current_user.login,
            role=current_user.role,
            ip=flask.request.remote_addr,
        )
    logout_user()
    flask.session.clear()
    flask.flash("Vous êtes déconnecté.")
    response = flask.redirect(flask.url_for("login"))
    response.delete_cookie("obs_csrf")
    return response
