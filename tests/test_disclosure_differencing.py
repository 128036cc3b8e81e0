"""The masking of small counts holds against differencing (BRIEF §6 and §7), replayed as an attacker would:

- on the map, the conseil moves the period's end one day at a time and watches the counts: it must learn
  nothing finer than a calendar month, and no masked count may come out of the answers;
- on the Activité police municipale page, the conseil reads every table of a year, its quarters and its
  months, and writes down every sum a reader can see (a total beside its parts, a year and its months):
  no masked cell may be recovered, neither by one subtraction nor by all the sums together.

Analysts keep exact counts and days.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from dashboard import security
from observatoire.auth import add_user
from observatoire.events import hexgrid
from observatoire.events import queries as event_queries
from observatoire.events.filter import EventFilter
from tests.disclosure_audit import Knowledge
from tests.events_helpers import CENTRE_L93, insert_pn_facts
from tests.helpers_web import PASSWORD, dash_csrf, login

MONTHS = [(date(2023, m, 1), date(2023 + m // 12, m % 12 + 1, 1) - timedelta(days=1)) for m in range(1, 13)]
QUARTERS = [(MONTHS[3 * q][0], MONTHS[3 * q + 2][1]) for q in range(4)]
YEAR = (date(2023, 1, 1), date(2023, 12, 31))


def _node(start: date, end: date) -> str:
    if (start, end) == YEAR:
        return "2023"
    if (start, end) in QUARTERS:
        return f"2023-T{QUARTERS.index((start, end)) + 1}"
    return f"{start:%Y-%m}"


TREE = {"2023": [f"2023-T{q}" for q in range(1, 5)]} | {
    f"2023-T{q + 1}": [f"2023-{m:02d}" for m in range(3 * q + 1, 3 * q + 4)] for q in range(4)
}


# --- reading the answers as a browser shows them -------------------------------------------------------------


def _components(node):
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for value in node:
            yield from _components(value)


def _text(node) -> str:
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list):
        return "".join(_text(n) for n in node)
    if isinstance(node, dict) and "props" in node:
        return _text(node["props"].get("children"))
    return ""


def _by_id(answer, ident: str):
    return next((c for c in _components(answer) if c["props"].get("id") == ident), None)


def _rows(table) -> list[list[str]]:
    """The body rows of an HTML table, each as the texts of its cells."""
    rows = []
    for body in (c for c in _components(table) if c["type"] == "Tbody"):
        for tr in (c for c in _components(body) if c["type"] == "Tr"):
            cells = tr["props"]["children"]
            rows.append([_text(cell).strip() for cell in (cells if isinstance(cells, list) else [cells])])
    return rows


def _header(table) -> list[str]:
    head = next(c for c in _components(table) if c["type"] == "Thead")
    tr = next(c for c in _components(head) if c["type"] == "Tr")
    return [_text(cell).strip() for cell in tr["props"]["children"]]


# --- the activity page ----------------------------------------------------------------------------------------


@pytest.fixture
def activity_app(settings, engine):
    from sample_data import police_municipale, reference
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    police_municipale.load(engine, FILES, "demo")
    add_user(engine, "secret-conseil", "conseil", PASSWORD)
    add_user(engine, "secret-analyste", "analyste", PASSWORD)
    from dashboard.app import create_app

    return create_app(settings)


def _call(client, app, output: str, values: dict) -> dict:
    key = next(k for k in app.callback_map if output in k.strip(".").split("..."))
    callback = app.callback_map[key]
    parts = key.strip(".").split("...")
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    body = {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in callback["inputs"]],
        "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in callback["state"]],
        "changedPropIds": [],
    }
    answer = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:800]
    return answer.get_json()["response"]


def _client(app, user: str):
    client = app.server.test_client()
    assert login(client, user).status_code == 302
    return client


MONTH_NAMES = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)


def _read_activity(knowledge: Knowledge, client, app, start: date, end: date, families=None) -> int:
    """Every figure of the page for one period, with the sums a reader sees; returns the masked cells read."""
    filters = {
        "activite-periode.start_date": start.isoformat(),
        "activite-periode.end_date": end.isoformat(),
        "activite-familles.value": families,
    }
    p = _node(start, end)
    shown = _call(client, app, "activite-resultats.children", filters)
    before = len(knowledge.masked)

    facts = _by_id(shown, "activite-chiffres")["props"]["children"]
    figures = {_text(facts[k]): _text(facts[k + 1]) for k in range(0, len(facts), 2)}
    for name, key in (
        ("Interventions", "G"),
        ("Placées sur la carte", "placees"),
        ("Non géolocalisées", "non_geo"),
        ("Heure inconnue", "heure_inconnue"),
        ("Nature non classée", "non_classees"),
    ):
        knowledge.add((key, p), figures[name])
    knowledge.relate(("G", p), [("placees", p), ("non_geo", p)])

    families_seen = []
    for row in _rows(_by_id(shown, "activite-table-familles")):
        families_seen.append(row[0])
        knowledge.add(("famille", p, row[0]), row[1])
    knowledge.relate(("G", p), [("famille", p, f) for f in families_seen])
    by_family: dict[str, list] = {}
    unclassified = []
    for row in _rows(_by_id(shown, "activite-table-types")):
        kind = row[0].replace(" (catégorie sensible)", "")
        key = ("type", p, row[1], kind)
        knowledge.add(key, row[2])
        by_family.setdefault(row[1], []).append(key)
        if kind == "Non classé":
            unclassified.append(key)
    for family in families_seen:
        knowledge.relate(("famille", p, family), by_family.get(family, []))
    knowledge.relate(("non_classees", p), unclassified)

    months = _by_id(shown, "activite-table-mois")
    if months is not None:
        header = _header(months)[1:-1]
        for row in _rows(months):
            name, year = row[0].rsplit(" ", 1)
            m = f"{year}-{MONTH_NAMES.index(name) + 1:02d}"
            for family, cell in zip(header, row[1:-1], strict=True):
                knowledge.add(("famille", m, family), cell)
            knowledge.add(("G", m), row[-1])
            knowledge.relate(("G", m), [("famille", m, f) for f in header])

    heat = _rows(_by_id(shown, "activite-table-jour-heure"))
    cells = []
    for row in heat:
        for hour, cell in enumerate(row[1:]):
            knowledge.add(("heure", p, row[0], hour), cell)
            cells.append(("heure", p, row[0], hour))
    knowledge.relate(("G", p), [*cells, ("heure_inconnue", p)])

    origins = [("origine", p, row[0]) for row in _rows(_by_id(shown, "activite-table-origines"))]
    for key, row in zip(origins, _rows(_by_id(shown, "activite-table-origines")), strict=True):
        knowledge.add(key, row[1])
    knowledge.relate(("G", p), origins)

    for level in ("iris", "qpv", "secteur"):
        zones = _call(client, app, "activite-zones.children", {**filters, "activite-niveau.value": level})
        rows = _rows(_by_id(zones, "activite-table-zones"))
        keys = [("zone", p, level, row[0]) for row in rows]
        for key, row in zip(keys, rows, strict=True):
            knowledge.add(key, row[2])
        knowledge.relate(("G", p), keys)
    return len(knowledge.masked) - before


def _tree_relations(knowledge: Knowledge) -> None:
    """A year is the sum of its quarters, a quarter of its months: for every figure read in them."""
    names = {}
    for key in [*knowledge.known, *knowledge.masked]:
        names.setdefault((key[0], *key[2:]), set()).add(key[1])
    for (kind, *rest), _ in names.items():
        for parent, children in TREE.items():
            knowledge.relate((kind, parent, *rest), [(kind, c, *rest) for c in children])


def test_no_masked_activity_cell_is_recovered_by_subtraction(activity_app):
    """A year, its quarters and its months, every table of the page: before this masking, 46 of 2,811 masked
    cells came back by one subtraction, 69 with the sums between periods, 138 with all the sums."""
    client = _client(activity_app, "secret-conseil")
    knowledge = Knowledge(threshold=5)
    for start, end in [*MONTHS, *QUARTERS, YEAR]:
        _read_activity(knowledge, client, activity_app, start, end)
    single = knowledge.by_subtraction()
    _tree_relations(knowledge)
    by_tree = knowledge.by_subtraction()
    combined = knowledge.by_linear_programming()
    print(
        f"\ncellules masquées : {len(knowledge.masked)} ; retrouvées par une soustraction dans une réponse : "
        f"{len(single)} ; en ajoutant les sommes entre périodes : {len(by_tree)} ; "
        f"par toutes les sommes ensemble : {len(combined)}"
    )
    assert knowledge.masked, "the conseil must see masked cells in these tables"
    assert single == {}, sorted(single.items(), key=repr)[:10]
    assert by_tree == {}, sorted(by_tree.items(), key=repr)[:10]
    assert combined == {}, sorted(combined.items(), key=repr)[:10]


# --- the map ----------------------------------------------------------------------------------------------------

SENSITIVE = EventFilter(categories=("violences_sexuelles",))


@pytest.fixture
def assaults(engine):
    """17 sexual-violence facts of 2023 on 17 different days, within one kilometre; a few in 2022 and 2024; and
    burglaries elsewhere, so that the map is not only them."""
    rng = np.random.default_rng(17)
    x0, y0 = CENTRE_L93
    days = sorted(rng.choice(365, size=17, replace=False))
    when = [datetime(2023, 1, 1, 21) + timedelta(days=int(d)) for d in days]
    when += [datetime(2022, 6, 3, 23), datetime(2022, 11, 20, 2), datetime(2024, 2, 14, 22)]
    insert_pn_facts(
        engine,
        rng.normal(x0, 250, len(when)),
        rng.normal(y0, 250, len(when)),
        category="violences_sexuelles",
        when=when,
    )
    insert_pn_facts(engine, rng.normal(x0 - 3000, 400, 300), rng.normal(y0 + 2000, 400, 300))
    return [w.date() for w in when]


def _hexagons(answer: dict) -> dict:
    return {
        (x["properties"]["i"], x["properties"]["j"]): x["properties"]["count"] for x in answer["features"]
    }


def _map_answer(engine, f: EventFilter, size: float) -> dict:
    """What the conseil reads of the map for ``f``: each hexagon's count and the totals above the map."""
    totals = event_queries.summary(engine, f, "conseil", threshold=5, cell=size)
    return {
        "hexagons": _hexagons(hexgrid.hex_counts(engine, f, size, "conseil", threshold=5)),
        "total": totals["total"],
        "geolocated": totals["geolocated"],
    }


def _dated(answers: list[tuple[date, dict]]) -> int:
    """Events an attacker dates to the day: a hexagon's exact count that grows between two consecutive days."""
    found = 0
    for (_, before), (_, after) in zip(answers, answers[1:], strict=False):
        for cell, count in after["hexagons"].items():
            previous = before["hexagons"].get(cell, 0)
            if isinstance(count, int) and isinstance(previous, int) and count > previous:
                found += count - previous
    return found


@pytest.mark.parametrize("memory", [True, False], ids=["copie-en-memoire", "sql"])
def test_moving_the_end_date_day_by_day_dates_nothing(engine, assaults, memory):
    """365 answers, the end moving a day at a time over 2023: before the fixed periods, the conseil dated 12
    of the 17 facts to the day (the analyst, who may, dates all 17)."""
    from observatoire.events import store as event_store

    if memory:
        event_store.enable(engine)
    try:
        answers = []
        day = date(2023, 1, 1)
        while day <= date(2023, 12, 31):
            answers.append(
                (day, _map_answer(engine, replace(SENSITIVE, start=date(2023, 1, 1), end=day), 1000))
            )
            day += timedelta(days=1)
        analyst = [
            (
                d,
                {
                    "hexagons": _hexagons(
                        hexgrid.hex_counts(
                            engine, replace(SENSITIVE, start=date(2023, 1, 1), end=d), 1000, "analyste"
                        )
                    )
                },
            )
            for d, _ in answers
        ]
    finally:
        event_store.disable(engine)
    print(
        f"\nfaits datés au jour près : conseil {_dated(answers)}, analyste {_dated(analyst)} sur {len(assaults) - 3}"
    )
    assert _dated(analyst) == 17  # the analyst keeps exact days
    assert _dated(answers) == 0
    for (d1, a1), (d2, a2) in zip(answers, answers[1:], strict=False):
        if (d1.year, d1.month) == (d2.year, d2.month):
            assert a1 == a2, (d1, d2)  # nothing moves inside a month
    distinct = {repr(sorted(a["hexagons"].items())) + repr((a["total"], a["geolocated"])) for _, a in answers}
    assert len(distinct) <= 3  # January, the first quarter, the year


def test_no_masked_hexagon_comes_back_from_the_calendar(engine, assaults):
    """Every period the conseil may ask (each month, quarter and year, the whole period), at two sizes of
    hexagon, with the totals above the map: no masked count is pinned down by all the sums together. Before
    the calendar was protected, 31 of 85 masked figures came back (a hexagon's 2 facts of the last quarter of
    2023 at both sizes and the quarter's total, and 28 totals written « < 5 » for 0)."""
    knowledge = Knowledge(threshold=5)
    periods = [("tout", None, None)]
    for year in (2022, 2023, 2024):
        periods.append((str(year), date(year, 1, 1), date(year, 12, 31)))
        for q in range(4):
            end = date(year + (q == 3), (3 * q + 3) % 12 + 1, 1) - timedelta(days=1)
            periods.append((f"{year}-T{q + 1}", date(year, 3 * q + 1, 1), end))
        for m in range(1, 13):
            end = date(year + m // 12, m % 12 + 1, 1) - timedelta(days=1)
            periods.append((f"{year}-{m:02d}", date(year, m, 1), end))
    for name, start, end in periods:
        f = replace(SENSITIVE, start=start, end=end)
        for size in (1000, 5000):
            answer = _map_answer(engine, f, size)
            cells = [(name, size, cell) for cell in answer["hexagons"]]
            for key, count in zip(cells, answer["hexagons"].values(), strict=True):
                knowledge.add(key, count)
            knowledge.add(("geolocalises", name), answer["geolocated"])
            knowledge.relate(("geolocalises", name), cells)
    names = {}
    for key in [*knowledge.known, *knowledge.masked]:
        if key[0] != "geolocalises":
            names.setdefault(key[1:], None)
    for size, cell in names:
        for year in ("2022", "2023", "2024"):
            quarters = [f"{year}-T{q}" for q in range(1, 5)]
            knowledge.relate((year, size, cell), [(q, size, cell) for q in quarters])
            for q in range(4):
                knowledge.relate(
                    (quarters[q], size, cell),
                    [(f"{year}-{m:02d}", size, cell) for m in range(3 * q + 1, 3 * q + 4)],
                )
        knowledge.relate(("tout", size, cell), [(y, size, cell) for y in ("2022", "2023", "2024")])
    for year in ("2022", "2023", "2024"):
        knowledge.relate(("geolocalises", year), [("geolocalises", f"{year}-T{q}") for q in range(1, 5)])
    found = knowledge.by_linear_programming()
    print(f"\nhexagones masqués : {len(knowledge.masked)} ; retrouvés : {len(found)}")
    assert knowledge.masked
    assert found == {}, sorted(found.items(), key=repr)[:10]


CARTE = "..carte-couches.children...carte-legende.children...carte-tableau.children...carte-resume.children.."


def test_a_forged_callback_gets_no_finer_period_hours_or_days(settings, engine, assaults):
    """The browser sends what it likes: arbitrary days, an hour, a weekday. The conseil's answer is that of
    the whole quarter, the evening band and every day; an analyst's is the one asked."""
    from dashboard.app import create_app

    add_user(engine, "secret-conseil", "conseil", PASSWORD)
    add_user(engine, "secret-analyste", "analyste", PASSWORD)
    app = create_app(settings)
    callback = app.callback_map[CARTE]

    def ask(client, start: date, end: date, hours=(0, 0), days=()):
        values = {
            "carte-sources": ["pn"],
            "carte-categories": ["pn:violences_sexuelles"],
            "carte-familles": [],
            "carte-heure-debut": hours[0],
            "carte-heure-fin": hours[1],
            "carte-jours": list(days),
            "carte-mode": "hexagones",
            "carte-cellule": 1000,
            "carte-classes": "quantiles",
        }

        def value(i: dict):
            if i["id"] == "carte-periode":
                return (start if i["property"] == "start_date" else end).isoformat()
            return values[i["id"]]

        body = {
            "output": CARTE,
            "outputs": [
                {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]}
                for p in CARTE.strip(".").split("...")
            ],
            "inputs": [{**i, "value": value(i)} for i in callback["inputs"]],
            "state": [],
            "changedPropIds": ["carte-periode.end_date"],
        }
        answer = client.post(
            "/_dash-update-component",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", security.CSRF_HEADER: dash_csrf(client)},
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        return answer.get_json()["response"]

    conseil = _client(app, "secret-conseil")
    seen = {
        json.dumps(
            ask(conseil, date(2023, 1, 1) + timedelta(days=k), date(2023, 3, 31) - timedelta(days=k)),
            ensure_ascii=False,
        )
        for k in range(0, 28, 3)
    }
    assert len(seen) == 1  # every range inside the first quarter: the quarter
    text = seen.pop()
    assert "du 01/01/2023 au 31/03/2023" in text
    evening = json.dumps(
        ask(conseil, date(2023, 1, 1), date(2023, 3, 31), hours=(22, 23), days=(6,)), ensure_ascii=False
    )
    assert "de 19 h à 2 h" in evening and "tous les jours" in evening and "de 22 h à 23 h" not in evening
    analyst = _client(app, "secret-analyste")
    exact = json.dumps(
        ask(analyst, date(2023, 2, 3), date(2023, 2, 17), hours=(22, 23), days=(6,)), ensure_ascii=False
    )
    assert "du 03/02/2023 au 17/02/2023" in exact and "de 22 h à 23 h" in exact and "samedi" in exact


def test_the_copy_in_memory_and_sql_mask_the_same_cells(engine, assaults):
    """The dashboard answers from its copy of the events, the command line in SQL: the same protected figures."""
    from observatoire.events import spatial
    from observatoire.events import store as event_store

    def answers() -> list:
        out = []
        for f in (SENSITIVE, EventFilter(), EventFilter(sources=("pn",), families=("atteintes_biens",))):
            for start, end in (
                (date(2023, 1, 1), date(2023, 3, 31)),
                (None, None),
                (date(2022, 6, 1), date(2022, 6, 30)),
            ):
                g = replace(f, start=start, end=end)
                out.append(_map_answer(engine, g, 1000))
                out.append(
                    event_queries.counts_by(engine, g, "category", "conseil", threshold=5).to_dict("list")
                )
                out.append(event_queries.counts_by(engine, g, "hour", "conseil", threshold=5).to_dict("list"))
                out.append(
                    spatial.map_layers(engine, g, "conseil", threshold=5)["layers"][0]["geojson"]["total"]
                )
        return out

    from observatoire.events import secrecy

    by_sql = answers()
    secrecy._memory.clear()  # worked out again, from the copy this time
    event_store.enable(engine)
    try:
        assert answers() == by_sql
    finally:
        event_store.disable(engine)


@pytest.mark.browser
def test_the_conseil_chooses_a_quarter_on_the_activity_page(dash_duo, activity_app):
    from tests.helpers_web import browser_login

    dash_duo.start_server(activity_app, navigate=False)
    browser_login(dash_duo, "secret-conseil", then="/police-municipale")
    dash_duo.wait_for_element("#activite-chiffres", timeout=30)
    assert "Secret statistique" in dash_duo.find_element("#activite-masquage").text
    dash_duo.wait_for_contains_text("#activite-chiffres", "Toute la période", timeout=20)
    dash_duo.select_dcc_dropdown("#activite-annee", "2023")
    dash_duo.select_dcc_dropdown("#activite-partie", "1er trimestre")
    dash_duo.wait_for_contains_text("#activite-chiffres", "1er trimestre 2023", timeout=30)
    months = dash_duo.wait_for_element("#activite-table-mois tbody", timeout=20).get_attribute("textContent")
    assert "janv. 2023" in months and "mars 2023" in months and "avr. 2023" not in months
    assert dash_duo.get_logs() == []
