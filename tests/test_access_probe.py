"""Every Flask route and every Dash callback, asked anonymously and with each role, answers as the
permission table says. A new route or callback without a rule makes this test fail."""

from __future__ import annotations

import json

import pytest

from dashboard import security
from observatoire.auth import add_user
from observatoire.permissions import ROLES, allowed
from tests.helpers_web import PASSWORD, dash_csrf, login

_SAMPLE_VALUES = {
    "filename": "style.css",
    "path": "journal",
    "package_name": "dash",
    "fingerprinted_path": "dash-renderer/build/dash_renderer.v0_0_0m1.min.js",
}


@pytest.fixture
def app(settings, engine):
    from dashboard.app import create_app

    for role in ROLES:
        add_user(engine, f"sonde-{role.replace('_', '-')}", role, PASSWORD)
    app = create_app(settings)
    # The pages router registers its callback on the first request.
    client = app.server.test_client()
    login(client, "sonde-admin")
    client.get("/_dash-dependencies")
    return app


def _clients(app):
    yield None, app.server.test_client()
    for role in ROLES:
        client = app.server.test_client()
        assert login(client, f"sonde-{role.replace('_', '-')}").status_code == 302
        yield role, client


def _url(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(
            f"<{rule._converters[arg].__class__.__name__.lower().replace('converter', '')}:{arg}>",
            _SAMPLE_VALUES[arg],
        )
        url = url.replace(f"<{arg}>", _SAMPLE_VALUES[arg])
    for arg in rule.arguments:
        for conv in ("string", "path"):
            url = url.replace(f"<{conv}:{arg}>", _SAMPLE_VALUES[arg])
    return url


def test_every_route_has_a_rule(app):
    missing = [r.endpoint for r in app.server.url_map.iter_rules() if r.endpoint not in security.ROUTE_RULES]
    assert missing == [], f"routes sans règle d'accès dans dashboard/security.py : {missing}"


def test_every_route_anonymous_and_per_role(app):
    # Logging out last: it ends the session the other requests use.
    rules = sorted(
        (r for r in app.server.url_map.iter_rules() if "GET" in r.methods),
        key=lambda r: r.endpoint == "logout",
    )
    for role, client in _clients(app):
        for rule in rules:
            access = security.ROUTE_RULES[rule.endpoint]
            url = _url(rule)
            answer = client.get(url)
            if access == security.PUBLIC:
                assert answer.status_code not in (401, 403), (role, url)
                continue
            if role is None:
                if url.startswith(("/_dash-", "/_reload-hash")):
                    assert answer.status_code == 401, url
                else:
                    assert answer.status_code == 302 and "/login" in answer.headers["Location"], url
                assert b"Journal" not in answer.data
                continue
            if access not in (security.SESSION,):
                assert (answer.status_code == 403) != allowed(role, access), (role, url)
            else:
                assert answer.status_code not in (401, 403), (role, url, answer.status_code)


def _payload(output_key: str, callback: dict) -> dict:
    parts = output_key.strip(".").split("...")
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    return {
        "output": output_key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{**i, "value": None} for i in callback["inputs"]],
        "state": [{**s, "value": None} for s in callback["state"]],
        "changedPropIds": [],
    }


def test_every_callback_declares_a_permission(app):
    undeclared = [key for key in app.callback_map if security._callback_permission(key) is None]
    assert undeclared == [], f"callbacks sans permission (utilisez guarded_callback) : {undeclared}"


def test_every_callback_anonymous_and_per_role(app):
    callbacks = dict(app.callback_map)
    assert len(callbacks) >= 2  # the pages router and at least the audit page
    for role, client in _clients(app):
        headers = {"Content-Type": "application/json"}
        if role is not None:
            headers[security.CSRF_HEADER] = dash_csrf(client)
        for key, callback in callbacks.items():
            body = json.dumps(_payload(key, callback))
            answer = client.post("/_dash-update-component", data=body, headers=headers)
            permission = security._callback_permission(key)
            if role is None:
                assert answer.status_code == 401, key
            elif permission == security.SESSION or allowed(role, permission):
                assert answer.status_code not in (401, 403), (role, key, answer.status_code)
            else:
                assert answer.status_code == 403, (role, key)
                assert answer.get_json() == {"erreur": "Votre rôle ne permet pas cette action."}


def test_callbacks_refused_without_csrf_header(app):
    client = app.server.test_client()
    login(client, "sonde-admin")
    key = next(k for k in app.callback_map if k.startswith("..journal-table"))
    body = json.dumps(_payload(key, app.callback_map[key]))
    answer = client.post("/_dash-update-component", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 403


def test_navigation_shows_only_the_pages_of_the_role(app):
    for role, client in _clients(app):
        if role is None:
            continue
        layout = client.get("/_dash-layout").get_data(as_text=True)
        assert ("Journal d'audit" in layout) == allowed(role, "audit.voir"), role
        assert "Accueil" in layout


@pytest.mark.parametrize(
    "path, marker, permission",
    [
        ("/journal", "journal-table", "audit.voir"),
        ("/comptes", "comptes-liste", "utilisateurs.gerer"),
        ("/videoprotection/depot", "video-depot-fichier", "video.gerer"),
    ],
)
def test_restricted_page_content_refused_and_view_audited(app, engine, path, marker, permission):
    import sqlalchemy as sa

    router = next(k for k in app.callback_map if k.startswith("..") and "_pages_content" in k)
    for role, client in _clients(app):
        if role is None:
            continue
        payload = _payload(router, app.callback_map[router])
        payload["inputs"] = [
            {**i, "value": path if i["property"] == "pathname" else ""}
            for i in app.callback_map[router]["inputs"]
        ]
        answer = client.post(
            "/_dash-update-component",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
        )
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200
        assert (marker in text) == allowed(role, permission), (role, path)
    with engine.connect() as conn:
        views = (
            conn.execute(
                sa.text("SELECT user_login FROM obs.audit_log WHERE action = 'consultation' AND target = :t"),
                {"t": path},
            )
            .scalars()
            .all()
        )
    assert sorted(views) == sorted(f"sonde-{r.replace('_', '-')}" for r in ROLES if allowed(r, permission))


def test_pages_load_nothing_from_another_origin(app):
    import re

    client = app.server.test_client()
    login(client, "sonde-admin")
    html = client.get("/").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
