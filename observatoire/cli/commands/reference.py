"""``observatoire import territories|insee-population``: reference data."""

from __future__ import annotations

from pathlib import Path

import click

from ingest.territories import LEVELS
from observatoire.cli.common import Context, format_option, import_group, pass_ctx, run_import_command


def register(cli: click.Group) -> None:
    import_group.add_command(territories)
    import_group.add_command(insee_population)


@click.command("territories")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--level", required=True, type=click.Choice(LEVELS), help="Niveau des contours du fichier.")
@click.option(
    "--reparer",
    "repair",
    is_flag=True,
    help="Réparer les géométries invalides au lieu de refuser le fichier.",
)
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def territories(ctx: Context, file: Path, level: str, repair: bool, dry_run: bool, fmt: str) -> None:
    """Importer des contours (GeoJSON ou GeoPackage) : communes, départements, régions, IRIS, QPV."""
    from ingest.territories import import_territories

    run_import_command(
        fmt, import_territories, ctx.engine(), file, level, user=ctx.operator, repair=repair, dry_run=dry_run
    )


@click.command("insee-population")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def insee_population(ctx: Context, file: Path, dry_run: bool, fmt: str) -> None:
    """Importer les populations municipales INSEE par commune et millésime (CSV, éventuellement .gz)."""
    from ingest.territories import import_insee_population

    run_import_command(fmt, import_insee_population, ctx.engine(), file, user=ctx.operator, dry_run=dry_run)
