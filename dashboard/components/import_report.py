"""An import report (``ImportReport.to_dict()``) as a person reads it: counts, per-row errors with the way
to fix them, labels outside the nomenclature, rows without a position, points outside the commune.

Shared by the upload page (dry run and commit) and the list of imports, so both say the same thing.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.components import formatting as fmt

STATUS_LABELS = {
    "en_cours": "en cours",
    "importe": "importé",
    "echec": "refusé",
    "annule": "annulé",
    "essai": "vérification (rien n'est enregistré)",
}
FIELD_NAMES = {
    "date": "Date",
    "time": "Heure",
    "label": "Nature",
    "address": "Adresse",
    "x": "X",
    "y": "Y",
    "sector": "Secteur",
    "origin": "Origine",
    "outcome": "Suite donnée",
    "record_id": "N° d'intervention",
}


def split_message(message: str) -> tuple[str, str]:
    """« raison ; comment corriger » → the two parts (the engine writes its messages that way)."""
    reason, sep, fix = (message or "").partition(" ; ")
    return (reason, fix) if sep else (message or "", "")


def _table(
    caption: str, headers: list[str], rows: list[list[Any]], table_id: str, row_header: bool = True
) -> html.Table:
    body = []
    for row in rows:
        cells = [html.Th(str(row[0]), scope="row") if row_header else html.Td(str(row[0]))]
        cells += [html.Td("" if v is None else str(v)) for v in row[1:]]
        body.append(html.Tr(cells))
    return html.Table(
        [
            html.Caption(caption),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in headers])),
            html.Tbody(body),
        ],
        className="obs-table obs-pm-rapport-table",
        id=table_id,
    )


def _lines(lines: list[int], total: int) -> str:
    text = ", ".join(str(n) for n in lines[:200])
    return text + (" …" if total > len(lines[:200]) else "")


def report_view(
    report: dict[str, Any], prefix: str, *, dry_run: bool = False, places: bool = True
) -> html.Div:
    """The whole report; ids start with ``prefix`` (``depot-rapport``, ``imports-rapport``). Without
    ``places`` (files whose rows are refused unplaced), no count of rows unplaced or outside the commune."""
    extra = report.get("extra") or {}
    errors_total = int(report.get("errors_total") or len(report.get("errors") or []))
    inserted_label = "Lignes qui seraient ajoutées" if dry_run else "Lignes ajoutées"
    counts = [
        ("Lignes lues", fmt.number(report.get("rows_read") or 0)),
        (inserted_label, fmt.number(report.get("inserted") or 0)),
        ("Déjà présentes (doublons ignorés)", fmt.number(report.get("duplicates") or 0)),
        ("Lignes rejetées", fmt.number(report.get("rejected") or 0)),
        ("Non géolocalisées", fmt.number(extra.get("non_geolocalises") or 0)),
        ("Hors de la commune", fmt.number(extra.get("hors_commune") or 0)),
    ]
    if not places:
        counts = counts[:4]
    blocks: list[Any] = [
        html.Dl(
            [item for label, value in counts for item in (html.Dt(label), html.Dd(value))],
            className="obs-chiffres-cles obs-pm-compteurs",
            id=f"{prefix}-compteurs",
        )
    ]
    # Warnings shown as tables below are not repeated; the others (file already imported…) come first.
    shown = ("libellé(s) absent(s)", "ligne(s) non géolocalisée(s)", "point(s) hors de la commune")
    warnings = [w for w in report.get("warnings") or [] if not any(s in w for s in shown)]
    if warnings:
        blocks.append(
            html.Ul(
                [html.Li(w) for w in warnings],
                id=f"{prefix}-avertissements",
                className="obs-pm-avertissements",
            )
        )
    form = extra.get("format") or {}
    if form:
        described = [f"fichier {str(form.get('type') or '').upper()}"]
        if form.get("encodage"):
            described.append(f"encodage {form['encodage']}")
        if form.get("separateur"):
            described.append(f"séparateur « {form['separateur']} »")
        if form.get("ligne_en_tete"):
            described.append(f"en-tête ligne {form['ligne_en_tete']}")
        blocks.append(html.P("Lecture : " + ", ".join(described) + ".", className="obs-muted"))
    used = extra.get("correspondance") or {}
    if used:
        blocks.append(
            html.P(
                "Correspondance utilisée : "
                + " ; ".join(f"{FIELD_NAMES.get(k, k)} ← « {v} »" for k, v in used.items())
                + ".",
                className="obs-muted obs-petit",
            )
        )

    errors = report.get("errors") or []
    if errors:
        rows = []
        for e in errors:
            reason, fix = split_message(e.get("message") or "")
            rows.append(
                [e.get("line") or "—", e.get("column") or "—", e.get("value") or "(vide)", reason, fix or "—"]
            )
        caption = f"{fmt.number(errors_total)} erreur(s) ligne par ligne"
        if errors_total > len(errors):
            caption += f" ({fmt.number(len(errors))} premières affichées)"
        kept = not dry_run and report.get("status") == "importe"
        blocks.append(
            html.H3("Lignes écartées, à corriger dans le logiciel" if kept else "Erreurs à corriger")
        )
        table = _table(
            caption, ["Ligne", "Colonne", "Valeur", "Problème", "Comment corriger"], rows, f"{prefix}-erreurs"
        )
        table.className += " obs-pm-erreurs"
        blocks.append(table)
    unknown = extra.get("libelles_inconnus") or []
    if unknown:
        blocks.append(html.H3("Natures absentes de la nomenclature"))
        blocks.append(
            html.P(
                "Ces interventions sont gardées et comptées « non classées ». Un analyste peut "
                "rattacher chaque libellé à un type de la nomenclature, une fois pour toutes.",
                className="obs-muted",
            )
        )
        blocks.append(
            _table(
                "Libellés inconnus et type le plus proche",
                ["Libellé du fichier", "Lignes", "Première ligne", "Suggestion"],
                [
                    [
                        u.get("libelle"),
                        fmt.number(u.get("lignes") or 0),
                        u.get("premiere_ligne"),
                        u.get("suggestion") or "aucune",
                    ]
                    for u in unknown
                ],
                f"{prefix}-libelles",
            )
        )
    not_placed = int(extra.get("non_geolocalises") or 0)
    if not_placed:
        blocks.append(
            html.Details(
                [
                    html.Summary(
                        f"{fmt.number(not_placed)} ligne(s) non géolocalisée(s) : gardées et comptées, absentes des "
                        "cartes"
                    ),
                    html.P("Lignes : " + _lines(extra.get("lignes_non_geolocalisees") or [], not_placed)),
                ],
                className="obs-pm-details",
                id=f"{prefix}-non-geolocalisees",
            )
        )
    outside = int(extra.get("hors_commune") or 0)
    if outside:
        blocks.append(
            html.Details(
                [
                    html.Summary(
                        f"{fmt.number(outside)} point(s) hors de la commune : gardés, vérifiez les coordonnées"
                    ),
                    html.P("Lignes : " + _lines(extra.get("lignes_hors_commune") or [], outside)),
                ],
                className="obs-pm-details",
                id=f"{prefix}-hors-commune",
            )
        )
    if extra.get("controle_commune"):
        blocks.append(html.P(f"Contrôle des positions : {extra['controle_commune']}.", className="obs-muted"))
    return html.Div(blocks, className="obs-pm-rapport", id=prefix)


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "")
