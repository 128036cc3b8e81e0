"""Login abuse: waits per client address (HTTP 429), locks per (account, address) pair, never the account alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from observatoire.auth import add_user, authenticate
from observatoire.errors import AuthenticationFailed, LoginThrottled
from tests.conftest import run_cli
from tests.helpers_web import PASSWORD, csrf_from, login_through

ADDRESS_A = "192.0.2.10"
ADDRESS_B = "192.0.2.20"


@pytest.fixture
def app(settings):
    from dashboard.app import create_app

    return create_app(settings)


def _audit(engine, action: str) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT user_login, ip, detail FROM obs.audit_log WHERE action = :a ORDER BY id"),
            {"a": action},
        ).all()


def test_wrong_passwords_from_one_address_do_not_keep_the_admin_out_from_another(app, engine):
    add_user(engine, "admin1", "admin", PASSWORD)
    attacker = app.server.test_client()
    for _ in range(6):
        assert login_through(attacker, "admin1", peer=ADDRESS_A, password="pas-le-bon-mot").status_code == 401
    # That address is locked out of that account, even with the right password…
    assert login_through(attacker, "admin1", peer=ADDRESS_A).status_code == 401
    # …while the admin, elsewhere, logs in.
    admin = app.server.test_client()
    assert login_through(admin, "admin1", peer=ADDRESS_B).status_code == 302
    assert admin.get("/_dash-layout").status_code == 200
    locks = _audit(engine, "compte_verrouille")
    assert len(locks) == 1 and locks[0].ip == ADDRESS_A


def test_rapid_attempts_from_one_address_get_429(app, engine, settings):
    add_user(engine, "admin1", "admin", PASSWORD)
    client = app.server.test_client()
    environ = {"REMOTE_ADDR": ADDRESS_A}
    token = csrf_from(client.get("/login", environ_base=environ).get_data(as_text=True))
    statuses = []
    for attempt in range(40):
        answer = client.post(
            "/login",
            environ_base=environ,
            data={"username": f"essai{attempt % 7}", "password": "devine-1234567", "csrf_token": token},
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert "Trop de tentatives de connexion depuis cette adresse" in answer.get_data(as_text=True)
    assert statuses[: settings.throttle_attempts] == [401] * settings.throttle_attempts
    assert statuses.count(429) >= 25, statuses
    # The right password from that address waits too; from another address it opens at once.
    assert login_through(client, "admin1", peer=ADDRESS_A).status_code == 429
    assert login_through(app.server.test_client(), "admin1", peer=ADDRESS_B).status_code == 302
    assert [r.ip for r in _audit(engine, "adresse_freinee")] == [ADDRESS_A]


def test_waits_double_with_each_failure_past_the_threshold(engine, settings):
    def attempt() -> int | None:
        """Seconds the address is told to wait, or None when the password was checked (and wrong)."""
        try:
            authenticate(engine, settings, "personne", "devine-1234567", ip=ADDRESS_A)
        except LoginThrottled as exc:
            return exc.retry_after
        except AuthenticationFailed:
            return None
        pytest.fail("connexion acceptée")

    assert [attempt() for _ in range(settings.throttle_attempts)] == [None] * settings.throttle_attempts
    waits = []
    for _ in range(4):
        waits.append(attempt())
        with engine.begin() as conn:  # the wait passes
            conn.execute(sa.text("UPDATE obs.login_throttle SET blocked_until = now() - interval '1 second'"))
        assert attempt() is None  # one more failure, and a wait twice as long
    assert waits == [1, 2, 4, 8]


def test_password_reset_lets_a_locked_address_in_again(app, engine, cli_env):
    add_user(engine, "analyste1", "analyste", PASSWORD)
    client = app.server.test_client()
    for _ in range(5):
        login_through(client, "analyste1", peer=ADDRESS_A, password="pas-le-bon-mot")
    assert login_through(client, "analyste1", peer=ADDRESS_A).status_code == 401
    new_password = (
        run_cli("users", "reset-password", "analyste1", "--generate").output.rsplit(" ", 1)[-1].strip()
    )
    assert login_through(client, "analyste1", peer=ADDRESS_A, password=new_password).status_code == 302
