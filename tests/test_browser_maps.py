"""The maps as a reader meets them in a real headless Chromium: points drawn as one layer whose tooltip
appears on hover, a legend beside the map that folds (folded at first on a narrow screen), a scale bar on
every map, hot spots named by their IRIS and street with readable p-values, and the Carte page's controls
shown only in the modes they apply to."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from observatoire.auth import add_user
from observatoire.events.places import name_places
from tests.helpers_web import PASSWORD, browser_login

MODE_POINTS = "Événements (points ou regroupements)"
MODE_HOT = "Points chauds (Getis-Ord Gi*)"


@pytest.fixture
def maps_app(settings, engine):
    from dashboard.app import create_app
    from sample_data import baac, pn_faits, police_municipale, reference
    from sample_data.demo import FILES

    for module in (reference, police_municipale, pn_faits, baac):
        module.load(engine, FILES, "demo")
    add_user(engine, "cartes-analyste", "analyste", PASSWORD)
    add_user(engine, "cartes-conseil", "conseil", PASSWORD)
    return create_app(settings)


def _open(dash_duo, app, user: str, path: str) -> None:
    dash_duo.start_server(app, navigate=False)
    base = browser_login(dash_duo, user)
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    dash_duo.driver.get(base + path)


def _choose(dash_duo, selector: str, label: str) -> None:
    """Pick an option of a dcc.Dropdown; clicked through JavaScript: near the window's bottom the menu's
    search box can lie over its first option."""
    dash_duo.find_element(selector).click()
    menu = dash_duo.find_element(".dash-dropdown-options")
    option = next(o for o in menu.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option") if o.text == label)
    dash_duo.driver.execute_script("arguments[0].click();", option)


def _displayed(dash_duo, selector: str) -> bool:
    found = dash_duo.driver.find_elements(By.CSS_SELECTOR, selector)
    return bool(found) and found[0].is_displayed()


def test_points_are_one_canvas_layer_with_tooltips_on_hover(dash_duo, maps_app):
    _open(dash_duo, maps_app, "cartes-analyste", "/carte")
    dash_duo.wait_for_element("#carte-legende li", timeout=30)
    dash_duo.select_dcc_dropdown("#carte-annee", "2023")
    dash_duo.select_dcc_dropdown("#carte-mode", MODE_POINTS)
    dash_duo.wait_for_contains_text("#carte-legende", "affichés un par un", timeout=40)
    driver = dash_duo.driver
    # Every point is a Leaflet layer of one canvas, none a DOM element of its own.
    drawn = WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            """const map = document.getElementById('carte-leaflet').obsMap;
               if (!map) { return 0; }
               let n = 0;
               map.eachLayer(l => { if (l.feature && l.feature.properties.label) { n += 1; } });
               return n;"""
        )
    )
    assert drawn > 1000, drawn
    assert len(driver.find_elements(By.CSS_SELECTOR, "#carte-leaflet canvas")) == 1
    paths = driver.find_elements(By.CSS_SELECTOR, "#carte-leaflet .leaflet-overlay-pane path")
    assert len(paths) < 100, len(paths)  # outlines and sensitive hexagons, not the points
    assert driver.find_elements(By.CSS_SELECTOR, "#carte-leaflet .leaflet-tooltip") == []
    # Hover one point: its tooltip is built then, as text.
    expected = driver.execute_script(
        """const map = document.getElementById('carte-leaflet').obsMap;
           let target = null;
           map.eachLayer(l => { if (!target && l.feature && l.feature.properties.label) { target = l; } });
           map.setView(target.getLatLng(), 16, {animate: false});
           const at = map.latLngToContainerPoint(target.getLatLng());
           const box = map.getContainer().getBoundingClientRect();
           const canvas = map.getContainer().querySelector('canvas');
           canvas.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: box.left + at.x,
                                                             clientY: box.top + at.y}));
           return target.feature.properties.label;"""
    )
    tooltip = dash_duo.wait_for_element("#carte-leaflet .leaflet-tooltip", timeout=10)
    assert tooltip.text.startswith(expected + " — "), (tooltip.text, expected)
    assert re.search(r"\d\d/\d\d/\d{4}", tooltip.text), tooltip.text
    assert dash_duo.get_logs() == []


def test_legend_beside_the_map_folds(dash_duo, maps_app):
    _open(dash_duo, maps_app, "cartes-conseil", "/carte")
    dash_duo.wait_for_element("#carte-legende li", timeout=30)
    box = dash_duo.find_element("#carte-legende-boite")
    leaflet = dash_duo.find_element("#carte-leaflet")
    # Beside the map, not over it: the legend starts right of the map's right edge.
    assert box.location["x"] >= leaflet.location["x"] + leaflet.size["width"], (box.location, leaflet.size)
    assert box.get_attribute("open") is not None and _displayed(dash_duo, "#carte-legende li")
    dash_duo.find_element("#carte-legende-boite > summary").click()
    WebDriverWait(dash_duo.driver, 10).until(lambda d: not _displayed(dash_duo, "#carte-legende li"))
    dash_duo.find_element("#carte-legende-boite > summary").click()
    WebDriverWait(dash_duo.driver, 10).until(lambda d: _displayed(dash_duo, "#carte-legende li"))
    # On a narrow screen the legend goes under the map, folded: the map first.
    dash_duo.driver.set_window_size(800, 900)
    dash_duo.driver.refresh()
    dash_duo.wait_for_element("#carte-legende-boite", timeout=30)
    WebDriverWait(dash_duo.driver, 30).until(
        lambda d: d.find_element(By.ID, "carte-legende-boite").get_attribute("data-obs-vu")
    )
    assert dash_duo.find_element("#carte-legende-boite").get_attribute("open") is None
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize(
    ("path", "map_id"),
    [
        ("/carte", "carte-leaflet"),
        ("/police-municipale", "activite-carte"),
        ("/securite-routiere", "securite-carte"),
        ("/", "accueil-carte"),
    ],
)
def test_every_map_has_a_scale_bar(dash_duo, maps_app, path, map_id):
    _open(dash_duo, maps_app, "cartes-analyste", path)
    scale = dash_duo.wait_for_element(f"#{map_id} .leaflet-control-scale-line", timeout=40)
    assert re.fullmatch(r"\d+ k?m", scale.text), scale.text
    assert dash_duo.get_logs() == []


def test_hot_spots_named_and_explained(dash_duo, maps_app):
    _open(dash_duo, maps_app, "cartes-analyste", "/carte")
    dash_duo.wait_for_element("#carte-legende li", timeout=30)
    dash_duo.select_dcc_dropdown("#carte-mode", MODE_HOT)
    dash_duo.wait_for_contains_text("#carte-legende", "6 voisins", timeout=40)
    assert (
        "un hexagone sans événement peut être un point chaud" in dash_duo.find_element("#carte-legende").text
    )
    table = dash_duo.wait_for_element("#carte-table", timeout=30)
    names = [th.text for th in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert names and not any(n.startswith("Hexagone") for n in names), names[:5]
    assert all(re.match(r"\d+\. .+ — près de .+", n) for n in names), names[:5]
    header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    p_column = header.index("p") + 1
    p_values = [td.text for td in table.find_elements(By.CSS_SELECTOR, f"tbody tr > :nth-child({p_column})")]
    assert p_values and "< 0,001" in p_values, p_values[:5]
    assert all(v == "< 0,001" or re.fullmatch(r"0,\d{3}", v) for v in p_values), p_values[:5]
    assert dash_duo.get_logs() == []


def test_controls_shown_only_where_they_apply(dash_duo, maps_app):
    _open(dash_duo, maps_app, "cartes-analyste", "/carte")
    dash_duo.wait_for_element("#carte-legende li", timeout=30)
    driver = dash_duo.driver
    wait = WebDriverWait(driver, 20)
    assert _displayed(dash_duo, "#carte-cellule-choix") and _displayed(dash_duo, "#carte-classes-choix")
    assert not _displayed(dash_duo, "#carte-heure-debut")  # the band says it all
    for mode, cell, classes in (
        ("Par IRIS (taux pour 1 000 habitants si populations chargées)", False, True),
        ("Densité (noyau gaussien)", False, False),
        (MODE_HOT, True, False),
        ("Nombre d'événements par hexagone", True, True),
    ):
        _choose(dash_duo, "#carte-mode", mode)
        wait.until(lambda d, c=cell: _displayed(dash_duo, "#carte-cellule-choix") == c)
        wait.until(lambda d, c=classes: _displayed(dash_duo, "#carte-classes-choix") == c)
    _choose(dash_duo, "#carte-heures-preset", "Autres heures (de… à…)")
    wait.until(lambda d: _displayed(dash_duo, "#carte-heure-debut"))
    _choose(dash_duo, "#carte-heures-preset", "Soirées (19 h – 2 h)")
    wait.until(lambda d: not _displayed(dash_duo, "#carte-heure-debut"))
    assert dash_duo.get_logs() == []


def test_places_named_by_iris_and_nearest_street(maps_app, engine, settings):
    import sqlalchemy as sa

    with engine.connect() as conn:
        address = conn.execute(
            sa.text("SELECT ST_X(geom), ST_Y(geom), nom_voie FROM obs.ban_address ORDER BY id LIMIT 1")
        ).one()
        iris = conn.execute(
            sa.text(
                "SELECT name FROM obs.territory WHERE level = 'iris' "
                "AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": address[0], "y": address[1]},
        ).scalar()
    # A point 2 m from an address: that address's street, and the IRIS around it.
    places = name_places(engine, [(address[0] + 0.00002, address[1])], settings.commune_code)
    assert places == [{"iris": iris, "street": address[2]}]
    assert name_places(engine, [(0.0, 0.0)], settings.commune_code)[0]["iris"] is None
