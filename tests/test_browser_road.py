"""The road-safety page in a real headless Chromium: the yearly series as the library computes it, unknown
gravity shown as such, accident markers, the planted dangerous sites — and no accident point for the
council, which sees aggregates only. Plus the CSV export, audited, through the server."""

from __future__ import annotations

import json
import math
import random

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import security
from dashboard.components import formatting as fmt
from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, browser_login, dash_csrf, login

COMMUNE = "COM:04112"
UNKNOWN_YEAR = 2018  # caracteristiques only: gravity unknown, never zero
YEARS = (UNKNOWN_YEAR, 2023)
SITE_YEARS = (2019, 2023)  # the page's default: the last five years of the range


@pytest.fixture
def road_app(settings, engine, tmp_path):
    from dashboard.app import create_app
    from ingest.baac import import_baac
    from sample_data import baac, reference
    from sample_data.baac_writer import write_year
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    baac.load(engine, FILES, "demo")
    extra = baac.demo_year(random.Random(7), UNKNOWN_YEAR, [900_000_000, 9_000_000])[:6]
    write_year(tmp_path / "sans_usagers", UNKNOWN_YEAR, extra, tables=("caracteristiques",))
    import_baac(engine, [tmp_path / "sans_usagers"], user="demo")
    add_user(engine, "route-analyste", "analyste", PASSWORD)
    add_user(engine, "route-conseil", "conseil", PASSWORD)
    return create_app(settings)


def _open_page(dash_duo, username: str) -> None:
    base = browser_login(dash_duo, username)
    # Navigating before the login answer has set the session cookie lands back on the login form.
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    dash_duo.driver.get(base + "/securite-routiere")


def _table(dash_duo, selector: str) -> tuple[list[str], list[list[str]]]:
    table = dash_duo.wait_for_element(selector, timeout=20)
    header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = [
        [c.text for c in tr.find_elements(By.CSS_SELECTOR, "th, td")]
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    return header, rows


def _count(dash_duo, css: str, expected: int) -> int:
    WebDriverWait(dash_duo.driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, css)) == expected)
    return len(dash_duo.driver.find_elements(By.CSS_SELECTOR, css))


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return math.hypot((lat2 - lat1) * 111_320, (lon2 - lon1) * 111_320 * math.cos(math.radians(lat1)))


@pytest.mark.browser
def test_analyst_sees_series_map_and_sites(dash_duo, road_app, engine):
    from observatoire.road.breakdowns import accident_points
    from observatoire.road.indicators import yearly_indicators
    from observatoire.road.sites import dangerous_sites
    from sample_data.baac import SITES

    dash_duo.start_server(road_app, navigate=False)
    _open_page(dash_duo, "route-analyste")

    expected = yearly_indicators(engine, COMMUNE, YEARS)
    header, rows = _table(dash_duo, "#securite-table-annuelle")
    col = {
        name: header.index(name)
        for name in (
            "Année",
            "Accidents corporels",
            "Tués",
            "Blessés hospitalisés",
            "Blessés légers",
            "Accidents mortels",
        )
    }
    assert [r[col["Année"]] for r in rows] == [str(y) for y in expected.annee]
    for row, rec in zip(rows, expected.itertuples(), strict=True):
        assert row[col["Accidents corporels"]] == fmt.number(int(rec.accidents))
        for name, field in (
            ("Tués", "tues"),
            ("Blessés hospitalisés", "hospitalises"),
            ("Blessés légers", "blesses_legers"),
            ("Accidents mortels", "accidents_mortels"),
        ):
            if rec.annee == UNKNOWN_YEAR:
                assert rec.gravite_inconnue and row[col[name]] == "inconnue", (rec.annee, name)
            else:
                assert row[col[name]] == fmt.number(int(getattr(rec, field))), (rec.annee, name)
    assert str(UNKNOWN_YEAR) in dash_duo.find_element("#securite-gravite-inconnue").text
    assert dash_duo.find_element("#securite-csv").is_displayed()

    points = accident_points(engine, COMMUNE, YEARS)["features"]
    assert len(points) > 100
    assert _count(dash_duo, "#securite-carte path.obs-route-point", len(points)) == len(points)
    unknown = sum(1 for p in points if p["properties"]["gravite"] == "inconnue")
    assert unknown > 0
    assert (
        len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#securite-carte path.obs-route-point-inconnue"))
        == unknown
    )
    assert "Gravité inconnue" in dash_duo.find_element("#securite-legende").text

    sites = dangerous_sites(engine, COMMUNE, SITE_YEARS)["features"]
    _, site_rows = _table(dash_duo, "#securite-table-sites")
    assert [r[1] for r in site_rows] == [fmt.number(s["properties"]["accidents"]) for s in sites]
    for lat, lon, _per_year, _roads in SITES:  # each planted site is found, near where it was planted
        assert any(
            _metres(lat, lon, s["geometry"]["coordinates"][1], s["geometry"]["coordinates"][0]) < 60
            for s in sites[: len(SITES)]
        )
    assert _count(dash_duo, "#securite-carte path.obs-route-site", len(sites)) == len(sites)
    accident_list = dash_duo.driver.find_element(By.ID, "securite-site-1")
    assert (
        len(accident_list.find_elements(By.CSS_SELECTOR, "tbody tr")) == sites[0]["properties"]["accidents"]
    )
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_council_sees_sites_but_no_accident_point(dash_duo, road_app, engine):
    from observatoire.road.sites import dangerous_sites

    dash_duo.start_server(road_app, navigate=False)
    _open_page(dash_duo, "route-conseil")
    dash_duo.wait_for_element("#securite-table-annuelle", timeout=20)
    sites = dangerous_sites(engine, COMMUNE, SITE_YEARS)["features"]
    header, site_rows = _table(dash_duo, "#securite-table-sites")
    assert len(site_rows) == len(sites) >= 2
    first = header.index("Premier accident")
    assert [r[first] for r in site_rows] == [
        s["properties"]["premier"][:4] for s in sites
    ]  # years, not dates
    assert _count(dash_duo, "#securite-carte path.obs-route-site", len(sites)) == len(sites)
    assert "agrégés" in dash_duo.find_element("#securite-agrege").text
    driver = dash_duo.driver
    assert driver.find_elements(By.CSS_SELECTOR, "#securite-carte path.obs-route-point") == []
    assert driver.find_elements(By.ID, "securite-site-1") == []  # no per-accident list either
    assert driver.find_elements(By.ID, "securite-csv") == []
    assert dash_duo.get_logs() == []


def _map_answer(app, username: str) -> str:
    """What the server sends back for the map callback: a browser would only hide what it receives."""
    client = app.server.test_client()
    login(client, username)
    key = next(k for k in app.callback_map if "securite-carte-bloc.children" in k)
    callback = app.callback_map[key]
    values = {
        "securite-territoire": COMMUNE,
        "securite-annees": list(YEARS),
        "securite-rayon": 50,
        "securite-minimum": 3,
        "securite-periode": 5,
    }
    outputs = [
        {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in key.strip(".").split("...")
    ]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": [{**i, "value": values[i["id"]]} for i in callback["inputs"]],
        "state": [],
        "changedPropIds": ["securite-annees.value"],
    }
    answer = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.get_data(as_text=True)


def test_council_never_receives_an_individual_accident(road_app):
    analyst = _map_answer(road_app, "route-analyste")
    council = _map_answer(road_app, "route-conseil")
    assert "obs-route-point" in analyst and "obs-route-point" not in council
    assert "securite-table-sites" in council  # the aggregated sites are still there
    assert "securite-site-1" in analyst and "securite-site-1" not in council  # no per-site accident list
    assert "Accidents de chaque site" in analyst and "Accidents de chaque site" not in council


def _download(client, clicks):
    body = {
        "output": "securite-telechargement.data",
        "outputs": {"id": "securite-telechargement", "property": "data"},
        "inputs": [{"id": "securite-csv", "property": "n_clicks", "value": clicks}],
        "state": [
            {"id": "securite-territoire", "property": "value", "value": COMMUNE},
            {"id": "securite-annees", "property": "value", "value": list(YEARS)},
        ],
        "changedPropIds": ["securite-csv.n_clicks"],
    }
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )


@pytest.mark.parametrize("role, allowed", [("analyste", True), ("conseil", False)])
def test_yearly_csv_export_is_audited_and_refused_to_council(road_app, engine, role, allowed):
    client = road_app.server.test_client()
    assert login(client, f"route-{role}").status_code == 302
    answer = _download(client, 1)
    with engine.connect() as conn:
        exports = conn.execute(
            sa.text("SELECT user_login, target FROM obs.audit_log WHERE action = 'export'")
        ).all()
    if not allowed:
        assert answer.status_code == 403 and exports == []
        return
    assert answer.status_code == 200
    content = answer.get_json()["response"]["securite-telechargement"]["data"]["content"]
    lines = content.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("annee;accidents;accidents_mortels")
    assert any(line.startswith(f"{UNKNOWN_YEAR};") and ";inconnue;" in line for line in lines)
    assert [tuple(e) for e in exports] == [(f"route-{role}", "securite-routiere")]
