"""The video-protection upload page in a real headless Chromium against the real PostGIS: the CSU operator
drops the camera inventory then the register of requisitions (one bad line: the verification names the line
and the field, saving without accepting the valid lines is refused, with it saves), and sees them counted;
the administrator may open it; the analyst and the council never see it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from observatoire.auth import add_user
from tests.helpers_web import PASSWORD, browser_login

CAMERAS = (
    "identifiant;emplacement;type;longitude;latitude;mise_en_service;direction;portee\n"
    "C1;Place de l'Hôtel de ville;Fixe;5.7870;43.8340;01/01/2018;90;50\n"
    "C2;Parking Saint-Lazare;Dôme PTZ;5.7900;43.8350;01/01/2019;;\n"
    "C3;Entrée nord;LAPI;5.7870;43.8660;01/01/2020;180;\n"
)
REQUISITIONS = (
    "date_demande;autorite;reference;cameras;debut_images;fin_images;categorie;images_trouvees;date_remise;"
    "exploitable\n"
    "12/03/2024;Police nationale;PV 2024/001234;C1, C2;10/03/2024 21:00;10/03/2024 23:00;degradations;oui;"
    "14/03/2024;oui\n"
    "20/04/2024;;PV 2024/001300;C3;19/04/2024 02:00;19/04/2024 03:00;autres;non;;\n"
    "02/05/2024;Gendarmerie;RJ-2024-0815;C3;01/05/2024 08:00;;vols_simples;;;\n"
)


@pytest.fixture
def video_app(settings, engine):
    from dashboard.app import create_app
    from sample_data import reference
    from sample_data.demo import FILES

    reference.load(engine, FILES, "demo")
    for login, role in (
        ("csu", "videoprotection"),
        ("video-admin", "admin"),
        ("video-analyste", "analyste"),
        ("video-conseil", "conseil"),
    ):
        add_user(engine, login, role, PASSWORD)
    return create_app(settings)


def _open(dash_duo, login: str, path: str) -> None:
    base = browser_login(dash_duo, login)
    dash_duo.wait_for_element("#shell-nav", timeout=20)
    dash_duo.driver.get(base + path)


def _drop(dash_duo, path: Path) -> None:
    dash_duo.find_element("#video-depot-fichier input[type=file]").send_keys(str(path))


def _click(dash_duo, selector: str) -> None:
    dash_duo.wait_for_element(selector, timeout=20).click()


def _batches(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT source, status, user_login FROM obs.import_batch "
                    "WHERE source IN ('cameras', 'requisitions') ORDER BY id"
                )
            ).all()
        ]


@pytest.mark.browser
def test_operator_uploads_the_inventory_and_the_register_and_sees_them_counted(
    dash_duo, video_app, engine, settings, tmp_path
):
    cameras = tmp_path / "inventaire.csv"
    cameras.write_text(CAMERAS, encoding="utf-8")
    register = tmp_path / "registre.csv"
    register.write_text(REQUISITIONS, encoding="utf-8")
    dash_duo.start_server(video_app, navigate=False)
    _open(dash_duo, "csu", "/videoprotection")
    _click(dash_duo, "#video-lien-depot")  # from the page the operator works on
    dash_duo.wait_for_contains_text("#video-depot-contenu", "0 caméra(s)", timeout=20)

    # the inventory: dropped, verified, saved
    _drop(dash_duo, cameras)
    dash_duo.wait_for_contains_text("#video-depot-recu", "inventaire.csv", timeout=20)
    assert "Identifiant ← « identifiant »" in dash_duo.find_element("#video-depot-apercu").text
    _click(dash_duo, "#video-depot-verifier")
    dash_duo.wait_for_contains_text("#video-depot-verifie", "Aucune erreur", timeout=30)
    assert "3 caméra(s)" not in dash_duo.find_element("#video-depot-contenu").text  # a dry run saves nothing
    _click(dash_duo, "#video-depot-enregistrer")
    dash_duo.wait_for_contains_text("#video-depot-enregistre", "3 caméra(s) ajoutée(s)", timeout=30)
    dash_duo.wait_for_contains_text("#video-depot-cameras", "3 caméra(s)", timeout=20)

    # the register, with one bad line (line 3 of the file: no authority)
    dash_duo.find_element("#video-depot-type input[value=requisitions]").click()
    _drop(dash_duo, register)
    dash_duo.wait_for_contains_text("#video-depot-recu", "Registre des réquisitions", timeout=20)
    _click(dash_duo, "#video-depot-verifier")
    dash_duo.wait_for_contains_text("#video-depot-verifie", "1 erreur(s)", timeout=30)
    errors = dash_duo.find_element("#video-depot-rapport-detail-erreurs").text
    assert "3 autorite" in errors and "l'autorité requérante est obligatoire" in errors, errors
    _click(dash_duo, "#video-depot-enregistrer")
    dash_duo.wait_for_contains_text("#video-depot-echec", "Import refusé : 1 erreur(s)", timeout=30)
    assert "Rien n'a été enregistré" in dash_duo.find_element("#video-depot-echec").text
    dash_duo.wait_for_element("#video-depot-fichier-garde", timeout=10)
    assert "0 réquisition(s)" in dash_duo.find_element("#video-depot-requisitions").text
    dash_duo.find_element("#video-depot-accepter input").click()
    _click(dash_duo, "#video-depot-enregistrer")
    dash_duo.wait_for_contains_text("#video-depot-enregistre", "2 réquisition(s) ajoutée(s)", timeout=30)
    assert "1 ligne(s) écartée(s)" in dash_duo.find_element("#video-depot-enregistre").text
    dash_duo.wait_for_contains_text("#video-depot-requisitions", "2 réquisition(s)", timeout=20)

    # each import is a batch of its own (the refused one said why), audited; the file is gone from the server
    assert _batches(engine) == [
        ("cameras", "importe", "csu"),
        ("requisitions", "echec", "csu"),
        ("requisitions", "importe", "csu"),
    ]
    with engine.connect() as conn:
        audited = conn.execute(
            sa.text(
                "SELECT action, target FROM obs.audit_log WHERE user_login = 'csu' AND action LIKE 'import%'"
            )
        ).all()
    assert sorted(tuple(a) for a in audited) == [
        ("import", "cameras"),
        ("import", "requisitions"),
        ("import_refuse", "requisitions"),
    ]
    assert not list((Path(settings.home) / "uploads").glob("*/registre.csv"))

    # counted on the Vidéoprotection page
    _click(dash_duo, "#video-depot-lien")
    dash_duo.wait_for_element("#video-total", timeout=30)
    WebDriverWait(dash_duo.driver, 30).until(
        lambda d: d.find_element(By.ID, "video-total").text.strip() == "2"
    )
    assert dash_duo.find_element("#shell-alerte").text == ""
    assert dash_duo.get_logs() == []


@pytest.mark.browser
def test_admin_opens_the_upload_and_analyst_and_council_never_see_it(dash_duo, video_app, settings, tmp_path):
    pdf = tmp_path / "registre.pdf"
    pdf.write_bytes(b"%PDF-1.4 registre")
    cameras = tmp_path / "inventaire.csv"
    cameras.write_text(CAMERAS, encoding="utf-8")
    dash_duo.start_server(video_app, navigate=False)
    _open(dash_duo, "video-admin", "/videoprotection/depot")
    dash_duo.wait_for_contains_text("#video-depot-contenu", "au registre", timeout=20)
    assert "Dépôt vidéoprotection" in dash_duo.find_element("#shell-nav").text
    # a file of another type: named, in French, and not kept
    _drop(dash_duo, pdf)
    dash_duo.wait_for_contains_text(
        "#video-depot-erreur", "« registre.pdf » n'est ni un CSV ni un classeur", timeout=20
    )
    # a nominative column: the file is refused at the drop, and nothing of it is kept
    nominative = tmp_path / "registre-nominatif.csv"
    nominative.write_text(REQUISITIONS.replace("reference;", "prenom;", 1), encoding="utf-8")
    dash_duo.find_element("#video-depot-type input[value=requisitions]").click()
    _drop(dash_duo, nominative)
    dash_duo.wait_for_contains_text("#video-depot-refus", "« prenom »", timeout=20)
    assert not list((Path(settings.home) / "uploads").glob("*/registre-nominatif.csv"))
    dash_duo.find_element("#video-depot-type input[value=cameras]").click()
    # a file dropped then abandoned: gone from the server, nothing saved
    _drop(dash_duo, cameras)
    dash_duo.wait_for_contains_text("#video-depot-recu", "inventaire.csv", timeout=20)
    assert list((Path(settings.home) / "uploads").glob("*/inventaire.csv"))
    _click(dash_duo, "#video-depot-annuler")
    dash_duo.wait_for_contains_text("#video-depot-abandonne", "effacé du serveur", timeout=20)
    assert not list((Path(settings.home) / "uploads").glob("*/inventaire.csv"))
    assert "0 caméra(s)" in dash_duo.find_element("#video-depot-cameras").text
    assert dash_duo.get_logs() == []
    for login in ("video-analyste", "video-conseil"):
        dash_duo.driver.delete_all_cookies()
        _open(dash_duo, login, "/videoprotection")
        dash_duo.wait_for_element("#video-indicateurs", timeout=20)
        assert "Dépôt vidéoprotection" not in dash_duo.find_element("#shell-nav").text, login
        assert not dash_duo.driver.find_elements(By.ID, "video-lien-depot"), login
        dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/videoprotection/depot")
        dash_duo.wait_for_contains_text("#_pages_content", "ne donne pas accès à cette page", timeout=20)
        assert not dash_duo.driver.find_elements(By.ID, "video-depot-fichier"), login
