"""Churn model training and backtest (F18), no Dagster.

`train_and_backtest(frame)` takes the whole feature mart (every snapshot) and:

1. Plans snapshots: the latest snapshot with a complete label window is the backtest
   snapshot; the backtest model learns from the complete snapshots whose label window ends
   by the backtest date (so no training label reveals what happened after it). (When there
   is no such snapshot, the latest complete snapshot's customers are split 70/30 by a hash
   of customer_id instead, and the report says so.) After the backtest, the model that
   scores is refitted the same way on every complete snapshot (`scoring_model` in the report).
2. Subsamples training rows above ``max_training_rows`` (and the backtest snapshot above
   the same number) by a hash of (customer_id, snapshot_date), so the result does not
   depend on the order the warehouse returns rows in.
3. Fits BG/NBD + Gamma-Gamma per snapshot on that snapshot's rows (`ml.btyd`) and adds
   P(alive) and expected orders as features.
4. Fits a HistGradientBoostingClassifier on `EncodedHGB` arrays (categoricals as level codes;
   100 rounds at learning rate 0.1, no early stopping, monotonic in the
   features where more can only mean riskier: recency, open complaints and their age,
   returns, quality returns, problem products, delivery days, full price after discounts) with an isotonic calibrator: up to 50k training
   rows the calibrator learns from 3-fold out-of-fold predictions (folds by customer) and
   the model is refitted on every row (CalibratedClassifierCV(ensemble=False) semantics);
   above that, the model is fitted on 80% of the customers and calibrated on the other
   20% (one boosting fit instead of four). Either way a single model predicts, so scoring
   and reasons stay fast at a million customers. Very small training sets use a
   standardized logistic regression instead.
5. Backtests model vs the recency rule (score = days since last order) and BG/NBD
   (score = -expected orders in the horizon): ROC AUC, PR AUC, Brier, top-decile lift and
   a 10-bin calibration table; and the same metrics on the active customers only (an order
   in the ``active_within_days`` before the snapshot, `active_customers_block`).

When no model can be trained (too few rows, one class in the labels), the returned model
is a documented fallback (``method = "fallback:<reason>"``): the BTYD churn probability,
or a recency rule calibrated on the labels when BTYD inputs are missing. The quality gate
rejects fallbacks, so the caller keeps the previous good model.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from ml import evaluate
from ml.features import (
    BTYD_FEATURES,
    DECLARED_FEATURES,
    DECLARED_PATTERNS,
    LABEL_COLUMN,
    WINDOW_COLUMN,
    FeatureFrameError,
    FeatureSpec,
    add_btyd_features,
    add_derived_features,
    btyd_churn_probability,
    check_frame,
    encode_matrix,
    select_features,
    to_matrix,
)
from ml.reasons import healthy_reference, risk_directions

log = logging.getLogger(__name__)

MIN_TRAINING_ROWS = 50
MIN_CLASS_ROWS = 10  # per class, in the training rows
HGB_MIN_ROWS = 2_000  # below this a logistic regression is steadier than boosting
# Calibration: up to CROSSFIT_MAX_ROWS training rows, out-of-fold predictions of
# CALIBRATION_FOLDS models calibrate one model fitted on every row (like
# CalibratedClassifierCV(ensemble=False)); above it, data is plentiful and one fit on 80%
# of the customers with the calibrator on the other 20% saves three boosting fits.
CROSSFIT_MAX_ROWS = 50_000
CALIBRATION_FOLDS = 3
CALIBRATION_SHARE = 0.2
# Domain knowledge the model must respect (churn risk never falls as these grow): it keeps a
# small training set from learning noise, and makes reasons point the right way.
MONOTONIC_FEATURES = {
    "recency_days": 1,
    "open_complaints": 1,
    "returned_last_order": 1,
    "returns_count": 1,
    "last_order_quality_return": 1,
    "quality_returns_count": 1,
    "returned_product_quality_return_rate": 1,
    "last_order_had_problem_product": 1,
    "oldest_open_complaint_days": 1,
    "last_delivery_days": 1,
    "full_price_after_discounts": 1,
    "full_price_after_discounted_orders": 1,
}
MONOTONIC_PATTERNS = {r"^last_delivery_over_\d+d$": 1}

# Below this many rows one OpenMP thread is faster than two: thread start-up and spinning
# dominate, and with parallel test workers or other processes on a 2-core machine extra
# threads only contend.
PARALLEL_MIN_ROWS = 200_000
MIN_CALIBRATION_CLASS_ROWS = 30


def compute_threads(n_rows: int):
    """Context limiting OpenMP/BLAS threads to one for small inputs."""
    return threadpool_limits(limits=1) if n_rows < PARALLEL_MIN_ROWS else nullcontext()


@dataclass
class TrainConfig:
    """Tunables of `train_and_backtest` (defaults match settings.yaml's ``model:``)."""

    horizon_days: int = 90
    max_training_rows: int = 400_000
    model_type: str = "auto"  # "auto" | "hgb" | "logistic"
    calibration: str = "isotonic"  # "isotonic" | "sigmoid" | "none"
    declared_features: tuple[str, ...] = DECLARED_FEATURES
    declared_patterns: tuple[str, ...] = DECLARED_PATTERNS
    use_btyd_features: bool = True
    seed: int = 0
    # a fixed number of boosting rounds, no early stopping: early stopping's random
    # validation split made the model (and its reasons) change with the seed
    hgb_max_iter: int = 100  # at 1M customers 100 x 0.1 backtests like 200 x 0.05 (ROC AUC 0.8703 both), half the trees to predict
    hgb_learning_rate: float = 0.1
    hgb_max_leaf_nodes: int = 31
    hgb_min_samples_leaf: int | None = None  # None: 20..200 by training size
    hgb_l2: float = 1.0
    monotonic: dict[str, int] | None = None  # None: MONOTONIC_FEATURES; {}: no constraints
    hgb_early_stopping: bool = False
    # the backtest is also reported on the customers with an order in the N days before the
    # snapshot (None: not reported); see `active_customers_block`
    active_within_days: int | None = 365


class _SigmoidCalibrator:
    """Platt scaling on the log-odds of the base probability."""

    def __init__(self):
        self.lr = LogisticRegression(C=1e6)

    @staticmethod
    def _logit(p):
        p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p)).reshape(-1, 1)

    def fit(self, p, y):
        self.lr.fit(self._logit(p), y)
        return self

    def predict(self, p):
        return self.lr.predict_proba(self._logit(p))[:, 1]


class EncodedHGB:
    """A HistGradientBoostingClassifier on `encode_matrix` arrays (categoricals as level codes).

    ``predict_proba`` takes the model matrix (DataFrame) or its encoded array. Reasons
    predict about six times per customer; on an encoded array each prediction skips
    sklearn's input conversion. sklearn's native categorical splits would bring that
    back (it re-encodes every input through a ColumnTransformer, over a third of each
    prediction), so the few-level categoricals enter as ordered codes, which the trees
    split like any number. Measured on the demo data: backtest ROC AUC within 0.002 of
    native categorical splits (5k and 40k customers); scoring 1M customers 28 s instead of 34-38 s.
    """

    def __init__(self, estimator: HistGradientBoostingClassifier):
        self.estimator = estimator

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> EncodedHGB:
        self.estimator.set_params(categorical_features=None)
        self.estimator.fit(encode_matrix(X), y)
        return self

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(X if isinstance(X, np.ndarray) else encode_matrix(X))


class BinnedTrees:
    """The trees of a fitted `EncodedHGB`, applied to its binned arrays (one byte per value).

    The model bins every value before it learns, and each split compares a bin to a
    threshold bin exactly as the value would compare to the threshold value. So a
    prediction from binned rows equals `EncodedHGB.predict_proba` bit for bit (a test checks
    this). Reasons use it for their ~7 what-if predictions per customer: at 1M customers a
    binned prediction took 1.1 s against 1.9 s, and the what-if rows they copy are 8 times
    smaller. It uses sklearn's private binning and tree predictors; the test fails when a
    sklearn release changes them.
    """

    def __init__(self, estimator: HistGradientBoostingClassifier):
        if estimator.n_trees_per_iteration_ != 1:
            raise ValueError("BinnedTrees supports binary classifiers only")
        self.estimator = estimator
        self.missing = estimator._bin_mapper.missing_values_bin_idx_

    def bin(self, X: np.ndarray) -> np.ndarray:
        """`encode_matrix` array -> uint8 bins, row-major (what-if rows are copied by row)."""
        return np.ascontiguousarray(self.estimator._bin_mapper.transform(X))

    def bin_value(self, column: int, value: float) -> int:
        """The bin of one encoded value of one column (NaN -> the missing-values bin)."""
        row = np.full((1, self.estimator.n_features_in_), np.nan)
        row[0, column] = value
        return int(self.estimator._bin_mapper.transform(row)[0, column])

    def predict_proba(self, X_binned: np.ndarray) -> np.ndarray:
        """P(class 1) of binned rows: the same sums in the same order as sklearn's predict_proba."""
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        est = self.estimator
        with compute_threads(len(X_binned)):
            n_threads = _openmp_effective_n_threads()
            raw = np.zeros((len(X_binned), 1), dtype=est._baseline_prediction.dtype, order="F")
            raw += est._baseline_prediction
            for predictors in est._predictors:
                raw[:, 0] += predictors[0].predict_binned(X_binned, self.missing, n_threads)
        return est._loss.predict_proba(raw)[:, 1]


class _LogisticModel:
    """Standardized logistic regression on imputed numerics and one-hot categoricals."""

    def __init__(self, spec: FeatureSpec, seed: int = 0):
        self.spec = spec
        self.seed = seed

    def _design(self, X: pd.DataFrame, fit: bool = False) -> np.ndarray:
        parts = []
        num = X[self.spec.numeric].to_numpy(dtype=float) if self.spec.numeric else np.zeros((len(X), 0))
        if fit:
            self.medians_ = np.nan_to_num(np.nanmedian(num, axis=0), nan=0.0) if num.shape[1] else np.zeros(0)
        missing = np.isnan(num)
        num = np.where(missing, self.medians_, num)
        # log1p tames the long tails of counts and days; sign keeps negative values ordered
        num = np.sign(num) * np.log1p(np.abs(num))
        if fit:
            self.mean_ = num.mean(axis=0) if len(num) else np.zeros(num.shape[1])
            self.std_ = num.std(axis=0) if len(num) else np.ones(num.shape[1])
            self.std_[self.std_ == 0] = 1.0
            self.missing_cols_ = np.flatnonzero(missing.any(axis=0))
        parts.append((num - self.mean_) / self.std_)
        parts.append(missing[:, self.missing_cols_].astype(float))
        for col in self.spec.categorical:
            codes = X[col].cat.codes.to_numpy()
            onehot = np.zeros((len(X), len(X[col].cat.categories)))
            ok = codes >= 0
            onehot[np.flatnonzero(ok), codes[ok]] = 1.0
            parts.append(onehot)
        return np.hstack(parts)

    def fit(self, X: pd.DataFrame, y):
        self.lr_ = LogisticRegression(C=1.0, max_iter=1000)
        self.lr_.fit(self._design(X, fit=True), y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.lr_.predict_proba(self._design(X))


@dataclass
class ChurnModel:
    """A trained churn model (or a documented fallback) plus what scoring needs."""

    method: str  # e.g. "hgb+isotonic", "logistic+none", "fallback:btyd(single_class)"
    spec: FeatureSpec
    horizon_days: int
    base: object | None = None  # predict_proba on the model matrix
    calibrator: object | None = None  # maps base probability to calibrated probability
    reference: dict = field(default_factory=dict)  # healthy values for reasons
    directions: dict = field(default_factory=dict)  # risky side of each feature for reasons
    recency_calibrator: IsotonicRegression | None = None  # fallback without BTYD inputs
    use_btyd_features: bool = True
    notes: list[str] = field(default_factory=list)
    train_snapshots: list[str] = field(default_factory=list)
    backtest_snapshot: str | None = None
    fingerprint: str | None = None

    @property
    def is_fallback(self) -> bool:
        return self.base is None

    @property
    def predicts_encoded(self) -> bool:
        """Whether `predict_raw` also takes `encode_matrix` arrays (models trained before it could not)."""
        return isinstance(self.base, EncodedHGB)

    def binned_trees(self) -> BinnedTrees | None:
        """The model's trees on binned arrays, for reasons (None: not a gradient-boosting model)."""
        return BinnedTrees(self.base.estimator) if isinstance(self.base, EncodedHGB) else None

    def predict_raw(self, matrix: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Uncalibrated model probability (used for reasons) of a model matrix or its encoded array."""
        if self.base is None:
            raise ValueError("fallback model: no trained estimator")
        with compute_threads(len(matrix)):
            return self.base.predict_proba(matrix)[:, 1]

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        return np.clip(self.calibrator.predict(raw), 0.0, 1.0) if self.calibrator is not None else raw

    def predict(self, frame: pd.DataFrame) -> Prediction:
        """Churn probability of the rows of ``frame``, with the model input it was computed from.

        ``frame`` must already carry the BTYD feature columns when the model uses them
        (`ml.features.add_btyd_features`). A gradient-boosting model predicts from binned
        arrays (`BinnedTrees`, the same probabilities), which reasons reuse.
        """
        if self.base is None:
            return Prediction(fallback_probability(self, frame))
        matrix = to_matrix(frame, self.spec)
        binned = self.binned_trees()
        if binned is None:
            raw = self.predict_raw(matrix)
            return Prediction(self.calibrate(raw), raw, matrix)
        encoded = encode_matrix(matrix)
        binned_values = binned.bin(encoded)
        raw = binned.predict_proba(binned_values)
        return Prediction(self.calibrate(raw), raw, matrix, encoded, binned_values, binned)


@dataclass
class Prediction:
    """What `ChurnModel.predict` computed."""

    probability: np.ndarray  # calibrated churn probability
    raw: np.ndarray | None = None  # uncalibrated model probability (None: fallback model)
    matrix: pd.DataFrame | None = None  # model input (`to_matrix`)
    encoded: np.ndarray | None = None  # `encode_matrix(matrix)`, when predicted from it
    binned: np.ndarray | None = None  # `BinnedTrees.bin(encoded)`, when predicted from it
    trees: BinnedTrees | None = None  # the trees that binned and predicted them


def recency_score(frame: pd.DataFrame) -> np.ndarray:
    """Days since the last order: ``recency_days``, else ``t_btyd - recency_btyd``."""
    if "recency_days" in frame.columns and frame["recency_days"].notna().any():
        return pd.to_numeric(frame["recency_days"], errors="coerce").to_numpy(float)
    if "t_btyd" in frame.columns and "recency_btyd" in frame.columns:
        t = pd.to_numeric(frame["t_btyd"], errors="coerce").to_numpy(float)
        return t - pd.to_numeric(frame["recency_btyd"], errors="coerce").to_numpy(float)
    return np.full(len(frame), np.nan)


def fallback_probability(model: ChurnModel, frame: pd.DataFrame) -> np.ndarray:
    """Churn probability without a trained model: BTYD if available, else calibrated recency."""
    if "btyd_p_alive" in frame.columns and frame["btyd_p_alive"].notna().any():
        p = btyd_churn_probability(frame["btyd_p_alive"], frame["btyd_p_alive_adjusted"], frame["btyd_expected_orders_horizon"])
        return np.where(np.isfinite(p), p, np.nanmean(p) if np.isfinite(p).any() else 0.5)
    recency = recency_score(frame)
    if model.recency_calibrator is not None and np.isfinite(recency).any():
        filled = np.where(np.isfinite(recency), recency, np.nanmedian(recency))
        return np.clip(model.recency_calibrator.predict(filled), 0.0, 1.0)
    raise FeatureFrameError(
        "cannot score: no trained model, no BTYD inputs (frequency_btyd, recency_btyd, t_btyd) and no recency to fall back on"
    )


@dataclass
class TrainingResult:
    model: ChurnModel
    report: dict  # the backtest report (metrics.json)
    training_frame: pd.DataFrame  # customer_id, snapshot_date, label of the training rows (fingerprint input)


# ---------------------------------------------------------------------------------------
# Snapshot plan and sampling
# ---------------------------------------------------------------------------------------


@dataclass
class SnapshotPlan:
    train: list[pd.Timestamp]  # the backtest model learns from these
    backtest: pd.Timestamp | None
    scoring: pd.Timestamp
    split: str  # "temporal" or "customer_hash"
    complete: list[pd.Timestamp] = field(default_factory=list)  # the scoring model learns from all of these


def plan_snapshots(frame: pd.DataFrame, horizon_days: int = 90) -> SnapshotPlan:
    """Training, backtest and scoring snapshot dates (see the module docstring).

    A training snapshot's label window must end by the backtest snapshot date: otherwise
    its labels (orders in the H days after it) would tell the model what the backtest
    customers did during the backtest window, and the backtest would flatter the model."""
    dates = pd.to_datetime(frame["snapshot_date"])
    scoring = dates.max()
    if WINDOW_COLUMN in frame.columns:
        complete_mask = frame[WINDOW_COLUMN].fillna(False).astype(bool) & frame[LABEL_COLUMN].notna()
    else:
        complete_mask = frame[LABEL_COLUMN].notna()
    complete = sorted(dates[complete_mask].unique())
    if not complete:
        raise FeatureFrameError(
            "no snapshot has a complete label window: the data must span more than the label horizon "
            "before the as-of date (add history or shorten model.horizon_days)"
        )
    complete = [pd.Timestamp(d) for d in complete]
    backtest = complete[-1]
    train = [d for d in complete[:-1] if d + pd.Timedelta(days=horizon_days) <= backtest]
    if not train:
        return SnapshotPlan(train=[backtest], backtest=backtest, scoring=scoring, split="customer_hash", complete=complete)
    return SnapshotPlan(train=train, backtest=backtest, scoring=scoring, split="temporal", complete=complete)


def _customer_hash(ids: pd.Series, seed: int) -> np.ndarray:
    """Uniform [0, 1) per customer, stable across snapshots and runs."""
    h = pd.util.hash_pandas_object(ids.astype("string"), index=False, hash_key=f"churn{seed:08d}"[:16].ljust(16, "0"))
    return (h.to_numpy(dtype=np.uint64) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in (snapshot_date, customer_id) order: the warehouse returns rows in any order,
    and row order feeds sampling and early stopping, so results would differ run to run."""
    key = frame["customer_id"].astype("string")
    order = np.lexsort((key.to_numpy(dtype=object), pd.to_datetime(frame["snapshot_date"]).to_numpy()))
    return frame.iloc[order]


def _sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """``max_rows`` rows chosen by a hash of (customer_id, snapshot_date): independent of row order."""
    if len(frame) <= max_rows:
        return frame
    keys = frame["customer_id"].astype("string") + "|" + pd.to_datetime(frame["snapshot_date"]).dt.strftime("%Y-%m-%d")
    u = _customer_hash(keys, seed)
    keep = np.argsort(u, kind="stable")[:max_rows]
    return frame.iloc[np.sort(keep)]


def training_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the row count and the sorted row hashes of (customer_id, snapshot_date, label)."""
    keys = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("string"),
            "snapshot_date": pd.to_datetime(frame["snapshot_date"]).dt.strftime("%Y-%m-%d"),
            "label": pd.to_numeric(frame[LABEL_COLUMN], errors="coerce").fillna(-1).astype(int),
        }
    )
    hashes = np.sort(pd.util.hash_pandas_object(keys, index=False).to_numpy(dtype=np.uint64))
    digest = hashlib.sha256()
    digest.update(str(len(frame)).encode())
    digest.update(hashes.tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


def _monotonic(spec: FeatureSpec, config: TrainConfig) -> dict[str, int] | None:
    rules = MONOTONIC_FEATURES if config.monotonic is None else config.monotonic
    cst = {col: sign for col, sign in rules.items() if col in spec.numeric}
    if config.monotonic is None:
        cst.update({col: sign for pattern, sign in MONOTONIC_PATTERNS.items() for col in spec.numeric if re.match(pattern, col)})
    return cst or None


def _fit_estimator(X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, config: TrainConfig, model_type: str):
    if model_type == "hgb":
        monotonic = _monotonic(spec, config)
        est = HistGradientBoostingClassifier(
            max_iter=config.hgb_max_iter,
            learning_rate=config.hgb_learning_rate,
            max_leaf_nodes=config.hgb_max_leaf_nodes,
            min_samples_leaf=config.hgb_min_samples_leaf or max(20, min(200, len(X) // 500)),
            l2_regularization=config.hgb_l2,
            monotonic_cst=[monotonic.get(col, 0) for col in X.columns] if monotonic else None,
            early_stopping=config.hgb_early_stopping,
            validation_fraction=0.1,
            n_iter_no_change=20,
            random_state=config.seed,
        )
        return EncodedHGB(est).fit(X, y)
    return _LogisticModel(spec, seed=config.seed).fit(X, y)


def _fit(
    train: pd.DataFrame, config: TrainConfig, notes: list[str]
) -> tuple[object, object | None, FeatureSpec, str, pd.DataFrame]:
    """Fit estimator + calibrator on training rows; returns (base, calibrator, spec, method, matrix)."""
    with compute_threads(len(train)):
        return _fit_inner(train, config, notes)


def _fit_inner(train: pd.DataFrame, config: TrainConfig, notes: list[str]):
    spec = select_features(train, config.declared_features, config.declared_patterns)
    if not spec.columns:
        raise FeatureFrameError("no usable feature columns in the feature frame")
    X = to_matrix(train, spec)
    y = train[LABEL_COLUMN].astype(int).to_numpy()
    model_type = config.model_type
    if model_type == "auto":
        model_type = "hgb" if len(train) >= HGB_MIN_ROWS else "logistic"
        if model_type == "logistic":
            notes.append(f"{len(train)} training rows (< {HGB_MIN_ROWS}): logistic regression instead of gradient boosting.")
    calibration = config.calibration
    if calibration not in ("isotonic", "sigmoid", "none"):
        raise ValueError(f"calibration: expected 'isotonic', 'sigmoid' or 'none', got {calibration!r}")
    u = _customer_hash(train["customer_id"], config.seed + 1)
    crossfit = len(train) <= CROSSFIT_MAX_ROWS
    folds = (
        np.minimum((u * CALIBRATION_FOLDS).astype(int), CALIBRATION_FOLDS - 1)
        if crossfit
        else (u < CALIBRATION_SHARE).astype(int)
    )
    cal_rows = y if crossfit else y[folds == 1]
    if calibration != "none" and min(int(cal_rows.sum()), int(len(cal_rows) - cal_rows.sum())) < MIN_CALIBRATION_CLASS_ROWS:
        notes.append(
            f"calibration skipped: fewer than {MIN_CALIBRATION_CLASS_ROWS} calibration rows of a class; "
            "probabilities come from the model alone."
        )
        calibration = "none"
    if calibration == "none":
        base = _fit_estimator(X, y, spec, config, model_type)
        return base, None, spec, f"{model_type}+none", X
    if crossfit:
        # out-of-fold predictions (folds by customer) calibrate the model fitted on every row
        raw = np.empty(len(y))
        for k in range(CALIBRATION_FOLDS):
            held = folds == k
            if min(int(y[~held].sum()), int((~held).sum() - y[~held].sum())) == 0:
                raw[held] = y[~held].mean()
                continue
            raw[held] = _fit_estimator(X[~held], y[~held], spec, config, model_type).predict_proba(X[held])[:, 1]
        base = _fit_estimator(X, y, spec, config, model_type)
        raw_cal, y_cal = raw, y
        how = f"{model_type} fitted on all {len(y)} rows; {calibration} calibration on {CALIBRATION_FOLDS}-fold out-of-fold predictions (folds by customer)."
    else:
        fit_mask = folds == 0
        base = _fit_estimator(X[fit_mask], y[fit_mask], spec, config, model_type)
        raw_cal, y_cal = base.predict_proba(X[~fit_mask])[:, 1], y[~fit_mask]
        how = f"{model_type} fitted on {int(fit_mask.sum())} rows; {calibration} calibration on {int((~fit_mask).sum())} rows of other customers."
    if calibration == "isotonic":
        calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_cal, y_cal)
    else:
        calibrator = _SigmoidCalibrator().fit(raw_cal, y_cal)
    notes.append(how)
    return base, calibrator, spec, f"{model_type}+{calibration}", X


def _class_problem(y: np.ndarray) -> str | None:
    if len(y) < MIN_TRAINING_ROWS:
        return f"too_few_rows ({len(y)} labelled training rows < {MIN_TRAINING_ROWS})"
    pos = int(y.sum())
    if pos == 0 or pos == len(y):
        return f"single_class (every training label is {int(y[0])})"
    if min(pos, len(y) - pos) < MIN_CLASS_ROWS:
        return f"too_few_of_a_class ({min(pos, len(y) - pos)} rows of the rarer class < {MIN_CLASS_ROWS})"
    return None


def _recency_calibrator(frame: pd.DataFrame) -> IsotonicRegression | None:
    r = recency_score(frame)
    y = frame[LABEL_COLUMN].astype(float).to_numpy()
    ok = np.isfinite(r) & np.isfinite(y)
    if ok.sum() == 0:
        return None
    return IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(r[ok], y[ok])


# ---------------------------------------------------------------------------------------
# The whole thing
# ---------------------------------------------------------------------------------------


def _metrics_block(y, score, probability=None, calibration: bool = False) -> dict:
    block = evaluate.score_metrics(y, score, probability)
    if calibration and probability is not None:
        table = evaluate.calibration_table(y, probability)
        block["calibration"] = table.to_dict(orient="records")
        block["expected_calibration_error"] = evaluate.expected_calibration_error(table)
    return block


def active_customers_block(
    y: np.ndarray,
    probability: np.ndarray,
    recency: np.ndarray,
    bgnbd_expected: np.ndarray | None,
    bgnbd_probability: np.ndarray | None,
    within_days: int,
) -> dict:
    """The backtest restricted to customers with an order in the ``within_days`` before the snapshot.

    The whole backtest ranks every customer who ever ordered, and many of them (43% on the
    demo data) last ordered more than a year before: any score ranks those first, which
    lifts every AUC and hides how well the customers a retention campaign can still keep
    are told apart. This block measures the
    model and both baselines on those customers only. Without recency, or with fewer than
    `MIN_TRAINING_ROWS` such rows or a single class among them, it carries a note instead
    of metrics.
    """
    block: dict = {"within_days": int(within_days), "rows": 0}
    finite = np.isfinite(recency)
    if not finite.any():
        block["note"] = "no recency in the backtest rows: the active customers cannot be told apart"
        return block
    mask = finite & (recency <= within_days)
    ys = y[mask]
    block["rows"] = int(mask.sum())
    block["churn_rate"] = float(ys.mean()) if len(ys) else None
    if len(ys) < MIN_TRAINING_ROWS or ys.min() == ys.max():
        block["note"] = f"{len(ys)} active customers in the backtest, {int(ys.sum())} of them churned: too few for metrics"
        return block
    block["model"] = _metrics_block(ys, probability[mask], probability[mask])
    block["baselines"] = {
        "recency": _metrics_block(ys, recency[mask]),
        "bgnbd": None
        if bgnbd_expected is None
        else _metrics_block(ys, -bgnbd_expected[mask], None if bgnbd_probability is None else bgnbd_probability[mask]),
    }
    for name, base_block in block["baselines"].items():
        if base_block is not None:
            block[f"auc_minus_{name}"] = block["model"]["roc_auc"] - base_block["roc_auc"]
    return block


def _train_model(train: pd.DataFrame, config: TrainConfig, declared: tuple[str, ...], notes: list[str]) -> ChurnModel:
    """Fit the churn model (or the documented fallback) on prepared training rows."""
    y_train = train[LABEL_COLUMN].astype(int).to_numpy()
    problem = _class_problem(y_train)
    cfg = TrainConfig(**{**config.__dict__, "declared_features": declared})
    if problem is None:
        base, calibrator, spec, method, X_train = _fit(train, cfg, notes)
        reference = healthy_reference(X_train, y_train, spec)
        with compute_threads(0):
            directions = risk_directions(lambda m: base.predict_proba(m)[:, 1], X_train, spec, reference, seed=config.seed)
        model = ChurnModel(
            method=method,
            spec=spec,
            horizon_days=config.horizon_days,
            base=base,
            calibrator=calibrator,
            reference=reference,
            directions=directions,
            use_btyd_features=config.use_btyd_features,
        )
    else:
        has_btyd = "btyd_p_alive" in train.columns and train["btyd_p_alive"].notna().any()
        kind = "btyd" if has_btyd else "recency"
        notes.append(
            f"no churn model trained ({problem}); scores fall back to "
            + ("the BG/NBD churn probability." if has_btyd else "the recency rule calibrated on the labels.")
        )
        model = ChurnModel(
            method=f"fallback:{kind}({problem.split(' ')[0]})",
            spec=select_features(train, declared, config.declared_patterns),
            horizon_days=config.horizon_days,
            recency_calibrator=None if has_btyd else _recency_calibrator(train),
            use_btyd_features=config.use_btyd_features,
        )
    return model


def train_and_backtest(frame: pd.DataFrame, config: TrainConfig | None = None) -> TrainingResult:
    """Train on the complete snapshots but the latest, backtest on that one, vs baselines."""
    config = config or TrainConfig()
    t0 = time.perf_counter()
    check_frame(frame, need_labels=True)
    plan = plan_snapshots(frame, config.horizon_days)
    notes: list[str] = []
    dates = pd.to_datetime(frame["snapshot_date"])
    labelled = frame[LABEL_COLUMN].notna()
    if WINDOW_COLUMN in frame.columns:
        labelled &= frame[WINDOW_COLUMN].fillna(False).astype(bool)
    else:
        notes.append(f"{WINDOW_COLUMN} missing: every row with a label counts as complete.")

    if plan.split == "temporal":
        train = _canonical(frame[labelled & dates.isin(plan.train)])
        backtest = _canonical(frame[labelled & (dates == plan.backtest)])
    else:
        rows = _canonical(frame[labelled & (dates == plan.backtest)])
        holdout = _customer_hash(rows["customer_id"], config.seed) < 0.3
        train, backtest = rows[~holdout], rows[holdout]
        notes.append(
            f"no complete snapshot is {config.horizon_days}+ days before the latest complete one: the backtest "
            "uses 30% of the latest complete snapshot's customers (by a hash of customer_id), not a later snapshot."
        )
    if len(train) > config.max_training_rows:
        notes.append(f"training rows subsampled: {config.max_training_rows} of {len(train)}.")
        train = _sample(train, config.max_training_rows, config.seed)
    if len(backtest) > config.max_training_rows:
        notes.append(f"backtest rows subsampled: {config.max_training_rows} of {len(backtest)}.")
        backtest = _sample(backtest, config.max_training_rows, config.seed + 7)

    train, backtest = add_derived_features(train), add_derived_features(backtest)
    # BTYD per snapshot, each fit on the rows of its own snapshot
    t_btyd = time.perf_counter()
    btyd_infos = []
    if config.use_btyd_features:
        train, infos_train, _ = add_btyd_features(train, config.horizon_days, seed=config.seed)
        backtest, infos_bt, _ = add_btyd_features(backtest, config.horizon_days, seed=config.seed)
        btyd_infos = [i.to_dict() for i in infos_train] + [{**i.to_dict(), "backtest": True} for i in infos_bt]
    t_btyd = time.perf_counter() - t_btyd
    declared = (
        config.declared_features
        if config.use_btyd_features
        else tuple(c for c in config.declared_features if c not in BTYD_FEATURES)
    )

    y_train = train[LABEL_COLUMN].astype(int).to_numpy()
    y_bt = backtest[LABEL_COLUMN].astype(int).to_numpy()
    t_fit = time.perf_counter()
    model = _train_model(train, config, declared, notes)
    t_fit = time.perf_counter() - t_fit

    # ---- backtest -------------------------------------------------------------------------
    t_eval = time.perf_counter()
    p_bt = model.predict(backtest).probability
    recency = recency_score(backtest)
    report: dict = {
        "method": model.method,
        "horizon_days": config.horizon_days,
        "split": plan.split,
        "train_snapshots": [d.date().isoformat() for d in plan.train],
        "backtest_snapshot": plan.backtest.date().isoformat() if plan.backtest is not None else None,
        "scoring_snapshot": plan.scoring.date().isoformat(),
        "train_rows": len(train),
        "train_churn_rate": float(y_train.mean()) if len(y_train) else None,
        "backtest_rows": len(backtest),
        "model": _metrics_block(y_bt, p_bt, p_bt, calibration=True),
        "baselines": {
            "recency": _metrics_block(y_bt, recency) if np.isfinite(recency).any() else None,
            "bgnbd": None,
        },
    }
    expected = p_bg = None
    if "btyd_p_alive" in backtest.columns and backtest["btyd_p_alive"].notna().any():
        expected = backtest["btyd_expected_orders_horizon"].to_numpy(float)
        p_bg = btyd_churn_probability(backtest["btyd_p_alive"], backtest["btyd_p_alive_adjusted"], expected)
        report["baselines"]["bgnbd"] = _metrics_block(y_bt, -expected, p_bg)
        report["baselines"]["bgnbd"]["brier_note"] = (
            "Brier of P(no order) = 1 - P_adj(alive) * (1 - exp(-E[orders | alive])), an approximation"
        )
    if len(y_bt) and y_bt.min() == y_bt.max():
        notes.append("the backtest labels hold a single class: ROC/PR AUC are undefined and the gate fails.")
    model_auc = report["model"]["roc_auc"]
    for name in ("recency", "bgnbd"):
        base_block = report["baselines"][name]
        if base_block is not None:
            report[f"auc_minus_{name}"] = model_auc - base_block["roc_auc"]
    if config.active_within_days is not None:
        report["active_customers"] = active_customers_block(y_bt, p_bt, recency, expected, p_bg, config.active_within_days)
    t_eval = time.perf_counter() - t_eval

    # ---- the scoring model: the same procedure on every complete snapshot -------------------
    # The backtest measured a model that never saw the backtest period; the model that scores
    # today learns from everything whose outcome is known, the most recent behaviour included.
    t_refit = time.perf_counter()
    refit_rows = len(train)
    if not model.method.startswith("fallback"):
        final = _canonical(frame[labelled & dates.isin(plan.complete)])
        if len(final) > config.max_training_rows:
            final = _sample(final, config.max_training_rows, config.seed + 13)
        final = add_derived_features(final)
        if config.use_btyd_features:
            final, _, _ = add_btyd_features(final, config.horizon_days, seed=config.seed)
        scoring_model = _train_model(final, config, declared, [])
        if not scoring_model.method.startswith("fallback"):
            model, train, refit_rows = scoring_model, final, len(final)
    report["scoring_model"] = {
        "snapshots": sorted({pd.Timestamp(d).date().isoformat() for d in pd.to_datetime(train["snapshot_date"])}),
        "rows": refit_rows,
    }
    t_refit = time.perf_counter() - t_refit

    report["features"] = model.spec.to_dict()
    report["btyd"] = btyd_infos
    report["notes"] = notes
    report["timings_seconds"] = {
        "btyd_features": round(t_btyd, 2),
        "fit": round(t_fit, 2),
        "backtest": round(t_eval, 2),
        "refit_for_scoring": round(t_refit, 2),
        "total": round(time.perf_counter() - t0, 2),
    }
    model.notes = notes
    model.train_snapshots = report["scoring_model"]["snapshots"]
    model.backtest_snapshot = report["backtest_snapshot"]
    keys = train[["customer_id", "snapshot_date", LABEL_COLUMN]]
    model.fingerprint = training_fingerprint(keys)
    report["training_fingerprint"] = model.fingerprint
    return TrainingResult(model=model, report=evaluate.json_ready(report), training_frame=keys)
