"""``observatoire users …`` and ``observatoire purge``: accounts and retention."""

from __future__ import annotations

import sys

import click

from observatoire.cli.common import Context, pass_ctx
from observatoire.permissions import ROLES


def register(cli: click.Group) -> None:
    cli.add_command(users)
    cli.add_command(purge)


@click.group()
def users() -> None:
    """Comptes et rôles."""


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Mot de passe", hide_input=True, confirmation_prompt=confirm)


@users.command("add")
@click.argument("login")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="Rôle du compte.")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
@pass_ctx
def add(ctx: Context, login: str, role: str, password_stdin: bool) -> None:
    """Créer un compte."""
    from observatoire.auth import add_user

    user = add_user(ctx.engine(), login, role, _read_password(password_stdin), by=ctx.operator)
    click.echo(f"Compte {user.login} créé (rôle : {ROLES[role]}).")


@users.command("list")
@pass_ctx
def list_(ctx: Context) -> None:
    """Lister les comptes."""
    from observatoire.auth import list_users

    for u in list_users(ctx.engine()):
        state = "actif" if u["active"] else "désactivé"
        factor = "TOTP" if u["totp"] else "-"
        last = u["last_login_at"].strftime("%d/%m/%Y %H:%M") if u["last_login_at"] else "jamais"
        click.echo(f"{u['login']:<24} {u['role']:<18} {state:<10} {factor:<5} dernière connexion : {last}")


@users.command("disable")
@click.argument("login")
@pass_ctx
def disable(ctx: Context, login: str) -> None:
    """Désactiver un compte (il ne peut plus se connecter ; ses sessions prennent fin)."""
    from observatoire.auth import disable_user

    disable_user(ctx.engine(), login, by=ctx.operator)
    click.echo(f"Compte {login} désactivé.")


@users.command("set-role")
@click.argument("login")
@click.argument("role", type=click.Choice(list(ROLES)))
@pass_ctx
def set_role_(ctx: Context, login: str, role: str) -> None:
    """Changer le rôle d'un compte (ses sessions prennent fin)."""
    from observatoire.auth import set_role

    set_role(ctx.engine(), login, role, by=ctx.operator)
    click.echo(f"Compte {login} : rôle {ROLES[role]}.")


@users.command("reset-password")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Lire le nouveau mot de passe sur l'entrée standard.")
@click.option("--generate", is_flag=True, help="Générer un mot de passe et l'afficher une fois.")
@pass_ctx
def reset(ctx: Context, login: str, password_stdin: bool, generate: bool) -> None:
    """Changer le mot de passe d'un compte (ses sessions prennent fin, ses verrous sont levés)."""
    from observatoire.auth import generate_password, reset_password

    password = generate_password() if generate else _read_password(password_stdin)
    reset_password(ctx.engine(), login, password, by=ctx.operator)
    click.echo(
        f"Mot de passe de {login} changé." + (f" Nouveau mot de passe : {password}" if generate else "")
    )


@users.command("totp-enable")
@click.argument("login")
@pass_ctx
def totp_enable(ctx: Context, login: str) -> None:
    """Activer le second facteur (code TOTP à 6 chiffres) d'un compte administrateur ou analyste."""
    from observatoire.auth import enable_totp, totp_uri

    secret = enable_totp(ctx.engine(), login, by=ctx.operator)
    login = login.strip().lower()
    click.echo(
        f"Second facteur activé pour {login}. À saisir une seule fois dans l'application "
        "d'authentification du titulaire (il n'est plus affiché ensuite) :"
    )
    click.echo(f"  clé secrète : {secret}")
    click.echo(f"  adresse     : {totp_uri(login, secret)}")
    click.echo("Ses sessions ouvertes ont pris fin ; la prochaine connexion demandera le code.")


@users.command("totp-disable")
@click.argument("login")
@pass_ctx
def totp_disable(ctx: Context, login: str) -> None:
    """Retirer le second facteur d'un compte (appareil perdu : le réactiver ensuite)."""
    from observatoire.auth import disable_totp

    disable_totp(ctx.engine(), login, by=ctx.operator)
    click.echo(f"Second facteur de {login} retiré ; ses sessions ont pris fin.")


@click.command()
@click.option(
    "--years",
    type=int,
    default=None,
    help="Durée de conservation du journal d'audit en années (par défaut : réglage, 3 ans).",
)
@pass_ctx
def purge(ctx: Context, years: int | None) -> None:
    """Appliquer les durées de conservation : journal d'audit et main courante de la police municipale."""
    from observatoire.audit import purge as purge_audit
    from observatoire.imports.retention import purge_source_data

    engine = ctx.engine()
    retention = years or ctx.settings.audit_retention_years
    removed = purge_audit(engine, retention, ctx.operator)
    click.echo(
        f"Journal d'audit : {removed} entrée(s) de plus de {retention} an(s) supprimée(s) ; la purge est journalisée."
    )
    for table, (count, kept) in purge_source_data(engine, ctx.settings, ctx.operator).items():
        click.echo(
            f"{table} : {count} ligne(s) de plus de {kept} an(s) supprimée(s) ; la purge est journalisée."
        )
