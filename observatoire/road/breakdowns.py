"""Breakdowns of accidents and victims (age band, user type, hour, weekday, month, lighting), the accident
map by gravity, and the methodology text of the road-safety outputs."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.errors import InputFileError
from observatoire.french import MONTHS, WEEKDAYS
from observatoire.road.indicators import (
    AGE_BANDS,
    GRAVITY_LABELS,
    SOURCE_LINE,
    _year_bounds,
    loaded_years,
    parse_years,
)
from observatoire.road.scope import parse_scope

_VICTIM_GROUPS = {
    "age": """CASE WHEN u.birth_year IS NULL THEN 'Âge inconnu'
                   WHEN a.year - u.birth_year < 25 THEN 'Moins de 25 ans'
                   WHEN a.year - u.birth_year < 65 THEN '25 à 64 ans' ELSE '65 ans et plus' END""",
    "type_usager": """CASE WHEN u.category IN (3, 4) THEN 'Piéton'
                           ELSE coalesce(c.grouping, 'Autre ou indéterminé') END""",
}
_ACCIDENT_GROUPS = {
    "heure": ("extract(hour FROM a.accident_time)::int", [(h, f"{h} h") for h in range(24)]),
    "jour": ("extract(isodow FROM a.accident_date)::int", list(enumerate(WEEKDAYS, start=1))),
    "mois": ("extract(month FROM a.accident_date)::int", list(enumerate(MONTHS, start=1))),
    "luminosite": ("a.lighting", None),
}


def _known_years(engine: Engine, territory: str, years) -> tuple[Any, dict[str, Any], list[int], list[int]]:
    scope = parse_scope(territory)
    span = parse_years(years)
    with engine.connect() as conn:
        status = loaded_years(conn, scope)
    lo, hi = span or (0, 9999)
    in_span = [y for y in sorted(status) if lo <= y <= hi and status[y]["accidents"]]
    known = [y for y in in_span if status[y]["usagers"]]
    return scope, _year_bounds(span), known, [y for y in in_span if y not in known]


def victims_by(engine: Engine, territory: str, years=None, by: str = "age") -> pd.DataFrame:
    """Victims (killed, hospitalised, slightly injured) per year, group and gravity — long format.

    ``by``: ``age`` (under 25, 25–64, 65 and over, unknown) or ``type_usager`` (pedestrian, cyclist,
    motorised two-wheeler, car…). Years of unknown gravity are left out and listed in
    ``attrs["annees_gravite_inconnue"]``.
    """
    if by not in _VICTIM_GROUPS:
        raise InputFileError(f"Ventilation inconnue : {by!r} (attendu : {', '.join(_VICTIM_GROUPS)}).")
    scope, _, known, unknown = _known_years(engine, territory, years)
    where, params = scope.predicate("a")
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(f"""
            SELECT a.year AS annee, {_VICTIM_GROUPS[by]} AS groupe, u.gravity, count(*) AS victimes
            FROM obs.road_user u JOIN obs.road_accident a ON a.id = u.accident_id
            LEFT JOIN obs.road_vehicle v ON v.accident_id = u.accident_id AND v.vehicle_letter = u.vehicle_letter
            LEFT JOIN obs.road_code c ON c.list_name = 'catv' AND c.code = v.category
            WHERE {where} AND a.year = ANY(:known) AND u.gravity IN (2, 3, 4)
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""),
                {**params, "known": known},
            )
            .mappings()
            .all()
        )
    frame = pd.DataFrame(rows, columns=["annee", "groupe", "gravity", "victimes"])
    frame["gravite"] = frame.pop("gravity").map(GRAVITY_LABELS)
    if by == "age":
        frame["groupe"] = pd.Categorical(frame["groupe"], categories=AGE_BANDS, ordered=True)
    frame = frame[["annee", "groupe", "gravite", "victimes"]].sort_values(["annee", "groupe", "gravite"])
    frame.attrs.update(territoire=scope.code, annees_gravite_inconnue=unknown, source=SOURCE_LINE)
    return frame.reset_index(drop=True)


def accidents_by(engine: Engine, territory: str, years=None, by: str = "heure") -> pd.DataFrame:
    """Injury accidents of the period by ``heure``, ``jour`` (weekday), ``mois`` or ``luminosite``; every
    class is listed, zeros included, plus « Non renseigné » when some are unknown."""
    if by not in _ACCIDENT_GROUPS:
        raise InputFileError(f"Ventilation inconnue : {by!r} (attendu : {', '.join(_ACCIDENT_GROUPS)}).")
    scope = parse_scope(territory)
    where, params = scope.predicate("a")
    expr, classes = _ACCIDENT_GROUPS[by]
    with engine.connect() as conn:
        counts: dict[int | None, int] = dict(
            conn.execute(
                sa.text(f"""
            SELECT {expr} AS k, count(*) FROM obs.road_accident a
            WHERE {where} AND a.year BETWEEN :y0 AND :y1 GROUP BY 1"""),
                {**params, **_year_bounds(parse_years(years))},
            ).all()
        )
        if classes is None:
            classes = [
                tuple(r)
                for r in conn.execute(
                    sa.text("SELECT code, label FROM obs.road_code WHERE list_name = 'lum' ORDER BY code")
                )
            ]
    rows: list[tuple[int | None, str, int]] = [
        (code, label, int(counts.get(code, 0))) for code, label in classes
    ]
    if counts.get(None):
        rows.append((None, "Non renseigné", int(counts[None])))
    frame = pd.DataFrame(rows, columns=["code", "libelle", "accidents"])
    frame["code"] = frame["code"].astype("Int64")
    frame.attrs.update(territoire=scope.code, source=SOURCE_LINE)
    return frame


GRAVITY_CLASSES = {
    "mortel": "Accident mortel",
    "grave": "Accident grave non mortel",
    "leger": "Accident avec blessés légers seulement",
    "inconnue": "Gravité inconnue",
}


def accident_points(
    engine: Engine, territory: str, years=None, *, max_features: int = 5000
) -> dict[str, Any]:
    """Geolocated accidents as a GeoJSON FeatureCollection, with their gravity class.

    ``gravite`` is ``mortel`` (≥ 1 killed), ``grave`` (≥ 1 hospitalised, none killed), ``leger`` or
    ``inconnue`` (no ``usagers`` for the accident). Above ``max_features`` the map should aggregate:
    the collection is cut and says so in ``metadata``.
    """
    scope = parse_scope(territory)
    where, params = scope.predicate("a")
    with engine.connect() as conn:
        total, without = conn.execute(
            sa.text(f"""
            SELECT count(*), count(*) FILTER (WHERE a.geom IS NULL) FROM obs.road_accident a
            WHERE {where} AND a.year BETWEEN :y0 AND :y1"""),
            {**params, **_year_bounds(parse_years(years))},
        ).one()
        rows = (
            conn.execute(
                sa.text(f"""
            SELECT a.id, a.accident_date, a.accident_time, a.address, a.commune_insee, l.label AS lighting,
                   ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, g.killed, g.hospitalised, g.slight
            FROM obs.road_accident a
            LEFT JOIN obs.road_code l ON l.list_name = 'lum' AND l.code = a.lighting
            LEFT JOIN LATERAL (
                SELECT count(*) FILTER (WHERE u.gravity = 2) AS killed,
                       count(*) FILTER (WHERE u.gravity = 3) AS hospitalised,
                       count(*) FILTER (WHERE u.gravity = 4) AS slight, count(*) AS users
                FROM obs.road_user u WHERE u.accident_id = a.id) g ON TRUE
            WHERE {where} AND a.year BETWEEN :y0 AND :y1 AND a.geom IS NOT NULL
            ORDER BY a.accident_date, a.id LIMIT :limit"""),
                {**params, **_year_bounds(parse_years(years)), "limit": max_features},
            )
            .mappings()
            .all()
        )
    features = []
    for r in rows:
        gravity = (
            "inconnue"
            if not (r["killed"] or r["hospitalised"] or r["slight"])
            else "mortel"
            if r["killed"]
            else "grave"
            if r["hospitalised"]
            else "leger"
        )
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                "properties": {
                    "id": r["id"],
                    "date": r["accident_date"].strftime("%d/%m/%Y"),
                    "heure": r["accident_time"].strftime("%H:%M") if r["accident_time"] else None,
                    "gravite": gravity,
                    "gravite_libelle": GRAVITY_CLASSES[gravity],
                    "tues": r["killed"],
                    "hospitalises": r["hospitalised"],
                    "blesses_legers": r["slight"],
                    "luminosite": r["lighting"],
                    "adresse": r["address"],
                    "commune": r["commune_insee"],
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "metadata": {
            "territoire": scope.code,
            "accidents": total,
            "sans_coordonnees": without,
            "tronque": total - without > len(features),
            "source": SOURCE_LINE,
        },
    }


def methodology_text(radius_m: int = 50, min_accidents: int = 3, period_years: int = 5) -> str:
    """What the road-safety figures mean, in French (Markdown), to print beside every table and map."""
    return f"""\
### Méthode et définitions

**Source.** Fichiers BAAC (bulletins d'analyse des accidents corporels) publiés chaque année par l'ONISR :
un accident corporel est un accident survenu sur une voie ouverte à la circulation publique, impliquant au
moins un véhicule et ayant fait au moins une victime ayant nécessité des soins. Les accidents sans victime
(dégâts matériels seuls) n'y figurent pas.

**Gravité.** Chaque personne impliquée est indemne, tuée, blessée hospitalisée ou blessée légère.
- *Tué* : personne décédée sur le coup ou dans les **30 jours** qui suivent l'accident.
- *Blessé hospitalisé* : victime admise comme patient à l'hôpital **plus de 24 heures**.
- *Blessé léger* : victime ayant fait l'objet de soins médicaux sans être hospitalisée plus de 24 heures.
- *Accident mortel* : au moins un tué. *Accident grave non mortel* : au moins un blessé hospitalisé et aucun tué.

**Changements de définition.** Ces définitions s'appliquent depuis 2005 (auparavant : tués à 6 jours et
« blessés graves » hospitalisés plus de 6 jours) ; les séries de l'observatoire commencent donc en 2005.
L'indicateur « blessés hospitalisés » n'est plus labellisé par l'Autorité de la statistique publique depuis
les données 2018 : la durée d'hospitalisation relevée par les forces de l'ordre est peu fiable. Les
évolutions du nombre de blessés hospitalisés, surtout de part et d'autre de 2018, sont à lire avec prudence.
Les fichiers ont aussi changé de forme en 2019 et en 2022 (codes, séparateurs, identifiants) ; l'import les
ramène à un modèle unique sans changer les comptes.

**Gravité inconnue.** La gravité n'est connue que par la table des usagers. Pour une année (ou un territoire)
dont le fichier `usagers` n'a pas été importé, les nombres de tués, de blessés et d'accidents mortels ou
graves sont **inconnus** (marqués « inconnue » ou laissés vides, signalés « gravité inconnue ») et jamais
comptés comme zéro.

**Âge.** Âge = année de l'accident − année de naissance ; tranches : moins de 25 ans, 25 à 64 ans,
65 ans et plus.

**Taux.** Rapportés à 1 000 habitants avec la population municipale INSEE la plus proche de l'année (le
millésime utilisé est indiqué) ; ils ne tiennent pas compte du trafic de transit.

**Sites dangereux.** Regroupement des accidents géolocalisés de la période (par défaut {period_years} ans)
par la méthode DBSCAN en Lambert-93 : chaque accident d'un site est à moins de {radius_m} m d'un autre
accident du site, et un site compte au moins {min_accidents} accidents corporels. Les sites sont classés
par un indice de gravité (10 par tué, 5 par blessé hospitalisé, 1 par blessé léger), puis par nombre
d'accidents. Les accidents sans coordonnées (fréquents avant 2019) n'y figurent pas ; certaines
coordonnées publiées sont approximatives.

{SOURCE_LINE}
"""
