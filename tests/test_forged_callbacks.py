"""A callback request naming outputs no callback has, even ones shaped like Dash's own pages router
(``_pages_…``), is refused in French, never answered by a server error."""

from __future__ import annotations

import json

import pytest

from dashboard import security
from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, dash_csrf, login


@pytest.fixture
def client(settings, engine):
    from dashboard.app import create_app

    add_user(engine, "faussaire", "admin", PASSWORD)
    app = create_app(settings)
    client = app.server.test_client()
    assert login(client, "faussaire").status_code == 302
    client.get("/_dash-dependencies")
    return client


@pytest.mark.parametrize(
    "output",
    [
        "_pages_x.children",
        "_pages_content.children",
        ".._pages_content.children..._pages_x.data..",
        ".._pages_content.children..._pages_store.data..._pages_dummy.children..",
        "_pages_",
    ],
)
def test_a_forged_internal_output_is_refused_in_french(client, output):
    parts = output.strip(".").split("...")
    body = {
        "output": output,
        "outputs": [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[-1]} for p in parts],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"}],
        "state": [],
        "changedPropIds": [],
    }
    answer = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )
    assert answer.status_code == 403
    assert answer.get_json() == {"erreur": "Action non autorisée."}
