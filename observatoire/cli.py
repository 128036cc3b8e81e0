"""The ``observatoire`` command: a thin face over the library, French messages, no tracebacks."""

from __future__ import annotations

import getpass
import importlib
import json
import logging
import pkgutil
from pathlib import Path
from typing import Any

import click

from observatoire.batches import ImportReport
from observatoire.errors import ObservatoireError, ValidationFailed
from observatoire.settings import Settings, get_settings

log = logging.getLogger("observatoire")


class Context:
    """Settings and engine built on first use, so ``--help`` never touches the database."""

    def __init__(self) -> None:
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    def engine(self, admin: bool = False):
        from observatoire.db import check_connection, get_engine
        from observatoire.localdb import LocalCluster

        if not self.settings.database_url:
            LocalCluster(self.settings.home).start()
        engine = get_engine(self.settings, admin=admin)
        check_connection(engine)
        return engine

    @property
    def operator(self) -> str:
        """Who runs the CLI, as written in batches and the audit log."""
        return f"cli:{getpass.getuser()}"


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def print_report(report: ImportReport, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    click.echo(report.summary() + (f" (lot n° {report.batch_id})" if report.batch_id else ""))
    for warning in report.warnings:
        click.echo(f"  avertissement : {warning}")
    for err in report.errors[:50]:
        where = f"ligne {err.line}" if err.line is not None else "fichier"
        col = f", colonne {err.column}" if err.column else ""
        val = f" [{err.value}]" if err.value is not None else ""
        click.echo(f"  {where}{col}{val} : {err.message}")
    if report.errors_total > 50:
        click.echo(f"  … et {report.errors_total - 50} autre(s) erreur(s) (voir --format json)")


def run_import_command(fmt: str, fn: Any, *args: Any, **kwargs: Any) -> ImportReport:
    """Run an import and print its report, also when it was refused (then exit non-zero)."""
    try:
        report = fn(*args, **kwargs)
    except ValidationFailed as exc:
        if isinstance(exc.report, ImportReport):
            print_report(exc.report, fmt)
        raise
    print_report(report, fmt)
    return report


def event_import_options(func: Any) -> Any:
    """The options every event upload shares (police municipale, police nationale facts)."""
    for option in reversed([
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--mapping", "mapping", metavar="NOM", help="Profil de correspondance des colonnes enregistré."),
        click.option("--save-mapping", "save_as", metavar="NOM",
                     help="Enregistrer la correspondance utilisée sous ce nom pour les prochains imports."),
        click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer."),
        click.option("--accept-valid", is_flag=True, help="Importer les lignes valides et consigner les lignes rejetées."),
        format_option("table", "json"),
    ]):
        func = option(func)
    return func


def format_option(*choices: str, default: str = "table"):
    return click.option("--format", "fmt", type=click.Choice(choices or ("table", "json")), default=default,
                        show_default=True, help="Format de sortie.")


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


@cli.group("import")
def import_group() -> None:
    """Importer un fichier de données."""


def _register_commands() -> None:
    import observatoire.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        module.register(cli)


_register_commands()


def main() -> None:
    cli(prog_name="observatoire")
