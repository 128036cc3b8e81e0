"""How an SSMSI file writes the values it does not publish (statistical secrecy), read at import.

Conventions met: a ``valeur.publiée``/``est_diffuse`` column saying ``ndiff``; a count cell left blank,
``NA`` or ``s``; and, in re-saved pivots that filled the gaps, a 0. A file writes its secret as 0 when it has
no publication column, holds zeros but not a single count from 1 to 4, and every territory × indicator
series is zero in all its years or in none (true zero offences would sit next to small counts and mix
with positive years). Such zeros are stored as *non diffusé* with their reason, never as 0.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ingest.ssmsi_layout import Layout

NDIFF = "non diffusée par le SSMSI (secret statistique : « ndiff » dans le fichier)"
BLANK = "non diffusée par le SSMSI (secret statistique : cellule vide dans le fichier)"
ZERO = (
    "non diffusée par le SSMSI (secret statistique : le fichier écrit 0 pour les valeurs non diffusées — "
    "aucun nombre de 1 à 4, séries entièrement nulles)"
)
ZERO_CONVENTION_WARNING = (
    "Les zéros de ce fichier sont des valeurs non diffusées (secret statistique), pas des absences de "
    "faits : aucun nombre de 1 à 4, et chaque série commune × indicateur est nulle toutes les années ou "
    "aucune. Ils sont enregistrés « non diffusé », jamais comme 0."
)


def mark_reason(mark: str) -> str:
    return f"non diffusée par le SSMSI (secret statistique : « {mark} » dans le fichier)"


def withheld_sql(zeros_withheld: bool) -> str:
    """SQL over ``ssmsi_clean c``: the reason a value is withheld, NULL when it is published."""
    marks = " ".join(f"WHEN '{m}' THEN '{mark_reason(m)}'" for m in ("NA", "na", "s", "S", "nd", "ND"))
    zero = f"WHEN c.count = 0 THEN '{ZERO}' " if zeros_withheld else ""
    return (
        f"CASE WHEN c.not_published THEN '{NDIFF}' "
        f"WHEN c.count IS NULL AND c.rate IS NULL THEN CASE c.mark {marks} ELSE '{BLANK}' END "
        f"{zero}END"
    )


def zeros_are_withheld(conn: Connection, layout: Layout) -> bool:
    """Whether this file writes its withheld values as 0 (see the module's docstring)."""
    if "published" in layout.columns or "count" not in layout.columns and layout.kind != "wide":
        return False
    zeros, small = conn.exec_driver_sql(
        "SELECT count(*) FILTER (WHERE count = 0), count(*) FILTER (WHERE count BETWEEN 1 AND 4) "
        "FROM ssmsi_clean"
    ).one()
    if not zeros or small:
        return False
    years, mixed = conn.exec_driver_sql(
        "SELECT (SELECT count(DISTINCT year) FROM ssmsi_clean), EXISTS (SELECT 1 FROM ssmsi_clean "
        "WHERE count IS NOT NULL GROUP BY territory_code, indicator_id "
        "HAVING bool_or(count = 0) AND bool_or(count > 0))"
    ).one()
    # One year alone cannot show whole-zero series.
    return years >= 2 and not mixed
