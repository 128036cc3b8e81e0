"""Every request checked on the server: routes, pages, callbacks, downloads.

Deny by default: a route without a rule in ``ROUTE_RULES`` or a callback registered without a
permission is refused, and the route probe test fails until the new thing says who may use it.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import dash
import flask
from flask_login import current_user, logout_user

from observatoire import audit
from observatoire.permissions import PERMISSIONS, allowed

log = logging.getLogger(__name__)

PUBLIC = "public"  # no session needed: the login form and static code, never data
SESSION = "session"  # any logged-in account; what it returns is filtered further down

# Flask endpoint -> PUBLIC | SESSION | a permission of observatoire.permissions.
ROUTE_RULES: dict[str, str] = {
    "static": PUBLIC,
    "_dash_assets.static": PUBLIC,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": PUBLIC,
    "/_favicon.ico": PUBLIC,
    "login": PUBLIC,
    "logout": SESSION,
    "/_dash-layout": SESSION,
    "/_dash-dependencies": SESSION,
    "/_dash-update-component": SESSION,  # then checked per callback, below
    "/_reload-hash": SESSION,
    "/": SESSION,  # page shells: the page content comes through the guarded page callback
    "/<path:path>": SESSION,
}

# Paths answered with 401/403 rather than a redirect, because a script (not a person) asks for them.
_DATA_PREFIXES = ("/_dash-", "/_reload-hash", "/telechargement/", "/api/")

# Callback output id -> permission. Filled by guarded_callback() and register_internal_callbacks().
CALLBACK_PERMISSIONS: dict[str, str] = {}
# Declared by page modules at import, bound to each app by bind_callbacks(): Dash's global callback list
# is emptied by the first app, and tests build several apps in one process.
_DECLARED_CALLBACKS: list[tuple[Any, tuple, dict, Callable]] = []
CSRF_COOKIE = "obs_csrf"
CSRF_HEADER = "X-CSRFToken"


def csrf_token() -> str:
    token = flask.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session["csrf"] = token
    return token


def csrf_valid(candidate: str | None) -> bool:
    expected = flask.session.get("csrf")
    return bool(candidate and expected and hmac.compare_digest(candidate, expected))


def current_role() -> str | None:
    return current_user.role if current_user.is_authenticated else None


def can(permission: str) -> bool:
    return allowed(current_role(), permission)


class RefusalThrottle:
    """Which refusals go to the audit log: one per (address, path, status) and minute, and at most
    ``per_address`` per address and minute, so a script knocking on every door cannot flood the log.
    The count restarts at each minute of the clock."""

    def __init__(
        self, per_address: int = 20, window_seconds: int = 60, clock: Callable[[], float] = time.time
    ):
        self.per_address = per_address
        self.window_seconds = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._seen: set[tuple[str, str, int]] = set()
        self._per_address: dict[str, int] = {}

    def admit(self, address: str, path: str, status: int, now: float | None = None) -> bool:
        window = int((self.clock() if now is None else now) // self.window_seconds)
        key = (address, path, status)
        with self._lock:
            if window != self._window:
                self._window, self._seen, self._per_address = window, set(), {}
            if key in self._seen:
                return False
            count = self._per_address.get(address, 0)
            if count >= self.per_address:
                if count == self.per_address:
                    log.warning(
                        "refus de %s non journalisés jusqu'à la minute suivante (plus de %d)",
                        address,
                        self.per_address,
                    )
                    self._per_address[address] = count + 1
                return False
            self._seen.add(key)
            self._per_address[address] = count + 1
            return True


_THROTTLE_LOCK = threading.Lock()


def _refusal_throttle() -> RefusalThrottle:
    extensions = flask.current_app.extensions
    with _THROTTLE_LOCK:
        return extensions.setdefault("obs_refusals", RefusalThrottle())


def audit_refusal(status: int, reason: str, target: str | None = None, **detail: Any) -> None:
    """Write a refused request to the audit log (``acces_refuse``): path, status, account if any, address.

    Never lets the refusal itself fail: a log that cannot be written is reported in the server's log."""
    request = flask.request
    address = request.remote_addr or "inconnue"
    target = (target or request.path)[:300]
    if not _refusal_throttle().admit(address, target, status):
        return
    logged_in = current_user.is_authenticated
    try:
        audit.record_now(
            flask.current_app.config["OBS_ENGINE"],
            "acces_refuse",
            user_login=current_user.login if logged_in else None,
            role=current_user.role if logged_in else None,
            target=target,
            ip=request.remote_addr,
            detail={"statut": status, "methode": request.method, "motif": reason, **detail},
        )
    except Exception:
        log.exception("refus non journalisé : %s %s", status, target)


def _refuse(status: int, message: str, **detail: Any) -> flask.Response:
    if status in (401, 403):
        audit_refusal(status, message, **detail)
    return flask.make_response(flask.jsonify({"erreur": message}), status)


# Dash's own pages router: it returns page layouts, each of which checks its permission itself. Its outputs
# exactly: any other id, even one starting with ``_pages_``, names no callback (refused, not a Dash error).
_INTERNAL_OUTPUTS = frozenset({".._pages_content.children..._pages_store.data..", "_pages_dummy.children"})


def _callback_permission(output_id: str) -> str | None:
    if output_id in CALLBACK_PERMISSIONS:
        return CALLBACK_PERMISSIONS[output_id]
    return SESSION if output_id in _INTERNAL_OUTPUTS else None


def guard_request() -> flask.Response | None:
    """``before_request``: session, inactivity timeout, route rule, CSRF and callback permission."""
    endpoint = flask.request.endpoint
    rule = ROUTE_RULES.get(endpoint or "")
    path = flask.request.path
    is_data = path.startswith(_DATA_PREFIXES)
    if rule is None:
        log.error("route sans règle d'accès : %s (%s)", endpoint, path)
        return _refuse(404 if endpoint is None else 403, "Accès refusé.")
    if rule == PUBLIC:
        return None

    settings = flask.current_app.config["OBS_SETTINGS"]
    if current_user.is_authenticated:
        last_seen = flask.session.get("last_seen", 0)
        if time.time() - last_seen > settings.session_timeout_minutes * 60:
            logout_user()
            flask.session.clear()
            flask.flash("Votre session a expiré après une période d'inactivité. Reconnectez-vous.")
        elif path != "/_reload-hash":  # the renderer's own polling is not user activity
            flask.session["last_seen"] = time.time()
    if not current_user.is_authenticated:
        if is_data:
            return _refuse(401, "Session requise.")
        return flask.redirect(flask.url_for("login", next=path if path != "/" else None))

    if rule not in (SESSION, PUBLIC) and not can(rule):
        return _refuse(403, "Votre rôle ne permet pas cette action.")
    if path == "/_dash-update-component":
        if not csrf_valid(flask.request.headers.get(CSRF_HEADER)):
            return _refuse(403, "Jeton anti-falsification (CSRF) manquant ou invalide : rechargez la page.")
        body = flask.request.get_json(silent=True) or {}
        permission = _callback_permission(str(body.get("output", "")))
        if permission is None:
            log.error("callback sans permission déclarée : %s", body.get("output"))
            return _refuse(403, "Action non autorisée.", callback=str(body.get("output", ""))[:300])
        if permission != SESSION and not can(permission):
            return _refuse(
                403,
                "Votre rôle ne permet pas cette action.",
                callback=str(body.get("output", ""))[:300],
                permission=permission,
            )
    return None


# Config key of a function giving the hashes of the inline scripts of Dash's index page (``Dash.csp_hashes``):
# called at each answer, because Dash pages adds its page-title script at the first request.
SCRIPT_HASHES = "OBS_SCRIPT_HASHES"


def _csp(settings, script_hashes: tuple[str, ...] = ()) -> str:
    img = ["'self'", "data:", "blob:"]
    if settings.tiles_enabled:
        parsed = urlparse(settings.tiles_url.replace("{s}", "a"))
        img.append(f"{parsed.scheme}://{parsed.hostname}")
    return "; ".join(
        [
            "default-src 'self'",
            # Scripts from this server only, plus the inline ones Dash itself writes, each by its hash: no
            # inline handler nor injected <script> runs, and no eval (Plotly's SVG charts need none).
            " ".join(["script-src 'self'", *script_hashes]),
            # Kept for styles: Plotly, Leaflet and Dash's components write style attributes and <style>
            # elements (without them the charts lay out wrong), and a style cannot run script.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(img)}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


def security_headers(response: flask.Response) -> flask.Response:
    settings = flask.current_app.config["OBS_SETTINGS"]
    hashes = flask.current_app.config.get(SCRIPT_HASHES)
    response.headers["Content-Security-Policy"] = _csp(settings, tuple(hashes()) if hashes else ())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if flask.request.is_secure:  # over HTTPS, directly or through a trusted proxy (dashboard/proxies.py)
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if flask.request.path.startswith(_DATA_PREFIXES) or response.mimetype == "text/html":
        # Nothing restricted may come back from the browser's cache after logout (back button).
        response.headers["Cache-Control"] = "no-store"
    if current_user and current_user.is_authenticated:
        response.set_cookie(
            CSRF_COOKIE, csrf_token(), samesite="Strict", secure=flask.request.is_secure, httponly=False
        )  # the Dash renderer must read it to send it back as a header
    return response


def _output_key(output: Any) -> str:
    outputs = output if isinstance(output, list | tuple) else [output]
    parts = [f"{o.component_id}.{o.component_property}" for o in outputs]
    return (
        ("..{}..".format("...".join(parts)))
        if isinstance(output, list | tuple) and len(parts) > 1
        else parts[0]
    )


def guarded_callback(permission: str, output: Any, *args: Any, **kwargs: Any) -> Callable:
    """``dash.callback`` that refuses to run for a role without ``permission``.

    The check happens twice on purpose: in ``guard_request`` before Dash parses anything, and here, so
    a callback called some other way is still protected.
    """
    if permission != SESSION and permission not in PERMISSIONS:
        raise KeyError(f"permission inconnue : {permission!r}")

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            if not current_user.is_authenticated or (permission != SESSION and not can(permission)):
                raise dash.exceptions.PreventUpdate
            return func(*a, **kw)

        CALLBACK_PERMISSIONS[_output_key(output)] = permission
        _DECLARED_CALLBACKS.append((output, args, kwargs, wrapper))
        return wrapper

    return decorator


def bind_callbacks(app: dash.Dash) -> None:
    for output, args, kwargs, func in _DECLARED_CALLBACKS:
        app.callback(output, *args, **kwargs)(func)


def register_page(
    module: str,
    *,
    path: str,
    name: str,
    permission: str,
    render: Callable[..., Any],
    order: int = 50,
    restricted: bool = True,
    **kwargs: Any,
) -> None:
    """``dash.register_page`` whose layout is refused to roles without ``permission`` and whose
    views are audited when the page is restricted."""
    if permission not in PERMISSIONS:
        raise KeyError(f"permission inconnue : {permission!r}")

    def layout(**params: Any) -> Any:
        from dash import html

        if not can(permission):
            audit_refusal(
                403, "Votre rôle ne donne pas accès à cette page.", target=path, permission=permission
            )
            return html.Div(
                className="obs-alerte obs-alerte-erreur",
                role="alert",
                children="Votre rôle ne donne pas accès à cette page.",
            )
        if restricted:
            from dashboard.context import audit_view

            audit_view(path)
        return render(**params)

    dash.register_page(
        module,
        path=path,
        name=name,
        title=f"{name} – Observatoire",
        order=order,
        layout=layout,
        permission=permission,
        **kwargs,
    )
