"""The demonstration's road accidents look like counts and places: yearly totals vary, a site lists its roads."""

from __future__ import annotations

import math

from sample_data import baac


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return math.hypot((lat2 - lat1) * 111_320, (lon2 - lon1) * 111_320 * math.cos(math.radians(lat1)))


def test_demo_accidents_vary_by_year_and_each_planted_site_lists_its_own_roads(engine):
    from observatoire.road.indicators import yearly_indicators
    from observatoire.road.sites import dangerous_sites
    from sample_data import reference
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    baac.load(engine, FILES, "demo")

    yearly = yearly_indicators(engine, "COM:04112", (baac.YEARS[0], baac.YEARS[-1]))
    counts = [int(c) for c in yearly.accidents]
    assert len(counts) == len(baac.YEARS)
    assert len(set(counts)) >= 3, counts  # not the same figure every year
    for year, count in zip(yearly.annee, counts, strict=True):
        expected = baac.expected_accidents(int(year))
        assert abs(count - expected) <= 3 * math.sqrt(expected), (year, count)  # within Poisson noise

    sites = dangerous_sites(engine, "COM:04112", (baac.YEARS[0], baac.YEARS[-1]))["features"]
    for lat, lon, _per_year, roads in baac.SITES:
        found = min(
            sites,
            key=lambda s: _metres(lat, lon, s["geometry"]["coordinates"][1], s["geometry"]["coordinates"][0]),
        )
        assert set(found["properties"]["adresses"]) <= set(roads), found["properties"]["adresses"]
