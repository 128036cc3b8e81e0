"""The action plan, surveys and synthesis pages in a real headless Chromium: the coordinator enters a value,
a statutory member (the conseil) validates the year; the survey page gives back the proportions a wave was built
with; the synthesis shows every loaded source and is where the conseil lands."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ingest.plan_actions import import_plan
from ingest.survey import import_survey
from observatoire.auth import add_user
from observatoire.overview import data_freshness
from observatoire.strategy import entries
from tests.helpers_web import PASSWORD, browser_login
from tests.test_surveys import _known, _wave

PLAN = "strategie/plan_actions_manosque_2024_2027.csv"


@pytest.fixture
def plan_app(settings, engine, shared_data, tmp_path):
    from dashboard.app import create_app
    from sample_data import etat4001, reference
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    etat4001.load(engine, FILES, "demo")
    import_plan(engine, shared_data / PLAN, user="demo")
    import_survey(
        engine,
        _wave(tmp_path, "vague.csv", _known(126, 420, 209, 380)),
        codebook=tmp_path / "codes.csv",
        code="2025",
        label="Enquête test",
    )
    for role in ("analyste", "conseil", "admin"):
        add_user(engine, f"plan-{role}", role, PASSWORD)
    return create_app(settings)


def _open(dash_duo, login: str, path: str) -> None:
    base = browser_login(dash_duo, login)
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    dash_duo.driver.get(base + path)


def _wait_text(dash_duo, selector: str, text: str) -> None:
    # the table is redrawn while it is read: an element gone between finding and reading is looked for again
    WebDriverWait(dash_duo.driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, selector))
    )


def _row(dash_duo, fiche: str) -> list[str]:
    rows = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#plan-actions-table-suivi tbody tr")
    for tr in rows:
        cells = [c.text for c in tr.find_elements(By.CSS_SELECTOR, "th, td")]
        if cells[0] == fiche:
            return cells
    raise AssertionError(f"fiche {fiche} absente")


def test_the_coordinator_enters_a_value(dash_duo, plan_app, engine):
    dash_duo.start_server(plan_app, navigate=False)
    _open(dash_duo, "plan-analyste", "/plan-actions")
    dash_duo.wait_for_element("#plan-actions-table-suivi", timeout=30)
    dash_duo.select_dcc_dropdown("#plan-actions-indicateur", index=0)  # fiche 1, n° 1: a count
    dash_duo.find_element("#plan-actions-valeur").send_keys("12")
    dash_duo.find_element("#plan-actions-source").send_keys("Bilan du pilote")
    dash_duo.find_element("#plan-actions-enregistrer").click()
    _wait_text(dash_duo, "#plan-actions-message-saisie", "valeur enregistrée en brouillon")
    _wait_text(dash_duo, "#plan-actions-table-suivi", "Brouillon")
    cells = _row(dash_duo, "1")
    assert "12" in cells and "Brouillon" in cells
    assert not dash_duo.driver.find_elements(
        By.ID, "plan-actions-valider"
    )  # validation is not the coordinator's
    assert entries.values(engine)["valeur"].tolist() == ["12"]
    assert dash_duo.get_logs() == []


def test_the_conseil_lands_on_the_synthesis_and_validates_the_year(dash_duo, plan_app, engine):
    entries.enter(engine, "1", 1, 2025, "12", "en cours", user="plan-analyste")
    dash_duo.start_server(plan_app, navigate=False)
    browser_login(dash_duo, "plan-conseil")
    dash_duo.wait_for_element("#synthese", timeout=30)
    assert dash_duo.driver.current_url.endswith("/synthese")
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/plan-actions")
    dash_duo.wait_for_element("#plan-actions-table-suivi", timeout=30)
    assert not dash_duo.driver.find_elements(By.ID, "plan-actions-enregistrer")  # entry is the coordinator's
    dash_duo.find_element("#plan-actions-valider").click()
    _wait_text(dash_duo, "#plan-actions-message-validation", "1 valeur(s) de 2025 validée(s)")
    _wait_text(dash_duo, "#plan-actions-table-suivi", "Validée")
    assert entries.values(engine)["state"].tolist() == ["valide"]
    assert dash_duo.get_logs() == []


def test_the_survey_page_gives_back_the_proportions_of_the_wave(dash_duo, plan_app):
    dash_duo.start_server(plan_app, navigate=False)
    _open(dash_duo, "plan-analyste", "/enquetes")
    dash_duo.wait_for_element("#enquetes-table", timeout=30)
    assert "ne peuvent pas être étendus" in dash_duo.find_element("#enquetes-avertissement").text
    dash_duo.select_dcc_dropdown("#enquetes-profil", value="Sexe")
    _wait_text(dash_duo, "#enquetes-table", "Femme")
    rows = [
        [c.text for c in tr.find_elements(By.CSS_SELECTOR, "th, td")]
        for tr in dash_duo.find_elements("#enquetes-table tbody tr")
    ]
    assert ["Femme", "En sécurité", "126", "420", "30,0 %"] in rows
    assert ["Homme", "En sécurité", "209", "380", "55,0 %"] in rows
    assert ["Homme", "Pas en sécurité", "171", "380", "45,0 %"] in rows
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("role", ["analyste", "admin", "conseil"])
def test_the_synthesis_shows_every_loaded_source(dash_duo, plan_app, engine, role):
    dash_duo.start_server(plan_app, navigate=False)
    _open(dash_duo, f"plan-{role}", "/synthese")
    dash_duo.wait_for_element("#synthese", timeout=30)
    loaded = [f["source"] for f in data_freshness(engine, role) if f["rows"]]
    titles = [h.text for h in dash_duo.find_elements("#synthese section.obs-synthese-source h2")]
    assert titles == loaded and len(loaded) >= 3
    # the latest month's rises come after the page is drawn (no geolocated event is loaded here)
    _wait_text(dash_duo, "#synthese-alertes", "Aucune hausse significative")
    # a source with two whole years has its trend and the test of its change
    etat = dash_duo.find_element("#synthese-etat4001").text
    assert "Évolution significative ?" in etat
    for path, marker in (("/plan-actions", "#plan-actions-table-suivi"), ("/enquetes", "#enquetes-table")):
        dash_duo.driver.get(dash_duo.server.url.rstrip("/") + path)
        dash_duo.wait_for_element(marker, timeout=30)
    assert dash_duo.get_logs() == []
