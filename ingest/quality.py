"""great-expectations suites on the raw tables.

great_expectations takes seconds to import, so it is imported inside `validate_raw_table`,
never at module import: loading the Dagster code location stays fast. The Dagster check
calls `validate_new_rows`: only the rows loaded since the last passing validation.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from core.warehouse import quote_identifier as q
from core.warehouse import scalar
from ingest.sources import RawTable

EARLIEST = pd.Timestamp("2000-01-01", tz="UTC")
COPIES = "copies:key+content"  # rows sharing a row's key and content; the loader never stores two


@dataclass
class QualityResult:
    table: str
    rows: int
    success: bool
    failures: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


def _validated_rows(loaded_after: dt.datetime | None) -> tuple[str, list]:
    """WHERE clause and parameters for the rows a validation looks at (all, or loaded after a watermark)."""
    return ("where _loaded_at > ?", [loaded_after]) if loaded_after else ("", [])


def _quality_frame(con: duckdb.DuckDBPyConnection, table: RawTable, loaded_after: dt.datetime | None = None) -> pd.DataFrame:
    """The columns the suite looks at, parsed the way staging will parse them.

    No long text column goes to pandas: great-expectations fingerprints the whole frame
    (twice) before validating, and hashing millions of ids took half the suite's time. The
    keys arrive as presence flags (1 or null) and the key + content uniqueness as the number
    of copies of each row's key and content among the validated rows (1 when unique)."""
    keys = ", ".join(q(k) for k in table.key)
    selected = [f"case when {q(k)} is not null then 1 end::tinyint as {q('key:' + k)}" for k in table.key]
    selected.append(f"count(*) over (partition by {keys}, _record_hash) as {q(COPIES)}")
    for check in table.checks:
        value = f"({check.expr})" if check.expr else q(check.field)
        name = q(f"{check.kind}:{check.field}")
        if check.kind == "timestamp":
            selected.append(f"try_cast({value} as timestamptz) as {name}")
        elif check.kind == "epoch_ms":
            selected.append(f"make_timestamp(try_cast({value} as bigint) * 1000) as {name}")
        elif check.kind == "date":
            selected.append(f"try_cast({value} as date)::timestamp as {name}")
        elif check.kind in ("amount", "int"):
            selected.append(f"try_cast({value} as double) as {name}")
        elif check.kind in ("currency", "country2", "country3"):
            selected.append(f"upper(trim({value})) as {name}")
    where, parameters = _validated_rows(loaded_after)
    frame = con.execute(f"select {', '.join(selected)} from {table.name} {where}", parameters).df()
    for column in frame.columns:
        if column.startswith(("timestamp:", "epoch_ms:", "date:")):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        elif column.startswith(("currency:", "country2:", "country3:")):
            frame[column] = frame[column].astype("category")  # a few distinct codes: cheap to fingerprint
    return frame


def _repeated_keys(con: duckdb.DuckDBPyConnection, table: RawTable, loaded_after: dt.datetime | None) -> list[str]:
    """Up to three keys stored more than once with the same content (among the validated rows)."""
    keys = ", ".join(q(k) for k in table.key)
    where, parameters = _validated_rows(loaded_after)
    rows = con.execute(
        f"select {keys} from {table.name} {where} group by {keys}, _record_hash having count(*) > 1 order by {keys} limit 3",
        parameters,
    ).fetchall()
    return ["/".join(str(value) for value in row) for row in rows]


def _expectations(gx, table: RawTable, frame: pd.DataFrame, now: dt.datetime) -> list:
    latest = pd.Timestamp(now) + pd.Timedelta(days=2)
    expectations = [gx.expectations.ExpectColumnValuesToBeBetween(column=COPIES, min_value=1, max_value=1)]
    expectations += [gx.expectations.ExpectColumnValuesToNotBeNull(column=f"key:{k}") for k in table.key]
    for check in table.checks:
        name = f"{check.kind}:{check.field}"
        if name not in frame.columns:
            continue
        if check.required:
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=name))
        if check.kind in ("timestamp", "epoch_ms", "date"):
            expectations.append(gx.expectations.ExpectColumnValuesToBeBetween(column=name, min_value=EARLIEST, max_value=latest))
        elif check.kind in ("amount", "int"):
            expectations.append(gx.expectations.ExpectColumnValuesToBeBetween(column=name, min_value=0))
        elif check.kind == "currency":
            import pycountry

            codes = sorted(c.alpha_3 for c in pycountry.currencies)
            expectations.append(gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=codes))
        elif check.kind in ("country2", "country3"):
            import pycountry

            attribute = "alpha_2" if check.kind == "country2" else "alpha_3"
            codes = sorted(getattr(c, attribute) for c in pycountry.countries)
            expectations.append(gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=codes))
    return expectations


def validate_new_rows(con: duckdb.DuckDBPyConnection, table: RawTable, now: dt.datetime | None = None) -> QualityResult:
    """Run the suite on the rows loaded since the last passing validation of this table.

    Raw tables are append-only and the loader never inserts a row identical to one it has
    (same key and content), so rows that passed once need no second look: a nightly run
    validates one day, not all history. A failing validation does not move the watermark,
    so the rows are checked again (and block again) until they are fixed."""
    con.execute("create table if not exists raw._quality_watermarks (raw_table varchar primary key, validated_through timestamptz)")
    watermark = scalar(con, "select validated_through from raw._quality_watermarks where raw_table = ?", [table.table])
    newest = scalar(con, f"select max(_loaded_at) from {table.name}")
    if newest is None or (watermark is not None and newest <= watermark):
        return QualityResult(table.table, 0, True, checked=["no rows loaded since the last validation"])
    result = validate_raw_table(con, table, now, loaded_after=watermark)
    if result.success:
        con.execute("insert or replace into raw._quality_watermarks values (?, ?)", [table.table, newest])
    return result


def validate_raw_table(
    con: duckdb.DuckDBPyConnection, table: RawTable, now: dt.datetime | None = None, loaded_after: dt.datetime | None = None
) -> QualityResult:
    """Run the table's suite: columns and types, keys, amounts >= 0, ISO codes, sane timestamps
    (on every row, or on the rows loaded after `loaded_after`)."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    now = now or dt.datetime.now(dt.UTC)
    frame = _quality_frame(con, table, loaded_after)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("raw")
        .add_dataframe_asset(name=table.table)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=f"raw_{table.table}")
    for expectation in _expectations(gx, table, frame, now):
        suite.add_expectation(expectation)
    outcome = batch.validate(suite)
    result = QualityResult(table.table, len(frame), bool(outcome.success))
    for item in outcome.results:
        config = item.expectation_config
        column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", []))
        label = f"{config.type}({column})"
        result.checked.append(label)
        if not item.success:
            sample = item.result.get("partial_unexpected_list", [])[:3]
            if column == COPIES:  # the counts say little: show the repeated keys instead
                sample = _repeated_keys(con, table, loaded_after)
            result.failures.append(f"{label}: {item.result.get('unexpected_count')} unexpected, e.g. {sample}")
    return result
