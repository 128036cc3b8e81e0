"""``observatoire serve`` and ``observatoire demo``."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import click

from observatoire.cli.common import Context, pass_ctx
from observatoire.settings import DEFAULT_SECRET, Settings

log = logging.getLogger(__name__)

DEMO_ACCOUNTS = {
    "demo-admin": "admin",
    "demo-analyste": "analyste",
    "demo-conseil": "conseil",
    "demo-pm": "police_municipale",
    "demo-video": "videoprotection",
}


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(demo)


def _local_secret(settings: Settings) -> Settings:
    """On a developer's machine, replace the published default secret by one kept in OBS_HOME."""
    if settings.secret_key != DEFAULT_SECRET:
        return settings
    path = Path(settings.home) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return settings.model_copy(update={"secret_key": path.read_text().strip()})


def _serve(settings: Settings, host: str, port: int) -> None:
    from waitress import serve as waitress_serve

    from dashboard.app import create_app
    from observatoire.events import store as event_store
    from observatoire.localdb import free_port, port_is_free

    if not port_is_free(port):
        chosen = free_port(port + 1)
        click.echo(f"Le port {port} est déjà pris : le tableau de bord utilise le port {chosen}.")
        port = chosen
    app = create_app(_local_secret(settings))
    event_store.warm(app.server.config["OBS_ENGINE"])
    click.echo(f"Tableau de bord : http://{host}:{port}/  (Ctrl+C pour arrêter)")
    waitress_serve(app.server, host=host, port=port, threads=8, ident="observatoire")


@click.command()
@click.option("--host", default=None, help="Adresse d'écoute (par défaut 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (par défaut 8050 ; un port libre si pris).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Servir le tableau de bord."""
    ctx.engine()  # fail early, with the French message, if the database is not there
    _serve(ctx.settings, host or ctx.settings.host, port or ctx.settings.port)


@click.command()
@click.option("--no-serve", is_flag=True, help="Préparer la base et les données sans lancer le serveur.")
@click.option("--port", type=int, default=None, help="Port du tableau de bord.")
@pass_ctx
def demo(ctx: Context, no_serve: bool, port: int | None) -> None:
    """Préparer la démonstration : base, migrations, données fictives, comptes, puis servir."""
    from observatoire import migrate
    from observatoire.auth import add_user, generate_password, list_users
    from sample_data.demo import load

    migrate.upgrade(ctx.settings)
    engine = ctx.engine()
    loaded = load(engine)
    click.echo(f"Données fictives de démonstration chargées : {', '.join(loaded)}.")
    existing = {u["login"] for u in list_users(engine)}
    created = []
    for login, role in DEMO_ACCOUNTS.items():
        if login not in existing:
            password = generate_password()
            add_user(engine, login, role, password, by="demo")
            created.append((login, role, password))
    if created:
        click.echo("\nComptes de démonstration (mots de passe affichés une seule fois) :")
        for login, role, password in created:
            click.echo(f"  {login:<15} {role:<18} {password}")
        click.echo("")
    else:
        click.echo(
            "Comptes de démonstration déjà créés (nouveau mot de passe : "
            "observatoire users reset-password LOGIN --generate)."
        )
    if not no_serve:
        _serve(ctx.settings, ctx.settings.host, port or ctx.settings.port)
