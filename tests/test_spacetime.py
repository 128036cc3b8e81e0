"""Space-time analyses on synthetic patterns: emerging hot spot classes, the Knox test against pointpats, the
aoristic data clock, the alerts; then the same analyses on the database, per role, and their CLI."""

from __future__ import annotations

import numpy as np
import pymannkendall
import pytest
from pointpats.spacetime import Knox as PointpatsKnox

from observatoire.spacetime import alerts, clock, emerging, gistar, knox

T = 36


def _grid(n: int = 40):
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return i.ravel(), j.ravel()


@pytest.fixture(scope="module")
def cube():
    i, j = _grid()
    rng = np.random.default_rng(20)
    noise = rng.poisson(2.0, (len(i), T)).astype(float)
    centre = int(np.flatnonzero((i == 20) & (j == 20))[0])
    ring = gistar.hex_adjacency(i, j)[centre].indices  # the centre and its 6 neighbours
    return i, j, noise, centre, ring, rng


def _classes(counts, i, j):
    return emerging.analyse(counts, i, j)[-1]


def test_a_cluster_of_the_last_slice_is_new(cube):
    i, j, noise, centre, ring, rng = cube
    counts = noise.copy()
    counts[ring, -1] += rng.poisson(8, len(ring))
    assert _classes(counts, i, j)[centre] == "chaud_nouveau"


def test_a_cluster_of_the_last_six_months_is_consecutive(cube):
    # The published rule: « new » is the last slice only; a run of several final slices is « consecutive ».
    i, j, noise, centre, ring, rng = cube
    counts = noise.copy()
    counts[ring, -6:] += rng.poisson(6, (len(ring), 6))
    classes = _classes(counts, i, j)
    assert classes[centre] == "chaud_consecutif"
    assert set(classes[ring]) <= {"chaud_consecutif", "chaud_nouveau", "chaud_sporadique"}


def test_a_cluster_of_the_last_quarter_is_new_when_slices_are_quarters(cube):
    i, j, noise, centre, ring, rng = cube
    counts = noise.copy()
    counts[ring, -3:] += rng.poisson(6, (len(ring), 3))
    quarters = counts.reshape(len(i), T // 3, 3).sum(axis=2)
    assert _classes(quarters, i, j)[centre] == "chaud_nouveau"


def test_a_cluster_present_throughout_is_persistent_and_intensifying_when_it_grows(cube):
    i, j, noise, centre, ring, rng = cube
    steady = noise.copy()
    steady[ring] += rng.poisson(5, (len(ring), T))
    assert _classes(steady, i, j)[centre] == "chaud_persistant"
    growing = noise.copy()
    growing[ring] += rng.poisson(np.linspace(3, 12, T), (len(ring), T))
    assert _classes(growing, i, j)[centre] == "chaud_intensification"
    fading = noise.copy()
    fading[ring] += rng.poisson(np.linspace(12, 3, T), (len(ring), T))
    assert _classes(fading, i, j)[centre] == "chaud_diminution"
    gone = steady.copy()  # the last two slices: the last one's neighbourhood reaches back one slice
    gone[:, -2:] = rng.poisson(2.0, (len(i), 2))
    assert _classes(gone, i, j)[centre] == "chaud_historique"


def test_a_cold_spot_is_classed_as_cold(cube):
    i, j, _, centre, ring, rng = cube
    counts = rng.poisson(6.0, (len(i), T)).astype(float)
    counts[ring] = 0
    assert _classes(counts, i, j)[centre].startswith("froid_")


def test_uniform_noise_yields_no_more_classes_than_the_false_discovery_rate(cube):
    i, j, _, _, _, _ = cube
    classed = 0
    for seed in range(10):
        counts = np.random.default_rng(seed).poisson(2.0, (len(i), T)).astype(float)
        classed += int((_classes(counts, i, j) != "aucune_tendance").sum())
    # 10 cubes of 1 600 cells: at a 5 % false discovery rate under the null, a class somewhere in at most a few
    assert classed <= 0.05 * 10


def test_space_time_gi_and_mann_kendall_agree_with_the_references(cube):
    import esda
    from libpysal.weights import W

    i, j, noise, _, _, _ = cube
    adjacency = gistar.hex_adjacency(i, j)
    one = noise[:, :1]
    z = gistar.space_time_gi(one, adjacency, lag=0)[:, 0]
    w = W({k: list(adjacency[k].indices[adjacency[k].indices != k]) for k in range(len(i))})
    g = esda.G_Local(one[:, 0], w, transform="B", star=True, permutations=0)
    assert np.allclose(z, g.Zs, atol=1e-9)
    _, mk_z, mk_p = gistar.mann_kendall(noise[:5])
    for k in range(5):
        reference = pymannkendall.original_test(noise[k])
        assert mk_z[k] == pytest.approx(reference.z, abs=1e-9)
        assert mk_p[k] == pytest.approx(reference.p, abs=1e-9)


def _poisson_events(rng, n=800, side=5_000.0, days=365.0):
    return rng.uniform(0, side, n), rng.uniform(0, side, n), np.floor(rng.uniform(0, days, n))


def test_knox_agrees_with_pointpats():
    rng = np.random.default_rng(7)
    x, y, t = _poisson_events(rng, 400)
    ours = knox.knox(x, y, t, (200.0,), (7.0,), permutations=199)
    np.random.seed(7)
    theirs = PointpatsKnox(np.column_stack([x, y]), t[:, None], delta=200, tau=7, permutations=199)
    assert ours.observed[0, 0] == theirs.nst
    assert np.array_equal(ours.observed, theirs.observed)
    assert np.allclose(ours.expected, theirs.expected, rtol=0.05)
    assert abs(ours.p[0, 0] - theirs.p_sim) < 0.1


def _planted(rng, x, y, t, children=300):
    parents = rng.integers(0, len(x), children)
    angle, radius = rng.uniform(0, 2 * np.pi, children), rng.uniform(0, 200, children)
    return (
        np.r_[x, x[parents] + radius * np.cos(angle)],
        np.r_[y, y[parents] + radius * np.sin(angle)],
        np.r_[t, t[parents] + rng.integers(0, 8, children)],
    )


def test_a_planted_near_repeat_process_is_detected_and_a_poisson_process_is_not():
    bands = ((200.0, 400.0), (7.0, 14.0))
    false_alarms = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x, y, t = _poisson_events(rng, 800)
        plain = knox.knox(x, y, t, *bands, permutations=199)
        false_alarms += int(plain.significant()[0, 0])
        if seed < 5:
            planted = knox.knox(*_planted(rng, x, y, t), *bands, permutations=199)
            assert planted.significant()[0, 0] and planted.ratio[0, 0] > 2
            assert not planted.significant()[1, 1]  # nothing planted beyond 200 m and 7 days
    assert false_alarms <= 3  # 5 % of 20 expected by chance
    rng = np.random.default_rng(1)
    x, y, t = _poisson_events(rng, 800)
    linked = (knox.chains(*_planted(rng, x, y, t), 200, 7) >= 0).sum()
    assert linked > 3 * (knox.chains(x, y, t, 200, 7) >= 0).sum()


def test_aoristic_weights_sum_to_the_number_of_events():
    rng = np.random.default_rng(3)
    start = rng.uniform(0, 24 * 400, 500)
    end = start + np.where(rng.random(500) < 0.3, 0, rng.uniform(0.2, 60, 500))
    weights = clock.aoristic(start, end)
    assert weights.sum() == pytest.approx(500)
    # a burglary found on Monday 8 h, the house left on Saturday 20 h: 36 hours, one 36th each
    saturday_20h = (2 * 24 + 20) * 1.0  # 1970-01-03 was a Saturday
    spread = clock.aoristic(np.array([saturday_20h]), np.array([saturday_20h + 36]))
    assert spread.sum() == pytest.approx(1)
    assert spread[5 * 24 + 20] == pytest.approx(1 / 36)  # Saturday 20 h
    assert spread[0 * 24 + 7] == pytest.approx(1 / 36)  # Monday 7 h
    assert spread[0 * 24 + 8] == 0
    table = clock.weekday_hour(np.array([0, 0, 1]), np.array([22, 0, 5]), np.array([True, False, True]))
    assert table.sum() == pytest.approx(3)
    assert table[3, 22] == pytest.approx(1 + 1 / 24)  # Thursday 1 January 1970


def _series(counts, zone="COM:04112"):
    return alerts.Series("cambriolages", "cambriolages (pn)", zone, zone, 0, np.asarray(counts, dtype=float))


def test_alerts_find_a_planted_doubling_and_nothing_in_a_stable_series():
    rng = np.random.default_rng(5)
    stable = [_series(rng.poisson(20, 25), zone=f"IRIS:{k}") for k in range(40)]
    assert alerts.significant_rises(stable, 24) == []
    doubled = rng.poisson(20, 25).astype(float)
    doubled[-1] = 2 * 20 + 2
    rises = alerts.significant_rises([*stable, _series(doubled)], 24)
    assert rises and {r["zone"] for r in rises} == {"COM:04112"}
    month = [r for r in rises if r["type_periode"] == "mois"]
    assert month and all(r["rapport"] > 1.7 for r in month)
    assert alerts.size_band(2.1) == "de × 2 à × 3"
