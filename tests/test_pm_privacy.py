"""The personal-data guard: nominative headers or values refuse the file and nothing of it is kept."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ingest import police_municipale as pm
from ingest.privacy import header_rule, value_rule
from observatoire.errors import PersonalDataRefused
from tests.conftest import run_cli
from tests.pm_helpers import HEADER, ROWS, write_export


def _nothing_stored(engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM obs.import_batch")).scalar() == 0
        # no temporary table of rows survives either
        assert (
            conn.execute(sa.text("SELECT count(*) FROM pg_class WHERE relname = 'ev_events'")).scalar() == 0
        )


@pytest.mark.parametrize(
    "header,rule",
    [
        ("Nom", "nom de personne"),
        ("NOM DU MIS EN CAUSE", "nom de personne"),
        ("Prénom", "prénom"),
        ("Né(e) le", "naissance"),
        ("Date de naissance", "naissance"),
        ("Tél.", "téléphone"),
        ("Téléphone requérant", "téléphone"),
        ("Courriel", "électronique"),
        ("E-mail", "électronique"),
        ("Immatriculation", "immatriculation"),
        ("Plaque", "immatriculation"),
        ("Observations", "texte libre"),
        ("Commentaire", "texte libre"),
    ],
)
def test_nominative_headers_are_recognised(header, rule):
    assert rule in header_rule(header)


@pytest.mark.parametrize(
    "header",
    [
        "nom_voie",
        "Nom de la voie",
        "nom_commune",
        "Nombre",
        "Nature",
        "Adresse",
        "Suite donnée",
        "N° d'intervention",
        "Secteur",
        "Origine",
        "Lieu",
        "Date",
    ],
)
def test_ordinary_headers_pass(header):
    assert header_rule(header) is None


def test_a_nom_column_is_refused_and_nothing_is_stored(engine, tmp_path):
    rows = [[*r, "DUPONT"] for r in ROWS]
    f = write_export(tmp_path / "nominatif.csv", rows=rows, header=[*HEADER, "Nom"])
    with pytest.raises(PersonalDataRefused) as exc:
        pm.preview(f)  # the page never shows it
    assert "« Nom »" in exc.value.message and "nom de personne" in exc.value.message
    with pytest.raises(PersonalDataRefused):
        pm.commit(engine, f, user="agent", commune="04112")
    _nothing_stored(engine)
    with engine.connect() as conn:
        logged = (
            conn.execute(sa.text("SELECT detail FROM obs.audit_log WHERE action = 'import_refuse'"))
            .scalars()
            .all()
        )
    assert len(logged) == 1 and "DUPONT" not in json.dumps(logged, ensure_ascii=False)


@pytest.mark.parametrize(
    "value,rule",
    [
        ("rappeler le 06 12 34 56 78", "téléphone"),
        ("tél 0612345678", "téléphone"),
        ("+33 6 12 34 56 78", "téléphone"),
        ("contact jean.dupont@example.fr", "électronique"),
        ("véhicule AB-123-CD", "immatriculation"),
        ("x" * 200, "texte libre"),
    ],
)
def test_suspect_values_are_recognised(value, rule):
    assert rule in value_rule(value)


@pytest.mark.parametrize(
    "value",
    [
        "12 av. Jean Giono",
        "MC-2024-000123",
        "Tapage nocturne",
        "04100 Manosque",
        "PV n° 20240312",
        "Rappel à la loi",
    ],
)
def test_ordinary_values_pass(value):
    assert value_rule(value) is None


def test_phone_numbers_in_a_content_column_refuse_the_file(engine, tmp_path, cli_env):
    rows = [list(r) for r in ROWS]
    rows[2][8] = "Requérant rappelé au 06 12 34 56 78"
    f = write_export(tmp_path / "telephone.csv", rows=rows)
    with pytest.raises(PersonalDataRefused) as exc:
        pm.commit(engine, f, commune="04112")
    message = exc.value.message
    assert "« Suite donnée »" in message and "ligne 4" in message and "téléphone" in message
    assert "56 78" not in message
    _nothing_stored(engine)
    result = run_cli("import", "pm", str(f), "--format", "json")
    assert result.exit_code == 1
    assert "Suite donnée" in result.output and "56 78" not in result.output
    with engine.connect() as conn:
        details = conn.execute(sa.text("SELECT detail::text FROM obs.audit_log")).scalars().all()
    assert details and all("56 78" not in d for d in details)
