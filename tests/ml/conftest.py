"""Fixtures for the churn-model tests: synthetic feature frames (session-scoped)."""

from __future__ import annotations

import pytest

from tests.ml.synthetic import make_feature_frame


@pytest.fixture(scope="session")
def synthetic_frame():
    """2,000 customers, 6 past snapshots + the as-of date, with planted drivers."""
    return make_feature_frame(2000, seed=3)


@pytest.fixture(scope="session")
def trained(synthetic_frame):
    from ml.train import train_and_backtest

    return train_and_backtest(synthetic_frame)
