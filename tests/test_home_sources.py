"""The home page tells each role of the sources it may see only: that a source holds data, and how much, is
itself what the source's permission guards (police nationale figures are not for the municipal police or the
video-protection centre)."""

from __future__ import annotations

import json

import pytest

from dashboard import security
from observatoire.auth import add_user
from observatoire.overview import data_freshness
from observatoire.permissions import PERMISSIONS, ROLES
from observatoire.sources import BY_KEY, SOURCES
from tests.helpers_web import PASSWORD, dash_csrf, login

STATS = {BY_KEY["ssmsi"].label, BY_KEY["etat4001"].label}
PM = {BY_KEY["pm"].label}
ROADS = {BY_KEY["onisr-baac"].label}
VIDEO = {BY_KEY["cameras"].label, BY_KEY["requisitions"].label}
STRATEGY = {BY_KEY[k].label for k in ("plan-actions", "plan-valeurs", "enquete")}
SEEN = {
    "admin": STATS | PM | ROADS | VIDEO | STRATEGY,
    "analyste": STATS | PM | ROADS | VIDEO | STRATEGY,
    "conseil": STATS | PM | ROADS | STRATEGY,
    "police_municipale": PM,
    "videoprotection": VIDEO,
    None: set(),
}


def test_every_source_the_home_page_reports_on_says_who_may_see_it():
    for source in SOURCES:
        if source.freshness is not None:
            assert source.view_permission in PERMISSIONS, source.key


@pytest.mark.parametrize("role", [*ROLES, None])
def test_data_freshness_lists_the_sources_of_the_role_only(engine, role):
    assert {row["source"] for row in data_freshness(engine, role)} == SEEN[role]


@pytest.fixture
def app(settings, engine):
    from dashboard.app import create_app

    for role in ROLES:
        add_user(engine, f"accueil-{role.replace('_', '-')}", role, PASSWORD)
    app = create_app(settings)
    client = app.server.test_client()
    login(client, "accueil-admin")
    client.get("/_dash-dependencies")  # the pages router registers its callback on the first request
    return app


@pytest.mark.parametrize("role", list(ROLES))
def test_the_home_page_names_the_sources_of_the_role_only(app, role):
    client = app.server.test_client()
    assert login(client, f"accueil-{role.replace('_', '-')}").status_code == 302
    router = next(k for k in app.callback_map if k.startswith("..") and "_pages_content" in k)
    inputs = app.callback_map[router]["inputs"]
    body = {
        "output": router,
        "outputs": [
            {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]}
            for p in router.strip(".").split("...")
        ],
        "inputs": [{**i, "value": "/" if i["property"] == "pathname" else ""} for i in inputs],
        "state": [],
        "changedPropIds": [],
    }
    answer = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "accueil-sources" in page
    for source in STATS | PM | ROADS:
        assert (json.dumps(source)[1:-1] in page) == (source in SEEN[role]), (role, source)
