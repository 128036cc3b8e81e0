"""Time video-protection's hot paths in a throwaway database, against peers in the same run.

- coverage: 200 cameras (discs and sectors) against the Gi* hot-spot cells of 100,000 events
  (``coverage.classify``: STRtree query, vectorised intersections, a union only where cameras overlap),
  against a plain ``geopandas.overlay`` of the same two layers dissolved per cell; both on the hot cells and on
  every cell of the grid, with the largest difference of covered share between the two;
- the register: 50,000 requisitions, what opening the page asks (indicators: summary, per month, authority,
  category, camera, quartier; the first page of the register) and ~20 filter changes (period, authority,
  category, camera, beyond retention), against reading the whole register into pandas and filtering there.

Run: ``.venv/bin/python benchmarks/bench_videoprotection.py [--events 100000] [--cameras 200]
[--requisitions 50000]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def _best(fn, *args, runs: int = 5, **kwargs):
    times = []
    for _ in range(runs):
        t, result = _timed(fn, *args, **kwargs)
        times.append(t)
    return min(times), statistics.median(times), result


def load_cameras(engine, n: int, seed: int = 2) -> None:
    from bench_hotspots import CENTRE

    from observatoire.videoprotection import inventory

    rng = np.random.default_rng(seed)
    kinds = np.array(["fixe", "dome", "lapi"])[rng.integers(0, 3, n)]
    with engine.begin() as conn:
        for k in range(n):
            direction = float(rng.integers(0, 360)) if kinds[k] != "dome" and rng.random() < 0.5 else None
            entry = inventory.CameraEntry(
                code=f"B{k:04d}",
                name=f"Caméra {k}",
                kind=str(kinds[k]),
                lon=float(rng.normal(CENTRE[0], 0.012)),
                lat=float(rng.normal(CENTRE[1], 0.009)),
                direction_deg=direction,
                range_m=float(rng.integers(3, 11) * 10) if rng.random() < 0.6 else None,
                commissioned_on=date(2018, 1, 1),
            )
            inventory.insert(conn, entry, user="bench")


def load_requisitions(engine, n: int) -> None:
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text("""
            INSERT INTO obs.video_requisition (requested_on, authority, procedure_ref, images_from, images_to, category,
                images_found, handed_over_on, usable, natural_key, created_by)
            SELECT d, (ARRAY['police_nationale','gendarmerie','parquet_juge','douanes','police_municipale'])[1 + k % 5],
                   'PV ' || extract(year FROM d) || '/' || lpad(k::text, 6, '0'),
                   d - make_interval(days => CASE WHEN k % 23 = 0 THEN 40 ELSE 1 + k % 9 END),
                   d - make_interval(days => CASE WHEN k % 23 = 0 THEN 40 ELSE 1 + k % 9 END) + interval '3 hours',
                   (ARRAY['atteintes_personnes','vols_violents','cambriolages','vols_vehicules','vols_simples',
                          'degradations','stupefiants','circulation','autres'])[1 + k % 9],
                   k % 7 <> 0, CASE WHEN k % 7 <> 0 THEN d + 3 END,
                   (ARRAY['oui','non','inconnu'])[1 + k % 3], 'bench-' || k, 'bench'
            FROM (SELECT k, date '2019-01-01' + (k * 2191 / :n) AS d FROM generate_series(1, :n) k) s"""),
            {"n": n},
        )
        conn.execute(
            sa.text("""
            INSERT INTO obs.video_requisition_camera (requisition_id, camera_id)
            SELECT r.id, c.id FROM obs.video_requisition r
            JOIN LATERAL (SELECT id FROM obs.video_camera ORDER BY (id * 7919 + r.id * 104729) % 1000 LIMIT 1 + r.id % 2) c
              ON true"""),
        )


def overlay_share(cells, cams, size: float) -> np.ndarray:
    """The peer: a plain geopandas overlay of the cells and the cameras' areas, dissolved per cell."""
    import geopandas as gpd

    from observatoire.events.hexgrid import cell_area_m2
    from observatoire.videoprotection import coverage, inventory

    hexes = gpd.GeoDataFrame(
        {"cell": np.arange(len(cells))},
        geometry=coverage.cell_polygons(cells["i"].to_numpy(), cells["j"].to_numpy(), size),
        crs=2154,
    )
    areas = gpd.GeoDataFrame(
        geometry=inventory.coverage_areas(
            cams["x"].to_numpy(),
            cams["y"].to_numpy(),
            cams["reach_m"].to_numpy(),
            cams["direction_deg"].astype(float).to_numpy(),
        ),
        crs=2154,
    )
    pieces = gpd.overlay(hexes, areas, how="intersection", keep_geom_type=True)
    seen = pieces.dissolve("cell").area / cell_area_m2(size)
    share = np.zeros(len(cells))
    share[seen.index.to_numpy()] = seen.to_numpy()
    return share


def bench_coverage(engine) -> None:
    from observatoire.events.filter import EventFilter
    from observatoire.videoprotection import coverage, inventory

    size = 150.0
    cams = inventory.cameras(engine, on=date(2024, 6, 1))
    t_gi, (cells, _) = _timed(coverage.hot_cells, engine, EventFilter(), "analyste", size)
    hot = cells[cells["class"].isin(coverage.HOT)].reset_index(drop=True)
    print(
        f"Couverture : {len(cams)} caméras, {len(cells)} cellules de {size:g} m dont {len(hot)} points chauds "
        f"(Gi* : {t_gi * 1000:.0f} ms, hors mesure)"
    )
    for name, layer in (("points chauds", hot), ("toutes les cellules", cells)):
        ours_best, ours_med, ours = _best(coverage.classify, layer, cams, size)
        peer_best, peer_med, peer = _best(overlay_share, layer, cams, size, runs=3)
        diff = float(np.abs(ours["share"].to_numpy() - peer).max()) if len(layer) else 0.0
        print(
            f"    {name} ({len(layer)}) : classify {ours_best * 1000:.1f} ms (médiane {ours_med * 1000:.1f}), "
            f"geopandas.overlay {peer_best * 1000:.0f} ms (médiane {peer_med * 1000:.0f}) : ×{peer_best / ours_best:.0f} ; "
            f"couvertes {int(ours['covered'].sum())} ; écart maximal de part couverte {diff:.2e}"
        )
    t_cams, _ = _timed(inventory.cameras, engine, date(2024, 6, 1))
    print(f"    lecture de l'inventaire (positions, IRIS, QPV, réquisitions) : {t_cams * 1000:.0f} ms")


def _open_page(engine, years):
    from observatoire.videoprotection import indicators, register

    indicators.summary(engine, years, 30)
    for by in ("month", "authority", "category", "camera", "quartier"):
        indicators.counts(engine, years, by)
    return register.listing(engine, register.RegisterFilter(), 30)


def _pandas_register(engine, f):
    """The peer: the whole register read into pandas, then filtered there."""
    import pandas as pd
    import sqlalchemy as sa

    with engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text("""
            SELECT r.*, (SELECT string_agg(c.code, ', ') FROM obs.video_requisition_camera x
                         JOIN obs.video_camera c ON c.id = x.camera_id WHERE x.requisition_id = r.id) AS cameras
            FROM obs.video_requisition r"""),
            conn,
        )
    keep = pd.Series(True, index=frame.index)
    if f.start:
        keep &= frame["requested_on"] >= f.start
    if f.end:
        keep &= frame["requested_on"] <= f.end
    if f.authority:
        keep &= frame["authority"] == f.authority
    if f.camera:
        keep &= frame["cameras"].fillna("").str.split(", ").map(lambda v: f.camera in v)
    if f.flagged_only:
        keep &= frame["images_from"].dt.date < frame["requested_on"] - timedelta(days=30)
    return frame[keep].sort_values(["requested_on", "id"], ascending=False).head(1000)


def bench_register(engine) -> None:
    from observatoire.videoprotection import register

    with engine.connect() as conn:
        import sqlalchemy as sa

        n = conn.execute(sa.text("SELECT count(*) FROM obs.video_requisition")).scalar()
    years = [2020, 2021, 2022, 2023, 2024]
    t_open, t_open_med, _ = _best(_open_page, engine, years, runs=3)
    print(f"Registre : {n} réquisitions")
    print(
        f"    ouverture de la page (indicateurs + première page du registre) : {t_open * 1000:.0f} ms "
        f"(médiane {t_open_med * 1000:.0f} ms)"
    )
    from observatoire.videoprotection import indicators

    parts = {"summary": _timed(indicators.summary, engine, years, 30)[0]}
    for by in ("month", "authority", "category", "camera", "quartier"):
        parts[by] = _timed(indicators.counts, engine, years, by)[0]
    parts["registre"] = _timed(register.listing, engine, register.RegisterFilter(), 30)[0]
    print("    dont : " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items()))
    rng = np.random.default_rng(4)
    filters = []
    for k in range(20):
        start = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 1800)))
        filters.append(
            register.RegisterFilter(
                start=start if k % 2 else None,
                end=start + timedelta(days=int(rng.integers(30, 400))) if k % 2 else None,
                authority=["police_nationale", "gendarmerie", None][k % 3],
                camera=f"B{int(rng.integers(0, 200)):04d}" if k % 4 == 0 else None,
                flagged_only=k % 5 == 0,
            )
        )
    ours = [_timed(register.listing, engine, f, 30)[0] for f in filters]
    peer = [_timed(_pandas_register, engine, f)[0] for f in filters[:5]]
    print(
        f"    filtres ({len(filters)}) : médiane {statistics.median(ours) * 1000:.0f} ms, max {max(ours) * 1000:.0f} ms ; "
        f"tout lire dans pandas puis filtrer : médiane {statistics.median(peer) * 1000:.0f} ms "
        f"(×{statistics.median(peer) / statistics.median(ours):.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--requisitions", type=int, default=50_000)
    args = parser.parse_args()

    from bench_hotspots import load_events
    from throwaway import database, vacuum

    from sample_data import reference

    with database("video") as (_settings, engine, admin):
        reference.load(engine, Path(__file__).resolve().parents[1] / "sample_data" / "files", "bench")
        load_events(engine, args.events)
        load_cameras(engine, args.cameras)
        load_requisitions(engine, args.requisitions)
        vacuum(admin)
        bench_coverage(engine)
        bench_register(engine)


if __name__ == "__main__":
    main()
