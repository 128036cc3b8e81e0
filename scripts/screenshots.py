"""Log in with a role and take headless-Chromium screenshots of pages (to look at what users see).

usage: python scripts/screenshots.py URL LOGIN PASSWORD OUT_DIR PATH [PATH…]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options


def driver() -> webdriver.Chrome:
    options = Options()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main() -> None:
    url, login, password, out, *paths = sys.argv[1:]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = driver()
    try:
        browser.get(url + "/login")
        browser.find_element("id", "username").send_keys(login)
        browser.find_element("id", "password").send_keys(password)
        browser.find_element("id", "login-valider").click()
        time.sleep(2)
        for path in paths:
            browser.get(url + path)
            time.sleep(4)
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(1400, min(max(height, 1000), 5000))
            time.sleep(1)
            name = login + "_" + (path.strip("/").replace("/", "_") or "accueil") + ".png"
            browser.save_screenshot(str(out_dir / name))
            print(out_dir / name)
            browser.set_window_size(1400, 1000)
        for entry in browser.get_log("browser"):
            print("console:", entry)
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
