"""The login and logout routes: a plain French form, CSRF token, no account enumeration.

A session carries the account's ``session_version``, the time of its login and a digest of the browser's
User-Agent; :func:`load_user` compares them at every request, so a logout, a password reset, a role change
(anywhere) or the session's maximum age ends it, and a cookie copied to another browser opens nothing.
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlsplit

import flask
from flask_login import UserMixin, current_user, login_user, logout_user

from dashboard.security import csrf_token, csrf_valid
from observatoire import auth
from observatoire.auth import PendingLogin, User, authenticate, authenticate_code, get_user
from observatoire.errors import AuthenticationFailed, LoginThrottled, SecondFactorFailed
from observatoire.permissions import ROLES

# Time allowed between the right password and the TOTP code.
PENDING_SECONDS = 300
SESSION_ENDED = "Votre session a pris fin (déconnexion, mot de passe ou rôle changé) : reconnectez-vous."
FORM_EXPIRED = "Le formulaire a expiré ou n'est pas valide : veuillez réessayer."


class SessionUser(UserMixin):
    def __init__(self, user: User):
        self.id = user.id
        self.login = user.login
        self.role = user.role

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def _agent() -> str:
    return hashlib.sha256(flask.request.headers.get("User-Agent", "").encode()).hexdigest()[:32]


def _session_end_reason(user: User | None) -> str | None:
    """Why the session cannot go on, in French, or None when it may."""
    session = flask.session
    settings = flask.current_app.config["OBS_SETTINGS"]
    if user is None or not user.active or session.get("ver") != user.session_version:
        return SESSION_ENDED
    if time.time() - session.get("login_at", 0) > settings.session_max_hours * 3600:
        return (
            f"Votre session a atteint sa durée maximale ({settings.session_max_hours} h) : reconnectez-vous."
        )
    if session.get("ua") != _agent():
        return SESSION_ENDED
    return None


def load_user(user_id: str) -> SessionUser | None:
    """Read the account at every request and check the session against it: anything ended since its login
    (logout, password reset, role change, disabled account, maximum age, another browser) ends it now."""
    try:
        user = get_user(flask.current_app.config["OBS_ENGINE"], int(user_id))
    except ValueError:
        user = None
    reason = _session_end_reason(user)
    if reason:
        flask.session.clear()
        flask.flash(reason)
        return None
    return SessionUser(user)


def _start_session(user: User) -> None:
    flask.session.clear()  # a fresh session id after login (no fixation)
    login_user(SessionUser(user))
    flask.session.permanent = True
    now = time.time()
    flask.session.update(last_seen=now, login_at=now, ver=user.session_version, ua=_agent())
    csrf_token()


_HEAD = """<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} – Observatoire de la tranquillité publique</title>
  <link rel="stylesheet" href="/assets/style.css">
</head>
<body class="obs-login-body">
  <main class="obs-login">
    <h1>Observatoire local de la tranquillité publique</h1>
    {% for message in messages %}<div class="obs-alerte obs-alerte-info" role="status">{{ message }}</div>{% endfor %}
    {% if error %}<div class="obs-alerte obs-alerte-erreur" role="alert" id="login-erreur">{{ error }}</div>{% endif %}
"""

_PAGE = (
    _HEAD
    + """
    {% if step == "code" %}
    <p class="obs-muted">Second facteur : saisissez le code à 6 chiffres affiché par votre application
      d'authentification pour le compte <strong>{{ pending_login }}</strong>.</p>
    <form method="post" action="/login{% if next %}?next={{ next|urlencode }}{% endif %}" autocomplete="off">
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <input type="hidden" name="step" value="code">
      <label for="code">Code à usage unique</label>
      <input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7"
             autocomplete="one-time-code" required autofocus>
      <button type="submit" id="login-valider">Valider le code</button>
    </form>
    <p class="obs-petit"><a href="/login?recommencer=1">Recommencer avec un autre compte</a></p>
    {% else %}
    <p class="obs-muted">Accès réservé aux membres habilités du CLSPDR.</p>
    <form method="post" action="/login{% if next %}?next={{ next|urlencode }}{% endif %}" autocomplete="on">
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <label for="username">Identifiant</label>
      <input id="username" name="username" type="text" autocomplete="username" required value="{{ username }}">
      <label for="password">Mot de passe</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit" id="login-valider">Se connecter</button>
    </form>
    {% endif %}
    <p class="obs-muted obs-petit">Chaque connexion et chaque consultation de données restreintes sont journalisées.</p>
  </main>
</body>
</html>"""
)

_LOGOUT_PAGE = (
    _HEAD
    + """
    <p>Vous êtes connecté en tant que <strong>{{ login }}</strong>. Se déconnecter ferme aussi les sessions
      ouvertes avec ce compte dans d'autres navigateurs.</p>
    <form method="post" action="/logout">
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <button type="submit" id="logout-valider">Se déconnecter</button>
    </form>
    <p class="obs-petit"><a href="/">Revenir au tableau de bord</a></p>
  </main>
</body>
</html>"""
)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: browsers drop tabs and line breaks (``/%09/evil.example`` becomes
    ``//evil.example``, another site), and a line break in a ``Location`` header is refused outright."""
    if not target or any(ord(c) < 0x21 or c in "\\\x7f" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


# Where a role lands after logging in when no page was asked for; the others land on Accueil.
LANDING = {"conseil": "/synthese"}


def _landing(role: str | None) -> str:
    return LANDING.get(role or "", "/")


def _pending() -> PendingLogin | None:
    """The login whose password was right and whose TOTP code is awaited, if still recent."""
    data = flask.session.get("totp_pending")
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_SECONDS:
        flask.session.pop("totp_pending", None)
        return None
    return PendingLogin(user_id=data["uid"], login=data["login"], session_version=data["ver"])


def login_view() -> flask.Response | str:
    settings = flask.current_app.config["OBS_SETTINGS"]
    engine = flask.current_app.config["OBS_ENGINE"]
    next_url = flask.request.args.get("next")
    ip = flask.request.remote_addr
    error = None
    username = ""
    status = 200
    retry_after = None
    if flask.request.method == "POST":
        form = flask.request.form
        username = form.get("username", "")[:80]
        if not csrf_valid(form.get("csrf_token")):
            error, status = FORM_EXPIRED, 400
        elif form.get("step") == "code":
            pending = _pending()
            if pending is None:
                error, status = "Le délai de saisie du code est dépassé : reconnectez-vous.", 400
            else:
                try:
                    user = authenticate_code(engine, settings, pending, form.get("code", ""), ip=ip)
                except SecondFactorFailed as exc:
                    error, status = exc.message, 401
                except LoginThrottled as exc:
                    flask.session.pop("totp_pending", None)
                    error, status, retry_after = exc.message, 429, exc.retry_after
                except AuthenticationFailed as exc:
                    flask.session.pop("totp_pending", None)
                    error, status = exc.message, 401
                else:
                    _start_session(user)
                    return flask.redirect(_safe_next(next_url or _landing(user.role)))
        else:
            flask.session.pop("totp_pending", None)
            try:
                result = authenticate(engine, settings, username, form.get("password", ""), ip=ip)
            except LoginThrottled as exc:
                error, status, retry_after = exc.message, 429, exc.retry_after
            except AuthenticationFailed as exc:
                error, status = exc.message, 401
            else:
                if isinstance(result, PendingLogin):
                    flask.session["totp_pending"] = {
                        "uid": result.user_id,
                        "login": result.login,
                        "ver": result.session_version,
                        "at": time.time(),
                    }
                else:
                    _start_session(result)
                    return flask.redirect(_safe_next(next_url or _landing(result.role)))
    elif current_user.is_authenticated:
        return flask.redirect(_safe_next(next_url))
    elif flask.request.args.get("recommencer"):
        flask.session.pop("totp_pending", None)
    pending = _pending()
    html = flask.render_template_string(
        _PAGE,
        title="Connexion",
        csrf=csrf_token(),
        error=error,
        next=next_url,
        username=username,
        messages=flask.get_flashed_messages(),
        step="code" if pending else "password",
        pending_login=pending.login if pending else "",
    )
    response = flask.make_response(html, status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def logout_view() -> flask.Response:
    """Only the form's POST, with its CSRF token, logs out: a link or an image another site points at
    ``/logout`` gets the confirmation form instead."""
    if flask.request.method == "POST" and csrf_valid(flask.request.form.get("csrf_token")):
        auth.logout(flask.current_app.config["OBS_ENGINE"], current_user.id, ip=flask.request.remote_addr)
        logout_user()
        flask.session.clear()
        flask.flash("Vous êtes déconnecté.")
        response = flask.redirect(flask.url_for("login"))
        response.delete_cookie("obs_csrf")
        return response
    refused = flask.request.method == "POST"
    html = flask.render_template_string(
        _LOGOUT_PAGE,
        title="Déconnexion",
        csrf=csrf_token(),
        login=current_user.login,
        error=FORM_EXPIRED if refused else None,
        messages=[],
    )
    return flask.make_response(html, 400 if refused else 200)
