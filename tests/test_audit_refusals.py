"""Refused requests (401, 403, a page refused to a role) are written to the audit log, without flooding it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from dashboard import security
from observatoire import audit
from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, dash_csrf, login


@pytest.fixture
def app(settings, engine):
    from dashboard.app import create_app

    add_user(engine, "refus-admin", "admin", PASSWORD)
    add_user(engine, "refus-agent", "police_municipale", PASSWORD)
    return create_app(settings)


def _refusals(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT user_login, role, target, ip, detail FROM obs.audit_log WHERE action = 'acces_refuse' "
                "ORDER BY id"
            )
        ).all()


def test_anonymous_401_logged_once_a_minute_per_address_path_and_status(app, engine):
    now = [600.0]
    app.server.extensions["obs_refusals"] = security.RefusalThrottle(clock=lambda: now[0])
    client = app.server.test_client()
    for _ in range(3):
        assert client.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-dependencies").status_code == 401
    other = app.server.test_client()
    assert other.get("/_dash-layout", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 401
    rows = _refusals(engine)
    assert [(r.target, r.ip, r.user_login, r.role) for r in rows] == [
        ("/_dash-layout", "127.0.0.1", None, None),
        ("/_dash-dependencies", "127.0.0.1", None, None),
        ("/_dash-layout", "192.0.2.7", None, None),
    ]
    assert rows[0].detail == {"statut": 401, "methode": "GET", "motif": "Session requise."}

    now[0] += 59  # the same minute: still once
    assert client.get("/_dash-layout").status_code == 401
    assert len(_refusals(engine)) == 3
    now[0] += 1  # the next minute: the same refusal is written again
    assert client.get("/_dash-layout").status_code == 401
    assert len(_refusals(engine)) == 4
    assert audit.verify(engine).intact


def test_403_logged_with_the_account_the_role_and_the_callback(app, engine):
    client = app.server.test_client()
    assert login(client, "refus-agent").status_code == 302
    journal = next(k for k in app.callback_map if k.startswith("..journal-table"))
    body = json.dumps({"output": journal, "outputs": [], "inputs": [], "state": [], "changedPropIds": []})
    headers = {"Content-Type": "application/json"}
    assert client.post("/_dash-update-component", data=body, headers=headers).status_code == 403  # no CSRF
    headers[security.CSRF_HEADER] = dash_csrf(client)
    answer = client.post(
        "/_dash-update-component", data=body, headers=headers, environ_base={"REMOTE_ADDR": "198.51.100.4"}
    )
    assert answer.status_code == 403
    rows = _refusals(engine)
    assert [(r.user_login, r.role, r.target, r.ip) for r in rows] == [
        ("refus-agent", "police_municipale", "/_dash-update-component", "127.0.0.1"),
        ("refus-agent", "police_municipale", "/_dash-update-component", "198.51.100.4"),
    ]
    assert "CSRF" in rows[0].detail["motif"]
    assert rows[1].detail == {
        "statut": 403,
        "methode": "POST",
        "motif": "Votre rôle ne permet pas cette action.",
        "callback": journal,
        "permission": "audit.voir",
    }


def test_a_page_refused_to_a_role_is_logged(app, engine):
    client = app.server.test_client()
    assert login(client, "refus-agent").status_code == 302
    client.get("/_dash-dependencies")  # the pages router registers its callback on the first request
    router = next(k for k in app.callback_map if k.startswith("..") and "_pages_content" in k)
    inputs = [
        {**i, "value": "/journal" if i["property"] == "pathname" else ""}
        for i in app.callback_map[router]["inputs"]
    ]
    body = json.dumps(
        {
            "output": router,
            "outputs": [
                {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]}
                for p in router.strip(".").split("...")
            ],
            "inputs": inputs,
            "state": [],
            "changedPropIds": [],
        }
    )
    answer = client.post(
        "/_dash-update-component",
        data=body,
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )
    assert answer.status_code == 200 and "ne donne pas accès" in json.dumps(
        answer.get_json(), ensure_ascii=False
    )
    (row,) = _refusals(engine)
    assert (row.user_login, row.role, row.target) == ("refus-agent", "police_municipale", "/journal")
    assert row.detail["permission"] == "audit.voir"


def test_allowed_requests_and_redirects_are_not_logged(app, engine):
    client = app.server.test_client()
    assert client.get("/carte").status_code == 302  # a person is sent to the login form, not refused
    assert login(client, "refus-admin").status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    assert _refusals(engine) == []


def test_throttle_caps_each_address_per_minute():
    throttle = security.RefusalThrottle(per_address=3)
    admitted = [throttle.admit("203.0.113.9", f"/_dash-{i}", 401, now=60.0) for i in range(10)]
    assert admitted == [True] * 3 + [False] * 7
    assert throttle.admit("203.0.113.10", "/_dash-0", 401, now=60.0)
    assert throttle.admit("203.0.113.9", "/_dash-0", 401, now=120.0)


def test_a_log_that_cannot_be_written_does_not_turn_a_refusal_into_an_error(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("base indisponible")

    monkeypatch.setattr(security.audit, "record_now", broken)
    assert app.server.test_client().get("/_dash-layout").status_code == 401
