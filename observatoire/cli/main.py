"""The ``observatoire`` command: a thin face over the library, French messages, no tracebacks."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

import click

from observatoire.cli.common import import_group
from observatoire.errors import ObservatoireError

log = logging.getLogger("observatoire")


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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Journal détaillé sur la sortie d'erreur.")
def cli(verbose: bool) -> None:
    """Observatoire local de la tranquillité publique."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


cli.add_command(import_group)


def _register_commands() -> None:
    import observatoire.cli.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        module.register(cli)


_register_commands()


def main() -> None:
    cli(prog_name="observatoire")
