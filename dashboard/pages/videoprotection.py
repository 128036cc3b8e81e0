"""Vidéoprotection: the requisitions indicators, the map of cameras sized by requisitions with their coverage
and the hot spots, the register with its filters, the entry and correction forms, the consultation log.

Roles: the CSU operators (``videoprotection``) enter and correct; analysts read everything; the council reads
yearly tables protected by statistical secrecy, and the camera positions only when the administrator allows it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import dash_leaflet as dl
import pandas as pd
from dash import Input, Output, State, dash_table, dcc, html
from flask_login import current_user

from dashboard.components import formatting as fmt
from dashboard.components.controls import dropdown
from dashboard.components.graphs import GRAPH_CONFIG
from dashboard.components.maps import basemap, legend_box, legend_item, source_line, swatch, view_of
from dashboard.components.palette import OKABE_ITO
from dashboard.components.tables import DATATABLE_STYLE, frame_table
from dashboard.context import engine, settings
from dashboard.security import can, current_role, guarded_callback, register_page
from observatoire import disclosure
from observatoire.errors import ObservatoireError
from observatoire.events import hotspots
from observatoire.permissions import AGGREGATE_ONLY
from observatoire.territories import commune_overview
from observatoire.videoprotection import coverage, indicators, inventory, labels, register

PERMISSION = "video.synthese"
READ = "video.voir"
MANAGE = "video.gerer"
YES_NO = [
    {"label": "Oui", "value": "oui"},
    {"label": "Non", "value": "non"},
    {"label": "Inconnu", "value": ""},
]


def _options(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"label": v, "value": k} for k, v in mapping.items()]


def _field(label: str, control: Any, wide: bool = False) -> html.Label:
    return html.Label([label, control], className="obs-large" if wide else None)


def _text(id_: str, placeholder: str = "") -> dcc.Input:
    return dcc.Input(id=id_, type="text", placeholder=placeholder, debounce=False)


def _years_control(years: list[int]) -> html.Div:
    default = years[-5:] if years else []
    return html.Div(
        [
            _field(
                "Années",
                dropdown(
                    id="video-annees",
                    multi=True,
                    value=default,
                    options=[{"label": str(y), "value": y} for y in years],
                    placeholder="toutes",
                ),
                wide=True,
            )
        ],
        className="obs-filtres",
    )


def render(**_params) -> html.Div:
    role = current_role()
    years = indicators.years_available(engine())
    blocks: list[Any] = [
        html.H1("Vidéoprotection"),
        html.P(
            "Réquisitions judiciaires d'images, contribution des caméras aux enquêtes, contrôles légaux et "
            "couverture des points chauds. Aucun nom n'est enregistré : la référence de procédure est contrôlée.",
            className="obs-muted",
        ),
        _years_control(years),
        # Raised by the forms: new requisitions (indicators, map, register), corrections, log entries.
        dcc.Store(id="video-version", data=0),
        dcc.Store(id="video-saisies", data=0),
        dcc.Store(id="video-journal-maj", data=0),
        html.Section(
            [html.H2("Indicateurs"), dcc.Loading(html.Div(id="video-indicateurs"))], className="obs-bloc"
        ),
    ]
    if can(READ):
        blocks += [_map_block(), _register_block()]
    elif inventory.positions_visible(role, settings().video_cameras_public):
        blocks.append(_public_positions())
    if can(MANAGE):
        blocks.append(_forms_block())
    if can(READ):
        blocks.append(
            html.Section(
                [
                    html.H2("Journal des consultations, extractions et remises"),
                    html.P(
                        "Qui, quand, pourquoi, pour qui, quelle caméra. Le journal ne peut être ni modifié ni "
                        f"effacé ; il est conservé {settings().video_log_retention_years} ans puis purgé par "
                        "« observatoire purge » (purge journalisée).",
                        className="obs-muted",
                    ),
                    html.Div(id="video-journal"),
                ],
                className="obs-bloc",
            )
        )
    return html.Div(blocks)


# --- Indicators ------------------------------------------------------------------------------------------


def _share(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else fmt.percent(100 * float(value))


def _count_table(frame: pd.DataFrame, caption: str, table_id: str, head: str, limit: int | None = None):
    shown = frame.head(limit) if limit else frame
    table = pd.DataFrame(
        {
            "Réquisitions": [fmt.number(v) for v in shown["requisitions"]],
            "Images trouvées": [_share(v) for v in shown["found_share"]],
            "Exploitables": [_share(v) for v in shown["usable_share"]],
        },
        index=shown["label"].astype(str),
    )
    return frame_table(table, caption, table_id, head)


@guarded_callback(
    PERMISSION,
    Output("video-indicateurs", "children"),
    Input("video-annees", "value"),
    Input("video-version", "data"),
)
def show_indicators(years, _version):
    chosen = sorted(int(y) for y in years) if years else None
    role = current_role()
    if role in AGGREGATE_ONLY:
        return _council_indicators(chosen or indicators.years_available(engine()))
    s = indicators.summary(engine(), chosen, settings().video_image_retention_days)
    trend = s["trend"]
    trend_text = (
        "—"
        if not trend or trend["change"] is None
        else f"{fmt.signed(100 * trend['change'], 1)} % ({trend['from']} → {trend['to']})"
    )
    facts = [
        ("Réquisitions", fmt.number(s["total"]), "video-total"),
        ("Avec images trouvées", _share(s["found_share"]), "video-part-trouvees"),
        ("Exploitables pour l'enquête", _share(s["usable_share"]), "video-part-exploitables"),
        ("Évolution sur un an", trend_text, "video-evolution"),
        (
            f"Demandes au-delà de la conservation ({settings().video_image_retention_days} j)",
            fmt.number(s["beyond"]),
            "video-hors-delai",
        ),
    ]
    cards = html.Dl(
        [x for label, value, id_ in facts for x in (html.Dt(label), html.Dd(value, id=id_))],
        className="obs-chiffres-cles",
    )
    months = indicators.counts(engine(), chosen, "month")
    figure = {
        "data": [
            {
                "type": "bar",
                "x": months["key"].tolist(),
                "y": months["requisitions"].tolist(),
                "marker": {"color": OKABE_ITO["blue"]},
                "name": "Réquisitions",
            }
        ],
        "layout": {
            "title": "Réquisitions par mois",
            "height": 300,
            "separators": ", ",
            "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
            "xaxis": {"type": "category"},
        },
    }
    tables = html.Div(
        [
            html.Div(
                _count_table(
                    indicators.counts(engine(), chosen, "authority"),
                    "Par autorité requérante",
                    "video-par-autorite",
                    "Autorité",
                )
            ),
            html.Div(
                _count_table(
                    indicators.counts(engine(), chosen, "category"),
                    "Par catégorie d'infraction",
                    "video-par-categorie",
                    "Catégorie",
                )
            ),
            html.Div(
                _count_table(
                    indicators.counts(engine(), chosen, "camera"),
                    "Caméras les plus sollicitées",
                    "video-par-camera",
                    "Caméra",
                    limit=10,
                )
            ),
            html.Div(
                _count_table(
                    indicators.counts(engine(), chosen, "quartier"),
                    "Par quartier (IRIS de la caméra)",
                    "video-par-quartier",
                    "Quartier",
                )
            ),
        ],
        className="obs-route-deux-colonnes",
    )
    return [cards, dcc.Graph(figure=figure, id="video-graphique-mois", config=GRAPH_CONFIG), tables]


def _council_indicators(years: list[int]) -> list[Any]:
    limit = disclosure.threshold_for("conseil", settings().small_count_threshold) or 5
    out: list[Any] = [
        html.P(
            f"Effectifs annuels ; de 1 à {limit - 1} : « < {limit} », et d'autres cases « non diffusé » pour qu'aucun "
            "effectif masqué ne se retrouve par différence.",
            className="obs-muted",
        )
    ]
    for by, caption in (
        ("authority", "Réquisitions par autorité requérante"),
        ("category", "Réquisitions par catégorie d'infraction"),
    ):
        table = indicators.council_table(engine(), years, by, limit)
        wide = table.pivot(index="label", columns="year", values="count_label")
        order = list(dict.fromkeys(table["label"]))
        wide = wide.reindex(order)
        wide.columns = [str(c) for c in wide.columns]
        out.append(
            frame_table(
                wide, caption, f"video-conseil-{by}", "Autorité" if by == "authority" else "Catégorie"
            )
        )
    return out


# --- Map and coverage ---------------------------------------------------------------------------------------


def _map_frame(map_id: str, layers_id: str, legend: Any = None) -> html.Div:
    overview = commune_overview(engine(), settings().commune_code)
    center, zoom = view_of(overview["bounds"], width_px=900, height_px=520)
    return html.Div(
        [
            dl.Map(
                children=basemap(settings()) + [dl.LayerGroup(id=layers_id), dl.ScaleControl(imperial=False)],
                id=map_id,
                center=center,
                zoom=zoom + 1,
                scrollWheelZoom=True,
                style={"height": "520px", "width": "100%"},
                className="obs-carte",
            ),
            legend,
        ],
        className="obs-carte-bloc",
    )


def _map_legend() -> html.Div:
    items = [
        legend_item(swatch(OKABE_ITO["blue"]), "Caméra (taille : réquisitions des années choisies)"),
        legend_item(swatch("#56B4E955"), "Zone vue (portée, secteur si la direction est connue)"),
        legend_item(swatch(hotspots.CLASSES["chaud_99"][1]), "Point chaud couvert"),
        legend_item(swatch("#000000"), "Point chaud non couvert (contour noir)"),
    ]
    return legend_box(
        "Caméras et points chauds", items, source_line("Inventaire, registre ; Gi* de la carte", settings())
    )


def _map_block() -> html.Section:
    return html.Section(
        [
            html.H2("Caméras, couverture et points chauds"),
            html.P(
                "Points chauds Getis-Ord Gi* de tous les événements (hexagones de 150 m, comme la Carte), confrontés "
                "aux zones vues par les caméras en service.",
                className="obs-muted",
            ),
            _map_frame("video-carte", "video-couches", _map_legend()),
            dcc.Loading(html.Div(id="video-couverture")),
        ],
        className="obs-bloc",
    )


def _camera_markers(cams: pd.DataFrame, sized: bool) -> list[Any]:
    biggest = max(1, int(cams["requisitions"].max())) if sized and len(cams) else 1
    markers = []
    for r in cams.itertuples():
        radius = 4 + 14 * (r.requisitions / biggest) ** 0.5 if sized else 5
        tip = f"{r.code} – {r.name} ({labels.KIND_LABELS.get(r.kind, r.kind)})"
        if sized:
            tip += f" : {r.requisitions} réquisition(s)"
        markers.append(
            dl.CircleMarker(
                center=[r.lat, r.lon],
                radius=radius,
                color="#ffffff",
                weight=1,
                fillColor=OKABE_ITO["blue"],
                fillOpacity=0.85,
                children=dl.Tooltip(tip),
            )
        )
    return markers


@guarded_callback(
    READ,
    [Output("video-couches", "children"), Output("video-couverture", "children")],
    Input("video-annees", "value"),
    Input("video-version", "data"),
)
def show_coverage(years, _version):
    result = coverage.analyse(engine(), current_role())
    cams = result["cameras"]
    chosen = [int(y) for y in years] if years else None
    per_camera = indicators.counts(engine(), chosen, "camera").set_index("key")["requisitions"]
    cams = cams.assign(requisitions=cams["code"].map(per_camera).fillna(0).astype(int))
    layers: list[Any] = [
        dl.Polygon(positions=ring, color=OKABE_ITO["sky_blue"], weight=1, fillOpacity=0.25)
        for ring in coverage.areas_latlon(cams)
    ]
    cells = result["cells"]
    for ring, r in zip(coverage.cells_latlon(cells, result["cell"]), cells.itertuples(), strict=True):
        layers.append(
            dl.Polygon(
                positions=ring,
                color="#000000" if not r.covered else hotspots.CLASSES[r._5][1],
                weight=3 if not r.covered else 1,
                fillColor=hotspots.CLASSES[r._5][1],
                fillOpacity=0.45,
                children=dl.Tooltip(
                    f"{hotspots.CLASSES[r._5][0]} – {'couvert' if r.covered else 'non couvert'}"
                    f" ({fmt.percent(100 * r.share)} de la cellule vue)"
                ),
            )
        )
    layers += _camera_markers(cams, sized=True)
    return layers, _coverage_panel(result)


def _coverage_panel(result: dict[str, Any]) -> list[Any]:
    if result.get("message"):
        return [html.Div(result["message"], className="obs-alerte obs-alerte-info")]
    if result.get("restricted"):
        return [
            html.P(
                f"{len(result['cameras'])} caméra(s) en service et leurs zones vues. Les points chauds viennent de la "
                "carte des événements, que votre rôle ne consulte pas : l'analyste du CLSPDR compare la couverture "
                "aux points chauds.",
                id="video-part-couverte",
            )
        ]
    share = "—" if result["share"] is None else fmt.percent(100 * result["share"])
    out: list[Any] = [
        html.P(
            [
                html.Strong(f"{share} des points chauds significatifs couverts"),
                f" ({result['covered']} cellule(s) sur {result['hot']}, {len(result['cameras'])} caméra(s) en service).",
            ],
            id="video-part-couverte",
        )
    ]
    uncovered = result["uncovered"].head(15)
    if len(uncovered):
        table = pd.DataFrame(
            {
                "Niveau": [hotspots.CLASSES[c][0] for c in uncovered["class"]],
                "Événements": [fmt.number(v) for v in uncovered["count"]],
                "Caméra la plus proche": [
                    f"{c} à {fmt.number(d)} m" if c else "—"
                    for c, d in zip(uncovered["nearest"], uncovered["nearest_m"], strict=True)
                ],
                "Position (lat, lon)": [
                    f"{a:.5f}, {b:.5f}" for a, b in zip(uncovered["lat"], uncovered["lon"], strict=True)
                ],
            },
            index=range(1, len(uncovered) + 1),
        )
        out.append(
            frame_table(
                table,
                "Points chauds non couverts, du plus marqué au moins marqué",
                "video-non-couverts",
                "Rang",
            )
        )
    else:
        out.append(
            html.P(
                "Tous les points chauds significatifs sont vus par au moins une caméra.",
                id="video-non-couverts",
            )
        )
    every_idle = coverage.idle_cameras(engine(), settings().video_idle_days)
    idle = every_idle.head(15)
    if len(idle):
        table = pd.DataFrame(
            {
                "Nom": idle["name"].tolist(),
                "Dernier événement dans sa zone": [
                    fmt.day(v) if pd.notna(v) else "aucun" for v in idle["last_event"]
                ],
                "Dernière réquisition": [
                    fmt.day(v) if pd.notna(v) else "aucune" for v in idle["last_requisition"]
                ],
            },
            index=idle["code"].tolist(),
        )
        out.append(
            frame_table(
                table,
                f"Caméras sans événement ni réquisition depuis {settings().video_idle_days} jours",
                "video-inactives",
                "Caméra",
            )
        )
    return out


def _public_positions() -> html.Section:
    cams = inventory.cameras(engine(), on=date.today()).assign(requisitions=0)
    frame = _map_frame("video-carte-publique", "video-couches-publiques")
    frame.children[0].children = frame.children[0].children + _camera_markers(cams, sized=False)
    return html.Section([html.H2("Emplacement des caméras"), frame], className="obs-bloc")


# --- Register -------------------------------------------------------------------------------------------------

_REGISTER_COLUMNS = [
    ("id", "N°"),
    ("requested_on", "Demande"),
    ("authority", "Autorité"),
    ("procedure_ref", "Référence"),
    ("cameras", "Caméras"),
    ("period", "Images demandées"),
    ("category", "Catégorie"),
    ("images_found", "Trouvées"),
    ("handed_over_on", "Remise"),
    ("usable", "Exploitable"),
    ("hors_delai", "Conservation"),
]


def _register_block() -> html.Section:
    filters = html.Div(
        [
            _field("Du (jj/mm/aaaa)", _text("video-filtre-debut", "01/01/2024")),
            _field("Au (jj/mm/aaaa)", _text("video-filtre-fin", "31/12/2024")),
            _field(
                "Autorité",
                dropdown(
                    id="video-filtre-autorite",
                    options=_options(labels.AUTHORITY_LABELS),
                    placeholder="toutes",
                ),
            ),
            _field(
                "Catégorie",
                dropdown(
                    id="video-filtre-categorie",
                    options=_options(labels.CATEGORY_LABELS),
                    placeholder="toutes",
                ),
            ),
            _field("Caméra", _text("video-filtre-camera", "CAM-001")),
            dcc.Checklist(
                id="video-filtre-hors-delai",
                options=[{"label": " au-delà de la conservation seulement", "value": "oui"}],
                value=[],
            ),
        ],
        className="obs-filtres",
    )
    return html.Section(
        [
            html.H2("Registre des réquisitions"),
            filters,
            html.Div(id="video-registre-compte", className="obs-muted", role="status"),
            dash_table.DataTable(
                id="video-registre",
                columns=[{"name": n, "id": i} for i, n in _REGISTER_COLUMNS],
                page_size=20,
                **DATATABLE_STYLE,
                style_data_conditional=[
                    {"if": {"filter_query": '{hors_delai} = "hors délai"'}, "backgroundColor": "#ffe9e9"}
                ],
            ),
        ],
        className="obs-bloc",
    )


def _day_of(value: str | None, label: str) -> date | None:
    if not value or not value.strip():
        return None
    from ingest.reading import parse_date

    try:
        return parse_date(value)
    except ValueError:
        raise ObservatoireError(f"Champ « {label} » : date non reconnue « {value} » (jj/mm/aaaa).") from None


def _moment_of(value: str | None, label: str) -> datetime | None:
    if not value or not value.strip():
        return None
    from ingest.reading import parse_datetime

    try:
        return parse_datetime(value)
    except (ValueError, AssertionError):
        raise ObservatoireError(
            f"Champ « {label} » : date non reconnue « {value} » (jj/mm/aaaa hh:mm)."
        ) from None


def register_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in frame.itertuples():
        period = fmt.moment(r.images_from) + (
            f" → {fmt.moment(r.images_to)}" if pd.notna(r.images_to) else ""
        )
        rows.append(
            {
                "id": int(r.id),
                "requested_on": fmt.day(r.requested_on),
                "authority": labels.AUTHORITY_LABELS.get(r.authority, r.authority),
                "procedure_ref": r.procedure_ref or "",
                "cameras": r.cameras or "",
                "period": period,
                "category": labels.CATEGORY_LABELS.get(r.category, r.category),
                "images_found": "—" if pd.isna(r.images_found) else ("oui" if r.images_found else "non"),
                "handed_over_on": fmt.day(r.handed_over_on) if pd.notna(r.handed_over_on) else "",
                "usable": labels.USABLE_LABELS.get(r.usable, r.usable),
                "hors_delai": "hors délai" if r.hors_delai else "",
            }
        )
    return rows


@guarded_callback(
    READ,
    [Output("video-registre", "data"), Output("video-registre-compte", "children")],
    Input("video-filtre-debut", "value"),
    Input("video-filtre-fin", "value"),
    Input("video-filtre-autorite", "value"),
    Input("video-filtre-categorie", "value"),
    Input("video-filtre-camera", "value"),
    Input("video-filtre-hors-delai", "value"),
    Input("video-version", "data"),
    Input("video-saisies", "data"),
)
def filter_register(start, end, authority, category, camera, flagged, _version, _saved):
    try:
        f = register.RegisterFilter(
            start=_day_of(start, "Du"),
            end=_day_of(end, "Au"),
            authority=authority or None,
            category=category or None,
            camera=(camera or "").strip() or None,
            flagged_only=bool(flagged),
        )
    except ObservatoireError as exc:
        return [], exc.message
    frame, total = register.listing(engine(), f, settings().video_image_retention_days)
    more = f" (les {fmt.number(len(frame))} plus récentes affichées)" if total > len(frame) else ""
    return register_rows(frame), f"{fmt.number(total)} réquisition(s){more}."


# --- Forms -----------------------------------------------------------------------------------------------------


def _status(id_: str) -> html.Div:
    return html.Div(id=id_, role="status")


def _forms_block() -> html.Section:
    cams = inventory.cameras(engine())
    camera_options = [
        {"label": f"{c} – {n}", "value": c} for c, n in zip(cams["code"], cams["name"], strict=True)
    ]
    requisition = html.Details(
        [
            html.Summary("Enregistrer une réquisition"),
            html.Div(
                [
                    _field("Date de la demande (jj/mm/aaaa)", _text("video-req-date", "12/03/2024")),
                    _field(
                        "Autorité requérante",
                        dropdown(id="video-req-autorite", options=_options(labels.AUTHORITY_LABELS)),
                    ),
                    _field(
                        "Référence de procédure (sans nom)", _text("video-req-reference", "PV 2024/001234")
                    ),
                    _field(
                        "Caméras concernées",
                        dropdown(id="video-req-cameras", multi=True, options=camera_options),
                        wide=True,
                    ),
                    _field("Images du (jj/mm/aaaa hh:mm)", _text("video-req-debut", "10/03/2024 21:00")),
                    _field("au (jj/mm/aaaa hh:mm)", _text("video-req-fin", "10/03/2024 23:00")),
                    _field(
                        "Catégorie d'infraction",
                        dropdown(id="video-req-categorie", options=_options(labels.CATEGORY_LABELS)),
                    ),
                    _field(
                        "Images trouvées",
                        dcc.RadioItems(id="video-req-trouvees", options=YES_NO, value="", inline=True),
                    ),
                    _field("Remises le (jj/mm/aaaa)", _text("video-req-remise")),
                    _field(
                        "Exploitables",
                        dcc.RadioItems(id="video-req-exploitable", options=YES_NO, value="", inline=True),
                    ),
                    html.Button("Enregistrer la réquisition", id="video-req-valider", className="obs-bouton"),
                ],
                className="obs-filtres",
            ),
            _status("video-req-statut"),
        ],
        open=True,
    )
    correction = html.Details(
        [
            html.Summary("Corriger une réquisition (la valeur précédente est conservée)"),
            html.Div(
                [
                    _field("N° de la réquisition", dcc.Input(id="video-cor-id", type="number", min=1)),
                    _field(
                        "Champ",
                        dropdown(
                            id="video-cor-champ",
                            options=[
                                {"label": register.FIELD_LABELS[k], "value": k} for k in register.CORRECTABLE
                            ],
                        ),
                    ),
                    _field("Nouvelle valeur", _text("video-cor-valeur")),
                    _field("Motif de la correction", _text("video-cor-motif"), wide=True),
                    html.Button("Corriger", id="video-cor-valider", className="obs-bouton"),
                ],
                className="obs-filtres",
            ),
            _status("video-cor-statut"),
        ],
        id="video-cor-formulaire",
    )
    camera = html.Details(
        [
            html.Summary("Ajouter une caméra à l'inventaire"),
            html.Div(
                [
                    _field("Identifiant", _text("video-cam-code", "CAM-061")),
                    _field("Emplacement", _text("video-cam-nom"), wide=True),
                    _field("Type", dropdown(id="video-cam-type", options=_options(labels.KIND_LABELS))),
                    _field("Longitude", _text("video-cam-lon", "5,7870")),
                    _field("Latitude", _text("video-cam-lat", "43,8340")),
                    _field("Direction (degrés, facultatif)", _text("video-cam-direction")),
                    _field("Portée (m, facultatif)", _text("video-cam-portee")),
                    _field("Mise en service (jj/mm/aaaa)", _text("video-cam-service")),
                    html.Button("Ajouter la caméra", id="video-cam-valider", className="obs-bouton"),
                ],
                className="obs-filtres",
            ),
            _status("video-cam-statut"),
        ]
    )
    log = html.Details(
        [
            html.Summary("Consigner une consultation, une extraction ou une remise d'images"),
            html.Div(
                [
                    _field("Action", dropdown(id="video-log-action", options=_options(labels.ACTION_LABELS))),
                    _field("Caméra", dropdown(id="video-log-camera", options=camera_options)),
                    _field("Motif", _text("video-log-motif"), wide=True),
                    _field("Destinataire (remise)", _text("video-log-destinataire")),
                    _field(
                        "N° de réquisition (facultatif)",
                        dcc.Input(id="video-log-requisition", type="number", min=1),
                    ),
                    html.Button("Consigner", id="video-log-valider", className="obs-bouton"),
                ],
                className="obs-filtres",
            ),
            _status("video-log-statut"),
        ],
        id="video-log-formulaire",
    )
    upload = html.P(
        [
            "Un inventaire ou un registre entier (CSV ou Excel) se dépose d'un coup : ",
            dcc.Link("Déposer un fichier", href="/videoprotection/depot", id="video-lien-depot"),
            " (vérification ligne par ligne avant l'enregistrement).",
        ],
        className="obs-muted",
    )
    return html.Section(
        [html.H2("Saisie"), upload, requisition, correction, camera, log],
        className="obs-bloc",
    )


def _ok(text: str) -> html.Div:
    return html.Div(text, className="obs-alerte obs-alerte-info")


def _refused(text: str) -> html.Div:
    return html.Div(text, className="obs-alerte obs-alerte-erreur", role="alert")


def _yes_no(value: str | None) -> bool | None:
    return {"oui": True, "non": False}.get(value or "")


@guarded_callback(
    MANAGE,
    [Output("video-req-statut", "children"), Output("video-version", "data")],
    Input("video-req-valider", "n_clicks"),
    State("video-req-date", "value"),
    State("video-req-autorite", "value"),
    State("video-req-reference", "value"),
    State("video-req-cameras", "value"),
    State("video-req-debut", "value"),
    State("video-req-fin", "value"),
    State("video-req-categorie", "value"),
    State("video-req-trouvees", "value"),
    State("video-req-remise", "value"),
    State("video-req-exploitable", "value"),
    State("video-version", "data"),
    prevent_initial_call=True,
)
def add_requisition(
    _n, day, authority, reference, cams, start, end, category, found, handed, usable, version
):
    from ingest.requisitions import reference_problem

    try:
        entry = register.RequisitionEntry(
            requested_on=_day_of(day, register.FIELD_LABELS["requested_on"]),
            authority=authority,
            images_from=_moment_of(start, register.FIELD_LABELS["images_from"]),
            images_to=_moment_of(end, register.FIELD_LABELS["images_to"]),
            cameras=list(cams or []),
            procedure_ref=reference,
            category=category,
            images_found=_yes_no(found),
            handed_over_on=_day_of(handed, register.FIELD_LABELS["handed_over_on"]),
            usable=usable or None,
        )
        new_id = register.record(engine(), entry, user=current_user.login, reference_check=reference_problem)
    except ObservatoireError as exc:
        return _refused(exc.message), version
    flagged = (
        entry.requested_on
        and entry.images_from
        and register.legal.beyond_retention(
            entry.requested_on, entry.images_from, settings().video_image_retention_days
        )
    )
    note = " Attention : images demandées au-delà de la durée de conservation." if flagged else ""
    return _ok(f"Réquisition n° {new_id} enregistrée.{note}"), (version or 0) + 1


def _correction_value(field: str, raw: str | None) -> Any:
    label = register.FIELD_LABELS[field]
    if field in ("requested_on", "handed_over_on"):
        return _day_of(raw, label)
    if field in ("images_from", "images_to"):
        return _moment_of(raw, label)
    if field == "images_found":
        return _yes_no((raw or "").strip().lower())
    return (raw or "").strip() or None


@guarded_callback(
    MANAGE,
    [Output("video-cor-statut", "children"), Output("video-saisies", "data")],
    Input("video-cor-valider", "n_clicks"),
    State("video-cor-id", "value"),
    State("video-cor-champ", "value"),
    State("video-cor-valeur", "value"),
    State("video-cor-motif", "value"),
    State("video-saisies", "data"),
    prevent_initial_call=True,
)
def correct_requisition(_n, rid, field, value, reason, saved):
    from ingest.requisitions import reference_problem

    try:
        if not rid or not field:
            raise ObservatoireError("Correction refusée : indiquez le n° de la réquisition et le champ.")
        new = _correction_value(field, value)
        if field == "procedure_ref" and reference_problem(new):
            raise ObservatoireError(
                f"Correction refusée, champ « référence de procédure » : {reference_problem(new)}."
            )
        changed = register.correct(
            engine(), int(rid), {field: new}, reason=reason or "", user=current_user.login
        )
    except ObservatoireError as exc:
        return _refused(exc.message), saved
    return _ok(f"{changed} champ(s) corrigé(s) ; la valeur précédente est gardée dans l'historique."), (
        saved or 0
    ) + 1


def _number(raw: str | None, label: str) -> float | None:
    if not raw or not str(raw).strip():
        return None
    from ingest.reading import parse_decimal

    try:
        return parse_decimal(str(raw))
    except ValueError:
        raise ObservatoireError(f"Champ « {label} » : nombre non reconnu « {raw} ».") from None


@guarded_callback(
    MANAGE,
    Output("video-cam-statut", "children"),
    Input("video-cam-valider", "n_clicks"),
    State("video-cam-code", "value"),
    State("video-cam-nom", "value"),
    State("video-cam-type", "value"),
    State("video-cam-lon", "value"),
    State("video-cam-lat", "value"),
    State("video-cam-direction", "value"),
    State("video-cam-portee", "value"),
    State("video-cam-service", "value"),
    prevent_initial_call=True,
)
def add_camera(_n, code, name, kind, lon, lat, direction, reach, since):
    try:
        entry = inventory.CameraEntry(
            code=code,
            name=name,
            kind=kind,
            lon=_number(lon, "longitude"),
            lat=_number(lat, "latitude"),
            direction_deg=_number(direction, "direction"),
            range_m=_number(reach, "portée"),
            commissioned_on=_day_of(since, "mise en service"),
        )
        inventory.record(engine(), entry, user=current_user.login)
    except ObservatoireError as exc:
        return _refused(exc.message)
    return _ok(f"Caméra {code} ajoutée ; rechargez la page pour la choisir dans les formulaires.")


@guarded_callback(
    MANAGE,
    [Output("video-log-statut", "children"), Output("video-journal-maj", "data")],
    Input("video-log-valider", "n_clicks"),
    State("video-log-action", "value"),
    State("video-log-camera", "value"),
    State("video-log-motif", "value"),
    State("video-log-destinataire", "value"),
    State("video-log-requisition", "value"),
    State("video-journal-maj", "data"),
    prevent_initial_call=True,
)
def add_log_entry(_n, action, camera, reason, recipient, requisition, logged):
    try:
        if not action:
            raise ObservatoireError("Entrée du journal refusée, champ « action » : choisissez une action.")
        register.record_access(
            engine(),
            user=current_user.login,
            action=action,
            reason=reason or "",
            recipient=recipient,
            camera_code=camera,
            requisition_id=requisition or None,
        )
    except ObservatoireError as exc:
        return _refused(exc.message), logged
    return _ok("Entrée consignée au journal."), (logged or 0) + 1


@guarded_callback(
    READ,
    Output("video-journal", "children"),
    Input("video-version", "data"),
    Input("video-journal-maj", "data"),
)
def show_log(_version, _logged):
    log = register.access_log(engine(), limit=200)
    if log.empty:
        return html.P("Aucune entrée.", className="obs-muted", id="video-journal-vide")
    table = pd.DataFrame(
        {
            "Compte": log["user_login"].tolist(),
            "Action": [labels.ACTION_LABELS.get(a, a) for a in log["action"]],
            "Motif": log["reason"].tolist(),
            "Destinataire": log["recipient"].fillna("").tolist(),
            "Caméra": log["camera_code"].fillna("").tolist(),
            "Réquisition": [str(int(v)) if pd.notna(v) else "" for v in log["requisition_id"]],
        },
        index=[fmt.moment(v) for v in log["at"]],
    )
    return frame_table(table, "Les 200 dernières entrées", "video-journal-table", "Date")


register_page(
    __name__, path="/videoprotection", name="Vidéoprotection", permission=PERMISSION, render=render, order=60
)
