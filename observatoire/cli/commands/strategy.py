"""``observatoire import plan-actions|plan-valeurs|survey``, ``observatoire plan …`` (yearly entry, validation,
reopening, links, evaluation, plenary table) and ``observatoire enquete resultats``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from observatoire.cli.common import Context, format_option, import_group, pass_ctx, run_import_command
from observatoire.errors import ObservatoireError


def register(cli: click.Group) -> None:
    import_group.add_command(plan_actions)
    import_group.add_command(plan_values)
    import_group.add_command(survey)
    cli.add_command(plan)
    cli.add_command(enquete)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return (
            date.fromisoformat(value) if "-" in value else date(*reversed([int(p) for p in value.split("/")]))
        )
    except ValueError:
        raise ObservatoireError(f"Date illisible : « {value} » (attendu jj/mm/aaaa).") from None


@click.command("plan-actions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--periode", help="Période de la stratégie (2024-2027) si le nom du fichier ne la donne pas.")
@click.option("--libelle", help="Intitulé de la stratégie.")
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def plan_actions(
    ctx: Context, file: Path, periode: str | None, libelle: str | None, dry_run: bool, fmt: str
) -> None:
    """Importer le plan d'actions d'une stratégie (numero;axe;titre;statut;pilote;indicateurs séparés par « | »)."""
    from ingest.plan_actions import import_plan

    run_import_command(
        fmt,
        import_plan,
        ctx.engine(),
        file,
        period=periode,
        label=libelle,
        user=ctx.operator,
        dry_run=dry_run,
    )


@click.command("plan-valeurs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strategie", required=True, help="Code de la stratégie (par ex. 2024-2027).")
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def plan_values(ctx: Context, file: Path, strategie: str, dry_run: bool, fmt: str) -> None:
    """Importer des valeurs annuelles en brouillon (fiche;indicateur;annee;valeur;source;avancement)."""
    from ingest.plan_actions import import_values

    run_import_command(
        fmt, import_values, ctx.engine(), file, strategy=strategie, user=ctx.operator, dry_run=dry_run
    )


@click.command("survey")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--codebook",
    "--livre-de-codes",
    "codebook",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Livre de codes (CSV).",
)
@click.option("--vague", required=True, help="Code de la vague (par ex. 2025).")
@click.option("--libelle", help="Intitulé de l'enquête.")
@click.option("--date", "fielded", help="Date de fin de collecte (jj/mm/aaaa).")
@click.option("--dry-run", is_flag=True, help="Tout vérifier sans rien enregistrer.")
@format_option("table", "json")
@pass_ctx
def survey(
    ctx: Context,
    file: Path,
    codebook: Path,
    vague: str,
    libelle: str | None,
    fielded: str | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Importer les réponses d'une enquête de sécurité ressentie (une ligne par répondant, réponses codées)."""
    from ingest.survey import import_survey

    run_import_command(
        fmt,
        import_survey,
        ctx.engine(),
        file,
        codebook=codebook,
        code=vague,
        label=libelle,
        fielded_on=_date(fielded),
        user=ctx.operator,
        dry_run=dry_run,
    )


@click.group("plan")
def plan() -> None:
    """Plan d'actions : saisie annuelle, validation, liens aux séries observées, évaluation, tableau plénier."""


_strategy = click.option("--strategie", help="Code de la stratégie (par défaut la plus récente).")


@plan.command("saisir")
@click.argument("fiche")
@click.argument("indicateur", type=int)
@click.argument("annee", type=int)
@click.argument("valeur")
@click.option("--avancement", required=True, help="non démarrée, en cours, réalisée ou abandonnée.")
@click.option("--source", help="Source de la valeur (rapport du pilote…).")
@_strategy
@pass_ctx
def enter_cmd(
    ctx: Context,
    fiche: str,
    indicateur: int,
    annee: int,
    valeur: str,
    avancement: str,
    source: str | None,
    strategie: str | None,
) -> None:
    """Saisir (en brouillon) la valeur d'un indicateur pour une année."""
    from observatoire.strategy import entries

    entries.enter(
        ctx.engine(),
        fiche,
        indicateur,
        annee,
        valeur,
        avancement,
        source=source,
        user=ctx.operator,
        code=strategie,
    )
    click.echo(f"Fiche {fiche}, indicateur n° {indicateur}, {annee} : valeur enregistrée en brouillon.")


@plan.command("valider")
@click.argument("annee", type=int)
@_strategy
@pass_ctx
def validate_cmd(ctx: Context, annee: int, strategie: str | None) -> None:
    """Valider toutes les valeurs en brouillon d'une année (elles sont ensuite verrouillées)."""
    from observatoire.strategy import entries

    n = entries.validate_year(ctx.engine(), annee, user=ctx.operator, role=None, code=strategie)
    click.echo(f"{n} valeur(s) de {annee} validée(s) et verrouillée(s).")


@plan.command("rouvrir")
@click.argument("fiche")
@click.argument("indicateur", type=int)
@click.argument("annee", type=int)
@click.option("--motif", required=True, help="Pourquoi la valeur validée doit être corrigée (journalisé).")
@_strategy
@pass_ctx
def reopen_cmd(
    ctx: Context, fiche: str, indicateur: int, annee: int, motif: str, strategie: str | None
) -> None:
    """Rouvrir une valeur validée (elle repasse en brouillon ; la réouverture est journalisée)."""
    from observatoire.strategy import entries

    entries.reopen(
        ctx.engine(), fiche, indicateur, annee, motif, user=ctx.operator, role=None, code=strategie
    )
    click.echo(f"Fiche {fiche}, indicateur n° {indicateur}, {annee} : valeur rouverte (brouillon).")


@plan.command("lier")
@click.argument("fiche")
@click.argument("indicateur", type=int)
@click.argument("series", nargs=-1, required=True)
@_strategy
@pass_ctx
def link_cmd(
    ctx: Context, fiche: str, indicateur: int, series: tuple[str, ...], strategie: str | None
) -> None:
    """Lier un indicateur à des séries observées (routes_accidents, routes_hospitalises, pm_tranquillite,
    pn_violences_intrafamiliales)."""
    from observatoire.strategy import plan as plan_module

    plan_module.link_series(ctx.engine(), fiche, indicateur, list(series), code=strategie)
    click.echo(f"Fiche {fiche}, indicateur n° {indicateur} lié à : {', '.join(series)}.")


@plan.command("journal")
@_strategy
@pass_ctx
def log_cmd(ctx: Context, strategie: str | None) -> None:
    """Journal des saisies, validations et réouvertures."""
    from observatoire import french
    from observatoire.strategy import entries

    for r in entries.log(ctx.engine(), strategie).itertuples():
        reason = f" — motif : {r.reason}" if r.reason else ""
        click.echo(
            f"{french.moment(r.at)}  {r.action:<12} {r.user_login or '?':<20} fiche {r.fiche} "
            f"ind. {r.position} {r.year}{reason}"
        )


@plan.command("tableau")
@click.argument("annee", type=int)
@click.option("--sortie", type=click.Path(dir_okay=False, path_type=Path), help="Fichier à écrire.")
@format_option("xlsx", "pdf", "html", "csv", default="xlsx")
@_strategy
@pass_ctx
def plenary_cmd(ctx: Context, annee: int, sortie: Path | None, fmt: str, strategie: str | None) -> None:
    """Le tableau de suivi de l'année pour l'assemblée plénière (XLSX, PDF ou HTML à imprimer, CSV)."""
    from observatoire import tables
    from observatoire.exports import files
    from observatoire.strategy import plenary

    engine, commune = ctx.engine(), ctx.settings.commune
    if fmt == "xlsx":
        data = plenary.plenary_xlsx(engine, annee, commune=commune, code=strategie)
    elif fmt == "pdf":
        data = plenary.plenary_pdf(engine, annee, commune=commune, code=strategie)
    elif fmt == "html":
        data = plenary.plenary_html(engine, annee, commune=commune, code=strategie).encode("utf-8")
    else:
        data = tables.to_csv_bytes(plenary.plenary_table(engine, annee, commune=commune, code=strategie))
    written = files.write_bytes(sortie or Path(f"suivi-plan-actions-{annee}.{fmt}"), data)
    # Like every export: a document found later is traced to who made it, when, from what.
    files.record(
        engine,
        written,
        what="plan-actions:tableau-plenier",
        fmt=fmt,
        audience="plenier",
        login=None,
        role=None,
        filters={"annee": annee, "strategie": strategie},
    )
    click.echo(f"Tableau de suivi {annee} écrit : {written.path} (SHA-256 {written.sha256})")


@plan.command("evaluation")
@click.argument("libelle")
@click.option("--zone", required=True, help="IRIS:…, QPV:…, « rues:Rue A;Rue B » ou « point:lon,lat,rayon ».")
@click.option("--debut", required=True, help="Date de début de l'action (jj/mm/aaaa).")
@click.option(
    "--source", "event_source", default="pm", show_default=True, help="Événements : pm, pn ou routes."
)
@click.option("--famille", help="Famille d'événements (par ex. tranquillite).")
@click.option("--couronne", default=300, show_default=True, help="Largeur de la couronne (m).")
@click.option("--fiche", help="Fiche-action concernée.")
@pass_ctx
def evaluation_cmd(
    ctx: Context,
    libelle: str,
    zone: str,
    debut: str,
    event_source: str,
    famille: str | None,
    couronne: int,
    fiche: str | None,
) -> None:
    """Évaluer une action localisée : avant/après dans la zone contre le reste de la commune."""
    from observatoire.strategy import evaluation

    engine = ctx.engine()
    start = _date(debut)
    assert start is not None
    evaluation.define(
        engine,
        label=libelle,
        place=zone,
        start=start,
        source=event_source,
        family=famille,
        buffer_m=couronne,
        fiche=fiche,
        user=ctx.operator,
    )
    with engine.connect() as conn:
        wkt = evaluation.place_geometry(conn, zone)
    result = evaluation.evaluate(
        engine,
        wkt,
        start,
        source=event_source,
        family=famille,
        buffer_m=couronne,
        commune=ctx.settings.commune,
    )
    click.echo(result.sentence())


@click.group("enquete")
def enquete() -> None:
    """Enquêtes de sécurité ressentie."""


@enquete.command("resultats")
@click.argument("vague")
@click.argument("question")
@click.option("--profil", type=click.Choice(["age", "sexe", "resident", "csp", "quartier"]))
@pass_ctx
def results_cmd(ctx: Context, vague: str, question: str, profil: str | None) -> None:
    """Résultats d'une question, au total ou par profil (effectifs et parts)."""
    from observatoire import french
    from observatoire.surveys import results

    frame = results.results(ctx.engine(), vague, question, profil)
    click.echo(results.WARNING)
    for r in frame.itertuples():
        click.echo(
            f"{r.groupe:<30} {r.reponse:<30} {french.number(r.n):>6} / {french.number(r.effectif):<6} "
            f"{french.percent(r.part)}"
        )
