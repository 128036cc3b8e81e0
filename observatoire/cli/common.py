"""What every command of the ``observatoire`` command shares: the context (settings, engine, operator),
the options of imports and formats, and the printing of an import report."""

from __future__ import annotations

import getpass
import json
import logging
from pathlib import Path
from typing import Any

import click

from observatoire.errors import ValidationFailed
from observatoire.imports.batches import ImportReport
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
    for option in reversed(
        [
            click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
            click.option(
                "--mapping",
                "mapping",
                metavar="NOM",
                help="Profil de correspondance des colonnes enregistré.",
            ),
            click.option(
                "--save-mapping",
                "save_as",
                metavar="NOM",
                help="Enregistrer la correspondance utilisée sous ce nom pour les prochains imports.",
            ),
            click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer."),
            click.option(
                "--accept-valid",
                is_flag=True,
                help="Importer les lignes valides et consigner les lignes rejetées.",
            ),
            format_option("table", "json"),
        ]
    ):
        func = option(func)
    return func


def format_option(*choices: str, default: str = "table"):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or ("table", "json")),
        default=default,
        show_default=True,
        help="Format de sortie.",
    )


@click.group("import")
def import_group() -> None:
    """Importer un fichier de données."""
