"""Damaged and odd exports of the police municipale, by the thousand: each one ends in a French refusal or an
honest import, never a library exception, an English message, a hang, or data read wrong; and a dry run says
what the import then does.

The files are mutations of one valid export (seeded, so a failure can be replayed by its number): bytes changed,
cut short, control bytes, other encodings, a byte order mark alone, a line of a megabyte, a damaged gzip or
workbook, mixed separators, numbers with mixed separators, positions outside the département.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import threading
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from ingest import police_municipale as pm
from observatoire.errors import ObservatoireError, ValidationFailed
from tests.pm_helpers import HEADER

SEED = 20240314
PER_CATEGORY = 90  # 12 categories: 1,080 files
COMMIT_EVERY = 6  # the real import is compared with the dry run on one file in six
WORKERS = 3  # dry runs at a time
BUDGET = 20.0  # seconds a single file may take before it counts as a hang
COMMUNE = "04112"  # Manosque, département 04
DEP04 = (5.44, 7.02, 43.61, 44.71)  # lon, lon, lat, lat: the département's box, with a margin

LABELS = ["Stationnement gênant", "Dépôt sauvage", "Tapage nocturne", "Rodéo urbain", "Ivresse publique"]
ROWS = [
    [
        f"{day:02d}/03/2024",
        f"{8 + day % 12:02d}h{day * 7 % 60:02d}",
        LABELS[day % len(LABELS)],
        ["12 av. Jean Giono", "", "Place de l'Hôtel de Ville", "3 bis rue Grande"][day % 4],
        ["", f"5,78{day:02d}", "", f"931 5{day:02d}"][day % 4],
        ["", f"43,83{day:02d}", "", f"6 305 0{day:02d}"][day % 4],
        ["Centre", "Est", "Hôpital", ""][day % 4],
        ["Appel", "Initiative", "Demande mairie", "Réquisition"][day % 4],
        ["PV", "Rappel à la loi", "", "Sans suite"][day % 4],
        f"MC-{day}",
    ]
    for day in range(1, 13)
]
# Positions among the rows: those with WGS84 degrees, those with Lambert-93 metres.
WGS_ROWS = [i for i, r in enumerate(ROWS) if r[4].startswith("5,")]

# Words of library and Python messages; none belongs in a French message to the user.
ENGLISH = re.compile(
    r"\b(traceback|error|invalid|codec|zlib|zip|aborted|exception|unexpected|decode|encode|byte|file|"
    r"expected|found|line contains|field larger|errno|object|none)\b",
    re.IGNORECASE,
)
# UTF-8 read as Windows-1252: « Ã© », « Ã¨ », « Â° »…
MOJIBAKE = re.compile(
    "[ÃÂÅâ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)


def text_of(rows: list[list[str]], header: list[str] | None = None, sep: str = ";") -> str:
    return "".join(sep.join(r) + "\r\n" for r in [header or HEADER, *rows])


BASE_TEXT = text_of(ROWS)
BASE_UTF8 = b"\xef\xbb\xbf" + BASE_TEXT.encode("utf-8")
BASE_CP1252 = BASE_TEXT.encode("cp1252")


def base_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass
class Case:
    number: int
    category: str
    kind: str  # what was done, for the failure list
    data: bytes
    suffix: str = ".csv"
    must_refuse: bool = False  # a file that holds something wrong: it may not be accepted


Mutation = Callable[[random.Random], tuple[str, bytes, str, bool]]


def _some_base(rng: random.Random) -> bytes:
    return BASE_UTF8 if rng.random() < 0.6 else BASE_CP1252


def flip_bytes(rng):
    data = bytearray(_some_base(rng))
    n = rng.randint(1, 8)
    for _ in range(n):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return f"{n} octet(s) changé(s)", bytes(data), ".csv", False


def truncate(rng):
    data = _some_base(rng)
    cut = rng.randrange(len(data))
    return f"coupé à {cut}", data[:cut], ".csv", False


def control_bytes(rng):
    data = bytearray(_some_base(rng))
    first_row = data.index(b"\n") + 1
    n = rng.randint(1, 3)
    for _ in range(n):
        where = rng.randrange(first_row, len(data) - 2)
        data[where:where] = bytes([rng.choice([*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])])
    return f"{n} octet(s) de contrôle", bytes(data), ".csv", True


def other_encoding(rng):
    choice = rng.choice(
        [
            "utf-16",
            "utf-16-le",
            "utf-32",
            "latin-1",
            "cp1252",
            "iso8859-15",
            "mac_roman",
            "cp850",
            "utf-8",
            "utf-8-sig",
            "utf-8 et un octet faux",
            "utf-8 et lignes en cp1252",
            "cp1252 derrière un BOM",
        ]
    )
    if choice == "utf-8 et un octet faux":
        data = bytearray(BASE_UTF8 if rng.random() < 0.5 else BASE_TEXT.encode("utf-8"))
        accents = [i for i, b in enumerate(data) if b >= 0xC3 and data[i + 1] >= 0x80 and i > 3]
        at = rng.choice(accents)
        data[at + rng.randint(0, 1)] = rng.choice([0xFF, 0xFE, 0xC0, 0x41, 0xE9])
        return choice, bytes(data), ".csv", True
    if choice == "utf-8 et lignes en cp1252":
        lines = BASE_TEXT.splitlines(keepends=True)
        cut = rng.randint(2, len(lines) - 2)
        return choice, "".join(lines[:cut]).encode() + "".join(lines[cut:]).encode("cp1252"), ".csv", True
    if choice == "cp1252 derrière un BOM":
        return choice, b"\xef\xbb\xbf" + BASE_CP1252, ".csv", True
    data = BASE_TEXT.encode(choice.replace("-sig", "")) if choice != "utf-8-sig" else BASE_UTF8
    return choice, data, ".csv", choice.startswith(("utf-16", "utf-32"))


def bom_only(rng):
    choice = rng.choice(
        [
            b"\xef\xbb\xbf",
            b"\xef\xbb\xbf\r\n",
            b"\xef\xbb\xbf\r\n\r\n",
            b"\xff\xfe",
            b"\xfe\xff",
            b"",
            b"\r\n",
        ]
    )
    return f"seulement {choice!r}", choice, ".csv", True


def long_line(rng):
    mb = 1 << 20
    lines = BASE_TEXT.splitlines(keepends=True)
    kind = rng.choice(["valeur", "sans séparateur", "en-tête", "séparateurs", "guillemet ouvert"])
    at = rng.randint(1, len(lines))
    if kind == "valeur":
        cells = lines[at - 1 if at > 1 else 1].rstrip("\r\n").split(";")
        cells[rng.choice([2, 3, 6, 8])] = "A" * mb
        lines.insert(at, ";".join(cells) + "\r\n")
    elif kind == "sans séparateur":
        lines.insert(at, "B" * mb + "\r\n")
    elif kind == "en-tête":
        lines.insert(0, "Titre " + "C" * mb + "\r\n")
    elif kind == "séparateurs":
        lines.insert(at, ";" * mb + "\r\n")
    else:
        lines.insert(at, '12/03/2024;10:00;"Tapage' + "D" * mb + "\r\n")
    return f"ligne d'un mégaoctet ({kind})", "".join(lines).encode("utf-8"), ".csv", kind == "valeur"


def gzip_damaged(rng):
    packed = gzip.compress(_some_base(rng))
    if rng.random() < 0.6:
        cut = rng.randrange(2, len(packed) - 1)
        return f"gzip coupé à {cut}", packed[:cut], ".csv.gz", True
    data = bytearray(packed)
    at = rng.randrange(10, len(data) - 8)
    data[at] ^= 1 << rng.randrange(8)
    return f"gzip, un bit changé à {at}", bytes(data), ".csv.gz", True


XLSX = base_xlsx()


def xlsx_damaged(rng):
    kind = rng.choice(["coupé", "octets", "membre absent", "xml abîmé", "pas un classeur"])
    if kind == "coupé":
        return kind, XLSX[: rng.randrange(len(XLSX) - 1)], ".xlsx", True
    if kind == "octets":
        data = bytearray(XLSX)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return kind, bytes(data), ".xlsx", False
    if kind == "pas un classeur":
        return kind, BASE_UTF8, ".xlsx", True
    source = zipfile.ZipFile(io.BytesIO(XLSX))
    names = source.namelist()
    out = io.BytesIO()
    victim = rng.choice([n for n in names if n.startswith("xl/")])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            content = source.read(name)
            if name == victim:
                if kind == "membre absent":
                    continue
                at = rng.randrange(len(content))
                content = content[:at] + rng.choice([b"<", b"&", b"\x00", b"\xff", b""]) + content[at + 7 :]
            target.writestr(name, content)
    return f"{kind} : {victim}", out.getvalue(), ".xlsx", kind == "membre absent" and "sheet" in victim


def mixed_separators(rng):
    lines = BASE_TEXT.splitlines(keepends=True)
    n = rng.randint(1, 4)
    for _ in range(n):
        i = rng.randrange(1, len(lines))
        choice = rng.choice([",", "\t", "|", ";;", '"'])
        cells = lines[i].rstrip("\r\n").split(";")
        if choice == '"':
            cells[rng.randrange(len(cells))] = '"' + cells[rng.randrange(len(cells))]
            lines[i] = ";".join(cells) + "\r\n"
        else:
            at = rng.randrange(1, len(cells))
            lines[i] = ";".join(cells[:at]) + choice + ";".join(cells[at:]) + "\r\n"
    return f"{n} séparateur(s) mêlé(s)", "".join(lines).encode("utf-8"), ".csv", False


BAD_NUMBERS = [
    "5,787.12",
    "5.787,12",
    "43,834.1",
    "1,234,567",
    "1.234.567",
    "5,78.1",
    "43.83,4",
    "inf",
    "-inf",
    "1e400",
    "1_000",
    "\uff15,78",  # full-width digit
    "\u0665,78",  # Arabic-Indic digit
    "5,7e",
    "--5,78",
]


def mixed_numbers(rng):
    rows = [list(r) for r in ROWS]
    r = rng.choice(WGS_ROWS)
    value = rng.choice(BAD_NUMBERS)
    rows[r][rng.choice([4, 5])] = value
    encoded = text_of(rows).encode("utf-8")
    return f"nombre {value!r} ligne {r + 2}", encoded, ".csv", True


OUTSIDE = [
    ("5,787", "4"),  # latitude 4: the Gulf of Guinea
    ("-5,787", "43,83"),  # longitude -5.787: the Atlantic off Spain
    ("2,3522", "48,8566"),  # Paris
    ("-1,55", "47,21"),  # Nantes
    ("-61,53", "16,24"),  # Guadeloupe
    ("652 000", "6 862 000"),  # Paris in Lambert-93
    ("5,7", "-43,8"),
    ("179", "89"),
]


def outside(rng):
    rows = [list(r) for r in ROWS]
    r = rng.randrange(len(rows))
    rows[r][4], rows[r][5] = rng.choice(OUTSIDE)
    return (
        f"hors du département ligne {r + 2} : {rows[r][4]} ; {rows[r][5]}",
        text_of(rows).encode(),
        ".csv",
        True,
    )


def combined(rng):
    first = rng.choice([truncate, control_bytes, mixed_separators, mixed_numbers, outside])
    kind, data, _, _ = first(rng)
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return f"{kind}, puis octets changés", bytes(data), ".csv", False


CATEGORIES: dict[str, Mutation] = {
    "octets changés": flip_bytes,
    "troncature": truncate,
    "octets de contrôle": control_bytes,
    "encodages": other_encoding,
    "BOM seul ou vide": bom_only,
    "ligne d'un Mo": long_line,
    "gzip abîmé": gzip_damaged,
    "xlsx abîmé": xlsx_damaged,
    "séparateurs mêlés": mixed_separators,
    "nombres mêlés": mixed_numbers,
    "hors du département": outside,
    "mutations combinées": combined,
}


def cases(per_category: int = PER_CATEGORY, seed: int = SEED) -> list[Case]:
    out = []
    number = 0
    for i in range(per_category):
        for category, mutate in CATEGORIES.items():
            rng = random.Random(f"{seed}-{category}-{i}")
            kind, data, suffix, must_refuse = mutate(rng)
            out.append(Case(number, category, kind, data, suffix, must_refuse))
            number += 1
    return out


@dataclass
class Outcome:
    accepted: bool
    error: BaseException | None
    counts: tuple | None
    messages: list[str]
    seconds: float
    hung: bool = False


def run_once(engine, path: Path, dry_run: bool) -> Outcome:
    """One commit in a thread, joined with a time budget."""
    box: dict = {}

    def target():
        try:
            box["report"] = pm.commit(engine, path, commune=COMMUNE, dry_run=dry_run)
        except BaseException as exc:  # noqa: BLE001 - the point is to see what escapes
            box["error"] = exc

    start = time.perf_counter()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BUDGET)
    seconds = time.perf_counter() - start
    if thread.is_alive():
        return Outcome(False, None, None, [], seconds, hung=True)
    error = box.get("error")
    report = box.get("report") or (error.report if isinstance(error, ValidationFailed) else None)
    messages = [] if error is None else [str(error)]
    counts = None
    if report is not None:
        messages += [e.message for e in report.errors] + list(report.warnings)
        counts = (report.rows_read, report.inserted, report.duplicates, report.rejected, report.errors_total)
    return Outcome(error is None, error, counts, messages, seconds)


def _problems(case: Case, outcome: Outcome) -> list[tuple[str, str]]:
    """(kind, description) of what went wrong with one run."""
    if outcome.hung:
        return [("bloqué", f"plus de {BUDGET:.0f} s")]
    found = []
    if outcome.error is not None and not isinstance(outcome.error, ObservatoireError):
        found.append(("exception", f"{type(outcome.error).__name__}: {str(outcome.error)[:200]}"))
    for message in outcome.messages:
        english = ENGLISH.search(message)
        if english:
            found.append(("anglais", f"({english.group()!r}) {message[:200]}"))
            break
    if case.must_refuse and outcome.accepted:
        found.append(("accepté à tort", "accepté alors qu'il devait être refusé"))
    return found


def _stored_problems(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT label, coalesce(sector, ''), coalesce(outcome, ''), coalesce(place, ''), "
                "ST_X(geom), ST_Y(geom) FROM obs.pm_intervention"
            )
        ).all()
    found = []
    lon_low, lon_high, lat_low, lat_high = DEP04
    for label, sector, outcome, place, lon, lat in rows:
        text = " ".join((label, sector, outcome, place))
        if MOJIBAKE.search(text):
            found.append(("enregistré faux", f"texte mal décodé : {text[:80]!r}"))
        if lon is not None and not (lon_low <= lon <= lon_high and lat_low <= lat <= lat_high):
            found.append(("enregistré faux", f"point hors du département : {lon:.4f} ; {lat:.4f}"))
    return found


def _signature(outcome: Outcome) -> tuple:
    if outcome.error is not None:
        return (type(outcome.error).__name__, str(outcome.error), outcome.counts)
    return ("importé", outcome.counts)


def _wipe(engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM obs.pm_intervention"))
        conn.execute(sa.text("DELETE FROM obs.import_batch"))


def fuzz(engine, folder: Path, all_cases: list[Case]) -> tuple[dict[str, Counter], list[str]]:
    """Each file through a dry run (several at a time: a dry run writes nothing), then one in ``COMMIT_EVERY``
    of each category through the import too, one at a time on an emptied table: the outcomes counted per
    category, and the problems found."""
    from concurrent.futures import ThreadPoolExecutor

    def dry_run(case: Case) -> Outcome:
        path = folder / f"f{case.number:04d}{case.suffix}"
        path.write_bytes(case.data)
        try:
            return run_once(engine, path, dry_run=True)
        finally:
            path.unlink()

    with ThreadPoolExecutor(WORKERS) as pool:
        dry_runs = list(pool.map(dry_run, all_cases))
    tally: dict[str, Counter] = defaultdict(Counter)
    seconds: dict[str, float] = defaultdict(float)
    problems: list[str] = []
    for case, dry in zip(all_cases, dry_runs, strict=True):
        counts = tally[case.category]
        found = _problems(case, dry)
        counts["fichiers"] += 1
        seconds[case.category] += dry.seconds
        counts["acceptés" if dry.accepted else ("bloqués" if dry.hung else "refusés")] += 1
        if (case.number // len(CATEGORIES)) % COMMIT_EVERY == 0 and not dry.hung:
            path = folder / f"f{case.number:04d}{case.suffix}"
            path.write_bytes(case.data)
            real = run_once(engine, path, dry_run=False)
            path.unlink()
            counts["importés aussi"] += 1
            found += [(kind, f"import : {text}") for kind, text in _problems(case, real)]
            if not real.hung and _signature(real) != _signature(dry):
                found.append(("désaccord", f"essai {_signature(dry)} ≠ import {_signature(real)}"))
            found += _stored_problems(engine)
            _wipe(engine)
        for kind in {kind for kind, _ in found}:
            counts[kind] += 1
        if found:
            counts["à problème"] += 1
            tag = f"n° {case.number} ({case.category} : {case.kind})"
            problems += [f"{tag} : {kind} : {text}" for kind, text in found]
    for category, total in seconds.items():
        tally[category]["secondes d'essai"] = round(total)
    return tally, problems


def summary(tally: dict[str, Counter]) -> str:
    lines = []
    for category, counts in tally.items():
        lines.append(f"{category:22s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)


def test_a_thousand_damaged_exports_end_in_french_and_agree(engine, tmp_path):
    all_cases = cases()
    assert len(all_cases) >= 1000
    start = time.perf_counter()
    tally, problems = fuzz(engine, tmp_path, all_cases)
    seconds = time.perf_counter() - start
    print(f"\n{len(all_cases)} fichiers en {seconds:.1f} s\n{summary(tally)}")
    assert not problems, f"{len(problems)} problème(s)\n{summary(tally)}\n" + "\n".join(problems[:40])
    assert sum(c["acceptés"] for c in tally.values()) > 100  # a fuzzer refusing everything tests nothing
