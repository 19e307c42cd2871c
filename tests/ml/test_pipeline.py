"""ml.pipeline.train_model on a real DuckDB file: model_runs row, registry, odd feature marts."""

from __future__ import annotations

import duckdb

from ml import registry
from ml.pipeline import train_model


def _warehouse(tmp_path, frame):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.register("frame", frame)
    con.execute("create table main.ml_customer_features as select * from frame")
    con.unregister("frame")
    return con


def test_train_model_records_the_run_and_the_active_customer_backtest(tmp_path, synthetic_frame):
    con = _warehouse(tmp_path, synthetic_frame)
    outcome = train_model(con, tmp_path / "models", horizon_days=90, max_training_rows=20_000, auc_floor=0.7, active_within_days=180)
    rows = con.execute("select model_version, gate_passed, roc_auc, recency_roc_auc, bgnbd_roc_auc from ml.model_runs").fetchall()
    stored = con.execute("select active_within_days, active_customers, active_roc_auc, active_bgnbd_roc_auc from ml.model_runs").fetchall()
    con.close()
    assert outcome.gate.passed and registry.current_model(tmp_path / "models").version == outcome.trained.version
    assert rows == [
        (
            outcome.trained.version,
            True,
            outcome.report["model"]["roc_auc"],
            outcome.report["baselines"]["recency"]["roc_auc"],
            outcome.report["baselines"]["bgnbd"]["roc_auc"],
        )
    ]
    active = outcome.report["active_customers"]
    assert stored == [(180, active["rows"], active["model"]["roc_auc"], active["baselines"]["bgnbd"]["roc_auc"])] and active["rows"] > 0


def test_train_model_without_btyd_inputs_records_no_bgnbd_auc(tmp_path, synthetic_frame):
    # a mart without the BTYD inputs has no BG/NBD baseline: the run is still recorded
    con = _warehouse(tmp_path, synthetic_frame.drop(columns=["frequency_btyd", "recency_btyd", "t_btyd"]))
    outcome = train_model(con, tmp_path / "models", horizon_days=90, max_training_rows=20_000, auc_floor=0.7)
    rows = con.execute("select roc_auc, recency_roc_auc, bgnbd_roc_auc from ml.model_runs").fetchall()
    con.close()
    assert outcome.report["baselines"]["bgnbd"] is None
    assert rows == [(outcome.report["model"]["roc_auc"], outcome.report["baselines"]["recency"]["roc_auc"], None)]
    assert outcome.report["active_customers"]["baselines"]["bgnbd"] is None


def test_model_runs_from_before_the_active_customer_columns_gain_them(tmp_path, synthetic_frame):
    con = _warehouse(tmp_path, synthetic_frame)
    con.execute("create schema ml")
    con.execute(
        """
        create table ml.model_runs (
            model_name varchar, model_version varchar, evaluated_at timestamptz, gate_passed boolean,
            gate_failures varchar, roc_auc double, recency_roc_auc double, bgnbd_roc_auc double,
            in_charge_version varchar, score_psi double
        )
        """
    )
    con.execute("insert into ml.model_runs values ('churn_model', 'old', now(), true, null, 0.8, 0.7, 0.75, 'old', null)")
    outcome = train_model(con, tmp_path / "models", horizon_days=90, max_training_rows=20_000, auc_floor=0.7)
    rows = con.execute("select model_version, active_within_days, active_customers from ml.model_runs order by evaluated_at").fetchall()
    con.close()
    assert rows == [("old", None, None), (outcome.trained.version, 365, outcome.report["active_customers"]["rows"])]
