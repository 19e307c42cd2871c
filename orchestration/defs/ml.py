"""Churn model assets: train + backtest + gate, then score everyone with the model in charge."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from ml import registry
from ml.evaluate import headline_figures
from ml.features import past_snapshot_count
from ml.pipeline import score_all, train_model, training_reason
from orchestration.defs.dbt import warehouse_models
from orchestration.defs.resources import DUCKDB_POOL, Warehouse

FEATURES = get_asset_key_for_model([warehouse_models], "ml_customer_features")
GATE_CHECK = "quality_gate"


class ChurnModelConfig(dg.Config):
    """Run config of the churn model."""

    force_retrain: bool = False  # train even when the model in charge is younger than retrain_every_days


@dg.asset(
    group_name="ml",
    kinds={"python", "scikitlearn"},
    deps=[FEATURES],
    pool=DUCKDB_POOL,
    check_specs=[dg.AssetCheckSpec(GATE_CHECK, asset="churn_model", blocking=True,
                                   description="Backtest ROC AUC above the floor and above the recency baseline.")],
)
def churn_model(context: dg.AssetExecutionContext, warehouse: Warehouse, config: ChurnModelConfig):
    """Trains on past snapshots, backtests on a later unseen one, and registers the version.

    Runs only when due (no good model yet, the model in charge is `model.retrain_every_days`
    old, the horizon changed, or `force_retrain`); otherwise the model in charge stays and
    the nightly run goes straight to scoring."""
    settings = warehouse.load_settings()
    models_dir = settings.models_dir
    reason = training_reason(settings, forced=config.force_retrain)
    why_not = f"younger than {settings.model.retrain_every_days} days"
    if reason is not None:
        with warehouse.connect(read_only=True) as con:
            past_snapshots = past_snapshot_count(con)
        if past_snapshots == 0:
            # the warehouse step builds the past snapshots only when it finds the model due
            if config.force_retrain or registry.current_model(models_dir) is None:
                raise dg.Failure(
                    f"cannot train ({reason}): the feature mart holds only the scoring snapshot. "
                    "Run `retention run nightly_pipeline --retrain`, which builds the training snapshots."
                )
            why_not = f"due ({reason}), but this run's feature mart was built for scoring only; it trains next run"
            context.log.warning(f"training deferred: {why_not}")
            reason = None
    if reason is None:
        in_charge = registry.current_model(models_dir)
        description = (
            f"model {in_charge.version} (trained {in_charge.created_at}, passed the gate then) stays in charge: "
            f"{why_not}"
        )
        context.log.info(description)
        auc = next((c.get("value") for c in in_charge.gate.get("checks", []) if c.get("name") == "auc_floor"), None)
        metadata = {"retrained": False, "version": in_charge.version, "in_charge": in_charge.version,
                    "trained_at": in_charge.created_at, "roc_auc": auc}
        yield dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})
        yield dg.AssetCheckResult(check_name=GATE_CHECK, passed=True, severity=dg.AssetCheckSeverity.WARN, description=description)
        return
    context.log.info(f"training a new model: {reason}")
    with warehouse.connect() as con:
        outcome = train_model(
            con, models_dir, horizon_days=settings.model.horizon_days,
            max_training_rows=settings.model.max_training_rows, auc_floor=settings.model.auc_floor,
            active_within_days=settings.model.active_within_days,
        )
    metadata = {
        "retrained": True,
        "retrain_reason": reason,
        "version": outcome.trained.version,
        "gate_passed": outcome.gate.passed,
        "in_charge": outcome.in_charge.version if outcome.in_charge else "none",
        # active_*: the customers with an order in the last model.active_within_days (ml.train.active_customers_block)
        **headline_figures(outcome.report),
        "artifacts": dg.MetadataValue.path(str(outcome.trained.path)),
    }
    yield dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})
    if outcome.gate.passed:
        description = "model passed the gate and is in charge"
    elif outcome.using_previous:
        description = f"new model failed ({'; '.join(outcome.gate.reasons)}); scoring keeps the previous good model {outcome.in_charge.version}"
        context.log.warning(description)
    else:
        description = f"new model failed ({'; '.join(outcome.gate.reasons)}) and no earlier model passed: nothing is scored"
    # a failed gate blocks scoring only when there is no earlier good model to fall back to
    yield dg.AssetCheckResult(
        check_name=GATE_CHECK,
        passed=outcome.gate.passed,
        severity=dg.AssetCheckSeverity.WARN if outcome.gate.passed or outcome.using_previous else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={"reasons": "; ".join(outcome.gate.reasons) or "none", "in_charge": outcome.in_charge.version if outcome.in_charge else "none"},
    )


@dg.asset(group_name="ml", kinds={"python", "duckdb"}, deps=[churn_model], pool=DUCKDB_POOL)
def churn_scores(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Churn probability, risk band, P(alive), expected orders, CLV, next order date and reasons per customer."""
    settings = warehouse.load_settings()
    with warehouse.connect() as con:
        outcome = score_all(con, settings.models_dir)
    for note in outcome.notes:
        context.log.info(note)
    drift = outcome.drift or {}
    return dg.MaterializeResult(
        metadata={
            "table": "ml.churn_scores",
            "rows": outcome.rows,
            "model_version": outcome.model_version,
            "snapshot_date": str(outcome.snapshot_date),
            "score_psi": drift.get("psi") if drift.get("psi") is not None else "no previous run",
            "drift_level": drift.get("level", "no_previous_run"),
            **{f"risk_{band}": n for band, n in outcome.risk_bands.items()},
            **{f"seconds_{step}": s for step, s in outcome.seconds.items()},
        }
    )
