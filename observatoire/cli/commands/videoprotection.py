"""``observatoire import cameras|requisitions`` and ``observatoire stats requisitions``: video-protection."""

from __future__ import annotations

from pathlib import Path

import click

from observatoire.cli.commands.police_nationale import _emit, _years, stats
from observatoire.cli.common import Context, format_option, import_group, pass_ctx, run_import_command


def register(cli: click.Group) -> None:
    import_group.add_command(import_cameras)
    import_group.add_command(import_requisitions)
    stats.add_command(stats_requisitions)


def _import_options(func):
    for option in reversed(
        [
            click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
            click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer."),
            click.option(
                "--accept-valid", is_flag=True, help="Importer les lignes valides et consigner les autres."
            ),
            format_option("table", "json"),
        ]
    ):
        func = option(func)
    return func


@click.command("cameras")
@_import_options
@pass_ctx
def import_cameras(ctx: Context, file: Path, dry_run: bool, accept_valid: bool, fmt: str) -> None:
    """Importer l'inventaire des caméras de vidéoprotection (CSV ou XLSX : identifiant, nom, type, position)."""
    from ingest import cameras

    run_import_command(
        fmt,
        cameras.import_cameras,
        ctx.engine(),
        file,
        user=ctx.operator,
        accept_valid=accept_valid,
        dry_run=dry_run,
        commune=ctx.settings.commune,
    )


@click.command("requisitions")
@_import_options
@pass_ctx
def import_requisitions(ctx: Context, file: Path, dry_run: bool, accept_valid: bool, fmt: str) -> None:
    """Importer le registre des réquisitions judiciaires d'images (CSV ou XLSX, sans aucun nom)."""
    from ingest import requisitions

    run_import_command(
        fmt,
        requisitions.import_requisitions,
        ctx.engine(),
        file,
        user=ctx.operator,
        accept_valid=accept_valid,
        dry_run=dry_run,
    )


@click.command("requisitions")
@click.option("--years", help="Années, par ex. 2020-2024 ou 2024 (défaut : toutes).")
@click.option(
    "--by",
    "by",
    type=click.Choice(["authority", "camera", "category", "month"]),
    default="authority",
    show_default=True,
    help="Ventilation : autorité, caméra, catégorie d'infraction ou mois.",
)
@format_option("table", "csv", "json")
@pass_ctx
def stats_requisitions(ctx: Context, years: str | None, by: str, fmt: str) -> None:
    """Réquisitions judiciaires de vidéoprotection : nombre, part avec images trouvées, part exploitable."""
    from observatoire import french
    from observatoire.videoprotection import indicators

    frame = indicators.counts(ctx.engine(), _years(years) if years else None, by)
    records = [
        {
            indicators.BY_LABELS[by].lower(): r.label,
            "requisitions": int(r.requisitions),
            "images_trouvees": int(r.images_found),
            "exploitables": int(r.usable),
            "part_images_trouvees": None
            if r.found_share != r.found_share
            else round(float(r.found_share), 4),
            "part_exploitables": None
            if r.usable_share != r.usable_share
            else round(float(r.usable_share), 4),
        }
        for r in frame.itertuples()
    ]

    def table() -> str:
        if not records:
            return "Aucune réquisition pour ces années."
        width = max(len(str(r.label)) for r in frame.itertuples())
        lines = [f"{indicators.BY_LABELS[by]:<{width}}  Réquisitions  Images trouvées  Exploitables"]
        for r in frame.itertuples():
            lines.append(
                f"{r.label:<{width}}  {french.number(r.requisitions):>12}  {french.percent(r.found_share * 100):>15}  "
                f"{french.percent(r.usable_share * 100):>12}"
            )
        return "\n".join(lines)

    _emit(records, fmt, table)
