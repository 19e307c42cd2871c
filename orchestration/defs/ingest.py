"""Ingest assets: demo landing files, then one asset per raw table (a multi-asset per source)."""


import dagster as dg

from core.settings import SOURCES
from ingest.run import create_empty_tables, demo_sources, ensure_demo_data, ingest_source
from ingest.sources import TABLES_BY_SOURCE
from orchestration.defs.resources import DUCKDB_POOL, Warehouse

EXTRACT_RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


@dg.asset(group_name="ingest", kinds={"python", "files"})
def demo_landing_files(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Demo data in the platforms' own file shapes (only for sources in demo mode)."""
    settings = warehouse.load_settings()
    sources = demo_sources(settings)
    if not sources:
        return dg.MaterializeResult(metadata={"status": "no source in demo mode"})
    summary = ensure_demo_data(settings, progress=context.log.info)
    return dg.MaterializeResult(metadata={**summary, "sources": ", ".join(sources)})


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def build_ingest_asset(source: str) -> dg.AssetsDefinition:
    tables = TABLES_BY_SOURCE[source]

    @dg.multi_asset(
        name=f"ingest_{source}",
        specs=[
            dg.AssetSpec(
                raw_asset_key(table.table),
                group_name="ingest",
                kinds={"duckdb", "python"},
                deps=[demo_landing_files],
                description=f"Raw {source} records in the platform's own field names ({table.name}).",
            )
            for table in tables
        ],
        pool=DUCKDB_POOL,
        retry_policy=EXTRACT_RETRY,
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse):
        settings = warehouse.load_settings()
        if not settings.sources[source].enabled:
            # an empty table keeps staging and quality checks working for a source not in use
            with warehouse.connect() as con:
                create_empty_tables(con, source)
            for table in tables:
                yield dg.MaterializeResult(asset_key=raw_asset_key(table.table), metadata={"status": "source disabled"})
            return
        with warehouse.connect() as con:
            run = ingest_source(con, settings, source, progress=context.log.info)
        for report in run.reports:
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(report.table),
                metadata={"mode": run.mode, **report.summary(), "rejected_files": "\n".join(f.error or "" for f in report.rejected)},
            )
        if run.errors:
            # bad files do not get better by retrying; everything good is already loaded
            raise dg.Failure(
                description=f"{source}: {len(run.errors)} problem(s):\n" + "\n".join(run.errors),
                allow_retries=run.api_error is not None,
            )

    return _ingest


INGEST_ASSETS = [build_ingest_asset(source) for source in SOURCES]


def build_quality_check(table_name: str) -> dg.AssetChecksDefinition:
    from ingest.sources import RAW_TABLES

    table = RAW_TABLES[table_name]

    @dg.asset_check(
        asset=raw_asset_key(table.table),
        name="great_expectations_suite",
        blocking=True,
        pool=DUCKDB_POOL,
        description=(
            "On the rows loaded since the last passing check: columns and types, keys unique and not null, "
            "amounts >= 0, ISO currency and country codes, sane timestamps."
        ),
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        from ingest.quality import validate_new_rows

        with warehouse.connect() as con:
            result = validate_new_rows(con, table)
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(result.failures) or f"{len(result.checked)} expectations met",
            metadata={"rows": result.rows, "expectations": len(result.checked), "failures": "\n".join(result.failures)},
        )

    return _check


QUALITY_CHECKS = [build_quality_check(table) for tables in TABLES_BY_SOURCE.values() for table in [t.table for t in tables]]
