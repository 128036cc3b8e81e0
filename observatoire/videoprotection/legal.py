"""The legal rules of video-protection: a procedure reference is never a name; a request for images older
than the retention period is flagged; the consultation log is kept three years (see ``sources``)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# Words a procedure reference may hold besides numbers: services, kinds of procedure, abbreviations. Any other
# word of three letters or more may be a name (« PV Dupont 2024 ») and is refused: no name, ever.
REFERENCE_WORDS = frozenset(
    """pv proc procedure rj req requisition pj br bt bta cob ciat sr su gn pn pm tj tgi parquet ji jirs douane
    douanes dnred brigade commissariat csp sd ddsp dipn dcpj opj apj enq enquete flag flagrant flagrance prelim
    preliminaire dossier affaire ref num no ndeg numero bmo bac gie spj sip dpj cgd bsu ctd jld cr pr""".split()
)
_WORD = re.compile(r"[^\W\d_]+")


def _fold(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).casefold()


def reference_problem(reference: str | None) -> str | None:
    """Why a procedure reference is refused (a French reason), or None when it reads as a reference."""
    if reference is None or not reference.strip():
        return None
    ref = reference.strip()
    if len(ref) > 60:
        return "référence trop longue (60 caractères au plus) : une référence n'est pas un récit"
    if not re.search(r"\d", ref):
        return (
            "ressemble à un nom : une référence de procédure comporte des chiffres (par ex. PV 2024/001234)"
        )
    for word in _WORD.findall(ref):
        if len(word) >= 3 and _fold(word) not in REFERENCE_WORDS:
            return (
                f"le mot « {word} » ressemble à un nom de personne : une référence de procédure ne contient que "
                "des chiffres et des sigles de service (par ex. PV 2024/001234, RJ-2024-0815)"
            )
    return None


def beyond_retention(requested_on: date, images_from: datetime | date, retention_days: int) -> bool:
    """Whether the images asked for were older than the retention period on the day of the request."""
    first = images_from.date() if isinstance(images_from, datetime) else images_from
    return first < requested_on - timedelta(days=retention_days)
