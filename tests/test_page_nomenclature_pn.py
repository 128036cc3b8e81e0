"""The police nationale nomenclature page: an analyst attaches a wording no category matched; the facts
take the category and leave the sensitive, unclassified pile; other roles cannot."""

from __future__ import annotations

import json

import sqlalchemy as sa

from ingest import pn_faits
from tests.events_helpers import ROWS, write_extract
from tests.test_page_pm import _call, _client, _response, app, loaded  # noqa: F401 (fixtures)


def test_an_analyst_attaches_an_unknown_wording_in_the_page(app, engine, tmp_path):  # noqa: F811
    pn_faits.commit(engine, write_extract(tmp_path / "faits.csv", rows=ROWS), commune="04112")
    analyst = _client(app, "pm-analyste")
    listing = _response(_call(analyst, app, "nomenclature-pn-contenu.children", {}, []))
    options = listing["nomenclature-pn-libelle"]["options"]
    assert options == [{"label": "Fait sans catégorie connue (1)", "value": "Fait sans catégorie connue"}]
    categories = {o["value"]: o["label"] for o in listing["nomenclature-pn-type"]["options"]}
    assert categories["cambriolages"].startswith("Cambriolage")
    done = _response(
        _call(
            analyst,
            app,
            "nomenclature-pn-message.children",
            {
                "nomenclature-pn-rattacher.n_clicks": 1,
                "nomenclature-pn-libelle.value": "Fait sans catégorie connue",
                "nomenclature-pn-type.value": "cambriolages",
            },
            ["nomenclature-pn-rattacher.n_clicks"],
        )
    )
    assert "1 fait(s) reclassé(s)" in json.dumps(done, ensure_ascii=False)
    with engine.connect() as conn:
        fact = conn.execute(
            sa.text("SELECT category_code, sensitive FROM obs.pn_fact WHERE source_record_id = 'P-5'")
        ).one()
    assert tuple(fact) == ("cambriolages", False)
    again = _response(_call(analyst, app, "nomenclature-pn-contenu.children", {}, []))
    assert again["nomenclature-pn-libelle"]["options"] == []
    for user in ("pm-agent", "pm-conseil"):
        assert _call(_client(app, user), app, "nomenclature-pn-message.children", {}, []).status_code == 403
