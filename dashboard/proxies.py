"""Client address and scheme behind trusted reverse proxies (``OBS_TRUSTED_PROXIES``).

Without the setting, ``X-Forwarded-*`` headers are ignored: anyone can send them. With a number of proxies,
werkzeug's ``ProxyFix`` takes that many hops from the right of ``X-Forwarded-For`` and ``X-Forwarded-Proto``.
With a list of addresses, the headers are read only when the connection comes from one of them, and the
client is the first address, from the right, that is not a listed proxy: what a client writes in the header
itself, to the left, is never believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import parse_list_header
from werkzeug.middleware.proxy_fix import ProxyFix

from observatoire.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _listed(address: str | None, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


class ListedProxies:
    """``ProxyFix`` whose number of hops is, per request, the run of listed proxies nearest to the server."""

    def __init__(self, app: Callable, networks: tuple[Network, ...]):
        self.app = app
        self.networks = networks

    def hops(self, environ: dict[str, Any]) -> int:
        if not _listed(environ.get("REMOTE_ADDR"), self.networks):
            return 0
        forwarded = parse_list_header(environ.get("HTTP_X_FORWARDED_FOR", ""))
        hops = 1
        while hops < len(forwarded) and _listed(forwarded[-hops], self.networks):
            hops += 1
        return min(hops, len(forwarded))

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        hops = self.hops(environ)
        if not hops:
            return self.app(environ, start_response)
        # The scheme: the value the same hop wrote, or the one value proxies that overwrite the header left.
        protos = len(parse_list_header(environ.get("HTTP_X_FORWARDED_PROTO", "")))
        return ProxyFix(self.app, x_for=hops, x_proto=min(hops, protos))(environ, start_response)


def trusted_proxies(app: Callable, settings: Settings) -> Callable:
    if settings.trusted_proxy_hops:
        return ProxyFix(app, x_for=settings.trusted_proxy_hops, x_proto=settings.trusted_proxy_hops)
    if settings.trusted_proxy_networks:
        return ListedProxies(app, settings.trusted_proxy_networks)
    return app
