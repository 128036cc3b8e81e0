"""Imported names are text, never markup: a territory, a family, a type or a sector named like an HTML attack
reads as those characters on every page and for every role, and the Content Security Policy forbids inline
script besides, so that a string that slipped through would still not run."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from observatoire.auth import add_user
from observatoire.permissions import AGGREGATE_ONLY, ROLES, allowed
from tests.helpers_web import PASSWORD, browser_login, login
from tests.pm_helpers import HEADER, write_export

FILES = Path(__file__).resolve().parents[1] / "sample_data" / "files"
IRIS_CODE = "IRIS:041120101"
# Each payload sets its own number, to tell which one ran.
IRIS_NAME = '<img src=x onerror="window.__xss=1">'
FAMILY = '<img src=x onerror="window.__xss=2">'
TYPE = '<b>Charivari</b> <img src=x onerror="window.__xss=3">'
SECTOR = '<img src=x onerror="window.__xss=4">'
STREET = "Rue <img src=x onerror=window.__xss=5>"  # no quote nor semicolon: a BAAC file keeps it whole


def _user(role: str) -> str:
    return f"xss-{role.replace('_', '-')}"


@pytest.fixture
def hostile_app(settings, engine, tmp_path):
    """The demo commune, an IRIS renamed by a territory import, accidents on a street whose name is HTML, and
    police municipale interventions of a family, a type and a sector whose names are HTML."""
    import dataclasses
    import random

    from dashboard.app import create_app
    from ingest import police_municipale as pm
    from ingest.baac import import_baac
    from ingest.ban import import_ban
    from ingest.territories import import_territories
    from observatoire.police_municipale import catalogue
    from sample_data import baac, reference
    from sample_data.baac_writer import write_year

    reference.load(engine, FILES, "demo")
    rng, refs = random.Random(3), [150_000_000, 1_000_000]
    for year in (2021, 2022, 2023):  # the demo's dangerous sites gather enough accidents in three years
        accidents = baac.demo_year(rng, year, refs)
        write_year(tmp_path / "baac", year, [dataclasses.replace(a, address=STREET) for a in accidents])
    import_baac(engine, [tmp_path / "baac"], user="demo")
    zones = json.loads((FILES / "demo_zones_iris.geojson").read_text(encoding="utf-8"))
    centre = next(f for f in zones["features"] if f["properties"]["CODE_IRIS"] == "041120101")
    centre["properties"]["NOM_IRIS"] = IRIS_NAME
    renamed = tmp_path / "iris.geojson"
    renamed.write_text(json.dumps({"type": "FeatureCollection", "features": [centre]}), encoding="utf-8")
    report = import_territories(engine, renamed, "iris", user="demo")
    assert report.inserted == 1, report

    catalogue.save_family(engine, "hostile", FAMILY, role="admin")
    catalogue.save_type(engine, "hostile", TYPE, "hostile", ["charivari"], role="admin")
    rows = [
        [f"{day:02d}/03/2024", "22h15", "Charivari", "", "5,7871", "43,8342", SECTOR, "Appel", "", f"X-{day}"]
        for day in range(1, 9)
    ] + [["09/03/2024", "23h00", "Tapage nocturne", "", "5,7871", "43,8342", "Centre", "Appel", "", "X-9"]]
    export = write_export(tmp_path / "export.csv", rows=rows, header=HEADER, encoding="utf-8")
    import_ban(engine, FILES / "police_municipale" / "ban_manosque_fictive.csv", user="demo")
    assert pm.commit(engine, export, user="demo", accept_valid=True, commune="04112").inserted == len(rows)
    for role in ROLES:
        add_user(engine, _user(role), role, PASSWORD)
    return create_app(settings)


# --- what the browser made of the page ------------------------------------------------------------------------

_TOOLTIPS = """
const [selector] = arguments;
const seen = [];
for (const path of document.querySelectorAll(selector + ' .leaflet-overlay-pane path')) {
    const box = path.getBoundingClientRect();
    const at = {bubbles: true, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2};
    path.dispatchEvent(new MouseEvent('mouseover', at));
    for (const tip of document.querySelectorAll(selector + ' .leaflet-tooltip')) {
        seen.push({text: tip.textContent, elements: tip.querySelectorAll('*').length});
    }
    path.dispatchEvent(new MouseEvent('mouseout', at));
}
return seen;
"""


def _tooltips(driver, selector: str) -> list[dict]:
    """Every tooltip of the map's drawn shapes, opened one by one as a pointer passing over them would."""
    return driver.execute_script(_TOOLTIPS, selector)


def _marker_tooltip(driver, css: str, expected: str) -> dict:
    """Hover the shapes matching ``css`` and read the tooltip that says ``expected`` once React has written it
    (the children of a ``dl.Tooltip`` are rendered by React into the tooltip Leaflet opened)."""
    driver.execute_script(
        "for (const m of document.querySelectorAll(arguments[0])) {"
        "  const b = m.getBoundingClientRect();"
        "  m.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: b.x + b.width / 2,"
        "  clientY: b.y + b.height / 2}));"
        "}",
        css,
    )
    find = (
        "return [...document.querySelectorAll('.leaflet-tooltip')].filter(t => t.textContent.includes("
        "arguments[0])).map(t => ({text: t.textContent, elements: t.querySelectorAll('*').length,"
        " markup: t.querySelectorAll('b, img').length}))"
    )
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(find, expected))
    return driver.execute_script(find, expected)[0]


def _point_tooltip(driver, map_id: str, expected: str) -> dict:
    """Hover the point whose label says ``expected`` on the map's canvas (points are one canvas layer, not
    elements of their own) and read the tooltip built then."""
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "const map = document.getElementById(arguments[0]).obsMap; let found = false;"
            "if (map) { map.eachLayer(l => { if (l.feature && String(l.feature.properties.label || '')"
            ".includes(arguments[1])) { found = true; } }); } return found;",
            map_id,
            expected,
        )
    )
    driver.execute_script(
        "const map = document.getElementById(arguments[0]).obsMap; let target = null;"
        "map.eachLayer(l => { if (!target && l.feature && String(l.feature.properties.label || '')"
        ".includes(arguments[1])) { target = l; } });"
        "map.setView(target.getLatLng(), 17, {animate: false});"
        "const at = map.latLngToContainerPoint(target.getLatLng());"
        "const box = map.getContainer().getBoundingClientRect();"
        "map.getContainer().querySelector('canvas').dispatchEvent(new MouseEvent('mousemove',"
        "  {bubbles: true, clientX: box.left + at.x, clientY: box.top + at.y}));",
        map_id,
        expected,
    )
    find = (
        "return [...document.querySelectorAll('.leaflet-tooltip')].filter(t => t.textContent.includes("
        "arguments[0])).map(t => ({text: t.textContent, elements: t.querySelectorAll('*').length,"
        " markup: t.querySelectorAll('b, img').length}))"
    )
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(find, expected))
    return driver.execute_script(find, expected)[0]


def _wait_for_paths(driver, selector: str, at_least: int = 1) -> None:
    WebDriverWait(driver, 40).until(
        lambda d: len(d.find_elements("css selector", f"{selector} .leaflet-overlay-pane path")) >= at_least
    )


def _nothing_ran(driver) -> None:
    """No payload became an element, and none ran (an image that fails calls its handler a moment later)."""
    time.sleep(0.5)
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert driver.execute_script("return window.__xss") is None


def _texts(driver, css: str) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)", css
    )


def _choose(dash_duo, dropdown: str, label: str) -> None:
    """Pick an option of a dropdown; clicked by script, as the open menu can pass under the map's legend."""
    dash_duo.find_element(dropdown).click()
    options = dash_duo.wait_for_element(".dash-dropdown-options", timeout=10)
    option = next(
        o for o in options.find_elements("css selector", ".dash-dropdown-option") if o.text == label
    )
    dash_duo.driver.execute_script("arguments[0].click()", option)


def _check_accueil(dash_duo, base: str, role: str) -> None:
    driver = dash_duo.driver
    driver.get(base + "/")
    _wait_for_paths(driver, "#accueil-carte", 7)
    tips = [t for t in _tooltips(driver, "#accueil-carte") if IRIS_CODE in t["text"]]
    assert tips and all(t == {"text": f"{IRIS_NAME} ({IRIS_CODE})", "elements": 0} for t in tips), tips
    assert IRIS_NAME in driver.find_element("css selector", "#accueil-table-zones").get_attribute(
        "textContent"
    )
    _nothing_ran(driver)


def _check_carte(dash_duo, base: str, role: str) -> None:
    driver = dash_duo.driver
    driver.get(base + "/carte")
    dash_duo.wait_for_element("#carte-legende li", timeout=40)
    dash_duo.select_dcc_dropdown(
        "#carte-mode", "Par IRIS (taux pour 1 000 habitants si populations chargées)"
    )
    dash_duo.wait_for_contains_text("#carte-legende", "par IRIS", timeout=40)
    _wait_for_paths(driver, "#carte-leaflet", 6)
    tips = [t for t in _tooltips(driver, "#carte-leaflet") if t["text"].startswith(IRIS_NAME + " : ")]
    assert tips and all(t["elements"] == 0 for t in tips), tips
    assert IRIS_NAME in driver.find_element("css selector", "#carte-table").get_attribute("textContent")
    _nothing_ran(driver)
    if role not in AGGREGATE_ONLY:  # the council never receives points
        _choose(dash_duo, "#carte-mode", "Événements (points ou regroupements)")
        dash_duo.wait_for_text_to_equal("#carte-legende > strong", "Événements", timeout=40)
        tip = _point_tooltip(driver, "carte-leaflet", TYPE)
        # one <span> whose text was set (assets/obs_cartes.js), nothing the name's markup would have made
        assert tip["text"].startswith(f"{TYPE} — ") and tip["elements"] == 1 and tip["markup"] == 0, tip
        _nothing_ran(driver)


def _check_activite(dash_duo, base: str, role: str) -> None:
    driver = dash_duo.driver
    driver.get(base + "/police-municipale")
    dash_duo.wait_for_element("#activite-graphique-types .ytick", timeout=40)
    assert TYPE in _texts(driver, "#activite-graphique-types .ytick text")
    dash_duo.wait_for_element("#activite-graphique-mois .legendtext", timeout=40)
    assert FAMILY in _texts(driver, "#activite-graphique-mois .legendtext")
    assert FAMILY in driver.find_element("css selector", "#activite-table-familles").get_attribute(
        "textContent"
    )
    _wait_for_paths(driver, "#activite-carte", 6)
    tips = [t for t in _tooltips(driver, "#activite-carte") if t["text"].startswith(IRIS_NAME + " : ")]
    assert tips and all(t["elements"] == 0 for t in tips), tips
    dash_duo.find_element("#activite-niveau input[value=secteur]").click()
    dash_duo.wait_for_contains_text("#activite-table-zones", "Secteur", timeout=40)
    WebDriverWait(driver, 20).until(
        lambda d: (
            SECTOR in d.find_element("css selector", "#activite-table-zones").get_attribute("textContent")
        )
    )
    _nothing_ran(driver)


def _check_securite(dash_duo, base: str, role: str) -> None:
    driver = dash_duo.driver
    driver.get(base + "/securite-routiere")
    _wait_for_paths(driver, "#securite-carte", 7)
    tips = [t for t in _tooltips(driver, "#securite-carte") if IRIS_CODE in t["text"]]
    assert tips and all(t == {"text": f"{IRIS_NAME} ({IRIS_CODE})", "elements": 0} for t in tips), tips
    assert STREET in dash_duo.wait_for_element("#securite-table-sites", timeout=40).get_attribute(
        "textContent"
    )
    if role not in AGGREGATE_ONLY:  # the council sees no accident one by one
        tip = _marker_tooltip(driver, "#securite-carte path.obs-route-point", STREET)
        assert tip["text"].endswith(f" — {STREET}") and tip["elements"] == 1 and tip["markup"] == 0, tip
    _nothing_ran(driver)
    dash_duo.select_dcc_dropdown("#securite-territoire", f"IRIS — {IRIS_NAME}")
    WebDriverWait(driver, 40).until(
        lambda d: any(IRIS_NAME in t for t in _texts(d, "#securite-graphique-annuel .gtitle"))
    )
    _nothing_ran(driver)


PAGES = (
    ("accueil.voir", _check_accueil),
    ("carte.voir", _check_carte),
    ("pm.voir", _check_activite),
    ("routes.voir", _check_securite),
)


@pytest.mark.browser
@pytest.mark.parametrize("role", list(ROLES))
def test_hostile_names_read_as_text_on_every_page(dash_duo, hostile_app, role):
    dash_duo.start_server(hostile_app, navigate=False)
    base = browser_login(dash_duo, _user(role))
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    for permission, check in PAGES:
        if allowed(role, permission):
            check(dash_duo, base, role)
    assert dash_duo.get_logs() == []


# --- where the escaping happens ---------------------------------------------------------------------------------


def test_map_text_is_escaped_by_the_maps_helpers():
    from dashboard.components import maps, markup

    feature = {"type": "Feature", "geometry": None, "properties": {"name": IRIS_NAME}}
    tipped = maps.with_tooltip(feature, f"{IRIS_NAME} : 3 événements")
    assert tipped["properties"]["tooltip"] == '&lt;img src=x onerror="window.__xss=1"&gt; : 3 événements'
    assert feature["properties"] == {"name": IRIS_NAME}  # the data itself is left as it is
    assert maps.overlay(None, "A & B <i>").name == "A &amp; B &lt;i&gt;"
    assert markup.text("Zone d'activités « sud »") == "Zone d'activités « sud »"  # nothing else changes


def test_pages_hand_leaflet_no_markup_but_through_the_maps_helpers():
    """Leaflet inserts a GeoJSON feature's ``tooltip``/``popup`` and a layers control's names as HTML: a page
    that wrote them itself would skip the escaping of ``maps.with_tooltip`` and ``maps.overlay``."""
    root = Path(__file__).resolve().parents[1] / "dashboard"
    for path in root.rglob("*.py"):
        if path.name == "maps.py":
            continue
        source = path.read_text(encoding="utf-8")
        for pattern in ('"tooltip"', "'tooltip'", '"popup"', "'popup'", "dl.Overlay("):
            assert pattern not in source, f"{path.relative_to(root.parent)} : {pattern}"


# --- the policy --------------------------------------------------------------------------------------------------


def _directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in csp.split(";")) if d}


def test_csp_allows_no_inline_script_nor_eval_and_hashes_dash_own_script(hostile_app):
    client = hostile_app.server.test_client()
    assert login(client, _user("admin")).status_code == 302
    answer = client.get("/")
    scripts = _directives(answer.headers["Content-Security-Policy"])["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert not any(s in ("*", "data:", "blob:", "http:", "https:") for s in scripts)
    page = re.sub(r"<!--.*?-->", "", answer.get_data(as_text=True), flags=re.S)
    inline = [
        body
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        if "src=" not in attrs and "application/json" not in attrs
    ]
    assert len(inline) >= 2, "le démarrage de Dash et le script du titre des pages sont attendus"
    for body in inline:  # every inline script of the page is allowed by its hash, and by nothing broader
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    login_page = hostile_app.server.test_client().get("/login")
    assert "'unsafe-inline'" not in _directives(login_page.headers["Content-Security-Policy"])["script-src"]


@pytest.mark.browser
def test_browser_refuses_an_inline_handler_that_would_slip_through(dash_duo, hostile_app):
    dash_duo.start_server(hostile_app, navigate=False)
    browser_login(dash_duo, _user("analyste"))
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    driver = dash_duo.driver
    driver.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.__xss=9\">')"
    )
    time.sleep(1)
    assert driver.execute_script("return window.__xss") is None
    logs = dash_duo.get_logs()
    assert logs and all("Content Security Policy" in entry["message"] for entry in logs), logs
