"""``observatoire import ssmsi|etat4001`` and ``observatoire stats compare|evolution``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from observatoire.cli.common import Context, format_option, import_group, pass_ctx, run_import_command
from observatoire.errors import InputFileError


def register(cli: click.Group) -> None:
    import_group.add_command(ssmsi)
    import_group.add_command(etat4001)
    # Another source may already have opened a ``stats`` group: add to it rather than replace it.
    group = cli.commands.get("stats")
    if not isinstance(group, click.Group):
        cli.add_command(stats)
        group = stats
    group.add_command(compare)
    group.add_command(evolution)


@click.command("ssmsi")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--edition", help="Édition (date de production, par ex. 2024-07-05) si le nom du fichier ne la donne pas."
)
@click.option(
    "--accepter-valides",
    "accept_valid",
    is_flag=True,
    help="Enregistrer les lignes valides, rejeter les autres.",
)
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def ssmsi(
    ctx: Context, files: tuple[Path, ...], edition: str | None, accept_valid: bool, dry_run: bool, fmt: str
) -> None:
    """Importer des bases statistiques SSMSI (communale, départementale, régionale ; CSV, .gz ou parquet)."""
    from ingest.ssmsi import import_ssmsi

    engine = ctx.engine()
    for path in files:
        run_import_command(
            fmt,
            import_ssmsi,
            engine,
            path,
            edition=edition,
            user=ctx.operator,
            accept_valid=accept_valid,
            dry_run=dry_run,
        )


@click.command("etat4001")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--territory", "territory", help="Territoire couvert (par défaut la commune configurée).")
@click.option("--service", default="", help="Service ou circonscription, si le fichier ne le donne pas.")
@click.option(
    "--accepter-valides",
    "accept_valid",
    is_flag=True,
    help="Enregistrer les lignes valides, rejeter les autres.",
)
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def etat4001(
    ctx: Context, file: Path, territory: str | None, service: str, accept_valid: bool, dry_run: bool, fmt: str
) -> None:
    """Importer des comptages mensuels par index de l'état 4001 (année, mois, index, nombre[, service])."""
    from ingest.etat4001 import import_etat4001
    from observatoire.police_nationale.rates import parse_territory

    code = parse_territory(territory) if territory else ctx.settings.commune_code
    run_import_command(
        fmt,
        import_etat4001,
        ctx.engine(),
        file,
        territory=code,
        service=service,
        user=ctx.operator,
        accept_valid=accept_valid,
        dry_run=dry_run,
    )


@click.group("stats")
def stats() -> None:
    """Statistiques : comparaisons de taux et évolutions."""


def _years(value: str) -> list[int]:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-–]\s*(\d{4}))?\s*", value)
    if not m:
        raise InputFileError(f"Années invalides : « {value} » (attendu 2016-2022 ou 2022).")
    first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    if last < first:
        first, last = last, first
    return list(range(first, last + 1))


def _emit(records: list[dict[str, Any]], fmt: str, table: Any) -> None:
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2, default=str))
    elif fmt == "csv":
        import pandas as pd

        from observatoire.tables import to_csv_bytes

        click.echo(to_csv_bytes(pd.DataFrame.from_records(records)), nl=False)
    else:
        click.echo(table())


@click.command("compare")
@click.option(
    "--indicator",
    "indicator",
    required=True,
    multiple=True,
    help="Identifiant ou libellé de l'indicateur (répétable ; « tous » pour tous ceux de l'édition).",
)
@click.option(
    "--territory",
    required=True,
    help="Nom ou code : Manosque, 04112, Alpes-de-Haute-Provence, DEP:04, REG:93.",
)
@click.option("--years", required=True, help="Années, par ex. 2016-2022.")
@click.option(
    "--levels",
    default=",".join(("commune", "departement", "region", "groupe", "france")),
    show_default=True,
    help="Niveaux comparés, séparés par des virgules.",
)
@click.option("--edition", help="Édition SSMSI (par défaut la plus récente qui contient l'indicateur).")
@click.option(
    "--france",
    type=click.Choice(("entiere", "metropole")),
    default="entiere",
    show_default=True,
    help="France entière (avec l'outre-mer) ou métropole.",
)
@click.option(
    "--tests",
    "with_tests",
    is_flag=True,
    help="Ajouter les tests de significativité : évolution entre la première et la dernière année, "
    "écart de la commune à chaque territoire (test exact de deux comptages de Poisson).",
)
@format_option("table", "csv", "json")
@pass_ctx
def compare(
    ctx: Context,
    indicator: tuple[str, ...],
    territory: str,
    years: str,
    levels: str,
    edition: str | None,
    france: str,
    with_tests: bool,
    fmt: str,
) -> None:
    """Comparer les taux pour 1 000 d'un territoire avec son département, sa région, sa strate et la France."""
    from observatoire.police_nationale import comparisons, exports, places, rates, significance

    engine = ctx.engine()
    code = places.resolve(engine, territory)
    wanted = list(indicator)
    if any(i.strip().lower() in ("tous", "all") for i in wanted):
        if edition:
            edition, wanted = comparisons.available_indicators(engine, code, edition)
        else:
            wanted = comparisons.present_indicators(engine)
    level_list = [lv.strip() for lv in levels.split(",") if lv.strip()]
    records: list[dict[str, Any]] = []
    for ind in wanted:
        records += rates.compare_records(
            engine, ind, code, _years(years), levels=level_list, edition=edition, france=france
        )
    cells = [{k: r.get(k) for k in rates.JSON_KEYS} for r in records]
    if not with_tests:
        _emit(cells, fmt, lambda: comparisons.text_table(records))
        return
    changes = significance.year_changes(records)
    gaps = significance.commune_gaps(records)
    if fmt == "json":
        click.echo(
            json.dumps(
                {"valeurs": cells, "evolutions": changes, "ecarts": gaps, "methode": exports.TEST_METHOD},
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
    elif fmt == "csv":
        from observatoire.tables import to_csv_bytes

        click.echo(to_csv_bytes(exports.tests_frame(records)), nl=False)
    else:
        click.echo(comparisons.text_table(records))
        click.echo("\nTests de significativité (" + exports.TEST_METHOD + ")")
        for t in exports.tests_frame(records).itertuples(index=False):
            click.echo(f"  {t.Indicateur} — {t.Territoire}, {t.Comparaison} : {t.Conclusion} ({t.p})")


@click.command("evolution")
@click.option(
    "--grouping", required=True, type=click.Choice(("avip", "biens")), help="Regroupement du diagnostic."
)
@click.option("--territory", help="Territoire des comptages (par défaut la commune configurée).")
@click.option("--from", "year_from", required=True, type=int, help="Année de départ.")
@click.option("--to", "year_to", required=True, type=int, help="Année d'arrivée.")
@click.option("--service", help="Limiter à un service ou une circonscription.")
@format_option("table", "csv", "json")
@pass_ctx
def evolution(
    ctx: Context,
    grouping: str,
    territory: str | None,
    year_from: int,
    year_to: int,
    service: str | None,
    fmt: str,
) -> None:
    """Tableau d'évolution des faits de l'état 4001 entre deux années, par catégorie du diagnostic."""
    from observatoire.police_nationale import evolution as evo
    from observatoire.police_nationale.rates import parse_territory

    code = parse_territory(territory) if territory else ctx.settings.commune_code
    frame = evo.evolution_table(ctx.engine(), grouping, code, year_from, year_to, service=service)
    records = evo.to_records(frame)
    _emit(records, fmt, lambda: evo.text_table(frame))
