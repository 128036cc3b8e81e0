"""The road-safety page: the yearly table a user reads equals the indicators, the map shows accidents by
gravity and the dangerous sites; the council never receives an individual accident."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import security
from observatoire import road_safety
from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, browser_login, dash_csrf, login


@pytest.fixture
def app(settings, engine):
    from dashboard.app import create_app
    from sample_data import baac, reference
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    baac.load(engine, FILES, "demo")
    add_user(engine, "route-analyste", "analyste", PASSWORD)
    add_user(engine, "route-conseil", "conseil", PASSWORD)
    return create_app(settings)


def _map_answer(app, username: str) -> str:
    client = app.server.test_client()
    login(client, username)
    key = next(k for k in app.callback_map if "securite-carte-bloc.children" in k)
    callback = app.callback_map[key]
    values = {"securite-territoire": "COM:04112", "securite-annees": [2019, 2023], "securite-rayon": 50,
              "securite-minimum": 3, "securite-periode": 5}
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in key.strip(".").split("...")]
    body = {"output": key, "outputs": outputs, "inputs": [{**i, "value": values[i["id"]]} for i in callback["inputs"]],
            "state": [], "changedPropIds": ["securite-annees.value"]}
    answer = client.post("/_dash-update-component", data=json.dumps(body),
                         headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.get_data(as_text=True)


def test_council_gets_sites_but_never_an_individual_accident(app):
    analyst = _map_answer(app, "route-analyste")
    council = _map_answer(app, "route-conseil")
    assert '"CircleMarker"' in analyst and '"CircleMarker"' not in council
    assert "securite-table-sites" in council  # the aggregated sites are still there
    assert "securite-site-1" in analyst and "securite-site-1" not in council  # no per-site accident list


@pytest.mark.browser
def test_analyst_reads_the_yearly_figures_map_and_sites(dash_duo, app, engine):
    dash_duo.start_server(app, navigate=False)
    driver = dash_duo.driver
    browser_login(dash_duo, "route-analyste", then="/securite-routiere")
    table = dash_duo.wait_for_element("#securite-table-annuelle", timeout=40)
    years = [int(th.text) for th in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    frame = road_safety.yearly_indicators(engine, "COM:04112", (min(years), max(years)))
    shown = [int(r.find_elements(By.TAG_NAME, "td")[0].text) for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert shown == [int(v) for v in frame.accidents] and sum(shown) > 0
    killed = [r.find_elements(By.TAG_NAME, "td")[4].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert killed == [str(int(v)) for v in frame.tues]
    WebDriverWait(driver, 40).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "#securite-carte-bloc .leaflet-overlay-pane path")))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#securite-carte-bloc .leaflet-overlay-pane path")) > 20
    sites = dash_duo.wait_for_element("#securite-table-sites", timeout=40)
    assert len(sites.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 2  # the demo's planted sites
    assert "hospitalisé" in dash_duo.find_element("#securite-methodologie").text
    assert dash_duo.get_logs() == []
