"""The standalone HTML map works with the network off: opened from disk in headless Chromium whose every
request to the network fails, Leaflet runs and the data are drawn (DOM and pixels of a screenshot)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from observatoire.events.filter import EventFilter
from observatoire.exports import maps
from observatoire.exports.request import ExportRequest, parse_period

pytestmark = pytest.mark.browser


def _offline_chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # every request leaves for a proxy that does not exist: nothing from the network can load
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ):
        options.add_argument(flag)
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    return driver


def test_offline_html_map_draws_the_data(engine, tmp_path):
    from PIL import Image
    from selenium.webdriver.support.ui import WebDriverWait

    from sample_data.demo import load

    load(engine)
    start, end = parse_period("2023")
    out = tmp_path / "carte.html"
    request = ExportRequest(
        EventFilter(start=start, end=end), ("hotspots",), permutations=99, login="analyste-test"
    )
    maps.export(engine, request, "html", out)
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']?(https?:)?//""", page)  # nothing from a CDN
    assert "Diffusion : Restreint" in page

    driver = _offline_chromium()
    try:
        driver.get(out.as_uri())
        WebDriverWait(driver, 20).until(
            lambda d: (
                d.execute_script("return document.querySelectorAll('path.leaflet-interactive').length") > 50
            )
        )
        assert driver.execute_script("return typeof L === 'object' && L.version") == "1.9.4"
        fills = driver.execute_script(
            "return Array.from(document.querySelectorAll('path.leaflet-interactive'))"
            ".map(p => p.getAttribute('fill')).filter(f => f && f !== 'none')"
        )
        assert "#b2182b" in fills  # the 99 % hot spots
        assert "Points chauds" in driver.find_element("id", "obs-legend").text
        shot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB"), dtype=int)
        (tmp_path / "capture.png").write_bytes(driver.get_screenshot_as_png())
    finally:
        driver.quit()
    # the hot class (#b2182b) at 80 % opacity over Leaflet's grey background
    red = (
        (shot[..., 0] > 150)
        & (shot[..., 1] < 100)
        & (shot[..., 2] < 110)
        & (shot[..., 0] - shot[..., 1] > 80)
    )
    not_white = shot.min(axis=2) < 235
    assert red.sum() > 500 and not_white.mean() > 0.05  # the data on screen, not a blank page
