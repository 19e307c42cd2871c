"""Per-customer churn reasons (F20), no Dagster.

How a reason is found
---------------------
1. The model's inputs are grouped into *reason groups*: features that describe one thing
   (the last delivery's days and its over-N-days flag; returned last order and returns
   count; ...). Each group has a cause category.
2. Each feature has a *healthy reference* (the training median among customers who did
   not churn; the most common level for categories) and a *risky side*, asked of the
   model by partial dependence (`risk_directions`): a delivery longer than the healthy
   median is risky, a shorter one is not.
3. For each group, the customers with a value on its risky side get the whole group set
   to the healthy references and are re-scored in one batch prediction (only the rows
   that change). The drop in predicted churn probability is that group's contribution.
   A gradient-boosting model re-scores from binned rows (`ml.train.BinnedTrees`): the
   same probabilities, bit for bit, in about half the time.
4. Lifecycle groups are measured on the customer as is. Cause groups are measured in the
   *active context*: with the state groups (inactivity: days since the last order, BG/NBD's
   P(alive), ...; web_inactivity: days since the last web session, sessions in the last 90
   days) already set to healthy values. A long silence pushes the probability to ~1
   whatever else is true, which would hide the late delivery or the unresolved complaint
   that started it.
5. The (up to) three reasons are the largest positive contributions, with actionable causes
   (price, delivery, returns, complaints, engagement) of at least `CAUSE_PRIORITY_IMPACT`
   (2 points) ranked before lifecycle and region: the silence is the symptom, the cause is
   what a seller can act on (`top_reasons`, ``causes_first=False`` for pure ordering).
   Contributions under `MIN_IMPACT` (0.5 points) are not reasons.

Each reason carries a human-readable detail built from the customer's own values ("last
delivery took 27 days"). Missing values are left missing (no delivery data, no delivery
reason). Contributions use the uncalibrated model probability: isotonic calibration is a
step function and would flatten small differences.

Feature -> cause map (`REASON_GROUPS`; `cause_for_feature` for any other feature):

| cause | reason groups (features) |
|---|---|
| price | discount_dependence (full price after discounts, discount share, last order had a discount) |
| logistics | slow_delivery (last delivery days, over-N-days flag); region (context, not ranked first) |
| product_quality | returns (returned last order, returns count, last order returned for a quality reason, quality returns count, quality-return rate of the returned product across all customers, last order had a problem product) |
| service | complaints (open unresolved complaints, ticket count, days the oldest open complaint has waited) |
| engagement | email_engagement (sends/opens/clicks last N days vs the N before, trends, unsubscribed); web_activity (sessions, add-to-cart, abandoned carts) |
| lifecycle | inactivity (recency, gap ratio, recent order counts, BTYD P(alive) and expected orders); web_inactivity (days since the last web session, sessions in the last 90 days: signs of life, a state like recency); purchase_history (frequency, tenure, monetary, AOV, intervals, platforms); category |

A feature in no group gets its cause from its name (delivery/shipping -> logistics,
discount/coupon -> price, return/refund -> product_quality, complaint/ticket -> service,
email/web/cart -> engagement, else lifecycle) and a group of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ml.features import FeatureSpec, decode_matrix, encode_matrix

CAUSES = ("price", "logistics", "product_quality", "service", "engagement", "lifecycle")
TOP_K = 3
# Contributions below this (probability points) are noise, not reasons.
MIN_IMPACT = 0.005
# A cause (price, logistics, ...) with at least this contribution ranks before lifecycle.
CAUSE_PRIORITY_IMPACT = 0.02


@dataclass(frozen=True)
class ReasonGroup:
    name: str
    cause: str
    columns: tuple[str, ...]  # features perturbed together (the ones the model uses)
    patterns: tuple[str, ...] = ()  # further features by name pattern (configurable windows)
    state: bool = False  # describes how long the customer has been silent (see module docstring)
    priority: bool = True  # an actionable cause that ranks before lifecycle (see top_reasons)

    def matches(self, column: str) -> bool:
        return column in self.columns or any(re.match(p, column) for p in self.patterns)


REASON_GROUPS: tuple[ReasonGroup, ...] = (
    ReasonGroup("slow_delivery", "logistics", ("last_delivery_days",), (r"^last_delivery_over_\d+d$",)),
    # where the customer lives is context, not something to fix: ranked with lifecycle
    ReasonGroup("region", "logistics", ("region",), priority=False),
    ReasonGroup(
        "discount_dependence",
        "price",
        ("full_price_after_discounts", "full_price_after_discounted_orders", "discount_share", "last_order_had_discount"),
    ),
    ReasonGroup(
        "returns",
        "product_quality",
        (
            "returned_last_order",
            "returns_count",
            "last_order_quality_return",
            "quality_returns_count",
            "returned_product_quality_return_rate",
            "last_order_had_problem_product",
        ),
    ),
    ReasonGroup("complaints", "service", ("open_complaints", "ticket_count", "oldest_open_complaint_days")),
    ReasonGroup(
        "email_engagement",
        "engagement",
        ("email_open_trend", "email_engagement_trend", "email_open_rate_before_last_order", "is_unsubscribed"),
        (r"^email_(sends|opens|clicks)_(last|prior)_\d+d$",),
    ),
    ReasonGroup("web_activity", "engagement", ("web_sessions_last_30d", "add_to_cart_last_30d", "abandoned_carts")),
    ReasonGroup(
        "inactivity",
        "lifecycle",
        (
            "recency_days",
            "gap_ratio",
            "orders_last_90d",
            "orders_last_180d",
            "orders_last_365d",
            "recency_btyd",
            "btyd_p_alive",
            "btyd_p_alive_adjusted",
            "btyd_expected_orders_horizon",
            "btyd_expected_orders_365d",
        ),
        state=True,
    ),
    # signs of life on the shop's site: a customer who left stops visiting, whatever made
    # them leave, so like the time since the last order this is a state (the symptom), set
    # to healthy values before a cause is measured
    ReasonGroup("web_inactivity", "lifecycle", ("days_since_last_web_session", "web_sessions_last_90d"), state=True),
    ReasonGroup(
        "purchase_history",
        "lifecycle",
        (
            "frequency",
            "frequency_btyd",
            "t_btyd",
            "tenure_days",
            "monetary",
            "monetary_btyd",
            "average_order_value",
            "mean_interval_days",
            "median_interval_days",
            "platform_count",
        ),
    ),
    ReasonGroup("category", "lifecycle", ("dominant_category_type",)),
)

FEATURE_CAUSES: dict[str, str] = {col: group.cause for group in REASON_GROUPS for col in group.columns}

_CAUSE_PATTERNS = (
    ("logistics", r"deliver|ship|transit|carrier|region|country"),
    ("price", r"discount|coupon|promo|price"),
    ("product_quality", r"return|refund|quality|defect"),
    ("service", r"complain|ticket|support|service"),
    ("engagement", r"email|unsubscri|open|click|web|session|cart|view|sms"),
)


def cause_for_feature(name: str) -> str:
    """The cause category of a feature: the documented map, else by name, else lifecycle."""
    for group in REASON_GROUPS:
        if group.matches(name):
            return group.cause
    for cause, pattern in _CAUSE_PATTERNS:
        if re.search(pattern, name):
            return cause
    return "lifecycle"


def resolve_groups(spec: FeatureSpec) -> list[ReasonGroup]:
    """The reason groups over the model's actual features (empty groups dropped)."""
    groups: list[ReasonGroup] = []
    seen: set[str] = set()
    for group in REASON_GROUPS:
        cols = tuple(c for c in spec.columns if group.matches(c) and c not in seen)
        if cols:
            groups.append(ReasonGroup(group.name, group.cause, cols, state=group.state, priority=group.priority))
            seen.update(cols)
    for col in spec.columns:
        if col not in seen:
            groups.append(ReasonGroup(col, cause_for_feature(col), (col,)))
    return groups


def healthy_reference(matrix: pd.DataFrame, labels, spec: FeatureSpec) -> dict[str, object]:
    """Per feature: the median among non-churners (most common level for categoricals).

    Falls back to all rows when no non-churner is present.
    """
    y = np.asarray(labels, dtype=float)
    healthy = matrix[y == 0] if np.any(y == 0) else matrix
    ref: dict[str, object] = {}
    for col in spec.numeric:
        values = pd.to_numeric(healthy[col], errors="coerce")
        med = values.median()
        ref[col] = float(med) if pd.notna(med) else None
    for col in spec.categorical:
        counts = healthy[col].value_counts(dropna=True)
        ref[col] = str(counts.index[0]) if len(counts) and counts.iloc[0] > 0 else None
    return ref


def risk_directions(
    predict: Callable[[pd.DataFrame], np.ndarray],
    matrix: pd.DataFrame,
    spec: FeatureSpec,
    reference: dict[str, object],
    sample_rows: int = 2000,
    seed: int = 0,
    min_effect: float = 1e-4,
) -> dict:
    """Which side of the healthy reference is the risky one, according to the model.

    Partial dependence on a sample of training rows: numeric features get +1 when setting
    every sampled row to the feature's 90th percentile raises the mean predicted churn
    probability over setting it to the 10th percentile, -1 when it lowers it, 0 when
    neither (then either side may be a reason). Categorical features get the list of levels
    whose mean prediction exceeds the reference level's. Asking the model rather than the
    raw label keeps confounded features right (discount seekers are mostly repeat buyers,
    who churn less overall, yet paying full price raises *their* risk). A customer's value
    only counts as a reason when it is on the risky side, so a short delivery is never
    blamed for churn.
    """
    n = len(matrix)
    rng = np.random.default_rng(seed)
    sample = matrix.iloc[np.sort(rng.choice(n, size=min(n, sample_rows), replace=False))] if n else matrix
    out: dict[str, object] = {}
    for col in spec.numeric:
        values = pd.to_numeric(matrix[col], errors="coerce").dropna()
        if values.empty:
            out[col] = 0
            continue
        lo, hi = np.quantile(values, [0.1, 0.9])
        if lo == hi:
            lo, hi = float(values.min()), float(values.max())
        if lo == hi:
            out[col] = 0
            continue
        dtype = sample[col].dtype
        p_lo = predict(sample.assign(**{col: np.full(len(sample), lo, dtype=dtype)})).mean()
        p_hi = predict(sample.assign(**{col: np.full(len(sample), hi, dtype=dtype)})).mean()
        effect = p_hi - p_lo
        out[col] = 0 if abs(effect) < min_effect else int(np.sign(effect))
    for col in spec.categorical:
        levels = list(sample[col].cat.categories)
        ref = reference.get(col)
        if ref not in levels:
            out[col] = []
            continue
        means = {}
        for level in levels:
            forced = pd.Categorical(np.full(len(sample), level, dtype=object), dtype=sample[col].dtype)
            means[level] = predict(sample.assign(**{col: forced})).mean()
        out[col] = [str(level) for level in levels if means[level] > means[ref] + min_effect]
    return out


class _Columns:
    """Where each model-matrix column sits in its `encode_matrix` array, and how values encode."""

    def __init__(self, matrix: pd.DataFrame):
        self.position = {col: j for j, col in enumerate(matrix.columns)}
        self.levels = {
            col: list(matrix[col].cat.categories)
            for col in matrix.columns
            if isinstance(matrix[col].dtype, pd.CategoricalDtype)
        }
        self.dtypes = {col: matrix[col].dtype for col in matrix.columns if col not in self.levels}

    def code(self, col: str, value) -> float | None:
        """``value`` as stored in the array: a level's code (None when not a level), or the
        number rounded through the column's dtype (so float32 columns compare as before)."""
        if col in self.levels:
            return float(self.levels[col].index(value)) if value in self.levels[col] else None
        return float(np.asarray(value, dtype=self.dtypes[col]))


def _risky_rows(
    X: np.ndarray, columns: _Columns, cols: tuple[str, ...], reference: dict[str, object], directions: dict | None = None
) -> np.ndarray | None:
    """The rows of ``X`` (an `encode_matrix` array) with any value of ``cols`` on its risky side, or None.

    Features the model is indifferent to (direction 0) only count when no feature of the
    group has a direction.
    """
    directions = directions or {}
    usable = [c for c in cols if reference.get(c) is not None]
    directed = [c for c in usable if directions.get(c) not in (0, None)]
    triggers = directed or usable
    changed = np.zeros(len(X), dtype=bool)
    for col in triggers:
        value = columns.code(col, reference[col])
        if value is None:
            continue
        arr = X[:, columns.position[col]]
        direction = directions.get(col, 0)
        if col in columns.levels:
            mask = ~np.isnan(arr) & (arr != value)
            if isinstance(direction, list):
                risky = [columns.code(col, level) for level in direction]
                mask &= np.isin(arr, [code for code in risky if code is not None])
        elif direction > 0:
            mask = arr > value
        elif direction < 0:
            mask = arr < value
        else:
            mask = ~np.isnan(arr) & (arr != value)
        changed |= mask
    return np.flatnonzero(changed) if changed.any() else None


class _WhatIf:
    """The arrays what-if rows are built from and predicted on.

    Either the `encode_matrix` array itself (missing = NaN), or with `BinnedTrees` its
    binned copy (missing = the missing-values bin), which predicts faster and copies 8 times
    fewer bytes per row.
    """

    def __init__(
        self, X: np.ndarray, columns: _Columns, predict: Callable[[np.ndarray], np.ndarray], binned=None, binned_values=None
    ):
        self.columns = columns
        self.binned = binned
        if binned is None:
            self.values = X
        else:
            self.values = binned.bin(X) if binned_values is None else binned_values
        self.predict = binned.predict_proba if binned is not None else predict

    def healthy(self, rows_values: np.ndarray, cols: tuple[str, ...], reference: dict[str, object]) -> np.ndarray:
        """``rows_values`` (a copy) with the group ``cols`` set to the healthy references together,
        so the model never sees an impossible mix (a returned last order with no returns on
        record); missing values stay missing."""
        for col in cols:
            if reference.get(col) is None:
                continue
            value = self.columns.code(col, reference[col])
            if value is None:
                continue
            j = self.columns.position[col]
            if self.binned is None:
                rows_values[:, j] = np.where(np.isnan(rows_values[:, j]), np.nan, value)
            else:
                missing = self.binned.missing
                rows_values[:, j] = np.where(rows_values[:, j] == missing, missing, self.binned.bin_value(j, value))
        return rows_values


def contributions(
    predict: Callable[[pd.DataFrame], np.ndarray],
    matrix: pd.DataFrame,
    reference: dict[str, object],
    groups: list[ReasonGroup],
    base: np.ndarray | None = None,
    directions: dict | None = None,
    predicts_encoded: bool = False,
    binned=None,
    encoded: np.ndarray | None = None,
    binned_values: np.ndarray | None = None,
) -> np.ndarray:
    """(rows x groups) drop in predicted probability when a group is set to healthy values.

    Lifecycle groups are measured on the customer as is. Cause groups are measured in the
    *active context*: with the state group (time since the last order) already set to
    healthy values, so that a long silence, which pushes the probability towards 1
    whatever else is true, does not hide what drove the customer away. Only the rows
    whose values change are re-scored (a row already healthy in a group contributes 0),
    which keeps a million customers fast. With ``predicts_encoded``, ``predict`` also takes
    `encode_matrix` arrays, and the what-if rows are passed that way (no DataFrame per call).
    With ``binned`` (`ml.train.BinnedTrees` of the same model), the what-if rows are
    predicted from binned arrays instead: the same probabilities, faster. ``encoded`` and
    ``binned_values``: `encode_matrix(matrix)` and its bins, when the caller has them.
    """
    columns = _Columns(matrix)
    X = encode_matrix(matrix) if encoded is None else encoded

    def run(rows_x: np.ndarray) -> np.ndarray:
        return predict(rows_x if predicts_encoded else decode_matrix(rows_x, matrix))

    base = predict(matrix) if base is None else np.asarray(base, dtype=float)
    what_if = _WhatIf(X, columns, run, binned, binned_values)
    out = np.zeros((len(matrix), len(groups)), dtype=np.float32)
    state_cols = tuple(c for g in groups if g.state for c in g.columns)
    context, context_p = what_if.values, base
    if state_cols:
        rows = _risky_rows(X, columns, state_cols, reference, directions)
        if rows is not None:
            sub = what_if.healthy(what_if.values[rows], state_cols, reference)
            context = what_if.values.copy()
            context[rows] = sub
            context_p = base.copy()
            context_p[rows] = what_if.predict(sub)
    for j, group in enumerate(groups):
        in_context = group.cause != "lifecycle"
        m, p = (context, context_p) if in_context else (what_if.values, base)
        # groups share no column (resolve_groups), so the active context leaves a cause
        # group's own values, and with them its risky rows, as they are in X
        rows = _risky_rows(X, columns, group.columns, reference, directions)
        if rows is None:
            continue
        out[rows, j] = p[rows] - what_if.predict(what_if.healthy(m[rows], group.columns, reference))
    return out


def top_reasons(
    contrib: np.ndarray,
    groups: list[ReasonGroup],
    top_k: int = TOP_K,
    min_impact: float = MIN_IMPACT,
    causes_first: bool = True,
    cause_priority_impact: float = CAUSE_PRIORITY_IMPACT,
):
    """Indices (rows x top_k, -1 = none) and impacts of the largest positive contributions.

    With ``causes_first``, every actionable cause group (price, delivery, returns,
    complaints, engagement; not region) contributing at least ``cause_priority_impact``
    ranks before the other groups: the time since the last order is the symptom, a cause is what the seller can
    act on. Within each tier (and for weaker causes) the larger contribution comes first.
    """
    n, g = contrib.shape
    k = min(top_k, g)
    if g == 0 or n == 0:
        return np.full((n, top_k), -1), np.full((n, top_k), np.nan)
    key = contrib.astype(float)
    if causes_first:
        is_cause = np.array([grp.cause != "lifecycle" and grp.priority for grp in groups])
        key = key + np.where(is_cause[None, :] & (contrib >= max(min_impact, cause_priority_impact)), 10.0, 0.0)
    part = np.argpartition(-key, k - 1, axis=1)[:, :k] if g > k else np.tile(np.arange(g), (n, 1))
    order = np.argsort(-np.take_along_axis(key, part, axis=1), axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(contrib, idx, axis=1).astype(float)
    keep = vals >= min_impact
    idx = np.where(keep, idx, -1)
    vals = np.where(keep, vals, np.nan)
    # keep the kept reasons left-aligned (a dropped middle reason must not leave a gap)
    shift = np.argsort(~keep, axis=1, kind="stable")
    idx = np.take_along_axis(idx, shift, axis=1)
    vals = np.take_along_axis(vals, shift, axis=1)
    if k < top_k:
        idx = np.hstack([idx, np.full((n, top_k - k), -1)])
        vals = np.hstack([vals, np.full((n, top_k - k), np.nan)])
    return idx, vals


# ---------------------------------------------------------------------------------------
# Detail strings
# ---------------------------------------------------------------------------------------


def _col(frame: pd.DataFrame, *names: str) -> pd.Series | None:
    for name in names:
        if name in frame.columns and frame[name].notna().any():
            return pd.to_numeric(frame[name], errors="coerce") if name != "region" else frame[name]
    return None


def _int_str(values: pd.Series) -> pd.Series:
    return values.round().astype("Int64").astype("string").fillna("?")


def _flag(values: pd.Series | None, index) -> pd.Series:
    if values is None:
        return pd.Series(False, index=index)
    return values.fillna(0).astype(float) > 0


def _plural(n: pd.Series, word: str) -> pd.Series:
    return _int_str(n) + " " + word + np.where(n.round() == 1, "", "s")


def _detail_slow_delivery(f: pd.DataFrame) -> pd.Series:
    days = _col(f, "last_delivery_days")
    if days is not None:
        text = "last delivery took " + _int_str(days) + " days"
        return text.where(days.notna(), "last delivery was late")
    return pd.Series("last delivery took too long", index=f.index)


def _detail_region(f: pd.DataFrame) -> pd.Series:
    region = f["region"].astype("string").fillna("unknown") if "region" in f.columns else pd.Series("unknown", index=f.index)
    return "customers in " + region + " churn more often"


def _detail_discount(f: pd.DataFrame) -> pd.Series:
    share = _col(f, "discount_share")
    last = _flag(_col(f, "last_order_had_discount"), f.index)
    share_text = (
        (share.clip(0, 1) * 100).round().astype("Int64").astype("string").fillna("?") + "% of orders used a discount"
        if share is not None
        else pd.Series("buys mostly with discounts", index=f.index)
    )
    text = pd.Series(np.where(last, "last order used a discount; " + share_text, share_text), index=f.index)
    full_price = _col(f, "full_price_after_discounts")
    if full_price is not None:
        pct = (full_price.clip(0, 1) * 100).round().astype("Int64").astype("string").fillna("?")
        seeker = "paid full price on the last order after " + pct + "% of earlier orders had a discount"
        text = pd.Series(np.where(full_price.fillna(0) > 0, seeker, text), index=f.index)
    return text


def _pct(values: pd.Series) -> pd.Series:
    return (values.clip(0, 1) * 100).round().astype("Int64").astype("string").fillna("?") + "%"


def _detail_returns(f: pd.DataFrame) -> pd.Series:
    returned = _flag(_col(f, "returned_last_order"), f.index)
    quality = _flag(_col(f, "last_order_quality_return"), f.index)
    count = _col(f, "returns_count")
    if count is None:
        text = pd.Series(np.where(returned, "returned the last order", "has returned orders"), index=f.index)
    else:
        count_text = _plural(count.fillna(0), "return")
        text = pd.Series(np.where(returned, "returned the last order (" + count_text + " in total)", count_text), index=f.index)
    text = pd.Series(np.where(quality, "returned the last order for a quality problem", text), index=f.index)
    # the product-level rate says whether the product, not this customer, is the problem
    returned_rate = _col(f, "returned_product_quality_return_rate")
    if returned_rate is not None:
        known = returned & (returned_rate.fillna(0) > 0)
        product = "; " + _pct(returned_rate) + " of that product's orders came back with a quality problem"
        text = pd.Series(np.where(known, text + product, text), index=f.index)
    problem = _flag(_col(f, "last_order_had_problem_product"), f.index)
    text = pd.Series(
        np.where(~returned & problem, "last order had a product that many customers return with a quality problem", text),
        index=f.index,
    )
    return text


def _detail_complaints(f: pd.DataFrame) -> pd.Series:
    open_ = _col(f, "open_complaints")
    tickets = _col(f, "ticket_count")
    tickets_text = (
        _plural(tickets.fillna(0), "support ticket") if tickets is not None else pd.Series("support tickets", index=f.index)
    )
    if open_ is None:
        return tickets_text
    open_text = _plural(open_.fillna(0), "unresolved complaint") + " open"
    waited = _col(f, "oldest_open_complaint_days")
    if waited is not None:
        open_text = pd.Series(
            np.where(waited.fillna(0) > 0, open_text + " (the oldest for " + _plural(waited.fillna(0), "day") + ")", open_text),
            index=f.index,
        )
    return pd.Series(np.where(open_.fillna(0) > 0, open_text, tickets_text), index=f.index)


def _detail_email(f: pd.DataFrame) -> pd.Series:
    unsub = _flag(_col(f, "is_unsubscribed"), f.index)
    recent_name = next((c for c in f.columns if re.match(r"^email_opens_last_\d+d$", c)), None)
    days = recent_name.split("_")[-1][:-1] if recent_name else "60"
    recent = _col(f, recent_name) if recent_name else None
    prior = _col(f, f"email_opens_prior_{days}d")
    if recent is not None and prior is not None:
        r, p = recent.fillna(0), prior.fillna(0)
        text = pd.Series(
            np.where(
                r < p,
                "email opens fell from " + _int_str(p) + " to " + _int_str(r) + f" (last {days} days vs the {days} before)",
                _plural(r, "email open") + f" in the last {days} days",
            ),
            index=f.index,
        )
    elif recent is not None:
        text = _plural(recent.fillna(0), "email open") + f" in the last {days} days"
    else:
        trend = f["email_engagement_trend"].astype("string") if "email_engagement_trend" in f.columns else None
        text = (
            "email engagement " + trend.fillna("unknown")
            if trend is not None
            else pd.Series("email engagement is declining", index=f.index)
        )
    return pd.Series(np.where(unsub, "unsubscribed from email", text), index=f.index)


def _sessions_text(f: pd.DataFrame, days: int, fallback: str) -> pd.Series:
    """"N web sessions in the last <days> days" from web_sessions_last_<days>d, else fallback."""
    sessions = _col(f, f"web_sessions_last_{days}d")
    if sessions is None:
        return pd.Series(fallback, index=f.index)
    return _plural(sessions.fillna(0), "web session") + f" in the last {days} days"


def _detail_web(f: pd.DataFrame) -> pd.Series:
    carts = _col(f, "abandoned_carts")
    sessions_text = _sessions_text(f, 30, "little web activity")
    if carts is None:
        return sessions_text
    return pd.Series(np.where(carts.fillna(0) > 0, _plural(carts.fillna(0), "abandoned cart"), sessions_text), index=f.index)


def _detail_web_inactivity(f: pd.DataFrame) -> pd.Series:
    since = _col(f, "days_since_last_web_session")
    text = _sessions_text(f, 90, "stopped visiting the shop")
    if since is None:
        return text
    return pd.Series(np.where(since.notna(), "no web session for " + _int_str(since) + " days", text), index=f.index)


def _detail_inactivity(f: pd.DataFrame) -> pd.Series:
    recency = _col(f, "recency_days")
    if recency is None and "t_btyd" in f.columns and "recency_btyd" in f.columns:
        recency = pd.to_numeric(f["t_btyd"], errors="coerce") - pd.to_numeric(f["recency_btyd"], errors="coerce")
    if recency is None:
        return pd.Series("purchase activity has slowed", index=f.index)
    text = "no order for " + _int_str(recency) + " days"
    typical = _col(f, "median_interval_days", "mean_interval_days")
    if typical is not None:
        text = pd.Series(np.where(typical.notna(), text + " (usually every " + _int_str(typical) + " days)", text), index=f.index)
    return text


def _detail_history(f: pd.DataFrame) -> pd.Series:
    orders = _col(f, "frequency")
    if orders is None and "frequency_btyd" in f.columns:
        orders = pd.to_numeric(f["frequency_btyd"], errors="coerce") + 1
    if orders is None:
        return pd.Series("short purchase history", index=f.index)
    tenure = _col(f, "tenure_days", "t_btyd")
    one_time = "one-time buyer" + (" (first order " + _int_str(tenure) + " days ago)" if tenure is not None else "")
    many = _plural(orders.fillna(0), "order") + (" in " + _int_str(tenure) + " days" if tenure is not None else "")
    return pd.Series(np.where(orders.fillna(0) <= 1, one_time, many), index=f.index)


def _detail_category(f: pd.DataFrame) -> pd.Series:
    cat = f["dominant_category_type"].astype("string").fillna("unknown") if "dominant_category_type" in f.columns else None
    if cat is None:
        return pd.Series("category mix", index=f.index)
    return "mostly buys " + cat + " products"


_DETAILS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "slow_delivery": _detail_slow_delivery,
    "region": _detail_region,
    "discount_dependence": _detail_discount,
    "returns": _detail_returns,
    "complaints": _detail_complaints,
    "email_engagement": _detail_email,
    "web_activity": _detail_web,
    "web_inactivity": _detail_web_inactivity,
    "inactivity": _detail_inactivity,
    "purchase_history": _detail_history,
    "category": _detail_category,
}


def detail(group: ReasonGroup, frame: pd.DataFrame) -> pd.Series:
    """Human-readable detail for ``group`` from each row's own values."""
    fn = _DETAILS.get(group.name)
    if fn is not None:
        return fn(frame).astype("string")
    col = group.columns[0]
    values = frame[col].astype("string").fillna("missing") if col in frame.columns else pd.Series("?", index=frame.index)
    return (col.replace("_", " ") + " = " + values).astype("string")


def _strings(values: np.ndarray) -> pd.Series:
    """A "string" Series from an object array (None -> <NA>)."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string())))


def _arrow_strings(values: pd.Series) -> pa.Array:
    """The Arrow array behind a "string" Series (one chunk, large_string)."""
    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def reason_columns(
    frame: pd.DataFrame,
    idx: np.ndarray,
    impacts: np.ndarray,
    groups: list[ReasonGroup],
    top_k: int = TOP_K,
) -> pd.DataFrame:
    """reason_<k>, reason_<k>_cause, reason_<k>_detail, reason_<k>_impact for k = 1..top_k.

    Details are built only for the rows where a group is among their reasons, and stay
    Arrow strings: each group's details are placed in row order with one `take`.
    """
    n = len(frame)
    out: dict[str, object] = {}
    names = np.array([g.name for g in groups] + [None], dtype=object)
    causes = np.array([g.cause for g in groups] + [None], dtype=object)
    positional = frame.reset_index(drop=True)
    for k in range(top_k):
        col_idx = idx[:, k] if idx.shape[1] > k else np.full(n, -1)
        out[f"reason_{k + 1}"] = _strings(names[col_idx])  # -1 picks the trailing None
        out[f"reason_{k + 1}_cause"] = _strings(causes[col_idx])
        pieces: list[pa.Array] = []
        position = np.full(n, -1, dtype=np.int64)
        offset = 0
        for j, group in enumerate(groups):
            rows = np.flatnonzero(col_idx == j)
            if len(rows):
                pieces.append(_arrow_strings(detail(group, positional.iloc[rows])))
                position[rows] = np.arange(offset, offset + len(rows))
                offset += len(rows)
        pieces.append(pa.nulls(1, pa.large_string()))  # the rows without a k-th reason
        position[position < 0] = offset
        out[f"reason_{k + 1}_detail"] = pd.Series(pd.arrays.ArrowStringArray(pa.concat_arrays(pieces).take(position)))
        out[f"reason_{k + 1}_impact"] = impacts[:, k] if impacts.shape[1] > k else np.full(n, np.nan)
    result = pd.DataFrame({name: (v if isinstance(v, np.ndarray) else v.array) for name, v in out.items()}, index=frame.index)
    result["reason_count"] = (idx[:, :top_k] >= 0).sum(axis=1).astype("int8")
    return result


def explain(
    predict: Callable[[pd.DataFrame], np.ndarray],
    matrix: pd.DataFrame,
    frame: pd.DataFrame,
    reference: dict[str, object],
    spec: FeatureSpec,
    top_k: int = TOP_K,
    min_impact: float = MIN_IMPACT,
    base: np.ndarray | None = None,
    directions: dict | None = None,
    causes_first: bool = True,
    predicts_encoded: bool = False,
    binned=None,
    encoded: np.ndarray | None = None,
    binned_values: np.ndarray | None = None,
) -> pd.DataFrame:
    """Top reasons per row of ``matrix`` (model input) with details from ``frame`` (raw values)."""
    groups = resolve_groups(spec)
    contrib = contributions(
        predict,
        matrix,
        reference,
        groups,
        base=base,
        directions=directions,
        predicts_encoded=predicts_encoded,
        binned=binned,
        encoded=encoded,
        binned_values=binned_values,
    )
    idx, vals = top_reasons(contrib, groups, top_k=top_k, min_impact=min_impact, causes_first=causes_first)
    return reason_columns(frame, idx, vals, groups, top_k=top_k)
