"""The video-protection page in a real headless Chromium: the operator records a requisition in the form and
sees it counted (and a name-like reference refused, naming the field); the analyst reads the uncovered hot
spots and the register; the council reads protected yearly tables only, and sees the cameras on the Carte
only when the administrator allows it."""

from __future__ import annotations

import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, browser_login


def _plant_events(engine) -> None:
    from pyproj import Transformer

    from tests.events_helpers import insert_pn_facts

    x0, y0 = Transformer.from_crs(4326, 2154, always_xy=True).transform(5.787, 43.834)
    rng = np.random.default_rng(5)
    insert_pn_facts(engine, rng.uniform(x0 - 2500, x0 + 2500, 1500), rng.uniform(y0 - 2000, y0 + 2000, 1500))
    insert_pn_facts(engine, rng.normal(x0 + 1600, 50, 300), rng.normal(y0 - 1300, 50, 300))  # no camera there


@pytest.fixture
def video_app(settings, engine):
    from dashboard.app import create_app
    from sample_data import reference, videoprotection
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    videoprotection.load(engine, FILES, "demo")
    _plant_events(engine)
    for login, role in (
        ("csu", "videoprotection"),
        ("video-analyste", "analyste"),
        ("video-conseil", "conseil"),
    ):
        add_user(engine, login, role, PASSWORD)
    return create_app(settings)


def _open(dash_duo, login: str, path: str = "/videoprotection") -> None:
    base = browser_login(dash_duo, login)
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    dash_duo.driver.get(base + path)


def _type(dash_duo, selector: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    element = dash_duo.find_element(selector)
    element.send_keys(Keys.CONTROL, "a")  # clear() would not reach React's state
    element.send_keys(Keys.DELETE)
    if text:
        element.send_keys(text)


def _total(dash_duo) -> int:
    dash_duo.wait_for_element("#video-total", timeout=30)
    WebDriverWait(dash_duo.driver, 30).until(lambda d: d.find_element(By.ID, "video-total").text.strip())
    text = dash_duo.find_element("#video-total").text
    return int("".join(c for c in text if c.isdigit()))


def _layers_html(dash_duo) -> str:
    dash_duo.wait_for_element(".leaflet-control-layers", timeout=30)
    WebDriverWait(dash_duo.driver, 30).until(
        lambda d: (
            "Limite communale"
            in d.find_element(By.CSS_SELECTOR, ".leaflet-control-layers").get_attribute("innerHTML")
        )
    )
    return dash_duo.find_element(".leaflet-control-layers").get_attribute("innerHTML")


@pytest.mark.browser
def test_operator_records_a_requisition_and_sees_it_counted(dash_duo, video_app, engine):
    dash_duo.start_server(video_app, navigate=False)
    _open(dash_duo, "csu")
    before = _total(dash_duo)
    assert before > 500
    _type(dash_duo, "#video-req-date", "12/03/2024")
    dash_duo.select_dcc_dropdown("#video-req-autorite", "Gendarmerie")
    _type(dash_duo, "#video-req-reference", "Dupont Jean 2024")
    dash_duo.select_dcc_dropdown("#video-req-cameras", "CAM-001 – Centre-ville 1 (fictive)")
    _type(dash_duo, "#video-req-debut", "10/03/2024 21:00")
    _type(dash_duo, "#video-req-fin", "10/03/2024 23:00")
    dash_duo.find_element("#video-req-valider").click()
    dash_duo.wait_for_contains_text("#video-req-statut", "référence de procédure", timeout=20)
    assert "Dupont" in dash_duo.find_element("#video-req-statut").text
    assert _total(dash_duo) == before
    _type(dash_duo, "#video-req-reference", "PV 2024/004321")
    dash_duo.find_element("#video-req-valider").click()
    dash_duo.wait_for_contains_text("#video-req-statut", "enregistrée", timeout=20)
    WebDriverWait(dash_duo.driver, 30).until(lambda d: _total(dash_duo) == before + 1)
    # beyond the retention period: flagged in the form's answer and in the register
    _type(dash_duo, "#video-req-reference", "PV 2024/004322")
    _type(dash_duo, "#video-req-debut", "01/01/2024 08:00")
    _type(dash_duo, "#video-req-fin", "")
    dash_duo.find_element("#video-req-valider").click()
    dash_duo.wait_for_contains_text("#video-req-statut", "au-delà de la durée de conservation", timeout=20)
    _type(dash_duo, "#video-filtre-camera", "CAM-001")
    dash_duo.find_element("#video-filtre-hors-delai input").click()
    dash_duo.wait_for_contains_text("#video-registre", "PV 2024/004322", timeout=20)
    assert "hors délai" in dash_duo.find_element("#video-registre").text
    # a consultation is logged and shown
    dash_duo.find_element("#video-log-formulaire summary").click()
    dash_duo.select_dcc_dropdown("#video-log-action", "Consultation")
    dash_duo.select_dcc_dropdown("#video-log-camera", "CAM-002 – Centre-ville 2 (fictive)")
    _type(dash_duo, "#video-log-motif", "vérification après réquisition")
    dash_duo.find_element("#video-log-valider").click()
    dash_duo.wait_for_contains_text("#video-journal", "vérification après réquisition", timeout=20)
    # the operator sees the cameras and their areas, not the hot spots of the events map, and no refusal
    dash_duo.wait_for_contains_text("#video-part-couverte", "caméra(s) en service", timeout=20)
    assert dash_duo.find_element("#shell-alerte").text == ""
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_analyst_reads_uncovered_hot_spots_and_the_camera_layer(dash_duo, video_app):
    dash_duo.start_server(video_app, navigate=False)
    _open(dash_duo, "video-analyste")
    table = dash_duo.wait_for_element("#video-non-couverts", timeout=60)
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert rows and "Point chaud" in rows[0].text
    assert "des points chauds significatifs couverts" in dash_duo.find_element("#video-part-couverte").text
    dash_duo.wait_for_contains_text("#video-registre-compte", "réquisition(s)", timeout=20)
    assert not dash_duo.driver.find_elements(By.ID, "video-req-valider")  # reads, does not enter
    assert dash_duo.get_logs() == []
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/carte")
    assert "Caméras de vidéoprotection" in _layers_html(dash_duo)
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_council_reads_protected_tables_and_no_camera(dash_duo, video_app):
    dash_duo.start_server(video_app, navigate=False)
    _open(dash_duo, "video-conseil")
    table = dash_duo.wait_for_element("#video-conseil-authority", timeout=30)
    assert "Police nationale" in table.text and "Total" in table.text
    assert not dash_duo.driver.find_elements(By.ID, "video-registre")
    assert not dash_duo.driver.find_elements(By.ID, "video-carte-publique")  # positions not public by default
    assert not dash_duo.driver.find_elements(By.ID, "video-total")  # no exact figure
    assert dash_duo.get_logs() == []
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/carte")
    assert "Caméras" not in _layers_html(dash_duo)
    assert dash_duo.get_logs() == []
