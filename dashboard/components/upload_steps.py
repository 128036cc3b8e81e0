"""What the upload pages share once a file is dropped: the buttons (verify, accept the valid lines, save,
abandon the file), the progress of the job, and what a verification or a refused save answers.

Element ids start with the page's prefix (``depot``: ``depot-verifier``, ``depot-accepter``, ``depot-enregistrer``,
``depot-annuler``, ``depot-progression``, ``depot-minuteur``, ``depot-travail``, ``depot-rapport``), so that each
page keeps its own callbacks; the jobs themselves are those of :mod:`dashboard.uploads`.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.components import formatting as fmt
from dashboard.components.import_report import report_view


def controls(prefix: str) -> list[Any]:
    """The buttons, the progress line, the poll timer, the job's store and the place of the report."""
    return [
        html.Div(
            [
                html.Button("Vérifier", id=f"{prefix}-verifier", className="obs-bouton"),
                dcc.Checklist(
                    id=f"{prefix}-accepter",
                    value=[],
                    className="obs-pm-case",
                    options=[
                        {
                            "label": " accepter les lignes valides (les lignes en erreur sont écartées et consignées)",
                            "value": "oui",
                        }
                    ],
                ),
                html.Button("Enregistrer", id=f"{prefix}-enregistrer", className="obs-bouton"),
                html.Button(
                    "Abandonner ce fichier", id=f"{prefix}-annuler", className="obs-bouton-secondaire"
                ),
            ],
            className="obs-pm-boutons",
        ),
        html.Div(id=f"{prefix}-progression", role="status", **{"aria-live": "polite"}),
        dcc.Interval(id=f"{prefix}-minuteur", interval=700, disabled=True),
        dcc.Store(id=f"{prefix}-travail"),
        html.Div(id=f"{prefix}-rapport"),
    ]


def progress(prefix: str, kind: str, stage: str, share: float) -> html.Div:
    """A job still running: which step, how far."""
    what = "Vérification" if kind == "verification" else "Enregistrement"
    return html.Div(
        html.Label(
            [
                f"{what} en cours : {stage} ({fmt.number(100 * share)} %)",
                html.Progress(value=str(round(share, 3)), max="1", className="obs-pm-progression"),
            ]
        ),
        id=f"{prefix}-en-cours",
    )


def failed(prefix: str, kind: str, result: dict[str, Any], *, places: bool = True) -> list[Any]:
    """A job that did not end well: its message, and after a refused save, that the file is still there."""
    blocks: list[Any] = [
        html.Div(
            result.get("message", ""),
            className="obs-alerte obs-alerte-erreur",
            id=f"{prefix}-refus" if result.get("refus") else f"{prefix}-echec",
        )
    ]
    if kind == "enregistrement" and not result.get("refus"):
        blocks.append(
            html.P(
                "Le fichier reste déposé : corrigez le choix (par exemple cochez « accepter les lignes valides ») "
                "puis enregistrez de nouveau, ou abandonnez-le.",
                className="obs-muted",
                id=f"{prefix}-fichier-garde",
            )
        )
    report = result.get("report")
    if report:
        blocks.append(
            report_view(report, f"{prefix}-rapport-detail", dry_run=kind == "verification", places=places)
        )
    return blocks


def verified(prefix: str, report: dict[str, Any], *, places: bool = True) -> list[Any]:
    """A verification done: nothing saved yet, what saving would do with the errors found, the report."""
    errors = int(report.get("errors_total") or 0)
    head = html.Div(
        [
            html.Strong("Vérification terminée : rien n'a encore été enregistré. "),
            (
                f"{fmt.number(errors)} erreur(s) : sans la case « accepter les lignes valides », l'enregistrement "
                "refusera tout le fichier ; avec elle, les lignes en erreur seront écartées et consignées."
                if errors
                else "Aucune erreur : le fichier peut être enregistré."
            ),
        ],
        className="obs-alerte obs-alerte-info",
        id=f"{prefix}-verifie",
    )
    return [head, report_view(report, f"{prefix}-rapport-detail", dry_run=True, places=places)]
