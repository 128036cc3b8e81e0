"""Named column mappings ("profils de correspondance"), saved per source and reused on the next upload."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.tabular import ColumnMapping
from observatoire.errors import InputFileError, NotFound

_PROFILE = sa.table(
    "import_profile",
    sa.column("id"),
    sa.column("source"),
    sa.column("name"),
    sa.column("mapping", sa.JSON),
    sa.column("created_by"),
    sa.column("updated_at"),
    schema="obs",
)


def save_profile(
    engine: Engine, source: str, name: str, mapping: ColumnMapping, user: str | None = None
) -> None:
    """Create or replace the profile ``name`` of ``source``."""
    name = name.strip()
    if not name:
        raise InputFileError("Donnez un nom au profil de correspondance.")
    from sqlalchemy.dialects.postgresql import insert

    stmt = insert(_PROFILE).values(source=source, name=name, mapping=mapping.to_dict(), created_by=user)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "name"],
        set_={
            "mapping": stmt.excluded.mapping,
            "created_by": stmt.excluded.created_by,
            "updated_at": sa.func.now(),
        },
    )
    with engine.begin() as conn:
        conn.execute(stmt)


def list_profiles(engine: Engine, source: str) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(_PROFILE.c.name, _PROFILE.c.mapping, _PROFILE.c.created_by, _PROFILE.c.updated_at)
                .where(_PROFILE.c.source == source)
                .order_by(_PROFILE.c.name)
            )
            .mappings()
            .all()
        )
    return pd.DataFrame(
        [
            {
                "name": r["name"],
                "columns": r["mapping"].get("columns", {}),
                "crs": r["mapping"].get("crs", "auto"),
                "created_by": r["created_by"],
                "updated_at": r["updated_at"],
            }
            for r in rows
        ],
        columns=["name", "columns", "crs", "created_by", "updated_at"],
    )


def load_profile(engine: Engine, source: str, name: str) -> ColumnMapping:
    with engine.connect() as conn:
        data = conn.execute(
            sa.select(_PROFILE.c.mapping).where(_PROFILE.c.source == source, _PROFILE.c.name == name)
        ).scalar()
        if data is None:
            names = (
                conn.execute(
                    sa.select(_PROFILE.c.name).where(_PROFILE.c.source == source).order_by(_PROFILE.c.name)
                )
                .scalars()
                .all()
            )
            raise NotFound(
                f"Profil de correspondance inconnu : {name!r}. Profils enregistrés : "
                + (", ".join(names) if names else "aucun")
                + "."
            )
    return ColumnMapping.from_dict(data)


def delete_profile(engine: Engine, source: str, name: str) -> bool:
    with engine.begin() as conn:
        return (
            conn.execute(
                sa.delete(_PROFILE).where(_PROFILE.c.source == source, _PROFILE.c.name == name)
            ).rowcount
            > 0
        )
