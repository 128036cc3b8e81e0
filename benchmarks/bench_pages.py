"""Time to ready of every page, for every role, in headless Chromium, on a running demo application.

"Ready" is the moment the page stopped changing: no Dash component loading, no ``dcc.Loading`` spinner,
every Plotly graph drawn, and no DOM change for ``QUIET`` seconds afterwards (the time reported is that of
the last change, measured from the navigation's start). A map interaction is timed the same way, from the
click on the option to the last change it caused.

Points mode is timed on synthetic police municipale interventions added for the run and removed after:
3,000 in 2016 and 50,000 in 2017 (years the demo does not cover), copied from the demo's located
interventions with their place jittered by up to ~300 m; each added row is tagged so the cleanup removes
exactly them.

Budgets (issue 16): page ≤ 1.5 s, map interaction ≤ 1 s, points 3,000 ≤ 2 s, points 50,000 ≤ 5 s. The peer
measured in the same run is the login page (static, served by Flask): a ratio against it tells a slow
machine from a slow page.

Run, against a served demo (``observatoire demo`` then ``serve``), with the demo's passwords:
``python benchmarks/bench_pages.py URL --password analyste=… --password conseil=… [--password admin=…]``
(the role's login is ``demo-<role>``, ``demo-pm`` and ``demo-video`` for the police municipale and the
CSU). ``--no-points`` skips the synthetic events (no database write).

Measured on the shared 2-core machine while other work kept its load average at 13–18 (so every figure is
several times what a quiet machine gives; compare with the login peer of the same run):

- points mode, main's code (one marker and tooltip component per event): 3,000 and 50,000 events (3,000
  server-side clusters) both > 180 s, the browser blocked; with one canvas GeoJSON layer: 2.0 s and 5.4 s
  (2023, 2,600 points: 1.2–1.5 s).
- pages opened alternately on main's code and on this branch, served side by side, medians of 3 (analyst):
  Activité police municipale 20.8 s → 6.0 s, Sécurité routière 16.9 s → 6.0 s, Carte 4.3 s → 1.8 s,
  Accueil 1.3 s → 1.2 s. The renderer's no-op dispatches (assets/obs_rendu.js) were most of it.
- natural breaks at 500 m: 2.9 s → 0.6 s (analyst); Fisher–Jenks itself 0.45 s → 7 ms on 500 hexagons.

Quiet machine, every page of the merged product, ``--no-points`` (login peer 0.20 s): every map interaction
0.10–0.28 s; over the 1.5 s budget for every role that opens them: Tendances 4.1–4.5 s, Comparaisons 2.6–2.7 s,
Activité police municipale 1.55–1.89 s, Sécurité routière 1.59–1.76 s, Vidéoprotection 1.52–1.68 s, Plan
d'actions 1.51–1.54 s; every other page 0.4–1.1 s.
"""

from __future__ import annotations

import argparse
import time

import sqlalchemy as sa
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from observatoire.permissions import allowed

QUIET = 0.6  # seconds without a DOM change that count as "drawn"
LIMIT = 180.0  # a measure that takes longer is reported as "> LIMIT"
LOGINS = {"police_municipale": "demo-pm", "videoprotection": "demo-video"}
PAGES = {
    "/": "accueil.voir",
    "/carte": "carte.voir",
    "/comparaisons": "stats.voir",
    "/police-municipale": "pm.voir",
    "/securite-routiere": "routes.voir",
    "/police-municipale/depot": "pm.importer",
    "/police-municipale/nomenclature": "pm.nomenclature",
    "/police-nationale/nomenclature": "pn.nomenclature",
    "/imports": "imports.voir",
    "/journal": "audit.voir",
    "/synthese": "synthese.voir",
    "/tendances": "stats.voir",
    "/videoprotection": "video.synthese",
    "/plan-actions": "actions.voir",
    "/enquetes": "enquetes.voir",
    "/exports": "exports.produire",
    "/comptes": "utilisateurs.gerer",
}
BUDGET_PAGE, BUDGET_ACTION, BUDGET_3K, BUDGET_50K = 1.5, 1.0, 2.0, 5.0
SYNTHETIC = "bench-pages-"  # natural_key prefix of the synthetic interventions

# Installed before a measure: counts DOM changes and keeps the time of the last one.
_WATCH = """
window.__obsLast = performance.now();
if (window.__obsObserver) { window.__obsObserver.disconnect(); }
window.__obsObserver = new MutationObserver(function () { window.__obsLast = performance.now(); });
window.__obsObserver.observe(document.body, {subtree: true, childList: true, attributes: true,
                                             characterData: true});
// Work that changes no element counts too: building thousands of markers, drawing them on a canvas.
if (!window.__obsTasks) {
  window.__obsTasks = new PerformanceObserver(function (list) {
    for (const e of list.getEntries()) {
      window.__obsLast = Math.max(window.__obsLast || 0, e.startTime + e.duration);
    }
  });
  for (const type of ['longtask', 'long-animation-frame']) {
    if (PerformanceObserver.supportedEntryTypes.includes(type)) {
      window.__obsTasks.observe({type: type, buffered: true});
    }
  }
}
return performance.now();
"""
# Busy while a component loads, a spinner turns or a graph has not drawn its SVG yet.
_BUSY = """
if (document.readyState !== 'complete') { return true; }
const root = document.getElementById('react-entry-point');
if (root && !root.querySelector('.obs-contenu')) { return true; }
if (document.querySelector('[data-dash-is-loading="true"]')) { return true; }
if (document.querySelector('.dash-spinner, ._dash-loading, .dash-loading-callback')) { return true; }
for (const g of document.querySelectorAll('.dash-graph')) {
  if (!g.querySelector('.main-svg')) { return true; }
}
return false;
"""


def driver(width: int = 1600, height: int = 1000) -> webdriver.Chrome:
    options = Options()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def settle(browser: webdriver.Chrome, start_ms: float) -> float:
    """Seconds from ``start_ms`` (the page's clock) to the last DOM change before a quiet, idle page."""
    deadline = time.monotonic() + LIMIT
    quiet_since = None
    while time.monotonic() < deadline:
        busy = browser.execute_script(_BUSY)
        now, last = browser.execute_script("return [performance.now(), window.__obsLast || 0];")
        if busy or now - last < QUIET * 1000:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since > 200:
            return max(last - start_ms, 0) / 1000
        time.sleep(0.05)
    return float("inf")


def open_page(browser: webdriver.Chrome, url: str) -> float:
    browser.get(url)  # returns after the load event; Dash renders after it
    browser.execute_script(_WATCH)
    # The observer started after the load event: the changes before are part of the first render, which the
    # page's clock (navigation start = 0) covers.
    return settle(browser, 0.0)


def choose(browser: webdriver.Chrome, dropdown_id: str, label: str) -> float:
    """Pick ``label`` in a dcc.Dropdown and time until the page has settled."""
    box = browser.find_element(By.ID, dropdown_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    for _ in range(3):  # a click right after a redraw can land before the dropdown listens
        box.click()
        time.sleep(0.2)
        menus = browser.find_elements(By.CSS_SELECTOR, ".dash-dropdown-options")
        if menus:
            break
    menu = menus[0]
    option = next(o for o in menu.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option") if o.text == label)
    start = browser.execute_script(_WATCH)
    browser.execute_script("arguments[0].click();", option)  # the menu's search box may lie over it
    return settle(browser, start)


def login(browser: webdriver.Chrome, base: str, user: str, password: str) -> None:
    browser.get(base + "/login")
    browser.find_element(By.ID, "username").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-valider").click()
    deadline = time.monotonic() + 30
    while "/login" in browser.current_url and time.monotonic() < deadline:
        time.sleep(0.1)


def _fmt(seconds: float, budget: float | None) -> str:
    if seconds == float("inf"):
        return f"> {LIMIT:.0f} s ✗"
    mark = "" if budget is None else (" ✓" if seconds <= budget else " ✗")
    return f"{seconds:6.2f} s{mark}"


def add_synthetic(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for year, n in ((2016, 3_000), (2017, 50_000)):
            conn.execute(
                sa.text("""
                WITH src AS (
                    SELECT row_number() OVER (ORDER BY i.id) AS rn, i.label, i.label_key, i.type_code,
                           i.family_code, i.geom_l93, i.geocoding_status, i.batch_id
                    FROM obs.pm_intervention i JOIN obs.pm_intervention_type t ON t.code = i.type_code
                    WHERE i.geom IS NOT NULL AND NOT t.sensitive AND i.natural_key NOT LIKE :prefix || '%'),
                total AS (SELECT count(*) AS n FROM src)
                INSERT INTO obs.pm_intervention (occurred_at, time_known, label, label_key, type_code,
                    family_code, geom, geocoding_status, natural_key, batch_id)
                SELECT make_timestamp(:year, 1 + (g % 12), 1 + (g % 28), g % 24, g % 60, 0), true, s.label,
                       s.label_key, s.type_code, s.family_code, ST_Transform(q.l93, 4326),
                       s.geocoding_status, :prefix || :year || '-' || g, s.batch_id
                FROM generate_series(1, :n) g CROSS JOIN total
                JOIN src s ON s.rn = 1 + g % total.n
                CROSS JOIN LATERAL (SELECT ST_Translate(s.geom_l93, (random() - 0.5) * 600,
                                                        (random() - 0.5) * 600) AS l93) q"""),
                {"year": year, "n": n, "prefix": SYNTHETIC},
            )
        counts = conn.execute(
            sa.text(
                "SELECT extract(year FROM occurred_at)::int, count(*) FROM obs.pm_intervention "
                "WHERE natural_key LIKE :p GROUP BY 1 ORDER BY 1"
            ),
            {"p": SYNTHETIC + "%"},
        ).all()
    print("événements synthétiques :", dict(counts))


def remove_synthetic(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM obs.pm_intervention WHERE natural_key LIKE :p"), {"p": SYNTHETIC + "%"}
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--password", action="append", default=[], help="ROLE=MOT_DE_PASSE")
    parser.add_argument("--no-points", action="store_true")
    parser.add_argument("--points-only", action="store_true", help="only the synthetic points")
    parser.add_argument("--width", type=int, default=1600)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    passwords = dict(p.split("=", 1) for p in args.password)
    rows: list[tuple[str, str, float, float | None]] = []

    def record(role: str, name: str, measure, budget: float | None) -> None:
        try:
            seconds = measure()
        except Exception as exc:  # one failed measure must not lose the others
            # A page that blocks the browser's main thread makes the driver time out: not drawn in time.
            print(f"{role} {name}: échec ({type(exc).__name__})", flush=True)
            seconds = float("inf")
        rows.append((role, name, seconds, budget))
        print(f"{role:18} {name:45} {_fmt(seconds, budget)}", flush=True)

    browser = driver(args.width)
    try:
        browser.get(base + "/login")
        browser.execute_script(_WATCH)
        peer = settle(browser, 0.0)
        rows.append(("—", "/login (pair)", peer, None))
        print(f"{'—':18} {'/login (pair)':45} {_fmt(peer, None)}", flush=True)
        for role, password in passwords.items():
            if args.points_only:
                break
            browser.delete_all_cookies()
            login(browser, base, LOGINS.get(role, f"demo-{role}"), password)
            for path, permission in PAGES.items():
                if not allowed(role, permission):
                    continue
                open_page(browser, base + path)  # warm: the data copies of a new version load once
                record(role, path, lambda url=base + path: open_page(browser, url), BUDGET_PAGE)
            if allowed(role, "carte.voir"):
                open_page(browser, base + "/carte")
                for dropdown, label, name in (
                    ("carte-cellule", "500 m", "carte : hexagones 500 m"),
                    ("carte-classes", "Seuils naturels (Fisher–Jenks)", "carte : seuils naturels"),
                    ("carte-mode", "Points chauds (Getis-Ord Gi*)", "carte : points chauds"),
                    (
                        "carte-mode",
                        "Par IRIS (taux pour 1 000 habitants si populations chargées)",
                        "carte : IRIS",
                    ),
                    ("carte-mode", "Densité (noyau gaussien)", "carte : densité"),
                    ("carte-annee", "2023", "carte : année 2023"),
                ):
                    record(role, name, lambda d=dropdown, x=label: choose(browser, d, x), BUDGET_ACTION)
                if role not in ("conseil",):
                    record(
                        role,
                        "carte : points (année 2023)",
                        lambda: choose(browser, "carte-mode", "Événements (points ou regroupements)"),
                        None,
                    )
        if not args.no_points and "analyste" in passwords:
            from observatoire.db import get_engine
            from observatoire.settings import get_settings

            engine = get_engine(get_settings())
            remove_synthetic(engine)
            add_synthetic(engine)
            try:
                browser.delete_all_cookies()
                login(browser, base, "demo-analyste", passwords["analyste"])
                for year, n, budget in (("2016", "3 000", BUDGET_3K), ("2017", "50 000", BUDGET_50K)):
                    open_page(browser, base + "/carte")
                    choose(browser, "carte-annee", year)
                    record(
                        "analyste",
                        f"carte : points, {n} événements",
                        lambda: choose(browser, "carte-mode", "Événements (points ou regroupements)"),
                        budget,
                    )
            finally:
                remove_synthetic(engine)
    finally:
        browser.quit()
    print(f"\n| rôle | page ou action | temps | × pair ({peer:.2f} s) |")
    print("|---|---|---|---|")
    for role, name, seconds, budget in rows:
        ratio = seconds / peer if peer and seconds != float("inf") else float("inf")
        print(f"| {role} | {name} | {_fmt(seconds, budget)} | {ratio:5.1f} |")


if __name__ == "__main__":
    main()
