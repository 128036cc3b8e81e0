"""The map page through HTTP, as each role: sensitive categories never come back as points, the council
never reads an exact count under the threshold, the police municipale never receives police nationale data;
and in a real browser the council finds the evening burglary hot spots with their legend and table."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import security
from observatoire.auth import add_user
from observatoire.events import filter as event_filter
from observatoire.events import queries as event_queries
from observatoire.permissions import ROLES, allowed
from observatoire.sources import event_sources
from tests.helpers_web import PASSWORD, browser_login, dash_csrf, login

KEY = "..carte-couches.children...carte-legende.children...carte-tableau.children...carte-resume.children.."


def _user(role: str) -> str:
    return f"carte-{role.replace('_', '-')}"


@pytest.fixture
def loaded(settings, engine):
    from sample_data import baac, pn_faits, police_municipale, reference
    from sample_data.demo import FILES

    for module in (reference, police_municipale, pn_faits, baac):
        module.load(engine, FILES, "demo")
    for role in ROLES:
        add_user(engine, _user(role), role, PASSWORD)
    return settings


@pytest.fixture
def app(loaded):
    from dashboard.app import create_app

    return create_app(loaded)


def _client(app, role: str):
    client = app.server.test_client()
    assert login(client, _user(role)).status_code == 302
    return client


def _ask(client, app, **values):
    callback = app.callback_map[KEY]
    defaults = {
        "carte-sources": list(event_filter.SOURCES),
        "carte-periode": None,
        "carte-categories": [],
        "carte-familles": [],
        "carte-heure-debut": 0,
        "carte-heure-fin": 0,
        "carte-jours": [],
        "carte-mode": "hexagones",
        "carte-cellule": 150,
        "carte-classes": "quantiles",
    }
    defaults.update(values)

    def value(i: dict):
        if i["id"] == "carte-periode" and defaults[i["id"]] is not None:  # (start, end)
            return defaults[i["id"]][0 if i["property"] == "start_date" else 1]
        return defaults[i["id"]]

    body = {
        "output": KEY,
        "outputs": [
            {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in KEY.strip(".").split("...")
        ],
        "inputs": [{**i, "value": value(i)} for i in callback["inputs"]],
        "state": [],
        "changedPropIds": ["carte-mode.value"],
    }
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )


def _text(answer) -> str:
    """The answer as a person's browser decodes it (the raw JSON escapes « < » and accents)."""
    return _text_of(answer.get_json())


def _text_of(decoded: dict) -> str:
    return json.dumps(decoded, ensure_ascii=False)


def _sensitive(engine) -> list[str]:
    cats = event_queries.categories(engine)
    return [f"{r.source}:{r.category}" for r in cats.itertuples() if r.sensitive]


def _components(node):
    """Every Dash component of a decoded answer (``{"props": …, "type": …, "namespace": …}``), depth first."""
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for value in node:
            yield from _components(value)


def _marker_tooltips(answer: dict) -> list[str]:
    """The text of every point's or cluster's tooltip, as the browser builds it on hover from the features of
    the one GeoJSON layer that holds them (``assets/obs_cartes.js``): what a person reads on each."""
    texts = []
    for layer in _components(answer):
        if layer["type"] != "GeoJSON" or layer["props"].get("id") not in (
            "carte-points",
            "carte-regroupements",
        ):
            continue
        for feature in layer["props"]["data"]["features"]:
            p = feature["properties"]
            texts.append(p["text"] if "text" in p else f"{p['label']} — {p['date']}")
    return texts


def _numbers_in(text: str) -> list[int]:
    """Every count a person could read in the answer: GeoJSON ``count`` properties and table cells."""
    found = [int(v) for v in re.findall(r'"count":\s*(\d+)', text)]
    found += [int(v) for v in re.findall(r'"children":\s*"(\d+)"', text)]
    return found


def test_sensitive_categories_never_points_for_any_role(app, engine):
    sensitive = _sensitive(engine)
    assert sensitive
    for role in ROLES:
        client = _client(app, role)
        # a role without the map asks for every source and must be refused
        sources = [s.event_code for s in event_sources() if role in s.map_roles] or list(event_filter.SOURCES)
        answer = _ask(
            client, app, **{"carte-mode": "points", "carte-categories": sensitive, "carte-sources": sources}
        )
        if not allowed(role, "carte.voir"):
            assert answer.status_code == 403, role
            continue
        assert answer.status_code == 200, (role, answer.get_data(as_text=True)[:500])
        text = _text(answer)
        assert '"Point"' not in text and "CircleMarker" not in text, role
        assert "Polygon" in text, role  # the sensitive events are there, aggregated
        # Even with non-sensitive categories beside them, sensitive events never come as points. A month
        # with few enough events for points (not clusters, whose tooltips name no category) and sensitive
        # events too, so that the check below has points to read.
        answer = _ask(
            client,
            app,
            **{
                "carte-mode": "points",
                "carte-sources": sources,
                "carte-periode": ("2023-06-01", "2023-06-30"),
            },
        ).get_json()
        tooltips = _marker_tooltips(answer)
        # Points come in bulk, one layer, never a component per event (a minute to draw 2,600 of them).
        assert not [c for c in _components(answer) if c["type"] in ("CircleMarker", "Tooltip")], role
        if role == "conseil":
            assert tooltips == []
            continue
        assert re.search(r'"children": "\d+"', _text_of(answer))  # counts in the table
        categories = event_queries.categories(engine)
        plain = {r.label for r in categories.itertuples() if not r.sensitive}
        sensitive_labels = {r.label for r in categories.itertuples() if r.sensitive}
        drawn = {text.split(" — ")[0] for text in tooltips}
        assert drawn & plain, (role, sorted(drawn)[:5])  # points, each named by its category
        assert not drawn & sensitive_labels, (role, sorted(drawn & sensitive_labels))
        assert any(
            c["type"] == "GeoJSON" and c["props"].get("id", "").startswith("carte-sensibles")
            for c in _components(answer)
        ), role  # the month's sensitive events, as hexagons


def test_council_reads_masked_counts_never_exact_small_ones(app, engine, settings):
    client = _client(app, "conseil")
    threshold = settings.small_count_threshold
    for mode in ("hexagones", "iris", "qpv", "points_chauds", "densite", "points"):
        answer = _ask(
            client, app, **{"carte-mode": mode, "carte-categories": ["pn:cambriolages"], "carte-cellule": 100}
        )
        assert answer.status_code == 200, (mode, answer.get_data(as_text=True)[:500])
        text = _text(answer)
        assert "CircleMarker" not in text and '"Point"' not in text, mode
        # zeros are shown: an empty cell discloses no one
        assert all(n >= threshold or n == 0 for n in _numbers_in(text)), (mode, sorted(_numbers_in(text))[:5])
        assert '"z"' not in text, mode  # no z-score beside a masked cell for the council
        if mode == "hexagones":
            assert f"< {threshold}" in text
            assert '"masked": true' in text
    # The analyst, same filter, sees exact small counts: the masking is the role's, not the data's.
    analyst = _ask(
        _client(app, "analyste"), app, **{"carte-categories": ["pn:cambriolages"], "carte-cellule": 100}
    )
    assert any(n < threshold for n in _numbers_in(_text(analyst)))


def test_police_municipale_never_receives_police_nationale_data(app, engine):
    client = _client(app, "police_municipale")
    refused = _ask(client, app, **{"carte-sources": ["pn"]})
    assert refused.status_code == 200
    assert "Votre rôle ne permet pas de consulter la source" in _text(refused)
    for mode in ("points", "hexagones", "points_chauds", "iris"):
        text = _text(
            _ask(
                client,
                app,
                **{
                    "carte-sources": ["pm"],
                    "carte-mode": mode,
                    "carte-categories": ["pn:cambriolages", "pm:stupefiants"],
                },
            )
        )
        assert "Police nationale" not in text and "Cambriolages" not in text, mode
    # Its page offers its own source only.
    page = client.post(
        "/_dash-update-component",
        data=json.dumps(_router_payload(app, "/carte")),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )
    assert page.status_code == 200
    body = _text(page)
    assert "carte-sources" in body and '"value": "pn"' not in body and "Police nationale" not in body


def _router_payload(app, path: str) -> dict:
    key = next(k for k in app.callback_map if k.startswith("..") and "_pages_content" in k)
    callback = app.callback_map[key]
    parts = key.strip(".").split("...")
    return {
        "output": key,
        "outputs": [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts],
        "inputs": [{**i, "value": path if i["property"] == "pathname" else ""} for i in callback["inputs"]],
        "state": [{**s, "value": None} for s in callback["state"]],
        "changedPropIds": [],
    }


def test_export_of_cells_only_with_export_permission(app, engine):
    import sqlalchemy as sa

    key = "carte-telechargement.data"
    callback = app.callback_map[key]
    values = {
        "carte-geojson": 1,
        "carte-csv": None,
        "carte-sources": ["pn"],
        "carte-periode": None,
        "carte-categories": ["pn:violences_intrafamiliales"],
        "carte-familles": [],
        "carte-heure-debut": 0,
        "carte-heure-fin": 0,
        "carte-jours": [],
        "carte-mode": "points",
        "carte-cellule": 150,
        "carte-classes": "quantiles",
    }

    def ask(client):
        body = {
            "output": key,
            "outputs": {"id": "carte-telechargement", "property": "data"},
            "inputs": [{**i, "value": values[i["id"]]} for i in callback["inputs"]],
            "state": [{**s, "value": values[s["id"]]} for s in callback["state"]],
            "changedPropIds": ["carte-geojson.n_clicks"],
        }
        return client.post(
            "/_dash-update-component",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
        )

    answer = ask(_client(app, "analyste"))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    data = answer.get_json()["response"]["carte-telechargement"]["data"]
    collection = json.loads(data["content"])
    assert collection["features"] and all(f["geometry"]["type"] == "Polygon" for f in collection["features"])
    for role in ("conseil", "police_municipale"):
        assert ask(_client(app, role)).status_code == 403
    with engine.connect() as conn:
        exports = conn.execute(
            sa.text("SELECT user_login, target FROM obs.audit_log WHERE action = 'export'")
        ).all()
    assert [tuple(e) for e in exports] == [(_user("analyste"), "carte")]


@pytest.mark.browser
def test_council_finds_evening_burglary_hot_spots(dash_duo, app, engine):
    dash_duo.start_server(app, navigate=False)
    driver = dash_duo.driver
    browser_login(dash_duo, _user("conseil"), then="/carte")
    dash_duo.wait_for_element("#carte-legende li", timeout=30)

    dash_duo.select_dcc_dropdown("#carte-categories", "Cambriolages (PN)")
    dash_duo.select_dcc_dropdown("#carte-annee", "2023")
    dash_duo.select_dcc_dropdown("#carte-heures-preset", "Soirées (19 h – 2 h)")
    dash_duo.select_dcc_dropdown("#carte-mode", "Points chauds (Getis-Ord Gi*)")
    dash_duo.wait_for_contains_text("#carte-legende", "Gi*", timeout=40)
    dash_duo.wait_for_contains_text("#carte-legende", "de 19 h à 2 h", timeout=40)
    legend = dash_duo.find_element("#carte-legende").text
    assert "150 m" in legend and "du 01/01/2023 au 31/12/2023" in legend
    assert re.search(r"Événements géolocalisés : (\d[\d\u202f]*|au moins \d+)", legend), legend
    assert "Police nationale" in legend and "Police municipale" not in legend  # only the category's source
    expected = event_queries.summary(
        engine,
        event_filter.EventFilter(
            categories=("pn:cambriolages",), start=date(2023, 1, 1), end=date(2023, 12, 31), hours=(19, 2)
        ),
        "conseil",
    )
    assert f"{expected['total']} événements" in dash_duo.find_element("#carte-total").text.replace(
        "\u202f", ""
    )
    WebDriverWait(driver, 30).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#carte-leaflet .leaflet-overlay-pane path"))
    )
    hot = [
        p
        for p in driver.find_elements(By.CSS_SELECTOR, "#carte-leaflet .leaflet-overlay-pane path")
        if (p.get_attribute("fill") or "").lower() in ("#b2182b", "#ef8a62", "#fddbc7")
    ]
    assert hot, "aucun hexagone de point chaud dessiné"
    table = dash_duo.wait_for_element("#carte-table", timeout=20)
    assert "Point chaud" in table.text
    counts = [td.text for td in table.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-of-type(2)")]
    # « < 5 », « non diffusé », 0 (an empty cell discloses no one) or 5 and more
    numbers = [int(c.replace("\u202f", "")) for c in counts if c not in ("< 5", "non diffusé")]
    assert counts and all(n == 0 or n >= 5 for n in numbers), counts
    assert dash_duo.get_logs() == []
