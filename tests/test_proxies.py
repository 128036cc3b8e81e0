"""Behind a TLS reverse proxy: the client's address and HTTPS come from X-Forwarded-* only when the proxy is
trusted (OBS_TRUSTED_PROXIES); then Secure cookies and Strict-Transport-Security."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, login_through


@pytest.fixture
def client(settings):
    from dashboard.app import create_app

    return create_app(settings).server.test_client()


def _audit(engine, action: str) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT user_login, ip, detail FROM obs.audit_log WHERE action = :a ORDER BY id"),
            {"a": action},
        ).all()


def _session_cookie(answer) -> str:
    return next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("obs_session="))


def _proxied_app(settings, trusted: str):
    from dashboard.app import create_app

    return create_app(settings.model_copy(update={"trusted_proxies": trusted}))


def test_forwarded_headers_ignored_without_trusted_proxies(client, engine):
    add_user(engine, "admin1", "admin", PASSWORD)
    answer = login_through(client, "admin1", peer="10.0.0.1", forwarded_for="203.0.113.7", proto="https")
    assert answer.status_code == 302
    assert "Secure" not in _session_cookie(answer)
    assert "Strict-Transport-Security" not in answer.headers
    assert [r.ip for r in _audit(engine, "connexion")] == ["10.0.0.1"]


def test_behind_one_trusted_proxy_client_address_and_https_are_the_proxys(settings, engine):
    add_user(engine, "admin1", "admin", PASSWORD)
    app = _proxied_app(settings, "1")
    # The client wrote an address of its own in the header: the proxy appended the one it saw.
    answer = login_through(
        app.server.test_client(),
        "admin1",
        peer="10.0.0.1",
        forwarded_for="198.51.100.66, 203.0.113.7",
        proto="https",
    )
    assert answer.status_code == 302
    assert "Secure" in _session_cookie(answer)
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert [r.ip for r in _audit(engine, "connexion")] == ["203.0.113.7"]
    plain = login_through(
        app.server.test_client(), "admin1", peer="10.0.0.1", forwarded_for="203.0.113.8", proto="http"
    )
    assert "Secure" not in _session_cookie(plain) and "Strict-Transport-Security" not in plain.headers


def test_listed_proxies_trusted_only_when_the_connection_comes_from_them(settings, engine):
    add_user(engine, "admin1", "admin", PASSWORD)
    app = _proxied_app(settings, "10.0.0.0/24")
    # Two listed proxies in a row: the client is the first address, from the right, that is not one of them.
    through = login_through(
        app.server.test_client(),
        "admin1",
        peer="10.0.0.1",
        forwarded_for="198.51.100.66, 203.0.113.7, 10.0.0.2",
        proto="https",
    )
    assert "Secure" in _session_cookie(through) and "Strict-Transport-Security" in through.headers
    # A client that is not a listed proxy writes the headers itself: they are not read.
    direct = login_through(
        app.server.test_client(), "admin1", peer="192.0.2.99", forwarded_for="203.0.113.9", proto="https"
    )
    assert "Secure" not in _session_cookie(direct) and "Strict-Transport-Security" not in direct.headers
    assert [r.ip for r in _audit(engine, "connexion")] == ["203.0.113.7", "192.0.2.99"]


def test_strict_transport_security_when_served_over_https_directly(client):
    assert (
        "Strict-Transport-Security" in client.get("/login", base_url="https://observatoire.example").headers
    )
    assert "Strict-Transport-Security" not in client.get("/login").headers
