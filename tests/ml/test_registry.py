"""Model registry: versions, gate records, the current model when a new one fails."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from ml import registry
from ml.evaluate import quality_gate
from ml.train import training_fingerprint


def _at(minutes: int) -> dt.datetime:
    return dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)


def _failing(trained):
    report = {**trained.report, "model": {**trained.report["model"], "roc_auc": 0.55}}
    return quality_gate(report, auc_floor=0.70)


def test_saved_version_has_every_artifact(tmp_path, trained):
    gate = quality_gate(trained.report, auc_floor=0.70)
    assert gate.passed
    version = registry.save_model(tmp_path, trained, gate, created_at=_at(0))
    assert version.version.startswith("20261122T030000Z-")
    assert version.version.endswith(trained.model.fingerprint[:8])
    for name in ("model.joblib", "metrics.json", "features.json", "manifest.json"):
        assert (version.path / name).is_file(), name
    manifest = json.loads((version.path / "manifest.json").read_text())
    assert manifest["passed"] is True and manifest["training_fingerprint"] == trained.model.fingerprint
    assert manifest["created_at"].startswith("2026-11-22T03:00:00")
    features = json.loads((version.path / "features.json").read_text())
    assert features["numeric"] == trained.model.spec.numeric
    metrics = version.metrics()
    assert metrics["model"]["roc_auc"] == pytest.approx(trained.report["model"]["roc_auc"])
    loaded = version.load()
    assert loaded.method == trained.model.method and loaded.spec.columns == trained.model.spec.columns
    log = (tmp_path / "registry.jsonl").read_text().splitlines()
    assert json.loads(log[0])["passed"] is True


def test_failed_model_leaves_previous_good_one_current(tmp_path, trained):
    good = registry.save_model(tmp_path, trained, quality_gate(trained.report), created_at=_at(0))
    bad = registry.save_model(tmp_path, trained, _failing(trained), created_at=_at(60))
    assert registry.latest_model(tmp_path).version == bad.version
    assert registry.current_model(tmp_path).version == good.version
    assert not bad.passed and bad.gate["reasons"]
    newer_good = registry.save_model(tmp_path, trained, quality_gate(trained.report), created_at=_at(120))
    assert registry.current_model(tmp_path).version == newer_good.version
    assert [v.version for v in registry.list_models(tmp_path)] == [good.version, bad.version, newer_good.version]
    lines = [json.loads(x) for x in (tmp_path / "registry.jsonl").read_text().splitlines()]
    assert [x["passed"] for x in lines] == [True, False, True]


def test_no_passing_model_means_no_current(tmp_path, trained):
    assert registry.current_model(tmp_path / "missing") is None
    registry.save_model(tmp_path, trained, _failing(trained), created_at=_at(0))
    assert registry.current_model(tmp_path) is None
    assert registry.latest_model(tmp_path) is not None


def test_same_second_versions_do_not_collide_and_partial_folders_are_ignored(tmp_path, trained):
    gate = quality_gate(trained.report)
    a = registry.save_model(tmp_path, trained, gate, created_at=_at(0))
    b = registry.save_model(tmp_path, trained, gate, created_at=_at(0))
    assert a.version != b.version
    (tmp_path / "20991231T000000Z-deadbeef").mkdir()  # an interrupted write: no manifest
    assert registry.current_model(tmp_path).version == b.version


def test_fingerprint_depends_on_rows_and_labels_not_order():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "snapshot_date": pd.to_datetime(["2026-01-01"] * 3),
            "label_churned": [True, False, True],
        }
    )
    fp = training_fingerprint(frame)
    assert fp == training_fingerprint(frame.iloc[::-1])
    flipped = frame.assign(label_churned=[True, True, True])
    assert fp != training_fingerprint(flipped)
    assert fp != training_fingerprint(frame.iloc[:2])
    assert len(fp) == 64


def test_retraining_is_due_only_when_the_model_in_charge_is_old_or_for_another_horizon(tmp_path, trained):
    from ml.pipeline import retraining_due

    horizon = trained.model.horizon_days
    assert retraining_due(tmp_path, retrain_every_days=7, horizon_days=horizon) == "no model has passed the quality gate yet"
    registry.save_model(tmp_path, trained, _failing(trained), created_at=_at(0))
    assert retraining_due(tmp_path, retrain_every_days=7, horizon_days=horizon, now=_at(60)) == "no model has passed the quality gate yet"
    good = registry.save_model(tmp_path, trained, quality_gate(trained.report), created_at=_at(0))
    assert retraining_due(tmp_path, retrain_every_days=7, horizon_days=horizon, now=_at(6 * 24 * 60)) is None
    assert retraining_due(tmp_path, retrain_every_days=7, horizon_days=horizon, now=_at(7 * 24 * 60)) == (
        f"model {good.version} is 7 days old (retrain every 7 days)"
    )
    assert "every run trains" in retraining_due(tmp_path, retrain_every_days=0, horizon_days=horizon, now=_at(1))
    assert f"settings ask for {horizon + 30} days" in retraining_due(tmp_path, retrain_every_days=7, horizon_days=horizon + 30, now=_at(1))
