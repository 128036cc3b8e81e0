"""Settings come from OBS_* variables or observatoire.toml; the default secret is refused outside development."""

from __future__ import annotations

import pytest

from observatoire.errors import ConfigurationError
from observatoire.settings import DEFAULT_SECRET, get_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for key in (
        "OBS_SECRET_KEY",
        "OBS_ENVIRONMENT",
        "OBS_COMMUNE",
        "OBS_TILES_URL",
        "OBS_DATABASE_URL",
        "OBS_HOME",
        "OBS_CONFIG",
        "OBS_TRUSTED_PROXIES",
        "OBS_SESSION_MAX_HOURS",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    settings = get_settings()
    assert settings.commune == "04112" and settings.commune_code == "COM:04112"
    assert settings.tiles_enabled and "data.geopf.fr" in settings.tiles_url
    assert str(settings.home) == ".observatoire"
    assert settings.session_max_hours == 12
    assert settings.trusted_proxy_hops == 0 and settings.trusted_proxy_networks == ()


def test_default_secret_refused_in_production(monkeypatch):
    monkeypatch.setenv("OBS_ENVIRONMENT", "production")
    with pytest.raises(ConfigurationError, match="OBS_SECRET_KEY"):
        get_settings()
    monkeypatch.setenv("OBS_SECRET_KEY", "une-vraie-cle-secrete-de-production")
    assert get_settings().secret_key != DEFAULT_SECRET


def test_toml_file_below_environment(monkeypatch, tmp_path):
    (tmp_path / "observatoire.toml").write_text('commune = "04070"\ntiles_url = "none"\n')
    settings = get_settings()
    assert settings.commune == "04070" and not settings.tiles_enabled
    monkeypatch.setenv("OBS_COMMUNE", "13055")
    assert get_settings().commune == "13055"


def test_bad_commune_code_is_a_french_message(monkeypatch):
    monkeypatch.setenv("OBS_COMMUNE", "Manosque")
    with pytest.raises(ConfigurationError, match="code INSEE"):
        get_settings()


def test_trusted_proxies_a_number_or_addresses(monkeypatch, tmp_path):
    import ipaddress

    monkeypatch.setenv("OBS_TRUSTED_PROXIES", "2")
    assert get_settings().trusted_proxy_hops == 2
    monkeypatch.setenv("OBS_TRUSTED_PROXIES", "10.0.0.5, 192.168.1.0/24 ::1")
    settings = get_settings()
    assert settings.trusted_proxy_hops == 0
    assert settings.trusted_proxy_networks == (
        ipaddress.ip_network("10.0.0.5"),
        ipaddress.ip_network("192.168.1.0/24"),
        ipaddress.ip_network("::1"),
    )
    monkeypatch.setenv("OBS_TRUSTED_PROXIES", "mandataire.local")
    with pytest.raises(ConfigurationError, match="ni un nombre ni une adresse IP"):
        get_settings()
    monkeypatch.delenv("OBS_TRUSTED_PROXIES")
    (tmp_path / "observatoire.toml").write_text(
        'trusted_proxies = ["10.0.0.5", "10.0.0.6"]\nsession_max_hours = 8\n'
    )
    settings = get_settings()
    assert len(settings.trusted_proxy_networks) == 2 and settings.session_max_hours == 8
    (tmp_path / "observatoire.toml").write_text("trusted_proxies = 1\n")
    assert get_settings().trusted_proxy_hops == 1
