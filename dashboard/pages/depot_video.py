"""Dépôt vidéoprotection: drop the camera inventory or the register of requisitions, check it (dry run, the
errors line by line), save it as one import batch (listed and undone on the Imports page), or abandon it.

The dropped file is kept by :mod:`dashboard.uploads` (a private folder, deleted once saved, on a refusal by
the personal-data guard, and when abandoned); verification and saving run there as jobs the page polls. The
browser only ever holds a random token. The importers are those of the CLI (``observatoire import cameras``,
``observatoire import requisitions``).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard import uploads
from dashboard.components import formatting as fmt
from dashboard.components import upload_steps
from dashboard.components.import_report import report_view
from dashboard.context import engine, settings
from dashboard.security import can, guarded_callback, register_page
from ingest import cameras, requisitions
from ingest.videoprotection_files import recognised_columns
from observatoire.errors import ObservatoireError, PersonalDataRefused
from observatoire.videoprotection import indicators

PERMISSION = "video.gerer"
PREFIX = "video-depot"  # of the ids of the steps shared with the other upload page
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
STORE = uploads.UploadStore(
    suffixes=SUFFIXES,
    wrong_type="« {name} » n'est ni un CSV ni un classeur Excel .xlsx : enregistrez l'inventaire ou le registre "
    "dans l'un de ces formats depuis le tableur (Enregistrer sous…), puis déposez-le de nouveau.",
)
# file kind → (title, fields read, what a row is, plural)
KINDS = {
    "cameras": ("Inventaire des caméras", cameras.FIELDS, "caméra(s)"),
    "requisitions": ("Registre des réquisitions", requisitions.FIELDS, "réquisition(s)"),
}
DONE_WORDS = {"cameras": "déjà à l'inventaire", "requisitions": "déjà au registre"}


def _columns_help(kind: str) -> str:
    _title, fields, _rows = KINDS[kind]
    named = [f.label + (" (obligatoire)" if f.required else "") for f in fields]
    extra = (
        " Position : longitude et latitude, ou X et Y Lambert-93, ou une adresse de la commune."
        if kind == "cameras"
        else " Caméras : leurs identifiants séparés par des virgules ; elles doivent être à l'inventaire."
    )
    return "Colonnes lues : " + ", ".join(named) + "." + extra


def render(**_params) -> html.Div:
    return html.Div(
        [
            html.H1("Dépôt des fichiers de vidéoprotection"),
            html.P(
                [
                    "Déposez l'inventaire des caméras ou le registre des réquisitions judiciaires (CSV ou Excel), "
                    "lisez le rapport de vérification, puis enregistrez. Une caméra déjà à l'inventaire (même "
                    "identifiant) ou une réquisition déjà au registre n'est pas ajoutée en double ; les corrections "
                    "se font sur la page ",
                    dcc.Link("Vidéoprotection", href="/videoprotection"),
                    ", où la valeur précédente est gardée. ",
                    html.Strong("Aucun nom n'est accepté"),
                    " : une référence de procédure qui ressemble à un nom est refusée, et un fichier qui porte des "
                    "données personnelles est refusé en entier, sans rien en garder.",
                ],
                className="obs-muted",
            ),
            html.P(id="video-depot-contenu", role="status"),
            html.Section(
                [
                    html.H2("1. Fichier"),
                    html.Fieldset(
                        [
                            html.Legend("Quel fichier ?"),
                            dcc.RadioItems(
                                id="video-depot-type",
                                value="cameras",
                                inline=True,
                                options=[
                                    {"label": f" {title}", "value": key}
                                    for key, (title, _f, _r) in KINDS.items()
                                ],
                            ),
                        ],
                        className="obs-pm-fieldset",
                    ),
                    html.P(id="video-depot-colonnes", className="obs-muted obs-petit"),
                    dcc.Upload(
                        id="video-depot-fichier",
                        multiple=False,
                        max_size=STORE.max_bytes,
                        # No ``accept`` filter: the browser would drop a PDF without a word; the server names
                        # the formats it takes instead (STORE.wrong_type).
                        children=html.Div(
                            [
                                "Glissez-déposez ici le fichier (CSV ou Excel .xlsx), ou ",
                                html.Span("choisissez-le sur l'ordinateur", className="obs-pm-lien"),
                            ]
                        ),
                        className="obs-pm-depot",
                        className_active="obs-pm-depot-actif",
                    ),
                    dcc.Loading(html.Div(id="video-depot-apercu")),
                ],
                className="obs-bloc",
            ),
            html.Section(
                [
                    html.H2("2. Vérifier puis enregistrer"),
                    *upload_steps.controls(PREFIX),
                ],
                className="obs-bloc",
                id="video-depot-etapes",
                style={"display": "none"},
            ),
            dcc.Store(id="video-depot-jeton"),
            dcc.Store(id="video-depot-enregistrements", data=0),
        ]
    )


# --- What the inventory and the register hold -----------------------------------------------------------


@guarded_callback(
    PERMISSION, Output("video-depot-contenu", "children"), Input("video-depot-enregistrements", "data")
)
def show_holdings(_saved):
    held = indicators.holdings(engine())
    return [
        "Aujourd'hui : ",
        html.Strong(f"{fmt.number(held['cameras'])} caméra(s)", id="video-depot-cameras"),
        f" à l'inventaire (dont {fmt.number(held['in_service'])} en service) et ",
        html.Strong(f"{fmt.number(held['requisitions'])} réquisition(s)", id="video-depot-requisitions"),
        " au registre.",
    ]


@guarded_callback(PERMISSION, Output("video-depot-colonnes", "children"), Input("video-depot-type", "value"))
def show_columns(kind):
    return _columns_help(kind if kind in KINDS else "cameras")


# --- Step 1: the file -------------------------------------------------------------------------------------


def _described(name: str, kind: str, path: Path) -> html.Div:
    """The file received and the columns recognised for ``kind`` (raises when one it needs is missing)."""
    found = recognised_columns(path, KINDS[kind][1])
    return html.Div(
        [
            html.P(
                [html.Strong(name), f" — lu comme « {KINDS[kind][0]} »."],
                id="video-depot-recu",
            ),
            html.P(
                "Colonnes reconnues : "
                + " ; ".join(f"{label} ← « {column} »" for label, column in found)
                + ".",
                className="obs-muted obs-petit",
            ),
        ]
    )


def _alert(text: str, id_: str) -> html.Div:
    return html.Div(text, className="obs-alerte obs-alerte-erreur", id=id_, role="alert")


@guarded_callback(
    PERMISSION,
    [
        Output("video-depot-jeton", "data"),
        Output("video-depot-apercu", "children"),
        Output("video-depot-fichier", "contents"),
        Output("video-depot-etapes", "style"),
    ],
    Input("video-depot-fichier", "contents"),
    Input("video-depot-annuler", "n_clicks"),
    Input("video-depot-type", "value"),
    State("video-depot-fichier", "filename"),
    State("video-depot-jeton", "data"),
)
def receive(contents, _cancel, kind, filename, previous):
    from flask_login import current_user

    shown, hidden = {"display": "block"}, {"display": "none"}
    kind = kind if kind in KINDS else "cameras"
    if ctx.triggered_id == "video-depot-annuler":
        if not previous:
            return no_update, no_update, no_update, no_update
        STORE.delete(previous.get("jeton"))
        message = html.Div(
            "Fichier abandonné : il a été effacé du serveur, rien n'a été enregistré.",
            className="obs-alerte obs-alerte-info",
            id="video-depot-abandonne",
        )
        return None, message, None, hidden
    upload = None
    try:
        if ctx.triggered_id == "video-depot-fichier" and contents:
            if previous:  # one file at a time: the earlier one goes (unless a job holds it)
                STORE.delete(previous.get("jeton"))
            upload = STORE.save(contents, filename, current_user.login)
        elif previous:  # another kind chosen for the file already dropped
            upload = STORE.open(previous.get("jeton"), current_user.login)
        else:
            return no_update, no_update, no_update, no_update
        described = _described(upload.path.name, kind, upload.path)
    except PersonalDataRefused as exc:
        STORE.delete(upload and upload.token)  # nothing of a refused file is kept
        return None, _alert(exc.message, "video-depot-refus"), None, hidden
    except ObservatoireError as exc:
        if upload is None:  # not received (type, size, limit)
            return None, _alert(exc.message, "video-depot-erreur"), None, hidden
        # Kept: the columns may be those of the other kind of file.
        text = exc.message + " Choisissez l'autre type de fichier, ou abandonnez celui-ci."
        token = {"jeton": upload.token, "fichier": upload.path.name}
        return token, _alert(text, "video-depot-erreur"), None, shown
    except Exception:
        if ctx.triggered_id == "video-depot-fichier":
            STORE.delete(upload and upload.token)
        raise
    return {"jeton": upload.token, "fichier": upload.path.name}, described, None, shown


# --- Step 2: verification and saving, as jobs of dashboard.uploads ----------------------------------------


def _check_or_save(
    kind: str, job: str, user: str, accept: bool, eng, commune: str, path: Path, progress: uploads.Progress
) -> dict:
    progress("lecture", 0.0)
    dry_run = job == "verification"
    # The dry run lists every error: refusing it on the first would hide the rest of the file.
    accept = accept or dry_run
    if kind == "cameras":
        report = cameras.import_cameras(
            eng, path, user=user, accept_valid=accept, dry_run=dry_run, commune=commune
        )
    else:
        report = requisitions.import_requisitions(eng, path, user=user, accept_valid=accept, dry_run=dry_run)
    return report.to_dict()


@guarded_callback(
    PERMISSION,
    Output("video-depot-travail", "data"),
    Input("video-depot-verifier", "n_clicks"),
    Input("video-depot-enregistrer", "n_clicks"),
    State("video-depot-jeton", "data"),
    State("video-depot-type", "value"),
    State("video-depot-accepter", "value"),
    prevent_initial_call=True,
)
def start(_verify, _save, upload, kind, accept):
    from flask_login import current_user

    if ctx.triggered_id not in ("video-depot-verifier", "video-depot-enregistrer"):
        return no_update
    job = "verification" if ctx.triggered_id == "video-depot-verifier" else "enregistrement"
    kind = kind if kind in KINDS else "cameras"
    user = current_user.login
    task = partial(_check_or_save, kind, job, user, "oui" in (accept or []), engine(), settings().commune)
    job_id = uploads.start_job(
        user,
        job,
        task,
        store=STORE,
        token=(upload or {}).get("jeton"),
        first_stage="lecture",
        keep_upload=job == "verification",
    )
    return {"travail": job_id, "type": job, "fichier": kind}


def _saved_view(kind: str, report: dict) -> html.Div:
    rows = KINDS[kind][2]
    links: list = [dcc.Link("Voir la page Vidéoprotection", href="/videoprotection", id="video-depot-lien")]
    if can("imports.voir"):
        links += [" · ", dcc.Link("Voir la liste des imports (annulation)", href="/imports")]
    return html.Div(
        [
            html.Strong(f"Import enregistré : lot n° {report.get('batch_id')}. "),
            f"{fmt.number(report.get('inserted') or 0)} {rows} ajoutée(s), "
            f"{fmt.number(report.get('duplicates') or 0)} {DONE_WORDS[kind]}, "
            f"{fmt.number(report.get('rejected') or 0)} ligne(s) écartée(s). Le fichier déposé a été effacé. ",
            *links,
        ],
        className="obs-alerte obs-alerte-info",
        id="video-depot-enregistre",
    )


def _result_view(job: str, kind: str, result: dict) -> list:
    report = result.get("report") or {}
    if not result.get("ok"):
        return upload_steps.failed(PREFIX, job, result, places=False)
    if job == "verification":
        return upload_steps.verified(PREFIX, report, places=False)
    return [_saved_view(kind, report), report_view(report, f"{PREFIX}-rapport-detail", places=False)]


@guarded_callback(
    PERMISSION,
    [
        Output("video-depot-progression", "children"),
        Output("video-depot-minuteur", "disabled"),
        Output("video-depot-rapport", "children"),
        Output("video-depot-enregistrements", "data"),
    ],
    Input("video-depot-travail", "data"),
    Input("video-depot-minuteur", "n_intervals"),
    Input("video-depot-jeton", "data"),
    State("video-depot-enregistrements", "data"),
)
def follow(work, _ticks, _upload, saved):
    from flask_login import current_user

    if ctx.triggered_id == "video-depot-jeton" or not work:
        # A new file: the previous report does not apply to it. The counter is given back as it stands, since
        # the holdings line waits for this callback at the page's opening and would not run on no_update.
        return "", True, None, saved or 0
    found = uploads.job(work.get("travail"), current_user.login)
    if found is None:
        note = html.Div(
            "Ce traitement n'est plus suivi : relancez-le.", className="obs-alerte obs-alerte-info"
        )
        return "", True, note, no_update
    if not found.done:
        stage = upload_steps.progress(PREFIX, found.kind, "lecture et contrôle des lignes", found.share)
        return stage, False, no_update, no_update
    result = found.result or {}
    kind = work.get("fichier") if work.get("fichier") in KINDS else "cameras"
    counted = (saved or 0) + 1 if result.get("ok") and found.kind == "enregistrement" else no_update
    return "", True, _result_view(found.kind, kind, result), counted


register_page(
    __name__,
    path="/videoprotection/depot",
    name="Dépôt vidéoprotection",
    permission=PERMISSION,
    render=render,
    order=61,
)
