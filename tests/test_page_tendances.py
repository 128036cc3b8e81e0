"""The Tendances page in a real browser, for each role allowed: alerts, emerging hot spot classes, the data
clock; the near-repeat table for the analysts only."""

from __future__ import annotations

import pytest

from observatoire.auth import add_user
from observatoire.permissions import ROLES, allowed
from tests.helpers_web import PASSWORD, browser_login

ALLOWED = [r for r in ROLES if allowed(r, "stats.voir")]


@pytest.fixture
def app(settings, engine):
    from dashboard.app import create_app
    from sample_data import pn_faits, reference
    from sample_data.demo import FILES

    for module in (reference, pn_faits):
        module.load(engine, FILES, "demo")
    for role in ROLES:
        add_user(engine, f"tendances-{role.replace('_', '-')}", role, PASSWORD)
    return create_app(settings)


@pytest.mark.browser
@pytest.mark.parametrize("role", ALLOWED)
def test_each_allowed_role_opens_the_page(dash_duo, app, role):
    dash_duo.start_server(app, navigate=False)
    browser_login(dash_duo, f"tendances-{role.replace('_', '-')}", then="/tendances")
    dash_duo.wait_for_element("#tendances-table-horloge", timeout=60)
    dash_duo.wait_for_element("#tendances-legende-classes", timeout=30)
    assert "Tendances spatio-temporelles" in dash_duo.find_element("h1").text
    clock = dash_duo.find_element("#tendances-table-horloge")
    assert "Lundi" in clock.text
    # a click on a classed hexagon shows its series, one value per month
    from selenium.webdriver.support.ui import WebDriverWait

    def shown_cells(d):
        # the cells inside the map's frame (the map fits the study area; a cell may lie past its edge)
        frame = d.find_element("css selector", "#tendances-carte").rect
        return [
            p
            for p in d.find_elements("css selector", "#tendances-carte path.leaflet-interactive")
            if p.is_displayed()
            and frame["x"] < p.rect["x"] + p.rect["width"] / 2 < frame["x"] + frame["width"]
            and frame["y"] < p.rect["y"] + p.rect["height"] / 2 < frame["y"] + frame["height"]
        ]

    WebDriverWait(dash_duo.driver, 30).until(shown_cells)
    shown_cells(dash_duo.driver)[0].click()
    block = dash_duo.wait_for_element("#tendances-serie-bloc", timeout=60)
    assert "Hexagone" in block.text
    values = dash_duo.driver.find_elements("css selector", "#tendances-table-serie tbody tr")
    assert len(values) >= 6
    if role == "conseil":
        header = dash_duo.find_element("#tendances-table-serie thead").text
        assert "z de Gi*" not in header
    knox = dash_duo.driver.find_elements("css selector", "#tendances-table-knox")
    chains = dash_duo.driver.find_elements("css selector", "#tendances-table-chaines")
    if role == "conseil":
        assert not knox and not chains
    else:
        dash_duo.wait_for_element("#tendances-table-knox", timeout=60)
    assert dash_duo.get_logs() == []
