"""Sessions checked on the server, login throttling per address, TOTP second factor.

- ``app_user.session_version``: written into the session at login and compared at every request; raised by
  logout, password reset, role change, disabling and second-factor changes, so earlier cookies open nothing.
- ``app_user.totp_secret`` / ``totp_last_step``: the RFC 6238 secret (base32) and the last time step accepted,
  so one code is never accepted twice.
- ``obs.login_throttle``: failures per client address, and until when that address must wait (HTTP 429).
- ``obs.login_lock``: failures per (account, address) pair; a lock keeps one address away from one account,
  never the account from everyone. The account-wide counters of 0001 go.

Revision ID: 1300
Revises: 1200
Create Date: 2026-12-01
"""

from alembic import op

revision = "1300"
down_revision = "1200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(_SQL_UP)


def downgrade() -> None:
    op.execute(_SQL_DOWN)


# The SQL as it stood when this migration was written, frozen.
_SQL_UP = """
ALTER TABLE obs.app_user
    ADD COLUMN session_version integer DEFAULT 0 NOT NULL,
    ADD COLUMN totp_secret text,
    ADD COLUMN totp_last_step bigint,
    DROP COLUMN failed_logins,
    DROP COLUMN first_failed_at,
    DROP COLUMN locked_until;

CREATE TABLE obs.login_throttle (
    address varchar(64) NOT NULL,
    failures integer DEFAULT 0 NOT NULL,
    last_failed_at timestamp with time zone DEFAULT now() NOT NULL,
    blocked_until timestamp with time zone,
    CONSTRAINT pk_login_throttle PRIMARY KEY (address)
);
COMMENT ON TABLE obs.login_throttle IS 'échecs de connexion par adresse (freinage progressif)';

CREATE TABLE obs.login_lock (
    user_id integer NOT NULL,
    address varchar(64) NOT NULL,
    failures integer DEFAULT 0 NOT NULL,
    first_failed_at timestamp with time zone DEFAULT now() NOT NULL,
    locked_until timestamp with time zone,
    CONSTRAINT pk_login_lock PRIMARY KEY (user_id, address),
    CONSTRAINT fk_login_lock_user_id_app_user FOREIGN KEY (user_id) REFERENCES obs.app_user (id) ON DELETE CASCADE
);
COMMENT ON TABLE obs.login_lock IS 'échecs de connexion par compte et par adresse (verrouillage de la paire)';
"""

_SQL_DOWN = """
DROP TABLE obs.login_lock;
DROP TABLE obs.login_throttle;
ALTER TABLE obs.app_user
    DROP COLUMN session_version,
    DROP COLUMN totp_secret,
    DROP COLUMN totp_last_step,
    ADD COLUMN failed_logins integer DEFAULT 0 NOT NULL,
    ADD COLUMN first_failed_at timestamp with time zone,
    ADD COLUMN locked_until timestamp with time zone;
"""
