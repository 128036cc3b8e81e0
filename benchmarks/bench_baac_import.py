"""Time the BAAC import of a national year at real size against a bare ``COPY`` of the same files.

A synthetic year in the 2019+ layout (~55,000 accidents, ~95,000 vehicles, ~125,000 users, plus the
places) is written to a temporary folder, then loaded on a throwaway PostGIS cluster twice: through
``ingest.baac`` (parse, checks, territories, geometry, natural keys) and as a raw ``COPY`` into text
tables. Run: ``.venv/bin/python benchmarks/bench_baac_import.py [--accidents 55000]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from observatoire import geo_codes
from sample_data.baac_writer import Accident, User, Vehicle, write_year

YEAR = 2021


def national_year(n_accidents: int, seed: int = 1) -> list[Accident]:
    """Accidents spread over every département, ~1.75 vehicles and ~2.25 users each, 95 % geolocated."""
    rng = random.Random(seed)
    deps = [d for d in geo_codes.DEPARTEMENTS if not d.startswith("97")]
    accidents = []
    vehicle_ref, user_ref = 150_000_000, 1_000_000
    for n in range(1, n_accidents + 1):
        dep = rng.choice(deps)
        insee = dep + f"{rng.randint(1, 400):03d}"
        located = rng.random() < 0.95
        acc = Accident(
            id=YEAR * 10**8 + n,
            year=YEAR,
            month=rng.randint(1, 12),
            day=rng.randint(1, 28),
            hour=rng.randint(0, 23),
            minute=rng.randint(0, 59),
            insee=insee,
            lat=rng.uniform(42.5, 50.9) if located else None,
            lon=rng.uniform(-4.5, 7.9) if located else None,
            lighting=rng.randint(1, 5),
            collision=rng.randint(1, 7),
            address=f"Route {rng.randint(1, 999)}",
        )
        for k in range(rng.choice((1, 2, 2, 2))):
            vehicle_ref += 1
            acc.vehicles.append(Vehicle(f"{'ABC'[k]}01", rng.choice((7, 7, 7, 33, 1, 10, 30)), vehicle_ref))
            for category in [1] + [2] * rng.choice((0, 0, 0, 1)):
                user_ref += 1
                acc.users.append(
                    User(
                        acc.vehicles[-1].letter,
                        category,
                        rng.choice((1, 1, 4, 4, 3, 2)),
                        YEAR - rng.randint(15, 90),
                        user_ref,
                        vehicle_ref,
                    )
                )
        if rng.random() < 0.05:
            user_ref += 1
            acc.users.append(
                User("A01", 3, rng.choice((3, 4)), YEAR - rng.randint(6, 90), user_ref, vehicle_ref)
            )
        accidents.append(acc)
    return accidents


def bare_copy(engine, paths: list[Path]) -> int:
    """COPY each file as is into a temporary table of text columns: the floor any importer is measured on."""
    rows = 0
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            for i, path in enumerate(paths):
                header = path.open(encoding="utf-8").readline().strip().replace('"', "").split(";")
                table = f"bench_copy_{i}"
                cur.execute(f"CREATE TEMP TABLE {table} ({', '.join(f'c_{c.lower()} text' for c in header)})")
                with (
                    cur.copy(
                        f"COPY {table} FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)"
                    ) as copy,
                    open(path, "rb") as fh,
                ):
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
                rows += cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                cur.execute(f"DROP TABLE {table}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accidents", type=int, default=55_000)
    args = parser.parse_args()

    from ingest.baac import import_baac
    from observatoire import migrate
    from observatoire.db import get_engine
    from observatoire.localdb import LocalCluster
    from observatoire.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="obs-bench-baac-"))
    work.chmod(0o755)  # the server account must reach the cluster when run as root
    cluster = LocalCluster(work / "home")
    try:
        t0 = time.perf_counter()
        accidents = national_year(args.accidents)
        paths = write_year(work / "files", YEAR, accidents)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"fichiers générés en {time.perf_counter() - t0:.1f} s : {len(accidents)} accidents, "
            f"{sum(len(a.vehicles) for a in accidents)} véhicules, {sum(len(a.users) for a in accidents)} usagers "
            f"({size:.1f} Mo)"
        )
        cluster.start()
        settings = Settings(environment="test", home=work / "home", tiles_url="none")
        migrate.upgrade(settings)
        engine = get_engine(settings)

        t0 = time.perf_counter()
        copied = bare_copy(engine, paths)
        t_copy = time.perf_counter() - t0

        t0 = time.perf_counter()
        reports = import_baac(engine, [work / "files"], user="bench")
        t_import = time.perf_counter() - t0
        inserted = sum(r.inserted for r in reports)
        assert inserted == copied, (inserted, copied)

        print(
            f"COPY brut            : {copied:>8} lignes en {t_copy:6.2f} s  ({copied / t_copy:>9,.0f} lignes/s)"
        )
        print(
            f"import observatoire  : {inserted:>8} lignes en {t_import:6.2f} s  ({inserted / t_import:>9,.0f} lignes/s)"
        )
        for r in reports:
            print(f"    {r.file_name:<28} {r.inserted:>8} insérées")
        print(f"rapport import / COPY brut : {t_import / t_copy:.1f}")
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
