"""Dépôt police municipale: drop an export, read its preview, confirm the column mapping, verify, commit.

The dropped file is kept by :mod:`dashboard.uploads` (a private folder, deleted after the commit, on any
refusal by the personal-data guard, and when abandoned); verification and commit run there as jobs that the
page polls. The browser only ever holds a random token.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard import uploads
from dashboard.components import formatting as fmt
from dashboard.components import upload_steps
from dashboard.components.controls import dropdown
from dashboard.components.import_report import report_view
from dashboard.context import engine, settings
from dashboard.security import guarded_callback, register_page
from ingest import police_municipale as pm
from ingest import profiles
from observatoire.errors import ObservatoireError, PersonalDataRefused

PERMISSION = "pm.importer"
FIELDS = pm.FIELDS
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
MAX_BYTES = uploads.MAX_BYTES
STORE = uploads.UploadStore(
    suffixes=SUFFIXES,
    max_bytes=MAX_BYTES,
    wrong_type="« {name} » n'est ni un CSV ni un classeur Excel .xlsx : exportez le fichier dans l'un de ces "
    "formats depuis le logiciel de main courante.",
)
STAGES = {
    "lecture": "lecture et contrôle des lignes",
    "validation": "rapprochement de la nomenclature",
    "geocodage": "géocodage des adresses",
    "ecriture": "écriture dans la base",
}
CRS_LABELS = {
    "auto": "reconnu automatiquement",
    "wgs84": "longitude / latitude (WGS84)",
    "lambert93": "X / Y Lambert-93",
}


# --- Layout --------------------------------------------------------------------------------------------


def _field_row(field) -> html.Div:
    label = field.label + (" (obligatoire)" if field.required else "")
    return html.Div(
        [
            html.Label(label, htmlFor=f"depot-champ-{field.name}", className="obs-pm-champ-nom"),
            dropdown(id=f"depot-champ-{field.name}", options=[], clearable=True, placeholder="non utilisé"),
            html.Span(id=f"depot-confiance-{field.name}", className="obs-pm-confiance"),
        ],
        className="obs-pm-champ",
    )


def render(**_params) -> html.Div:
    return html.Div(
        [
            html.H1("Dépôt d'un export de la police municipale"),
            html.P(
                [
                    "Déposez l'export de la main courante (CSV ou Excel), vérifiez la correspondance des colonnes, "
                    "lisez le rapport de vérification, puis enregistrez. Un fichier déjà importé, ou un export qui "
                    "chevauche le précédent, n'ajoute rien en double. ",
                    html.Strong("Aucune donnée nominative n'est acceptée"),
                    " (nom, prénom, date de naissance, "
                    "téléphone, courriel, plaque d'immatriculation, observations ou commentaires) : un tel fichier "
                    "est refusé en entier et rien n'en est gardé.",
                ],
                className="obs-muted",
            ),
            html.Section(
                [
                    html.H2("1. Fichier"),
                    dcc.Upload(
                        id="depot-fichier",
                        multiple=False,
                        max_size=MAX_BYTES,
                        # No ``accept`` filter: the browser would drop a PDF without a word; the server names
                        # the formats it takes instead (STORE.wrong_type).
                        children=html.Div(
                            [
                                "Glissez-déposez ici l'export (CSV ou Excel .xlsx), ou ",
                                html.Span("choisissez-le sur l'ordinateur", className="obs-pm-lien"),
                            ]
                        ),
                        className="obs-pm-depot",
                        className_active="obs-pm-depot-actif",
                    ),
                    html.P(
                        f"Taille maximale : {MAX_BYTES // (1024 * 1024)} Mo. Colonnes reconnues sans réglage : Date, Heure, "
                        "Nature de l'intervention (ou Motif), Adresse (ou Lieu), X, Y, Secteur, Origine, Suite donnée, "
                        "N° d'intervention.",
                        className="obs-muted obs-petit",
                    ),
                    dcc.Loading(html.Div(id="depot-apercu")),
                ],
                className="obs-bloc",
            ),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2("2. Correspondance des colonnes"),
                            html.P(
                                "Pour chaque information de l'observatoire, la colonne du fichier qui la contient. Les choix "
                                "proposés automatiquement sont à confirmer.",
                                className="obs-muted",
                            ),
                            html.Div(
                                [
                                    html.Label(
                                        [
                                            "Profil de correspondance enregistré",
                                            dropdown(
                                                id="depot-profil",
                                                clearable=True,
                                                placeholder="aucun (proposition automatique)",
                                            ),
                                        ]
                                    ),
                                ],
                                className="obs-filtres",
                            ),
                            html.Div(
                                [_field_row(f) for f in FIELDS], className="obs-pm-champs", id="depot-champs"
                            ),
                            html.Fieldset(
                                [
                                    html.Legend("Système des coordonnées"),
                                    dcc.RadioItems(
                                        id="depot-crs",
                                        value="auto",
                                        inline=True,
                                        options=[
                                            {"label": f" {label}", "value": code}
                                            for code, label in CRS_LABELS.items()
                                        ],
                                    ),
                                ],
                                className="obs-pm-fieldset",
                            ),
                            html.Div(
                                [
                                    html.Label(
                                        [
                                            "Enregistrer cette correspondance sous le nom",
                                            dcc.Input(
                                                id="depot-profil-nom",
                                                type="text",
                                                maxLength=80,
                                                placeholder="par ex. Logiciel main courante 2024",
                                            ),
                                        ]
                                    ),
                                    html.Button(
                                        "Enregistrer le profil",
                                        id="depot-profil-enregistrer",
                                        className="obs-bouton-secondaire",
                                    ),
                                ],
                                className="obs-filtres",
                            ),
                            html.Div(id="depot-profil-message", role="status"),
                        ],
                        className="obs-bloc",
                    ),
                    html.Section(
                        [
                            html.H2("3. Vérifier puis enregistrer"),
                            *upload_steps.controls("depot"),
                        ],
                        className="obs-bloc",
                    ),
                ],
                id="depot-etapes",
                style={"display": "none"},
            ),
            dcc.Store(id="depot-jeton"),
        ]
    )


# --- Step 1: the file ------------------------------------------------------------------------------------


def _preview_table(preview) -> html.Div:
    width = len(preview.header)
    rows = [html.Tr([html.Td(c) for c in (r + [""] * (width - len(r)))[:width]]) for r in preview.rows]
    described = [preview.kind.upper()]
    if preview.encoding:
        described.append(f"encodage {preview.encoding}")
    if preview.separator:
        described.append(f"séparateur « {preview.separator} »")
    described.append(f"en-tête ligne {preview.header_line}")
    return html.Div(
        [
            html.P([html.Strong(preview.file_name), " — " + ", ".join(described) + "."], id="depot-format"),
            html.Div(
                html.Table(
                    [
                        html.Caption(f"Aperçu : en-tête et {len(preview.rows)} première(s) ligne(s)"),
                        html.Thead(
                            html.Tr(
                                [
                                    html.Th(h or f"(colonne {i + 1} sans nom)", scope="col")
                                    for i, h in enumerate(preview.header)
                                ]
                            )
                        ),
                        html.Tbody(rows),
                    ],
                    className="obs-table obs-pm-apercu",
                    id="depot-apercu-table",
                ),
                className="obs-pm-defilement",
            ),
        ]
    )


@guarded_callback(
    PERMISSION,
    [Output("depot-jeton", "data"), Output("depot-apercu", "children"), Output("depot-fichier", "contents")],
    Input("depot-fichier", "contents"),
    Input("depot-annuler", "n_clicks"),
    State("depot-fichier", "filename"),
    State("depot-jeton", "data"),
)
def receive(contents, _cancel, filename, previous):
    from flask_login import current_user

    if ctx.triggered_id == "depot-annuler":
        if not previous:
            return no_update, no_update, no_update
        STORE.delete(previous.get("jeton"))
        return (
            None,
            html.Div(
                "Fichier abandonné : il a été effacé du serveur, rien n'a été enregistré.",
                className="obs-alerte obs-alerte-info",
                id="depot-abandonne",
            ),
            None,
        )
    if not contents:
        return no_update, no_update, no_update
    if previous:
        # One upload at a time per page: the earlier file goes (unless a job holds it).
        STORE.delete(previous.get("jeton"))
    upload = None
    try:
        upload = STORE.save(contents, filename, current_user.login)
        preview = pm.preview(upload.path)
    except ObservatoireError as exc:
        STORE.delete(upload and upload.token)  # refused: nothing of the file is kept
        kind = "refus" if isinstance(exc, PersonalDataRefused) else "erreur"
        return None, html.Div(exc.message, className="obs-alerte obs-alerte-erreur", id=f"depot-{kind}"), None
    except Exception:
        STORE.delete(upload and upload.token)
        raise
    # Header and proposal only: the rows stay on the server, read again from the file when needed.
    upload.write_note(
        {"header": preview.header, "proposal": {k: list(v) for k, v in preview.proposal.items()}}
    )
    return {"jeton": upload.token, "fichier": preview.file_name}, _preview_table(preview), None


# --- Step 2: the mapping ---------------------------------------------------------------------------------


def _confidence_text(score: float) -> str:
    strength = "sûr" if score >= 0.99 else ("probable" if score >= 0.7 else "incertain")
    return f"proposé automatiquement — à confirmer ({strength}, {fmt.number(100 * score)} %)"


MAPPING_OUTPUTS = (
    [Output(f"depot-champ-{f.name}", "options") for f in FIELDS]
    + [Output(f"depot-champ-{f.name}", "value") for f in FIELDS]
    + [Output(f"depot-confiance-{f.name}", "children") for f in FIELDS]
    + [Output("depot-crs", "value"), Output("depot-etapes", "style")]
)


@guarded_callback(PERMISSION, MAPPING_OUTPUTS, Input("depot-jeton", "data"), Input("depot-profil", "value"))
def fill_mapping(upload, profile):
    from flask_login import current_user

    n = len(FIELDS)
    hidden = [[]] * n + [None] * n + [""] * n + ["auto", {"display": "none"}]
    if not upload:
        return hidden
    try:
        stored = STORE.open(upload.get("jeton"), current_user.login)
    except ObservatoireError:
        return hidden
    meta = stored.read_note() or {"header": [], "proposal": {}}
    header = [h for h in meta["header"] if h]
    options = [{"label": h, "value": h} for h in header]
    values: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    crs = "auto"
    if profile:
        try:
            chosen = pm.mapping_from(engine(), profile)
        except ObservatoireError as exc:
            notes = {FIELDS[0].name: exc.message}
            chosen = None
        if chosen is not None:
            crs = chosen.crs
            for name, column in chosen.columns.items():
                if column in header:
                    values[name] = column
                    notes[name] = f"profil « {profile} »"
                elif column:
                    notes[name] = f"colonne « {column} » du profil absente du fichier"
    else:
        for name, (column, score) in meta["proposal"].items():
            values[name] = column
            notes[name] = _confidence_text(float(score))
    for f in FIELDS:
        if f.required and not values.get(f.name) and f.name not in notes:
            notes[f.name] = "à choisir : information obligatoire"
    return (
        [options] * n
        + [values.get(f.name) for f in FIELDS]
        + [notes.get(f.name, "") for f in FIELDS]
        + [crs, {"display": "block"}]
    )


@guarded_callback(
    PERMISSION,
    Output("depot-profil", "options"),
    Input("depot-jeton", "data"),
    Input("depot-profil-message", "children"),
)
def profile_options(_upload, _saved):
    frame = profiles.list_profiles(engine(), pm.SOURCE_NAME)
    return [{"label": r.name, "value": r.name} for r in frame.itertuples()]


FIELD_STATES = [State(f"depot-champ-{f.name}", "value") for f in FIELDS]


def _mapping(values: tuple, crs: str | None) -> dict:
    columns = {f.name: v for f, v in zip(FIELDS, values, strict=True) if v}
    return {"columns": columns, "crs": crs if crs in CRS_LABELS else "auto"}


@guarded_callback(
    PERMISSION,
    Output("depot-profil-message", "children"),
    Input("depot-profil-enregistrer", "n_clicks"),
    State("depot-profil-nom", "value"),
    State("depot-crs", "value"),
    *FIELD_STATES,
    prevent_initial_call=True,
)
def save_profile(clicks, name, crs, *values):
    from flask_login import current_user

    if not clicks:
        return no_update
    mapping = _mapping(values, crs)
    if not mapping["columns"]:
        return html.Div("Choisissez d'abord les colonnes.", className="obs-alerte obs-alerte-info")
    try:
        profiles.save_profile(
            engine(), pm.SOURCE_NAME, name or "", pm.mapping_from(engine(), mapping), user=current_user.login
        )
    except ObservatoireError as exc:
        return html.Div(exc.message, className="obs-alerte obs-alerte-erreur")
    return html.Div(
        f"Profil « {name.strip()} » enregistré : il sera proposé au prochain dépôt.",
        className="obs-alerte obs-alerte-info",
        id="depot-profil-enregistre",
    )


# --- Step 3: verification and commit, as jobs of dashboard.uploads -------------------------------------


def _check_or_commit(
    kind: str,
    mapping: dict,
    user: str,
    accept: bool,
    eng,
    commune: str,
    path: Path,
    progress: uploads.Progress,
) -> dict:
    if kind == "verification":
        report = pm.validate(eng, path, mapping, user=user, progress=progress, commune=commune)
    else:
        report = pm.commit(
            eng, path, mapping=mapping, user=user, accept_valid=accept, progress=progress, commune=commune
        )
    return report.to_dict()


@guarded_callback(
    PERMISSION,
    Output("depot-travail", "data"),
    Input("depot-verifier", "n_clicks"),
    Input("depot-enregistrer", "n_clicks"),
    State("depot-jeton", "data"),
    State("depot-crs", "value"),
    State("depot-accepter", "value"),
    *FIELD_STATES,
    prevent_initial_call=True,
)
def start(_verify, _commit, upload, crs, accept, *values):
    from flask_login import current_user

    if ctx.triggered_id not in ("depot-verifier", "depot-enregistrer"):
        return no_update
    kind = "verification" if ctx.triggered_id == "depot-verifier" else "enregistrement"
    user = current_user.login
    task = partial(
        _check_or_commit,
        kind,
        _mapping(values, crs),
        user,
        "oui" in (accept or []),
        engine(),
        settings().commune,
    )
    # A commit, done or refused, leaves nothing to keep; a verification keeps the file for the commit.
    job_id = uploads.start_job(
        user,
        kind,
        task,
        store=STORE,
        token=(upload or {}).get("jeton"),
        first_stage="lecture",
        keep_upload=kind == "verification",
    )
    return {"travail": job_id, "type": kind}


def _result_view(kind: str, result: dict) -> list:
    report = result.get("report")
    if not result.get("ok"):
        return upload_steps.failed("depot", kind, result)
    if kind == "verification":
        return upload_steps.verified("depot", report)
    head = [
        html.Div(
            [
                html.Strong(f"Import enregistré : lot n° {report.get('batch_id')}. "),
                f"{fmt.number(report.get('inserted') or 0)} intervention(s) ajoutée(s), "
                f"{fmt.number(report.get('duplicates') or 0)} déjà présente(s), "
                f"{fmt.number(report.get('rejected') or 0)} ligne(s) rejetée(s). Le fichier déposé a été effacé. ",
                dcc.Link(
                    "Voir l'activité de la police municipale",
                    href="/police-municipale",
                    id="depot-lien-activite",
                ),
                " · ",
                dcc.Link("Voir la liste des imports", href="/imports"),
            ],
            className="obs-alerte obs-alerte-info",
            id="depot-enregistre",
        )
    ]
    return head + [report_view(report, "depot-rapport-detail")]


@guarded_callback(
    PERMISSION,
    [
        Output("depot-progression", "children"),
        Output("depot-minuteur", "disabled"),
        Output("depot-rapport", "children"),
    ],
    Input("depot-travail", "data"),
    Input("depot-minuteur", "n_intervals"),
    Input("depot-jeton", "data"),
)
def follow(work, _ticks, _upload):
    from flask_login import current_user

    if ctx.triggered_id == "depot-jeton" or not work:
        return "", True, None  # a new file: the previous report does not apply to it
    job = uploads.job(work.get("travail"), current_user.login)
    if job is None:
        return (
            "",
            True,
            html.Div("Ce traitement n'est plus suivi : relancez-le.", className="obs-alerte obs-alerte-info"),
        )
    if not job.done:
        stage = STAGES.get(job.stage, job.stage)
        return upload_steps.progress("depot", job.kind, stage, job.share), False, no_update
    return "", True, _result_view(job.kind, job.result or {})


register_page(
    __name__,
    path="/police-municipale/depot",
    name="Dépôt police municipale",
    permission=PERMISSION,
    render=render,
    order=30,
)
