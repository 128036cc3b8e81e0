"""Typed settings, read from ``OBS_*`` variables and an optional ``observatoire.toml``.

Built on demand by :func:`get_settings`, never at import time, so tests and the CLI can change the
environment before anything reads it.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from observatoire.errors import ConfigurationError
from observatoire.geo_codes import InvalidTerritory, TerritoryCode

DEFAULT_SECRET = "changez-moi-secret-de-developpement"
IGN_PLAN_V2 = (
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&FORMAT=image/png"
    "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
)
TILES_ATTRIBUTION = "© IGN Géoplateforme – Plan IGN v2"


class _TomlSource(PydanticBaseSettingsSource):
    """Keys of ``observatoire.toml`` (lower case, no prefix), below environment variables."""

    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls)
        path = Path(os.environ.get("OBS_CONFIG", "observatoire.toml"))
        self._data: dict[str, Any] = {}
        if path.is_file():
            try:
                self._data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigurationError(f"Le fichier de configuration {path} est illisible : {exc}") from exc

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OBS_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str | None = None
    # Role that runs migrations and owns the schema; the application role gets fewer rights.
    admin_database_url: str | None = None
    home: Path = Path(".observatoire")
    secret_key: str = DEFAULT_SECRET
    commune: str = "04112"
    tiles_url: str = IGN_PLAN_V2
    tiles_attribution: str = TILES_ATTRIBUTION
    session_timeout_minutes: int = Field(30, ge=1)
    # A session ends this long after its login, active or not.
    session_max_hours: int = Field(12, ge=1)
    # Failures for one account from one address before that pair is locked for lockout_minutes.
    lockout_attempts: int = Field(5, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    # Failures from one address (all accounts) before each new attempt waits 1 s, 2 s, 4 s… (429).
    throttle_attempts: int = Field(10, ge=1)
    # Reverse proxies in front of the server: a number of hops, or their addresses (networks allowed).
    trusted_proxies: str = "0"
    audit_retention_years: int = Field(3, ge=1)
    logbook_retention_years: int = Field(3, ge=1)
    small_count_threshold: int = Field(5, ge=1)
    host: str = "127.0.0.1"
    port: int = 8050
    # Sessions of the application role (seconds, 0: none): a runaway query or a transaction left open cannot hold
    # a connection for ever. Pages and exports ask for less than 5 s; an import raises both for its own
    # transaction to ``import_timeout_s`` (a million rows take some 10 s).
    statement_timeout_s: int = Field(60, ge=0)
    idle_in_transaction_timeout_s: int = Field(60, ge=0)
    import_timeout_s: int = Field(900, ge=0)
    # Connections of one process (as many again may be opened for a burst); waiting longer than
    # ``db_pool_timeout_s`` for one gives a French « try again » instead of a page that hangs.
    db_pool_size: int = Field(10, ge=1)
    db_pool_timeout_s: float = Field(5, gt=0)
    # Upload pages: a check or a commit running longer is stopped; how many run at once, per account and in all;
    # how many megabytes of dropped files an account may leave waiting.
    job_timeout_s: int = Field(900, ge=1)
    jobs_per_user: int = Field(2, ge=1)
    jobs_total: int = Field(4, ge=1)
    pending_uploads_mb: int = Field(200, ge=1)
    # Video-protection: images are kept this many days by the CSU (a request for older images is flagged); the
    # consultation log is kept this many years (never less than three); a camera whose area saw no event nor
    # requisition for this many days is listed as idle; the council sees camera positions only when allowed.
    video_image_retention_days: int = Field(30, ge=1)
    video_log_retention_years: int = Field(3, ge=3)
    video_idle_days: int = Field(365, ge=30)
    video_cameras_public: bool = False

    @field_validator("commune")
    @classmethod
    def _commune_code(cls, v: str) -> str:
        try:
            return TerritoryCode.parse(v, ("COM",)).code
        except InvalidTerritory as exc:
            raise ValueError(exc.message) from None

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_text(cls, v: Any) -> str:
        if isinstance(v, int | list | tuple):
            return ",".join(str(x) for x in v) if isinstance(v, list | tuple) else str(v)
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_valid(cls, v: str) -> str:
        v = v.strip()
        if v.isdigit():
            return str(int(v))
        items = [item for item in v.replace(",", " ").split() if item]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"mandataires de confiance : {item!r} n'est ni un nombre ni une adresse IP"
                ) from None
        return ",".join(items) or "0"

    @property
    def trusted_proxy_hops(self) -> int:
        """How many proxies to trust whatever their address (0 when addresses are listed)."""
        return int(self.trusted_proxies) if self.trusted_proxies.isdigit() else 0

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        if self.trusted_proxies.isdigit():
            return ()
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies.split(","))

    @property
    def tiles_enabled(self) -> bool:
        return self.tiles_url.strip().lower() not in ("", "none", "aucun")

    @property
    def commune_code(self) -> str:
        return str(TerritoryCode("COM", self.commune))

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        return init_settings, env_settings, _TomlSource(settings_cls)

    def check_for_serving(self) -> None:
        """Refuse to serve with the published default secret anywhere but on a developer's machine."""
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise ConfigurationError(
                "OBS_SECRET_KEY est resté à sa valeur par défaut : définissez une clé secrète "
                "(par ex. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
            )


def get_settings(**overrides: Any) -> Settings:
    try:
        settings = Settings(**overrides)
    except ValueError as exc:
        raise ConfigurationError(f"Configuration invalide : {exc}") from exc
    settings.check_for_serving()
    return settings
