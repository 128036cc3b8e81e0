"""Road safety: ONISR accidents, places, vehicles, road users and the ONISR code catalogue.

Revision ID: 0300
Revises: 0001
Create Date: 2026-11-22
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0300"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "obs"
CATALOGUE_COMMENT = "catalogue des codes ONISR (BAAC) et de leurs libellés"

# ONISR code lists, as in the BAAC documentation (« description des bases de données annuelles »).
# Frozen here on purpose: a migration must build the same catalogue whatever the code becomes.
_CODES: dict[str, list[tuple[int, str, str | None]]] = {
    "lum": [
        (1, "Plein jour", None),
        (2, "Crépuscule ou aube", None),
        (3, "Nuit sans éclairage public", None),
        (4, "Nuit avec éclairage public non allumé", None),
        (5, "Nuit avec éclairage public allumé", None),
    ],
    "agg": [(1, "Hors agglomération", None), (2, "En agglomération", None)],
    "int": [
        (1, "Hors intersection", None),
        (2, "Intersection en X", None),
        (3, "Intersection en T", None),
        (4, "Intersection en Y", None),
        (5, "Intersection à plus de 4 branches", None),
        (6, "Giratoire", None),
        (7, "Place", None),
        (8, "Passage à niveau", None),
        (9, "Autre intersection", None),
    ],
    "atm": [
        (1, "Normale", None),
        (2, "Pluie légère", None),
        (3, "Pluie forte", None),
        (4, "Neige, grêle", None),
        (5, "Brouillard, fumée", None),
        (6, "Vent fort, tempête", None),
        (7, "Temps éblouissant", None),
        (8, "Temps couvert", None),
        (9, "Autre", None),
    ],
    "col": [
        (1, "Deux véhicules, frontale", None),
        (2, "Deux véhicules, par l'arrière", None),
        (3, "Deux véhicules, par le côté", None),
        (4, "Trois véhicules et plus, en chaîne", None),
        (5, "Trois véhicules et plus, collisions multiples", None),
        (6, "Autre collision", None),
        (7, "Sans collision", None),
    ],
    "catr": [
        (1, "Autoroute", None),
        (2, "Route nationale", None),
        (3, "Route départementale", None),
        (4, "Voie communale", None),
        (5, "Hors réseau public", None),
        (6, "Parc de stationnement ouvert à la circulation publique", None),
        (7, "Route de métropole urbaine", None),
        (9, "Autre", None),
    ],
    "surf": [
        (1, "Normale", None),
        (2, "Mouillée", None),
        (3, "Flaques", None),
        (4, "Inondée", None),
        (5, "Enneigée", None),
        (6, "Boue", None),
        (7, "Verglacée", None),
        (8, "Corps gras, huile", None),
        (9, "Autre", None),
    ],
    "catu": [
        (1, "Conducteur", None),
        (2, "Passager", None),
        (3, "Piéton", "Piéton"),
        (4, "Piéton en roller ou trottinette (jusqu'en 2018)", "Piéton"),
    ],
    "grav": [
        (1, "Indemne", None),
        (2, "Tué", "tue"),
        (3, "Blessé hospitalisé", "hospitalise"),
        (4, "Blessé léger", "leger"),
    ],
    "trajet": [
        (0, "Non renseigné", None),
        (1, "Domicile – travail", None),
        (2, "Domicile – école", None),
        (3, "Courses – achats", None),
        (4, "Utilisation professionnelle", None),
        (5, "Promenade – loisirs", None),
        (9, "Autre", None),
    ],
    "catv": [
        (0, "Indéterminable", "Autre ou indéterminé"),
        (1, "Bicyclette", "Cycliste"),
        (2, "Cyclomoteur < 50 cm3", "Deux-roues motorisé"),
        (3, "Voiturette", "Voiture"),
        (4, "Scooter immatriculé (jusqu'en 2006)", "Deux-roues motorisé"),
        (5, "Motocyclette (jusqu'en 2006)", "Deux-roues motorisé"),
        (6, "Side-car (jusqu'en 2006)", "Deux-roues motorisé"),
        (7, "Véhicule léger seul", "Voiture"),
        (8, "Véhicule léger + caravane (jusqu'en 2006)", "Voiture"),
        (9, "Véhicule léger + remorque (jusqu'en 2006)", "Voiture"),
        (10, "Véhicule utilitaire seul 1,5 t ≤ PTAC ≤ 3,5 t", "Véhicule utilitaire"),
        (11, "Véhicule utilitaire + caravane (jusqu'en 2006)", "Véhicule utilitaire"),
        (12, "Véhicule utilitaire + remorque (jusqu'en 2006)", "Véhicule utilitaire"),
        (13, "Poids lourd seul 3,5 t < PTCA ≤ 7,5 t", "Poids lourd"),
        (14, "Poids lourd seul > 7,5 t", "Poids lourd"),
        (15, "Poids lourd > 3,5 t + remorque", "Poids lourd"),
        (16, "Tracteur routier seul", "Poids lourd"),
        (17, "Tracteur routier + semi-remorque", "Poids lourd"),
        (18, "Transport en commun (jusqu'en 2006)", "Bus, car, tramway, train"),
        (19, "Tramway (jusqu'en 2006)", "Bus, car, tramway, train"),
        (20, "Engin spécial", "Autre ou indéterminé"),
        (21, "Tracteur agricole", "Autre ou indéterminé"),
        (30, "Scooter < 50 cm3", "Deux-roues motorisé"),
        (31, "Motocyclette > 50 cm3 et ≤ 125 cm3", "Deux-roues motorisé"),
        (32, "Scooter > 50 cm3 et ≤ 125 cm3", "Deux-roues motorisé"),
        (33, "Motocyclette > 125 cm3", "Deux-roues motorisé"),
        (34, "Scooter > 125 cm3", "Deux-roues motorisé"),
        (35, "Quad léger ≤ 50 cm3", "Autre ou indéterminé"),
        (36, "Quad lourd > 50 cm3", "Autre ou indéterminé"),
        (37, "Autobus", "Bus, car, tramway, train"),
        (38, "Autocar", "Bus, car, tramway, train"),
        (39, "Train", "Bus, car, tramway, train"),
        (40, "Tramway", "Bus, car, tramway, train"),
        (41, "Trois-roues motorisé ≤ 50 cm3", "Deux-roues motorisé"),
        (42, "Trois-roues motorisé > 50 cm3 et ≤ 125 cm3", "Deux-roues motorisé"),
        (43, "Trois-roues motorisé > 125 cm3", "Deux-roues motorisé"),
        (50, "Engin de déplacement personnel motorisé", "Engin de déplacement personnel"),
        (60, "Engin de déplacement personnel non motorisé", "Engin de déplacement personnel"),
        (80, "Vélo à assistance électrique", "Cycliste"),
        (99, "Autre véhicule", "Autre ou indéterminé"),
    ],
}

_BATCH = f"{S}.import_batch.id"
_ACCIDENT = f"{S}.road_accident.id"


def _batch_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["batch_id"], [_BATCH], name=f"fk_{table}_batch_id_import_batch")


def _accident_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["accident_id"], [_ACCIDENT], ondelete="CASCADE", name=f"fk_{table}_accident_id_road_accident"
    )


def upgrade() -> None:
    small = sa.SmallInteger
    op.create_table(
        "road_accident",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("year", small(), nullable=False),
        sa.Column("accident_date", sa.Date(), nullable=False),
        sa.Column("accident_time", sa.Time()),
        *(
            sa.Column(name, small())
            for name in ("lighting", "built_up", "intersection", "weather", "collision")
        ),
        sa.Column("commune_insee", sa.String(5), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(2)),
        sa.Column("address", sa.Text()),
        sa.Column("geom", geoalchemy2.Geometry("POINT", 4326, spatial_index=False), nullable=True),
        sa.Column(
            "geom_l93",
            geoalchemy2.Geometry("POINT", 2154, spatial_index=False),
            sa.Computed("st_transform(geom, 2154)", persisted=True),
            nullable=True,
        ),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        _batch_fk("road_accident"),
        sa.PrimaryKeyConstraint("id", name="pk_road_accident"),
        schema=S,
    )
    op.create_index("ix_road_accident_commune_year", "road_accident", ["commune_insee", "year"], schema=S)
    op.create_index("ix_road_accident_departement_year", "road_accident", ["departement", "year"], schema=S)
    op.create_index("ix_road_accident_region_year", "road_accident", ["region", "year"], schema=S)
    op.create_index("ix_road_accident_batch_id", "road_accident", ["batch_id"], schema=S)
    op.create_index(
        "idx_road_accident_geom_l93", "road_accident", ["geom_l93"], schema=S, postgresql_using="gist"
    )

    op.create_table(
        "road_place",
        sa.Column("accident_id", sa.BigInteger(), nullable=False),
        sa.Column("road_category", small()),
        sa.Column("road_number", sa.String(20)),
        *(
            sa.Column(name, small())
            for name in (
                "traffic_regime",
                "lanes",
                "reserved_lane",
                "profile",
                "layout",
                "surface",
                "infrastructure",
                "situation",
                "speed_limit",
            )
        ),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        _accident_fk("road_place"),
        _batch_fk("road_place"),
        sa.PrimaryKeyConstraint("accident_id", name="pk_road_place"),
        schema=S,
    )
    op.create_index("ix_road_place_batch_id", "road_place", ["batch_id"], schema=S)

    op.create_table(
        "road_vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accident_id", sa.BigInteger(), nullable=False),
        sa.Column("vehicle_letter", sa.String(5), nullable=False),
        sa.Column("vehicle_ref", sa.String(20)),
        *(
            sa.Column(name, small())
            for name in (
                "direction",
                "category",
                "fixed_obstacle",
                "mobile_obstacle",
                "impact",
                "manoeuvre",
                "motor",
            )
        ),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        _accident_fk("road_vehicle"),
        _batch_fk("road_vehicle"),
        sa.PrimaryKeyConstraint("id", name="pk_road_vehicle"),
        sa.UniqueConstraint(
            "accident_id", "vehicle_letter", name="uq_road_vehicle_accident_id_vehicle_letter"
        ),
        schema=S,
    )
    op.create_index("ix_road_vehicle_batch_id", "road_vehicle", ["batch_id"], schema=S)

    op.create_table(
        "road_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accident_id", sa.BigInteger(), nullable=False),
        sa.Column("rank_in_accident", small(), nullable=False),
        sa.Column("vehicle_letter", sa.String(5)),
        sa.Column("vehicle_ref", sa.String(20)),
        sa.Column("user_ref", sa.String(20)),
        *(sa.Column(name, small()) for name in ("seat", "category", "gravity", "birth_year", "trip_purpose")),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        _accident_fk("road_user"),
        _batch_fk("road_user"),
        sa.PrimaryKeyConstraint("id", name="pk_road_user"),
        sa.UniqueConstraint(
            "accident_id", "rank_in_accident", name="uq_road_user_accident_id_rank_in_accident"
        ),
        schema=S,
    )
    op.create_index("ix_road_user_batch_id", "road_user", ["batch_id"], schema=S)

    op.create_table(
        "road_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", small(), nullable=False),
        sa.Column("table_name", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        _batch_fk("road_file"),
        sa.PrimaryKeyConstraint("id", name="pk_road_file"),
        schema=S,
    )
    op.create_index("ix_road_file_batch_id", "road_file", ["batch_id"], schema=S)
    op.create_index("ix_road_file_year_table_name", "road_file", ["year", "table_name"], schema=S)

    code_table = op.create_table(
        "road_code",
        sa.Column("list_name", sa.String(20), nullable=False),
        sa.Column("code", small(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("grouping", sa.String(40)),
        sa.PrimaryKeyConstraint("list_name", "code", name="pk_road_code"),
        schema=S,
        comment=CATALOGUE_COMMENT,
    )
    op.bulk_insert(
        code_table,
        [
            {"list_name": name, "code": code, "label": label, "grouping": grouping}
            for name, codes in _CODES.items()
            for code, label, grouping in codes
        ],
    )
    # Tables created after 0001 get the application role's rights from its default privileges only when
    # the same role creates them; granting again keeps both migration orders right.
    op.execute(f"""
        DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
            GRANT SELECT, INSERT, UPDATE, DELETE ON {S}.road_accident, {S}.road_place, {S}.road_vehicle,
                {S}.road_user, {S}.road_file TO obs_app;
            GRANT SELECT ON {S}.road_code TO obs_app;
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {S} TO obs_app;
        END IF;
        END $$;
    """)


def downgrade() -> None:
    for table in ("road_code", "road_file", "road_user", "road_vehicle", "road_place", "road_accident"):
        op.drop_table(table, schema=S)
