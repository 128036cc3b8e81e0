"""Accounts, login, lockout, session timeout, CSRF, argon2 hashes, security headers."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from observatoire.auth import add_user, authenticate
from observatoire.errors import AuthenticationFailed, ObservatoireError
from tests.conftest import run_cli
from tests.helpers_web import PASSWORD, csrf_from, login


@pytest.fixture
def app(settings):
    from dashboard.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    return app.server.test_client()


def test_passwords_are_argon2_hashes_and_short_ones_refused(engine):
    add_user(engine, "analyste1", "analyste", PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM obs.app_user WHERE login = 'analyste1'")
        ).scalar()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    with pytest.raises(ObservatoireError, match="12 caractères"):
        add_user(engine, "court", "conseil", "trop-court")


def test_lockout_after_five_failures_same_answer_for_unknown_account(engine, settings):
    add_user(engine, "conseil1", "conseil", PASSWORD)
    messages = set()
    for _ in range(settings.lockout_attempts):
        with pytest.raises(AuthenticationFailed) as exc:
            authenticate(engine, settings, "conseil1", "mauvais-mot-de-passe")
        messages.add(exc.value.message)
    # Locked: even the right password is refused now, with the same words.
    with pytest.raises(AuthenticationFailed) as exc:
        authenticate(engine, settings, "conseil1", PASSWORD)
    messages.add(exc.value.message)
    with pytest.raises(AuthenticationFailed) as exc:
        authenticate(engine, settings, "personne", PASSWORD)
    messages.add(exc.value.message)
    assert len(messages) == 1
    # After the lock period the account opens again (the lock is the pair account × address).
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE obs.login_lock SET locked_until = now() - interval '1 second', "
                "first_failed_at = now() - interval '1 hour'"
            )
        )
    assert authenticate(engine, settings, "conseil1", PASSWORD).login == "conseil1"
    with engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM obs.audit_log ORDER BY id")).scalars().all()
    assert actions.count("connexion_echec") == 7
    assert "compte_verrouille" in actions and actions[-1] == "connexion"


def test_login_form_refuses_missing_csrf_and_sets_safe_cookies(client, engine):
    add_user(engine, "admin1", "admin", PASSWORD)
    client.get("/login")
    refused = client.post("/login", data={"username": "admin1", "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/_dash-layout").status_code == 401

    answer = login(client, "admin1")
    assert answer.status_code == 302
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("obs_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    secure_client = client.application.test_client()
    form = secure_client.get("/login", base_url="https://observatoire.example")
    over_https = secure_client.post(
        "/login",
        base_url="https://observatoire.example",
        data={
            "username": "admin1",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.get_data(as_text=True)),
        },
    )
    https_cookie = next(c for c in over_https.headers.getlist("Set-Cookie") if c.startswith("obs_session="))
    assert "Secure" in https_cookie
    assert client.get("/_dash-layout").status_code == 200


def test_wrong_password_page_does_not_say_whether_account_exists(client, engine):
    add_user(engine, "pm1", "police_municipale", PASSWORD)
    known = login(client, "pm1", "pas-le-bon-mot-de-passe")
    unknown = login(client, "inconnu", "pas-le-bon-mot-de-passe")
    assert known.status_code == unknown.status_code == 401
    strip = lambda r: csrf_from(r.get_data(as_text=True)) and r.get_data(as_text=True).split("<form")[0]  # noqa: E731
    assert strip(known) == strip(unknown)


def test_session_expires_after_inactivity(client, engine):
    add_user(engine, "analyste2", "analyste", PASSWORD)
    login(client, "analyste2")
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 31 * 60
    assert client.get("/_dash-layout").status_code == 401
    page = client.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_logout_ends_the_session_and_is_audited(client, engine):
    add_user(engine, "video1", "videoprotection", PASSWORD)
    login(client, "video1")
    form = client.get("/logout")
    assert (
        client.post("/logout", data={"csrf_token": csrf_from(form.get_data(as_text=True))}).status_code == 302
    )
    assert client.get("/_dash-layout").status_code == 401
    with engine.connect() as conn:
        actions = (
            conn.execute(sa.text("SELECT action FROM obs.audit_log WHERE user_login = 'video1' ORDER BY id"))
            .scalars()
            .all()
        )
    assert actions == ["connexion", "deconnexion"]


def test_security_headers_on_every_answer(client, settings):
    for path in ("/login", "/", "/_dash-layout"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "https:" not in csp.replace("https://data.geopf.fr", "")  # no CDN, tiles only when configured
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_tile_server_is_the_only_foreign_origin_in_csp(settings):
    from dashboard.app import create_app

    app = create_app(settings.model_copy(update={"tiles_url": "https://tuiles.example.org/{z}/{x}/{y}.png"}))
    csp = app.server.test_client().get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tuiles.example.org" in csp


def test_users_cli(cli_env, engine):
    from click.testing import CliRunner

    from observatoire.cli.main import cli

    runner = CliRunner()
    added = runner.invoke(
        cli, ["users", "add", "coordination", "--role", "analyste", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    assert "coordination" in run_cli("users", "list").output
    assert run_cli("users", "set-role", "coordination", "conseil").exit_code == 0
    reset = run_cli("users", "reset-password", "coordination", "--generate")
    assert reset.exit_code == 0 and "Nouveau mot de passe" in reset.output
    assert run_cli("users", "disable", "coordination").exit_code == 0
    from observatoire.settings import get_settings

    with pytest.raises(AuthenticationFailed):
        authenticate(engine, get_settings(), "coordination", reset.output.rsplit(" ", 1)[-1].strip())
    bad = run_cli("users", "set-role", "personne", "conseil")
    assert bad.exit_code != 0 and "Aucun compte" in bad.output
    with engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM obs.audit_log ORDER BY id")).scalars().all()
    assert actions[:4] == [
        "utilisateur_cree",
        "role_modifie",
        "mot_de_passe_modifie",
        "utilisateur_desactive",
    ]


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0A/x",
        "//evil.example",
        "https://evil.example/",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/%20/evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_sends_back_only_to_a_page_of_this_site(client, engine, target):
    """``next`` is followed only when it is a local path; anything a browser could read as another site
    (a tab or a line break it drops, a backslash, a scheme) sends to the home page, never to a 500."""
    add_user(engine, "admin1", "admin", PASSWORD)
    form = client.get(f"/login?next={target}")
    answer = client.post(
        f"/login?next={target}",
        data={
            "username": "admin1",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.get_data(as_text=True)),
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] in ("/", "http://localhost/")


def test_login_follows_a_local_next(client, engine):
    add_user(engine, "admin1", "admin", PASSWORD)
    form = client.get("/login?next=/carte%3Fmode%3Dhexagones")
    answer = client.post(
        "/login?next=/carte%3Fmode%3Dhexagones",
        data={
            "username": "admin1",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.get_data(as_text=True)),
        },
    )
    assert answer.headers["Location"].endswith("/carte?mode=hexagones")
