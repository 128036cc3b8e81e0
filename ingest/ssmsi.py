"""SSMSI bases (délinquance enregistrée par la police et la gendarmerie) into ``pn_stat``/``pn_denominator``.

The file is streamed as it is into a staging table of text columns with ``COPY … (FORMAT csv)`` — no
per-value Python work, so a national communal base (millions of rows) costs little more than a bare
``COPY`` — then cleaned, checked and written in SQL inside the import batch's transaction.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ingest import ssmsi_breaks
from ingest import ssmsi_secrecy as secrecy
from ingest.reading import damage_refused, open_bytes, open_table
from ingest.ssmsi_layout import APPLI_INDICATORS, Layout, detect_layout, edition_from_name, parse_edition
from ingest.staging import bulk_insert, bulk_worthwhile, timed
from observatoire import geo_codes
from observatoire.errors import InputFileError
from observatoire.imports.batches import MAX_ERRORS_KEPT, ImportReport, run_import
from observatoire.police_nationale import indicators
from observatoire.territories import ensure_territories

log = logging.getLogger(__name__)

SOURCE = "ssmsi"
_CHUNK = 1 << 20
_NUMBER = r"^-?[0-9]+([.,][0-9]+)?([eE]-?[0-9]+)?$"


def _open(path: Path) -> tuple[list[str], Iterator[str], str, int]:
    """Header, body text chunks (CSV), separator and header line number of a CSV (maybe .gz) or parquet file."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return _open_parquet(path)
    table = open_table(path, expected={"annee", "insee", "classe", "indicateur", "CODGEO_2024"})

    def body() -> Iterator[str]:
        with damage_refused(path), open_bytes(path) as raw:
            text = io.TextIOWrapper(raw, encoding=table.encoding, errors="strict", newline="")
            try:
                for _ in range(table.header_line):
                    text.readline()
                while chunk := text.read(_CHUNK):
                    yield chunk
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    f"{path.name} : caractère illisible en {table.encoding} ; "
                    "enregistrez le fichier en UTF-8."
                ) from exc

    return table.header, body(), table.separator, table.header_line


def _open_parquet(path: Path) -> tuple[list[str], Iterator[str], str, int]:
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as pq
    except ImportError as exc:  # optional: only parquet files need it
        raise InputFileError(
            "Lire un fichier parquet demande le paquet pyarrow (pip install pyarrow)."
        ) from exc
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise InputFileError(
            f"{path.name} n'est pas un fichier parquet lisible (endommagé, incomplet ou d'un autre format) : "
            "téléchargez-le à nouveau.",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    table = table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False, delimiter=";"))
    text = buffer.getvalue().decode("utf-8")
    return list(table.column_names), iter([text]), ";", 1


def _copy_raw(
    conn: Connection, path: Path, width: int, chunks: Iterator[str], separator: str, header_line: int
) -> int:
    cols = ", ".join(f"c{i} text" for i in range(width))
    raw = conn.connection.driver_connection
    assert raw is not None  # set while the connection is checked out
    with raw.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE ssmsi_raw (line bigint GENERATED ALWAYS AS IDENTITY, {cols}) ON COMMIT DROP"
        )
        names = ", ".join(f"c{i}" for i in range(width))
        try:
            with cur.copy(
                f"COPY ssmsi_raw ({names}) FROM STDIN (FORMAT csv, DELIMITER '{separator}')"
            ) as copy:
                for chunk in chunks:
                    copy.write(chunk)
        except psycopg.errors.DataError as exc:
            m = re.search(r"line (\d+)", str(exc.diag.context or ""))
            where = f"ligne {int(m.group(1)) + header_line}" if m else "une ligne"
            raise InputFileError(
                f"{path.name} : {where} n'a pas le même nombre de colonnes que l'en-tête ({width}) "
                f"ou est mal formée ; corrigez-la puis relancez.",
                detail=str(exc),
            ) from exc
        cur.execute("SELECT count(*) FROM ssmsi_raw")
        return cur.fetchone()[0]


def _txt(i: int | None) -> str:
    """A raw column as trimmed text, empty and ``NA`` read as NULL."""
    if i is None:
        return "NULL::text"
    return f"nullif(nullif(btrim(c{i}), ''), 'NA')"


# How a file writes a value it does not publish (statistical secrecy) in its count column.
_SECRET_MARKS = ("", "NA", "na", "s", "S", "nd", "ND")
_MARKS_SQL = ", ".join(f"'{m}'" for m in _SECRET_MARKS)


def _count_txt(expr: str) -> str:
    """A count cell as trimmed text, the secrecy marks (blank, ``NA``, ``s``) read as NULL."""
    return f"CASE WHEN btrim({expr}) IN ({_MARKS_SQL}) THEN NULL ELSE btrim({expr}) END"


def _mark_txt(expr: str) -> str:
    """The secrecy mark of a count cell (``vide``, ``NA``, ``s``…), NULL for a number."""
    return (
        f"CASE WHEN {expr} IS NULL OR btrim({expr}) = '' THEN 'vide' "
        f"WHEN btrim({expr}) IN ({_MARKS_SQL}) THEN btrim({expr}) END"
    )


def _code_sql(layout: Layout) -> str:
    """The code column written as geo_codes.TerritoryCode.parse writes it (04, 2A, 93), in SQL."""
    c = _txt(layout.columns[layout.level])
    if layout.level == "commune":
        # Pandas re-saves drop leading zeros (1001 for 01001).
        return f"CASE WHEN {c} ~ '^[0-9]{{4}}$' THEN '0' || {c} ELSE upper({c}) END"
    if layout.level == "departement":
        return f"CASE WHEN {c} ~ '^[0-9]$' THEN '0' || {c} ELSE upper({c}) END"
    return f"lpad({c}, 2, '0')"


def _stage_rows(conn: Connection, layout: Layout, offset: int) -> None:
    """``ssmsi_rows``: one row per value, still text, with its file line."""
    col = layout.columns.get
    fields = {
        "year_txt": _txt(col("year")),
        "unit": _txt(col("unit")),
        "rate_txt": _txt(col("rate")),
        "published_txt": _txt(col("published")),
        "cvalue_txt": _txt(col("complement_value")),
        "crate_txt": _txt(col("complement_rate")),
        "pop_txt": _txt(col("inhabitants")),
        "popv_txt": _txt(col("inhabitants_vintage")),
        "log_txt": _txt(col("dwellings")),
        "logv_txt": _txt(col("dwellings_vintage")),
    }
    select = ", ".join(f"{expr} AS {name}" for name, expr in fields.items())
    base = f"line + {offset} AS line, {_code_sql(layout)} AS code, {select}"
    if layout.kind == "wide":
        values = ", ".join(f"({_quote(ind)}, c{pos})" for pos, ind in layout.indicator_columns.items())
        sql = (
            f"SELECT {base}, v.label AS label, {_count_txt('v.val')} AS count_txt, "
            f"{_mark_txt('v.val')} AS mark_txt "
            f"FROM ssmsi_raw CROSS JOIN LATERAL (VALUES {values}) AS v(label, val)"
        )
    elif layout.kind == "appli":
        cases = " ".join(f"WHEN '{n}' THEN {_quote(i)}" for n, i in APPLI_INDICATORS.items())
        ind = _txt(col("indicator"))
        sql = (
            f"SELECT {base}, CASE {ind} {cases} ELSE 'indictr ' || {ind} END AS label, "
            f"NULL::text AS count_txt, NULL::text AS mark_txt FROM ssmsi_raw"
        )
    else:
        count = f"c{col('count')}"
        sql = (
            f"SELECT {base}, {_txt(col('indicator'))} AS label, {_count_txt(count)} AS count_txt, "
            f"{_mark_txt(count)} AS mark_txt FROM ssmsi_raw"
        )
    conn.exec_driver_sql(f"CREATE TEMP TABLE ssmsi_rows ON COMMIT DROP AS {sql}")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _map_indicators(conn: Connection, report: ImportReport) -> None:
    """``ssmsi_ind``: file label → indicator id; unknown labels are errors listed one by one."""
    rows = conn.exec_driver_sql(
        "SELECT label, count(*), min(line) FROM ssmsi_rows GROUP BY label ORDER BY min(line)"
    ).all()
    mapping = []
    for label, n, first in rows:
        found = indicators.BY_ID.get(label or "") or (indicators.by_label(label) if label else None)
        if found:
            mapping.append((label, found.id))
        else:
            report.error(
                first,
                "indicateur",
                label,
                f"indicateur inconnu ({n} ligne(s)) ; indicateurs connus : "
                + "; ".join(i.label for i in indicators.INDICATORS),
            )
    conn.exec_driver_sql(
        "CREATE TEMP TABLE ssmsi_ind (label text PRIMARY KEY, indicator_id text) ON COMMIT DROP"
    )
    if mapping:
        conn.execute(
            sa.text("INSERT INTO ssmsi_ind VALUES (:l, :i)"), [{"l": lb, "i": i} for lb, i in mapping]
        )
    # pn_stat has no foreign key towards pn_indicator (one lookup per row on millions of rows): the check is
    # here, once per indicator, against the database's catalogue rather than the code's copy of it.
    missing = conn.exec_driver_sql(
        "SELECT i.label, i.indicator_id FROM ssmsi_ind i LEFT JOIN obs.pn_indicator p ON p.id = i.indicator_id "
        "WHERE p.id IS NULL"
    ).all()
    for label, indicator_id in missing:
        report.error(
            None,
            "indicateur",
            label,
            f"indicateur « {indicator_id} » absent du catalogue de la base ; "
            "appliquez les migrations (observatoire db upgrade) puis relancez",
        )
    if missing:
        conn.exec_driver_sql(
            "DELETE FROM ssmsi_ind WHERE indicator_id NOT IN (SELECT id FROM obs.pn_indicator)"
        )


def _checks(layout: Layout) -> list[tuple[str, str, str, str]]:
    """(column, bad-row condition, shown value, message) — evaluated in one scan of ``ssmsi_rows``."""
    deps = ", ".join(_quote(d) for d in geo_codes.DEPARTEMENTS)
    if layout.level == "commune":
        # geo_codes.is_commune_code, in SQL.
        code_ok = f"code ~ '{geo_codes.COMMUNE_PATTERN}' AND {geo_codes.departement_of_commune_sql('code')} IN ({deps})"
        what = "code commune INSEE invalide (5 caractères, par ex. 04112)"
    elif layout.level == "departement":
        code_ok, what = f"code IN ({deps})", "code de département inconnu"
    else:
        regs = ", ".join(_quote(r) for r in geo_codes.REGIONS)
        code_ok, what = f"code IN ({regs})", "code de région inconnu"
    num = _NUMBER
    checks = [
        ("territoire", f"code IS NULL OR NOT ({code_ok})", "code", what),
        (
            "annee",
            "year_txt IS NULL OR year_txt !~ '^([0-9]{2}|20[0-9]{2})$'",
            "year_txt",
            "année invalide (attendu 16 ou 2016)",
        ),
        (
            "faits",
            "count_txt IS NOT NULL AND count_txt !~ '^[0-9]+([.,]0+)?$'",
            "count_txt",
            "nombre de faits invalide (entier positif attendu)",
        ),
        ("tauxpourmille", f"rate_txt IS NOT NULL AND rate_txt !~ '{num}'", "rate_txt", "taux non numérique"),
        ("POP", f"pop_txt IS NOT NULL AND pop_txt !~ '{num}'", "pop_txt", "population non numérique"),
        (
            "LOG",
            f"log_txt IS NOT NULL AND log_txt !~ '{num}'",
            "log_txt",
            "nombre de logements non numérique",
        ),
        (
            "millPOP",
            "popv_txt IS NOT NULL AND popv_txt !~ '^([0-9]{2}|[0-9]{4})$'",
            "popv_txt",
            "millésime invalide",
        ),
        (
            "millLOG",
            "logv_txt IS NOT NULL AND logv_txt !~ '^([0-9]{2}|[0-9]{4})$'",
            "logv_txt",
            "millésime invalide",
        ),
        (
            "complementinfoval",
            f"cvalue_txt IS NOT NULL AND cvalue_txt !~ '{num}'",
            "cvalue_txt",
            "valeur non numérique",
        ),
        (
            "complementinfotaux",
            f"crate_txt IS NOT NULL AND crate_txt !~ '{num}'",
            "crate_txt",
            "taux non numérique",
        ),
        (
            "valeur.publiée",
            "published_txt IS NOT NULL AND lower(published_txt) NOT IN "
            "('diff', 'ndiff', 'oui', 'non', 'true', 'false', '1', '0')",
            "published_txt",
            "indicateur de diffusion inconnu (attendu diff ou ndiff)",
        ),
    ]
    if layout.kind == "appli":
        checks.append(("diff_tx", "rate_txt IS NULL", "rate_txt", "taux absent"))
    return checks


_PER_ROW = ("count_txt", "rate_txt")  # about one distinct value per row


def _any_bad(conn: Connection, checks: list[tuple[str, str, str, str]]) -> bool:
    """Whether some row fails a check, found cheaply: each condition reads only its own column, and the
    territory, year, population, vintage and publication columns repeat across a territory's dozens of
    rows, so they are checked on their distinct combinations (a few per territory and year) and only the
    counts and rates row by row. Three times cheaper than the regular expressions on every row of a
    national base; the listing query runs only when this says something is wrong."""
    grouped = [(cond, col) for _, cond, col, _ in checks if col not in _PER_ROW]
    per_row = [cond for _, cond, col, _ in checks if col in _PER_ROW]
    columns = ", ".join(sorted({col for _, col in grouped}))
    tests = []
    if grouped:
        # OFFSET 0 keeps the conditions out of the DISTINCT, which they would otherwise run below.
        tests.append(
            f"EXISTS (SELECT 1 FROM (SELECT DISTINCT {columns} FROM ssmsi_rows OFFSET 0) g "
            f"WHERE {' OR '.join(f'({cond})' for cond, _ in grouped)})"
        )
    if per_row:
        tests.append(
            f"EXISTS (SELECT 1 FROM ssmsi_rows WHERE {' OR '.join(f'({cond})' for cond in per_row)})"
        )
    return bool(tests) and bool(conn.exec_driver_sql("SELECT " + " OR ".join(tests)).scalar())


def _validate(conn: Connection, layout: Layout, report: ImportReport, accept_valid: bool) -> None:
    checks = _checks(layout)
    values = ", ".join(f"({_quote(c)}, {cond}, {val}, {_quote(msg)})" for c, cond, val, msg in checks)
    any_bad = " OR ".join(f"({cond})" for _, cond, _, _ in checks)
    # The OR filter first: valid rows (nearly all) are dismissed without expanding the list of checks.
    rows = (
        conn.exec_driver_sql(
            f"SELECT line, v.col, v.val, v.msg FROM (SELECT * FROM ssmsi_rows WHERE {any_bad}) AS r "
            f"CROSS JOIN LATERAL (VALUES {values}) AS v(col, bad, val, msg) "
            f"WHERE v.bad ORDER BY line LIMIT {MAX_ERRORS_KEPT}"
        ).all()
        if _any_bad(conn, checks)
        else []
    )
    for line, column, value, message in rows:
        report.error(line, column, value, message)
    dups = conn.exec_driver_sql(
        "SELECT min(r.line), max(r.line), r.code, r.label, r.year_txt FROM ssmsi_rows r "
        "GROUP BY r.code, r.label, r.year_txt HAVING count(*) > 1 ORDER BY 1 LIMIT 50"
    ).all()
    for first, last, code, label, year in dups:
        report.error(last, None, f"{code} / {label} / {year}", f"valeur en double (déjà à la ligne {first})")
    if report.errors_total and accept_valid:
        deleted = conn.exec_driver_sql(
            f"DELETE FROM ssmsi_rows WHERE {any_bad} OR label NOT IN (SELECT label FROM ssmsi_ind)"
        ).rowcount
        report.rejected += deleted


def _num(expr: str) -> str:
    return f"replace({expr}, ',', '.')::float8"


def _year(expr: str) -> str:
    return f"(CASE WHEN length({expr}) = 2 THEN 2000 + {expr}::int ELSE {expr}::int END)"


def _write(
    conn: Connection, layout: Layout, edition: str, batch_id: int, report: ImportReport, accept_valid: bool
) -> None:
    prefix = geo_codes.PREFIXES[layout.level] + ":"
    with timed(report, "conversion"):
        conn.exec_driver_sql(f"""
            CREATE TEMP TABLE ssmsi_clean ON COMMIT DROP AS
            SELECT r.line, '{prefix}' || r.code AS territory_code, {_year("r.year_txt")} AS year, i.indicator_id,
                   COALESCE(lower(r.published_txt) IN ('ndiff', 'non', 'false', '0'), false) AS not_published,
                   {_num("r.count_txt")}::int AS count, r.mark_txt AS mark, {_num("r.rate_txt")} AS rate,
                   {_num("r.cvalue_txt")} AS cvalue, {_num("r.crate_txt")} AS crate, lower(r.unit) AS unit,
                   {_num("r.pop_txt")} AS pop, {_year("r.popv_txt")} AS popv,
                   {_num("r.log_txt")} AS log, {_year("r.logv_txt")} AS logv
            FROM ssmsi_rows r JOIN ssmsi_ind i USING (label)""")
    with timed(report, "territoires"):
        codes = set(conn.exec_driver_sql("SELECT DISTINCT territory_code FROM ssmsi_clean").scalars())
        ensure_territories(conn, codes)
    inconsistent = conn.exec_driver_sql("""
        SELECT territory_code, year, min(pop), max(pop) FROM ssmsi_clean GROUP BY territory_code, year
        HAVING min(pop) <> max(pop) OR min(log) <> max(log) LIMIT 20""").all()
    for code, year, low, high in inconsistent:
        report.error(
            None,
            "POP",
            f"{code} {year}",
            f"populations ou logements différents selon les lignes ({low} / {high})",
        )
        if accept_valid:
            report.rejected += conn.execute(
                sa.text("DELETE FROM ssmsi_clean WHERE territory_code = :c AND year = :y"),
                {"c": code, "y": year},
            ).rowcount
    if inconsistent and not accept_valid:
        return
    with timed(report, "secret"):
        zeros_withheld = secrecy.zeros_are_withheld(conn, layout)
    if zeros_withheld:
        report.warnings.append(secrecy.ZERO_CONVENTION_WARNING)
    withheld = secrecy.withheld_sql(zeros_withheld)
    with timed(report, "valeurs"):
        columns = (
            ("edition", ":edition"),
            ("territory_code", "c.territory_code"),
            ("indicator_id", "c.indicator_id"),
            ("year", "c.year"),
            ("count", f"CASE WHEN ({withheld}) IS NULL THEN c.count END"),
            ("published", f"({withheld}) IS NULL"),
            ("published_rate", f"CASE WHEN ({withheld}) IS NULL THEN c.rate END"),
            ("withheld", withheld),
            ("complement_value", "c.cvalue"),
            ("complement_rate", "c.crate"),
            ("unit", "c.unit"),
            ("batch_id", ":batch"),
        )
        valid = conn.exec_driver_sql("SELECT count(*) FROM ssmsi_clean").scalar_one()
        if bulk_worthwhile(conn, "obs.pn_stat", valid):
            # A national base into a table it outgrows: indexes rebuilt once by the owner's function.
            select = ", ".join(f"{expr} AS {name}" for name, expr in columns)
            select = select.replace(":edition", _quote(edition)).replace(":batch", str(int(batch_id)))
            report.inserted = bulk_insert(conn, "obs.pn_stat", f"SELECT c.line, {select} FROM ssmsi_clean c")
        else:
            stats = conn.execute(
                sa.text(
                    f"INSERT INTO obs.pn_stat ({', '.join(n for n, _ in columns)}) "
                    f"SELECT {', '.join(e for _, e in columns)} FROM ssmsi_clean c ON CONFLICT DO NOTHING"
                ),
                {"edition": edition, "batch": batch_id},
            )
            report.inserted = stats.rowcount
    report.duplicates = valid - report.inserted
    report.extra["valeurs"] = valid
    reasons: dict[str, int] = dict(
        conn.exec_driver_sql(
            f"SELECT w, count(*) FROM (SELECT {withheld} AS w FROM ssmsi_clean c) x "
            "WHERE w IS NOT NULL GROUP BY w ORDER BY 2 DESC"
        ).all()
    )
    report.extra["non_diffusees"] = sum(reasons.values())
    if reasons:
        report.extra["non_diffusees_par_raison"] = reasons
        report.warnings.append(
            f"{sum(reasons.values())} valeurs non diffusées (secret statistique) enregistrées « non diffusé » "
            "avec leur raison, jamais comme 0."
        )
    # Dwellings missing from the file (JSON re-exports): recovered from the burglary count and its
    # published per-1,000-dwellings rate, and flagged as such.
    dwelling_ids = ", ".join(
        _quote(i.id) for i in indicators.INDICATORS if i.denominator == indicators.DWELLINGS
    )
    denominators = conn.execute(
        sa.text(f"""
        INSERT INTO obs.pn_denominator (edition, territory_code, year, inhabitants, inhabitants_vintage,
                                        dwellings, dwellings_vintage, dwellings_derived, batch_id)
        SELECT :edition, territory_code, year, max(pop), max(popv),
               COALESCE(max(log), avg(count * 1000.0 / rate) FILTER (
                   WHERE indicator_id IN ({dwelling_ids}) AND count > 0 AND rate > 0 AND NOT not_published)),
               max(logv), max(log) IS NULL AND bool_or(indicator_id IN ({dwelling_ids}) AND count > 0 AND rate > 0),
               :batch
        FROM ssmsi_clean GROUP BY territory_code, year
        HAVING max(pop) IS NOT NULL OR max(log) IS NOT NULL
            OR bool_or(indicator_id IN ({dwelling_ids}) AND count > 0 AND rate > 0)
        ON CONFLICT DO NOTHING"""),
        {"edition": edition, "batch": batch_id},
    )
    report.extra["denominateurs"] = denominators.rowcount


def _ensure_edition(conn: Connection, code: str, produced_on: date | None, batch_id: int) -> None:
    if produced_on:
        label = f"SSMSI, édition du {produced_on:%d/%m/%Y}"
    elif code == "appli-territoriale":
        label = "SSMSI, application « données territoriales » (2016–2021)"
    else:
        label = f"SSMSI, édition {code}"
    conn.execute(
        sa.text(
            "INSERT INTO obs.pn_edition (code, produced_on, label, batch_id) "
            "VALUES (:c, :d, :l, :b) ON CONFLICT (code) DO NOTHING"
        ),
        {"c": code, "d": produced_on, "l": label, "b": batch_id},
    )


def import_ssmsi(
    engine: Engine,
    path: Path,
    *,
    edition: str | None = None,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import one SSMSI base (communal, départemental or régional; CSV, .gz or parquet)."""
    path = Path(path)
    header, chunks, separator, header_line = _open(path)
    layout = detect_layout(header)
    if edition:
        code, produced_on = parse_edition(edition)
    elif (found := edition_from_name(path)) is not None:
        code, produced_on = found
    elif layout.kind == "appli":
        code, produced_on = "appli-territoriale", None
    else:
        raise InputFileError(
            f"{path.name} : l'édition ne se lit pas dans le nom du fichier (« produit-leAAAA-MM-JJ ») ; "
            "précisez-la avec --edition (par ex. --edition 2024-07-05)."
        )

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        # The duplicate, consistency and denominator checks group millions of rows: with the default 4 MB
        # each spills to disk in dozens of batches. For this transaction only.
        conn.exec_driver_sql("SET LOCAL work_mem = '128MB'")
        with timed(report, "copie"):
            report.rows_read = _copy_raw(conn, path, len(header), chunks, separator, header_line)
        report.extra.update({"edition": code, "niveau": layout.level, "disposition": layout.kind})
        if layout.ignored:
            report.warnings.append("Colonnes ignorées : " + ", ".join(layout.ignored))
        for name in layout.unknown:
            report.error(
                header_line,
                name,
                name,
                "colonne inconnue : ni un indicateur du catalogue ni une colonne "
                "attendue ; renommez-la avec le libellé SSMSI de l'indicateur ou retirez-la",
            )
        if layout.kind == "appli":
            report.warnings.append(
                "Fichier de l'application territoriale : des taux pour 1 000 sans les nombres "
                "ni les dénominateurs ; ils ne peuvent pas être additionnés."
            )
        with timed(report, "mise_en_forme"):
            _stage_rows(conn, layout, header_line)
        with timed(report, "indicateurs"):
            _map_indicators(conn, report)
        with timed(report, "controles"):
            _validate(conn, layout, report, accept_valid)
        if report.errors_total and not accept_valid:
            return
        _ensure_edition(conn, code, produced_on, batch_id)
        _write(conn, layout, code, batch_id, report, accept_valid)
        with timed(report, "ruptures"):
            ssmsi_breaks.detect(conn, code, batch_id, report)

    return run_import(engine, SOURCE, path, load, user=user, accept_valid=accept_valid, dry_run=dry_run)
