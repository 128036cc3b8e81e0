"""The real action plan of Manosque 2024–2027 (read in place from the shared data; without it the demo has no
plan), invented yearly
values for 2024 (validated) and 2025 (drafts), the links of fiches 7, 13 and 16 to observed series, and one
placed action to evaluate. Every value is drawn at random: none is a real report."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

PLAN = "strategie/plan_actions_manosque_2024_2027.csv"
VALUES = "strategie/demo-fictive-valeurs-plan-2024-2027.csv"
STRATEGY = "2024-2027"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / PLAN
# Fiche, indicator position, observed series shown beside it.
LINKS = (
    ("7", 1, ["pn_violences_intrafamiliales"]),
    ("13", 7, ["routes_accidents", "routes_hospitalises"]),
    ("16", 1, ["pm_tranquillite"]),
)
_SCALE = ("Insuffisant", "Partiel", "Satisfaisant", "Très satisfaisant")
_PROGRESS = ("non démarrée", "en cours", "en cours", "réalisée", "réalisée", "abandonnée")


def generate(out_dir: Path, seed: int) -> None:
    from observatoire.strategy.plan import kind_of

    if not SHARED.exists():
        return  # the committed values file stays as it is
    (out_dir / VALUES).parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 19)
    fh = io.StringIO()
    writer = csv.writer(fh, delimiter=";", lineterminator="\n")
    writer.writerow(["fiche", "indicateur", "annee", "valeur", "source", "avancement"])
    with open(SHARED, encoding="utf-8") as src:
        for row in csv.DictReader(src, delimiter=";"):
            for position, label in enumerate(row["indicateurs"].split(" | "), start=1):
                kind = kind_of(label)
                for year in (2024, 2025):
                    if year == 2025 and rng.random() < 0.3:
                        continue  # not every value is in yet
                    if kind == "nombre":
                        value = str(rng.randint(0, 60))
                    elif kind == "oui_non":
                        value = rng.choice(("oui", "non"))
                    else:
                        value = rng.choice(_SCALE)
                    writer.writerow(
                        [
                            row["numero"],
                            position,
                            year,
                            value,
                            "Bilan du pilote (fictif)",
                            rng.choice(_PROGRESS),
                        ]
                    )
    (out_dir / VALUES).write_text(fh.getvalue(), encoding="utf-8")


def load(engine, out_dir: Path, user: str) -> None:
    import sqlalchemy as sa

    from ingest.plan_actions import import_plan, import_values
    from observatoire.strategy import entries, evaluation, plan

    with engine.connect() as conn:
        loaded = plan.strategy_id(conn, STRATEGY) is not None
        qpv = conn.execute(
            sa.text("SELECT code FROM obs.territory WHERE level = 'qpv' ORDER BY code LIMIT 1")
        ).scalar()
    if loaded or not SHARED.exists():
        return
    import_plan(
        engine,
        SHARED,
        label="Stratégie locale de sécurité et de prévention de la délinquance "
        "et de la radicalisation de Manosque 2024–2027",
        user=user,
    )
    for fiche, position, series in LINKS:
        plan.link_series(engine, fiche, position, series, code=STRATEGY)
    import_values(engine, out_dir / VALUES, strategy=STRATEGY, user=user)
    entries.validate_year(engine, 2024, user=user, role="admin", code=STRATEGY)
    if qpv:
        evaluation.define(
            engine,
            label="Médiation de proximité (données fictives)",
            place=qpv,
            start=date(2023, 7, 1),
            source="pm",
            family="tranquillite",
            fiche="16",
            code=STRATEGY,
            user=user,
        )
