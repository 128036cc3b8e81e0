"""Synthetic SSMSI-like bases for the demo: invented counts in the real 2025+ layouts.

Two files of one fictitious edition (``demo-fictive``): a communal base (the demo commune, a few
small communes of its département — some unpublished, as the SSMSI does — and a handful of communes
of the same size class) and a départemental base for every département, so that région and France
can be rebuilt. Every figure is drawn at random: nothing here is a real statistic.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from observatoire import geo_codes
from observatoire.police_nationale import indicators

EDITION = "demo-fictive"
COMMUNE = "04112"
YEARS = tuple(range(2016, 2025))
COMMUNES_FILE = "ssmsi/demo-fictive-ssmsi-communes.csv"
DEPARTEMENTS_FILE = "ssmsi/demo-fictive-ssmsi-departements.csv.gz"
# Invented yearly rates per 1,000 (inhabitants, or dwellings for burglaries) around which counts are drawn.
_RATES = {
    "violences_physiques_intrafamiliales": 2.6,
    "violences_physiques_hors_famille": 2.9,
    "violences_sexuelles": 1.4,
    "homicides": 0.015,
    "tentatives_homicide": 0.04,
    "vols_avec_armes": 0.12,
    "vols_violents_sans_arme": 0.6,
    "vols_sans_violence_personnes": 6.0,
    "cambriolages_logement": 5.0,
    "vols_vehicules": 1.8,
    "vols_dans_vehicules": 3.6,
    "vols_accessoires_vehicules": 0.9,
    "destructions_degradations": 7.0,
    "escroqueries": 5.5,
    "trafic_stupefiants": 0.35,
    "usage_stupefiants": 2.4,
    "usage_stupefiants_afd": 1.5,
    "usage_stupefiants_hors_afd": 0.9,
}
# Other communes of the demo: (INSEE code, inhabitants); the 20,000–50,000 ones form its size group.
_COMMUNES = (
    ("04006", 760),
    ("04019", 1_250),
    ("04094", 6_900),
    ("04070", 16_300),
    ("04160", 4_100),
    ("05061", 40_500),
    ("06069", 27_000),
    ("13041", 33_000),
    ("83050", 44_000),
    ("84031", 24_500),
    ("84087", 28_500),
    ("13063", 26_000),
)
_HEADER_COM = (
    "CODGEO_2025;annee;indicateur;unite_de_compte;nombre;taux_pour_mille;est_diffuse;complement_info_nombre;"
    "complement_info_taux;insee_pop;insee_pop_millesime;insee_log;insee_log_millesime"
)
_HEADER_DEP = (
    "Code_departement;Code_region;annee;indicateur;unite_de_compte;nombre;taux_pour_mille;insee_pop;"
    "insee_pop_millesime;insee_log;insee_log_millesime"
)


def _fr(x: float) -> str:
    return f"{x:.6f}".replace(".", ",")


def _series(rng: np.random.Generator, pop: int, years: tuple[int, ...]):
    """(year, inhabitants, dwellings, vintage, {indicator: count}) with a slow random drift."""
    level = {i: r * rng.lognormal(0, 0.25) for i, r in _RATES.items()}
    for k, year in enumerate(years):
        inhabitants = int(pop * (1 + 0.004 * k))
        dwellings = round(inhabitants * 0.47 + rng.uniform(0, 1), 4)
        counts = {}
        for ind, rate in level.items():
            den = dwellings if indicators.BY_ID[ind].denominator == indicators.DWELLINGS else inhabitants
            counts[ind] = int(rng.poisson(rate * (1 + 0.03 * k) * den / 1000))
        yield year, inhabitants, dwellings, min(year, 2021), counts


def _commune_lines(rng: np.random.Generator) -> list[str]:
    lines = [_HEADER_COM]
    for code, pop in ((COMMUNE, 22_400), *_COMMUNES):
        for year, inh, dw, vintage, counts in _series(rng, pop, YEARS):
            for ind, n in counts.items():
                meta = indicators.BY_ID[ind]
                den = dw if meta.denominator == indicators.DWELLINGS else inh
                # As the SSMSI: small communes' small counts are not published (ndiff, NA).
                if inh < 5_000 and n < 5:
                    lines.append(
                        f"{code};{year};{meta.label};{meta.unit};NA;NA;ndiff;{_fr(n + 0.4)};"
                        f"{_fr((n + 0.4) / den * 1000)};{inh};{vintage};{_fr(dw)};{vintage}"
                    )
                else:
                    lines.append(
                        f"{code};{year};{meta.label};{meta.unit};{n};{_fr(n / den * 1000)};diff;NA;NA;"
                        f"{inh};{vintage};{_fr(dw)};{vintage}"
                    )
    return lines


def _departement_lines(rng: np.random.Generator) -> list[str]:
    lines = [_HEADER_DEP]
    for dep, (_, reg) in geo_codes.DEPARTEMENTS.items():
        pop = 165_000 if dep == "04" else int(rng.uniform(90_000, 2_500_000))
        for year, inh, dw, vintage, counts in _series(rng, pop, YEARS):
            for ind, n in counts.items():
                meta = indicators.BY_ID[ind]
                den = dw if meta.denominator == indicators.DWELLINGS else inh
                lines.append(
                    f"{dep};{reg};{year};{meta.label};{meta.unit};{n};{_fr(n / den * 1000)};{inh};"
                    f"{vintage};{_fr(dw)};{vintage}"
                )
    return lines


def generate(out_dir: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    (out_dir / "ssmsi").mkdir(parents=True, exist_ok=True)
    (out_dir / COMMUNES_FILE).write_text("\n".join(_commune_lines(rng)) + "\n", encoding="utf-8")
    data = ("\n".join(_departement_lines(rng)) + "\n").encode("utf-8")
    # mtime=0: the same seed gives the same bytes, so regenerating leaves git clean.
    (out_dir / DEPARTEMENTS_FILE).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))


def load(engine, out_dir: Path, user: str) -> None:
    from ingest.ssmsi import import_ssmsi

    for name in (DEPARTEMENTS_FILE, COMMUNES_FILE):
        import_ssmsi(engine, out_dir / name, edition=EDITION, user=user)
