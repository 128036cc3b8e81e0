"""Evaluation of a placed action: a drop planted in a target area after the action's start is recovered by the
difference in differences (and the WDD), and a placebo area where nothing changed shows none."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
import sqlalchemy as sa

from observatoire.strategy import evaluation
from tests.events_helpers import insert_pn_facts, square_outline

X0, Y0 = 940_000.0, 6_300_000.0  # a Lambert-93 square of 10 km for the commune


def _scatter(rng, n, box, start: datetime, months: int):
    x0, y0, x1, y1 = box
    xs = rng.uniform(x0, x1, n)
    ys = rng.uniform(y0, y1, n)
    days = rng.integers(0, months * 30, n)
    when = [datetime.fromordinal(start.toordinal() + int(d)).replace(hour=12) for d in days]
    return xs, ys, when


@pytest.fixture
def planted(engine):
    square_outline(engine, "COM:04112", X0, Y0, X0 + 10_000, Y0 + 10_000)
    rng = np.random.default_rng(7)
    target = (X0 + 1_000, Y0 + 1_000, X0 + 2_000, Y0 + 2_000)
    placebo = (X0 + 7_000, Y0 + 7_000, X0 + 8_000, Y0 + 8_000)
    everywhere = (X0, Y0, X0 + 10_000, Y0 + 10_000)
    before, after = datetime(2022, 1, 1), datetime(2023, 1, 1)
    batches = []
    # the whole commune: a steady background (and the placebo square gets its share of it)
    for start in (before, after):
        xs, ys, when = _scatter(rng, 3000, everywhere, start, 12)
        batches.append((xs, ys, when))
    # the target: 200 facts a year before, 110 after (a planted drop of 45 %)
    for n, start in ((200, before), (110, after)):
        batches.append(_scatter(rng, n, target, start, 12))
    # the placebo: 200 a year before and after
    for start in (before, after):
        batches.append(_scatter(rng, 200, placebo, start, 12))
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    when = [w for b in batches for w in b[2]]
    insert_pn_facts(engine, xs, ys, when=when)
    return {"target": target, "placebo": placebo}


def _wkt(box) -> str:
    x0, y0, x1, y1 = box
    return f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def test_a_planted_drop_is_recovered_and_a_placebo_shows_none(engine, planted):
    found = evaluation.evaluate(
        engine, _wkt(planted["target"]), date(2023, 1, 1), source="pn", commune="04112", months=12
    )
    assert found.months == 12
    assert found.significant and found.ratio_high < 1
    assert found.ratio == pytest.approx(0.55, abs=0.12)
    assert found.wdd < 0 and found.wdd + 1.96 * found.wdd_se < 0
    sentence = found.sentence()
    assert "une baisse de" in sentence and "intervalle de confiance" in sentence

    placebo = evaluation.evaluate(
        engine, _wkt(planted["placebo"]), date(2023, 1, 1), source="pn", commune="04112", months=12
    )
    assert not placebo.significant
    assert placebo.ratio_low < 1 < placebo.ratio_high
    assert "ne se distingue pas" in placebo.sentence()


def test_an_area_given_by_its_code_is_evaluated_against_the_rest_of_the_commune(engine, planted):
    x0, y0, x1, y1 = planted["target"]
    square_outline(engine, "IRIS:041120101", x0, y0, x1, y1, level="iris", parent="COM:04112")
    evaluation_id = evaluation.define(
        engine, label="Médiation", place="IRIS:041120101", start=date(2023, 1, 1), source="pn"
    )
    (defined,) = evaluation.defined(engine)
    assert defined["id"] == evaluation_id
    found = evaluation.evaluate(
        engine, defined["wkt"], defined["start_date"], source="pn", commune="04112", months=12
    )
    assert found.significant and found.counts["cible"][0] > found.counts["cible"][1]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.action_evaluation")).scalar_one() == 1


def test_too_early_to_evaluate(engine, planted):
    with pytest.raises(Exception, match="prématurée"):
        evaluation.evaluate(engine, _wkt(planted["target"]), date(2023, 12, 1), source="pn", commune="04112")
