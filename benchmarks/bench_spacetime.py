"""Time the space-time analyses against straightforward uses of the reference libraries, in the same run.

- Emerging hot spots on 100,000 events × 36 months × ~1,500 hexagons, end to end from the points (binning,
  space-time Gi*, FDR, Mann-Kendall, classes), against ``esda.G_Local`` slice by slice (space-time weights
  of the cells and the previous slice, ``permutations=0``) plus ``pymannkendall.original_test`` cell by cell.
- Knox on 5,000 burglaries with 999 permutations, 5 space bands × 4 time bands, against
  ``pointpats.spacetime.Knox`` on the same data (one band of each; run with 99 permutations, its time scaled
  to 999 since each permutation costs the same).

Run: ``.venv/bin/python benchmarks/bench_spacetime.py``.

Measured on the shared 2-core machine, in three runs while other work loaded it (load average up to 14):

- emerging hot spots, 100,000 events, 1,569 cells × 36 months: 0.24 s to 1.18 s; the space-time cube through
  ``esda.G_Local`` + ``pymannkendall``: 10 s to 101 s (× 44 to × 124); ``esda`` slice by slice (spatial
  neighbours only) + ``pymannkendall``: 12 s to 38 s (× 25 to × 39).
- Knox, 5,000 events, 999 permutations: 6 × 5 bands 4.5 s to 8.4 s; one band of each 1.9 s to 4.2 s against
  ``pointpats.spacetime.Knox`` 80 s to 251 s (× 25 to × 83), the same observed count (846), p 0.801 against
  0.840 (different random permutations).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from observatoire.spacetime import emerging, gistar, knox


def points(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    # ~1,500 hexagons of 150 m: a disc of about 10.6 km across
    r, a = 5280 * np.sqrt(rng.random(n)), rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a), rng.integers(0, 36, n)


def peer_emerging(counts: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    import esda
    import pymannkendall
    from libpysal.weights import W

    adjacency = gistar.hex_adjacency(i, j)
    n, t_count = counts.shape
    # the cube as one lattice of n × T bins: neighbours in space in the same slice and the previous one
    neighbours: dict[int, list[int]] = {}
    for t in range(t_count):
        for k in range(n):
            near = adjacency[k].indices[adjacency[k].indices != k]
            ids = [t * n + m for m in near]
            if t:
                ids += [(t - 1) * n + m for m in adjacency[k].indices]
            neighbours[t * n + k] = ids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = W(neighbours, silence_warnings=True)
        g = esda.G_Local(counts.T.ravel(), w, transform="B", star=True, permutations=0)
    z = np.asarray(g.Zs).reshape(t_count, n).T
    p = gistar.two_sided_p(z)
    esda.fdr(p.ravel(), 0.05)
    return np.array([pymannkendall.original_test(z[k]).p for k in range(n)])


def peer_per_slice(counts: np.ndarray, i: np.ndarray, j: np.ndarray) -> None:
    """The plainest use: ``esda.G_Local`` slice by slice on the spatial weights alone (no previous slice), then
    ``pymannkendall`` cell by cell."""
    import esda
    import pymannkendall

    from observatoire.events.hotspots import hex_weights

    w = hex_weights(i, j)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = np.column_stack(
            [
                esda.G_Local(counts[:, t], w, transform="B", star=True, permutations=0).Zs
                for t in range(counts.shape[1])
            ]
        )
    esda.fdr(gistar.two_sided_p(z).ravel(), 0.05)
    for k in range(len(i)):
        pymannkendall.original_test(z[k])


def main() -> None:
    x, y, month = points(100_000)
    started = time.perf_counter()
    result = emerging.from_points(x, y, month, 150.0, 0, 35)
    ours = time.perf_counter() - started
    classed = int((result.classes != "aucune_tendance").sum())
    print(
        f"points chauds émergents : {len(result.i)} cellules × 36 mois, 100 000 faits : {ours:.3f} s "
        f"({classed} cellules classées)"
    )
    started = time.perf_counter()
    peer_emerging(result.counts, result.i, result.j)
    peer = time.perf_counter() - started
    print(
        f"  pair esda (G_Local sur le cube) + pymannkendall par cellule : {peer:.2f} s, rapport × {peer / ours:.0f}"
    )

    started = time.perf_counter()
    peer_per_slice(result.counts, result.i, result.j)
    plain = time.perf_counter() - started
    print(
        f"  pair esda tranche par tranche (voisinage spatial seul) + pymannkendall : {plain:.2f} s, "
        f"rapport × {plain / ours:.0f}"
    )

    rng = np.random.default_rng(2)
    n = 5000
    kx, ky, kt = rng.uniform(0, 6000, n), rng.uniform(0, 6000, n), np.floor(rng.uniform(0, 730, n))
    started = time.perf_counter()
    table = knox.knox(kx, ky, kt, permutations=999)
    ours_knox = time.perf_counter() - started
    print(f"Knox, {n} faits, 999 permutations, 6 × 5 classes : {ours_knox:.2f} s")
    started = time.perf_counter()
    single = knox.knox(kx, ky, kt, (200.0,), (7.0,), permutations=999)
    ours_single = time.perf_counter() - started
    from pointpats.spacetime import Knox

    started = time.perf_counter()
    np.random.seed(0)
    theirs = Knox(np.column_stack([kx, ky]), kt[:, None], delta=200, tau=7, permutations=99)
    peer_knox = (time.perf_counter() - started) * 999 / 99
    assert theirs.nst == single.observed[0, 0]
    print(
        f"  une classe de chaque : {ours_single:.2f} s ; pointpats Knox (99 permutations, ramené à 999) : "
        f"{peer_knox:.1f} s, rapport × {peer_knox / ours_single:.0f} ; même effectif observé ({theirs.nst}), "
        f"p {single.p[0, 0]:.3f} contre {theirs.p_sim:.3f}"
    )
    del table


if __name__ == "__main__":
    main()
