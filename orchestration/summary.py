"""The short summary the demo command prints: what was built and where to look."""

from __future__ import annotations

from core.settings import load_settings
from core.warehouse import warehouse


def _table_counts(con) -> list[tuple[str, str, int]]:
    rows = con.execute(
        "select schema_name, table_name, estimated_size from duckdb_tables() "
        "where not starts_with(table_name, '_') order by schema_name, table_name"
    ).fetchall()
    return [(schema, table, int(size)) for schema, table, size in rows]


def print_summary(result, seconds: float) -> None:
    settings = load_settings()
    status = "succeeded" if result.success else "FAILED"
    print(f"\nPipeline run {result.run_id[:8]} {status} in {seconds:.0f} s")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"  failed step {event.step_key}: {event.event_specific_data.error.message.strip()[:500]}")
    with warehouse(settings, read_only=True) as con:
        counts = _table_counts(con)
        quarantined = con.execute("select count(*) from raw._quarantine").fetchall()[0][0] if any(
            t == "shopify_orders" for _, t, _ in counts
        ) else 0
    raw = [(t, n) for s, t, n in counts if s == "raw"]
    print(f"\nWarehouse: {settings.duckdb_path}")
    print(f"  raw tables: {len(raw)}, rows: {sum(n for _, n in raw):,}, quarantined rows: {quarantined:,} (raw._quarantine)")
    for schema in sorted({s for s, _, _ in counts} - {"raw"}):
        tables = [(t, n) for s, t, n in counts if s == schema]
        print(f"  {schema}: {len(tables)} tables")
    print("\nOpen the Dagster UI: make ui  (then http://127.0.0.1:3000)")
    print(f"Query read-only: duckdb -readonly {settings.duckdb_path}   (while no run is writing)")
