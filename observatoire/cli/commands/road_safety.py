"""``observatoire import baac``, ``stats accidents`` and ``accidents sites``: road safety (ONISR BAAC)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from observatoire.cli.common import Context, format_option, import_group, pass_ctx, run_import_command


def register(cli: click.Group) -> None:
    import_group.add_command(baac)
    # Another module may have created the ``stats`` group already: share it rather than replace it.
    stats = cli.commands.get("stats")
    if not isinstance(stats, click.Group):
        stats = click.Group("stats", help="Statistiques et comparaisons.")
        cli.add_command(stats)
    stats.add_command(stats_accidents)
    cli.add_command(accidents)


@click.command("baac")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--territory", help="Ne garder qu'une commune, un département ou une région (COM:04112, DEP:04, REG:93)."
)
@click.option(
    "--accepter-valides",
    "accept_valid",
    is_flag=True,
    help="Importer les lignes valides et consigner les lignes rejetées au lieu de tout refuser.",
)
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def baac(
    ctx: Context, paths: tuple[Path, ...], territory: str | None, accept_valid: bool, dry_run: bool, fmt: str
) -> None:
    """Importer les fichiers d'accidents corporels de l'ONISR (BAAC) : fichiers ou dossiers, toutes années."""
    from ingest.baac import import_baac_file, import_scope, plan_files
    from observatoire.imports.batches import import_session

    scope = import_scope(territory)
    files = plan_files(list(paths))
    engine = ctx.engine()
    with import_session(engine, dry_run=dry_run) as session:  # a dry run sees what the files before would add
        for f in files:
            run_import_command(
                fmt,
                import_baac_file,
                engine,
                f,
                scope,
                user=ctx.operator,
                accept_valid=accept_valid,
                dry_run=dry_run,
                session=session,
            )


_YEARLY_COLUMNS = (
    "annee",
    "accidents",
    "accidents_mortels",
    "accidents_graves",
    "tues",
    "hospitalises",
    "blesses_legers",
    "gravite_inconnue",
)
_HEADERS = ("Année", "Accidents", "Mortels", "Graves", "Tués", "Hospitalisés", "Blessés légers", "Gravité")


@click.command("accidents")
@click.option("--territory", required=True, help="Territoire : COM:04112, DEP:04, REG:93, FRA…")
@click.option("--years", help="Période, par ex. 2015-2023 (par défaut : toutes les années chargées).")
@format_option("table", "csv", "json")
@pass_ctx
def stats_accidents(ctx: Context, territory: str, years: str | None, fmt: str) -> None:
    """Accidents corporels, tués, hospitalisés et blessés légers par année."""
    from observatoire.road.indicators import records, yearly_indicators
    from observatoire.tables import to_csv_bytes

    frame = yearly_indicators(ctx.engine(), territory, years)
    if fmt == "json":
        click.echo(json.dumps(records(frame), ensure_ascii=False, indent=2, default=str))
        return
    if fmt == "csv":
        click.echo(to_csv_bytes(frame), nl=False)
        return
    click.echo(f"Accidents corporels de la circulation — {frame.attrs['territoire']}")
    click.echo("  ".join(f"{h:>14}" for h in _HEADERS))
    for rec in records(frame):
        cells = ["—" if rec[c] is None else str(rec[c]) for c in _YEARLY_COLUMNS[:-1]]
        if not rec["donnees_chargees"]:
            flag = "non chargée"
        else:
            flag = "inconnue" if rec["gravite_inconnue"] else "connue"
        click.echo("  ".join(f"{c:>14}" for c in [*cells, flag]))
    click.echo(frame.attrs["source"])


@click.group("accidents")
def accidents() -> None:
    """Accidents de la circulation : sites dangereux."""


@accidents.command("sites")
@click.option("--territory", required=True, help="Territoire : COM:04112, DEP:04…")
@click.option(
    "--radius", default=50.0, show_default=True, help="Distance maximale entre accidents voisins (m)."
)
@click.option(
    "--min", "min_accidents", default=3, show_default=True, help="Nombre minimal d'accidents d'un site."
)
@click.option("--years", help="Période, par ex. 2019-2023 (par défaut : les 5 dernières années chargées).")
@format_option("table", "geojson", "csv", default="table")
@pass_ctx
def sites(
    ctx: Context, territory: str, radius: float, min_accidents: int, years: str | None, fmt: str
) -> None:
    """Sites accidentogènes : groupes d'accidents proches, classés par gravité."""
    from observatoire.road.sites import dangerous_sites, sites_tables
    from observatoire.tables import to_csv_bytes

    collection = dangerous_sites(ctx.engine(), territory, years, radius_m=radius, min_accidents=min_accidents)
    if fmt == "geojson":
        click.echo(json.dumps(collection, ensure_ascii=False, default=str))
        return
    table, _ = sites_tables(collection)
    if fmt == "csv":
        click.echo(to_csv_bytes(table), nl=False)
        return
    meta = collection["metadata"]
    click.echo(
        f"{len(table)} site(s) d'au moins {min_accidents} accidents à moins de {radius:g} m, "
        f"{meta['annees'][0]}-{meta['annees'][1]} ({meta['territoire']})"
    )
    for rec in table.to_dict("records"):
        click.echo(
            f"  n° {rec['rang']} : {rec['accidents']} accidents, {rec['tues']} tué(s), "
            f"{rec['hospitalises']} hospitalisé(s), {rec['blesses_legers']} blessé(s) léger(s), "
            f"indice {rec['indice_gravite']} — {rec['adresses'] or 'adresse non renseignée'} "
            f"({rec['lat']:.5f}, {rec['lon']:.5f})"
        )
