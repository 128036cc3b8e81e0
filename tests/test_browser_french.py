"""Every page, for every role, on the demo data, in a real Chromium: no English left in the interface (Plotly's
toolbar, the date pickers' calendar, the 404 page), no button offering to send a chart to a cloud service, no
Plotly logo, nothing written to the browser's console."""

from __future__ import annotations

import re
import time

import dash
import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from observatoire.auth import add_user
from observatoire.permissions import ROLES, allowed
from tests.helpers_web import PASSWORD, browser_login

pytestmark = pytest.mark.browser

# English texts of Plotly's toolbar, Dash's date pickers and drop-downs, and Dash's default 404 page, as
# whole words or phrases.
ENGLISH = re.compile(
    r"\b("
    r"Download plot|Zoom in|Zoom out|Autoscale|Reset axes|Reset view|Box Select|Lasso Select|Pan|"
    r"Toggle Spike Lines|Show closest data|Compare data on hover|Produced with Plotly|Chart Studio|"
    r"Edit in|Share|Send to|"
    r"January|February|April|June|July|August|September|October|November|December|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mo\s+Tu|Tu\s+We|Sa\s+Su|"
    r"Start Date|End Date|Select\.\.\.|No results found|Select All|Deselect All|"
    r"Page not found|404 - Page"
    r")\b"
)
FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre")
NOT_A_PAGE = "/cette-page-n-existe-pas"


@pytest.fixture
def demo_app(settings, engine):
    from dashboard.app import create_app
    from sample_data.demo import load

    load(engine)
    for role in ROLES:
        add_user(engine, f"fr-{role.replace('_', '-')}", role, PASSWORD)
    return create_app(settings)


def _wait_ready(driver) -> str | None:
    """Wait until the page's heading is drawn and no callback is still running; what went wrong, if anything."""
    try:
        WebDriverWait(driver, 90).until(
            lambda d: d.find_elements(
                By.CSS_SELECTOR, "#_pages_content h1, #_pages_content .obs-alerte-erreur"
            )
        )
    except TimeoutException:
        return "page sans titre après 90 s"
    try:
        WebDriverWait(driver, 120).until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading='true']")
        )
    except TimeoutException:
        return "calculs toujours en cours après 120 s"
    return None


def _texts(driver) -> str:
    """What a person reads or hears: the page's text, and the tooltips and labels of what is displayed (a
    hidden control, never shown nor read, is left out)."""
    titles = driver.execute_script(
        "return Array.from(document.querySelectorAll('[data-title], [title], [aria-label], [placeholder]'))"
        ".filter(e => e.getClientRects().length > 0)"
        ".map(e => [e.getAttribute('data-title'), e.getAttribute('title'), e.getAttribute('aria-label'),"
        " e.getAttribute('placeholder')].filter(Boolean).join(' ')).join(' | ')"
    )
    return driver.find_element(By.TAG_NAME, "body").text + " | " + titles


def _calendar_text(driver) -> str | None:
    """Open the page's first date picker; the calendar's text, or None without a visible date picker. A page
    still redrawing its controls is asked again."""
    for _attempt in range(5):
        try:
            field = driver.execute_script(
                "return Array.from(document.querySelectorAll('input.dash-datepicker-input'))"
                ".find(e => e.offsetParent !== null) || null"
            )
            if field is None:
                return None
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
            field.click()
            content = WebDriverWait(driver, 10).until(
                lambda d: [
                    e
                    for e in d.find_elements(By.CSS_SELECTOR, ".dash-datepicker-content")
                    if e.is_displayed()
                ]
            )[0]
            text = content.text
            field.send_keys(Keys.ESCAPE)
            return text
        except StaleElementReferenceException:
            time.sleep(1)
    raise AssertionError("le calendrier n'a pas pu être ouvert")


def _pages() -> list[tuple[str, str]]:
    return [
        (page["path"], page["permission"])
        for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 50))
        if not page.get("hidden")
    ]


# The visible legends, and those lying over a map: a legend over the map hides part of the study area.
_LEGENDS_OVER_MAPS = """
const maps = Array.from(document.querySelectorAll('.leaflet-container')).map(m => m.getBoundingClientRect());
let count = 0;
const over = [];
for (const legend of document.querySelectorAll('.obs-legende')) {
  const r = legend.getBoundingClientRect();
  if (!r.width || !r.height) { continue; }
  count += 1;
  for (const m of maps) {
    if (r.left < m.right - 1 && r.right > m.left + 1 && r.top < m.bottom - 1 && r.bottom > m.top + 1) {
      over.push(legend.textContent.slice(0, 50));
    }
  }
}
return [count, over];
"""


def test_every_page_for_every_role_is_french_without_cloud_button_or_console_error(dash_duo, demo_app):
    dash_duo.start_server(demo_app, navigate=False)
    driver = dash_duo.driver
    base = dash_duo.server.url.rstrip("/")
    problems: list[str] = []
    seen = {"graphs": 0, "calendars": 0, "not_found": 0, "legends": 0}
    for role in ROLES:
        driver.delete_all_cookies()
        browser_login(dash_duo, f"fr-{role.replace('_', '-')}")
        dash_duo.wait_for_element("#shell-nav", timeout=30)
        paths = [path for path, permission in _pages() if allowed(role, permission)] + [NOT_A_PAGE]
        for path in paths:
            driver.get(base + path)
            where = f"{role} {path}"
            late = _wait_ready(driver)
            if late:
                problems.append(f"{where}: {late}")
                continue
            english = sorted(set(ENGLISH.findall(_texts(driver))))
            if english:
                problems.append(f"{where}: anglais {english}")
            graphs = driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")
            seen["graphs"] += len(graphs)
            buttons = driver.find_elements(By.CSS_SELECTOR, ".modebar-btn")
            if graphs and not any(b.get_attribute("data-title") == "Échelle automatique" for b in buttons):
                problems.append(f"{where}: barre d'outils Plotly sans texte français")
            cloud = driver.find_elements(
                By.CSS_SELECTOR,
                "[data-title*='Cloud'], [data-title*='Chart Studio'], [data-title*='Share'], "
                "a.modebar-btn--logo, .modebar-btn[data-attr='sendDataToCloud']",
            )
            if cloud:
                problems.append(f"{where}: {len(cloud)} bouton(s) de service en ligne ou logo Plotly")
            if path == NOT_A_PAGE:
                seen["not_found"] += 1
                if "Page introuvable" not in driver.find_element(By.TAG_NAME, "h1").text:
                    problems.append(f"{where}: pas de page « Page introuvable »")
            calendar = _calendar_text(driver)
            if calendar is not None:
                seen["calendars"] += 1
                days = calendar.split()
                if not any(m in calendar.lower() for m in FRENCH_MONTHS) or "lu" not in days:
                    problems.append(f"{where}: calendrier sans mois ni jours français : {calendar[:80]!r}")
                elif days.index("lu") > days.index("di"):
                    problems.append(f"{where}: la semaine du calendrier ne commence pas le lundi")
                if ENGLISH.search(calendar):
                    problems.append(f"{where}: calendrier en anglais : {calendar[:80]!r}")
            legends, covering = driver.execute_script(_LEGENDS_OVER_MAPS)
            seen["legends"] += legends
            if covering:
                problems.append(f"{where}: légende posée sur la carte : {covering}")
            logs = dash_duo.get_logs()
            if logs:
                problems.append(f"{where}: console {logs}")
    assert problems == [], "\n".join(problems)
    # The walk met what it checks: charts, calendars and the 404 page, for every role.
    assert seen["graphs"] > 10 and seen["calendars"] >= 3 and seen["not_found"] == len(ROLES), seen
    assert seen["legends"] > 10, seen


def test_the_calendar_opens_above_the_map(dash_duo, demo_app):
    dash_duo.start_server(demo_app, navigate=False)
    driver = dash_duo.driver
    base = browser_login(dash_duo, "fr-analyste")
    dash_duo.wait_for_element("#shell-nav", timeout=30)
    driver.get(base + "/carte")
    assert _wait_ready(driver) is None
    dash_duo.wait_for_element("#carte-leaflet .leaflet-control-zoom-in", timeout=30)
    field = driver.find_element(By.CSS_SELECTOR, "#carte-periode")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", field)
    field.click()
    WebDriverWait(driver, 10).until(
        lambda d: [
            e for e in d.find_elements(By.CSS_SELECTOR, ".dash-datepicker-content") if e.is_displayed()
        ]
    )
    # Whatever lies under the calendar's cells, the map's zoom buttons included, the topmost element at each
    # cell is the calendar itself.
    covered = driver.execute_script(
        """
        const cal = Array.from(document.querySelectorAll('.dash-datepicker-content'))
            .find(e => e.offsetParent !== null);
        const box = cal.getBoundingClientRect();
        const hidden = [];
        for (let x = box.left + 4; x < box.right - 4; x += 12) {
          for (let y = box.top + 4; y < box.bottom - 4; y += 12) {
            const top = document.elementFromPoint(x, y);
            if (top && !cal.contains(top)) hidden.push(top.className.toString());
          }
        }
        return hidden;
        """
    )
    assert covered == []
    assert dash_duo.get_logs() == []
