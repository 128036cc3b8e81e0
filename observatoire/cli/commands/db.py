"""``observatoire db …``: the local PostGIS cluster and the migrations."""

from __future__ import annotations

import click

from observatoire.cli.common import Context, pass_ctx


def register(cli: click.Group) -> None:
    cli.add_command(db)


@click.group()
def db() -> None:
    """Base de données locale (PostgreSQL + PostGIS gérés par l'observatoire)."""


def _external(ctx: Context) -> bool:
    if ctx.settings.database_url:
        click.echo("OBS_DATABASE_URL est défini : la base est externe, rien n'est démarré localement.")
        return True
    return False


@db.command()
@pass_ctx
def start(ctx: Context) -> None:
    """Créer si besoin puis démarrer la base locale (sans effet si elle tourne déjà)."""
    from observatoire.localdb import LocalCluster

    if _external(ctx):
        return
    state = LocalCluster(ctx.settings.home).start()
    click.echo(f"Base locale démarrée sur 127.0.0.1:{state.port} (données : {state.datadir}).")


@db.command()
@pass_ctx
def stop(ctx: Context) -> None:
    """Arrêter la base locale."""
    from observatoire.localdb import LocalCluster

    if _external(ctx):
        return
    LocalCluster(ctx.settings.home).stop()
    click.echo("Base locale arrêtée.")


@db.command()
@pass_ctx
def status(ctx: Context) -> None:
    """Dire si la base répond et à quelle version du schéma elle est."""
    import sqlalchemy as sa

    from observatoire.db import check_connection, get_engine
    from observatoire.localdb import LocalCluster

    if not ctx.settings.database_url:
        cluster = LocalCluster(ctx.settings.home)
        state = cluster.load_state()
        if state is None:
            click.echo("Aucune base locale : lancez `observatoire db start`.")
            raise SystemExit(1)
        if not cluster.is_running():
            click.echo(f"Base locale arrêtée (données : {state.datadir}).")
            raise SystemExit(1)
    engine = get_engine(ctx.settings)
    check_connection(engine)
    with engine.connect() as conn:
        version = (
            conn.execute(sa.text("SELECT string_agg(version_num, ', ') FROM obs.alembic_version")).scalar()
            if conn.execute(sa.text("SELECT to_regclass('obs.alembic_version')")).scalar()
            else None
        )
    click.echo(f"Base joignable ; schéma : {version or 'non migré (lancez observatoire db upgrade)'}.")


@db.command()
@click.option(
    "--admin", is_flag=True, help="L'URL du rôle propriétaire (migrations) plutôt que celle de l'application."
)
@pass_ctx
def url(ctx: Context, admin: bool) -> None:
    """Afficher l'URL SQLAlchemy de la base."""
    from observatoire.localdb import database_urls

    app_url, admin_url = database_urls(ctx.settings)
    click.echo(admin_url if admin else app_url)


@db.command()
@pass_ctx
def upgrade(ctx: Context) -> None:
    """Appliquer les migrations du schéma."""
    from observatoire import migrate

    migrate.upgrade(ctx.settings)
    click.echo("Schéma à jour.")
