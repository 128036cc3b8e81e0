"""Time the map's hot paths on 1,000,000 events in a throwaway database, against peers in the same run.

- filtered hexagon counts (the query behind every filter change): p50/p95 over ~20 varied filters in SQL,
  against a spatial join on ``ST_HexagonGrid`` for a few of them, then with the events held in memory
  (``observatoire.events.store``, what the application does);
- Getis-Ord Gi* on ~100,000 events at 100 m cells, end to end (query, weights, statistic), with the
  weights also built by ``libpysal.weights.Queen`` from the hexagon polygons for comparison;
- kernel density on a 500 × 500 grid (binning + FFT) against ``scipy.stats.gaussian_kde`` on a subsample
  evaluated on the same grid.

- the map page's filter-change callback through HTTP: the application served by waitress, logged in as an
  analyst and as a council member, ``POST /_dash-update-component`` with the CSRF header, for the
  hexagon mode (the default) and the other modes.

Run: ``.venv/bin/python benchmarks/bench_hotspots.py [--events 1000000] [--runs 20]``.

Measured on the shared 2-core machine, 1,000,000 events, 40 filter changes per role (a quiet run; runs
while another process loaded the CPU gave p95 up to 129 ms and 165 ms):

- hexagon counts in SQL: median 261–269 ms, p95 909–932 ms; in memory: median 17–18 ms, p95 52–56 ms
  (loading the copy: 3.1 s, once per version of the data). Against a spatial join on ST_HexagonGrid:
  ×27 and ×123.
- HTTP, hexagons: analyst median 57 ms, p95 88 ms, max 128 ms; council median 57 ms, p95 114 ms, max
  210 ms (answers of 184 to 633 KiB). Other modes, medians: IRIS 24 ms, density 78–90 ms, Gi* 137–139 ms.
- Gi* on 116,714 events, 3,176 cells of 100 m: 443 ms end to end (999 permutations 284 ms); weights ×8
  faster than libpysal Queen.from_dataframe, same neighbours.
- KDE 500 × 500: 21 ms (binning + FFT), ×142 faster than gaussian_kde on 2,000 events; 280 ms end to end.
- after the copy is parsed by Arrow instead of pandas (codes numbered by Arrow too): loading it takes 1.6 s
  instead of 3.1 s; in memory, median 20 ms, p95 68–97 ms; HTTP, hexagons, median 49–51 ms, p95 64–66 ms, the
  first request of a new version of the data (load included) 1.8 s.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

CENTRE = (5.787, 43.834)
HOTSPOTS = [
    ((5.7870, 43.8340), 0.0013, 0.25),
    ((5.7985, 43.8250), 0.0010, 0.10),
    ((5.7680, 43.8270), 0.0018, 0.10),
    ((5.7970, 43.8345), 0.0012, 0.05),
]
PN_CATEGORIES = [
    "cambriolages",
    "vols_simples",
    "vols_dans_vehicules",
    "destructions_degradations",
    "violences_physiques",
    "stupefiants",
    "vols_vehicules",
    "menaces",
    "violences_intrafamiliales",
]
PM_TYPES = [
    ("nuisances_sonores", "tranquillite"),
    ("stationnement_genant", "circulation"),
    ("depots_sauvages", "cadre_de_vie"),
    ("rassemblements", "tranquillite"),
]


def _positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Half spread over the town, half in four hot spots (old town, station, commercial zone, QPV)."""
    lon = rng.normal(CENTRE[0], 0.015, n)
    lat = rng.normal(CENTRE[1], 0.011, n)
    pick = rng.random(n)
    edge = 0.0
    for (x, y), spread, share in HOTSPOTS:
        chosen = (pick >= edge) & (pick < edge + share)
        lon[chosen] = rng.normal(x, spread * 1.38, chosen.sum())
        lat[chosen] = rng.normal(y, spread, chosen.sum())
        edge += share
    return lon, lat


def _copy(engine, table: str, columns: str, text: str) -> None:
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY obs.{table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(text)


def load_events(engine, n: int, seed: int = 1) -> None:
    """70 % police nationale facts, 30 % police municipale interventions, 2019–2024 in date order, by COPY."""
    import pandas as pd
    import sqlalchemy as sa

    rng = np.random.default_rng(seed)
    with engine.begin() as conn:
        batch = conn.execute(
            sa.text(
                "INSERT INTO obs.import_batch (source, file_name, sha256, status) "
                "VALUES ('bench', 'synthetique', 'x', 'importe') RETURNING id"
            )
        ).scalar_one()
    seconds = int((datetime(2025, 1, 1) - datetime(2019, 1, 1)).total_seconds())
    for table, share in (("pn_fact", 0.7), ("pm_intervention", 0.3)):
        m = int(n * share)
        lon, lat = _positions(rng, m)
        # sorted: exports are imported in chronological order, so a period is a range of neighbouring pages
        when = pd.to_datetime(datetime(2019, 1, 1)) + pd.to_timedelta(
            np.sort(rng.integers(0, seconds, m)), unit="s"
        )
        frame = pd.DataFrame({"occurred_at": when.strftime("%Y-%m-%d %H:%M:%S"), "time_known": "t"})
        if table == "pn_fact":
            cats = np.array(PN_CATEGORIES)[rng.integers(0, len(PN_CATEGORIES), m)]
            family = np.where(
                np.isin(cats, ["violences_physiques", "menaces", "violences_intrafamiliales"]),
                "avip",
                np.where(cats == "stupefiants", "stupefiants", "biens"),
            )
            frame = frame.assign(
                label=cats,
                label_key=cats,
                category_code=cats,
                family_code=family,
                sensitive=np.where(cats == "violences_intrafamiliales", "t", "f"),
            )
            columns = "occurred_at, time_known, label, label_key, category_code, family_code, sensitive"
        else:
            pick = rng.integers(0, len(PM_TYPES), m)
            types = np.array([t for t, _ in PM_TYPES])[pick]
            frame = frame.assign(
                label=types,
                label_key=types,
                type_code=types,
                family_code=np.array([f for _, f in PM_TYPES])[pick],
            )
            columns = "occurred_at, time_known, label, label_key, type_code, family_code"
        frame["geom"] = [f"SRID=4326;POINT({a:.6f} {b:.6f})" for a, b in zip(lon, lat, strict=True)]
        frame["geocoding_status"] = "coordonnees"
        frame["natural_key"] = [f"{table}-{k}" for k in range(m)]
        frame["batch_id"] = batch
        buffer = io.StringIO()
        frame.to_csv(buffer, header=False, index=False)
        _copy(engine, table, columns + ", geom, geocoding_status, natural_key, batch_id", buffer.getvalue())


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def _filters(runs: int):
    from observatoire.events.filter import EventFilter

    variety = [
        (EventFilter(), 150),
        (
            EventFilter(
                sources=("pn",),
                categories=("cambriolages",),
                start=date(2023, 1, 1),
                end=date(2023, 12, 31),
                hours=(18, 6),
            ),
            150,
        ),
        (EventFilter(families=("biens",), start=date(2022, 1, 1), end=date(2023, 12, 31)), 150),
        (EventFilter(weekdays=(6, 7), hours=(20, 4)), 100),
        (EventFilter(sources=("pm",)), 250),
        (EventFilter(categories=("vols_simples",), hours=(8, 12)), 150),
        (EventFilter(start=date(2024, 6, 1), end=date(2024, 8, 31)), 100),
        (EventFilter(sources=("pn",), families=("avip",)), 150),
        (EventFilter(categories=("stupefiants", "destructions_degradations"), weekdays=(5, 6)), 200),
        (EventFilter(start=date(2021, 1, 1), end=date(2021, 12, 31), sources=("pn", "pm")), 150),
    ]
    return [variety[k % len(variety)] for k in range(runs)]


def bench_hexagons(engine, runs: int) -> None:
    import sqlalchemy as sa

    from observatoire.events import hexgrid
    from observatoire.events.filter import where

    for role in ("analyste", "conseil"):
        times, cells = [], []
        for f, size in _filters(runs):
            seconds, layer = _timed(hexgrid.hex_counts, engine, f, size, role)
            times.append(seconds)
            cells.append(layer["cells"])
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(
            f"hexagones ({role:<8}) : {len(times)} filtres, médiane {statistics.median(times) * 1000:6.0f} ms, "
            f"p95 {p95 * 1000:6.0f} ms, max {times[-1] * 1000:6.0f} ms ({min(cells)} à {max(cells)} cellules)"
        )
    print("  pair : jointure spatiale sur ST_HexagonGrid (mêmes filtres, comptages seuls)")
    for f, size in _filters(runs)[1:3]:
        cond, params = where(f)
        params["s"] = size
        ours, _ = _timed(lambda f=f, size=size: hexgrid.count_cells(engine.connect(), f, size))
        with engine.connect() as conn:
            peer, _ = _timed(
                lambda cond=cond, params=params, conn=conn: conn.execute(
                    sa.text(f"""
                WITH ev AS MATERIALIZED (SELECT e.geom_l93 FROM obs.event e WHERE {cond} AND e.geom_l93 IS NOT NULL)
                SELECT g.i, g.j, count(*) FROM ev
                JOIN ST_HexagonGrid(:s, (SELECT ST_SetSRID(ST_Extent(geom_l93)::geometry, 2154) FROM ev)) g
                  ON ST_Intersects(g.geom, ev.geom_l93) GROUP BY 1, 2"""),
                    params,
                ).all()
            )
        print(f"    {ours * 1000:7.0f} ms contre {peer * 1000:7.0f} ms : ×{peer / ours:.1f}")


def bench_memory(engine, runs: int) -> None:
    """The same filters with the events held in memory (what the application does), after one load."""
    from observatoire.events import hexgrid
    from observatoire.events import store as event_store

    event_store.enable(engine)
    with engine.connect() as conn:
        t_load, snap = _timed(event_store.snapshot, conn)
    print(
        f"  en mémoire : chargement de {len(snap)} événements {t_load:.1f} s (une fois par version des données)"
    )
    for role in ("analyste", "conseil"):
        times = sorted(_timed(hexgrid.hex_counts, engine, f, size, role)[0] for f, size in _filters(runs))
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(
            f"hexagones en mémoire ({role:<8}) : médiane {statistics.median(times) * 1000:5.0f} ms, "
            f"p95 {p95 * 1000:5.0f} ms, max {times[-1] * 1000:5.0f} ms"
        )
    event_store.disable(engine)


def _callback_body(app, f, size: int, mode: str = "hexagones") -> dict:
    callback = app.callback_map[next(k for k in app.callback_map if "carte-couches.children" in k)]
    values = {
        "carte-sources": list(f.sources) or ["pn", "pm", "routes"],
        "carte-periode": {
            "start_date": f.start.isoformat() if f.start else None,
            "end_date": f.end.isoformat() if f.end else None,
        },
        "carte-categories": list(f.categories),
        "carte-familles": list(f.families),
        "carte-heure-debut": f.hours[0] if f.hours else 0,
        "carte-heure-fin": f.hours[1] if f.hours else 0,
        "carte-jours": list(f.weekdays),
        "carte-mode": mode,
        "carte-cellule": size,
        "carte-classes": "quantiles",
    }

    def value(i):
        v = values[i["id"]]
        return v[i["property"]] if isinstance(v, dict) else v

    key = next(k for k in app.callback_map if "carte-couches.children" in k)
    return {
        "output": key,
        "outputs": [
            {"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")
        ],
        "inputs": [{**i, "value": value(i)} for i in callback["inputs"]],
        "state": [],
        "changedPropIds": ["carte-jours.value"],
    }


def bench_http(settings, runs: int) -> None:
    """A filter change of the map page as the browser sends it: POST /_dash-update-component to the
    application served by waitress (as ``observatoire serve``), logged in, CSRF header, JSON answer parsed.
    The round trip on localhost bounds the server time from above."""
    import re
    import threading

    import requests
    from waitress.server import create_server

    from dashboard.app import create_app
    from dashboard.security import CSRF_COOKIE, CSRF_HEADER
    from observatoire.auth import add_user
    from observatoire.db import get_engine

    app = create_app(settings)
    password = "banc-d-essai-mot-de-passe"
    for role in ("analyste", "conseil"):
        add_user(get_engine(settings), f"banc-{role}", role, password)
    server = create_server(app.server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        for role in ("analyste", "conseil"):
            session = requests.Session()
            token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(base + "/login").text).group(
                1
            )
            session.post(
                base + "/login", data={"username": f"banc-{role}", "password": password, "csrf_token": token}
            )
            session.get(base + "/carte")
            headers = {"Content-Type": "application/json", CSRF_HEADER: session.cookies.get(CSRF_COOKIE)}

            def post(f, size, mode="hexagones", session=session, headers=headers):
                answer = session.post(
                    base + "/_dash-update-component", headers=headers, json=_callback_body(app, f, size, mode)
                )
                assert answer.status_code == 200, answer.text[:300]
                return answer

            t_first, _ = _timed(post, *_filters(1)[0])
            times, sizes = [], []
            for f, size in _filters(runs):
                seconds, answer = _timed(post, f, size)
                times.append(seconds)
                sizes.append(len(answer.content))
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(
                f"HTTP, changement de filtre ({role:<8}) : {len(times)} requêtes, médiane "
                f"{statistics.median(times) * 1000:5.0f} ms, p95 {p95 * 1000:5.0f} ms, max {times[-1] * 1000:5.0f} ms "
                f"(réponses de {min(sizes) // 1024} à {max(sizes) // 1024} Kio ; première requête, chargement "
                f"compris : {t_first:.1f} s)"
            )
            for mode in ("points_chauds", "densite", "iris"):
                t_mode = sorted(_timed(post, f, size, mode)[0] for f, size in _filters(min(runs, 10)))
                print(
                    f"    mode {mode:<13} : médiane {statistics.median(t_mode) * 1000:5.0f} ms, "
                    f"max {t_mode[-1] * 1000:5.0f} ms"
                )
    finally:
        server.close()


def bench_gi(engine) -> None:
    import geopandas as gpd
    import shapely
    from libpysal.weights import Queen

    from observatoire.events import hexgrid, hotspots
    from observatoire.events.filter import EventFilter

    f = EventFilter(sources=("pn",), start=date(2023, 1, 1), end=date(2023, 12, 31) - timedelta(days=0))
    with engine.connect() as conn:
        t_query, grid = _timed(hotspots.grid_counts, conn, f, 100.0, "COM:04112")
        outlines = hexgrid.outlines(grid, 100.0)
    t_w, w = _timed(hotspots.hex_weights, grid["i"], grid["j"])
    t_gi, _ = _timed(hotspots.gi_star, grid["count"].to_numpy(), w, 999)
    t_gi0, _ = _timed(hotspots.gi_star, grid["count"].to_numpy(), w, 0)
    t_all, result = _timed(hotspots.getis_ord, engine, f, "analyste", cell=100.0, permutations=999)
    print(f"Gi* : {int(grid['count'].sum())} événements, {len(grid)} hexagones de 100 m")
    print(
        f"    requête {t_query * 1000:.0f} ms, poids {t_w * 1000:.0f} ms, statistique (999 permutations) "
        f"{t_gi * 1000:.0f} ms, (analytique) {t_gi0 * 1000:.0f} ms"
    )
    print(
        f"    bout en bout (getis_ord, GeoJSON compris, {len(result['features'])} cellules) : {t_all * 1000:.0f} ms"
    )
    frame = gpd.GeoDataFrame(geometry=[shapely.geometry.shape(g) for g in outlines], crs=4326).to_crs(2154)
    t_queen, queen = _timed(Queen.from_dataframe, frame, use_index=False, silence_warnings=True)
    same = all(set(queen.neighbors[k]) == set(w.neighbors[k]) for k in range(len(grid)))
    print(
        f"    poids : grille (i, j) {t_w * 1000:.0f} ms contre libpysal Queen.from_dataframe "
        f"{t_queen * 1000:.0f} ms : ×{t_queen / t_w:.0f} (mêmes voisins : {'oui' if same else 'non'})"
    )


def bench_kde(engine, subsample: int) -> None:
    import sqlalchemy as sa
    from scipy.stats import gaussian_kde

    from observatoire.events import density
    from observatoire.events.filter import EventFilter

    f = EventFilter(sources=("pn",), start=date(2023, 1, 1), end=date(2023, 12, 31))
    with engine.connect() as conn:
        xy = np.array(
            conn.execute(
                sa.text(
                    "SELECT ST_X(geom_l93), ST_Y(geom_l93) FROM obs.event e WHERE e.source = 'pn' "
                    "AND e.occurred_at >= '2023-01-01' AND e.occurred_at < '2024-01-01'"
                )
            ).all()
        )
    x, y = xy[:, 0], xy[:, 1]
    bounds = (x.min(), y.min(), x.max(), y.max())
    times = [_timed(density.density_grid, x, y, bounds, (500, 500))[0] for _ in range(5)]
    grid = density.density_grid(x, y, bounds, (500, 500))
    t_fft = min(times)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(x), size=min(subsample, len(x)), replace=False)
    dx, dy = grid["cell_m"]
    gx = bounds[0] + (np.arange(500) + 0.5) * dx
    gy = bounds[1] + (np.arange(500) + 0.5) * dy
    mesh = np.vstack([np.repeat(gx[None, :], 500, 0).ravel(), np.repeat(gy[:, None], 500, 1).ravel()])
    kde = gaussian_kde(np.vstack([x[sample], y[sample]]))
    t_scipy, values = _timed(kde, mesh)
    corr = float(np.corrcoef(values, grid["density"].ravel())[0, 1])
    t_all, result = _timed(density.kernel_density, engine, f, "analyste")
    print(f"KDE 500 × 500 : {len(x)} événements, largeur de bande {grid['bandwidth_m']:.0f} m (Scott)")
    print(
        f"    binning + FFT {t_fft * 1000:.1f} ms (meilleur de 5) ; scipy.stats.gaussian_kde sur {len(sample)} "
        f"événements {t_scipy * 1000:.0f} ms : ×{t_scipy / t_fft:.0f} "
        f"(×{t_scipy / t_fft * len(x) / len(sample):.0f} extrapolé à tous) ; corrélation des deux grilles {corr:.3f}"
    )
    print(
        f"    bout en bout (kernel_density : requête, grille, {len(result['features'])} polygones) : "
        f"{t_all * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--subsample", type=int, default=2000)
    args = parser.parse_args()

    from throwaway import database, vacuum

    from sample_data import reference

    with database("hotspots") as (settings, engine, admin):
        reference.load(engine, Path(__file__).resolve().parents[1] / "sample_data" / "files", "bench")
        t_load, _ = _timed(load_events, engine, args.events)
        vacuum(admin)
        print(f"{args.events} événements chargés par COPY en {t_load:.1f} s")
        bench_hexagons(engine, args.runs)
        bench_memory(engine, args.runs)
        bench_gi(engine)
        bench_kde(engine, args.subsample)
        bench_http(settings, args.runs)


if __name__ == "__main__":
    main()
