"""The Comptes page as the administrator uses it, in a real Chromium: add an account (its password shown once
works), change a role, reset a password, disable; each action in the audit log, and the account's open session
ended. Other roles neither see the page nor can use its callback (also in the route probe)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By

from observatoire.auth import add_user, list_users
from observatoire.permissions import ROLES
from tests.helpers_web import PASSWORD, browser_login, login

pytestmark = pytest.mark.browser
NEW = "agent.nouveau"
NEW_ROW = "#comptes-ligne-agent\\.nouveau"  # the dot escaped for CSS


@pytest.fixture
def accounts_app(settings, engine):
    from dashboard.app import create_app

    add_user(engine, "chef-admin", "admin", PASSWORD)
    add_user(engine, "chef-conseil", "conseil", PASSWORD)
    return create_app(settings)


def _choose(dash_duo, dropdown: str, label: str) -> None:
    dash_duo.find_element(dropdown).click()
    options = dash_duo.wait_for_element(".dash-dropdown-options", timeout=10)
    option = next(
        o for o in options.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option") if o.text == label
    )
    dash_duo.driver.execute_script("arguments[0].click()", option)


def _audit(engine, action: str) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT user_login, target, detail FROM obs.audit_log WHERE action = :a ORDER BY id"),
                {"a": action},
            )
        ]


def _password(message: str) -> str:
    found = re.search(r"affiché cette fois seulement : (\S+)$", message)
    assert found, message
    return found.group(1)


def _account(engine, login_: str) -> dict:
    return next(u for u in list_users(engine) if u["login"] == login_)


def test_admin_adds_changes_role_resets_and_disables_an_account(dash_duo, accounts_app, engine):
    dash_duo.start_server(accounts_app, navigate=False)
    base = browser_login(dash_duo, "chef-admin")
    dash_duo.wait_for_element("#nav-comptes", timeout=30).click()
    dash_duo.wait_for_element("#comptes-tableau", timeout=30)
    assert "chef-conseil" in dash_duo.find_element("#comptes-tableau").text

    # Add: the password is shown once and opens the account.
    dash_duo.find_element("#comptes-nouvel-identifiant").send_keys(NEW)
    _choose(dash_duo, "#comptes-nouveau-role", ROLES["police_municipale"])
    dash_duo.find_element("#comptes-creer").click()
    dash_duo.wait_for_contains_text("#comptes-message", f"Compte {NEW} créé", timeout=20)
    first = _password(dash_duo.find_element("#comptes-message").text)
    dash_duo.wait_for_element(NEW_ROW, timeout=10)
    assert _account(engine, NEW)["role"] == "police_municipale"
    assert _audit(engine, "utilisateur_cree")[-1] == ("chef-admin", NEW, {"role": "police_municipale"})
    holder = accounts_app.server.test_client()
    assert login(holder, NEW, first).status_code == 302
    assert holder.get("/_dash-layout").status_code == 200

    # Change the role: audited, and the holder's open session ends.
    dash_duo.driver.refresh()
    dash_duo.wait_for_element("#comptes-tableau", timeout=30)
    _choose(dash_duo, "#comptes-choix", f"{NEW} ({ROLES['police_municipale']})")
    _choose(dash_duo, "#comptes-role", ROLES["analyste"])
    dash_duo.find_element("#comptes-changer-role").click()
    dash_duo.wait_for_contains_text("#comptes-message", f"rôle {ROLES['analyste']}", timeout=20)
    assert _account(engine, NEW)["role"] == "analyste"
    assert _audit(engine, "role_modifie")[-1] == (
        "chef-admin",
        NEW,
        {"avant": "police_municipale", "apres": "analyste"},
    )
    assert holder.get("/_dash-layout").status_code == 401

    # Reset the password: the new one works, the old one no longer does.
    dash_duo.find_element("#comptes-reinitialiser").click()
    dash_duo.wait_for_contains_text("#comptes-message", "Nouveau mot de passe", timeout=20)
    second = _password(dash_duo.find_element("#comptes-message").text)
    assert second != first
    assert _audit(engine, "mot_de_passe_modifie")[-1][:2] == ("chef-admin", NEW)
    assert login(accounts_app.server.test_client(), NEW, first).status_code != 302
    holder = accounts_app.server.test_client()
    assert login(holder, NEW, second).status_code == 302

    # Disable: audited, the session ends, the account cannot log in, it leaves the list of accounts to modify.
    dash_duo.find_element("#comptes-desactiver").click()
    dash_duo.wait_for_contains_text("#comptes-message", f"Compte {NEW} désactivé", timeout=20)
    assert _account(engine, NEW)["active"] is False
    assert _audit(engine, "utilisateur_desactive")[-1][:2] == ("chef-admin", NEW)
    assert holder.get("/_dash-layout").status_code == 401
    assert login(accounts_app.server.test_client(), NEW, second).status_code != 302
    row = dash_duo.find_element(NEW_ROW).text
    assert "désactivé" in row

    # The administrator cannot demote or disable themselves (the commune would be left without one).
    _choose(dash_duo, "#comptes-choix", f"chef-admin ({ROLES['admin']})")
    dash_duo.find_element("#comptes-desactiver").click()
    dash_duo.wait_for_contains_text("#comptes-message", "votre propre compte", timeout=20)
    assert "obs-alerte-erreur" in dash_duo.find_element("#comptes-message").get_attribute("class")
    assert _account(engine, "chef-admin")["active"] is True

    # A login already taken is refused in French, nothing written.
    dash_duo.find_element("#comptes-nouvel-identifiant").clear()
    dash_duo.find_element("#comptes-nouvel-identifiant").send_keys("chef-conseil")
    _choose(dash_duo, "#comptes-nouveau-role", ROLES["analyste"])
    dash_duo.find_element("#comptes-creer").click()
    dash_duo.wait_for_contains_text("#comptes-message", "existe déjà", timeout=20)
    assert _account(engine, "chef-conseil")["role"] == "conseil"
    assert base
    assert dash_duo.get_logs() == []


def test_council_is_refused_the_accounts_page(dash_duo, accounts_app):
    dash_duo.start_server(accounts_app, navigate=False)
    base = browser_login(dash_duo, "chef-conseil")
    dash_duo.wait_for_element("#shell-nav", timeout=30)
    assert not dash_duo.driver.find_elements(By.ID, "nav-comptes")
    dash_duo.driver.get(base + "/comptes")
    dash_duo.wait_for_contains_text(
        "#_pages_content", "Votre rôle ne donne pas accès à cette page.", timeout=30
    )
    assert not dash_duo.driver.find_elements(By.ID, "comptes-tableau")
    assert dash_duo.get_logs() == []
