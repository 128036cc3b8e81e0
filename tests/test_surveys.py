"""Perceived-insecurity surveys: a wave built with known proportions comes back with exactly those proportions
per profile; two waves compare; answers outside the codebook and free text are refused, nothing half-loaded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ingest.survey import import_survey
from observatoire.errors import InputFileError, ValidationFailed
from observatoire.surveys import results

CODEBOOK = """variable;type;libelle;code;modalite
age;profil;Tranche d'âge;1;18-39 ans
age;profil;Tranche d'âge;2;40 ans ou plus
sexe;profil;Sexe;1;Femme
sexe;profil;Sexe;2;Homme
resident;profil;Résident;1;Oui
resident;profil;Résident;2;Non
csp;profil;CSP;1;Employés
csp;profil;CSP;2;Retraités
quartier;profil;Quartier;1;Centre
quartier;profil;Quartier;2;Nord
q1;question;Sentiment de sécurité la nuit;1;En sécurité
q1;question;Sentiment de sécurité la nuit;2;Pas en sécurité
"""
HEADER = "age;sexe;resident;csp;quartier;q1\n"


def _wave(tmp_path, name: str, rows: list[str]):
    (tmp_path / "codes.csv").write_text(CODEBOOK, encoding="utf-8")
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _known(women_safe: int, women: int, men_safe: int, men: int) -> list[str]:
    rows = ["1;1;1;1;1;1"] * women_safe + ["2;1;1;2;2;2"] * (women - women_safe)
    rows += ["1;2;2;1;1;1"] * men_safe + ["2;2;1;2;2;2"] * (men - men_safe)
    return rows


def test_a_wave_with_known_proportions_gives_exactly_those_proportions(engine, tmp_path):
    # 420 women, 30 % feel safe at night; 380 men, 55 % do
    path = _wave(tmp_path, "vague.csv", _known(126, 420, 209, 380))
    report = import_survey(engine, path, codebook=tmp_path / "codes.csv", code="2025")
    assert report.inserted == 800
    by_sex = results.results(engine, "2025", "q1", "sexe").set_index(["groupe", "reponse"])
    assert by_sex.loc[("Femme", "En sécurité"), "part"] == pytest.approx(30.0)
    assert by_sex.loc[("Homme", "En sécurité"), "part"] == pytest.approx(55.0)
    assert by_sex.loc[("Femme", "Pas en sécurité"), "n"] == 294
    assert by_sex.loc[("Homme", "Pas en sécurité"), "effectif"] == 380
    overall = results.results(engine, "2025", "q1").set_index("reponse")
    assert overall.loc["En sécurité", "part"] == pytest.approx(100 * 335 / 800)
    assert "ne peuvent pas être étendus" in results.WARNING


def test_two_waves_compare(engine, tmp_path):
    import_survey(
        engine,
        _wave(tmp_path, "a.csv", _known(100, 400, 200, 400)),
        codebook=tmp_path / "codes.csv",
        code="2023",
    )
    import_survey(
        engine,
        _wave(tmp_path, "b.csv", _known(200, 400, 300, 400)),
        codebook=tmp_path / "codes.csv",
        code="2025",
    )
    same = results.compare(engine, "2023", "2025", "q1").set_index("reponse")
    assert same.loc["En sécurité", "ecart"] == pytest.approx(25.0)
    assert bool(same.loc["En sécurité", "significatif"])
    assert [w["code"] for w in results.waves(engine)] == ["2023", "2025"]


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM obs.survey_answer")).scalar_one()


def test_an_answer_outside_the_codebook_is_refused_naming_line_and_field(engine, tmp_path):
    path = _wave(tmp_path, "v.csv", ["1;1;1;1;1;1", "1;1;1;1;1;7"])
    with pytest.raises(ValidationFailed) as caught:
        import_survey(engine, path, codebook=tmp_path / "codes.csv", code="x")
    (error,) = caught.value.report.errors
    assert (error.line, error.column, error.value) == (3, "q1", "7")
    assert "absente du livre de codes" in error.message
    assert _count(engine) == 0


def test_a_column_of_free_text_is_refused_and_never_repeated(engine, tmp_path):
    (tmp_path / "codes.csv").write_text(CODEBOOK, encoding="utf-8")
    path = tmp_path / "libre.csv"
    path.write_text(
        "age;sexe;resident;csp;quartier;q1;q9\n1;1;1;1;1;1;\n"
        "1;1;1;1;1;2;Mon voisin du 12 rue des Lilas fait du bruit\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        import_survey(engine, path, codebook=tmp_path / "codes.csv", code="x")
    (error,) = caught.value.report.errors
    assert (error.line, error.column) == (3, "q9") and "texte libre" in error.message
    assert error.value is None  # the text itself is not kept, even in the report
    assert _count(engine) == 0
    # a column named as free text is refused from its header by the personal-data guard
    path.write_text("age;sexe;resident;csp;quartier;q1;remarques\n1;1;1;1;1;1;\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="remarques"):
        import_survey(engine, path, codebook=tmp_path / "codes.csv", code="x")


def test_a_codebook_without_the_profile_is_refused(engine, tmp_path):
    (tmp_path / "codes.csv").write_text(CODEBOOK.replace("quartier;", "zone;"), encoding="utf-8")
    (tmp_path / "v.csv").write_text(HEADER + "1;1;1;1;1;1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="quartier"):
        import_survey(engine, tmp_path / "v.csv", codebook=tmp_path / "codes.csv", code="x")


def test_survey_import_and_results_from_the_command_line(cli_env, tmp_path):
    from tests.conftest import run_cli

    path = _wave(tmp_path, "vague.csv", _known(126, 420, 209, 380))
    result = run_cli(
        "import", "survey", str(path), "--codebook", str(tmp_path / "codes.csv"), "--vague", "2025"
    )
    assert result.exit_code == 0, result.output
    result = run_cli("enquete", "resultats", "2025", "q1", "--profil", "sexe")
    assert result.exit_code == 0, result.output
    assert "ne peuvent pas être étendus" in result.output
    line = next(
        x
        for x in result.output.splitlines()
        if x.startswith("Femme") and "En sécurité" in x and "Pas" not in x
    )
    assert "126 / 420" in line and "30,0 %" in line


def test_demo_generation_is_deterministic_and_matches_the_committed_files(tmp_path):
    from sample_data import plan_actions, surveys
    from sample_data.demo import FILES, SEED

    plan_actions.generate(tmp_path, SEED)
    surveys.generate(tmp_path, SEED)
    for name in (
        plan_actions.VALUES,
        surveys.CODEBOOK,
        *(f for f, *_ in surveys.WAVES.values()),
    ):
        assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes(), name
    respondents = [len((tmp_path / f).read_text().splitlines()) - 1 for f, *_ in surveys.WAVES.values()]
    assert all(750 <= n <= 850 for n in respondents)
