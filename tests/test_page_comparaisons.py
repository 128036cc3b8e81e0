"""The comparisons page: the table a user reads equals the engine's figures; downloads only for roles
that may export, in French Excel's CSV dialect, and audited."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By

from dashboard import security
from observatoire.auth import add_user
from observatoire.police_nationale import rates
from tests.helpers_web import PASSWORD, browser_login, dash_csrf, login


@pytest.fixture
def loaded(settings, engine):
    from sample_data import etat4001, reference, ssmsi
    from sample_data.demo import FILES

    for module in (reference, ssmsi, etat4001):
        module.load(engine, FILES, "demo")
    add_user(engine, "page-analyste", "analyste", PASSWORD)
    add_user(engine, "page-conseil", "conseil", PASSWORD)
    return settings


@pytest.fixture
def app(loaded):
    from dashboard.app import create_app

    return create_app(loaded)


def _download(client, app, button: str, indicators: list[str], years=(2020, 2024)):
    key = "comparaisons-telechargement.data"
    callback = app.callback_map[key]
    values = {
        "comparaisons-csv": 1 if button == "csv" else None,
        "comparaisons-xlsx": 1 if button == "xlsx" else None,
        "comparaisons-territoire": "04112",
        "comparaisons-indicateurs": indicators,
        "comparaisons-debut": years[0],
        "comparaisons-fin": years[1],
        "comparaisons-france": "entiere",
        "comparaisons-edition": None,
        "comparaisons-niveaux": list(rates.LEVELS),
    }
    body = {
        "output": key,
        "outputs": {"id": "comparaisons-telechargement", "property": "data"},
        "inputs": [{**i, "value": values[i["id"]]} for i in callback["inputs"]],
        "state": [{**s, "value": values[s["id"]]} for s in callback["state"]],
        "changedPropIds": [f"comparaisons-{button}.n_clicks"],
    }
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )


def test_csv_download_for_analyst_refused_for_council(app, engine):
    analyst = app.server.test_client()
    login(analyst, "page-analyste")
    answer = _download(analyst, app, "csv", ["cambriolages_logement"])
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    data = answer.get_json()["response"]["comparaisons-telechargement"]["data"]
    assert data["filename"] == "comparaisons.csv"
    assert data["content"].startswith("\ufeffterritory;territory_name;level")
    lines = data["content"].splitlines()
    expected = rates.compare_records(engine, "cambriolages_logement", "COM:04112", list(range(2020, 2025)))
    assert len(lines) == 1 + len(expected)
    first = next(r for r in expected if r["rate_per_1000"] is not None)
    assert f"{first['rate_per_1000']:.4f}".replace(".", ",")[:5] in data["content"]

    xlsx = _download(analyst, app, "xlsx", ["cambriolages_logement"])
    assert xlsx.status_code == 200
    assert (
        xlsx.get_json()["response"]["comparaisons-telechargement"]["data"]["filename"] == "comparaisons.xlsx"
    )

    council = app.server.test_client()
    login(council, "page-conseil")
    assert _download(council, app, "csv", ["cambriolages_logement"]).status_code == 403
    with engine.connect() as conn:
        exports = conn.execute(
            sa.text("SELECT user_login, detail->>'format' FROM obs.audit_log WHERE action = 'export'")
        ).all()
    assert [tuple(e) for e in exports] == [("page-analyste", "csv"), ("page-analyste", "xlsx")]


@pytest.mark.browser
def test_analyst_reads_the_engine_figures_in_the_page(dash_duo, app, engine):
    dash_duo.start_server(app, navigate=False)
    browser_login(dash_duo, "page-analyste", then="/comparaisons")
    table = dash_duo.wait_for_element("#comparaisons-table-cambriolages_logement", timeout=20)
    dash_duo.wait_for_element("#comparaisons-graphique-cambriolages_logement .main-svg", timeout=20)
    years = [int(th.text) for th in table.find_elements(By.CSS_SELECTOR, "thead th")[1:]]
    records = rates.compare_records(engine, "cambriolages_logement", "COM:04112", years)
    commune = {r["year"]: r["rate_per_1000"] for r in records if r["level"] == "commune"}
    first_row = [
        td.text for td in table.find_elements(By.CSS_SELECTOR, "tbody tr")[0].find_elements(By.TAG_NAME, "td")
    ]
    assert first_row == [
        ("n.d." if commune[y] is None else f"{commune[y]:.2f}".replace(".", ",")) for y in years
    ]
    rows = [th.text for th in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert rows[0].startswith("Commune — Manosque") and rows[-1].startswith("France")
    dash_duo.wait_for_element("#comparaisons-table-evolution", timeout=20)
    assert (
        "Violences physiques non crapuleuses" in dash_duo.find_element("#comparaisons-table-evolution").text
    )
    assert "SSMSI" in dash_duo.find_element("#comparaisons-methodologie").text
    assert dash_duo.get_logs() == []
