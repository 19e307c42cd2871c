"""Versioned churn-model artifacts and the current-model rule (F21), no Dagster.

Layout under the models folder (the pipeline passes ``data/artifacts/models``)::

    <version>/model.joblib     the ChurnModel (estimator, calibrator, features, reference)
    <version>/metrics.json     the backtest report
    <version>/features.json    feature list with kinds and categorical levels
    <version>/manifest.json    version, created_at, training fingerprint, gate result
    registry.jsonl             one line per saved version: version, created_at, passed

``version`` = UTC timestamp + the first 8 hex digits of the training-data fingerprint.
`current_model` returns the newest version whose gate passed, so a new model that fails
the gate leaves the previous good one in charge; the caller can tell from
`latest_model` vs `current_model`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import joblib

from ml.evaluate import GateResult, json_ready
from ml.train import ChurnModel, TrainingResult, training_fingerprint

__all__ = ["ModelVersion", "save_model", "list_models", "latest_model", "current_model", "training_fingerprint"]

MODEL_FILE = "model.joblib"
METRICS_FILE = "metrics.json"
FEATURES_FILE = "features.json"
MANIFEST_FILE = "manifest.json"
INDEX_FILE = "registry.jsonl"


@dataclass
class ModelVersion:
    version: str
    path: Path
    created_at: str
    passed: bool
    fingerprint: str | None
    method: str
    gate: dict

    def load(self) -> ChurnModel:
        return joblib.load(self.path / MODEL_FILE)

    def metrics(self) -> dict:
        return json.loads((self.path / METRICS_FILE).read_text())


def _write_json(path: Path, payload) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(json_ready(payload), indent=2, sort_keys=False, default=str))
    tmp.replace(path)


def save_model(root: Path | str, result: TrainingResult, gate: GateResult, created_at: dt.datetime | None = None) -> ModelVersion:
    """Write a new version folder (atomically: a temp folder renamed at the end) and log it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    created = (created_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    fingerprint = result.model.fingerprint or "nofingerprint"
    base = f"{created:%Y%m%dT%H%M%SZ}-{fingerprint[:8]}"
    version, n = base, 1
    while (root / version).exists():
        n += 1
        version = f"{base}-{n}"
    tmp = root / f".{version}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    manifest = {
        "version": version,
        "created_at": created.isoformat(),
        "method": result.model.method,
        "horizon_days": result.model.horizon_days,
        "training_fingerprint": fingerprint,
        "training_rows": len(result.training_frame),
        "train_snapshots": result.model.train_snapshots,
        "backtest_snapshot": result.model.backtest_snapshot,
        "gate": gate.to_dict(),
        "passed": gate.passed,
    }
    joblib.dump(result.model, tmp / MODEL_FILE, compress=3)
    _write_json(tmp / METRICS_FILE, result.report)
    _write_json(tmp / FEATURES_FILE, {**result.model.spec.to_dict(), "reference": result.model.reference})
    _write_json(tmp / MANIFEST_FILE, manifest)
    tmp.rename(root / version)
    with (root / INDEX_FILE).open("a", encoding="utf-8") as fh:
        fh.write(
            json.dumps(
                {"version": version, "created_at": manifest["created_at"], "passed": gate.passed, "method": manifest["method"]}
            )
            + "\n"
        )
    return _read_version(root / version)


def _read_version(path: Path) -> ModelVersion | None:
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.exists() or not (path / MODEL_FILE).exists():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError:
        return None
    return ModelVersion(
        version=manifest["version"],
        path=path,
        created_at=manifest["created_at"],
        passed=bool(manifest.get("passed")),
        fingerprint=manifest.get("training_fingerprint"),
        method=manifest.get("method", ""),
        gate=manifest.get("gate", {}),
    )


def list_models(root: Path | str) -> list[ModelVersion]:
    """Every complete version folder, oldest first (by created_at, then name)."""
    root = Path(root)
    if not root.exists():
        return []
    versions = [v for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (v := _read_version(p))]
    return sorted(versions, key=lambda v: (v.created_at, v.version))


def latest_model(root: Path | str) -> ModelVersion | None:
    """The newest version, passed or not."""
    versions = list_models(root)
    return versions[-1] if versions else None


def current_model(root: Path | str) -> ModelVersion | None:
    """The newest version that passed the quality gate, or None."""
    passed = [v for v in list_models(root) if v.passed]
    return passed[-1] if passed else None
