"""Normalised keys of headers and wordings, shared by the file readers and the nomenclatures: two spellings
of one column or one wording (accents, case, punctuation) meet on the same key."""

from __future__ import annotations

import re
import unicodedata


def normalise_header(name: str) -> str:
    """Lower case, no accents, no punctuation: ``N° d'intervention`` → ``n d intervention``."""
    name = unicodedata.normalize("NFKD", name.strip().strip("\ufeff")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()
