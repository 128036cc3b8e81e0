"""Hot spots on a synthetic pattern with a planted cluster: Gi* flags the cluster and little else, the
kernel density peaks on it; parameters travel with the results; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sqlalchemy as sa

from observatoire.events import density, hexgrid, hotspots
from observatoire.events.filter import EventFilter
from tests.conftest import run_cli
from tests.events_helpers import CENTRE_L93, insert_pn_facts, square_outline

X0, Y0 = CENTRE_L93
CLUSTER = (X0 + 1000.0, Y0 + 800.0)
SIGMA = 120.0


@pytest.fixture
def planted(engine):
    """3,000 events spread uniformly over a 6 km square commune, 400 more around one spot."""
    rng = np.random.default_rng(2024)
    square_outline(engine, "COM:04112", X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000)
    insert_pn_facts(engine, rng.uniform(X0 - 3000, X0 + 3000, 3000), rng.uniform(Y0 - 3000, Y0 + 3000, 3000))
    insert_pn_facts(engine, rng.normal(CLUSTER[0], SIGMA, 400), rng.normal(CLUSTER[1], SIGMA, 400))
    return engine


def _distance_to_cluster(props, size):
    x, y = hexgrid.cell_centres(np.array([props["i"]]), np.array([props["j"]]), size)
    return float(np.hypot(x[0] - CLUSTER[0], y[0] - CLUSTER[1]))


def test_gi_star_flags_the_planted_cluster_and_little_else(planted):
    size = 150.0
    result = hotspots.getis_ord(
        planted, EventFilter(), "analyste", cell=size, permutations=999, all_cells=True
    )
    cells = [f["properties"] for f in result["features"]]
    assert len(cells) == result["method"]["cellules"] > 500
    hot = [c for c in cells if c["class"].startswith("chaud")]
    near = [c for c in cells if _distance_to_cluster(c, size) < 200]
    assert near and all(c["class"] == "chaud_99" for c in near)
    # a hot cell counts its neighbours: the cluster (3 sigma) plus one ring of cells is where hot cells belong
    far_hot = [c for c in hot if _distance_to_cluster(c, size) > 3 * SIGMA + 2 * size * 3**0.5]
    assert len(far_hot) / len(hot) <= 0.05, far_hot
    assert len(hot) <= 40
    cold = [c for c in cells if c["class"].startswith("froid")]
    assert len(cold) / len(cells) <= 0.05
    method = result["method"]
    assert (
        method["taille_cellule_m"] == size and method["permutations"] == 999 and method["evenements"] == 3400
    )
    assert "Benjamini" in method["correction"] and "contiguïté" in method["voisinage"]
    assert method["zone_etudiee"] == "contour de COM:04112"
    legend = {entry["class"]: entry["cells"] for entry in result["legend"]}
    assert legend["chaud_99"] + legend["chaud_95"] + legend["chaud_90"] == len(hot)
    again = hotspots.getis_ord(
        planted, EventFilter(), "analyste", cell=size, permutations=999, all_cells=True
    )
    assert again["features"] == result["features"]  # fixed seed


def test_gi_star_on_a_uniform_pattern_finds_almost_nothing(engine):
    rng = np.random.default_rng(5)
    square_outline(engine, "COM:04112", X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000)
    insert_pn_facts(engine, rng.uniform(X0 - 3000, X0 + 3000, 3000), rng.uniform(Y0 - 3000, Y0 + 3000, 3000))
    result = hotspots.getis_ord(engine, EventFilter(), cell=150.0, permutations=0, all_cells=True)
    significant = [f for f in result["features"] if f["properties"]["class"] != "non_significatif"]
    assert len(significant) / len(result["features"]) <= 0.02


def test_too_few_events_say_so(engine):
    insert_pn_facts(engine, [X0] * 5, [Y0] * 5)
    result = hotspots.getis_ord(engine, EventFilter())
    assert result["features"] == [] and "Trop peu" in result["message"]


def test_kernel_density_peaks_on_the_planted_cluster(planted):
    result = density.kernel_density(planted, EventFilter(), "analyste", shape=(500, 500))
    peak = result["peak"]
    assert np.hypot(peak["x"] - CLUSTER[0], peak["y"] - CLUSTER[1]) < 100
    method = result["method"]
    assert "Scott" in method["regle_largeur_de_bande"] and 20 < method["largeur_de_bande_m"] < 1000
    assert method["evenements"] == 3400 and method["grille"] == "500 × 500"
    levels = [f["properties"]["level"] for f in result["features"]]
    assert levels == sorted(levels) and 1 <= len(levels) <= density.DEFAULT_LEVELS
    top = result["features"][-1]["geometry"]
    assert top["type"] in ("Polygon", "MultiPolygon")
    given = density.kernel_density(planted, EventFilter(), bandwidth=250.0, shape=(200, 200))
    assert (
        given["method"]["largeur_de_bande_m"] == 250.0
        and "utilisateur" in given["method"]["regle_largeur_de_bande"]
    )


def test_density_grid_keeps_the_mass_and_an_isolated_event_stays_below_the_floor():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 300, 1000), rng.normal(0, 300, 1000)
    grid = density.density_grid(x, y, (-3000, -3000, 3000, 3000), (300, 300), bandwidth=100.0)
    dx, dy = grid["cell_m"]
    assert grid["density"].sum() * dx * dy / 1e6 == pytest.approx(1000, rel=1e-3)
    lone = density.density_grid(
        np.array([0.0]), np.array([0.0]), (-3000, -3000, 3000, 3000), (300, 300), 100.0
    )
    assert lone["density"].max() == pytest.approx(lone["kernel_peak"])
    assert lone["density"].max() < 5 * lone["kernel_peak"]


def test_cli_hotspots(cli_env, planted):
    result = run_cli(
        "hotspots",
        "--source",
        "pn",
        "--category",
        "cambriolages",
        "--cell",
        "150",
        "--permutations",
        "99",
        "--format",
        "geojson",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["type"] == "FeatureCollection" and data["method"]["taille_cellule_m"] == 150
    props = data["features"][0]["properties"]
    assert {"count", "z", "p", "class", "class_label"} <= set(props)
    result = run_cli(
        "hotspots",
        "--source",
        "pn",
        "--method",
        "kde",
        "--from",
        "2023-01-01",
        "--to",
        "2023-12-31",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["method"]["filtres"]["periode"] == "du 01/01/2023 au 31/12/2023" and data["peak"]
    result = run_cli("hotspots", "--source", "inconnue")
    assert result.exit_code != 0 and "Source inconnue" in result.output


def test_the_study_grid_follows_a_new_outline_of_the_commune(engine):
    square_outline(engine, "COM:04112", X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000)
    insert_pn_facts(engine, [X0] * 10, [Y0] * 10)
    f = EventFilter()
    with engine.connect() as conn:
        small = hotspots.grid_counts(conn, f, 200.0, "COM:04112")
        assert len(hotspots.grid_counts(conn, f, 200.0, "COM:04112")) == len(small)
    with engine.begin() as conn:  # a new outline is imported: four times the area
        conn.execute(
            sa.text(
                "UPDATE obs.territory SET geom = ST_Multi(ST_Transform(ST_MakeEnvelope(:a, :b, :c, :d, "
                "2154), 4326)) WHERE code = 'COM:04112'"
            ),
            {"a": X0 - 2000, "b": Y0 - 2000, "c": X0 + 2000, "d": Y0 + 2000},
        )
    with engine.connect() as conn:
        large = hotspots.grid_counts(conn, f, 200.0, "COM:04112")
    assert 3 * len(small) < len(large) < 5 * len(small)
    assert small["count"].sum() == large["count"].sum() == 10
