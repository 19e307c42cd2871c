"""The short summary the demo command prints: what was built and where to look."""

from __future__ import annotations

from pathlib import Path

import duckdb

from core.settings import Settings, load_settings
from core.warehouse import table_exists, warehouse


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int | None:
    try:
        return con.execute(sql).fetchall()[0][0]
    except duckdb.Error:
        return None


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.rglob(pattern)) if folder.exists() else []


def _auc(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summary_lines(settings: Settings) -> list[str]:
    """Customers, at-risk count, alerts, files written and where everything is."""
    lines = []
    with warehouse(settings, read_only=True) as con:
        customers = _count(con, "select count(*) from marts.dim_customers")
        at_risk = _count(
            con,
            "select count(*) from ml.churn_scores as scores inner join marts.customer_segments as segments using (customer_id) "
            "where scores.risk_band = 'high' and not segments.is_churned",
        )
        churned = _count(con, "select count(*) from marts.customer_segments where is_churned")
        quarantined = _count(con, "select count(*) from raw._quarantine")
        alerts = _count(con, "select count(*) from reports.alert_history where status <> 'resolved'")
        model = []
        if table_exists(con, "ml", "model_runs"):
            # by name: warehouses from before the active-customer columns lack them
            cursor = con.execute("select * from ml.model_runs order by evaluated_at desc limit 1")
            names = [d[0] for d in cursor.description]
            model = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    lines.append(f"Warehouse          {settings.duckdb_path}")
    if customers is not None:
        lines.append(f"Customers          {customers:,} (churned by your churn settings: {churned or 0:,})")
    if at_risk is not None:
        lines.append(f"At risk            {at_risk:,} customers not yet churned with high churn risk")
    if model:
        run = model[0]
        lines.append(
            f"Churn model        {run['model_version']}: backtest ROC AUC {_auc(run['roc_auc'])} "
            f"(BG/NBD {_auc(run['bgnbd_roc_auc'])}), gate {'passed' if run['gate_passed'] else 'FAILED'}"
        )
        if run.get("active_roc_auc") is not None:
            lines.append(
                f"                   on the {run['active_customers']:,} customers with an order in the "
                f"{run['active_within_days']} days before the backtest: {_auc(run['active_roc_auc'])} "
                f"(BG/NBD {_auc(run['active_bgnbd_roc_auc'])})"
            )
    if alerts is not None:
        lines.append(f"Alerts firing      {alerts}")
    if quarantined:
        lines.append(f"Quarantined rows   {quarantined:,} (see raw._quarantine for file, row, field, reason)")
    exports = settings.path(settings.paths.exports_dir)
    audience_files = [p for p in _files(exports, "*.csv") if "/." not in str(p)]
    if audience_files:
        latest = max(p.parent.parent for p in audience_files)
        lines.append(f"Audience files     {len(audience_files)} in {latest} (manifest.json lists rows, checksums, suppressions)")
    outbox = settings.delivery().outbox_dir
    emails = _files(outbox, "*.html")
    if emails:
        lines.append(f"Emails             {len(emails)} in {outbox} (open the .html files in a browser; .eml for mail clients)")
        for path in emails[-3:]:
            lines.append(f"                   {path}")
    parquet = _files(settings.path(settings.paths.parquet_dir), "*.parquet")
    if parquet:
        lines.append(f"Parquet marts      {len(parquet)} files in {settings.path(settings.paths.parquet_dir)}")
    lines.append(f"Model artifacts    {settings.models_dir}")
    lines.append("Dagster UI         make ui, then open http://127.0.0.1:3000 (run history, asset graph, checks)")
    lines.append(f"Query read-only    .venv/bin/python -c \"import duckdb; duckdb.connect('{settings.duckdb_path}', read_only=True)"
                 ".sql('from marts.customer_rfm limit 5').show()\"")
    return lines


def print_summary(result, seconds: float) -> None:
    settings = load_settings()
    status = "succeeded" if result.success else "FAILED"
    print(f"\nPipeline run {result.run_id[:8]} {status} in {seconds:.0f} s")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"  failed step {event.step_key}: {event.event_specific_data.error.message.strip()[:800]}")
    print()
    for line in summary_lines(settings):
        print(line)
