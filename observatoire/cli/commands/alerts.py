"""``observatoire alerts``: the significant rises of the latest month and quarter, per category and zone."""

from __future__ import annotations

import json

import click

from observatoire.cli.common import Context, format_option, pass_ctx


def register(cli: click.Group) -> None:
    cli.add_command(alerts)


@click.command("alerts")
@click.option(
    "--source", "sources", multiple=True, help="Source (pn, pm, routes) ; répétable. Défaut : toutes."
)
@click.option(
    "--month", metavar="AAAA-MM", help="Dernier mois pris en compte. Défaut : le dernier avec des faits."
)
@format_option("table", "json", default="table")
@pass_ctx
def alerts(ctx: Context, sources, month, fmt) -> None:
    """Hausses significatives du dernier mois et du dernier trimestre, par catégorie et par zone."""
    from datetime import date

    from observatoire.errors import InputFileError
    from observatoire.french import number
    from observatoire.spacetime import queries as spacetime

    last = None
    if month:
        try:
            last = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise InputFileError(f"--month : mois non reconnu {month!r} (aaaa-mm).") from None
    result = spacetime.alerts(ctx.engine(), sources=tuple(sources), last_month=last)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    rises = result["alertes"]
    click.echo(f"Hausses significatives (dernier mois : {result.get('dernier_mois', '—')}) : {len(rises)}")
    for r in rises:
        p = f"{r['p']:.2g}".replace(".", ",")
        click.echo(
            f"- {r['zone_libelle']} · {r['categorie_libelle']} · {r['periode']} : {r['effectif']} faits, "
            f"{number(r['attendu'], 1)} attendus ({r['reference_libelle']}), × {number(r['rapport'], 2)}, p = {p}"
        )
