"""What a page or callback may read from the running app: settings, engine, the current account."""

from __future__ import annotations

import flask
from flask_login import current_user
from sqlalchemy.engine import Engine

from observatoire import audit
from observatoire.settings import Settings


def settings() -> Settings:
    return flask.current_app.config["OBS_SETTINGS"]


def engine() -> Engine:
    return flask.current_app.config["OBS_ENGINE"]


def client_ip() -> str | None:
    return flask.request.remote_addr if flask.has_request_context() else None


def audit_view(target: str) -> None:
    """A view of a restricted page, written to the audit log."""
    audit.record_now(
        engine(),
        "consultation",
        user_login=current_user.login,
        role=current_user.role,
        target=target,
        ip=client_ip(),
    )


def audit_export(target: str, detail: dict | None = None) -> None:
    audit.record_now(
        engine(),
        "export",
        user_login=current_user.login,
        role=current_user.role,
        target=target,
        ip=client_ip(),
        detail=detail,
    )
