"""Exports from the demo data: the print-ready PNG and PDF, SVG, GeoPackage read back by pyogrio, tables, the
diagnostic report in HTML and PDF, the audit entries with the files' SHA-256, the French refusals with nothing
left behind, and the plenary level: no count under 5, no point, no small cell recoverable from its neighbours."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from observatoire import audit
from observatoire.errors import InputFileError, NotFound, PermissionDenied
from observatoire.events import hotspots
from observatoire.events.filter import EventFilter
from observatoire.exports import maps
from observatoire.exports.request import ExportRequest, parse_period
from tests.conftest import run_cli

YEAR = parse_period("2023")


@pytest.fixture
def demo(engine):
    from sample_data.demo import load

    load(engine)
    return engine


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pdf_pages(path: Path, out: Path) -> list[Path]:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm absent (scripts/setup-system.sh pdf)")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(out / "page")], check=True)
    return sorted(out.glob("page*.png"))


def _ink(png: Path) -> float:
    """Share of pixels that are neither white nor near-white: a blank page gives 0."""
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    return float((pixels.min(axis=2) < 230).mean())


def test_map_files_from_the_demo_data_with_their_audit_entries(demo, cli_env, tmp_path):
    from PIL import Image

    png, pdf, svg = tmp_path / "carte.png", tmp_path / "carte.pdf", tmp_path / "carte.svg"
    args = ["export", "map", "--period", "2023", "--layer", "hotspots", "--permutations", "99"]
    for out, fmt in ((png, "png"), (pdf, "pdf"), (svg, "svg")):
        result = run_cli(*args, "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert _sha(out) in result.output

    image = Image.open(png)
    assert image.size[0] >= 3508 and image.size[1] >= 2480  # A4 landscape at 300 dpi
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    hot = (
        (abs(pixels[..., 0] - 0xB2) < 8) & (abs(pixels[..., 1] - 0x18) < 8) & (abs(pixels[..., 2] - 0x2B) < 8)
    )
    assert hot.sum() > 10_000  # hexagons of the 99 % hot class are drawn, not only the frame
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = _pdf_pages(pdf, tmp_path)
    assert len(pages) == 1 and _ink(pages[0]) > 0.03
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text

    portrait = tmp_path / "portrait.png"
    assert run_cli(*args, "--orientation", "portrait", "--out", str(portrait)).exit_code == 0
    assert Image.open(portrait).size[0] >= 2480 and Image.open(portrait).size[1] >= 3508

    entries = audit.list_entries(demo, action="export")
    recorded = {e["sha256"]: e for e in entries["detail"]}
    for path in (png, pdf, svg, portrait):
        entry = recorded[_sha(path)]
        assert entry["fichier"] == path.name and entry["diffusion"] == "restreint"
        assert entry["filtres"]["periode"] == "du 01/01/2023 au 31/12/2023"
    assert set(entries["user_login"]) == {next(iter(entries["user_login"]))}  # who: the CLI's operator


def test_geopackage_and_tables_read_back(demo, tmp_path):
    import pyogrio

    request = ExportRequest(
        EventFilter(start=YEAR[0], end=YEAR[1]),
        ("hotspots", "hexagons", "iris", "points", "accidents", "cameras"),
        permutations=99,
    )
    out = tmp_path / "analyse.gpkg"
    maps.export(demo, request, "gpkg", out)
    names = {name for name, _ in pyogrio.list_layers(out)}
    assert {"points_chauds_gi", "evenements_hexagones", "iris_taux", "evenements_points", "contours"} <= names
    cameras = pyogrio.read_dataframe(out, layer="cameras_videoprotection")
    # the cameras in service at the end of the period, with their requisitions, for the analyst's QGIS
    assert 40 <= len(cameras) <= 60 and cameras["requisitions"].sum() > 0
    with pytest.raises(PermissionDenied):
        maps.export(demo, replace(request, layers=("cameras",), role="conseil"), "gpkg", tmp_path / "c.gpkg")
    hexagons = pyogrio.read_dataframe(out, layer="evenements_hexagones")
    assert hexagons.crs.to_epsg() == 2154 and len(hexagons) > 50
    points = pyogrio.read_dataframe(out, layer="evenements_points")
    # sensitive events are counted in hexagons but never drawn as points
    assert 0 < len(points) < hexagons["effectif"].sum() and set(points.geometry.geom_type) == {"Point"}
    gi = pyogrio.read_dataframe(out, layer="points_chauds_gi")
    assert {"z", "p", "classe", "classe_gi"} <= set(gi.columns) and (gi["classe_gi"] == "chaud_99").any()

    csv = tmp_path / "cellules.csv"
    maps.export(demo, ExportRequest(EventFilter(start=YEAR[0], end=YEAR[1]), ("hexagons",)), "csv", csv)
    raw = csv.read_bytes()
    assert raw.startswith("\ufeff".encode()) and b";" in raw.splitlines()[0]
    table = pd.read_csv(csv, sep=";", encoding="utf-8-sig")
    assert table["effectif"].sum() == hexagons["effectif"].sum()
    xlsx = tmp_path / "cellules.xlsx"
    maps.export(demo, ExportRequest(EventFilter(start=YEAR[0], end=YEAR[1]), ("hexagons",)), "xlsx", xlsx)
    assert xlsx.read_bytes()[:2] == b"PK"


def _neighbours(i: np.ndarray, j: np.ndarray) -> dict[int, list[int]]:
    return hotspots.hex_weights(i, j).neighbors


def test_plenary_export_has_no_small_count_no_point_and_masks_the_neighbours(demo, tmp_path):
    import pyogrio

    f = EventFilter(start=YEAR[0], end=YEAR[1])
    keys = ("hexagons", "hotspots", "iris")
    out = tmp_path / "pleniere.gpkg"
    maps.export(demo, ExportRequest(f, keys, audience="plenier", cell=150, permutations=99), "gpkg", out)
    exact_out = tmp_path / "restreint.gpkg"
    # The exact counts of the same events (the sensitive categories left out, as in the plenary export): a
    # cell whose only events are sensitive holds 0 there, and a 0 masked as a complement has no neighbours
    # to hide.
    same = ExportRequest(f, keys, audience="plenier").checked().effective_filter()
    maps.export(demo, ExportRequest(same, ("hexagons",), cell=150, permutations=99), "gpkg", exact_out)
    exact = pyogrio.read_dataframe(exact_out, layer="evenements_hexagones")
    for name, _ in pyogrio.list_layers(out):
        layer = pyogrio.read_dataframe(out, layer=name)
        assert not layer.geometry.geom_type.isin(["Point", "MultiPoint"]).any(), name
        if "effectif" in layer:
            shown = layer["effectif"].dropna()
            assert (shown >= 5).all(), name
            assert set(layer.loc[layer["effectif"].isna(), "effectif_affiche"]) <= {"< 5", "non diffusé"}
    plenary = pyogrio.read_dataframe(out, layer="evenements_hexagones")
    # Differencing between neighbours: every neighbour of a cell holding 1 to 4 events is masked too, so
    # nothing published (a neighbourhood, a bigger cell) minus the shown cells gives the small count back.
    merged = plenary.merge(exact[["i", "j", "effectif"]], on=["i", "j"], suffixes=("", "_exact"), how="left")
    merged["effectif_exact"] = merged["effectif_exact"].fillna(0)
    small = merged.index[(merged["effectif_exact"] > 0) & (merged["effectif_exact"] < 5)]
    assert len(small) > 0
    links = _neighbours(merged["i"].to_numpy(), merged["j"].to_numpy())
    for k in small:
        assert pd.isna(merged.loc[k, "effectif"])
        for n in links.get(int(k), []):
            assert pd.isna(merged.loc[n, "effectif"]), (merged.loc[k, ["i", "j"]].tolist(), n)
    # the sensitive categories are left out of a plenary export
    assert ExportRequest(f, keys, audience="plenier").checked().effective_filter().sensitive is False
    assert plenary["effectif"].sum() <= exact["effectif"].sum()

    with pytest.raises(PermissionDenied, match="jamais de points"):
        maps.export(demo, ExportRequest(f, ("points",), audience="plenier"), "png", tmp_path / "x.png")
    with pytest.raises(PermissionDenied, match="plénier"):
        maps.export(demo, ExportRequest(f, ("hexagons",), role="conseil"), "png", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_bad_input_gives_a_french_message_and_leaves_no_file(demo, cli_env, tmp_path):
    f = EventFilter(start=YEAR[0], end=YEAR[1])
    out = tmp_path / "carte.png"
    with pytest.raises(InputFileError, match="Couche inconnue : « radars »"):
        maps.export(demo, ExportRequest(f, ("radars",)), "png", out)
    with pytest.raises(NotFound, match="Sélection vide"):
        maps.export(demo, ExportRequest(EventFilter(categories=("inexistante",)), ("hexagons",)), "png", out)
    with pytest.raises(NotFound, match="Période sans données.*données chargées du"):
        maps.export(
            demo,
            ExportRequest(EventFilter(*(), start=parse_period("2010")[0], end=parse_period("2010")[1])),
            "png",
            out,
        )
    result = run_cli(
        "export",
        "map",
        "--period",
        "2023",
        "--layer",
        "hexagons",
        "--out",
        str(tmp_path / "absent" / "c.png"),
    )
    assert (
        result.exit_code != 0 and "Impossible d'écrire" in result.output and "n'existe pas" in result.output
    )
    result = run_cli("export", "map", "--period", "20x3", "--out", str(out))
    assert result.exit_code != 0 and "période non reconnue" in result.output
    (tmp_path / "fichier.txt").write_text("x")
    with pytest.raises(InputFileError, match="Impossible d'écrire"):
        maps.export(demo, ExportRequest(f, ("hexagons",)), "png", tmp_path / "fichier.txt" / "c.png")
    with pytest.raises(InputFileError, match="c'est un dossier"):
        maps.export(demo, ExportRequest(f, ("hexagons",)), "png", tmp_path)
    assert list(tmp_path.rglob("*.partiel")) == [] and not out.exists()
    # a failure while writing removes the temporary file
    from observatoire.exports import files

    def broken(path: Path) -> None:
        path.write_bytes(b"debut")
        raise OSError(28, "No space left on device")

    with pytest.raises(InputFileError, match="Impossible d'écrire"):
        files.write_with(tmp_path / "moitie.gpkg", broken)
    assert list(tmp_path.glob("*moitie*")) == []


def test_diagnostic_report_in_html_and_pdf(demo, cli_env, tmp_path):
    html_out, pdf_out = tmp_path / "diagnostic.html", tmp_path / "diagnostic.pdf"
    for out, fmt in ((html_out, "html"), (pdf_out, "pdf")):
        result = run_cli("report", "diagnostic", "--years", "2019-2022", "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
    page = html_out.read_text(encoding="utf-8")
    for title in (
        "Diagnostic local de sécurité — Manosque",
        "Atteintes volontaires à l&#x27;intégrité physique",
        "Atteintes aux biens",
        "Taux comparés",
        "Département — ",
        "Communes de même taille",
        "France — ",
        "Sécurité routière",
        "Activité de la police municipale",
        "Cartes",
        "data:image/png;base64,",
        "Diffusion : Restreint",
        "Vidéoprotection",
        "Réquisitions et suites données",
        "Sécurité ressentie",
        "Échantillon non représentatif",
    ):
        assert title in page, title
    assert page.count('class="caption"') >= 8  # every table and map has its source and method
    pages = _pdf_pages(pdf_out, tmp_path)
    assert len(pages) >= 3 and all(_ink(p) > 0.005 for p in pages)
    shas = {e["sha256"] for e in audit.list_entries(demo, action="export")["detail"]}
    assert {_sha(html_out), _sha(pdf_out)} <= shas

    plenary = tmp_path / "pleniere.html"
    assert (
        run_cli(
            "report", "diagnostic", "--years", "2019-2022", "--audience", "plenier", "--out", str(plenary)
        ).exit_code
        == 0
    )
    text = plenary.read_text(encoding="utf-8")
    assert "Plénier / public" in text and "Blessés légers" not in text
    # video-protection for the plenary: protected tables by authority and offence, not the register's detail
    assert "Réquisitions par autorité" in text and "dont images trouvées" not in text
