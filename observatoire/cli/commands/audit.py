"""``observatoire audit …``: the audit log's hash chain."""

from __future__ import annotations

import click

from observatoire.cli.common import Context, pass_ctx
from observatoire.errors import ObservatoireError


class AuditLogAltered(ObservatoireError):
    """The hash chain of the audit log breaks: an entry edited, deleted or cut off."""

    exit_code = 2


def register(cli: click.Group) -> None:
    cli.add_command(audit)


@click.group()
def audit() -> None:
    """Journal d'audit."""


@audit.command("verify")
@pass_ctx
def verify(ctx: Context) -> None:
    """Recalculer la chaîne d'empreintes du journal d'audit et nommer la première entrée altérée."""
    from observatoire.audit import verify as verify_chain

    report = verify_chain(ctx.engine())
    if not report.intact:
        raise AuditLogAltered(f"journal d'audit altéré : {report.problem}")
    click.echo(report.summary())
