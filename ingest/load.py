"""Load landing files into the raw schema: idempotent, one transaction per file, bad rows quarantined.

Every file is one batch, identified by the SHA-256 of its bytes. A batch that was loaded
before is skipped (a file whose path, size and modification time match one hashed before is
not read again: `raw._file_hashes`); a record already present with the same key and content is not inserted
again; a changed record lands as a new version (staging keeps the latest). Rows that fail
a check go to `raw._quarantine` with the field and reason, and the rest of the file loads.
A file that cannot be read at all is rejected with an error naming it; files loaded
earlier, and the other files of the same run, are untouched.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pycountry

from core.settings import GenericImportSettings
from core.warehouse import quote_identifier as q
from core.warehouse import scalar
from ingest.sources import Check, RawTable

log = logging.getLogger(__name__)

LOAD_CHECKPOINT_THRESHOLD = "4GB"  # write-ahead log size that triggers a checkpoint while loading files
LOAD_READERS = 2  # files read and checked at the same time (see load_table)
META_COLUMNS = ("_batch_id", "_source_file", "_row_number", "_record_hash", "_loaded_at", "_source")


class FileRejected(Exception):
    """A file that cannot be loaded at all; the message names the file and, where known, the row."""


@dataclass
class FileResult:
    path: Path
    batch_id: str
    status: str  # loaded | skipped | rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0
    error: str | None = None


@dataclass
class LoadReport:
    table: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "rejected"]

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    def summary(self) -> dict:
        return {
            "files": len(self.files),
            "files_loaded": sum(f.status == "loaded" for f in self.files),
            "files_skipped": sum(f.status == "skipped" for f in self.files),
            "files_rejected": len(self.rejected),
            "rows_read": self.total("rows_read"),
            "rows_loaded": self.total("rows_loaded"),
            "rows_unchanged": self.total("rows_unchanged"),
            "rows_quarantined": self.total("rows_quarantined"),
        }


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@cache
def _currency_codes() -> tuple[str, ...]:
    return tuple(sorted(c.alpha_3 for c in pycountry.currencies))


@cache
def _country_codes(length: int) -> tuple[str, ...]:
    attribute = "alpha_2" if length == 2 else "alpha_3"
    return tuple(sorted(getattr(c, attribute) for c in pycountry.countries))


def ensure_meta_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        """
        create table if not exists raw._batches (
            batch_id varchar, source varchar, raw_table varchar, source_file varchar, status varchar,
            rows_read bigint, rows_loaded bigint, rows_unchanged bigint, rows_quarantined bigint,
            error varchar, loaded_at timestamptz
        )
        """
    )
    con.execute(
        """
        create table if not exists raw._quarantine (
            source varchar, raw_table varchar, batch_id varchar, source_file varchar, row_number bigint,
            field varchar, reason varchar, record varchar, quarantined_at timestamptz
        )
        """
    )
    con.execute("create table if not exists raw._cursors (source varchar primary key, cursor json, updated_at timestamptz)")
    con.execute(
        "create table if not exists raw._file_hashes "
        "(source_file varchar, size_bytes bigint, modified_ns bigint, sha256 varchar, hashed_at timestamptz)"
    )
    con.execute("create table if not exists raw._iso_currencies (code varchar)")
    con.execute("create table if not exists raw._iso_countries (alpha_2 varchar, alpha_3 varchar)")
    if scalar(con, "select count(*) from raw._iso_currencies") == 0:
        import pandas as pd

        currencies = pd.DataFrame({"code": list(_currency_codes())})
        countries = pd.DataFrame([(c.alpha_2, c.alpha_3) for c in pycountry.countries], columns=["alpha_2", "alpha_3"])
        con.register("_currency_frame", currencies)
        con.register("_country_frame", countries)
        con.execute("insert into raw._iso_currencies select * from _currency_frame")
        con.execute("insert into raw._iso_countries select * from _country_frame")
        con.unregister("_currency_frame")
        con.unregister("_country_frame")


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    columns = [f"{q(c)} {'json' if c in table.json_columns else 'varchar'}" for c in table.columns]
    meta = ["_batch_id varchar", "_source_file varchar", "_row_number bigint", "_record_hash varchar", "_loaded_at timestamptz", "_source varchar"]
    con.execute(f"create table if not exists {table.name} ({', '.join(columns + meta)})")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def known_hashes(con: duckdb.DuckDBPyConnection, files: list[Path]) -> tuple[dict[Path, str], dict[Path, tuple[int, int]]]:
    """(SHA-256 of the files hashed before and unchanged since, (size, mtime in ns) of every file).

    A landing folder keeps every file it ever received: hashing all of them each night took
    about 2 s at 1M customers (3.8 GB) and grows with history. A file with the same path,
    size and modification time as when it was hashed is taken to have the same bytes, the
    rule make and rsync use; any write to it changes its modification time.
    """
    stats: dict[Path, tuple[int, int]] = {}
    for path in files:
        try:
            st = path.stat()
        except OSError:  # load_file rejects it by name
            continue
        stats[path] = (st.st_size, st.st_mtime_ns)
    if not stats:
        return {}, stats
    rows = con.execute(
        "select source_file, size_bytes, modified_ns, sha256 from raw._file_hashes where list_contains(?, source_file)",
        [[str(p) for p in stats]],
    ).fetchall()
    known = {Path(f): (size, modified, digest) for f, size, modified, digest in rows}
    return {p: known[p][2] for p, stat in stats.items() if p in known and known[p][:2] == stat}, stats


def remember_hashes(
    con: duckdb.DuckDBPyConnection, results: list[FileResult], stats: dict[Path, tuple[int, int]], known: dict[Path, str]
) -> None:
    """Record the hash of each loaded or skipped file (not known before) with the size and
    mtime it had before it was read."""
    rows = [
        (str(r.path), *stats[r.path], r.batch_id)
        for r in results
        if r.status in ("loaded", "skipped") and r.batch_id and r.path in stats and known.get(r.path) != r.batch_id
    ]
    if not rows:
        return
    con.execute("delete from raw._file_hashes where list_contains(?, source_file)", [[row[0] for row in rows]])
    con.executemany("insert into raw._file_hashes values (?, ?, ?, ?, now())", rows)


def find_files(directory: Path, table: RawTable) -> list[Path]:
    if not directory.exists():
        return []
    found = {p for pattern in table.patterns for p in directory.glob(pattern) if p.is_file() and not p.name.startswith(".")}
    return sorted(found)


# ---------------------------------------------------------------- staging a file


def _stage_json(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path) -> None:
    try:
        con.execute(
            f"create or replace temp table _body as select json from read_json_objects({sql_literal(str(path))}, "
            f"format='unstructured', maximum_object_size={max(path.stat().st_size + 1024, 16 << 20)})"
        )
    except duckdb.Error as exc:
        raise FileRejected(f"{path}: not readable as JSON ({_first_line(exc)})") from None
    bodies = scalar(con, "select count(*) from _body")
    if bodies != 1:
        raise FileRejected(f"{path}: expected one JSON document, found {bodies}")
    pointer = "json" + "".join(f"->'{part}'" for part in table.records_path)
    kind = scalar(con, f"select json_type({pointer}) from _body")
    if kind != "ARRAY":
        where = ".".join(table.records_path)
        raise FileRejected(f"{path}: no '{where}' array in the document (found {kind or 'nothing'})")
    con.execute(
        f"""
        create or replace temp table _records as
        select unnest(records) as rec, generate_subscripts(records, 1) as _row_number
        from (select cast({pointer} as json[]) as records from _body)
        """
    )
    # one JSON parse per record for all text fields and one for all nested ones (not one per field)
    text_columns = [c for c in table.columns if c not in table.json_columns]
    json_columns = [c for c in table.columns if c in table.json_columns]
    text_paths = "[" + ", ".join(sql_literal(f"$.{c}") for c in text_columns) + "]"
    json_paths = "[" + ", ".join(sql_literal(f"$.{c}") for c in json_columns) + "]"
    selected = [f"_text[{i}] as {q(c)}" for i, c in enumerate(text_columns, start=1)]
    selected += [f"_nested[{i}] as {q(c)}" for i, c in enumerate(json_columns, start=1)]
    nested = f"json_extract(rec, {json_paths})" if json_columns else "null"
    con.execute(
        f"""
        create or replace temp table _stage as
        select {', '.join(selected)}, rec, _row_number, _record_hash
        from (
            select rec, _row_number, md5(rec::varchar) as _record_hash,
                json_extract_string(rec, {text_paths}) as _text, {nested} as _nested
            from _records
        )
        order by _row_number
        """
    )
    con.execute("drop table _records")
    con.execute("drop table _body")


def _read_csv_sql(path: Path, delimiter: str, header: list[str]) -> str:
    columns = "{" + ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in header) + "}"
    return (
        f"read_csv({sql_literal(str(path))}, delim={sql_literal(delimiter)}, header=true, quote='\"', escape='\"', "
        f"auto_detect=false, columns={columns}, store_rejects=true, rejects_table='_rejects', rejects_scan='_rejects_scan')"
    )


def _csv_header(path: Path, delimiter: str) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected(f"{path}: row 1 (header) is not valid UTF-8") from None
    text = text.rstrip("\r\n")
    return next(csv.reader([text], delimiter=delimiter)) if text else []


def _stage_csv(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, delimiter: str) -> None:
    header = _csv_header(path, delimiter)
    if not header:
        raise FileRejected(f"{path}: row 1 (header) is empty")
    required = {c.field for c in table.checks if c.required and c.expr is None}
    missing = sorted(required - set(header))
    if missing:
        hint = ""
        for other in (",", ";", "\t", "|"):
            if other != delimiter and len(_csv_header(path, other)) > len(header):
                hint = f"; the header looks delimited by {other!r}, expected {delimiter!r}"
                break
        raise FileRejected(f"{path}: row 1 (header) lacks required column(s) {missing}{hint}")
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise FileRejected(f"{path}: row 1 (header) repeats column(s) {duplicated}")
    reader = _read_csv_sql(path, delimiter, header)
    try:
        con.execute(f"create or replace temp table _records as select * from {reader}")
    except duckdb.Error as exc:
        raise FileRejected(f"{path}: not readable as delimited text ({_first_line(exc)})") from None
    selected = [q(c) if c in header else f"cast(null as varchar) as {q(c)}" for c in table.columns]
    hash_input = ", ".join(f"coalesce({q(c)}, chr(0))" for c in table.columns if c in header)
    # _row_number is the line in the file (header = line 1), counting lines the reader rejected
    rejected_before = "0"
    if scalar(con, "select count(*) from _rejects") > 0:
        con.execute(
            "create or replace temp table _reject_lines as "
            "select line - row_number() over (order by line) - 1 as readable_before from _rejects"
        )
        rejected_before = "(select count(*) from _reject_lines where readable_before < _position)"
    con.execute(
        f"""
        create or replace temp table _stage as
        select {', '.join(selected)}, _position + 1 + {rejected_before} as _row_number,
            md5(concat_ws(chr(31), {hash_input})) as _record_hash
        from (select *, row_number() over () as _position from _records)
        """
    )
    con.execute("drop table _records")


def _csv_rejects(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    """Lines the CSV reader could not parse: (line, reason, raw line)."""
    try:
        rows = con.execute("select line, error_type, error_message, csv_line from _rejects order by line").fetchall()
    except duckdb.Error:
        return []
    reasons = {"INVALID UNICODE": "invalid UTF-8 bytes", "TOO MANY COLUMNS": "too many fields", "MISSING COLUMNS": "too few fields"}
    return [(line, reasons.get(kind, message.splitlines()[0]), raw or "") for line, kind, message, raw in rows]


def _stage_generic(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, mapping: GenericImportSettings) -> None:
    """Map any shop's export to the generic columns, then stage like a CSV."""
    import pandas as pd

    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path).astype("string")
        elif mapping.delimiter == "whitespace":
            frame = pd.read_csv(path, sep=r"\s+", dtype=str, header=0 if mapping.has_header else None, engine="python")
        else:
            frame = pd.read_csv(path, sep=mapping.delimiter, dtype=str, header=0 if mapping.has_header else None)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise FileRejected(f"{path}: not readable ({exc})") from None
    if not mapping.has_header:
        frame.columns = [str(i) for i in range(len(frame.columns))]
    missing = sorted({target: src for target, src in mapping.columns.items() if src not in frame.columns}.items())
    if missing:
        raise FileRejected(f"{path}: mapped column(s) not in file: {[src for _, src in missing]} (columns: {list(frame.columns)})")
    out = pd.DataFrame({target: frame[src] for target, src in mapping.columns.items()})
    if mapping.timestamp_format:
        parsed = pd.to_datetime(out["ordered_at"], format=mapping.timestamp_format, errors="coerce", utc=True)
        out["ordered_at"] = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00").where(parsed.notna(), out["ordered_at"])
    if "currency" not in out:
        out["currency"] = mapping.default_currency
    if "country" not in out and mapping.default_country:
        out["country"] = mapping.default_country
    for column in table.columns:
        if column not in out:
            out[column] = None
    out = out[list(table.columns)]
    con.register("_generic_frame", out)
    key_parts = "concat_ws('|', customer_id, ordered_at, amount)"
    con.execute(
        f"""
        create or replace temp table _stage as
        with numbered as (
            select *, row_number() over () as _row_number from _generic_frame
        )
        select
            coalesce(order_id, md5({key_parts}) || '-' || row_number() over (partition by {key_parts} order by _row_number))
                as order_id,
            {', '.join(q(c) for c in table.columns if c != 'order_id')},
            _row_number,
            md5(concat_ws(chr(31), {', '.join(f'coalesce({q(c)}, chr(0))' for c in table.columns if c != 'order_id')}))
                as _record_hash
        from numbered
        """
    )
    con.unregister("_generic_frame")


# ---------------------------------------------------------------- checks


def _check_sql(check: Check) -> list[tuple[str, str]]:
    """(condition that marks the row bad, reason SQL) pairs for one check."""
    value = f"({check.expr})" if check.expr else q(check.field)
    present = f"({value} is not null and trim({value}) <> '')"
    shown = f"'''' || left({value}, 60) || ''''"
    rules: list[tuple[str, str]] = []
    if check.required:
        rules.append((f"not {present}", "'missing value'"))
    kind_rules = {
        "timestamp": (f"try_cast({value} as timestamptz) is null", f"'unparseable timestamp ' || {shown}"),
        "epoch_ms": (f"try_cast({value} as bigint) is null", f"'not epoch milliseconds ' || {shown}"),
        "date": (f"try_cast({value} as date) is null", f"'unparseable date ' || {shown}"),
        "int": (f"try_cast({value} as bigint) is null", f"'not an integer ' || {shown}"),
        "currency": (
            f"upper(trim({value})) not in (select code from raw._iso_currencies)",
            f"'unknown currency code ' || {shown}",
        ),
        "country2": (
            f"upper(trim({value})) not in (select alpha_2 from raw._iso_countries)",
            f"'unknown country code ' || {shown}",
        ),
        "country3": (
            f"upper(trim({value})) not in (select alpha_3 from raw._iso_countries)",
            f"'unknown country code ' || {shown}",
        ),
        "bool": (f"lower(trim({value})) not in ('true', 'false', '1', '0', 'yes', 'no', 't', 'f')", f"'not a boolean ' || {shown}"),
    }
    if check.kind in kind_rules:
        condition, reason = kind_rules[check.kind]
        rules.append((f"{present} and {condition}", reason))
    if check.kind in ("amount", "signed_amount"):
        number = f"try_cast(trim({value}) as double)"
        rules.append((f"{present} and ({number} is null or isnan({number}) or isinf({number}))", f"'non-numeric amount ' || {shown}"))
        if check.kind == "amount":
            rules.append((f"{present} and {number} < 0", f"'negative amount ' || {shown}"))
    if check.kind == "int":
        rules.append((f"{present} and try_cast({value} as bigint) < 0", f"'negative number ' || {shown}"))
    return rules


def _apply_checks(con: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    field_cases, reason_cases = [], []
    for check in table.checks:
        for condition, reason in _check_sql(check):
            field_cases.append(f"when {condition} then {sql_literal(check.field)}")
            reason_cases.append(f"when {condition} then {reason}")
    key = ", ".join(q(k) for k in table.key)
    con.execute(
        f"""
        create or replace temp table _checked as
        with checked as (
            select *,
                case {' '.join(field_cases)} end as _bad_field,
                case {' '.join(reason_cases)} end as _bad_reason
            from _stage
        ),
        ranked as (
            select *,
                row_number() over (partition by {key} order by _row_number) as _key_rank,
                first_value(_record_hash) over (partition by {key} order by _row_number) as _first_hash,
                first_value(_row_number) over (partition by {key} order by _row_number) as _first_row
            from checked where _bad_reason is null
        )
        select * exclude (_key_rank, _first_hash, _first_row),
            case when _key_rank > 1 and _record_hash = _first_hash then 'repeat' end as _repeat,
            _key_rank > 1 and _record_hash <> _first_hash as _conflict, _first_row
        from ranked
        union all by name
        select *, null as _repeat, false as _conflict, null as _first_row from checked where _bad_reason is not null
        """
    )
    key_text = " || '/' || ".join(f"coalesce({q(k)}, '')" for k in table.key)
    con.execute(
        f"""
        update _checked set
            _bad_field = {sql_literal('+'.join(table.key))},
            _bad_reason = 'duplicate key ''' || {key_text} || ''' within the file with different content (first at row ' || _first_row || ')'
        where _conflict
        """
    )


def _load_checked(con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, batch_id: str, now: dt.datetime) -> tuple[int, int, int]:
    key_match = " and ".join(f"existing.{q(k)} is not distinct from new.{q(k)}" for k in table.key)
    columns = ", ".join(q(c) for c in table.columns)
    before = scalar(con, f"select count(*) from {table.name}")
    con.execute(
        f"""
        insert into {table.name}
        select {columns}, ?, ?, _row_number, _record_hash, ?, ?
        from _checked as new
        where _bad_reason is null and _repeat is null
          and not exists (
              select 1 from {table.name} as existing
              where {key_match} and existing._record_hash = new._record_hash
          )
        order by _row_number
        """,
        [batch_id, str(path), now, table.source],
    )
    loaded = scalar(con, f"select count(*) from {table.name}") - before
    good = scalar(con, "select count(*) from _checked where _bad_reason is null")
    if table.file_format == "json":
        record = "rec::varchar"
    else:
        record = "to_json(struct_pack(" + ", ".join(f"{q(c)} := {q(c)}" for c in table.columns) + "))::varchar"
    con.execute(
        f"""
        insert into raw._quarantine
        select ?, ?, ?, ?, _row_number, _bad_field, _bad_reason, {record}, ?
        from _checked where _bad_reason is not null
        """,
        [table.source, table.table, batch_id, str(path), now],
    )
    quarantined = scalar(con, "select count(*) from _checked where _bad_reason is not null")
    return loaded, good - loaded, quarantined


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------- public API


def load_file(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    path: Path,
    *,
    generic: GenericImportSettings | None = None,
    now: dt.datetime | None = None,
    turn: AbstractContextManager | None = None,
    sha256: str | None = None,
) -> FileResult:
    """Load one file as one batch in one transaction; never raises for bad data.

    The file is read and checked into this connection's temporary tables first; the
    transaction that adds it to the raw table starts inside ``turn``, which ``load_table``
    uses to let the next file be read while this one commits, strictly in file order.
    ``sha256``: the file's hash when known (`known_hashes`), else the file is hashed.
    """
    turn = turn or nullcontext()
    try:
        batch_id = sha256 or file_sha256(path)
    except OSError as exc:  # vanished, a folder, no permission: rejected by name, the other files load
        with turn:
            return _reject(con, table, path, None, _unreadable(path, exc), now)
    result = FileResult(path, batch_id, "loaded")
    try:
        if _batch_loaded(con, table, batch_id):
            with turn:
                return FileResult(path, batch_id, "skipped")
        error = None
        try:
            _stage_and_check(con, table, path, generic, result)
        except FileRejected as exc:
            error = str(exc)
        except duckdb.Error as exc:
            error = f"{path}: {_first_line(exc)}"
        except OSError as exc:
            error = _unreadable(path, exc)
        with turn:
            # an earlier file of this run may have had the same bytes
            if _batch_loaded(con, table, batch_id):
                return FileResult(path, batch_id, "skipped")
            now = now or dt.datetime.now(dt.UTC)  # loaded_at: when the file's turn came
            if error is None:
                error = _commit_checked(con, table, path, batch_id, now, result)
            if error is not None:
                return _reject(con, table, path, batch_id, error, now)
    finally:
        for temp in ("_stage", "_checked", "_records", "_body", "_rejects", "_rejects_scan", "_reject_lines"):
            con.execute(f"drop table if exists {temp}")
    log.info("%s: %s read, %s loaded, %s quarantined", path.name, result.rows_read, result.rows_loaded, result.rows_quarantined)
    return result


def _unreadable(path: Path, exc: OSError) -> str:
    return f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"


def _reject(
    con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, batch_id: str | None, error: str, now: dt.datetime | None
) -> FileResult:
    """Record a file that could not be loaded (no batch id when its bytes could not be read)."""
    con.execute(
        "insert into raw._batches values (?, ?, ?, ?, 'rejected', 0, 0, 0, 0, ?, ?)",
        [batch_id, table.source, table.table, str(path), error, now or dt.datetime.now(dt.UTC)],
    )
    log.error("rejected %s", error)
    return FileResult(path, batch_id or "", "rejected", error=error)


def _batch_loaded(con: duckdb.DuckDBPyConnection, table: RawTable, batch_id: str) -> bool:
    return scalar(
        con, "select count(*) from raw._batches where batch_id = ? and raw_table = ? and status = 'loaded'", [batch_id, table.table]
    ) > 0


def _stage_and_check(
    con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, generic: GenericImportSettings | None, result: FileResult
) -> None:
    """Read the file into temporary tables `_stage` and `_checked` (nothing durable yet)."""
    if path.stat().st_size == 0:
        raise FileRejected(f"{path}: file is empty (0 bytes)")
    if table.file_format == "json":
        _stage_json(con, table, path)
    elif table.file_format == "generic":
        _stage_generic(con, table, path, generic or GenericImportSettings())
    else:
        _stage_csv(con, table, path, "\t" if table.file_format == "tsv" else ",")
    result.rows_read = scalar(con, "select count(*) from _stage")
    _apply_checks(con, table)


def _commit_checked(
    con: duckdb.DuckDBPyConnection, table: RawTable, path: Path, batch_id: str, now: dt.datetime, result: FileResult
) -> str | None:
    """Add the checked rows, quarantine rows and the batch record in one transaction; the error if it failed."""
    con.execute("begin transaction")
    try:
        result.rows_loaded, result.rows_unchanged, result.rows_quarantined = _load_checked(con, table, path, batch_id, now)
        if table.file_format in ("csv", "tsv"):
            for line, reason, raw in _csv_rejects(con):
                con.execute(
                    "insert into raw._quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [table.source, table.table, batch_id, str(path), line, "(line)", f"unreadable line {line}: {reason}", raw, now],
                )
                result.rows_quarantined += 1
                result.rows_read += 1
        con.execute(
            "insert into raw._batches values (?, ?, ?, ?, 'loaded', ?, ?, ?, ?, null, ?)",
            [batch_id, table.source, table.table, str(path), result.rows_read, result.rows_loaded, result.rows_unchanged, result.rows_quarantined, now],
        )
        con.execute("commit")
    except (FileRejected, duckdb.Error) as exc:
        con.execute("rollback")
        return str(exc) if isinstance(exc, FileRejected) else f"{path}: {_first_line(exc)}"
    return None


class _FileOrder:
    """Turns in file order, so files read in parallel still commit one by one, oldest first."""

    def __init__(self) -> None:
        self._next = 0
        self._changed = threading.Condition()

    def turn(self, index: int) -> _Turn:
        return _Turn(self, index)

    def _wait(self, index: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._next == index)

    def _pass(self) -> None:
        with self._changed:
            self._next += 1
            self._changed.notify_all()


class _Turn:
    def __init__(self, order: _FileOrder, index: int) -> None:
        self.order, self.index, self.taken = order, index, False

    def __enter__(self) -> None:
        self.order._wait(self.index)
        self.taken = True

    def __exit__(self, *exc) -> None:
        self.order._pass()


PROGRESS_SECONDS = 5.0


def _progress_line(table: str, done: list[FileResult], total: int) -> str:
    counts = {status: sum(f.status == status for f in done) for status in ("loaded", "skipped", "rejected")}
    parts = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return f"{table}: {len(done)}/{total} files ({parts})"


def load_table(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    files: list[Path],
    *,
    generic: GenericImportSettings | None = None,
    progress=None,
    readers: int = LOAD_READERS,
) -> LoadReport:
    """Load files (oldest name first) into one raw table; rejected files are reported, not raised.

    ``readers`` files are read and checked at the same time, each on its own connection: DuckDB
    runs a query over one small file on one core, so this is what uses the second core. The
    files still commit one at a time in list order, each after the one before it, so a record
    repeated across files is inserted once and the batch log keeps the file order.
    """
    ensure_meta_tables(con)
    ensure_raw_table(con, table)
    report = LoadReport(table.table)
    hashes, stats = known_hashes(con, files)
    # Each file still commits on its own (its rows are durable in the write-ahead log), but the
    # log is folded into the database file once at the end rather than after most commits:
    # with the default 16 MB threshold, checkpoints took a third of a 180-file load.
    threshold = scalar(con, "select current_setting('checkpoint_threshold')")
    time_zone = scalar(con, "select current_setting('TimeZone')")
    con.execute(f"set checkpoint_threshold = '{LOAD_CHECKPOINT_THRESHOLD}'")
    order = _FileOrder()
    local = threading.local()
    cursors: list[duckdb.DuckDBPyConnection] = []
    cursors_lock = threading.Lock()

    def cursor() -> duckdb.DuckDBPyConnection:
        if not hasattr(local, "cursor"):
            local.cursor = con.cursor()
            local.cursor.execute(f"set TimeZone = {sql_literal(time_zone)}")  # a session setting
            with cursors_lock:
                cursors.append(local.cursor)
        return local.cursor

    def load(index: int, path: Path) -> FileResult:
        turn = order.turn(index)
        try:
            return load_file(cursor(), table, path, generic=generic, turn=turn, sha256=hashes.get(path))
        finally:
            if not turn.taken:  # failed before its turn: pass it on, or the next files wait forever
                with turn:
                    pass

    pool = ThreadPoolExecutor(max(1, min(readers, len(files))), thread_name_prefix=f"load-{table.table}")
    reported = time.monotonic()
    try:
        futures = [pool.submit(load, index, path) for index, path in enumerate(files)]
        for index, future in enumerate(futures, start=1):
            report.files.append(future.result())
            # every PROGRESS_SECONDS and at the end: one line per file was hundreds of lines
            # (and run-log writes) a night for files that were loaded long ago
            if progress and (index == len(files) or time.monotonic() - reported >= PROGRESS_SECONDS):
                reported = time.monotonic()
                progress(_progress_line(table.table, report.files, len(files)))
    finally:
        # after an unexpected error (or an interrupt) the files not started yet are left for
        # the next run; the ones being read finish their turn first
        pool.shutdown(wait=True, cancel_futures=True)
        for worker_cursor in cursors:
            worker_cursor.close()
        con.execute(f"set checkpoint_threshold = '{threshold}'")
    remember_hashes(con, report.files, stats, hashes)
    if any(f.status == "loaded" for f in report.files):
        try:
            con.execute("checkpoint")
        except duckdb.Error as exc:  # the loaded rows are committed; DuckDB checkpoints later
            log.info("checkpoint after loading %s deferred: %s", table.table, _first_line(exc))
    return report


def read_cursor(con: duckdb.DuckDBPyConnection, source: str) -> dict | None:
    ensure_meta_tables(con)
    cursor = scalar(con, "select cursor from raw._cursors where source = ?", [source])
    return json.loads(cursor) if cursor else None


def save_cursor(con: duckdb.DuckDBPyConnection, source: str, cursor: dict) -> None:
    """Persist an API cursor; call only after the files it covers are loaded."""
    ensure_meta_tables(con)
    con.execute(
        "insert or replace into raw._cursors values (?, ?, ?)", [source, json.dumps(cursor), dt.datetime.now(dt.UTC)]
    )
