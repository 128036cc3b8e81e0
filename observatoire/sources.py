"""The one table of data sources: what the product knows of each source, written once.

Every list that names sources derives from :data:`SOURCES`: the tables an undo clears
(:mod:`observatoire.imports.admin`), what the purge removes (:mod:`observatoire.imports.retention`), what the
home page says is loaded (:mod:`observatoire.overview`), who sees which events on the map
(:mod:`observatoire.events.filter`), the labels of the imports page, the colours of the map, the order of the
demo data. A test checks the ``obs.event`` view's branches against :func:`event_sources`.

Adding a source: one entry here, a migration (its tables, and its branch of ``obs.event`` when it has dated,
placed events), an importer in ``ingest/``, a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from observatoire.permissions import PERMISSIONS


@dataclass(frozen=True)
class Retention:
    """Rows of ``table`` older than the setting ``years_setting`` (in years, on ``date_column``) are purged."""

    table: str
    date_column: str
    years_setting: str


@dataclass(frozen=True)
class Freshness:
    """What the home page says of the data loaded: the latest period (SQL giving text) and the row count."""

    table: str
    latest_sql: str


@dataclass(frozen=True)
class Source:
    key: str  # the source's name in import batches, reports and this code
    label: str  # French, for pages and reports
    short: str  # French, a few letters, where space is short (map legend, table column)
    # Batch names of its imports when not ``key`` alone (territories: one per level).
    batch_names: tuple[str, ...] = ()
    event_code: str | None = None  # its value of ``obs.event.source``; None: no dated, placed events
    undo_tables: tuple[str, ...] = ()  # tables whose rows an import inserted (batch_id); () : no undo
    retention: Retention | None = None
    freshness: Freshness | None = None
    map_permission: str = "carte.voir"  # the roles holding it see the source's events on the map
    # The roles holding it are told what the source holds (home page: latest period, row count); None: nobody.
    view_permission: str | None = None
    colour: str | None = None  # of its points on the map (Okabe–Ito, colour-blind safe)
    importer: str | None = None  # "module:function" of its import
    demo: str | None = None  # module of sample_data generating and loading its demo files
    # "module:function" (conn, batch_id) → why an undo of one of its imports is refused (French), or None: rows
    # of other tables that refer to the import's rows and that an undo would leave pointing at nothing.
    undo_check: str | None = None

    @property
    def batches(self) -> tuple[str, ...]:
        return self.batch_names or (self.key,)

    @property
    def map_roles(self) -> frozenset[str]:
        return PERMISSIONS[self.map_permission] if self.event_code else frozenset()


# In the order of the demo load (territories and populations before the sources that count in them, the address
# base before the sources it places), which is also the order of the map's filters and legend.
SOURCES: tuple[Source, ...] = (
    Source(
        "territoires",
        "Contours des territoires",
        "Contours",
        batch_names=tuple(
            f"territoires-{level}" for level in ("commune", "departement", "region", "iris", "qpv")
        ),
        importer="ingest.territories:import_territories",
        demo="sample_data.reference",
    ),
    Source(
        "insee-population",
        "Population INSEE",
        "Population",
        importer="ingest.territories:import_insee_population",
    ),
    Source(
        "ssmsi",
        "Bases statistiques SSMSI",
        "SSMSI",
        freshness=Freshness("obs.pn_stat", "SELECT max(year)::text FROM obs.pn_stat WHERE count IS NOT NULL"),
        view_permission="stats.voir",
        importer="ingest.ssmsi:import_ssmsi",
        demo="sample_data.ssmsi",
    ),
    Source(
        "etat4001",
        "État 4001 (faits constatés locaux)",
        "État 4001",
        undo_tables=("obs.etat4001_count",),
        freshness=Freshness(
            "obs.etat4001_count",
            "SELECT to_char(make_date(max(year * 100 + month) / 100, max(year * 100 + month) % 100, 1), "
            "'MM/YYYY') FROM obs.etat4001_count",
        ),
        view_permission="stats.voir",
        importer="ingest.etat4001:import_etat4001",
        demo="sample_data.etat4001",
    ),
    Source(
        "ban",
        "Base Adresse Nationale",
        "BAN",
        undo_tables=("obs.ban_address",),
        importer="ingest.ban:import_ban",
    ),
    Source(
        "pm",
        "Police municipale (interventions)",
        "PM",
        event_code="pm",
        undo_tables=("obs.pm_intervention",),
        retention=Retention("obs.pm_intervention", "occurred_at", "logbook_retention_years"),
        freshness=Freshness(
            "obs.pm_intervention", "SELECT to_char(max(occurred_at), 'DD/MM/YYYY') FROM obs.pm_intervention"
        ),
        view_permission="pm.voir",
        colour="#E69F00",
        importer="ingest.police_municipale:commit",
        demo="sample_data.police_municipale",
    ),
    Source(
        "pn_faits",
        "Police nationale (faits constatés)",
        "PN",
        event_code="pn",
        undo_tables=("obs.pn_fact",),
        map_permission="stats.voir",
        view_permission="stats.voir",
        colour="#0072B2",
        importer="ingest.pn_faits:commit",
        demo="sample_data.pn_faits",
    ),
    Source(
        "onisr-baac",
        "Accidents corporels de la route (ONISR)",
        "Routes",
        event_code="routes",
        freshness=Freshness("obs.road_accident", "SELECT max(year)::text FROM obs.road_accident"),
        map_permission="routes.voir",
        view_permission="routes.voir",
        colour="#009E73",
        importer="ingest.baac:import_baac",
        demo="sample_data.baac",
    ),
    # Cameras are equipment, not dated events: they are a layer of their own on the map, not a branch of
    # obs.event (whose rows every count, hexagon and hot spot adds up).
    Source(
        "cameras",
        "Vidéoprotection (caméras)",
        "Caméras",
        undo_tables=("obs.video_camera",),
        freshness=Freshness(
            "obs.video_camera", "SELECT count(*)::text || ' caméra(s)' FROM obs.video_camera"
        ),
        view_permission="video.voir",
        importer="ingest.cameras:import_cameras",
        demo="sample_data.videoprotection",
        undo_check="observatoire.videoprotection.inventory:undo_problem",
    ),
    Source(
        "requisitions",
        "Vidéoprotection (réquisitions judiciaires)",
        "Réquisitions",
        undo_tables=("obs.video_requisition",),
        # The consultation, extraction and hand-over log: three years, then purged (the purge is logged).
        retention=Retention("obs.video_access_log", "at", "video_log_retention_years"),
        freshness=Freshness(
            "obs.video_requisition",
            "SELECT to_char(max(requested_on), 'DD/MM/YYYY') FROM obs.video_requisition",
        ),
        view_permission="video.voir",
        importer="ingest.requisitions:import_requisitions",
    ),
    Source(
        "plan-actions",
        "Plan d'actions de la stratégie (fiches-actions)",
        "Plan",
        undo_tables=("obs.strategy",),
        freshness=Freshness("obs.action_fiche", "SELECT max(code) FROM obs.strategy"),
        view_permission="actions.voir",
        importer="ingest.plan_actions:import_plan",
        demo="sample_data.plan_actions",
    ),
    Source(
        "plan-valeurs",
        "Suivi annuel du plan d'actions",
        "Suivi",
        undo_tables=("obs.action_entry",),
        freshness=Freshness("obs.action_entry", "SELECT max(year)::text FROM obs.action_entry"),
        view_permission="actions.voir",
        importer="ingest.plan_actions:import_values",
    ),
    Source(
        "enquete",
        "Enquêtes de sécurité ressentie",
        "Enquêtes",
        undo_tables=("obs.survey_answer", "obs.survey"),
        freshness=Freshness("obs.survey_answer", "SELECT max(code) FROM obs.survey"),
        view_permission="enquetes.voir",
        importer="ingest.survey:import_survey",
        demo="sample_data.surveys",
    ),
)

BY_KEY: dict[str, Source] = {s.key: s for s in SOURCES}


def by_batch(batch_source: str) -> Source | None:
    """The source of an import batch, by the name the batch carries."""
    return next((s for s in SOURCES if batch_source in s.batches), None)


def event_sources() -> tuple[Source, ...]:
    """Sources with events on the map, in the order of the map's legend and filters."""
    return tuple(s for s in SOURCES if s.event_code)


def by_event_code(code: str) -> Source:
    return next(s for s in SOURCES if s.event_code == code)
