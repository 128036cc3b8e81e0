"""The command's help and usage errors are French, Click's own texts included, for every command."""

from __future__ import annotations

import re

import click
import pytest

from observatoire.cli.main import cli
from tests.conftest import run_cli

ENGLISH = (
    "Show this message and exit.",
    "Usage:",
    "[default:",
    "[required]",
    "Commands:",
    "COMMAND [ARGS]",
    "No such option",
    "No such command",
    "Missing argument",
    "Missing option",
    "Invalid value",
    "is not a valid",
    "is not one of",
    "Did you mean",
    "Try '",
    "Error:",
)
# Click's type and argument placeholders, as whole words (« TEXTE » is French).
PLACEHOLDERS = re.compile(r"\b(INTEGER|TEXT|PATH|PATHS|FLOAT|FILE|FILES|BATCH)\b")


def _commands(command: click.Command, path: tuple[str, ...] = ()):
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def _english(text: str) -> list[str]:
    return [s for s in ENGLISH if s in text] + PLACEHOLDERS.findall(text)


@pytest.mark.parametrize("path", list(_commands(cli)), ids=lambda p: " ".join(p) or "observatoire")
def test_every_help_is_french(path):
    result = run_cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Afficher cette aide et quitter." in result.output
    assert result.output.startswith("Utilisation : ")
    assert _english(result.output) == []


@pytest.mark.parametrize(
    "args, french",
    [
        (["--nope"], "Option inconnue : '--nope'."),
        (["importe"], "Commande inconnue : 'importe'."),
        (["users", "add"], "Argument manquant 'LOGIN'."),
        (["users", "add", "x"], "Option manquante '--role'."),
        (["purge", "--years", "abc"], "'abc' n'est pas un nombre valide."),
        (["users", "set-role", "x", "chef"], "'chef' n'est pas l'un des choix"),
        (["users", "list", "en-trop"], "Argument en trop : (en-trop)"),
    ],
)
def test_usage_errors_are_french(args, french):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert french in result.output and "Erreur : " in result.output
    assert "Essayez « " in result.output and "» pour l'aide." in result.output
    assert _english(result.output) == []


def test_defaults_and_required_marks_are_french():
    output = run_cli("stats", "compare", "--help").output
    assert "[obligatoire]" in output and "défaut :" in output
