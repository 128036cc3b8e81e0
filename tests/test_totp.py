"""TOTP second factor (RFC 6238) for admin and analyste accounts: CLI to enable and disable, login in two steps."""

from __future__ import annotations

import base64
import time

import pytest
import sqlalchemy as sa

from observatoire import totp
from observatoire.auth import add_user
from tests.conftest import run_cli
from tests.helpers_web import PASSWORD, csrf_from, login


@pytest.fixture
def app(settings):
    from dashboard.app import create_app

    return create_app(settings)


def test_totp_codes_of_rfc_6238():
    secret = base64.b32encode(b"12345678901234567890").decode()  # appendix B (SHA-1), last 6 of 8 digits
    for at, code in [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
        (20000000000, "353130"),
    ]:
        assert totp.code_at(secret, at) == code
    assert totp.matching_step(secret, "287082", at=59 + 30) == 1  # one step late still accepted
    assert totp.matching_step(secret, "287082", at=59 + 60) is None
    assert totp.matching_step(secret, "287082", at=59, after=1) is None  # already used


def _enable_totp(login_name: str) -> str:
    result = run_cli("users", "totp-enable", login_name)
    assert result.exit_code == 0, result.output
    secret = result.output.split("clé secrète : ")[1].split()[0]
    assert (
        f"otpauth://totp/Observatoire%20tranquillit%C3%A9%20publique%3A{login_name}?secret={secret}"
        in result.output
    )
    return secret


def _wrong_code(secret: str) -> str:
    valid = {totp.code_at(secret, time.time() + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def _send_code(client, code: str):
    page = client.get("/login")
    return client.post(
        "/login", data={"step": "code", "code": code, "csrf_token": csrf_from(page.get_data(as_text=True))}
    )


def test_totp_login_asks_for_the_code_and_checks_it(app, engine, cli_env):
    add_user(engine, "admin1", "admin", PASSWORD)
    secret = _enable_totp("admin1")
    client = app.server.test_client()
    step_one = login(client, "admin1")
    assert step_one.status_code == 200 and 'id="code"' in step_one.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401  # the password alone opens nothing

    wrong = _send_code(client, _wrong_code(secret))
    assert wrong.status_code == 401 and "Code incorrect" in wrong.get_data(as_text=True)
    assert 'id="code"' in wrong.get_data(as_text=True)  # the code may be typed again
    assert client.get("/_dash-layout").status_code == 401

    code = totp.code_at(secret)
    assert _send_code(client, code).status_code == 302
    assert client.get("/_dash-layout").status_code == 200

    # The same code a second time opens nothing.
    other = app.server.test_client()
    login(other, "admin1")
    assert _send_code(other, code).status_code == 401
    with engine.connect() as conn:
        motifs = (
            conn.execute(
                sa.text(
                    "SELECT detail->>'motif' FROM obs.audit_log WHERE action = 'connexion_echec' ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
    assert motifs == ["code", "code"]


def test_totp_code_step_expires_and_can_be_started_again(app, engine, cli_env):
    add_user(engine, "admin1", "admin", PASSWORD)
    secret = _enable_totp("admin1")
    client = app.server.test_client()
    login(client, "admin1")
    with client.session_transaction() as session:
        session["totp_pending"]["at"] = time.time() - 3600
        session.modified = True
    late = _send_code(client, totp.code_at(secret))
    assert late.status_code == 400 and 'id="username"' in late.get_data(as_text=True)


def test_totp_only_for_admin_and_analyste_and_can_be_disabled(app, engine, cli_env):
    add_user(engine, "conseil1", "conseil", PASSWORD)
    add_user(engine, "analyste1", "analyste", PASSWORD)
    refused = run_cli("users", "totp-enable", "conseil1")
    assert refused.exit_code != 0 and "Administration et Analyste" in refused.output
    _enable_totp("analyste1")
    again = run_cli("users", "totp-enable", "analyste1")
    assert again.exit_code != 0 and "déjà activé" in again.output
    assert "TOTP" in run_cli("users", "list").output
    assert run_cli("users", "totp-disable", "analyste1").exit_code == 0
    assert login(app.server.test_client(), "analyste1").status_code == 302
    with engine.connect() as conn:
        actions = (
            conn.execute(sa.text("SELECT action FROM obs.audit_log WHERE target = 'analyste1' ORDER BY id"))
            .scalars()
            .all()
        )
    assert actions == ["utilisateur_cree", "double_facteur_active", "double_facteur_desactive"]
