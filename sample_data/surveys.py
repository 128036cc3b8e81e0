"""Two invented waves (2023 and 2025) of a perceived-insecurity survey, about 800 respondents each, with their
codebook. The answers are drawn at random, with a slightly better feeling of safety in 2025."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

CODEBOOK = "enquetes/demo-fictive-livre-de-codes.csv"
WAVES = {
    "2023": ("enquetes/demo-fictive-enquete-2023.csv", 812, date(2023, 11, 30), 0.0),
    "2025": ("enquetes/demo-fictive-enquete-2025.csv", 786, date(2025, 11, 28), 0.08),
}

PROFILE = {
    "age": ("Tranche d'âge", ["18-24 ans", "25-39 ans", "40-59 ans", "60-74 ans", "75 ans ou plus"]),
    "sexe": ("Sexe", ["Femme", "Homme"]),
    "resident": ("Résident de la commune", ["Oui", "Non"]),
    "csp": (
        "Catégorie socio-professionnelle",
        [
            "Agriculteurs, artisans, commerçants",
            "Cadres",
            "Professions intermédiaires",
            "Employés",
            "Ouvriers",
            "Retraités",
            "Sans activité professionnelle",
        ],
    ),
    "quartier": (
        "Quartier",
        ["Centre-ville", "Quartiers nord", "Quartiers sud", "Quartiers est", "Quartiers ouest", "Hameaux"],
    ),
}
_SAFE = ["Très en sécurité", "Plutôt en sécurité", "Plutôt pas en sécurité", "Pas du tout en sécurité"]
QUESTIONS = {
    "q1_jour": ("Sentiment de sécurité dans votre quartier, le jour", _SAFE),
    "q2_nuit": ("Sentiment de sécurité dans votre quartier, la nuit", _SAFE),
    "q3_incivilites": ("Témoin d'incivilités ces 12 derniers mois", ["Oui", "Non"]),
    "q4_renoncement": ("Renoncement à sortir le soir par crainte", ["Souvent", "Parfois", "Jamais"]),
    "q5_pm": ("Connaît la police municipale de son secteur", ["Oui", "Non"]),
}


def generate(out_dir: Path, seed: int) -> None:
    path = out_dir / CODEBOOK
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = io.StringIO()
    writer = csv.writer(fh, delimiter=";", lineterminator="\n")
    writer.writerow(["variable", "type", "libelle", "code", "modalite"])
    for name, (label, answers) in PROFILE.items():
        for code, answer in enumerate(answers, start=1):
            writer.writerow([name, "profil", label, code, answer])
    for name, (label, answers) in QUESTIONS.items():
        for code, answer in enumerate(answers, start=1):
            writer.writerow([name, "question", label, code, answer])
    path.write_text(fh.getvalue(), encoding="utf-8")
    for wave, (file, size, _, better) in WAVES.items():
        rng = random.Random(seed + int(wave))
        fh = io.StringIO()
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(list(PROFILE) + list(QUESTIONS))
        for _ in range(size):
            profile = [rng.randint(1, len(values)) for _, values in PROFILE.values()]
            older, woman = profile[0] >= 4, profile[1] == 1
            worry = 0.35 + (0.1 if older else 0) + (0.08 if woman else 0) - better
            answers = []
            for name, (_, values) in QUESTIONS.items():
                if rng.random() < 0.03:
                    answers.append("")  # no answer
                elif len(values) == 4:
                    bump = worry + (0.15 if name == "q2_nuit" else 0)
                    answers.append(str(1 + sum(rng.random() < bump for _ in range(3))))
                else:
                    answers.append(str(rng.randint(1, len(values))))
            writer.writerow(profile + answers)
        (out_dir / file).write_text(fh.getvalue(), encoding="utf-8")


def load(engine, out_dir: Path, user: str) -> None:
    from ingest.survey import import_survey
    from observatoire.surveys import results

    known = {w["code"] for w in results.waves(engine)}
    for wave, (file, _, fielded, _) in WAVES.items():
        if wave not in known:
            import_survey(
                engine,
                out_dir / file,
                codebook=out_dir / CODEBOOK,
                code=wave,
                label=f"Enquête de sécurité ressentie {wave} (données fictives)",
                fielded_on=fielded,
                user=user,
            )
