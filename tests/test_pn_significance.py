"""Is a change real: the exact Poisson test against SciPy on real pairs, the funnel limits by hand, and the
territory chosen by name."""

from __future__ import annotations

import csv
import math

import pytest
from scipy.stats import binomtest

from ingest.ssmsi import import_ssmsi
from observatoire.errors import NotFound
from observatoire.police_nationale import places, rates, significance
from tests.test_pn_ssmsi import DEP_2023, PIVOT


def _dep_pairs(path) -> list[tuple[int, float, int, float]]:
    """(count 2022, population 2022, count 2021, population 2021) per département and indicator, read
    straight from the file."""
    values: dict[tuple[str, str], dict[int, tuple[int, float]]] = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]:
        classe, annee, dep, _, _, _, _, faits, pop, _, _ = line.split(";")
        values.setdefault((dep, classe), {})[2000 + int(annee)] = (int(faits), float(pop.replace(",", ".")))
    return [(*v[2022], *v[2021]) for v in values.values() if 2021 in v and 2022 in v]


def test_poisson_test_matches_scipy_on_real_pairs(shared_data):
    pairs = _dep_pairs(shared_data / DEP_2023)
    assert len(pairs) >= 100
    for c1, n1, c2, n2 in pairs:
        expected = binomtest(c1, c1 + c2, n1 / (n1 + n2)).pvalue if c1 + c2 else 1.0
        assert significance.poisson_test(c1, n1, c2, n2) == pytest.approx(expected, rel=1e-6, abs=1e-300)


def test_poisson_test_small_and_lopsided_counts():
    for c1, n1, c2, n2 in [
        (0, 100, 0, 100),
        (0, 1000, 7, 1000),
        (3, 21868, 40, 150000),
        (118, 21868, 93, 23018),
    ]:
        expected = binomtest(c1, c1 + c2, n1 / (n1 + n2)).pvalue if c1 + c2 else 1.0
        assert significance.poisson_test(c1, n1, c2, n2) == pytest.approx(expected, rel=1e-6)
    assert significance.change_words(0.01, 2.0, 3.0) == "hausse significative"
    assert significance.change_words(0.01, 3.0, 2.0) == "baisse significative"
    assert significance.change_words(0.2, 3.0, 2.0) == "pas d'évolution significative"


def test_funnel_limits_by_hand(engine, shared_data):
    import_ssmsi(engine, shared_data / PIVOT, edition="2024-07-05")
    fun = significance.funnel(engine, "cbv", "04112", [2018])
    assert fun is not None and fun.year == 2018 and fun.group.low == 20000
    # The group read from the file by hand: communes of 20,000 to 50,000 inhabitants in 2018, published.
    with open(shared_data / PIVOT, encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.DictReader(fh, delimiter=";")
            if r["annee"] == "2018" and 20000 <= int(r["POP"]) < 50000
        ]
    published = [r for r in rows if int(r["Coups et blessures volontaires"]) > 0]
    total = sum(int(r["Coups et blessures volontaires"]) for r in published)
    people = sum(int(r["POP"]) for r in published)
    assert len(fun.points) == len(published)
    theta = total / people
    assert fun.group_rate == pytest.approx(theta * 1000)
    n = 23000
    lim = fun.limits([n]).iloc[0]
    assert lim.high_95 == pytest.approx((theta + 1.959964 * math.sqrt(theta / n)) * 1000, rel=1e-6)
    assert lim.low_95 == pytest.approx((theta - 1.959964 * math.sqrt(theta / n)) * 1000, rel=1e-6)
    assert lim.high_998 == pytest.approx((theta + 3.090232 * math.sqrt(theta / n)) * 1000, rel=1e-6)
    assert lim.low_998 == pytest.approx((theta - 3.090232 * math.sqrt(theta / n)) * 1000, rel=1e-6)
    assert fun.points.is_commune.sum() == 1


def test_changes_and_gaps_in_words(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    records = rates.compare_records(engine, "cbv", "DEP:04", range(2016, 2023))
    changes = {c["niveau"]: c for c in significance.year_changes(records)}
    dep = changes["departement"]
    first = next(r for r in records if r["level"] == "departement" and r["year"] == 2016)
    last = next(r for r in records if r["level"] == "departement" and r["year"] == 2022)
    p = binomtest(
        last["count"],
        last["count"] + first["count"],
        last["denominator"] / (last["denominator"] + first["denominator"]),
    ).pvalue
    assert dep["p_value"] == pytest.approx(p, rel=1e-6)
    assert dep["conclusion"] in (
        "hausse significative",
        "baisse significative",
        "pas d'évolution significative",
    )


def test_territory_by_name_code_or_suggestion(engine, shared_data):
    from sample_data import reference
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    assert places.resolve(engine, "Manosque") == "COM:04112"
    assert places.resolve(engine, "manosque") == "COM:04112"
    assert places.resolve(engine, "Manosque (04112)") == "COM:04112"
    assert places.resolve(engine, "04112") == "COM:04112"
    assert places.resolve(engine, "DEP:04") == "DEP:04"
    assert "Manosque (04112)" in places.complete(engine, "Manos")
    with pytest.raises(NotFound) as exc:
        places.resolve(engine, "Manosk")
    assert "Territoire inconnu" in exc.value.message and "Manosque (04112)" in exc.value.message


def test_cli_compare_with_tests_by_name(cli_env, engine, shared_data):
    from sample_data import reference
    from sample_data.demo import FILES
    from tests.conftest import run_cli

    reference.load(engine, FILES, "demo")
    import_ssmsi(engine, shared_data / PIVOT, edition="2024-07-05")
    result = run_cli(
        "stats",
        "compare",
        "--indicator",
        "cbv",
        "--territory",
        "Manosque",
        "--years",
        "2016-2018",
        "--tests",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    import json

    out = json.loads(result.output)
    assert {c["territory"] for c in out["valeurs"]} >= {"COM:04112"}
    assert all("edition" in c and "coverage" in c for c in out["valeurs"])
    commune = next(e for e in out["evolutions"] if e["niveau"] == "commune")
    assert commune["conclusion"] in (
        "hausse significative",
        "baisse significative",
        "pas d'évolution significative",
    )
    assert 0 <= commune["p_value"] <= 1
    unknown = run_cli("stats", "compare", "--indicator", "cbv", "--territory", "Manosk", "--years", "2016")
    assert unknown.exit_code != 0 and "Vouliez-vous dire" in unknown.output
