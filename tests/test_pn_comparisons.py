"""Page-ready views: diagnostic table, chart series, methodology block; Poisson intervals."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ingest.ssmsi import import_ssmsi
from observatoire.errors import NotFound
from observatoire.police_nationale import comparisons, rates
from tests.test_pn_ssmsi import DEP_2023


def test_poisson_interval_is_exact():
    assert rates.poisson_interval(0) == (0.0, pytest.approx(3.6889, abs=1e-4))
    low, high = rates.poisson_interval(10)
    assert (low, high) == (pytest.approx(4.7954, abs=1e-4), pytest.approx(18.3904, abs=1e-4))
    assert rates.poisson_interval(None) == (None, None)


def test_territory_codes_and_size_groups():
    assert rates.parse_territory("04112") == "COM:04112"
    assert rates.parse_territory("4") == "DEP:04"
    assert rates.parse_territory("reg:93") == "REG:93"
    with pytest.raises(NotFound, match="Territoire invalide"):
        rates.parse_territory("99999")
    group = rates.size_group(22_485)
    assert group.code == "GRP:communes-20000-50000" and "20\u202f000 à 50\u202f000" in group.name


def test_diagnostic_table_series_and_methodology(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    records = rates.compare_records(engine, "cbv", "DEP:04", range(2016, 2023))
    table = comparisons.diagnostic_table(records)
    assert list(table.index) == [
        "Département — Alpes-de-Haute-Provence",
        "Région — Provence-Alpes-Côte d'Azur",
        "France — France entière",
    ]
    assert list(table.columns) == [str(y) for y in range(2016, 2023)]
    assert table.loc["Département — Alpes-de-Haute-Provence", "2022"] == "5,02"
    numeric = comparisons.diagnostic_table(records, formatted=False)
    assert numeric.iloc[0, -1] == pytest.approx(5.0226351)
    series = comparisons.rate_series(records)
    assert len(series) == 21 and series.rate_per_1000.notna().all()
    method = comparisons.methodology(engine, records)
    assert method["editions"] == [
        {"code": "2023-07-17", "libelle": "SSMSI, édition du 17/07/2023", "date": "17/07/2023"}
    ]
    dep = next(d for d in method["denominateurs"] if d["niveau"] == "Département")
    assert dep["millesimes"] == "2016, 2017, 2018, 2019, 2020"
    assert any("101/101" in c["couverture"] for c in method["couverture"])
    assert method["non_publie"] == []
    assert "jamais en moyennant" in method["methode"]


def test_unpublished_values_show_as_unknown(engine, tmp_path):
    path = tmp_path / "donnee-data.gouv-2023-geographie2024-produit-le2024-07-05.csv"
    path.write_text(
        "CODGEO_2024;annee;classe;unité.de.compte;valeur.publiée;faits;tauxpourmille;complementinfoval;"
        "complementinfotaux;POP;millPOP;LOG;millLOG\n"
        "04006;22;Vols avec armes;infraction;ndiff;NA;NA;0,2;0,3;747;20;400;20\n"
        "04006;23;Vols avec armes;infraction;diff;0;0;NA;NA;750;21;401;21\n",
        encoding="utf-8",
    )
    import_ssmsi(engine, path)
    records = rates.compare_records(engine, "vols_avec_armes", "04006", [2022, 2023], levels=["commune"])
    assert records[0]["count"] is None and records[0]["rate_per_1000"] is None and not records[0]["published"]
    assert records[1]["count"] == 0 and records[1]["rate_per_1000"] == 0.0 and records[1]["published"]
    assert records[1]["ci_high"] == pytest.approx(3.6889 / 750 * 1000, rel=1e-4)
    table = comparisons.diagnostic_table(records)
    assert list(table.iloc[0]) == ["n.d.", "0,00"]
    method = comparisons.methodology(engine, records)
    assert method["non_publie"] == [
        {
            "territoire": "04006",
            "indicateur": "Vols avec armes",
            "annee": 2022,
            "raison": "non diffusée par le SSMSI (secret statistique : « ndiff » dans le fichier)",
        }
    ]


def test_methodology_of_the_diagnostic_query_without_the_commune_in_the_edition(engine, shared_data):
    """Manosque 2020–2022 on the 2023-07-17 edition: the edition (a départemental base) has no row for the
    commune, so its vintage, count and rate are unknown; with pandas 3 they come back as NaN, not None."""
    import_ssmsi(engine, shared_data / DEP_2023)
    ids = ("cbv", "violences_sexuelles", "cambriolages_logement")
    records = [
        r
        for ind in ids
        for r in rates.compare_records(engine, ind, "04112", [2020, 2021, 2022], edition="2023-07-17")
    ]
    method = comparisons.methodology(engine, records)
    json.dumps(method, allow_nan=False)  # nothing unknown leaks out as NaN
    assert method["editions"] == [
        {"code": "2023-07-17", "libelle": "SSMSI, édition du 17/07/2023", "date": "17/07/2023"}
    ]
    vintages = {(d["niveau"], d["indicateur"]): d["millesimes"] for d in method["denominateurs"]}
    assert len(vintages) == 3 * 4  # commune, département, région, France; no size group without a population
    assert {vintages["Commune", i] for i in ids} == {"inconnu"}
    assert {vintages["Département", i] for i in ids} == {"2020"}
    assert {vintages["France", i] for i in ids} == {"2017–2020"}
    assert {d["denominateur"] for d in method["denominateurs"]} == {"habitants", "logements"}
    assert {(c["niveau"], c["couverture"]) for c in method["couverture"]} == {
        ("Région", "somme de 6/6 départements publiés"),
        ("France", "somme de 101/101 départements publiés"),
    }
    assert all(c["note"].startswith("reconstitué") for c in method["couverture"])
    assert len(method["non_publie"]) == 3 * 3
    assert {(u["territoire"], u["raison"]) for u in method["non_publie"]} == {
        ("COM:04112", "absent de l'édition")
    }
    # The same block from the DataFrame of rates.compare (nullable integer counts, NaN floats).
    frame = pd.concat(
        [rates.compare(engine, ind, "04112", [2020, 2021, 2022], edition="2023-07-17") for ind in ids]
    )
    assert comparisons.methodology(engine, frame) == method
