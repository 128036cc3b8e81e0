"""Police nationale statistics: the reason a value was withheld, and the series breaks between editions.

- ``pn_stat.withheld``: why the SSMSI did not publish a value (``ndiff`` flag, blank/``NA``/``s`` cell,
  zeros of a file that writes its secret as 0); NULL for a published value.
- ``obs.pn_series_break``: per indicator, two editions whose common years differ beyond a tolerance
  (a definition change, not a trend): charts cut the line there, tables mark it.

Revision ID: 1400
Revises: 1300
Create Date: 2026-12-03
"""

from alembic import op

revision = "1400"
down_revision = "1300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(_SQL_UP)


def downgrade() -> None:
    op.execute(_SQL_DOWN)


# The SQL as it stood when this migration was written, frozen.
_SQL_UP = """
ALTER TABLE obs.pn_stat ADD COLUMN withheld text;
CREATE TABLE obs.pn_series_break (
    id bigserial,
    indicator_id varchar(40) NOT NULL,
    edition_before varchar(40) NOT NULL,
    edition_after varchar(40) NOT NULL,
    first_year integer NOT NULL,
    last_year integer NOT NULL,
    territories integer NOT NULL,
    min_change double precision NOT NULL,
    max_change double precision NOT NULL,
    tolerance double precision NOT NULL,
    batch_id integer,
    CONSTRAINT pk_pn_series_break PRIMARY KEY (id),
    CONSTRAINT uq_pn_series_break_key UNIQUE (indicator_id, edition_before, edition_after),
    CONSTRAINT fk_pn_series_break_indicator_id_pn_indicator FOREIGN KEY (indicator_id)
        REFERENCES obs.pn_indicator (id),
    CONSTRAINT fk_pn_series_break_edition_before_pn_edition FOREIGN KEY (edition_before)
        REFERENCES obs.pn_edition (code) ON DELETE CASCADE,
    CONSTRAINT fk_pn_series_break_edition_after_pn_edition FOREIGN KEY (edition_after)
        REFERENCES obs.pn_edition (code) ON DELETE CASCADE,
    CONSTRAINT fk_pn_series_break_batch_id_import_batch FOREIGN KEY (batch_id)
        REFERENCES obs.import_batch (id)
);
"""

_SQL_DOWN = """
DROP TABLE obs.pn_series_break;
ALTER TABLE obs.pn_stat DROP COLUMN withheld;
"""
