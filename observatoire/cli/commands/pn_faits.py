"""``observatoire import pn-faits``: geolocated police nationale facts."""

from __future__ import annotations

from pathlib import Path

import click

from observatoire.cli.common import Context, event_import_options, import_group, pass_ctx, run_import_command


def register(cli: click.Group) -> None:
    import_group.add_command(import_pn_faits)


@click.command("pn-faits")
@event_import_options
@pass_ctx
def import_pn_faits(
    ctx: Context,
    file: Path,
    mapping: str | None,
    save_as: str | None,
    dry_run: bool,
    accept_valid: bool,
    fmt: str,
) -> None:
    """Importer un extrait de faits géolocalisés de police nationale (date, index 4001 ou catégorie, lieu)."""
    from ingest import event_upload, pn_faits

    engine = ctx.engine()
    run_import_command(
        fmt,
        pn_faits.commit,
        engine,
        file,
        mapping=mapping,
        user=ctx.operator,
        accept_valid=accept_valid,
        dry_run=dry_run,
        commune=ctx.settings.commune,
    )
    if save_as:
        event_upload.save_used_mapping(engine, pn_faits.SOURCE, file, mapping, save_as, user=ctx.operator)
        click.echo(f"Correspondance enregistrée sous le nom « {save_as} ».")
