"""One reading of territory codes: full codes and bare INSEE codes, overseas and Corsican départements."""

from __future__ import annotations

import pytest

from observatoire import geo_codes
from observatoire.errors import NotFound
from observatoire.geo_codes import InvalidTerritory, TerritoryCode


@pytest.mark.parametrize(
    "text, expected",
    [
        ("COM:04112", "COM:04112"),
        ("04112", "COM:04112"),
        (" com:04112 ", "COM:04112"),
        ("4", "DEP:04"),
        ("04", "DEP:04"),
        ("DEP:4", "DEP:04"),
        ("dep:04", "DEP:04"),
        ("2a", "DEP:2A"),
        ("2B", "DEP:2B"),
        ("DEP:2a", "DEP:2A"),
        ("2A004", "COM:2A004"),
        ("COM:2b033", "COM:2B033"),
        ("971", "DEP:971"),
        ("976", "DEP:976"),
        ("97411", "COM:97411"),
        ("COM:97608", "COM:97608"),
        ("REG:93", "REG:93"),
        ("reg:3", "REG:03"),
        ("FRA", "FRA"),
        ("France", "FRA"),
        ("fra", "FRA"),
        ("IRIS:041120101", "IRIS:041120101"),
        ("QPV:qn00402m", "QPV:QN00402M"),
        ("GRP:communes-20000-50000", "GRP:communes-20000-50000"),
    ],
)
def test_full_and_bare_codes_read_to_the_canonical_form(text, expected):
    code = TerritoryCode.parse(text)
    assert str(code) == expected
    assert TerritoryCode.parse(str(code)) == code  # the canonical form reads back to itself


@pytest.mark.parametrize(
    "commune, departement, region",
    [
        ("04112", "04", "93"),
        ("2A004", "2A", "94"),
        ("2B033", "2B", "94"),
        ("75056", "75", "11"),
        ("97105", "971", "01"),
        ("97209", "972", "02"),
        ("97302", "973", "03"),
        ("97411", "974", "04"),
        ("97608", "976", "06"),
    ],
)
def test_departement_of_a_commune_two_characters_or_three_overseas(commune, departement, region):
    code = TerritoryCode.parse(commune)
    assert code.departement == TerritoryCode("DEP", departement)
    assert code.region == TerritoryCode("REG", region)
    assert geo_codes.departement_of_commune(commune) == departement
    assert code.parent == code.departement and code.departement.parent == code.region
    assert code.region.parent == TerritoryCode("FRA") and TerritoryCode("FRA").parent is None


def test_the_overseas_rule_is_the_same_in_sql(engine):
    import sqlalchemy as sa

    communes = ["04112", "2A004", "97105", "97411", "97608", "98735"]
    with engine.connect() as conn:
        found = (
            conn.execute(
                sa.text(
                    f"SELECT {geo_codes.departement_of_commune_sql('c')} FROM unnest(CAST(:c AS text[])) AS c"
                ),
                {"c": communes},
            )
            .scalars()
            .all()
        )
        shaped = (
            conn.execute(
                sa.text(f"SELECT c ~ '{geo_codes.COMMUNE_PATTERN}' FROM unnest(CAST(:c AS text[])) AS c"),
                {"c": ["04112", "2A004", "2C004", "4112", "041120"]},
            )
            .scalars()
            .all()
        )
    assert found == [geo_codes.departement_of_commune(c) for c in communes]
    assert shaped == [True, True, False, False, False]


def test_iris_and_zones_have_their_commune():
    iris = TerritoryCode.parse("IRIS:041120101")
    assert iris.commune == TerritoryCode("COM", "04112") and iris.parent == iris.commune
    assert iris.departement == TerritoryCode("DEP", "04") and iris.level_name == "iris"
    assert TerritoryCode.parse("QPV:QN00402M").parent is None
    assert TerritoryCode.parse("DEP:04").official_name == "Alpes-de-Haute-Provence"
    assert TerritoryCode.parse("971").official_name == "Guadeloupe"


@pytest.mark.parametrize(
    "text, why",
    [
        ("99999", "département 99 inconnu"),
        ("DEP:99", "département 99 inconnu"),
        ("975", "département 975 inconnu"),  # Saint-Pierre-et-Miquelon is a collectivité, not a département
        ("97501", "département 975 inconnu"),
        ("20", "département 20 inconnu"),  # Corsica is 2A and 2B
        ("REG:99", "région 99 inconnue"),
        ("COM:4112", "un code commune a 5 caractères"),
        ("IRIS:04112", "un code IRIS a 9 caractères"),
        ("XYZ:12", "niveau « XYZ » inconnu"),
        ("GRP:", "nom du groupe absent"),
        ("", "code absent"),
    ],
)
def test_bad_input_names_the_value_why_and_the_accepted_forms(text, why):
    with pytest.raises(InvalidTerritory) as caught:
        TerritoryCode.parse(text)
    message = caught.value.message
    assert f"« {text} »" in message and why in message
    assert "Formes acceptées" in message and "04112 ou COM:04112" in message and "2A" in message
    assert isinstance(caught.value, NotFound)


def test_levels_the_caller_takes_are_the_forms_shown():
    with pytest.raises(InvalidTerritory) as caught:
        TerritoryCode.parse("IRIS:041120101", ("COM", "DEP", "REG", "FRA"))
    message = caught.value.message
    assert "niveau IRIS non accepté ici" in message
    assert "région (REG:93)" in message and "QPV" not in message
    assert str(TerritoryCode.parse("04112", ("COM",))) == "COM:04112"
    with pytest.raises(InvalidTerritory, match="Territoire invalide : « Manosque »"):
        TerritoryCode.parse("Manosque", ("COM",))


def test_is_commune_code_follows_the_same_rule():
    assert geo_codes.is_commune_code("04112") and geo_codes.is_commune_code("2A004")
    assert geo_codes.is_commune_code("97411") and not geo_codes.is_commune_code("97501")
    assert not geo_codes.is_commune_code("99999") and not geo_codes.is_commune_code("2C004")
