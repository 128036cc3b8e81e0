"""The comparisons page: the table a user reads equals the engine's figures; downloads only for roles
that may export, in French Excel's CSV dialect, and audited."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By

from dashboard import security
from ingest.ssmsi import import_ssmsi
from observatoire.auth import add_user
from observatoire.police_nationale import comparisons, exports, rates
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
    assert data["content"].startswith("\ufeffIndicateur;Niveau;Territoire;Code;Année")
    lines = data["content"].splitlines()
    expected = rates.compare_records(engine, "cambriolages_logement", "COM:04112", list(range(2020, 2025)))
    assert len(lines) == 1 + len(expected)
    first = next(r for r in expected if r["rate_per_1000"] is not None)
    # Rounded as displayed (2 decimals), and an n.d. left empty with its reason.
    assert f";{first['rate_per_1000']:.2f};".replace(".", ",") in data["content"]
    assert f"{first['rate_per_1000']:.4f}".replace(".", ",")[:6] not in data["content"]

    xlsx = _download(analyst, app, "xlsx", ["cambriolages_logement"])
    assert xlsx.status_code == 200
    sheet = xlsx.get_json()["response"]["comparaisons-telechargement"]["data"]
    assert sheet["filename"] == "comparaisons.xlsx" and sheet["base64"]
    rows = list(
        openpyxl.load_workbook(io.BytesIO(base64.b64decode(sheet["content"])))["comparaisons"].iter_rows(
            values_only=True
        )
    )
    assert rows[0][0].startswith("Comparaisons") and rows[1][:3] == ("Indicateur", "Niveau", "Territoire")
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
    marks = exports.edition_marks(engine, records)
    cells = {r["year"]: exports.cell_text(r, marks) for r in records if r["level"] == "commune"}
    assert first_row == [cells[y] for y in years]
    assert all(c == "n.d." or c.startswith(f"{commune[y]:.2f}".replace(".", ",")) for y, c in cells.items())
    rows = [th.text for th in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert rows[0].startswith("Commune — Manosque") and rows[-1].startswith("France")
    dash_duo.wait_for_element("#comparaisons-table-evolution", timeout=20)
    assert (
        "Violences physiques non crapuleuses" in dash_duo.find_element("#comparaisons-table-evolution").text
    )
    assert "SSMSI" in dash_duo.find_element("#comparaisons-methodologie").text
    assert dash_duo.get_logs() == []


def _type_territory(dash_duo, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    field = dash_duo.find_element("#comparaisons-territoire")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)
    field.send_keys(Keys.ESCAPE)  # closes the completion list over the controls


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
    _type_territory(dash_duo, "04112")  # a code is still accepted
    dash_duo.select_dcc_dropdown("#comparaisons-edition", "SSMSI, édition du 17/07/2023")
    dash_duo.select_dcc_dropdown("#comparaisons-debut", "2020")
    dash_duo.select_dcc_dropdown("#comparaisons-fin", "2022")
    dash_duo.find_element("#comparaisons-afficher").click()

    dash_duo.wait_for_contains_text(
        "#comparaisons-table-cambriolages_logement caption", "SSMSI, édition du 17/07/2023", timeout=30
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
            "n.d." if r["rate_per_1000"] is None else f"{r['rate_per_1000']:.2f} ¹".replace(".", ",")
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
    assert "Éditions utilisées : ¹ SSMSI, édition du 17/07/2023" in method
    assert "Commune — Manosque : cambriolages_logement, pour 1 000 logements, millésime inconnu" in method
    assert (
        "Département — Alpes-de-Haute-Provence : cambriolages_logement, pour 1 000 logements, millésime 2020"
        in method
    )
    assert "Manosque, Cambriolages de logement, 2020 : absent de l'édition" in method
    assert dash_duo.get_logs() == []


@pytest.fixture
def everything_app(settings, engine, shared_data):
    """Every real SSMSI file (no fictive edition), with the reference territories for the names."""
    from dashboard.app import create_app
    from sample_data import reference
    from sample_data.demo import FILES
    from tests.test_pn_secrecy import _load_everything

    reference.load(engine, FILES, "demo")
    add_user(engine, "page-analyste", "analyste", PASSWORD)
    _load_everything(engine, shared_data)
    return create_app(settings)


@pytest.mark.browser
def test_analyst_picks_manosque_by_name_and_downloads_the_workbook(dash_duo, everything_app, engine):
    dash_duo.start_server(everything_app, navigate=False)
    browser_login(dash_duo, "page-analyste", then="/comparaisons")
    dash_duo.wait_for_element("#comparaisons-table-cambriolages_logement", timeout=30)
    _type_territory(dash_duo, "Manos")
    # The completion offers the commune by its name.
    dash_duo.wait_for_element("#comparaisons-territoires option[value='Manosque (04112)']", timeout=20)
    _type_territory(dash_duo, "Var")
    dash_duo.find_element("#comparaisons-afficher").click()
    dash_duo.wait_for_contains_text(
        "#comparaisons-table-cambriolages_logement caption", "Var, 2021–2025", timeout=30
    )
    _type_territory(dash_duo, "Manosque")
    dash_duo.find_element("#comparaisons-afficher").click()
    dash_duo.wait_for_contains_text(
        "#comparaisons-table-cambriolages_logement caption", "Manosque, 2021–2025", timeout=30
    )
    caption = dash_duo.find_element("#comparaisons-table-cambriolages_logement caption").text
    assert "COM:04112" not in caption and "application" in caption
    shown = dash_duo.find_element("#comparaisons-resultats").text
    assert any(
        w in shown for w in ("hausse significative", "baisse significative", "pas d'évolution significative")
    )
    dash_duo.wait_for_element("#comparaisons-entonnoir-cambriolages_logement", timeout=20)

    dash_duo.find_element("#comparaisons-xlsx").click()
    path = Path(dash_duo.download_path) / "comparaisons.xlsx"
    for _ in range(100):
        if path.exists() and path.stat().st_size:
            break
        time.sleep(0.2)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["comparaisons", "Sources et méthode"]
    rows = list(book["comparaisons"].iter_rows(values_only=True))
    header = rows[1]
    assert header[:5] == ("Indicateur", "Niveau", "Territoire", "Code", "Année")
    data = [dict(zip(header, r, strict=False)) for r in rows[2:] if r[0] and r[1]]
    manosque = {(r["Indicateur"], r["Année"]): r for r in data if r["Code"] == "COM:04112"}
    # The burglary rate comes from the application's file, rounded as displayed, with its mark.
    cambr = manosque[("Cambriolages de logement", 2021)]
    assert cambr["Édition"].startswith("SSMSI, application") and cambr["Renvoi"]
    assert cambr["Taux pour 1 000"] == round(cambr["Taux pour 1 000"], 2)
    # n.d. left empty, with its reason.
    missing = [r for r in data if r["Taux pour 1 000"] is None]
    assert missing and all(r["Raison si non disponible"] for r in missing)
    sources = [r for r in book["Sources et méthode"].iter_rows(values_only=True) if r[0]]
    topics = {r[0] for r in sources}
    assert {"Source", "Méthode", "Secret statistique", "Tests"} <= topics
    assert any(t.startswith("Édition ") for t in topics) and any(t.startswith("Test (") for t in topics)
    assert any("ssmsi_dep_2016_2025_edition2026" in (r[1] or "") for r in sources)
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_unknown_territory_gets_suggestions_and_a_missing_indicator_its_own_note(dash_duo, everything_app):
    dash_duo.start_server(everything_app, navigate=False)
    browser_login(dash_duo, "page-analyste", then="/comparaisons")
    dash_duo.wait_for_element("#comparaisons-table-cambriolages_logement", timeout=30)
    _type_territory(dash_duo, "Manosk")
    dash_duo.find_element("#comparaisons-afficher").click()
    dash_duo.wait_for_contains_text("#comparaisons-message", "Territoire inconnu", timeout=20)
    assert "Manosque (04112)" in dash_duo.find_element("#comparaisons-message").text
    assert dash_duo.get_logs() == []


def test_a_missing_indicator_gets_its_note_and_the_others_are_drawn(app, engine):
    """cbv belongs to the 2023 nomenclature, absent from the demo edition."""
    client = app.server.test_client()
    login(client, "page-analyste")
    key = next(k for k in app.callback_map if "comparaisons-resultats.children" in k)
    callback = app.callback_map[key]
    values = {
        "comparaisons-afficher": 1,
        "comparaisons-territoire": "Manosque",
        "comparaisons-indicateurs": ["cbv", "cambriolages_logement"],
        "comparaisons-debut": 2020,
        "comparaisons-fin": 2024,
        "comparaisons-france": "entiere",
        "comparaisons-edition": None,
        "comparaisons-niveaux": list(rates.LEVELS),
    }
    body = {
        "output": key,
        "outputs": [
            {"id": "comparaisons-resultats", "property": "children"},
            {"id": "comparaisons-methodologie", "property": "children"},
        ],
        "inputs": [{**i, "value": values[i["id"]]} for i in callback["inputs"]],
        "state": [{**s, "value": values[s["id"]]} for s in callback["state"]],
        "changedPropIds": ["comparaisons-afficher.n_clicks"],
    }
    answer = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    text = json.dumps(answer.get_json(), ensure_ascii=False)
    assert "comparaisons-absent-cbv" in text and "Aucune édition chargée" in text
    assert "comparaisons-table-cambriolages_logement" in text
    assert "comparaisons-graphique-cambriolages_logement" in text
