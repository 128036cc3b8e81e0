"""Sessions checked on the server (account version, maximum age, browser) and logout by the form's POST only."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from observatoire.auth import add_user
from tests.conftest import run_cli
from tests.helpers_web import PASSWORD, csrf_from, login


@pytest.fixture
def app(settings):
    from dashboard.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    return app.server.test_client()


def _replay(app, cookie: str, agent: str | None = None):
    """A fresh browser given only a copy of the session cookie."""
    other = app.server.test_client()
    other.set_cookie("obs_session", cookie)
    headers = {"User-Agent": agent} if agent else {}
    return other.get("/_dash-layout", headers=headers), other.get("/", headers=headers)


def _assert_refused(answers) -> None:
    layout, page = answers
    assert layout.status_code == 401
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def _logged_in_cookie(client, login_name: str) -> str:
    assert login(client, login_name).status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    return client.get_cookie("obs_session").value


def _audit(engine, action: str) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT user_login, ip, detail FROM obs.audit_log WHERE action = :a ORDER BY id"),
            {"a": action},
        ).all()


def test_saved_cookie_opens_nothing_after_logout(app, client, engine):
    add_user(engine, "admin1", "admin", PASSWORD)
    saved = _logged_in_cookie(client, "admin1")
    assert _replay(app, saved)[0].status_code == 200  # a copy works while the session lives
    form = client.get("/logout")
    assert (
        client.post("/logout", data={"csrf_token": csrf_from(form.get_data(as_text=True))}).status_code == 302
    )
    _assert_refused(_replay(app, saved))


@pytest.mark.parametrize(
    "command",
    [
        ("users", "reset-password", "admin1", "--generate"),
        ("users", "set-role", "admin1", "analyste"),
        ("users", "disable", "admin1"),
    ],
)
def test_saved_cookie_opens_nothing_after_an_account_change(app, client, engine, cli_env, command):
    add_user(engine, "admin1", "admin", PASSWORD)
    saved = _logged_in_cookie(client, "admin1")
    assert run_cli(*command).exit_code == 0
    _assert_refused(_replay(app, saved))
    assert client.get("/_dash-layout").status_code == 401  # the browser that held it too
    assert "Votre session a pris fin" in client.get("/login").get_data(as_text=True)


def test_saved_cookie_opens_nothing_from_another_browser(app, engine):
    add_user(engine, "analyste1", "analyste", PASSWORD)
    browser = app.server.test_client()
    browser.environ_base["HTTP_USER_AGENT"] = "Navigateur A"
    saved = _logged_in_cookie(browser, "analyste1")
    assert _replay(app, saved, agent="Navigateur A")[0].status_code == 200
    _assert_refused(_replay(app, saved, agent="Navigateur B"))


def test_session_ends_after_its_maximum_age_even_when_active(client, engine, settings):
    add_user(engine, "analyste1", "analyste", PASSWORD)
    _logged_in_cookie(client, "analyste1")
    with client.session_transaction() as session:
        session["login_at"] = time.time() - (settings.session_max_hours * 3600 + 60)
        session["last_seen"] = time.time()
    assert client.get("/_dash-layout").status_code == 401
    assert "durée maximale (12 h)" in client.get("/login").get_data(as_text=True)


def test_logout_needs_a_post_with_the_csrf_token(client, engine):
    add_user(engine, "conseil1", "conseil", PASSWORD)
    login(client, "conseil1")
    page = client.get("/logout")  # a link or an image on another site
    assert page.status_code == 200 and 'id="logout-valider"' in page.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 200
    for data in ({}, {"csrf_token": "jeton-d-un-autre-site"}):  # a form posted from another site
        refused = client.post("/logout", data=data)
        assert refused.status_code == 400
        assert client.get("/_dash-layout").status_code == 200
    assert _audit(engine, "deconnexion") == []


def test_navigation_logs_out_with_a_form_carrying_the_token(client, engine):
    add_user(engine, "conseil1", "conseil", PASSWORD)
    login(client, "conseil1")
    layout = client.get("/_dash-layout").get_json()
    with client.session_transaction() as session:
        token = session["csrf"]
    form = _component(layout, "shell-deconnexion", parent=True)
    assert (
        form["type"] == "Form" and form["props"]["method"] == "post" and form["props"]["action"] == "/logout"
    )
    button = form["props"]["children"]["props"]
    assert button["type"] == "submit" and button["name"] == "csrf_token" and button["value"] == token
    # What the browser sends when the button is pressed.
    assert client.post("/logout", data={button["name"]: button["value"]}).status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def _component(node, component_id: str, parent: bool = False, _up=None):
    """The component of the layout with this id (or the one holding it)."""
    if isinstance(node, list):
        for child in node:
            found = _component(child, component_id, parent, _up)
            if found:
                return found
        return None
    if not isinstance(node, dict) or "props" not in node:
        return None
    if node["props"].get("id") == component_id:
        return _up if parent else node
    return _component(node["props"].get("children"), component_id, parent, node)
