"""``observatoire export map`` (snapshot PNG/PDF/SVG, offline HTML, GeoPackage), ``observatoire export table``
and ``observatoire report diagnostic``."""

from __future__ import annotations

from pathlib import Path

import click

from observatoire.cli.common import Context, pass_ctx


def register(cli: click.Group) -> None:
    cli.add_command(export_group)
    cli.add_command(report_group)


@click.group("export")
def export_group() -> None:
    """Exporter une carte (image, PDF, HTML hors ligne, GeoPackage) pour un public donné."""


@export_group.command("map")
@click.option(
    "--source", "sources", multiple=True, help="Source (pn, pm, routes) ; répétable. Défaut : toutes."
)
@click.option("--category", "categories", multiple=True, help="Catégorie ; répétable.")
@click.option("--family", "families", multiple=True, help="Famille ; répétable.")
@click.option(
    "--period",
    default="tout",
    show_default=True,
    help="2023, 2023-T2, 2023-03, 2021-2023, aaaa-mm-jj:aaaa-mm-jj ou tout.",
)
@click.option("--territory", metavar="CODE", help="Territoire (COM:04112, IRIS:…, QPV:…).")
@click.option(
    "--layer",
    "layer_keys",
    multiple=True,
    default=("hotspots",),
    show_default=True,
    help="Couche : hotspots, hexagons, iris, points, accidents ; répétable.",
)
@click.option(
    "--audience",
    type=click.Choice(["restreint", "plenier"]),
    default="restreint",
    show_default=True,
    help="restreint : ce que voit le CLSPDR restreint ; plenier : agrégats protégés, publiables.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "pdf", "svg", "html", "gpkg", "csv", "xlsx"]),
    default="png",
    show_default=True,
    help="Format du fichier.",
)
@click.option(
    "--orientation", type=click.Choice(["paysage", "portrait"]), default="paysage", show_default=True
)
@click.option("--cell", type=float, help="Côté des hexagones en mètres (défaut : 150 m, 400 m en plénier).")
@click.option("--permutations", default=999, show_default=True, type=int, help="Permutations de Gi*.")
@click.option("--title", help="Titre de la carte (défaut : la couche et la commune).")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Fichier à écrire."
)
@pass_ctx
def export_map(
    ctx: Context,
    sources,
    categories,
    families,
    period,
    territory,
    layer_keys,
    audience,
    fmt,
    orientation,
    cell,
    permutations,
    title,
    out,
) -> None:
    """Carte prête à imprimer (A4, 300 dpi), carte HTML hors ligne ou GeoPackage ; journalisée avec son SHA-256."""
    from observatoire.events.filter import EventFilter
    from observatoire.exports import maps
    from observatoire.exports.request import ExportRequest, parse_period
    from observatoire.geo_codes import TerritoryCode

    start, end = parse_period(period)
    request = ExportRequest(
        EventFilter(
            sources=tuple(sources),
            categories=tuple(categories),
            families=tuple(families),
            start=start,
            end=end,
            territory=str(TerritoryCode.parse(territory)) if territory else None,
        ),
        layers=tuple(layer_keys),
        audience=audience,
        login=ctx.operator,
        cell=cell,
        permutations=permutations,
        orientation=orientation,
        title=title,
    )
    written = maps.export(ctx.engine(), request, fmt, out)
    click.echo(f"Écrit : {written.path} ({written.size} octets, SHA-256 {written.sha256}).")


@click.group("report")
def report_group() -> None:
    """Produire un rapport (diagnostic local de sécurité)."""


@report_group.command("diagnostic")
@click.option("--years", required=True, help="Années, par ex. 2019-2022.")
@click.option("--territory", metavar="CODE", help="Commune (défaut : celle de l'observatoire).")
@click.option(
    "--audience", type=click.Choice(["restreint", "plenier"]), default="restreint", show_default=True
)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Fichier à écrire."
)
@pass_ctx
def diagnostic(ctx: Context, years, territory, audience, fmt, out) -> None:
    """Diagnostic local de sécurité : évolutions, comparaisons de taux, route, police municipale, cartes."""
    from observatoire.exports.report import diagnostic as report

    written = report.export(
        ctx.engine(),
        report.parse_years(years),
        fmt,
        out,
        territory=territory,
        audience=audience,
        login=ctx.operator,
    )
    click.echo(f"Écrit : {written.path} ({written.size} octets, SHA-256 {written.sha256}).")
