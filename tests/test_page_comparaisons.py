"""The comparisons page: the table a user reads equals the engine's figures; downloads only for roles
that may export, in French Excel's CSV dialect, and audited."""

from __future__ import annotations

import base64
import io
import json

import openpyxl
import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By

from dashboard import security
from ingest.ssmsi import import_ssmsi
from observatoire.auth import add_user
from observatoire.police_nationale import comparisons, rates
from tests.helpers_web import PASSWORD, browser_login, dash_csrf, login
from tests.test_pn_ssmsi import DEP_2023


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
    sheet = xlsx.get_json()["response"]["comparaisons-telechargement"]["data"]
    assert sheet["filename"] == "comparaisons.xlsx" and sheet["base64"]
    rows = list(
        openpyxl.load_workbook(io.BytesIO(base64.b64decode(sheet["content"])))["comparaisons"].iter_rows(
            values_only=True
        )
    )
    assert rows[0][0].startswith("Comparaisons") and rows[1][:3] == ("territory", "territory_name", "level")
    assert len(rows) == 2 + len(expected) + 2 and rows[-1][0] == comparisons.SOURCE_LINE

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


@pytest.fixture
def diagnostic_app(loaded, engine, shared_data):
    """The demo data plus the real 2023-07-17 edition, a départemental base without any commune row."""
    from dashboard.app import create_app

    import_ssmsi(engine, shared_data / DEP_2023)
    return create_app(loaded)


@pytest.mark.browser
def test_analyst_asks_manosque_2020_2022_on_the_2023_07_17_edition(dash_duo, diagnostic_app, engine):
    """The diagnostic's query: the commune is absent from that edition, its rates and vintages unknown."""
    dash_duo.start_server(diagnostic_app, navigate=False)
    browser_login(dash_duo, "page-analyste", then="/comparaisons")
    dash_duo.wait_for_element("#comparaisons-table-cambriolages_logement", timeout=20)
    territory = dash_duo.find_element("#comparaisons-territoire")
    territory.clear()
    territory.send_keys("04112")
    dash_duo.select_dcc_dropdown("#comparaisons-edition", "SSMSI, édition du 17/07/2023")
    dash_duo.select_dcc_dropdown("#comparaisons-debut", "2020")
    dash_duo.select_dcc_dropdown("#comparaisons-fin", "2022")
    dash_duo.find_element("#comparaisons-afficher").click()

    dash_duo.wait_for_contains_text(
        "#comparaisons-table-cambriolages_logement caption", "édition 2023-07-17", timeout=30
    )
    table = dash_duo.find_element("#comparaisons-table-cambriolages_logement")
    assert [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")[1:]] == [
        "2020",
        "2021",
        "2022",
    ]
    records = rates.compare_records(
        engine, "cambriolages_logement", "COM:04112", [2020, 2021, 2022], edition="2023-07-17"
    )
    expected = {}
    for r in records:
        expected.setdefault(r["level"], []).append(
            "n.d." if r["rate_per_1000"] is None else f"{r['rate_per_1000']:.2f}".replace(".", ",")
        )
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    shown = [
        (row.find_element(By.TAG_NAME, "th").text, [td.text for td in row.find_elements(By.TAG_NAME, "td")])
        for row in rows
    ]
    assert shown[0] == ("Commune — Manosque", ["n.d."] * 3)
    assert shown[1] == ("Département — Alpes-de-Haute-Provence", expected["departement"])
    assert shown[-1] == ("France — France entière", expected["france"])

    method = dash_duo.find_element("#comparaisons-methodologie").text
    assert "Édition utilisée : SSMSI, édition du 17/07/2023" in method
    assert "Commune — Manosque : cambriolages_logement, pour 1 000 logements, millésime inconnu" in method
    assert (
        "Département — Alpes-de-Haute-Provence : cambriolages_logement, pour 1 000 logements, millésime 2020"
        in method
    )
    assert "Manosque, Cambriolages de logement, 2020 : absent de l'édition" in method
    assert dash_duo.get_logs() == []
