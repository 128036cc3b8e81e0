"""Logging in through the real login form with Flask's test client."""

from __future__ import annotations

import re

PASSWORD = "mot-de-passe-de-test-solide"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "jeton CSRF absent du formulaire"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def dash_csrf(client) -> str:
    """The token the Dash renderer reads from its cookie and sends back as a header."""
    cookie = client.get_cookie("obs_csrf")
    assert cookie is not None, "cookie obs_csrf absent après connexion"
    return cookie.value


def browser_login(dash_duo, username: str, then: str | None = None) -> str:
    """Start the app's server already given to ``dash_duo``, log in through the real form, optionally open
    a page; returns the server's base URL."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = dash_duo.server.url.rstrip("/")
    driver = dash_duo.driver
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-valider").click()
    # Wait for the login round trip to end: a page opened before it would be asked without the session
    # cookie and answered with the login form.
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)
    if then:
        driver.get(base + then)
    return base


def login_through(
    client,
    username: str,
    *,
    peer: str,
    forwarded_for: str | None = None,
    proto: str | None = None,
    password: str = PASSWORD,
):
    """Log in through the form as a client connected from ``peer`` (a proxy, when headers are given)."""
    headers = {}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    if proto:
        headers["X-Forwarded-Proto"] = proto
    environ = {"REMOTE_ADDR": peer}
    page = client.get("/login", headers=headers, environ_base=environ)
    return client.post(
        "/login",
        headers=headers,
        environ_base=environ,
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
