"""The ``observatoire`` command: a thin face over the library, French messages, no tracebacks."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

import click
from sqlalchemy import exc as sa_exc

from observatoire.cli import french
from observatoire.cli.common import import_group
from observatoire.errors import ObservatoireError

log = logging.getLogger("observatoire")
french.install()  # before any command is built: Click's own texts (help, usage errors) in French


class _Group(click.Group):
    """Turns the product's errors into one French line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ObservatoireError as exc:
            click.echo(f"Erreur : {exc.message}", err=True)
            if exc.detail:
                log.info("détail : %s", exc.detail)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # the last net: a French line, the traceback in the log, never on screen
            log.debug("erreur inattendue", exc_info=True)
            click.echo(f"Erreur : {unexpected_message(exc)}", err=True)
            ctx.exit(1)


def unexpected_message(exc: BaseException) -> str:
    """What a person is told of a failure the product did not foresee."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return (
            "la base de données ne répond plus ou a interrompu l'opération. Une importation interrompue "
            "n'enregistre rien : relancez-la quand la base est de nouveau disponible (observatoire db status)."
        )
    return (
        f"l'opération a échoué sur une erreur imprévue ({type(exc).__name__}). Une importation interrompue "
        "n'enregistre rien. Relancez avec --verbose pour le détail technique et transmettez-le à "
        "l'administrateur."
    )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Journal détaillé sur la sortie d'erreur.")
def cli(verbose: bool) -> None:
    """Observatoire local de la tranquillité publique."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


cli.add_command(import_group)


def _register_commands() -> None:
    import observatoire.cli.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        module.register(cli)


_register_commands()
french.translate_placeholders(cli)


def main() -> None:
    cli(prog_name="observatoire")
