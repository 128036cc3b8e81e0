"""The Exports page: analysts and administrators choose what, for whom and in which format; the council only
ever gets the plenary level, whatever its browser sends; every export shows in the list of previous exports."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from observatoire import audit
from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, browser_login, dash_csrf, login

ROLES = ("analyste", "admin", "conseil")
KEY = "..exports-telechargement.data...exports-message.children.."


def _user(role: str) -> str:
    return f"export-{role}"


@pytest.fixture
def app(settings, engine):
    from dashboard.app import create_app
    from sample_data.demo import load

    load(engine)
    for role in (*ROLES, "police_municipale"):
        add_user(engine, _user(role), role, PASSWORD)
    return create_app(settings)


def _produce(client, app, **values):
    callback = app.callback_map[KEY]
    defaults = {
        "exports-produire": 1,
        "exports-quoi": "carte",
        "exports-diffusion": "plenier",
        "exports-format": "csv",
        "exports-couches": ["hexagons"],
        "exports-sources": [],
        "exports-annee": "2023",
        "exports-partie": "annee",
        "exports-orientation": "paysage",
        "exports-de": "2021",
        "exports-a": "2022",
        "exports-vue": {},
    }
    defaults.update(values)
    body = {
        "output": KEY,
        "outputs": [
            {"id": "exports-telechargement", "property": "data"},
            {"id": "exports-message", "property": "children"},
        ],
        "inputs": [
            {"id": i["id"], "property": i["property"], "value": defaults[i["id"]]} for i in callback["inputs"]
        ],
        "state": [
            {"id": i["id"], "property": i["property"], "value": defaults[i["id"]]} for i in callback["state"]
        ],
        "changedPropIds": ["exports-produire.n_clicks"],
    }
    response = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": dash_csrf(client)},
    )
    return response


def test_council_gets_plenary_only_whatever_it_sends(app, engine):
    client = app.server.test_client()
    assert login(client, _user("conseil")).status_code == 302
    client.get("/exports")
    refused = _produce(client, app, **{"exports-diffusion": "restreint"})
    assert refused.status_code == 200
    answer = refused.get_json()["response"]
    assert answer["exports-telechargement"]["data"] is None
    assert "plénier" in answer["exports-message"]["children"]["props"]["children"]
    done = _produce(client, app)
    payload = done.get_json()["response"]
    assert payload["exports-telechargement"]["data"]["filename"].endswith("_plenier.csv")
    entry = audit.list_entries(engine, action="export").iloc[0]
    assert entry.user_login == _user("conseil") and entry.detail["diffusion"] == "plenier"
    pm = app.server.test_client()
    assert login(pm, _user("police_municipale")).status_code == 302
    assert _produce(pm, app).status_code in (401, 403)


@pytest.mark.parametrize("role", ROLES)
def test_exports_page_per_role(dash_duo, app, role):
    dash_duo.start_server(app, navigate=False)
    base = browser_login(dash_duo, _user(role))
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    dash_duo.driver.get(base + "/exports?source=pn&annee=2023&mode=hexagones")
    dash_duo.wait_for_element("#exports-produire", timeout=20)
    radios = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#exports-diffusion input")
    restricted = next(r for r in radios if r.get_attribute("value") == "restreint")
    assert restricted.get_attribute("disabled") == ("true" if role == "conseil" else None)
    checked = [
        c.get_attribute("value")
        for c in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#exports-couches input:checked")
    ]
    assert checked == ["hexagons"]
    dash_duo.find_element("#exports-produire").click()
    WebDriverWait(dash_duo.driver, 60).until(lambda d: d.find_elements(By.ID, "exports-fait"))
    assert "SHA-256" in dash_duo.find_element("#exports-fait").text
    WebDriverWait(dash_duo.driver, 20).until(
        lambda d: _user(role) in d.find_element(By.ID, "exports-historique").text
    )
    if role != "conseil":
        dash_duo.driver.get(base + "/carte")
        link = dash_duo.wait_for_element("#carte-exporter", timeout=20)
        WebDriverWait(dash_duo.driver, 20).until(lambda d: "debut=" in link.get_attribute("href"))
        # a day ticked on the map goes with the link, and the Exports page says what it takes from the map
        dash_duo.driver.find_element(By.CSS_SELECTOR, "#carte-jours input[value='1']").click()
        WebDriverWait(dash_duo.driver, 20).until(lambda d: "jours=1" in link.get_attribute("href"))
        dash_duo.driver.get(link.get_attribute("href"))
        note = dash_duo.wait_for_element("#exports-vue-note", timeout=20)
        assert "lundi" in note.text
    assert dash_duo.get_logs() == []


def _csv_total(response) -> int:
    import base64
    import csv
    import io

    data = response.get_json()["response"]["exports-telechargement"]["data"]
    text = base64.b64decode(data["content"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    return sum(int(r["effectif"]) for r in rows)


def test_the_map_hours_and_days_reach_the_export(app, engine):
    """« Exporter cette vue » carries the map's hours and days: the evening weekend export counts only them."""
    from datetime import date

    from observatoire.events import queries
    from observatoire.events.filter import EventFilter

    client = app.server.test_client()
    assert login(client, _user("analyste")).status_code == 302
    client.get("/exports")
    common = {"exports-diffusion": "restreint", "exports-sources": ["pm"]}
    whole = _csv_total(_produce(client, app, **common))
    view = {"heures": [19, 2], "jours": [6, 7]}
    evenings = _csv_total(_produce(client, app, **common, **{"exports-vue": view}))
    year = {"start": date(2023, 1, 1), "end": date(2023, 12, 31)}
    f = EventFilter(sources=("pm",), hours=(19, 2), weekdays=(6, 7), **year)
    assert whole == queries.summary(engine, EventFilter(sources=("pm",), **year))["geolocated"]
    assert 0 < evenings < whole
    assert evenings == queries.summary(engine, f)["geolocated"]
    entry = audit.list_entries(engine, action="export").iloc[0]
    assert "19 h" in json.dumps(entry.detail, ensure_ascii=False)
