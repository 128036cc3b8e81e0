"""Importing geolocated police nationale facts: classification by index or wording, sensitivity from the
catalogue, geocoding, deduplication, the personal-data guard, all-or-nothing and the CLI."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ingest import pn_faits
from ingest.ban import import_ban
from observatoire.errors import PersonalDataRefused, ValidationFailed
from tests.conftest import run_cli
from tests.events_helpers import HEADER, ROWS, write_extract

BAN = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"
    "04112_0001_00010;;10;;Avenue Jean Giono;04100;04112;Manosque;5.7850;43.8350\n"
    "04112_0003_00005;;5;;Place de l'Hôtel de Ville;04100;04112;Manosque;5.7870;43.8340\n"
)


def _facts(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                sa.text(
                    "SELECT source_record_id, category_code, family_code, etat4001_index, sensitive, time_known, "
                    "geocoding_status FROM obs.pn_fact"
                )
            )
        }


def test_facts_are_classified_by_index_or_wording_and_sensitivity_comes_from_the_catalogue(engine, tmp_path):
    report = pn_faits.commit(engine, write_extract(tmp_path / "faits.csv"), commune="04112")
    assert (report.rows_read, report.inserted, report.rejected) == (6, 6, 0)
    got = _facts(engine)
    assert got["P-1"] == ("cambriolages", "biens", 27, False, True, "coordonnees")
    assert got["P-2"] == ("violences_intrafamiliales", "avip", None, True, False, "coordonnees")
    assert got["P-3"][:4] == ("violences_physiques", "avip", 7, False)  # the index stands in for the wording
    assert got["P-4"][:2] == ("vols_dans_vehicules", "biens")
    assert (
        got["P-5"][:2] == (None, None) and got["P-5"][3] is True
    )  # unclassified: sensitive until classified
    assert got["P-6"][:4] == ("violences_sexuelles", "avip", 46, True)
    assert any("Fait sans catégorie connue" in w and "Nomenclature PN" in w for w in report.warnings)


def test_an_index_only_extract_and_official_index_labels(engine, tmp_path):
    header = ["date", "heure", "index 4001", "x", "y"]
    rows = [
        ["2024-05-01", "23:10", "35", "931000", "6305000"],
        ["2024-05-02", "", "Index 28", "931100", "6305100"],
    ]
    pn_faits.commit(engine, write_extract(tmp_path / "index.csv", rows=rows, header=header), commune="04112")
    header = ["date", "qualification", "x", "y"]
    rows = [
        ["2024-05-03", "Vols à la roulotte", "931200", "6305200"],
        ["2024-05-04", "Viols sur des majeur(e)s", "931300", "6305300"],
    ]
    pn_faits.commit(
        engine, write_extract(tmp_path / "libelles.csv", rows=rows, header=header), commune="04112"
    )
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT label, category_code, sensitive FROM obs.pn_fact ORDER BY occurred_at")
        ).all()
    assert [tuple(r) for r in got] == [
        ("35", "vols_vehicules", False),
        ("Index 28", "cambriolages", False),
        ("Vols à la roulotte", "vols_dans_vehicules", False),
        ("Viols sur des majeur(e)s", "violences_sexuelles", True),
    ]


def test_same_extract_twice_and_overlaps_add_nothing(engine, tmp_path):
    f = write_extract(tmp_path / "faits.csv")
    first = pn_faits.commit(engine, f, commune="04112")
    second = pn_faits.commit(engine, f, commune="04112")
    assert (first.inserted, second.inserted, second.duplicates) == (6, 0, 6)
    assert any("déjà été importé" in w for w in second.warnings)
    # an overlapping extract without references: date, wording and place make the key
    header = [h for h in HEADER if h != "Référence"]
    rows = [r[:-1] for r in ROWS]
    pn_faits.commit(engine, write_extract(tmp_path / "a.csv", rows=rows[:3], header=header), commune="04112")
    report = pn_faits.commit(
        engine, write_extract(tmp_path / "b.csv", rows=rows[1:5], header=header), commune="04112"
    )
    assert (report.inserted, report.duplicates) == (2, 2)


def test_addresses_are_geocoded_with_the_ban(engine, tmp_path):
    (tmp_path / "ban.csv").write_text(BAN, encoding="utf-8")
    import_ban(engine, tmp_path / "ban.csv")
    rows = [
        ["12/03/2024", "22h15", "27", "", "10 av. Jean Giono", "", "", "A"],
        ["12/03/2024", "22h15", "27", "", "Parking inconnu", "", "", "B"],
    ]
    report = pn_faits.commit(engine, write_extract(tmp_path / "adresses.csv", rows=rows), commune="04112")
    assert report.extra["non_geolocalises"] == 1
    got = _facts(engine)
    assert got["A"][-1] == "geocode" and got["B"][-1] == "non_geolocalise"


def test_a_nominative_column_refuses_the_extract_and_stores_nothing(engine, tmp_path):
    f = write_extract(
        tmp_path / "nominatif.csv", rows=[[*r, "DUPONT"] for r in ROWS], header=[*HEADER, "Nom victime"]
    )
    with pytest.raises(PersonalDataRefused) as exc:
        pn_faits.preview(f)
    assert "« Nom victime »" in exc.value.message
    with pytest.raises(PersonalDataRefused):
        pn_faits.commit(engine, f, user="analyste", commune="04112")
    rows = [list(r) for r in ROWS]
    rows[1][3] = "Violences, auteur joignable au 06 12 34 56 78"
    with pytest.raises(PersonalDataRefused) as exc:
        pn_faits.commit(engine, write_extract(tmp_path / "tel.csv", rows=rows), commune="04112")
    assert "téléphone" in exc.value.message and "56 78" not in exc.value.message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pn_fact")).scalar() == 0
        logged = (
            conn.execute(sa.text("SELECT detail FROM obs.audit_log WHERE action = 'import_refuse'"))
            .scalars()
            .all()
        )
    assert len(logged) == 2 and "DUPONT" not in json.dumps(logged, ensure_ascii=False)


def test_bad_rows_refuse_everything_unless_valid_rows_are_accepted(engine, tmp_path):
    rows = [
        *ROWS,
        ["31/13/2024", "10:00", "27", "", "", "5,78", "43,83", "P-9"],
        ["01/04/2024", "10:00", "", "", "", "5,78", "43,83", "P-10"],
    ]
    f = write_extract(tmp_path / "bad.csv", rows=rows)
    with pytest.raises(ValidationFailed) as exc:
        pn_faits.commit(engine, f, commune="04112")
    messages = [e.message for e in exc.value.report.errors]
    assert any("date non reconnue" in m for m in messages)
    assert any("qualification absente" in m for m in messages)
    report = pn_faits.commit(engine, f, accept_valid=True, commune="04112")
    assert (report.inserted, report.rejected) == (6, 2)


def test_cli_import_and_dry_run(cli_env, engine, tmp_path):
    f = write_extract(tmp_path / "faits.csv")
    result = run_cli("import", "pn-faits", str(f), "--dry-run")
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pn_fact")).scalar() == 0
    result = run_cli("import", "pn-faits", str(f), "--format", "json", "--save-mapping", "ddsp")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.split("\nCorrespondance")[0])["inserted"] == 6
    result = run_cli("import", "pn-faits", str(f), "--mapping", "ddsp")
    assert result.exit_code == 0 and "0 insérées" in result.output


def test_an_extract_can_be_undone_by_an_analyst(engine, tmp_path):
    from observatoire.imports.admin import undo_import

    report = pn_faits.commit(engine, write_extract(tmp_path / "faits.csv"), commune="04112")
    assert undo_import(engine, report.batch_id, user="analyste1", role="analyste") == len(ROWS)
    assert _facts(engine) == {}
    again = pn_faits.commit(engine, write_extract(tmp_path / "faits.csv"), commune="04112")
    assert again.inserted == len(ROWS)  # the undone rows no longer count as duplicates


def test_an_analyst_attaches_an_unknown_wording_to_a_category(engine, tmp_path):
    """An unclassified fact is sensitive (never a point on the map) until its wording is attached: the stored
    facts then take the category and its sensitivity, a fact classified by its index keeps it, and the next
    extracts use the wording."""
    from observatoire.errors import PermissionDenied
    from observatoire.police_nationale import catalogue as pn_catalogue

    rows = [*ROWS, ["18/03/2024", "10:00", "27", "Fait sans catégorie connue", "", "5,786", "43,833", "P-7"]]
    pn_faits.commit(engine, write_extract(tmp_path / "faits.csv", rows=rows), commune="04112")
    unknown = pn_catalogue.unknown_labels(engine)
    assert unknown.to_dict("records") == [
        {"label": "Fait sans catégorie connue", "facts": 1, "suggestion": None}
    ]
    with pytest.raises(PermissionDenied):
        pn_catalogue.learn_label(engine, "Fait sans catégorie connue", "vols_dans_vehicules", role="conseil")

    moved = pn_catalogue.learn_label(
        engine, "Fait sans catégorie connue", "vols_dans_vehicules", user="analyste1", role="analyste"
    )
    assert moved == 1
    got = _facts(engine)
    assert got["P-5"][:4] == ("vols_dans_vehicules", "biens", None, False)  # classified, no longer sensitive
    assert got["P-7"][:3] == ("cambriolages", "biens", 27)  # its index still decides
    assert pn_catalogue.unknown_labels(engine).empty
    categories = pn_catalogue.list_categories(engine).set_index("code")
    assert categories.loc["vols_dans_vehicules", "facts"] == 2

    later = [["20/03/2024", "10:00", "", "FAIT sans catégorie connue", "", "5,786", "43,833", "P-8"]]
    report = pn_faits.commit(engine, write_extract(tmp_path / "suite.csv", rows=later), commune="04112")
    assert "libelles_inconnus" not in report.extra
    assert _facts(engine)["P-8"][:2] == ("vols_dans_vehicules", "biens")
    with engine.connect() as conn:
        audited = conn.execute(
            sa.text("SELECT user_login, target FROM obs.audit_log WHERE action = 'nomenclature_modifiee'")
        ).all()
    assert [tuple(r) for r in audited] == [("analyste1", "libelle_pn")]
