"""Backtest metrics, the quality gate and score drift (F18, F21), no Dagster.

Metrics treat ``label = 1`` as churned and higher scores as riskier. Scores that are not
probabilities (the recency rule) get ranking metrics only; Brier and calibration need
probabilities.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

CALIBRATION_BINS = 10
PSI_BINS = 10
# Conventional PSI reading: < 0.1 no real change, 0.1-0.25 moderate, > 0.25 significant.
PSI_MODERATE = 0.10
PSI_SIGNIFICANT = 0.25


def _clean(y, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length ({len(y)} vs {len(s)})")
    keep = np.isfinite(y) & np.isfinite(s)
    return y[keep].astype(int), s[keep]


def _two_classes(y: np.ndarray) -> bool:
    return len(y) > 0 and 0 < int(y.sum()) < len(y)


def roc_auc(y, score) -> float:
    """ROC AUC; NaN when the labels hold a single class (undefined, not an error)."""
    y, s = _clean(y, score)
    return float(roc_auc_score(y, s)) if _two_classes(y) else float("nan")


def pr_auc(y, score) -> float:
    """Average precision (area under the precision-recall curve); NaN with a single class."""
    y, s = _clean(y, score)
    return float(average_precision_score(y, s)) if _two_classes(y) else float("nan")


def brier(y, probability) -> float:
    """Mean squared error of a probability against the 0/1 label."""
    y, p = _clean(y, probability)
    if len(y) == 0:
        return float("nan")
    return float(brier_score_loss(y, np.clip(p, 0.0, 1.0)))


def lift_at(y, score, share: float = 0.10) -> float:
    """Churn rate among the top ``share`` by score divided by the overall churn rate.

    Ties at the cut are broken by order of appearance (stable sort), so a score with many
    ties (recency in days) gets the lift of an arbitrary slice of the tied block.
    """
    y, s = _clean(y, score)
    if len(y) == 0 or y.sum() == 0:
        return float("nan")
    k = max(1, math.ceil(share * len(y)))
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].mean() / y.mean())


def calibration_table(y, probability, bins: int = CALIBRATION_BINS, strategy: str = "quantile") -> pd.DataFrame:
    """Mean predicted probability vs observed churn rate per bin.

    ``strategy="quantile"``: (up to) ``bins`` equal-count bins of the predicted probability
    (tied edges merge); ``"uniform"``: equal-width bins on [0, 1]. Columns: bin, lower,
    upper, n, mean_predicted, observed_rate. ``n`` sums to the number of scored rows.
    """
    y, p = _clean(y, probability)
    p = np.clip(p, 0.0, 1.0)
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1))) if len(p) else np.array([0.0, 1.0])
        if len(edges) < 2:
            edges = np.array([edges[0], edges[0]])
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    else:
        raise ValueError(f"strategy: expected 'quantile' or 'uniform', got {strategy!r}")
    inner = edges[1:-1]
    idx = np.searchsorted(inner, p, side="right")  # bin i holds edges[i] <= p < edges[i+1]
    n_bins = len(edges) - 1
    counts = np.bincount(idx, minlength=n_bins)
    pred_sum = np.bincount(idx, weights=p, minlength=n_bins)
    obs_sum = np.bincount(idx, weights=y, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "bin": np.arange(1, n_bins + 1),
                "lower": edges[:-1],
                "upper": edges[1:],
                "n": counts.astype(int),
                "mean_predicted": np.where(counts > 0, pred_sum / np.maximum(counts, 1), np.nan),
                "observed_rate": np.where(counts > 0, obs_sum / np.maximum(counts, 1), np.nan),
            }
        )
    return table


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Count-weighted mean |mean_predicted - observed_rate| over the calibration bins."""
    t = table[table["n"] > 0]
    if t.empty:
        return float("nan")
    return float(np.average(np.abs(t["mean_predicted"] - t["observed_rate"]), weights=t["n"]))


def score_metrics(y, score, probability=None) -> dict:
    """ROC AUC, PR AUC, top-decile lift for a ranking score; Brier when a probability is given."""
    y_arr, s_arr = _clean(y, score)
    out = {
        "rows": len(y_arr),
        "churn_rate": float(y_arr.mean()) if len(y_arr) else float("nan"),
        "roc_auc": roc_auc(y_arr, s_arr),
        "pr_auc": pr_auc(y_arr, s_arr),
        "lift_top_decile": lift_at(y_arr, s_arr, 0.10),
        "brier": brier(y, probability) if probability is not None else None,
    }
    return out


def json_ready(value):
    """NaN/inf -> None, numpy scalars -> Python, recursively (for metrics.json)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def headline_figures(report: dict) -> dict:
    """A backtest report's headline numbers, flat, None where missing (a baseline that could
    not be computed, an active-customer block with too few rows): what ``ml.model_runs``, the
    ``churn_model`` metadata and the benchmark record."""

    def get(*path):
        value = report
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return {
        "roc_auc": get("model", "roc_auc"),
        "pr_auc": get("model", "pr_auc"),
        "brier": get("model", "brier"),
        "top_decile_lift": get("model", "lift_top_decile"),
        "recency_roc_auc": get("baselines", "recency", "roc_auc"),
        "bgnbd_roc_auc": get("baselines", "bgnbd", "roc_auc"),
        "active_within_days": get("active_customers", "within_days"),
        "active_customers": get("active_customers", "rows"),
        "active_roc_auc": get("active_customers", "model", "roc_auc"),
        "active_bgnbd_roc_auc": get("active_customers", "baselines", "bgnbd", "roc_auc"),
    }


# ---------------------------------------------------------------------------------------
# Quality gate
# ---------------------------------------------------------------------------------------


@dataclass
class GateCheck:
    name: str
    passed: bool
    value: float | None
    threshold: float | None
    message: str


@dataclass
class GateResult:
    """Whether a model may publish scores, and every check behind the decision."""

    passed: bool
    checks: list[GateCheck] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [c.message for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        return json_ready({"passed": self.passed, "checks": [asdict(c) for c in self.checks], "reasons": self.reasons})


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def quality_gate(report: dict, auc_floor: float = 0.70, min_margin_over_recency: float = 0.0) -> GateResult:
    """Pass when the model was trained, its backtest ROC AUC >= ``auc_floor`` and it beats
    the recency rule by more than ``min_margin_over_recency``.

    ``report`` is the backtest report of `ml.train.train_and_backtest` (keys ``method``,
    ``model`` and ``baselines.recency`` with ``roc_auc``). A missing or NaN AUC (single
    class in the backtest labels, no model) fails the gate.
    """
    checks: list[GateCheck] = []
    method = str(report.get("method", ""))
    trained = not method.startswith("fallback")
    checks.append(
        GateCheck(
            "model_trained",
            trained,
            None,
            None,
            "a churn model was trained" if trained else f"no churn model was trained ({method})",
        )
    )
    model_auc = _num((report.get("model") or {}).get("roc_auc"))
    recency_auc = _num(((report.get("baselines") or {}).get("recency") or {}).get("roc_auc"))
    ok_floor = math.isfinite(model_auc) and model_auc >= auc_floor
    checks.append(
        GateCheck(
            "auc_floor",
            ok_floor,
            None if not math.isfinite(model_auc) else model_auc,
            auc_floor,
            f"backtest ROC AUC {model_auc:.3f} {'>=' if ok_floor else '<'} floor {auc_floor:.3f}"
            if math.isfinite(model_auc)
            else "backtest ROC AUC is undefined (no model or a single class in the backtest labels)",
        )
    )
    if math.isfinite(recency_auc):
        ok_recency = math.isfinite(model_auc) and model_auc > recency_auc + min_margin_over_recency
        message = f"backtest ROC AUC {model_auc:.3f} vs recency rule {recency_auc:.3f}" + (
            "" if ok_recency else ": does not beat the recency baseline"
        )
    else:
        ok_recency = False
        message = "recency baseline AUC is undefined: the model cannot be shown to beat it"
    checks.append(GateCheck("beats_recency", ok_recency, None if not math.isfinite(recency_auc) else recency_auc, None, message))
    return GateResult(passed=all(c.passed for c in checks), checks=checks)


# ---------------------------------------------------------------------------------------
# Drift
# ---------------------------------------------------------------------------------------


def psi(prev, new, bins: int = PSI_BINS, eps: float = 1e-4) -> float:
    """Population stability index of ``new`` against ``prev`` (e.g. churn probabilities).

    Bins are the deciles of ``prev`` (tied edges merge; if ``prev`` is constant, ``bins``
    equal-width bins over the range of both); empty bins count as ``eps`` so the log stays
    finite. PSI = sum((new% - prev%) * ln(new% / prev%)); 0 means identical distributions.
    """
    a = np.asarray(prev, dtype=float)
    b = np.asarray(new, dtype=float)
    a = a[np.isfinite(a)]
    b = b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        raise ValueError("psi: both score sets need at least one finite value")
    edges = np.unique(np.quantile(a, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        lo, hi = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
        edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo, lo])
    inner = edges[1:-1]
    n_bins = len(inner) + 1
    pa = np.bincount(np.searchsorted(inner, a, side="right"), minlength=n_bins) / len(a)
    pb = np.bincount(np.searchsorted(inner, b, side="right"), minlength=n_bins) / len(b)
    pa = np.maximum(pa, eps)
    pb = np.maximum(pb, eps)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def psi_level(value: float) -> str:
    """'stable', 'moderate' or 'significant' by the conventional PSI cut-offs."""
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value < PSI_SIGNIFICANT else "significant"


def score_drift(prev, new, bins: int = PSI_BINS) -> dict:
    """PSI of the new score distribution against the previous run's, with its reading."""
    if prev is None or len(prev) == 0:
        return {"psi": None, "level": "no_previous_run", "previous_rows": 0, "rows": int(len(new))}
    value = psi(prev, new, bins=bins)
    return {"psi": value, "level": psi_level(value), "previous_rows": int(len(prev)), "rows": int(len(new))}
