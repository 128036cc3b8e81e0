"""The space-time analyses on the database: emerging hot spots, near-repeat, data clock and alerts per role,
and their CLI."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pytest

from observatoire.errors import InputFileError, PermissionDenied
from observatoire.events.filter import EventFilter
from observatoire.spacetime import queries as spacetime
from tests.conftest import run_cli
from tests.events_helpers import CENTRE_L93, insert_pn_facts

PN = EventFilter(sources=("pn",), categories=("cambriolages",))


@pytest.fixture
def planted(engine):
    """36 months of burglaries over 3 km (2021–2023), a cluster of 150 m added in December 2023 only."""
    rng = np.random.default_rng(4)
    n = 3600
    x = CENTRE_L93[0] + rng.uniform(-1500, 1500, n)
    y = CENTRE_L93[1] + rng.uniform(-1500, 1500, n)
    when = [datetime(2021 + k // 1200, 1 + (k // 100) % 12, 1 + k % 28, k % 24) for k in range(n)]
    cx = CENTRE_L93[0] + rng.normal(0, 60, 60)
    cy = CENTRE_L93[1] + rng.normal(0, 60, 60)
    cw = [datetime(2023, 12, 1 + k % 28, 21) for k in range(60)]
    insert_pn_facts(engine, np.r_[x, cx], np.r_[y, cy], when=when + cw)
    return engine


def _emerging(engine, role):
    f = EventFilter(
        sources=("pn",), categories=("cambriolages",), start=date(2021, 1, 1), end=date(2023, 12, 31)
    )
    return spacetime.emerging_hot_spots(engine, f, role, cell=150)


def _near_centre(feature) -> bool:
    from observatoire.events.hexgrid import cell_centres

    p = feature["properties"]
    x, y = cell_centres(np.array([p["i"]]), np.array([p["j"]]), 150)
    return bool(np.hypot(x[0] - CENTRE_L93[0], y[0] - CENTRE_L93[1]) < 300)


def test_emerging_hot_spots_find_the_new_cluster_and_hide_figures_from_the_council(planted):
    data = _emerging(planted, "analyste")
    assert data["slices"][0] == "janvier 2021" and data["slices"][-1] == "décembre 2023"
    near = [f for f in data["features"] if _near_centre(f)]
    assert near and {f["properties"]["class"] for f in near} == {"chaud_nouveau"}
    assert all(not _near_centre(f) for f in data["features"] if f["properties"]["class"] != "chaud_nouveau")
    series = near[0]["properties"]["series"]
    assert len(series) == 36 and series[-1]["significatif"] == "chaud" and "z" in series[-1]
    assert "Nouveau point chaud" in data["method"]["classes"]

    council = _emerging(planted, "conseil")
    assert [f["properties"]["class"] for f in council["features"]] == [
        f["properties"]["class"] for f in data["features"]
    ]
    for feature in council["features"]:
        assert "tendance_p" not in feature["properties"]
        for point in feature["properties"]["series"]:
            assert set(point) == {"periode", "count"}
            assert point["count"] == 0 or isinstance(point["count"], str) or point["count"] >= 5


def test_the_council_series_are_the_protected_counts_of_the_hexagon_map(planted):
    from observatoire.events import hexgrid

    council = _emerging(planted, "conseil")
    feature = next(f for f in council["features"] if _near_centre(f))
    p = feature["properties"]
    month = EventFilter(
        sources=("pn",), categories=("cambriolages",), start=date(2023, 3, 1), end=date(2023, 3, 31)
    )
    hexes = hexgrid.hex_counts(planted, month, 150, "conseil")
    on_map = {
        (h["properties"]["i"], h["properties"]["j"]): h["properties"]["count"] for h in hexes["features"]
    }
    assert p["series"][26]["periode"] == "mars 2023"
    assert p["series"][26]["count"] == on_map.get((p["i"], p["j"]), 0)
    # quarters: each slice is the map's quarter, protected with the months and the year it belongs to
    f = EventFilter(
        sources=("pn",), categories=("cambriolages",), start=date(2021, 1, 1), end=date(2023, 12, 31)
    )
    quarterly = spacetime.emerging_hot_spots(planted, f, "conseil", slice="quarter", cell=150)
    quarter = EventFilter(
        sources=("pn",), categories=("cambriolages",), start=date(2022, 4, 1), end=date(2022, 6, 30)
    )
    hexes = hexgrid.hex_counts(planted, quarter, 150, "conseil")
    on_map = {
        (h["properties"]["i"], h["properties"]["j"]): h["properties"]["count"] for h in hexes["features"]
    }
    assert quarterly["slices"][5] == "2e trimestre 2022"
    for feature in quarterly["features"]:
        q = feature["properties"]
        assert q["series"][5]["count"] == on_map.get((q["i"], q["j"]), 0)


def test_near_repeat_is_for_analysts_only(planted, monkeypatch):
    result = spacetime.near_repeat(planted, PN, "analyste", permutations=99, with_chains=True)
    assert result["evenements"] == 3660 and len(result["table"]) == 6 * 5
    first = result["table"][0]
    assert first["distance"] == "même lieu" and first["delai"] == "0 à 7 j"
    assert result["table"][5]["distance"] == "1 à 100 m" and result["table"][10]["distance"] == "101 à 200 m"
    assert result["delais"] == ["0 à 7 j", "8 à 14 j", "15 à 21 j", "22 à 28 j", "plus de 28 j"]
    with pytest.raises(PermissionDenied):
        spacetime.near_repeat(planted, PN, "conseil")
    monkeypatch.setattr(spacetime, "MAX_KNOX_EVENTS", 1000)
    with pytest.raises(InputFileError, match="Trop d'événements"):
        spacetime.near_repeat(planted, PN, "analyste", permutations=9)


def test_data_clock_spreads_unknown_times_and_protects_for_the_council(planted):
    data = spacetime.data_clock(planted, PN, "analyste")
    assert sum(map(sum, data["jour_heure"])) == pytest.approx(3660, abs=0.5)
    assert data["annees"] == [2021, 2022, 2023] and sum(map(sum, data["mois_annee"])) == 3660
    council = spacetime.data_clock(planted, PN, "conseil")
    flat = [v for row in council["jour_heure"] for v in row]
    assert all(v == 0 or isinstance(v, str) or v >= 5 for v in flat)
    assert council["mois_annee"][2][11] == 160


def test_alerts_find_the_december_rise(planted):
    data = spacetime.alerts(planted, "analyste")
    assert data["dernier_mois"] == "décembre 2023"
    commune = [a for a in data["alertes"] if a["zone_libelle"] == "Commune" and a["type_periode"] == "mois"]
    assert commune and commune[0]["effectif"] == 160 and commune[0]["rapport"] > 1.4
    council = spacetime.alerts(planted, "conseil")
    assert council["alertes"] and all("effectif" not in a and "ampleur" in a for a in council["alertes"])


def test_cli_emerging_and_alerts(cli_env, planted):
    result = run_cli(
        "hotspots", "--source", "pn", "--category", "cambriolages", "--method", "emerging",
        "--from", "2021-01-01", "--to", "2023-12-31", "--slice", "quarter", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["slices"]) == 12 and data["cells"]
    assert {c["class"] for c in data["cells"]} >= {"chaud_nouveau"}
    result = run_cli("alerts", "--source", "pn", "--format", "table")
    assert result.exit_code == 0, result.output
    assert "Hausses significatives (dernier mois : décembre 2023)" in result.output
    result = run_cli("alerts", "--format", "json", "--month", "2023-11")
    assert result.exit_code == 0 and json.loads(result.output)["dernier_mois"] == "novembre 2023"
    assert run_cli("alerts", "--month", "onze").exit_code != 0
