"""Large imports: natural keys compared byte for byte, no index on the type of an intervention, reference
checks of the bulk insert made once after it.

- ``natural_key`` of ``pm_intervention`` and ``pn_fact`` takes the "C" collation. The key is only ever
  compared for equality (deduplication), where every collation agrees; sorting it byte for byte builds its
  unique index in about half the time and makes each lookup cheaper.
- The index on ``pm_intervention.type_code`` goes. No page reads interventions by type through SQL (the map
  and the activity page aggregate the whole table); the catalogue counts them in one grouped scan. What
  needs a quick path is the list of labels left outside the nomenclature: a partial index on the label key
  of the unclassified rows, empty most of the time, serves it and attaching a label.
- The bulk insert functions of ``pm_intervention`` and ``pn_stat`` are recreated: they now take the
  per-statement reference trigger out of their insert and run the same checks once over the table
  (``<table>_check_all_references()``), under the lock they already hold.

Revision ID: 0800
Revises: 0700
Create Date: 2026-11-22
"""

from alembic import op

from observatoire.bulk_sql import bulk_insert_function, reference_scan

revision = "0800"
down_revision = "0700"
branch_labels = None
depends_on = None

S = "obs"
PM_REFERENCES = (("batch_id", "import_batch", "id", "integer"),)
PN_STAT_REFERENCES = (("territory_code", "territory", "code", "text"), ("batch_id", "import_batch", "id", "integer"))


def upgrade() -> None:
    for table in ("pm_intervention", "pn_fact"):
        op.execute(f'ALTER TABLE {S}.{table} ALTER COLUMN natural_key TYPE text COLLATE "C"')
    op.drop_index("ix_pm_intervention_type_code", table_name="pm_intervention", schema=S)
    op.create_index("ix_pm_intervention_unclassified", "pm_intervention", ["label_key"], schema=S,
                    postgresql_where="type_code IS NULL")
    op.execute(reference_scan("pm_intervention", PM_REFERENCES))
    op.execute(reference_scan("pn_stat", PN_STAT_REFERENCES))
    op.execute(bulk_insert_function("pm_intervention", ("natural_key",),
                                    dropped_fk_targets=("pm_intervention_type", "pm_family")))
    op.execute(bulk_insert_function("pn_stat", ("edition", "indicator_id", "territory_code", "year")))


def downgrade() -> None:
    # Without the scan functions the bulk inserts keep the insert trigger on, as before.
    op.execute(f"DROP FUNCTION {S}.pn_stat_check_all_references()")
    op.execute(f"DROP FUNCTION {S}.pm_intervention_check_all_references()")
    op.drop_index("ix_pm_intervention_unclassified", table_name="pm_intervention", schema=S)
    op.create_index("ix_pm_intervention_type_code", "pm_intervention", ["type_code"], schema=S)
    for table in ("pm_intervention", "pn_fact"):
        op.execute(f'ALTER TABLE {S}.{table} ALTER COLUMN natural_key TYPE text COLLATE "default"')
