"""Exports: a map (print-ready image or PDF, offline HTML, GeoPackage, table) or the diagnostic report, for an
audience; and the list of previous exports from the audit log. The council gets the plenary level only."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from dash import Input, Output, State, dash_table, dcc, html
from flask_login import current_user

from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.components.tables import DATATABLE_STYLE
from dashboard.context import client_ip, engine
from dashboard.security import current_role, guarded_callback, register_page
from observatoire import disclosure
from observatoire.audit import list_entries
from observatoire.errors import ObservatoireError
from observatoire.events import filter as event_filter
from observatoire.exports import audience as aud
from observatoire.exports import files, layers, maps
from observatoire.exports.report import diagnostic
from observatoire.exports.request import ExportRequest
from observatoire.permissions import AGGREGATE_ONLY

PERMISSION = "exports.produire"
MAP_FORMATS = {
    "png": "Image PNG (A4, 300 dpi)",
    "pdf": "PDF (A4)",
    "svg": "SVG (vectoriel)",
    "html": "Carte HTML interactive hors ligne",
    "gpkg": "GeoPackage (QGIS)",
    "csv": "Tableau CSV",
    "xlsx": "Tableau XLSX",
}
REPORT_FORMATS = {"pdf": "PDF", "html": "HTML"}


def _years(role: str | None = None) -> list[int]:
    """The years holding events the role may see, newest first (the current year and back, when none)."""
    from observatoire.events import queries

    period = queries.summary(engine(), event_filter.EventFilter(sources=event_filter.allowed_sources(role)))
    if not period["first_day"]:
        return list(range(date.today().year, date.today().year - 10, -1))
    return list(range(period["last_day"].year, period["first_day"].year - 1, -1))


# The Carte page's modes and the layer that exports each.
MODE_LAYERS = {"hexagones": "hexagons", "iris": "iris", "points": "points", "points_chauds": "hotspots"}


def _view(params: dict) -> dict:
    """The Carte page's filters carried by the « Exporter cette vue » link."""
    view = {}
    for key in ("debut", "fin"):
        try:
            view[key] = date.fromisoformat(params.get(key) or "").isoformat()
        except ValueError:
            pass
    for key in ("categories", "familles"):
        view[key] = [v for v in (params.get(key) or "").split(",") if v]
    first, _, last = (params.get("heures") or "").partition("-")
    if first.isdigit() and last.isdigit() and int(first) < 24 and int(last) < 24 and first != last:
        view["heures"] = [int(first), int(last)]
    days = (params.get("jours") or "").split(",")
    view["jours"] = sorted({int(d) for d in days if d.isdigit() and 1 <= int(d) <= 7})
    return view


def _view_filter(view: dict, **kwargs) -> event_filter.EventFilter:
    """The Carte page's categories, families, hours and days, over ``kwargs`` (sources and period)."""
    return event_filter.EventFilter(
        categories=tuple(view.get("categories") or ()),
        families=tuple(view.get("familles") or ()),
        hours=(view["heures"][0], view["heures"][1]) if view.get("heures") else None,
        weekdays=tuple(view.get("jours") or ()),
        **kwargs,
    )


def _view_note(view: dict) -> html.P | None:
    """What the export takes from the map beside the choices of this page, so nothing is applied unseen."""
    parts = []
    if view.get("categories") or view.get("familles"):
        parts.append(
            f"{len(view.get('categories') or ()) + len(view.get('familles') or ())} catégorie(s) ou famille(s)"
        )
    described = _view_filter(view).describe()
    if view.get("heures"):
        parts.append(described["heures"])
    if view.get("jours"):
        parts.append(", ".join(described["jours"]))
    if not parts:
        return None
    plenary = (
        " Un export plénier ramène les heures aux tranches fixes et ne retient pas les jours (secret statistique)."
        if view.get("heures") or view.get("jours")
        else ""
    )
    return html.P(
        "Repris de la carte : " + " ; ".join(parts) + "." + plenary,
        className="obs-muted",
        id="exports-vue-note",
    )


def render(**params) -> html.Div:
    role = current_role()
    council = role in AGGREGATE_ONLY
    permitted = event_filter.allowed_sources(role)
    sources = [s for s in (params.get("source") or "").split(",") if s in permitted]
    view = _view(params)
    exact = "debut" in view and "fin" in view and not council
    years = _years(role)
    year = "vue" if exact else (params.get("annee") or str(years[0]))
    part = params.get("partie") or "annee"
    mode = MODE_LAYERS.get(params.get("mode") or "")
    chosen_layers = [mode] if mode else ["hotspots"]
    year_options = [{"label": "Toute la période", "value": "tout"}] + [
        {"label": str(y), "value": str(y)} for y in years
    ]
    if exact:
        year_options.insert(
            0, {"label": f"Période de la carte ({view['debut']} – {view['fin']})", "value": "vue"}
        )
    audiences = [
        {"label": label, "value": key, "disabled": council and key != aud.PLENIER}
        for key, label in aud.AUDIENCES.items()
    ]
    return html.Div(
        [
            html.H1("Exports"),
            html.P(
                "Cartes prêtes à imprimer, cartes interactives hors ligne, GeoPackage pour QGIS, tableaux et "
                "rapport de diagnostic. Chaque export porte son niveau de diffusion et est inscrit au journal "
                "d'audit avec l'empreinte SHA-256 du fichier.",
                className="obs-muted",
            ),
            html.Div(
                [
                    html.Label(
                        [
                            "Quoi",
                            dcc.RadioItems(
                                id="exports-quoi",
                                value="carte",
                                options=[
                                    {"label": "Carte", "value": "carte"},
                                    {"label": "Rapport de diagnostic", "value": "rapport"},
                                ],
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Diffusion",
                            dcc.RadioItems(
                                id="exports-diffusion",
                                value=aud.PLENIER if council else aud.RESTREINT,
                                options=audiences,
                            ),
                        ]
                    ),
                    html.Label(["Format", dropdown(id="exports-format", value="png", clearable=False)]),
                ],
                className="obs-filtres",
            ),
            html.Div(
                [
                    html.Label(
                        [
                            "Couches",
                            dcc.Checklist(
                                id="exports-couches",
                                value=chosen_layers,
                                options=[
                                    {"label": layer.label, "value": k} for k, layer in layers.REGISTRY.items()
                                ],
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Sources (aucune cochée : toutes)",
                            dcc.Checklist(
                                id="exports-sources",
                                value=sources,
                                options=[
                                    {"label": v, "value": k}
                                    for k, v in event_filter.SOURCES.items()
                                    if k in permitted
                                ],
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Année",
                            dropdown(
                                id="exports-annee",
                                value=year,
                                clearable=False,
                                options=year_options,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Partie de l'année",
                            dropdown(
                                id="exports-partie",
                                value=part,
                                clearable=False,
                                options=[{"label": lab, "value": k} for k, lab in disclosure.YEAR_PARTS],
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Orientation",
                            dcc.RadioItems(
                                id="exports-orientation",
                                value="paysage",
                                options=[
                                    {"label": "Paysage", "value": "paysage"},
                                    {"label": "Portrait", "value": "portrait"},
                                ],
                            ),
                        ]
                    ),
                ],
                id="exports-options-carte",
                className="obs-filtres",
            ),
            html.Div(
                [
                    html.Label(
                        [
                            "Années du diagnostic, de",
                            dropdown(
                                id="exports-de",
                                value=str(years[min(3, len(years) - 1)]),
                                clearable=False,
                                options=[{"label": str(y), "value": str(y)} for y in years],
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "à",
                            dropdown(
                                id="exports-a",
                                value=str(years[0]),
                                clearable=False,
                                options=[{"label": str(y), "value": str(y)} for y in years],
                            ),
                        ]
                    ),
                ],
                id="exports-options-rapport",
                className="obs-filtres",
                style={"display": "none"},
            ),
            dcc.Store(id="exports-vue", data=view),
            _view_note(view),
            html.Div(
                [
                    html.Button("Produire l'export", id="exports-produire", className="obs-bouton"),
                    dcc.Download(id="exports-telechargement"),
                ],
            ),
            dcc.Loading(html.Div(id="exports-message", role="status")),
            html.H2("Exports précédents"),
            html.P(
                "Vos exports (tous les exports pour l'administration), les plus récents d'abord ; l'empreinte "
                "SHA-256 permet de retrouver qui a produit un document, quand et avec quels filtres.",
                className="obs-muted",
            ),
            dash_table.DataTable(
                id="exports-historique",
                page_size=15,
                columns=[
                    {"name": n, "id": i}
                    for i, n in (
                        ("at", "Date"),
                        ("user_login", "Compte"),
                        ("target", "Objet"),
                        ("format", "Format"),
                        ("diffusion", "Diffusion"),
                        ("sha256", "SHA-256"),
                    )
                ],
                **DATATABLE_STYLE,
            ),
        ]
    )


@guarded_callback(
    PERMISSION,
    [
        Output("exports-format", "options"),
        Output("exports-format", "value"),
        Output("exports-options-carte", "style"),
        Output("exports-options-rapport", "style"),
    ],
    Input("exports-quoi", "value"),
    State("exports-format", "value"),
)
def switch_kind(kind, current):
    choices = REPORT_FORMATS if kind == "rapport" else MAP_FORMATS
    value = current if current in choices else next(iter(choices))
    shown, hidden = {}, {"display": "none"}
    report = kind == "rapport"
    return (
        [{"label": v, "value": k} for k, v in choices.items()],
        value,
        hidden if report else shown,
        shown if report else hidden,
    )


@guarded_callback(
    PERMISSION,
    [Output("exports-telechargement", "data"), Output("exports-message", "children")],
    Input("exports-produire", "n_clicks"),
    State("exports-quoi", "value"),
    State("exports-diffusion", "value"),
    State("exports-format", "value"),
    State("exports-couches", "value"),
    State("exports-sources", "value"),
    State("exports-annee", "value"),
    State("exports-partie", "value"),
    State("exports-orientation", "value"),
    State("exports-de", "value"),
    State("exports-a", "value"),
    State("exports-vue", "data"),
    prevent_initial_call=True,
)
def produce(_clicks, kind, audience, fmt_, chosen, sources, year, part, orientation, first, last, view):
    role, login = current_role(), current_user.login
    try:
        if kind == "rapport":
            years = (min(int(first), int(last)), max(int(first), int(last)))
            data = diagnostic.render(
                diagnostic.Ask(engine(), _commune(), years, aud.check(audience, role), login, role), fmt_
            )
            name = f"diagnostic_{years[0]}-{years[1]}_{audience}.{fmt_}"
            written = files.Written(Path(name), files.sha256(data), len(data))
            files.record(
                engine(),
                written,
                what="rapport:diagnostic",
                fmt=fmt_,
                audience=audience,
                login=login,
                role=role,
                filters={"annees": f"{years[0]}-{years[1]}"},
                ip=client_ip(),
            )
        else:
            view = view or {}
            if year == "vue" and view.get("debut") and view.get("fin"):
                period = disclosure.Period(date.fromisoformat(view["debut"]), date.fromisoformat(view["fin"]))
            else:
                period = disclosure.period_of_choice(None if year == "vue" else year, part)
            request = ExportRequest(
                _view_filter(view, sources=tuple(sources or ()), start=period.start, end=period.end),
                layers=tuple(chosen or ()),
                audience=audience,
                role=role,
                login=login,
                orientation=orientation,
            )
            data, request, built = maps.render(engine(), request, fmt_)
            key = f"{period.start}_{period.end}" if year == "vue" else period.key
            name = f"carte_{'-'.join(request.layers)}_{key}_{audience}.{fmt_}"
            written = files.Written(Path(name), files.sha256(data), len(data))
            maps.record(engine(), request, fmt_, written, built, ip=client_ip())
    except ObservatoireError as exc:
        return None, html.Div(exc.message, className="obs-alerte obs-alerte-erreur", id="exports-erreur")
    message = html.Div(
        f"Export produit : {name} ({fmt.number(len(data))} octets), SHA-256 {written.sha256}.",
        className="obs-alerte obs-alerte-info",
        id="exports-fait",
    )
    import dash

    return dash.dcc.send_bytes(data, name), message


def _commune() -> str:
    from dashboard.context import settings

    return settings().commune_code


@guarded_callback(
    PERMISSION,
    Output("exports-historique", "data"),
    Input("exports-message", "children"),
)
def history(_message):
    login = None if current_role() == "admin" else current_user.login
    frame = list_entries(engine(), action="export", user_login=login, limit=200)
    return [
        {
            "at": fmt.moment(r.at),
            "user_login": r.user_login or "",
            "target": r.target or "",
            "format": (r.detail or {}).get("format", ""),
            "diffusion": aud.AUDIENCES.get((r.detail or {}).get("diffusion", ""), "").split(" — ")[0],
            "sha256": (r.detail or {}).get("sha256", ""),
        }
        for r in frame.itertuples()
    ]


def view_link(sources, start, end, year, part, categories, families, mode, first, last, weekdays) -> str:
    """The Exports page with the Carte page's current filters (the « Exporter cette vue » link)."""
    hours = event_filter.hours_between(first, last)
    query = {
        "source": ",".join(sources or ()),
        "debut": (start or "")[:10],
        "fin": (end or "")[:10],
        "annee": str(year or ""),
        "partie": part or "",
        "categories": ",".join(categories or ()),
        "familles": ",".join(families or ()),
        "mode": mode or "",
        "heures": f"{hours[0]}-{hours[1]}" if hours else "",
        "jours": ",".join(str(d) for d in sorted(weekdays or ())),
    }
    return "/exports?" + urlencode({k: v for k, v in query.items() if v})


@guarded_callback(
    PERMISSION,
    Output("carte-exporter", "href"),
    Input("carte-sources", "value"),
    Input("carte-periode", "start_date"),
    Input("carte-periode", "end_date"),
    Input("carte-annee", "value"),
    Input("carte-partie", "value"),
    Input("carte-categories", "value"),
    Input("carte-familles", "value"),
    Input("carte-mode", "value"),
    Input("carte-heure-debut", "value"),
    Input("carte-heure-fin", "value"),
    Input("carte-jours", "value"),
)
def carte_link(sources, start, end, year, part, categories, families, mode, first, last, weekdays):
    return view_link(sources, start, end, year, part, categories, families, mode, first, last, weekdays)


register_page(__name__, path="/exports", name="Exports", permission=PERMISSION, render=render, order=80)
