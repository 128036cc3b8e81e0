"""The police municipale pages as their users use them: drop an export, confirm the mapping, verify,
commit; the refusal of a nominative file; who sees which imports and who may undo one; the activity page
with small counts masked for the council."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By

from dashboard import security
from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, browser_login, dash_csrf, login
from tests.pm_helpers import HEADER, ROWS, write_export

FILES = Path(__file__).resolve().parents[1] / "sample_data" / "files"
PM_FILES = FILES / "police_municipale"
MESSY = PM_FILES / "main_courante_2023_s1.csv"  # cp1252, a title line, four bad rows


@pytest.fixture
def loaded(settings, engine):
    from ingest.ban import import_ban
    from sample_data import reference

    reference.load(engine, FILES, "demo")
    import_ban(engine, PM_FILES / "ban_manosque_fictive.csv", user="demo")
    for login_, role in (
        ("pm-agent", "police_municipale"),
        ("pm-collegue", "police_municipale"),
        ("pm-analyste", "analyste"),
        ("pm-conseil", "conseil"),
    ):
        add_user(engine, login_, role, PASSWORD)
    return settings


@pytest.fixture
def app(loaded):
    from dashboard.app import create_app

    return create_app(loaded)


def _uploads(settings) -> list[Path]:
    root = Path(settings.home) / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _client(app, user: str):
    client = app.server.test_client()
    assert login(client, user).status_code == 302
    return client


def _key(app, output: str) -> str:
    return next(k for k in app.callback_map if output in k.strip(".").split("..."))


def _call(client, app, output: str, values: dict, changed: list[str]):
    """POST a callback as the Dash renderer does; ``values`` keyed by ``id.property``."""
    key = _key(app, output)
    callback = app.callback_map[key]
    parts = key.strip(".").split("...")
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    body = {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in callback["inputs"]],
        "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in callback["state"]],
        "changedPropIds": changed,
    }
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )


def _response(answer) -> dict:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:800]
    return answer.get_json()["response"]


def _contents(path: Path) -> str:
    return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode()


def _upload(client, app, path: Path) -> tuple[dict | None, str]:
    resp = _response(
        _call(
            client,
            app,
            "depot-jeton.data",
            {"depot-fichier.contents": _contents(path), "depot-fichier.filename": path.name},
            ["depot-fichier.contents"],
        )
    )
    return resp["depot-jeton"]["data"], json.dumps(resp["depot-apercu"]["children"], ensure_ascii=False)


def _mapping(client, app, upload: dict) -> dict:
    return _response(
        _call(client, app, "depot-etapes.style", {"depot-jeton.data": upload}, ["depot-jeton.data"])
    )


def _run(client, app, upload: dict, mapping: dict, button: str, accept: bool = False) -> str:
    from ingest.police_municipale import FIELDS

    values = {
        "depot-jeton.data": upload,
        "depot-crs.value": "auto",
        "depot-accepter.value": ["oui"] if accept else [],
    }
    values.update({f"depot-champ-{f.name}.value": mapping[f"depot-champ-{f.name}"]["value"] for f in FIELDS})
    work = _response(_call(client, app, "depot-travail.data", values, [f"{button}.n_clicks"]))[
        "depot-travail"
    ]["data"]
    deadline = time.time() + 120
    while time.time() < deadline:
        answer = _call(
            client,
            app,
            "depot-rapport.children",
            {"depot-travail.data": work, "depot-minuteur.n_intervals": 1, "depot-jeton.data": upload},
            ["depot-minuteur.n_intervals"],
        )
        resp = _response(answer)
        if resp["depot-minuteur"]["disabled"]:
            return json.dumps(resp["depot-rapport"]["children"], ensure_ascii=False)
        time.sleep(0.2)
    raise AssertionError("le traitement ne s'est pas terminé")


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_upload_preview_verify_commit_then_the_same_file_adds_nothing(app, engine, loaded):
    officer = _client(app, "pm-agent")
    upload, preview = _upload(officer, app, MESSY)
    assert upload and upload["fichier"] == MESSY.name
    assert "depot-apercu-table" in preview and "Nature de l'intervention" in preview
    assert "cp1252" in preview and "séparateur « ; »" in preview and "en-tête ligne 2" in preview

    mapping = _mapping(officer, app, upload)
    assert mapping["depot-etapes"]["style"] == {"display": "block"}
    assert mapping["depot-champ-date"]["value"] == "Date"
    assert mapping["depot-champ-label"]["value"] == "Nature de l'intervention"
    assert mapping["depot-champ-record_id"]["value"] == "N° d'intervention"
    assert "proposé automatiquement — à confirmer" in mapping["depot-confiance-date"]["children"]

    report = _run(officer, app, upload, mapping, "depot-verifier")
    assert "Vérification terminée" in report and "depot-rapport-detail-erreurs" in report
    assert "31/02/2022" in report or "25h70" in report  # a value and how to fix it, line by line
    assert "Comment corriger" in report and "jj/mm/aaaa" in report
    assert _count(engine, "SELECT count(*) FROM obs.pm_intervention") == 0
    assert _uploads(loaded), "the file stays between verification and commit"

    # All-or-nothing by default: refused, nothing stored, the file kept for a second try.
    refused = _run(officer, app, upload, mapping, "depot-enregistrer")
    assert "depot-echec" in refused and "Rien n'a été enregistré" in refused
    assert "Le fichier reste déposé" in refused
    assert _count(engine, "SELECT count(*) FROM obs.pm_intervention") == 0
    assert _uploads(loaded), "a refused commit keeps the file: ticking the box and saving again must work"

    # The officer ticks « accepter les lignes valides » and saves again, without dropping the file anew.
    done = _run(officer, app, upload, mapping, "depot-enregistrer", accept=True)
    assert "Import enregistré" in done and "/police-municipale" in done
    stored = _count(engine, "SELECT count(*) FROM obs.pm_intervention")
    assert stored > 500
    with engine.connect() as conn:
        batch = conn.execute(
            sa.text(
                "SELECT id, user_login, file_name, inserted, rejected FROM obs.import_batch "
                "WHERE source = 'pm' AND status = 'importe'"
            )
        ).one()
        audited = conn.execute(
            sa.text("SELECT user_login FROM obs.audit_log WHERE action = 'import' AND batch_id = :b"),
            {"b": batch.id},
        ).scalar()
    assert (batch.user_login, batch.file_name, batch.inserted) == ("pm-agent", MESSY.name, stored)
    assert batch.rejected == 4 and audited == "pm-agent"
    assert _uploads(loaded) == []

    upload, _ = _upload(officer, app, MESSY)
    again = _run(officer, app, upload, _mapping(officer, app, upload), "depot-enregistrer", accept=True)
    assert "0 intervention(s) ajoutée(s)" in again and "déjà été importé" in again
    assert _count(engine, "SELECT count(*) FROM obs.pm_intervention") == stored
    assert _uploads(loaded) == []


def test_a_dropped_file_is_deleted_when_the_officer_cancels(app, engine, loaded):
    officer = _client(app, "pm-agent")
    upload, _ = _upload(officer, app, MESSY)
    assert _uploads(loaded)
    resp = _response(
        _call(
            officer,
            app,
            "depot-jeton.data",
            {"depot-jeton.data": upload, "depot-annuler.n_clicks": 1},
            ["depot-annuler.n_clicks"],
        )
    )
    assert resp["depot-jeton"]["data"] is None
    assert "effacé du serveur" in json.dumps(resp["depot-apercu"]["children"], ensure_ascii=False)
    assert _uploads(loaded) == []
    assert _count(engine, "SELECT count(*) FROM obs.import_batch WHERE source = 'pm'") == 0


def test_a_second_drop_replaces_the_first_file(app, loaded):
    officer = _client(app, "pm-agent")
    before = set(_uploads(loaded))
    first, _ = _upload(officer, app, MESSY)
    resp = _response(
        _call(
            officer,
            app,
            "depot-jeton.data",
            {
                "depot-fichier.contents": _contents(MESSY),
                "depot-fichier.filename": MESSY.name,
                "depot-jeton.data": first,
            },
            ["depot-fichier.contents"],
        )
    )
    second = resp["depot-jeton"]["data"]
    assert second["jeton"] != first["jeton"]
    added = [p.parent.name for p in set(_uploads(loaded)) - before if p.name == MESSY.name]
    assert added == [second["jeton"]]
    _call(
        officer,
        app,
        "depot-jeton.data",
        {"depot-jeton.data": second, "depot-annuler.n_clicks": 1},
        ["depot-annuler.n_clicks"],
    )
    assert set(_uploads(loaded)) == before


def test_an_unsupported_file_is_named_in_french(app, loaded, tmp_path):
    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(b"%PDF-1.4 fictif")
    before = _uploads(loaded)
    upload, message = _upload(_client(app, "pm-agent"), app, pdf)
    assert upload is None
    assert "« rapport.pdf » n'est ni un CSV ni un classeur Excel" in message
    assert _uploads(loaded) == before


def test_a_nominative_column_is_refused_and_nothing_is_kept(app, engine, loaded, tmp_path):
    nominative = write_export(
        tmp_path / "export_avec_noms.csv", header=[*HEADER, "Nom"], rows=[[*r, "Durand"] for r in ROWS]
    )
    officer = _client(app, "pm-agent")
    upload, message = _upload(officer, app, nominative)
    assert upload is None
    assert "depot-refus" in message and "« Nom »" in message and "règle : nom de personne" in message
    assert "Durand" not in message
    assert _uploads(loaded) == []
    assert _count(engine, "SELECT count(*) FROM obs.import_batch WHERE source = 'pm'") == 0
    assert _count(engine, "SELECT count(*) FROM obs.pm_intervention") == 0


def test_a_file_carrying_a_phone_number_further_down_is_refused_at_verification(
    app, engine, loaded, tmp_path
):
    rows = [list(r) for r in ROWS] * 4
    rows[-1] = [*rows[-1][:7], "appelé au 06 12 34 56 78", rows[-1][8], "MC-99"]
    sneaky = write_export(tmp_path / "export.csv", rows=rows)
    officer = _client(app, "pm-agent")
    upload, _ = _upload(officer, app, sneaky)  # the first ten rows are clean
    assert upload is not None
    report = _run(officer, app, upload, _mapping(officer, app, upload), "depot-verifier")
    assert "depot-refus" in report and "téléphone" in report and "06 12" not in report
    assert _uploads(loaded) == []
    assert _count(engine, "SELECT count(*) FROM obs.pm_intervention") == 0


def test_council_cannot_use_the_upload_callbacks(app, loaded):
    council = _client(app, "pm-conseil")
    for output, values in (
        (
            "depot-jeton.data",
            {"depot-fichier.contents": _contents(MESSY), "depot-fichier.filename": MESSY.name},
        ),
        ("depot-travail.data", {}),
        ("depot-rapport.children", {}),
        ("depot-etapes.style", {}),
    ):
        assert _call(council, app, output, values, []).status_code == 403, output
    assert _uploads(loaded) == []


def _commit(engine, path: Path, user: str) -> int:
    from ingest import police_municipale as pm

    return pm.commit(engine, path, user=user, accept_valid=True, commune="04112").batch_id


def _listed(client, app) -> list[dict]:
    resp = _response(_call(client, app, "imports-table.data", {}, ["imports-source.value"]))
    return resp["imports-table"]["data"]


def test_officers_see_only_their_imports_and_only_analysts_undo(app, engine, tmp_path):
    mine = _commit(engine, PM_FILES / "modele_interventions.csv", "pm-agent")
    theirs = _commit(engine, write_export(tmp_path / "autre.csv"), "pm-collegue")

    officer = _client(app, "pm-agent")
    rows = _listed(officer, app)
    assert [r["id"] for r in rows] == [mine]
    # A batch id sent by a tampered browser does not open another account's report.
    forged = _response(
        _call(
            officer,
            app,
            "imports-detail.children",
            {"imports-table.selected_rows": [0], "imports-table.data": [{"id": theirs}]},
            ["imports-table.selected_rows"],
        )
    )
    assert "imports-inaccessible" in json.dumps(forged)
    own = json.dumps(
        _response(
            _call(
                officer,
                app,
                "imports-detail.children",
                {"imports-table.selected_rows": [0], "imports-table.data": rows},
                ["imports-table.selected_rows"],
            )
        ),
        ensure_ascii=False,
    )
    assert "modele_interventions.csv" in own and "imports-annuler" not in own
    undo_values = {
        "imports-confirmer.submit_n_clicks": 1,
        "imports-table.selected_rows": [0],
        "imports-table.data": rows,
    }
    assert (
        _call(
            officer, app, "imports-annule.data", undo_values, ["imports-confirmer.submit_n_clicks"]
        ).status_code
        == 403
    )
    assert _count(engine, "SELECT count(*) FROM obs.pm_intervention WHERE batch_id = :b", b=mine) == 5

    analyst = _client(app, "pm-analyste")
    all_rows = _listed(analyst, app)
    assert {mine, theirs} <= {r["id"] for r in all_rows}
    detail = json.dumps(
        _response(
            _call(
                analyst,
                app,
                "imports-detail.children",
                {
                    "imports-table.selected_rows": [0],
                    "imports-table.data": [r for r in all_rows if r["id"] == mine],
                },
                ["imports-table.selected_rows"],
            )
        ),
        ensure_ascii=False,
    )
    assert "imports-annuler" in detail
    done = _response(
        _call(
            analyst,
            app,
            "imports-annule.data",
            {**undo_values, "imports-table.data": [r for r in all_rows if r["id"] == mine]},
            ["imports-confirmer.submit_n_clicks"],
        )
    )
    assert done["imports-annule"]["data"] == {"lot": mine, "supprimees": 5}
    assert _count(engine, "SELECT count(*) FROM obs.pm_intervention WHERE batch_id = :b", b=mine) == 0
    assert _count(engine, "SELECT status FROM obs.import_batch WHERE id = :b", b=mine) == "annule"
    assert (
        _count(engine, "SELECT user_login FROM obs.audit_log WHERE action = 'import_annule'") == "pm-analyste"
    )


def test_activity_masks_small_counts_for_the_council_and_exports_for_analysts(app, engine):
    _commit(engine, PM_FILES / "modele_interventions.csv", "pm-agent")
    filters = {"activite-periode.start_date": "2024-07-01", "activite-periode.end_date": "2024-07-31"}
    council = _client(app, "pm-conseil")
    shown = json.dumps(
        _response(_call(council, app, "activite-resultats.children", filters, [])), ensure_ascii=False
    )
    assert "< 5" in shown and "activite-table-jour-heure" in shown
    assert "Tapage nocturne" not in shown or '"1"' not in shown
    zones = json.dumps(
        _response(
            _call(council, app, "activite-zones.children", {**filters, "activite-niveau.value": "iris"}, [])
        ),
        ensure_ascii=False,
    )
    assert "< 5" in zones
    assert (
        _call(
            council,
            app,
            "activite-telechargement.data",
            {**filters, "activite-csv.n_clicks": 1},
            ["activite-csv.n_clicks"],
        ).status_code
        == 403
    )

    analyst = _client(app, "pm-analyste")
    types = json.dumps(
        _response(_call(analyst, app, "activite-resultats.children", filters, [])), ensure_ascii=False
    )
    assert "< 5" not in types and "Nuisances sonores" in types
    data = _response(
        _call(
            analyst,
            app,
            "activite-telechargement.data",
            {**filters, "activite-csv.n_clicks": 1},
            ["activite-csv.n_clicks"],
        )
    )["activite-telechargement"]["data"]
    assert data["filename"] == "activite_police_municipale.csv"
    assert data["content"].startswith("\ufefftableau;categorie;detail;interventions")
    assert _count(engine, "SELECT user_login FROM obs.audit_log WHERE action = 'export'") == "pm-analyste"


def test_the_activity_csv_never_carries_a_live_formula_from_an_imported_sector(app, engine, tmp_path):
    """Sector names come from the municipal file: a sector written as a formula reaches the download as text."""
    import csv
    import io

    sectors = ['=HYPERLINK("http://exemple.invalid","Voir")', "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1"]
    rows = [[*r[:6], sector, *r[7:]] for r, sector in zip(ROWS, sectors, strict=True)]
    _commit(engine, write_export(tmp_path / "secteurs.csv", rows=rows, encoding="utf-8"), "pm-agent")
    filters = {"activite-periode.start_date": "2024-03-01", "activite-periode.end_date": "2024-03-31"}
    data = _response(
        _call(
            _client(app, "pm-analyste"),
            app,
            "activite-telechargement.data",
            {**filters, "activite-csv.n_clicks": 1},
            ["activite-csv.n_clicks"],
        )
    )["activite-telechargement"]["data"]
    records = list(csv.reader(io.StringIO(data["content"].lstrip("\ufeff"), newline=""), delimiter=";"))
    by_sector = {r[2] for r in records if r[0] == "par Secteur de la police municipale"}
    assert {f"'{s}" for s in sectors} <= by_sector
    assert not [f for r in records for f in r if f.startswith(("=", "+", "@"))]


def test_nomenclature_attaches_an_unknown_label(app, engine, tmp_path):
    rows = [
        ["12/03/2024", "22h15", "Feu de poubelle", "12 av. Jean Giono", "", "", "Centre", "Appel", "", "MC-1"]
    ]
    _commit(engine, write_export(tmp_path / "inconnu.csv", rows=rows), "pm-agent")
    analyst = _client(app, "pm-analyste")
    listing = _response(_call(analyst, app, "nomenclature-contenu.children", {}, []))
    assert {"label": "Feu de poubelle (1)", "value": "Feu de poubelle"} in listing["nomenclature-libelle"][
        "options"
    ]
    code = listing["nomenclature-type"]["options"][0]["value"]
    done = _response(
        _call(
            analyst,
            app,
            "nomenclature-message.children",
            {
                "nomenclature-rattacher.n_clicks": 1,
                "nomenclature-libelle.value": "Feu de poubelle",
                "nomenclature-type.value": code,
            },
            ["nomenclature-rattacher.n_clicks"],
        )
    )
    assert "1 intervention(s) reclassée(s)" in json.dumps(done, ensure_ascii=False)
    assert _count(engine, "SELECT type_code FROM obs.pm_intervention") == code
    officer = _client(app, "pm-agent")
    assert _call(officer, app, "nomenclature-message.children", {}, []).status_code == 403


@pytest.mark.browser
def test_officer_uploads_a_messy_export_and_sees_it_in_the_activity(dash_duo, app, engine, tmp_path):
    dash_duo.start_server(app, navigate=False)
    driver = dash_duo.driver
    base = browser_login(dash_duo, "pm-agent")
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    driver.get(base + "/police-municipale/depot")
    dash_duo.wait_for_element("#depot-fichier", timeout=20)
    # A PDF dropped by mistake is named, in French, not ignored.
    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(b"%PDF-1.4 fictif")
    driver.find_element(By.CSS_SELECTOR, "#depot-fichier input[type=file]").send_keys(str(pdf))
    dash_duo.wait_for_contains_text("#depot-erreur", "n'est ni un CSV ni un classeur Excel", timeout=30)
    driver.find_element(By.CSS_SELECTOR, "#depot-fichier input[type=file]").send_keys(str(MESSY))
    dash_duo.wait_for_element("#depot-apercu-table", timeout=30)
    dash_duo.wait_for_contains_text("#depot-confiance-date", "à confirmer", timeout=20)
    dash_duo.wait_for_contains_text("#depot-champ-label", "Nature de l'intervention", timeout=10)
    dash_duo.find_element("#depot-verifier").click()
    dash_duo.wait_for_element("#depot-verifie", timeout=60)
    assert "erreur" in dash_duo.find_element("#depot-verifie").text
    assert dash_duo.find_element("#depot-rapport-detail-erreurs").text
    # Saved without ticking the box: refused, and the file stays for the second try in the same visit.
    dash_duo.find_element("#depot-enregistrer").click()
    dash_duo.wait_for_element("#depot-echec", timeout=60)
    dash_duo.wait_for_contains_text("#depot-fichier-garde", "Le fichier reste déposé", timeout=10)
    dash_duo.find_element("#depot-accepter input").click()
    dash_duo.find_element("#depot-enregistrer").click()
    dash_duo.wait_for_element("#depot-enregistre", timeout=60)
    stored = _count(engine, "SELECT count(*) FROM obs.pm_intervention")
    assert stored > 500
    dash_duo.find_element("#depot-lien-activite").click()
    dash_duo.wait_for_element("#activite-chiffres", timeout=30)
    from dashboard.components.formatting import number

    dash_duo.wait_for_contains_text("#activite-chiffres", number(stored), timeout=20)
    dash_duo.wait_for_element("#activite-table-jour-heure", timeout=20)
    assert dash_duo.get_logs() == []
