"""Click's own texts in French: help headings, ``[défaut : …]``, usage errors.

Click marks its texts with :func:`gettext.gettext` and :func:`gettext.ngettext`, bound at import in each of its
modules (``from gettext import gettext as _``). The command's texts must be French whatever the machine's
locale, and without a compiled catalogue nor a change to the process-wide gettext domain that other libraries
share: :func:`install` points those names, in Click's modules only, at the table below. A text missing from
the table (a new Click version) stays as Click writes it; ``tests/test_cli_french.py`` lists what must not.
"""

from __future__ import annotations

import importlib

import click

# Click's message (the msgid, placeholders included) -> French. Placeholders keep their names.
MESSAGES: dict[str, str] = {
    "Aborted!": "Abandon.",
    "deprecated": "obsolète",
    "Missing command.": "Commande manquante.",
    "Options": "Options",
    "Positional arguments": "Arguments",
    "Commands": "Commandes",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": (
        "Avertissement : la commande {name!r} est obsolète.{extra_message}"
    ),
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": (
        "Avertissement : le paramètre {name!r} est obsolète.{extra_message}"
    ),
    "Value must be an iterable.": "La valeur doit être une liste.",
    "env var: {var}": "variable d'environnement : {var}",
    "default: {default}": "défaut : {default}",
    "(dynamic)": "(calculé)",
    "required": "obligatoire",
    "Do you want to continue?": "Voulez-vous continuer ?",
    "Confirm the action without prompting.": "Confirmer l'action sans la demander.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "Show the version and exit.": "Afficher la version et quitter.",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Missing argument": "Argument manquant",
    "unknown error": "erreur inconnue",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Missing option": "Option manquante",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir le fichier {filename!r} : {message}",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Missing parameter": "Paramètre manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Missing {param_type}": "{param_type} manquant(e)",
    "Usage:": "Utilisation :",
    "Invalid start character for option ({option})": "Caractère initial invalide pour une option ({option})",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} prend {nargs} valeurs.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "Choose from:\n\t{choices}": "Choisir parmi :\n\t{choices}",
    "Choice({choices})": "Choix({choices})",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} n'est pas un booléen valide. Valeurs reconnues : {states}"
    ),
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un nombre valide.",
    "{value!r} is not a valid UUID.": "{value!r} n'est pas un UUID valide.",
    "{name} {filename!r} is a file.": "{filename!r} est un fichier.",
    "{name} {filename!r} is a directory.": "{filename!r} est un dossier.",
    "{name} {filename!r} is not readable.": "{filename!r} n'est pas lisible.",
    "{name} {filename!r} is not writable.": "{filename!r} n'est pas accessible en écriture.",
    "{name} {filename!r} is not executable.": "{filename!r} n'est pas exécutable.",
    "{name} {filename!r} does not exist.": "{filename!r} n'existe pas.",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
    "Repeat for confirmation": "Confirmez en le saisissant de nouveau",
    "Error: The two entered values do not match.": "Erreur : les deux saisies ne correspondent pas.",
    "Error: invalid input": "Erreur : saisie invalide",
    "{editor}: Editing failed": "{editor} : l'édition a échoué",
    "{editor}: Editing failed: {e}": "{editor} : l'édition a échoué : {e}",
}

# Click's (singular, plural) -> French (singular, plural).
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "Argument en trop : ({args})",
        "Arguments en trop : ({args})",
    ),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."): (
        "Prend {nargs} valeurs, 1 a été donnée.",
        "Prend {nargs} valeurs, {len} ont été données.",
    ),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "Vouliez-vous dire {possibility} ?",
        "(Vouliez-vous dire l'une de celles-ci : {possibilities} ?)",
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "L'option {name!r} demande une valeur.",
        "L'option {name!r} demande {nargs} valeurs.",
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "{value!r} n'est pas {choice}.",
        "{value!r} n'est pas l'un des choix {choices}.",
    ),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."): (
        "{value!r} ne correspond pas au format {format}.",
        "{value!r} ne correspond à aucun des formats {formats}.",
    ),
    (
        "{len_type} values are required, but {len_value} was given.",
        "{len_type} values are required, but {len_value} were given.",
    ): (
        "{len_type} valeurs sont attendues, {len_value} a été donnée.",
        "{len_type} valeurs sont attendues, {len_value} ont été données.",
    ),
}

_CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.termui",
    "click.utils",
    "click._termui_impl",
)


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    french = PLURALS.get((singular, plural))
    if french is None:
        return singular if count == 1 else plural
    return french[0] if count == 1 else french[1]  # French: 0 and 1 take the singular, but Click never asks 0


def install() -> None:
    """Make Click speak French (idempotent)."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


# Click's type names, shown in upper case as the placeholder of an option's value (``--years INTEGER``).
TYPE_METAVARS = {
    "integer": "ENTIER",
    "integer range": "ENTIER",
    "float": "NOMBRE",
    "float range": "NOMBRE",
    "text": "TEXTE",
    "path": "CHEMIN",
    "file": "FICHIER",
    "filename": "FICHIER",
    "directory": "DOSSIER",
    "boolean": "OUI/NON",
}


# Argument names shown as placeholders (``import pm FILE``): the French the README uses.
ARGUMENT_METAVARS = {"file": "FICHIER", "files": "FICHIER", "paths": "CHEMIN", "batch": "LOT"}


def translate_placeholders(command: click.Command) -> None:
    """``[OPTIONS]``, ``COMMAND [ARGS]...`` and the type placeholders of ``command`` and its subcommands in
    French: Click takes them from constructor defaults, not from its catalogue."""
    command.options_metavar = "[OPTIONS]"
    for param in command.params:
        if isinstance(param, click.Option) and param.metavar is None and not param.is_flag:
            french = TYPE_METAVARS.get(param.type.name)
            if french and not isinstance(param.type, click.Choice):
                param.metavar = french
        elif isinstance(param, click.Argument) and param.metavar is None and param.name in ARGUMENT_METAVARS:
            param.metavar = ARGUMENT_METAVARS[param.name] + ("…" if param.nargs != 1 else "")
    if isinstance(command, click.Group):
        command.subcommand_metavar = "COMMANDE [ARGUMENTS]..."
        for sub in command.commands.values():
            translate_placeholders(sub)
