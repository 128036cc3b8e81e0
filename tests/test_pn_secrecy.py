"""Statistical secrecy understood at import, and series breaks between editions, on the real SSMSI files."""

from __future__ import annotations

import sqlalchemy as sa

from ingest.ssmsi import import_ssmsi
from observatoire.police_nationale import rates
from tests.test_pn_ssmsi import DEP_2023, DEP_2026, PIVOT


def test_pivot_zeros_are_withheld_not_zero(engine, shared_data):
    report = import_ssmsi(engine, shared_data / PIVOT, edition="2024-07-05")
    assert report.extra["non_diffusees"] == 6816
    assert any("pas des absences de faits" in w for w in report.warnings)
    row = rates.compare(engine, "vols_avec_armes", "04112", [2016, 2017, 2018], levels=["commune"]).iloc[0]
    assert row["count"] is rates_na() and row.rate_per_1000 is None and not row.published
    assert "non diffusée" in row.coverage and "0" in row.coverage
    with engine.connect() as conn:
        zeros = conn.execute(sa.text("SELECT count(*) FROM obs.pn_stat WHERE count = 0")).scalar()
    assert zeros == 0
    # The size group says how many of its communes were withheld; none of them counts as 0.
    group = rates.compare(engine, "vols_avec_armes", "04112", [2016], levels=["groupe"]).iloc[0]
    assert group.members_withheld >= 1 and "non diffusée" in group.coverage
    assert group.members_published + group.members_withheld == group.members
    # 21 of its 25 communes withheld: no rate from the 4 others, and not marked published.
    assert group.members == 25 and group.members_withheld == 21
    assert group.rate_per_1000 is None and not group.published
    assert "trop peu de communes publiées" in group.coverage


def test_a_file_with_real_zeros_keeps_them(engine, tmp_path):
    header = "CODGEO_2024;annee;POP;Vols avec armes;Violences sexuelles\n"
    body = "04112;2016;21868;0;3\n04112;2017;22000;2;0\n04070;2016;16000;0;NA\n04070;2017;16100;s;\n"
    path = tmp_path / "pivot.csv"
    path.write_text(header + body, encoding="utf-8")
    report = import_ssmsi(engine, path, edition="2024-07-05")
    assert report.extra["non_diffusees"] == 3
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                sa.text(
                    "SELECT territory_code || ' ' || indicator_id || ' ' || year, coalesce(count::text, withheld) "
                    "FROM obs.pn_stat"
                )
            ).all()
        )
    assert rows["COM:04112 vols_avec_armes 2016"] == "0"
    assert "« s »" in rows["COM:04070 vols_avec_armes 2017"]
    assert "« NA »" in rows["COM:04070 violences_sexuelles 2016"]
    assert "cellule vide" in rows["COM:04070 violences_sexuelles 2017"]


def rates_na():
    import pandas as pd

    return pd.NA


def test_violences_sexuelles_break_between_2023_and_2026(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    report = import_ssmsi(engine, shared_data / DEP_2026)
    assert any("Violences sexuelles" in b for b in report.extra["ruptures_de_serie"])
    with engine.connect() as conn:
        breaks = conn.execute(
            sa.text(
                "SELECT indicator_id, edition_before, edition_after, min_change, max_change FROM obs.pn_series_break"
            )
        ).all()
    assert [b[:3] for b in breaks] == [("violences_sexuelles", "2023-07-17", "2026")]
    assert 0.2 < breaks[0].min_change <= breaks[0].max_change < 0.45


def _load_everything(engine, shared_data):
    from tests.test_pn_ssmsi import APPLI

    import_ssmsi(engine, shared_data / DEP_2023)
    import_ssmsi(engine, shared_data / DEP_2026)
    import_ssmsi(engine, shared_data / PIVOT, edition="2024-07-05")
    import_ssmsi(engine, shared_data / APPLI)


def test_every_cell_some_edition_publishes_is_filled(engine, shared_data):
    _load_everything(engine, shared_data)
    eds = list(rates.editions(engine).code)
    for ind in ("violences_physiques_hors_famille", "violences_sexuelles", "cambriolages_logement", "cbv"):
        for years in (range(2021, 2026), range(2016, 2022)):
            best = rates.compare_records(engine, ind, "04112", years)
            pinned = {}
            for ed in eds:
                for r in rates.compare_records(engine, ind, "04112", years, edition=ed):
                    if r["rate_per_1000"] is not None:
                        pinned.setdefault((r["level"], r["year"]), []).append(ed)
            for r in best:
                if (r["level"], r["year"]) in pinned:
                    assert r["rate_per_1000"] is not None, (ind, r)
                    assert r["edition"] == pinned[(r["level"], r["year"])][0]  # the newest that publishes it
                else:
                    assert r["rate_per_1000"] is None
    # The 2026 edition fills the département, PACA (rebuilt) and France for 2021–2025.
    default = rates.compare_records(engine, "violences_physiques_hors_famille", "04112", range(2021, 2026))
    assert all(
        r["rate_per_1000"] is not None for r in default if r["level"] in ("departement", "region", "france")
    )
    # Manosque burglaries: the application's published rates win over the pivot's bare counts.
    cambr = rates.compare_records(engine, "cambriolages_logement", "04112", [2016, 2019], levels=["commune"])
    assert [r["edition"] for r in cambr] == ["appli-territoriale", "appli-territoriale"]
    assert all(r["rate_source"].startswith("publié") for r in cambr)


def test_break_marked_in_the_rows_of_a_line_crossing_editions(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    import_ssmsi(engine, shared_data / DEP_2026)
    # Pinned per year the way a line would join them: 2016–2022 from 2023, then 2023–2025 from 2026.
    rows = rates.compare_records(
        engine, "violences_sexuelles", "DEP:04", range(2016, 2026), levels=["departement"]
    )
    assert {r["edition"] for r in rows} == {"2026"} and not any(r["break_before"] for r in rows)
    breaks = {}
    with engine.connect() as conn:
        breaks = rates.series_breaks(conn, "violences_sexuelles")
    mixed = [dict(r, edition="2023-07-17") if r["year"] < 2023 else dict(r) for r in rows]
    rates._mark_breaks(mixed, breaks)
    assert [r["year"] for r in mixed if r["break_before"]] == [2023]
    assert "la définition a changé" in mixed[7]["break_before"]
