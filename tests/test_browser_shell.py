"""In a real headless Chromium: log in, see the commune drawn and the role's pages, log out, and the
back button shows nothing restricted."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from observatoire.auth import add_user
from observatoire.sources import BY_KEY
from tests.helpers_web import PASSWORD, browser_login

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(settings, engine):
    from dashboard.app import create_app
    from sample_data.demo import FILES
    from sample_data.reference import load

    load(engine, FILES, "demo")
    add_user(engine, "navigateur-admin", "admin", PASSWORD)
    add_user(engine, "navigateur-conseil", "conseil", PASSWORD)
    return create_app(settings)


def _login(dash_duo, username: str) -> None:
    browser_login(dash_duo, username)


def _outline_paths(dash_duo) -> int:
    WebDriverWait(dash_duo.driver, 15).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#accueil-carte .leaflet-overlay-pane path"))
    )
    return len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#accueil-carte .leaflet-overlay-pane path"))


def test_admin_sees_commune_outline_and_audit_page_then_logs_out(dash_duo, demo_app):
    dash_duo.start_server(demo_app, navigate=False)
    _login(dash_duo, "navigateur-admin")
    assert _outline_paths(dash_duo) >= 1 + 6 + 2  # commune, zones, QPV
    dash_duo.wait_for_text_to_equal("#shell-commune", "Manosque")
    assert "fictives" in dash_duo.find_element("#shell-demo").text
    assert "habitants" in dash_duo.find_element("#accueil-chiffres").text
    sources = dash_duo.find_element("#accueil-sources").text
    assert f"{BY_KEY['pm'].label} aucune donnée" in sources  # only contours were loaded
    dash_duo.find_element("#nav-journal").click()
    dash_duo.wait_for_element("#journal-table", timeout=10)
    dash_duo.wait_for_contains_text("#journal-compteur", "entrée(s)", timeout=10)
    assert "Connexion réussie" in dash_duo.find_element("#journal-table").text

    dash_duo.find_element("#shell-deconnexion").click()
    WebDriverWait(dash_duo.driver, 10).until(EC.presence_of_element_located((By.ID, "login-valider")))
    dash_duo.driver.back()
    WebDriverWait(dash_duo.driver, 10).until(EC.presence_of_element_located((By.ID, "login-valider")))
    assert not dash_duo.driver.find_elements(By.ID, "journal-table")
    assert not dash_duo.driver.find_elements(By.ID, "accueil-chiffres")
    assert dash_duo.get_logs() == []


def test_council_member_sees_no_audit_page(dash_duo, demo_app):
    dash_duo.start_server(demo_app, navigate=False)
    _login(dash_duo, "navigateur-conseil")
    dash_duo.wait_for_element("#synthese", timeout=15)  # the conseil lands on the synthesis
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/")
    assert _outline_paths(dash_duo) >= 1
    nav = dash_duo.find_element("#shell-nav").text
    assert "Accueil" in nav and "Journal" not in nav
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/journal")
    dash_duo.wait_for_contains_text(".obs-alerte-erreur", "ne donne pas accès", timeout=10)
    assert not dash_duo.driver.find_elements(By.ID, "journal-table")
    assert dash_duo.get_logs() == []
