"""``observatoire import pm|ban`` and ``observatoire imports list|show|undo``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from observatoire.cli.common import (
    Context,
    event_import_options,
    format_option,
    import_group,
    pass_ctx,
    run_import_command,
)


def register(cli: click.Group) -> None:
    import_group.add_command(import_pm)
    import_group.add_command(import_ban)
    cli.add_command(imports)


@click.command("pm")
@event_import_options
@pass_ctx
def import_pm(
    ctx: Context,
    file: Path,
    mapping: str | None,
    save_as: str | None,
    dry_run: bool,
    accept_valid: bool,
    fmt: str,
) -> None:
    """Importer un export d'interventions de police municipale (CSV ou XLSX)."""
    from ingest import police_municipale as pm
    from ingest import profiles, tabular

    engine = ctx.engine()
    run_import_command(
        fmt,
        pm.commit,
        engine,
        file,
        mapping=mapping,
        user=ctx.operator,
        accept_valid=accept_valid,
        dry_run=dry_run,
        commune=ctx.settings.commune,
    )
    if save_as:
        chosen = pm.mapping_from(engine, mapping)
        if chosen is None:
            header = tabular.open_export(file, pm.FIELDS).header
            proposal = tabular.propose_mapping(header, pm.FIELDS)
            chosen = tabular.ColumnMapping({name: column for name, (column, _) in proposal.items()})
        profiles.save_profile(engine, pm.SOURCE_NAME, save_as, chosen, user=ctx.operator)
        click.echo(f"Correspondance enregistrée sous le nom « {save_as} ».")


@click.command("ban")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def import_ban(ctx: Context, file: Path, dry_run: bool, fmt: str) -> None:
    """Importer la Base Adresse Nationale d'un département (adresses-DD.csv, colonnes lon et lat)."""
    from ingest.ban import import_ban as load

    run_import_command(fmt, load, ctx.engine(), file, user=ctx.operator, dry_run=dry_run)


@click.group("imports")
def imports() -> None:
    """Consulter ou annuler les imports."""


@imports.command("list")
@click.option("--source", help="Seulement les imports de cette source (pm, ban, …).")
@click.option("--limit", default=50, show_default=True, help="Nombre d'imports affichés.")
@format_option("table", "json")
@pass_ctx
def list_cmd(ctx: Context, source: str | None, limit: int, fmt: str) -> None:
    """Lister les imports, du plus récent au plus ancien."""
    from observatoire.imports.admin import list_imports

    frame = list_imports(ctx.engine(), source=source, limit=limit)
    if fmt == "json":
        click.echo(
            frame.drop(columns=["status_label"]).to_json(
                orient="records", force_ascii=False, date_format="iso"
            )
        )
        return
    if frame.empty:
        click.echo("Aucun import.")
        return
    click.echo(
        f"{'lot':>5}  {'source':<12} {'état':<9} {'lues':>8} {'insérées':>8} {'doublons':>8} {'rejetées':>8}  "
        "date                 fichier"
    )
    for r in frame.itertuples():
        started = r.started_at.strftime("%d/%m/%Y %H:%M") if r.started_at is not None else ""
        click.echo(
            f"{r.id:>5}  {r.source:<12} {r.status_label:<9} {r.rows_read:>8} {r.inserted:>8} "
            f"{r.duplicates:>8} {r.rejected:>8}  {started:<20} {r.file_name}"
        )


@imports.command("show")
@click.argument("batch", type=int)
@pass_ctx
def show_cmd(ctx: Context, batch: int) -> None:
    """Afficher le rapport complet d'un import (JSON)."""
    from observatoire.imports.admin import import_report

    click.echo(json.dumps(import_report(ctx.engine(), batch), ensure_ascii=False, indent=2, default=str))


@imports.command("undo")
@click.argument("batch", type=int)
@pass_ctx
def undo_cmd(ctx: Context, batch: int) -> None:
    """Annuler un import : ses lignes sont supprimées, le lot reste dans la liste (état « annulé »)."""
    from observatoire.imports.admin import undo_import

    deleted = undo_import(ctx.engine(), batch, user=ctx.operator)
    click.echo(f"Import n° {batch} annulé : {deleted} ligne(s) supprimée(s).")
