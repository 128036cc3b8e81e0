"""``observatoire report diagnostic``: the document of a *diagnostic local de sécurité*, as a list of section
builders. Each builder takes the :class:`Ask` and returns a section, or None when its source is not loaded
(the section is then left out and named in the report). A new source adds its builder here with
:func:`register_section`, its queries staying in its domain package."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from observatoire import disclosure, french
from observatoire.errors import InputFileError, ObservatoireError
from observatoire.exports import audience as aud
from observatoire.exports import files
from observatoire.exports.report.document import Figure, Report, Section, Table, to_html, to_pdf


def _settings():
    from observatoire.settings import get_settings

    return get_settings()


@dataclass(frozen=True)
class Ask:
    engine: Engine
    territory: str  # COM:xxxxx
    years: tuple[int, int]
    audience: str = aud.RESTREINT
    login: str | None = None
    role: str | None = None
    # video-protection: a request for images older than this is counted beyond the retention period
    image_retention_days: int = field(default_factory=lambda: _settings().video_image_retention_days)

    @property
    def plenary(self) -> bool:
        return self.audience == aud.PLENIER

    @property
    def threshold(self) -> int:
        return disclosure.threshold_for(aud.PLENARY_ROLE) or 5


Builder = Callable[[Ask], Section | None]
# (key, French name of the source, builder) in the order of the document.
SECTIONS: list[tuple[str, str, Builder]] = []


def register_section(key: str, name: str, builder: Builder, *, before: str | None = None) -> None:
    global SECTIONS
    SECTIONS = [s for s in SECTIONS if s[0] != key]
    position = next((k for k, s in enumerate(SECTIONS) if s[0] == before), len(SECTIONS))
    SECTIONS.insert(position, (key, name, builder))


def parse_years(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", text or "")
    if not match:
        raise InputFileError(f"--years : années non reconnues « {text} » (par ex. 2019-2022 ou 2022).")
    y0, y1 = int(match[1]), int(match[2] or match[1])
    return min(y0, y1), max(y0, y1)


def _mask_small(frame: pd.DataFrame, columns: list[str], threshold: int) -> pd.DataFrame:
    """Counts from 1 to threshold − 1 as « < 5 » (plenary documents); object columns so labels fit."""
    frame = frame.copy()
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        small = (values > 0) & (values < threshold)
        frame[col] = frame[col].astype(object)
        frame.loc[small, col] = disclosure.label(threshold)
    return frame


# --- sections ------------------------------------------------------------------------------------------------


def _pn_evolution(ask: Ask) -> Section | None:
    from observatoire.police_nationale import evolution

    y0, y1 = ask.years
    section = Section(
        "Évolution de la délinquance enregistrée",
        f"Faits constatés par les services de police et de gendarmerie (état 4001), {y0} et {y1}.",
    )
    for grouping in ("avip", "biens"):
        try:
            frame = evolution.evolution_table(ask.engine, grouping, ask.territory, y0, y1)
        except ObservatoireError:
            continue
        if frame.empty or frame["count_from"].isna().all() and frame["count_to"].isna().all():
            continue
        table = pd.DataFrame(
            {
                "Catégorie": [
                    ("    " if p else "") + lab for p, lab in zip(frame.parent, frame.label, strict=True)
                ],
                "Index 4001": frame.indexes,
                str(y0): frame.count_from,
                str(y1): frame.count_to,
                "Écart": [french.signed(v, unknown="") for v in frame.difference],
                "Évolution": [french.percent(v, unknown="") for v in frame.change_pct],
            }
        )
        if ask.plenary:
            small = table[[str(y0), str(y1)]].apply(pd.to_numeric, errors="coerce")
            hide = ((small > 0) & (small < ask.threshold)).any(axis=1)
            table = _mask_small(table, [str(y0), str(y1)], ask.threshold)
            table.loc[hide, ["Écart", "Évolution"]] = ""
        months = f"{int(frame.months_from.iloc[0])} mois en {y0}, {int(frame.months_to.iloc[0])} mois en {y1}"
        section.blocks.append(
            Table(
                frame.attrs.get("grouping_label", grouping),
                table,
                evolution.SOURCE_LINE,
                f"Regroupements du diagnostic ({months}). {frame.attrs.get('note') or ''}".strip(),
            )
        )
    return section if section.blocks else None


def _pn_rates(ask: Ask) -> Section | None:
    from observatoire.police_nationale import comparisons, indicators, rates

    try:
        edition, ids = comparisons.available_indicators(ask.engine, ask.territory)
    except ObservatoireError:
        return None
    years = list(range(ask.years[0], ask.years[1] + 1))
    section = Section(
        "Taux comparés : commune, département, région, communes de même taille, France",
        f"Taux pour 1 000 habitants (logements pour les cambriolages), édition {edition} des bases SSMSI.",
    )
    for ind in [i for i in indicators.DIAGNOSTIC_INDICATORS if i in ids] or ids[:6]:
        records = rates.compare_records(ask.engine, ind, ask.territory, years, edition=edition)
        table = comparisons.diagnostic_table(records)
        if table.empty:
            continue
        method = comparisons.methodology(ask.engine, records)
        editions = ", ".join(f"{e['libelle']} ({e['date'] or 'date inconnue'})" for e in method["editions"])
        section.blocks.append(
            Table(
                indicators.BY_ID[ind].label,
                table,
                f"{method['source']} Édition : {editions}.",
                "Taux = nombre ÷ dénominateur × 1 000 ; région et France reconstituées par sommes quand "
                "l'édition ne les donne pas ; n.d. : non publié.",
                index=True,
            )
        )
    return section if section.blocks else None


def _road(ask: Ask) -> Section | None:
    from observatoire.road import indicators as road

    frame = road.yearly_indicators(ask.engine, ask.territory, ask.years)
    if frame.empty or not frame["donnees_chargees"].any():
        return None
    frame = frame[frame["donnees_chargees"]]
    columns = {
        "annee": "Année",
        "accidents": "Accidents corporels",
        "accidents_mortels": "dont mortels",
        "tues": "Tués",
        "hospitalises": "Blessés hospitalisés",
        "blesses_legers": "Blessés légers",
        "victimes": "Victimes",
        "accidents_pour_1000": "Accidents ‰ hab.",
    }
    if ask.plenary:  # the parts of the victims would give a masked one by difference: totals only
        columns = {
            k: v for k, v in columns.items() if k in ("annee", "accidents", "victimes", "accidents_pour_1000")
        }
    table = frame[list(columns)].rename(columns=columns)
    table["Année"] = table["Année"].astype(str)
    table["Accidents ‰ hab."] = table["Accidents ‰ hab."].astype(float).round(2)
    if ask.plenary:
        table = _mask_small(
            table, [c for c in table.columns if c not in ("Année", "Accidents ‰ hab.")], ask.threshold
        )
    return Section(
        "Sécurité routière",
        "Accidents corporels de la circulation et leurs victimes (tués à 30 jours).",
        [Table("Accidents et victimes par année", table, road.SOURCE_LINE, "Taux pour 1 000 habitants.")],
    )


def _police_municipale(ask: Ask) -> Section | None:
    from observatoire.police_municipale import activity

    y0, y1 = ask.years
    section = Section(
        "Activité de la police municipale", "Interventions enregistrées, par famille et par année."
    )
    rows = []
    for year in range(y0, y1 + 1):
        rep = activity.report(
            ask.engine, date(year, 1, 1), date(year, 12, 31), threshold=ask.threshold if ask.plenary else None
        )
        if not rep.summary["total"][0] or rep.families.empty:
            continue
        for r in rep.families.itertuples():
            rows.append(
                {
                    "Famille": r.family,
                    "Année": str(year),
                    "n": disclosure.shown_as(r.count, int(r.state), rep.threshold),
                }
            )
        rows.append({"Famille": "Toutes familles", "Année": str(year), "n": rep.shown("total")})
    if not rows:
        return None
    long = pd.DataFrame(rows)
    table = long.pivot(index="Famille", columns="Année", values="n").fillna(0)
    table = table.reindex([*(f for f in table.index if f != "Toutes familles"), "Toutes familles"])
    section.blocks.append(
        Table(
            "Interventions par famille",
            table,
            "Source : fichiers d'interventions de la police municipale déposés dans l'observatoire.",
            "Nomenclature des interventions de l'observatoire ; « < 5 » et « non diffusé » : secret statistique."
            if ask.plenary
            else "Nomenclature des interventions de l'observatoire.",
            index=True,
        )
    )
    return section


def _videoprotection(ask: Ask) -> Section | None:
    from observatoire.videoprotection import indicators

    y0, y1 = ask.years
    years = [y for y in indicators.years_available(ask.engine) if y0 <= y <= y1]
    if not years:
        return None
    source = "Source : registre des réquisitions judiciaires de la vidéoprotection tenu dans l'observatoire."
    section = Section(
        "Vidéoprotection",
        "Réquisitions judiciaires d'images adressées au centre de supervision urbain.",
    )
    if ask.plenary:
        for by, title in (
            ("authority", "Réquisitions par autorité"),
            ("category", "Réquisitions par infraction"),
        ):
            long = indicators.council_table(ask.engine, years, by, ask.threshold)
            table = long.pivot(index="label", columns="year", values="count_label")
            table.columns = [str(c) for c in table.columns]
            table = table.reindex([*(x for x in table.index if x != "Total"), "Total"])
            table.index.name = "Autorité" if by == "authority" else "Infraction"
            section.blocks.append(
                Table(title, table, source, "« < 5 » et « non diffusé » : secret statistique.", index=True)
            )
        return section
    table = indicators.indicators_table(ask.engine, years, ask.image_retention_days)
    section.blocks.append(
        Table(
            "Réquisitions et suites données",
            table,
            source,
            f"Durée de conservation des images : {ask.image_retention_days} jours ; une demande portant sur des "
            "images plus anciennes est comptée « au-delà de la durée de conservation ».",
        )
    )
    return section


def _surveys(ask: Ask) -> Section | None:
    from observatoire.surveys import results

    waves = results.waves(ask.engine)
    if not waves:
        return None
    wave = waves[-1]  # the latest wave: the document reports the current perception
    section = Section(
        "Sécurité ressentie",
        f"Enquête « {wave['label'] or wave['code']} » : {french.number(wave['respondents'])} répondants. "
        + results.WARNING,
    )
    for variable in results.variables(ask.engine, wave["code"]):
        if variable["kind"] != "question":
            continue
        frame = results.results(ask.engine, wave["code"], variable["code"], mask_small=ask.plenary)
        table = pd.DataFrame(
            {
                "Réponse": frame["reponse"],
                "Répondants": [None if n is None else int(n) for n in frame["n"]],
                "Part (%)": [None if p is None else round(float(p), 1) for p in frame["part"]],
            }
        )
        section.blocks.append(
            Table(
                variable["label"],
                table,
                f"Source : enquête de sécurité ressentie « {wave['code']} », réponses codées, sans texte libre.",
                "Part des répondants ayant répondu à la question.",
            )
        )
    return section if section.blocks else None


def _maps(ask: Ask) -> Section | None:
    from observatoire.events.filter import EventFilter
    from observatoire.exports import maps, snapshot
    from observatoire.exports.request import ExportRequest

    year = ask.years[1]
    base = ExportRequest(
        EventFilter(start=date(year, 1, 1), end=date(year, 12, 31)),
        audience=ask.audience,
        login=ask.login,
        role=ask.role,
        permutations=199,
    )
    section = Section("Cartes", f"Répartition des événements géolocalisés en {year}.")
    for keys in (("hexagons",) if ask.plenary else ("hotspots",), ("iris",)):
        try:
            request, built, ctx = maps.prepare(ask.engine, replace(base, layers=keys))
        except ObservatoireError:
            continue
        png = snapshot.render(request, built, ctx, "png", dpi=110)
        methods = "; ".join(snapshot.method_lines(request, built))
        section.blocks.append(Figure(built[0].title + f" — {year}", png, built[0].source, methods))
    return section if section.blocks else None


register_section("pn_evolution", "état 4001", _pn_evolution)
register_section("pn_taux", "bases SSMSI", _pn_rates)
register_section("routes", "accidents (BAAC)", _road)
register_section("police_municipale", "police municipale", _police_municipale)
register_section("cartes", "événements géolocalisés", _maps)
register_section("videoprotection", "réquisitions de vidéoprotection", _videoprotection, before="cartes")
register_section("enquetes", "enquêtes de sécurité ressentie", _surveys, before="cartes")


# --- assembly -----------------------------------------------------------------------------------------------


def build(ask: Ask) -> Report:
    from observatoire.territories import territory_name

    sections, skipped = [], []
    for _key, name, builder in SECTIONS:
        section = builder(ask)
        if section is None:
            skipped.append(name)
        else:
            sections.append(section)
    if not sections:
        raise InputFileError(
            f"Période sans données : aucune des sources du diagnostic ne couvre {ask.years[0]}–{ask.years[1]} "
            f"pour {ask.territory}."
        )
    name = territory_name(ask.engine, ask.territory) or ask.territory
    now = datetime.now(french.PARIS)
    notes = []
    if ask.plenary:
        notes.append(
            "Document plénier / public : chiffres agrégés ; effectifs de moins de 5 notés « < 5 » ; aucune "
            "donnée individuelle ni catégorie sensible sous l'échelle de la commune."
        )
    return Report(
        title=f"Diagnostic local de sécurité — {name}",
        subtitle=f"Années {ask.years[0]} à {ask.years[1]}",
        audience_label=aud.AUDIENCES[ask.audience],
        audience_colour="#2166ac" if ask.plenary else "#b2182b",
        produced=f"Produit le {french.moment(now)} par {ask.login or 'la ligne de commande'} avec l'Observatoire "
        "local de la tranquillité publique.",
        sections=sections,
        skipped=skipped,
        notes=notes,
    )


def render(ask: Ask, fmt: str) -> bytes:
    if fmt not in ("html", "pdf"):
        raise InputFileError(f"Format de rapport inconnu : « {fmt} » (possibles : html, pdf).")
    page = to_html(build(ask))
    return page.encode("utf-8") if fmt == "html" else to_pdf(page)


def export(
    engine: Engine,
    years: tuple[int, int],
    fmt: str,
    out: Path,
    *,
    territory: str | None = None,
    audience: str = aud.RESTREINT,
    login: str | None = None,
    role: str | None = None,
    ip: str | None = None,
) -> files.Written:
    from observatoire.geo_codes import TerritoryCode
    from observatoire.settings import get_settings

    aud.check(audience, role)
    code = str(TerritoryCode.parse(territory)) if territory else get_settings().commune_code
    out = Path(out)
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise InputFileError(
            f"Impossible d'écrire le fichier « {out} » : le dossier « {out.parent} » n'existe pas."
        )
    data = render(Ask(engine, code, years, audience, login, role), fmt)
    written = files.write_bytes(out, data)
    files.record(
        engine,
        written,
        what="rapport:diagnostic",
        fmt=fmt,
        audience=audience,
        login=login,
        role=role,
        filters={"territoire": code, "annees": f"{years[0]}-{years[1]}"},
        ip=ip,
    )
    return written


def sections_available() -> list[str]:
    return [name for _k, name, _b in SECTIONS]


def _unused(x: Any) -> Any:  # pragma: no cover - keeps numpy imported for the typing of frames
    return np.asarray(x)
