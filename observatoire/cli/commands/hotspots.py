"""``observatoire hotspots``: Getis-Ord Gi* hot spots or kernel density of the events, as GeoJSON or JSON."""

from __future__ import annotations

import json
from datetime import date

import click

from observatoire.cli.common import Context, format_option, pass_ctx
from observatoire.errors import InputFileError


def register(cli: click.Group) -> None:
    cli.add_command(hotspots)


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from ingest.reading import parse_date

        try:
            return parse_date(value)
        except ValueError:
            raise InputFileError(
                f"{option} : date non reconnue {value!r} (aaaa-mm-jj ou jj/mm/aaaa)."
            ) from None


def _hours(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    first, sep, last = value.replace("h", "").partition("-")
    try:
        return int(first), int(last)
    except ValueError:
        raise InputFileError(
            f"--heures : plage non reconnue {value!r} (par ex. 18-6 pour 18 h à 6 h)."
        ) from None


@click.command("hotspots")
@click.option(
    "--source", "sources", multiple=True, help="Source (pn, pm, routes) ; répétable. Défaut : toutes."
)
@click.option("--category", "categories", multiple=True, help="Catégorie (par ex. cambriolages) ; répétable.")
@click.option("--family", "families", multiple=True, help="Famille (par ex. biens) ; répétable.")
@click.option("--from", "start", metavar="DATE", help="Premier jour (aaaa-mm-jj).")
@click.option("--to", "end", metavar="DATE", help="Dernier jour, inclus (aaaa-mm-jj).")
@click.option("--heures", "hours", metavar="H1-H2", help="Plage horaire, par ex. 18-6 (soirées et nuits).")
@click.option("--jours", "weekdays", metavar="1,2…", help="Jours de semaine (1 = lundi … 7 = dimanche).")
@click.option("--territory", metavar="CODE", help="Territoire (COM:04112 ou 04112, IRIS:…, QPV:…).")
@click.option(
    "--cell", default=150.0, show_default=True, type=float, help="Côté des hexagones, en mètres (Gi*)."
)
@click.option(
    "--method",
    "method",
    type=click.Choice(["gi", "kde", "emerging"]),
    default="gi",
    show_default=True,
    help="gi : points chauds Getis-Ord Gi* ; kde : densité par noyau ; emerging : points chauds émergents.",
)
@click.option(
    "--slice",
    "slice_",
    type=click.Choice(["month", "quarter"]),
    default="month",
    show_default=True,
    help="Tranches de temps des points chauds émergents : mois ou trimestres.",
)
@click.option(
    "--permutations", default=999, show_default=True, type=int, help="Permutations (Gi*), 0 : analytique."
)
@click.option("--bandwidth", type=float, help="Largeur de bande en mètres (kde) ; défaut : règle de Scott.")
@format_option("geojson", "json", default="geojson")
@pass_ctx
def hotspots(
    ctx: Context,
    sources,
    categories,
    families,
    start,
    end,
    hours,
    weekdays,
    territory,
    cell,
    method,
    permutations,
    bandwidth,
    slice_,
    fmt,
) -> None:
    """Points chauds (Gi*, avec correction du taux de fausses découvertes) ou densité des événements."""
    from observatoire.events import density, hotspots
    from observatoire.events.filter import EventFilter
    from observatoire.geo_codes import TerritoryCode

    days = tuple(int(d) for d in weekdays.split(",")) if weekdays else ()
    f = EventFilter(
        sources=tuple(sources),
        categories=tuple(categories),
        families=tuple(families),
        start=_day(start, "--from"),
        end=_day(end, "--to"),
        hours=_hours(hours),
        weekdays=days,
        territory=str(TerritoryCode.parse(territory)) if territory else None,
    )
    engine = ctx.engine()
    if method == "gi":
        result = hotspots.getis_ord(engine, f, cell=cell, permutations=permutations)
    elif method == "emerging":
        from observatoire.spacetime import queries as spacetime

        result = spacetime.emerging_hot_spots(engine, f, slice=slice_, cell=cell)
    else:
        result = density.kernel_density(engine, f, bandwidth=bandwidth)
    if fmt == "json":
        # the figures without the outlines: one record per cell or level
        result = {k: v for k, v in result.items() if k not in ("features", "type")} | {
            "levels" if method == "kde" else "cells": [feat["properties"] for feat in result["features"]]
        }
    click.echo(json.dumps(result, ensure_ascii=False, default=str))
