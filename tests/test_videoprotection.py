"""Video-protection against the real PostGIS: the importers and their refusals (nothing half-written), the
register's rules (retention flag, no names, corrections kept), the append-only log and its purge, the
indicators and the CLI, the coverage of hot spots."""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from observatoire.errors import InputFileError, ValidationFailed
from observatoire.videoprotection import corrections, coverage, indicators, inventory, legal, register
from tests.conftest import run_cli

CAMERAS = (
    "identifiant;emplacement;type;longitude;latitude;mise_en_service;direction;portee\n"
    "C1;Place de l'Hôtel de ville;Fixe;5.7870;43.8340;01/01/2018;90;50\n"
    "C2;Parking Saint-Lazare;Dôme PTZ;5.7900;43.8350;01/01/2019;;\n"
    "C3;Entrée nord;LAPI;5.7870;43.8660;01/01/2020;180;\n"
)
HEADER = "date_demande;autorite;reference;cameras;debut_images;fin_images;categorie;images_trouvees;date_remise;exploitable\n"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cams(engine, tmp_path):
    from ingest.cameras import import_cameras

    report = import_cameras(engine, _write(tmp_path, "cameras.csv", CAMERAS), user="test")
    assert report.inserted == 3
    return engine


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_cameras_imported_with_kind_direction_and_default_range(cams):
    frame = inventory.cameras(cams).set_index("code")
    assert list(frame.index) == ["C1", "C2", "C3"]
    assert frame.loc["C2", "kind"] == "dome" and frame.loc["C3", "kind"] == "lapi"
    assert frame.loc["C1", "direction_deg"] == 90 and frame.loc["C1", "reach_m"] == 50
    assert frame.loc["C2", "reach_m"] == inventory.DEFAULT_RANGE["dome"]
    assert abs(frame.loc["C1", "lon"] - 5.787) < 1e-9


def test_camera_file_with_a_bad_line_writes_nothing(engine, tmp_path):
    from ingest.cameras import import_cameras

    bad = CAMERAS + "C4;Rond-point;Caméra thermique;5.78;43.83;;;\n"
    with pytest.raises(ValidationFailed) as refused:
        import_cameras(engine, _write(tmp_path, "cameras.csv", bad), user="test")
    assert any(e.column == "type" and "Caméra thermique" in e.message for e in refused.value.report.errors)
    assert _count(engine, "obs.video_camera") == 0


def _requisitions(engine, tmp_path, lines, **kw):
    from ingest.requisitions import import_requisitions

    return import_requisitions(
        engine, _write(tmp_path, "req.csv", HEADER + "".join(lines)), user="test", **kw
    )


GOOD = "12/03/2024;Police nationale;PV 2024/001234;C1, C2;10/03/2024 21:00;10/03/2024 23:00;degradations;oui;14/03/2024;oui\n"


@pytest.mark.parametrize(
    "line, column, words",
    [
        (";Police nationale;PV 2024/1;C1;10/03/2024;;autres;;;\n", "date_demande", "obligatoire"),
        ("12/03/2024;;PV 2024/1;C1;10/03/2024;;autres;;;\n", "autorite", "obligatoire"),
        ("12/03/2024;Police nationale;PV 2024/1;C9;10/03/2024;;autres;;;\n", "cameras", "C9"),
        (
            "12/03/2024;Police nationale;PV 2024/1;C1;10/03/2024 22:00;10/03/2024 21:00;autres;;;\n",
            "fin_images",
            "précède",
        ),
        ("12/03/2024;Police nationale;Dupont Jean 2024;C1;10/03/2024;;autres;;;\n", "reference", "nom"),
        ("12/03/2024;Police nationale;PV DURAND 12;C1;10/03/2024;;autres;;;\n", "reference", "DURAND"),
    ],
)
def test_bad_requisition_names_the_field_and_writes_nothing(cams, tmp_path, line, column, words):
    with pytest.raises(ValidationFailed) as refused:
        _requisitions(cams, tmp_path, [GOOD, line])
    errors = refused.value.report.errors
    assert [e.line for e in errors] == [3] * len(errors)
    assert errors[0].column == column and words in errors[0].message, errors
    assert _count(cams, "obs.video_requisition") == 0 and _count(cams, "obs.video_requisition_camera") == 0


def test_personal_data_in_a_reference_refuses_the_file(cams, tmp_path):
    from observatoire.errors import PersonalDataRefused

    with pytest.raises(PersonalDataRefused) as refused:
        _requisitions(cams, tmp_path, [GOOD, GOOD.replace("PV 2024/001234", "M. Martin")])
    assert "« reference »" in refused.value.message and "ligne 3" in refused.value.message
    assert _count(cams, "obs.video_requisition") == 0


def test_requisitions_imported_once_and_counted(cams, tmp_path):
    report = _requisitions(cams, tmp_path, [GOOD, GOOD.replace("C1, C2", "C3")])
    assert report.inserted == 2
    again = _requisitions(cams, tmp_path, [GOOD])
    assert again.inserted == 0 and again.duplicates == 1
    by_camera = indicators.counts(cams, [2024], "camera").set_index("key")["requisitions"].to_dict()
    assert by_camera == {"C1": 1, "C2": 1, "C3": 1}
    s = indicators.summary(cams, [2024], 30)
    assert s["total"] == 2 and s["found_share"] == 1.0 and s["usable_share"] == 1.0


def _batch(engine, source: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT max(id) FROM obs.import_batch WHERE source = :s AND status = 'importe'"),
            {"s": source},
        ).scalar_one()


def _status(engine, batch_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT status FROM obs.import_batch WHERE id = :b"), {"b": batch_id}
        ).scalar_one()


def test_undoing_cameras_named_by_imported_requisitions_says_which_import_to_undo_first(cams, tmp_path):
    from observatoire.errors import ObservatoireError
    from observatoire.imports import admin

    cameras_batch = _batch(cams, "cameras")
    requisitions = _requisitions(cams, tmp_path, [GOOD, GOOD.replace("C1, C2", "C3")])
    with pytest.raises(ObservatoireError) as refused:
        admin.undo_import(cams, cameras_batch, user="admin")
    message = refused.value.message
    assert f"L'import n° {cameras_batch} ne peut pas être annulé" in message
    assert "2 réquisition(s) du registre désignent 3 de ses caméras (C1, C2, C3)" in message
    assert f"n° {requisitions.batch_id} (2 réquisition(s))" in message and "formulaire" not in message
    # nothing half-undone
    assert _count(cams, "obs.video_camera") == 3 and _count(cams, "obs.video_requisition_camera") == 3
    assert _status(cams, cameras_batch) == "importe"
    # as the message says: the requisitions first, then the cameras
    assert admin.undo_import(cams, requisitions.batch_id, user="admin") == 2
    assert admin.undo_import(cams, cameras_batch, user="admin") == 3
    assert _count(cams, "obs.video_camera") == 0 and _status(cams, cameras_batch) == "annule"


def test_undoing_cameras_named_by_a_typed_requisition_is_refused_and_says_why(cams):
    from observatoire.errors import ObservatoireError
    from observatoire.imports import admin

    cameras_batch = _batch(cams, "cameras")
    register.record(cams, _entry(cameras=["C2"]), user="operateur")
    with pytest.raises(ObservatoireError) as refused:
        admin.undo_import(cams, cameras_batch, user="admin")
    message = refused.value.message
    assert "1 réquisition(s) du registre désignent 1 de ses caméras (C2)" in message
    assert "saisie(s) dans le formulaire" in message and "date de dépose" in message
    assert _count(cams, "obs.video_camera") == 3 and _status(cams, cameras_batch) == "importe"


def test_reference_rules():
    assert legal.reference_problem("PV 2024/001234") is None
    assert legal.reference_problem("RJ-2024-0815") is None
    assert legal.reference_problem("Jean Dupont") is not None  # no digits
    assert "Dupont" in legal.reference_problem("PV Dupont 2024")
    from ingest.requisitions import reference_problem

    assert "personnel" in reference_problem("Mme Martin 2024") or "nom" in reference_problem(
        "Mme Martin 2024"
    )


def _entry(**kw):
    base = dict(
        requested_on=date(2024, 3, 12),
        authority="gendarmerie",
        images_from=datetime(2024, 3, 10, 21),
        images_to=datetime(2024, 3, 10, 23),
        cameras=["C1"],
        procedure_ref="PV 2024/77",
        category="vols_simples",
    )
    return register.RequisitionEntry(**{**base, **kw})


def test_form_entry_counted_and_beyond_retention_flagged(cams):
    register.record(cams, _entry(), user="operateur")
    late = register.record(
        cams, _entry(images_from=datetime(2024, 1, 20, 8), images_to=None), user="operateur"
    )
    frame, total = register.listing(cams, register.RegisterFilter(), retention_days=30)
    assert total == 2
    flags = dict(zip(frame["id"], frame["hors_delai"], strict=True))
    assert flags[late] is True or flags[late] == 1
    assert sum(bool(v) for v in flags.values()) == 1
    only, n = register.listing(cams, register.RegisterFilter(flagged_only=True), retention_days=30)
    assert n == 1 and list(only["id"]) == [late]
    # a longer retention setting: no longer beyond it
    assert register.listing(cams, register.RegisterFilter(flagged_only=True), retention_days=60)[1] == 0
    assert indicators.summary(cams, [2024], 30)["beyond"] == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"requested_on": None}, "date de la demande"),
        ({"authority": ""}, "autorité requérante"),
        ({"cameras": ["C9"]}, "caméras concernées"),
        ({"images_to": datetime(2024, 3, 9)}, "fin de la période d'images"),
        ({"procedure_ref": "Durand Paul 12"}, "référence de procédure"),
    ],
)
def test_form_refusals_name_the_field(cams, change, field):
    from ingest.requisitions import reference_problem

    with pytest.raises(InputFileError) as refused:
        register.record(cams, _entry(**change), user="operateur", reference_check=reference_problem)
    assert f"« {field} »" in refused.value.message
    assert _count(cams, "obs.video_requisition") == 0


def test_correction_keeps_the_previous_value(cams):
    rid = register.record(cams, _entry(), user="operateur")
    assert (
        register.correct(
            cams,
            rid,
            {"usable": "non", "images_found": True},
            reason="retour de l'enquêteur",
            user="operateur",
        )
        == 2
    )
    history = corrections.history(cams, "requisition", rid).set_index("field")
    assert history.loc["usable", "old_value"] == "inconnu" and history.loc["usable", "new_value"] == "non"
    assert pd.isna(history.loc["images_found", "old_value"])
    with pytest.raises(InputFileError, match="motif"):
        register.correct(cams, rid, {"usable": "oui"}, reason=" ", user="operateur")
    with pytest.raises(InputFileError, match="fin de la période"):
        register.correct(cams, rid, {"images_to": datetime(2024, 3, 1)}, reason="x", user="operateur")
    inventory.correct(cams, "C1", {"range_m": 70.0}, reason="réglage", user="operateur")
    cam = corrections.history(cams, "camera")
    assert list(cam["field"]) == ["range_m"] and cam["old_value"].iloc[0] == "50.0"


def test_access_log_is_append_only_for_everyone_and_purged_after_three_years(cams, admin_engine, settings):
    rid = register.record(cams, _entry(handed_over_on=date(2024, 3, 14)), user="operateur")
    register.correct(cams, rid, {"usable": "oui"}, reason="retour de l'enquêteur", user="operateur")
    register.record_access(
        cams,
        user="operateur",
        action="consultation",
        reason="recherche sur réquisition",
        camera_code="C2",
        requisition_id=rid,
    )
    log = register.access_log(cams)
    assert sorted(log["action"]) == ["consultation", "remise"]
    assert set(log["camera_code"]) == {"C1", "C2"} and (log["user_login"] == "operateur").all()
    with pytest.raises(InputFileError, match="destinataire"):
        register.record_access(cams, user="x", action="remise", reason="r", camera_code="C1")
    for eng in (cams, admin_engine):  # the application role has no right; the owner meets the trigger
        for statement in (
            "UPDATE obs.video_access_log SET reason = 'autre'",
            "DELETE FROM obs.video_access_log",
        ):
            with pytest.raises(sa.exc.DBAPIError), eng.begin() as conn:
                conn.execute(sa.text(statement))
        with pytest.raises(sa.exc.DBAPIError), eng.begin() as conn:
            conn.execute(sa.text("UPDATE obs.video_correction SET reason = 'autre'"))
    assert len(register.access_log(cams)) == 2
    # an entry older than three years (written back in time by the owner, triggers off) is purged, and logged
    with admin_engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE obs.video_access_log DISABLE TRIGGER USER"))
        conn.execute(
            sa.text(
                "UPDATE obs.video_access_log SET at = now() - interval '3 years 2 days' "
                "WHERE action = 'consultation'"
            )
        )
        conn.execute(sa.text("ALTER TABLE obs.video_access_log ENABLE TRIGGER USER"))
    from observatoire.imports.retention import purge_source_data

    removed = purge_source_data(cams, settings, "cli:test")
    assert removed["obs.video_access_log"] == (1, 3)
    assert list(register.access_log(cams)["action"]) == ["remise"]
    with cams.connect() as conn:
        purges = (
            conn.execute(sa.text("SELECT target FROM obs.audit_log WHERE action = 'purge'")).scalars().all()
        )
    assert "obs.video_access_log" in purges


def test_cli_imports_and_stats(cams, cli_env, tmp_path):
    path = _write(tmp_path, "req.csv", HEADER + GOOD + GOOD.replace("Police nationale", "Gendarmerie"))
    result = run_cli("import", "requisitions", str(path))
    assert result.exit_code == 0, result.output
    result = run_cli("stats", "requisitions", "--years", "2024", "--by", "authority", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["autorité requérante"]: r["requisitions"] for r in rows} == {
        "Police nationale": 1,
        "Gendarmerie": 1,
    }
    table = run_cli("stats", "requisitions", "--by", "camera")
    assert "C1" in table.output and "100,0 %" in table.output
    bad = _write(tmp_path, "bad.csv", HEADER + GOOD.replace("PV 2024/001234", "Lefebvre 2024"))
    refused = run_cli("import", "requisitions", str(bad))
    assert refused.exit_code != 0 and "Lefebvre" in refused.output


def test_council_table_masks_small_counts(cams, tmp_path):
    lines = [GOOD.replace("001234", f"{k:06d}") for k in range(7)]
    lines.append(GOOD.replace("Police nationale", "Douanes"))
    _requisitions(cams, tmp_path, lines)
    table = indicators.council_table(cams, [2024], "authority", threshold=5)
    shown = dict(zip(table["label"], table["count_label"], strict=True))
    assert shown["Douanes"] == "< 5"
    assert shown["Police nationale"] in ("7", "non diffusé")
    # 8 minus the shown parts must not give away the 1: a second cell is masked (a zero, read « < 5 »)
    masked = [k for k, v in shown.items() if k != "Total" and not v.isdigit()]
    assert len(masked) >= 2


def test_coverage_sector_disc_and_share():
    cams = pd.DataFrame(
        {"x": [0.0, 1000.0], "y": [0.0, 0.0], "reach_m": [50.0, 50.0], "direction_deg": [90.0, None]}
    )
    cells = pd.DataFrame({"i": [0, 7, 0], "j": [0, 0, 5]})
    size = 100.0
    out = coverage.classify(cells, cams, size)
    assert bool(out["covered"].iloc[0]) and not bool(out["covered"].iloc[2])
    # a 90° sector of 50 m is a quarter of the disc: the cell (0, 0) covers it whole
    quarter = 3.14159 * 50**2 / 4
    from observatoire.events.hexgrid import cell_area_m2

    assert abs(out["share"].iloc[0] - quarter / cell_area_m2(size)) < 0.01
    # the same as a geopandas overlay of the same layers
    import geopandas as gpd

    hexes = gpd.GeoDataFrame(
        {"k": range(3)}, geometry=coverage.cell_polygons(cells["i"].to_numpy(), cells["j"].to_numpy(), size)
    )
    areas = gpd.GeoDataFrame(
        geometry=inventory.coverage_areas(
            cams["x"], cams["y"], cams["reach_m"], cams["direction_deg"].astype(float)
        )
    )
    inter = gpd.overlay(hexes, areas, how="intersection").dissolve("k").area / cell_area_m2(size)
    for k, value in inter.items():
        assert abs(out["share"].iloc[k] - value) < 1e-6


def test_uncovered_hot_spots_listed_and_idle_cameras(engine):
    import numpy as np

    from observatoire.projection import to_wgs84
    from tests.events_helpers import CENTRE_L93, insert_pn_facts, square_outline

    x0, y0 = CENTRE_L93
    rng = np.random.default_rng(3)
    square_outline(engine, "COM:04112", x0 - 3000, y0 - 3000, x0 + 3000, y0 + 3000)
    insert_pn_facts(engine, rng.uniform(x0 - 3000, x0 + 3000, 2000), rng.uniform(y0 - 3000, y0 + 3000, 2000))
    watched, missed = (x0 - 1500, y0), (x0 + 1500, y0 + 1000)
    for cx, cy in (watched, missed):
        insert_pn_facts(engine, rng.normal(cx, 60, 300), rng.normal(cy, 60, 300))
    for code, (cx, cy) in (("VU", watched), ("LOIN", (x0 - 3500, y0 - 3500))):
        lon, lat = to_wgs84().transform(cx, cy)
        inventory.record(
            engine,
            inventory.CameraEntry(
                code, f"Caméra {code}", "dome", lon, lat, commissioned_on=date(2020, 1, 1), range_m=150
            ),
            user="t",
        )
    result = coverage.analyse(engine, "analyste", cell=150, on=date(2023, 6, 1))
    assert result["hot"] > 0 and 0 < result["covered"] < result["hot"]
    assert result["share"] == pytest.approx(result["covered"] / result["hot"])
    first = result["uncovered"].iloc[0]
    assert (
        np.hypot(
            *(
                np.array(
                    coverage.hexgrid.cell_centres(np.array([first["i"]]), np.array([first["j"]]), 150.0)
                ).ravel()
                - np.array(missed)
            )
        )
        < 400
    )
    cells = result["cells"]
    cx, cy = coverage.hexgrid.cell_centres(cells["i"].to_numpy(), cells["j"].to_numpy(), 150.0)
    at_watched = np.hypot(cx - watched[0], cy - watched[1]) < 150
    assert at_watched.any() and cells["covered"][at_watched].all()
    idle = coverage.idle_cameras(engine, 365, today=date(2023, 12, 31))
    assert list(idle["code"]) == ["LOIN"]
