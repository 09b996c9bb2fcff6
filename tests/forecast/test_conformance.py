"""One contract, every forecaster: fit returns self, predict needs fit, quantiles are ordered."""

from __future__ import annotations

import numpy as np
import pytest

from tsdev.analysis.forecast import (
    AutoForecaster,
    Forecaster,
    NotFittedError,
    default_candidates,
)
from tsdev.analysis.forecast.cold_start import ColdStartForecaster

from .conftest import seasonal_series

SERIES = seasonal_series(days=10)
QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)


def forecasters() -> list[Forecaster]:
    models: list[Forecaster] = [m.clone(calibration_origins=12) for m in default_candidates()]
    models.append(ColdStartForecaster())
    models.append(AutoForecaster(calibration_origins=12))
    return models


@pytest.fixture(params=forecasters(), ids=lambda m: type(m).__name__ + ":" + m.label)
def forecaster(request: pytest.FixtureRequest) -> Forecaster:
    model: Forecaster = request.param
    return model.clone()


def test_predict_before_fit_raises(forecaster: Forecaster) -> None:
    with pytest.raises(NotFittedError):
        forecaster.predict(4)


def test_init_only_stores_arguments(forecaster: Forecaster) -> None:
    assert not [name for name in vars(forecaster) if name.endswith("_") and not name.startswith("_")]


def test_fit_returns_self_and_predict_has_the_contract_shape(forecaster: Forecaster) -> None:
    assert forecaster.fit(SERIES) is forecaster
    frame = forecaster.predict(60, quantiles=QUANTILES)
    assert frame.columns == ["timestamp", "mean", "q0.05", "q0.1", "q0.5", "q0.9", "q0.95"]
    assert frame.height == 60
    first = frame["timestamp"][0]
    assert first == SERIES.timestamps()[-1].astype("datetime64[us]").item() + SERIES.step_td
    bands = frame.select(["q0.05", "q0.1", "q0.5", "q0.9", "q0.95"]).to_numpy()
    assert np.isfinite(bands).all()
    assert (np.diff(bands, axis=1) >= 0).all()
    assert (bands[:, 0] < bands[:, -1]).any()


def test_default_quantiles_and_update(forecaster: Forecaster) -> None:
    forecaster.fit(SERIES.slice(0, len(SERIES) - 6))
    forecaster.update(SERIES.values[-6:])
    frame = forecaster.predict(3)
    assert frame.columns == ["timestamp", "mean", "q0.1", "q0.5", "q0.9", "q0.95"]
    assert frame["timestamp"][0] == SERIES.timestamps()[-1].astype("datetime64[us]").item() + SERIES.step_td


def test_gaps_are_tolerated(forecaster: Forecaster) -> None:
    values = SERIES.values.copy()
    values[100:130] = np.nan
    values[-3] = np.nan
    gappy = type(SERIES)(SERIES.start, SERIES.step, values)
    mean = forecaster.fit(gappy).predict(48)["mean"].to_numpy()
    assert np.isfinite(mean).all()
